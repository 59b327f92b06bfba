/**
 * The device-heavy and large streams the analyze benchmark reads, captured from real QEMU by the
 * repo's harness (no third-party firmware: option ROMs off) the first time and cached under
 * BENCH_STREAM_CACHE (default: ~/.cache/vmstate-lab/bench-streams), never committed.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  captureStreamDetailed,
  releaseStatus,
  type CaptureOptions,
  type RealRelease,
} from '../support/qemu';

export interface BenchStream {
  name: string;
  file: string;
  /** The first VM: the 4x goal applies to it. */
  headline?: boolean;
}

/** -drive/-blockdev for virtio-blk without a file: the null block driver reads zeros. */
const NULL_DISK = (id: string) => ['-blockdev', `driver=null-co,node-name=${id},size=67108864`];

/** q35 -cpu max, e1000, virtio-net-pci, virtio-blk-pci, usb-ehci + usb-tablet, running 3 s. */
function deviceHeavy(release?: RealRelease): CaptureOptions {
  return {
    release,
    machine: 'q35',
    runMs: 3000,
    timeoutMs: 120_000,
    extraArgs: [
      '-cpu',
      'max',
      '-device',
      'e1000,romfile=',
      '-device',
      'virtio-net-pci,romfile=',
      ...NULL_DISK('disk0'),
      '-device',
      'virtio-blk-pci,drive=disk0',
      '-device',
      'usb-ehci,id=ehci',
      '-device',
      'usb-tablet,bus=ehci.0',
    ],
  };
}

/** q35 with five virtio devices, running 3 s. */
function fiveVirtio(): CaptureOptions {
  return {
    machine: 'q35',
    runMs: 3000,
    timeoutMs: 120_000,
    extraArgs: [
      '-cpu',
      'max',
      '-device',
      'virtio-net-pci,romfile=',
      ...NULL_DISK('disk0'),
      '-device',
      'virtio-blk-pci,drive=disk0',
      '-device',
      'virtio-rng-pci',
      '-device',
      'virtio-balloon-pci',
      '-device',
      'virtio-serial-pci',
    ],
  };
}

export function streamCacheDir(): string {
  return (
    process.env.BENCH_STREAM_CACHE ??
    path.join(os.homedir(), '.cache', 'vmstate-lab', 'bench-streams')
  );
}

async function cached(name: string, options: () => CaptureOptions): Promise<string | undefined> {
  const dir = streamCacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.mig`);
  if (fs.existsSync(file)) return file;
  try {
    await captureStreamDetailed({ ...options(), out: file });
    return file;
  } catch (e) {
    console.log(`  (could not capture ${name}: ${String((e as Error).message).split('\n')[0]})`);
    return undefined;
  }
}

/** The device-heavy streams: the two VMs on 7.2, and the first on every other release here. */
export async function deviceHeavyStreams(): Promise<BenchStream[]> {
  const out: BenchStream[] = [];
  const first = await cached('q35-cpumax-e1000-virtio-usb-7.2', () => deviceHeavy());
  if (first)
    out.push({ name: 'q35 -cpu max + e1000/virtio/usb (7.2)', file: first, headline: true });
  const second = await cached('q35-five-virtio-7.2', fiveVirtio);
  if (second) out.push({ name: 'q35 five virtio devices (7.2)', file: second });
  for (const release of ['5.2', '10.0'] as const) {
    if (!releaseStatus(release).available) continue;
    const f = await cached(`q35-cpumax-e1000-virtio-usb-${release}`, () => deviceHeavy(release));
    if (f) out.push({ name: `q35 -cpu max + e1000/virtio/usb (${release})`, file: f });
  }
  return out;
}

/** A pc VM with `mib` MiB of random bytes loaded into guest RAM (pages travel as data). */
export async function randomRamStream(mib: number): Promise<BenchStream | undefined> {
  const dir = streamCacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const name = `pc-random-ram-${mib}MiB-7.2`;
  const file = await cached(name, () => {
    const blob = path.join(dir, `random-${mib}MiB.bin`);
    if (!fs.existsSync(blob)) {
      const fd = fs.openSync(`${blob}.tmp`, 'w');
      const chunk = Buffer.alloc(1 << 24);
      for (let i = 0; i < mib / 16; i++) fs.writeSync(fd, crypto.randomFillSync(chunk));
      fs.closeSync(fd);
      fs.renameSync(`${blob}.tmp`, blob);
    }
    return {
      machine: 'pc',
      memoryMiB: mib + 64,
      timeoutMs: 300_000,
      ramLoads: [{ addr: 0x100000, file: blob }],
    };
  });
  fs.rmSync(path.join(dir, `random-${mib}MiB.bin`), { force: true });
  return file ? { name: `pc, ${mib} MiB random bytes in RAM (7.2)`, file } : undefined;
}
