/**
 * Captures migration streams from a real QEMU, the same way the tests do (tests/support/qemu.ts):
 * a zero BIOS, no option ROMs, a QMP-driven `migrate "exec:cat > FILE"`.
 *
 *   npx ts-node -T streams/capture.ts --list
 *   npx ts-node -T streams/capture.ts [--out DIR] [--check] [variant...]      (default: all variants)
 *   npx ts-node -T streams/capture.ts --name my --machine q35 --smp 2 --run-ms 200 [--load 0x100000:file]
 *   npx ts-node -T streams/capture.ts --release 10.0 --config rich-max [--machine pc-q35-7.2] [--gzip]
 *   npx ts-node -T streams/capture.ts --release 5.2 --dump-vmstate [--machine pc-q35-3.1] [--gzip]
 *
 * --release runs one of the real releases (5.2, 7.2, 10.0; tests/support/qemu.ts). --config
 * captures the configurations of streams/configurations.ts (repeatable, or `all`) on each of
 * the release's machine types (or the --machine ones): NAME is `<machine>-<config>`, e.g.
 * q35-10.0-rich-max. --dump-vmstate writes the release's `-dump-vmstate` JSON per machine type
 * (`<machine>.vmstate.json`). --gzip keeps only gzip-compressed copies (`.gz`), as committed.
 *
 * Each stream NAME.mig comes with NAME.capture.json: QEMU version, command line, resolved machine
 * type, RAM blocks, ROM list and QEMU's migration statistics.
 */
import { Command, Option } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as zlib from 'node:zlib';
import {
  CONFIGURATIONS,
  RELEASE_MACHINE_TYPES,
  captureStem,
  configurationNamed,
  machineSlug,
  writeImages,
} from './configurations';
import {
  LEGACY_STREAM_VARIANTS,
  REAL_RELEASES,
  qemuCommand,
  releaseStatus,
  STREAM_VARIANTS,
  captureStreamDetailed,
  incomingFromFile,
  qemuStatus,
  type CaptureOptions,
  type CaptureResult,
  type RamLoad,
  type RealRelease,
} from '../tests/support/qemu';

/** Replaces `file` by `file.gz` (written whole: temp name, then rename). */
function gzipInPlace(file: string): string {
  const gz = `${file}.gz`;
  fs.writeFileSync(`${gz}.tmp`, zlib.gzipSync(fs.readFileSync(file), { level: 9 }));
  fs.renameSync(`${gz}.tmp`, gz);
  fs.rmSync(file);
  return gz;
}

/** `-dump-vmstate` of one release and machine type into `file` (whole or not at all). */
export function dumpVmstate(release: RealRelease, machineType: string, file: string): void {
  const { cmd, prefix } = qemuCommand(release);
  const tmp = `${file}.tmp`;
  const r = spawnSync(
    cmd,
    [...prefix, '-no-user-config', '-nodefaults', '-display', 'none', '-machine', machineType, '-dump-vmstate', tmp],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0 || !fs.existsSync(tmp))
    throw new Error(`-dump-vmstate of ${release} ${machineType} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  fs.renameSync(tmp, file);
}

/** Captures one stream into `outDir`, writes its provenance file, and optionally loads it back. */
export async function captureInto(
  outDir: string,
  name: string,
  options: CaptureOptions,
  check = false,
): Promise<{ result: CaptureResult; accepted?: boolean }> {
  fs.mkdirSync(outDir, { recursive: true });
  const result = await captureStreamDetailed({ ...options, out: path.join(outDir, `${name}.mig`) });
  let accepted: boolean | undefined;
  let refusal: string | undefined;
  if (check) {
    const r = await incomingFromFile(result.path, options);
    accepted = r.ok;
    if (r.ok) await r.vm.close();
    else refusal = r.error;
  }
  const provenance = {
    qemu: releaseStatus(options.release).version,
    capturedAt: new Date().toISOString(),
    options: { ...options, ramLoads: options.ramLoads?.map((l) => ({ addr: l.addr, bytes: l.data?.length, file: l.file })) },
    argv: result.argv,
    machineType: result.machineType,
    bytes: fs.statSync(result.path).size,
    elapsedMs: result.elapsedMs,
    ramblocks: result.ramblocks.split(/\r?\n/).filter((l) => l.trim()),
    roms: result.roms.split(/\r?\n/).filter((l) => l.trim()),
    migration: result.migration,
    ...(check ? { acceptedByQemu: accepted, refusal } : {}),
  };
  const json = path.join(outDir, `${name}.capture.json`);
  fs.writeFileSync(`${json}.tmp`, JSON.stringify(provenance, null, 2) + '\n');
  fs.renameSync(`${json}.tmp`, json);
  return { result, accepted };
}

function parseLoad(spec: string, previous: RamLoad[] = []): RamLoad[] {
  const m = /^(0x[0-9a-f]+|\d+):(.+)$/i.exec(spec);
  if (!m) throw new Error(`--load wants ADDR:FILE, got '${spec}'`);
  return [...previous, { addr: Number(m[1]), file: m[2]! }];
}

function parseParam(spec: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--param wants NAME=VALUE, got '${spec}'`);
  const raw = spec.slice(eq + 1);
  const value = /^\d+$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
  return { ...previous, [spec.slice(0, eq)]: value };
}

