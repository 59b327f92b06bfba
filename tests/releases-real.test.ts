/**
 * The real releases of the index against the real binaries (TCG): each lists exactly the
 * pc-i440fx-* / pc-q35-* machine types `-machine help` prints, and its timer, cpu_common and cpu
 * descriptions decode every such section of that release's own streams (-cpu max with -smp 2,
 * -cpu qemu64,+svm, a guest that ran; pc and q35): the bytes load, save back identically, our
 * vmdesc is the stream's own entry (names, sizes, subsections at their versions), the section
 * ids are the stream's, and every value equals what QEMU's analyze-migration.py decodes with the
 * stream's VM description.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load, saveDescribed, type AnyVMSDesc, type State } from '../src';
import { initialState } from '../src/engine/state';
import { releasesOfKind } from '../vmstate/releases';
import { findMachine, machineCtx } from '../vmstate/releases/generate';
import type { Release } from '../vmstate/releases/types';
import type { X86Ctx } from '../vmstate/x86/ctx';
import { cpuResetState } from '../vmstate/x86/reset';
import { runAnalyzeMigration } from './support/anchors';
import { sectionDifferences } from './support/analyzer-values';
import { cutFullSections, streamVmdesc } from './support/cpu-real-sections';
import {
  captureStream,
  describeQemu,
  qemuCommand,
  REAL_RELEASES,
  type RealRelease,
} from './support/qemu';

jest.setTimeout(180_000);

const TCG: X86Ctx = { accel: 'tcg' };
const CONFIGS = [
  { name: 'pc-max-smp2', machine: 'pc', smp: 2, extraArgs: ['-cpu', 'max'] },
  { name: 'q35-qemu64-svm', machine: 'q35', extraArgs: ['-cpu', 'qemu64,+svm'] },
  { name: 'q35-running', machine: 'q35', runMs: 300 },
  // An old machine type every real release still has: its compat properties reach the cpu.
  { name: 'pc-q35-3.1-running', machine: 'pc-q35-3.1', runMs: 300 },
] as const;

const real = releasesOfKind('real');

test('the index has real releases, each one the harness can run', () => {
  expect(real.length).toBeGreaterThan(0);
  for (const r of real) expect(REAL_RELEASES as readonly string[]).toContain(r.name);
});

function machineHelp(release: RealRelease): string[] {
  const { cmd, prefix } = qemuCommand(release);
  const r = spawnSync(cmd, [...prefix, '-machine', 'help'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`-machine help: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n): n is string => !!n && /^pc-(i440fx|q35)-/.test(n));
}

/** The qemu-system-x86_64 binary of a real release (7.2: the system's). */
function binaryOf(release: RealRelease): string {
  if (release === '7.2') {
    const r = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
    return r.stdout.trim();
  }
  const cache =
    process.env.VMSTATE_QEMU_CACHE ?? path.join(os.homedir(), '.cache', 'vmstate-lab', 'qemu');
  return path.join(cache, release, 'root', 'usr', 'bin', 'qemu-system-x86_64');
}

/** Every NUL-terminated string of the binary that names a cpu VMStateDescription. */
function cpuVmsdNamesIn(binary: string): Set<string> {
  const text = fs.readFileSync(binary).toString('latin1');
  return new Set(text.match(/(?<=\0)cpu\/[a-z0-9_/]+(?=\0)/g) ?? []);
}

/** The names of every description under ours: subsections and struct fields' descriptions. */
function vmsdNames(d: AnyVMSDesc): string[] {
  const out: string[] = [];
  for (const s of d.subsections as readonly AnyVMSDesc[]) out.push(s.name, ...vmsdNames(s));
  for (const f of d.fields) {
    const inner = (f.kind as { desc?: AnyVMSDesc }).desc;
    if (inner)
      out.push(...(inner.name.startsWith('cpu/') ? [inner.name] : []), ...vmsdNames(inner));
  }
  return out;
}

/** The machine type a stream names (its configuration record right after the 8-byte header). */
function machineOf(stream: Uint8Array): string {
  const len = (stream[9] << 24) | (stream[10] << 16) | (stream[11] << 8) | stream[12];
  return Buffer.from(stream.subarray(13, 13 + len)).toString('latin1');
}

function checkSections(r: Release, file: string): void {
  const stream = new Uint8Array(fs.readFileSync(file));
  const machine = findMachine(r, machineOf(stream));
  expect(machine).toBeDefined();
  const ctx = machineCtx(TCG, machine!);
  const theirs = JSON.parse(runAnalyzeMigration(file)) as Record<string, Record<string, unknown>>;
  const vmdesc = streamVmdesc(stream);
  for (const c of r.catalog) {
    const cuts = cutFullSections(stream, c.name);
    expect(cuts.length).toBeGreaterThan(0);
    expect(cuts[0].sectionId).toBe(c.sectionId);
    for (const cut of cuts) {
      const base = c.name === 'cpu' ? cpuResetState(TCG) : initialState(c.vmsd);
      const state = load(c.vmsd, cut.body, cut.version, {
        ctx,
        into: base as State,
        base: cut.bodyOffset,
      });
      const again = saveDescribed(c.vmsd, state, { ctx });
      expect(Buffer.from(again.bytes).equals(Buffer.from(cut.body))).toBe(true);
      const entry = vmdesc.devices.find(
        (d) => d.name === c.name && d.instance_id === cut.instanceId,
      )!;
      const { name: _n, instance_id: _i, ...own } = entry;
      expect(JSON.parse(JSON.stringify(again.vmdesc))).toEqual(own);
      const decoded = theirs[`${c.name} (${cut.sectionId})`];
      expect(decoded).toBeDefined();
      expect(sectionDifferences(decoded, state, c.vmsd)).toEqual([]);
    }
  }
}

for (const r of real) {
  const release = r.name as RealRelease;
  describeQemu(
    `real QEMU ${release} and release ${release} of the index`,
    () => {
      let dir: string;
      const files = new Map<string, string>();
      beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), `vmstate-real-${release}-`));
        for (const c of CONFIGS) {
          const out = path.join(dir, `${c.name}.mig`);
          await captureStream({
            release,
            ...c,
            extraArgs: 'extraArgs' in c ? [...c.extraArgs] : [],
            out,
          });
          files.set(c.name, out);
        }
      });
      afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

      it('lists exactly the pc-i440fx-* and pc-q35-* machine types of -machine help', () => {
        expect(r.machineTypes.map((m) => m.name).sort()).toEqual(machineHelp(release).sort());
      });

      it('knows exactly the cpu/* descriptions compiled into the binary (target/i386/machine.c at that release)', () => {
        const cpu = r.catalog.find((c) => c.name === 'cpu')!.vmsd;
        expect([...new Set(vmsdNames(cpu))].sort()).toEqual(
          [...cpuVmsdNamesIn(binaryOf(release))].sort(),
        );
      });

      it.each(CONFIGS.map((c) => c.name))(
        '%s: timer, cpu_common and every cpu section decode as the stream describes them',
        (name) => checkSections(r, files.get(name)!),
      );
    },
    release,
  );
}