/** Every catalogued variant, current machine types first. */
const CATALOGUE = { ...STREAM_VARIANTS, ...LEGACY_STREAM_VARIANTS };

async function main(argv: string[]): Promise<number> {
  const program = new Command('capture')
    .description('Capture QEMU migration streams without third-party firmware')
    .argument('[variants...]', 'catalogued variants to capture (default: all)')
    .option('--out <dir>', 'output folder', path.join(__dirname, 'captured'))
    .option('--list', 'list the catalogued variants and their options')
    .addOption(new Option('--release <release>', 'the real release to run').choices([...REAL_RELEASES]))
    .addOption(
      new Option('--config <name>', 'a configuration of streams/configurations.ts, or all (repeatable)').argParser(
        (v: string, p: string[] = []) => [...p, v],
      ),
    )
    .option('--dump-vmstate', "write the release's -dump-vmstate JSON for each machine type")
    .option('--gzip', 'keep gzip-compressed copies only (NAME.mig.gz, NAME.vmstate.json.gz)')
    .option('--check', 'load every captured stream back into QEMU and report whether it was accepted')
    .option('--name <name>', 'capture one custom stream under this name instead of catalogued variants')
    .option('--machine <type>', 'machine type (pc, q35, pc-i440fx-7.1, ...)')
    .option('--mem <MiB>', 'guest RAM in MiB', Number)
    .option('--smp <n>', 'vCPUs', Number)
    .option('--run-ms <ms>', 'run the guest this long before migrating', Number)
    .option('--defaults', 'keep default devices (their option ROMs switched off)')
    .option('--suppress-vmdesc', 'machine property suppress-vmdesc=on')
    .option('--uuid <uuid>', '-uuid')
    .addOption(new Option('--cap <capability>', 'enable a migration capability (repeatable)').argParser((v: string, p: string[] = []) => [...p, v]))
    .addOption(new Option('--param <name=value>', 'set a migration parameter (repeatable)').argParser(parseParam))
    .addOption(new Option('--load <addr:file>', 'load a file into guest RAM (repeatable)').argParser(parseLoad));
  program.parse(argv);
  const o = program.opts<{
    out: string;
    list?: boolean;
    release?: RealRelease;
    config?: string[];
    dumpVmstate?: boolean;
    gzip?: boolean;
    check?: boolean;
    name?: string;
    machine?: string;
    mem?: number;
    smp?: number;
    runMs?: number;
    defaults?: boolean;
    suppressVmdesc?: boolean;
    uuid?: string;
    cap?: string[];
    param?: Record<string, unknown>;
    load?: RamLoad[];
  }>();

  if (o.list) {
    for (const [name, v] of Object.entries(CATALOGUE)) {
      const shown = { ...v.options, ramLoads: v.options.ramLoads?.map((l) => `${l.data?.length ?? l.file} bytes at 0x${l.addr.toString(16)}`) };
      console.log(`${name}\n  ${v.description}\n  ${JSON.stringify(shown)}`);
    }
    for (const c of CONFIGURATIONS) console.log(`--config ${c.name}\n  ${c.description}`);
    return 0;
  }
  const status = o.release ? releaseStatus(o.release) : qemuStatus();
  if (!status.available) {
    console.error(status.reason);
    return 1;
  }
  if (o.config || o.dumpVmstate) return captureConfigurations(o.release ?? '7.2', o, status.version);

  let jobs: Array<[string, CaptureOptions]>;
  if (o.name) {
    const custom: CaptureOptions = {
      machine: o.machine,
      memoryMiB: o.mem,
      smp: o.smp,
      runMs: o.runMs,
      defaultDevices: o.defaults,
      suppressVmdesc: o.suppressVmdesc,
      uuid: o.uuid,
      capabilities: Object.fromEntries((o.cap ?? []).map((c) => [c, true])),
      parameters: o.param,
      ramLoads: o.load,
      timeoutMs: 10 * 60_000,
    };
    jobs = [[o.name, custom]];
  } else {
    const names = program.args.length ? program.args : Object.keys(CATALOGUE);
    const unknown = names.filter((n) => !(n in CATALOGUE));
    if (unknown.length) {
      console.error(`unknown variant(s): ${unknown.join(', ')} (see --list)`);
      return 2;
    }
    jobs = names.map((n) => [n, CATALOGUE[n]!.options]);
  }

  console.log(`${status.version}; writing to ${o.out}`);
  let failed = 0;
  for (const [name, options] of jobs) {
    try {
      const { result, accepted } = await captureInto(o.out, name, options, o.check);
      const size = fs.statSync(result.path).size;
      const verdict = accepted === undefined ? '' : accepted ? ', QEMU accepts it back' : ', QEMU REFUSES it back';
      console.log(`${name}: ${size} bytes, ${result.machineType}, ${result.elapsedMs} ms${verdict}`);
      if (accepted === false) failed++;
    } catch (e) {
      failed++;
      console.error(`${name}: ${(e as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}

/** --config / --dump-vmstate: the configurations of one release on its machine types. */
async function captureConfigurations(
  release: RealRelease,
  o: { out: string; machine?: string; config?: string[]; dumpVmstate?: boolean; gzip?: boolean; check?: boolean },
  version: string,
): Promise<number> {
  const machines = o.machine ? [o.machine] : RELEASE_MACHINE_TYPES[release];
  const names = (o.config ?? []).flatMap((n) => (n === 'all' ? CONFIGURATIONS.map((c) => c.name) : [n]));
  const configs = names.map((n) => configurationNamed(n));
  const unknown = names.filter((_, i) => !configs[i]);
  if (unknown.length) {
    console.error(`unknown configuration(s): ${unknown.join(', ')} (see --list)`);
    return 2;
  }
  console.log(`${version}; writing to ${o.out}`);
  fs.mkdirSync(o.out, { recursive: true });
  const images = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-images-'));
  let failed = 0;
  try {
    for (const machineType of machines) {
      if (o.dumpVmstate) {
        const file = path.join(o.out, `${machineSlug(machineType)}.vmstate.json`);
        try {
          dumpVmstate(release, machineType, file);
          console.log(`${path.basename(o.gzip ? gzipInPlace(file) : file)}`);
        } catch (e) {
          failed++;
          console.error((e as Error).message);
        }
      }
      for (const config of configs) {
        const name = captureStem(machineType, config!.name);
        try {
          writeImages(config!, images);
          const options = { ...config!.options(machineType, images), release, timeoutMs: 5 * 60_000 };
          const { result, accepted } = await captureInto(o.out, name, options, o.check);
          const size = fs.statSync(result.path).size;
          if (o.gzip) gzipInPlace(result.path);
          const verdict = accepted === undefined ? '' : accepted ? ', QEMU accepts it back' : ', QEMU REFUSES it back';
          console.log(`${name}: ${size} bytes, ${result.machineType}, ${result.elapsedMs} ms${verdict}`);
          if (accepted === false) failed++;
        } catch (e) {
          failed++;
          console.error(`${name}: ${(e as Error).message}`);
        }
      }
    }
  } finally {
    fs.rmSync(images, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    },
  );
}
