/**
 * Real QEMU (qemu-system-x86_64, TCG) as a peer for the stream tests and the benchmark: capture
 * migration streams, and feed streams back into an incoming QEMU to see whether it accepts them.
 *
 * No third-party firmware ever reaches guest RAM: the BIOS is a 256 KiB file of zeros that the
 * harness writes itself, -nodefaults leaves out the devices that carry option ROMs, and when
 * default devices are asked for, their ROM files are switched off (see defaultDeviceArgs). Every
 * capture checks `info ramblock` / `info roms` and refuses to write a stream that breaks this rule.
 *
 * Every QEMU process started here is killed when its job ends, on error, and at process exit;
 * every wait has a timeout.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { biosImage } from './bios-code';
import { QmpClient } from './qmp';

export {
  STREAM_VARIANTS,
  LEGACY_STREAM_VARIANTS,
  VARIANT_UUID,
  KNOWN_REGISTERS,
  KNOWN_REGISTERS_PROGRAM,
  type StreamVariant,
} from './stream-variants';
export { biosImage, loadRegistersThenHalt } from './bios-code';
export { pseudoRandomBytes } from './random-bytes';

// ---------------------------------------------------------------------------------------------
// Finding QEMU, and the skip/fail rule for tests that need it.

/** The binary to run; VMSTATE_QEMU overrides it (a path or a name on PATH). */
export function qemuBinary(): string {
  return process.env.VMSTATE_QEMU || 'qemu-system-x86_64';
}

/**
 * The real releases that run here: 7.2 is the system's QEMU; 5.2 and 10.0 are unpacked by
 * streams/install-releases.sh and run through streams/qemu-release.sh (private mount namespace
 * for the module directory, their own data directory and libraries).
 */
export const REAL_RELEASES = ['5.2', '7.2', '10.0'] as const;
export type RealRelease = (typeof REAL_RELEASES)[number];

/** streams/qemu-release.sh, from tests/support or from its compiled copy in dist/tests/support (npm run bench). */
const RELEASE_SCRIPT =
  ['../../streams/qemu-release.sh', '../../../streams/qemu-release.sh']
    .map((p) => path.resolve(__dirname, p))
    .find((p) => fs.existsSync(p)) ?? path.resolve(__dirname, '../../streams/qemu-release.sh');

/** The command and leading arguments that run `release` (default: the system's QEMU). */
export function qemuCommand(release?: RealRelease): { cmd: string; prefix: string[] } {
  if (release === undefined || release === '7.2') return { cmd: qemuBinary(), prefix: [] };
  return { cmd: RELEASE_SCRIPT, prefix: [release] };
}

const releaseAvailability = new Map<
  string,
  { available: boolean; version: string; reason: string }
>();

/** Whether `release` runs here (probed once per process and release). */
export function releaseStatus(release?: RealRelease): {
  available: boolean;
  version: string;
  reason: string;
} {
  if (release === undefined || release === '7.2') return qemuStatus();
  let s = releaseAvailability.get(release);
  if (!s) {
    const { cmd, prefix } = qemuCommand(release);
    const r = spawnSync(cmd, [...prefix, '--version'], { encoding: 'utf8', timeout: 15_000 });
    const version = r.status === 0 ? r.stdout.split('\n')[0]!.trim() : '';
    s =
      r.status === 0
        ? { available: true, version, reason: '' }
        : {
            available: false,
            version,
            reason: `QEMU ${release} is not usable (${(r.stderr || r.error?.message || '').trim()}; run streams/install-releases.sh)`,
          };
    releaseAvailability.set(release, s);
  }
  return s;
}

let availability: { available: boolean; version: string; reason: string } | undefined;

/** Whether qemuBinary() runs; the answer is probed once per process. */
export function qemuStatus(): { available: boolean; version: string; reason: string } {
  if (!availability) {
    const r = spawnSync(qemuBinary(), ['--version'], { encoding: 'utf8', timeout: 15_000 });
    if (r.status === 0) {
      availability = { available: true, version: r.stdout.split('\n')[0]!.trim(), reason: '' };
    } else {
      const why = r.error ? r.error.message : `exit status ${r.status}: ${(r.stderr || '').trim()}`;
      availability = {
        available: false,
        version: '',
        reason: `${qemuBinary()} is not usable (${why})`,
      };
    }
  }
  return availability;
}

export function qemuAvailable(): boolean {
  return qemuStatus().available;
}

/** VMSTATE_REQUIRE_QEMU set to anything but "" or "0": QEMU tests must run, never skip. */
export function qemuRequired(): boolean {
  const v = process.env.VMSTATE_REQUIRE_QEMU;
  return v !== undefined && v !== '' && v !== '0';
}

/**
 * True when QEMU is there. False when it is missing and skipping is allowed. Throws when it is
 * missing but VMSTATE_REQUIRE_QEMU demands it (for the benchmark and other non-jest callers).
 */
export function requireQemuOrSkip(): boolean {
  const s = qemuStatus();
  if (s.available) return true;
  if (qemuRequired()) throw new Error(`VMSTATE_REQUIRE_QEMU is set but ${s.reason}`);
  return false;
}

type JestDescribe = ((name: string, fn: () => void) => void) & {
  skip: (name: string, fn: () => void) => void;
};
type JestIt = (name: string, fn: () => void) => void;

/**
 * `describe` for QEMU tests: runs when QEMU is available; when it is missing, the block is
 * skipped, unless VMSTATE_REQUIRE_QEMU is set, in which case the block holds one failing test.
 */
export function describeQemu(name: string, fn: () => void, release?: RealRelease): void {
  // The jest globals are looked up at call time so this module also builds without jest's types.
  const g = globalThis as unknown as { describe: JestDescribe; it: JestIt };
  const s = releaseStatus(release);
  if (s.available) {
    g.describe(name, fn);
  } else if (qemuRequired()) {
    g.describe(name, () => {
      g.it('needs QEMU', () => {
        throw new Error(`VMSTATE_REQUIRE_QEMU is set but ${s.reason}`);
      });
    });
  } else {
    g.describe.skip(
      `${name} [skipped: ${s.reason}; set VMSTATE_REQUIRE_QEMU=1 to fail instead]`,
      fn,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Options.

/** Bytes to place in guest RAM at an address before the VM starts (-device loader,force-raw=on). */
export interface RamLoad {
  /** Guest-physical address. */
  addr: number;
  /** The bytes; the harness writes them to a temp file. Give either data or file. */
  data?: Uint8Array;
  /** A file of bytes to load as-is. */
  file?: string;
}

/** What the VM is: both ends of a migration must agree on these. */
export interface QemuMachineOptions {
  /** Which real release runs this end (see REAL_RELEASES). Default: the system's QEMU (7.2). */
  release?: RealRelease;
  /** -machine type: 'pc', 'q35' or a versioned name such as 'pc-i440fx-7.1'. Default 'pc'. */
  machine?: string;
  /** Guest RAM in MiB (-m). Default 32. */
  memoryMiB?: number;
  /** -smp; default QEMU's (1). */
  smp?: number;
  /**
   * Keep QEMU's default devices (VGA, NIC, serial, parallel, CD-ROM, ...) instead of -nodefaults.
   * Their option ROMs are switched off so no third-party firmware is loaded.
   */
  defaultDevices?: boolean;
  /** Machine property suppress-vmdesc=on: no VM description JSON at the end of the stream. */
  suppressVmdesc?: boolean;
  /** -uuid. */
  uuid?: string;
  /**
   * Back guest RAM (block "pc.ram") by a shared file (memory-backend-file,share=on). Implied by the
   * x-ignore-shared capability. Both ends of an x-ignore-shared migration must name the same file.
   */
  sharedMemoryFile?: string;
  sharedMemory?: boolean;
  /** Migration capabilities, e.g. {'x-ignore-shared': true}; set on both ends. */
  capabilities?: Record<string, boolean>;
  /** Migration parameters (migrate-set-parameters), e.g. {'max-bandwidth': 65536}. */
  parameters?: Record<string, unknown>;
  /** Appended to the command line as-is. */
  extraArgs?: string[];
  /** Limit for the whole job. Default 60 s. */
  timeoutMs?: number;
}

export interface CaptureOptions extends QemuMachineOptions {
  /** Run the guest for this many ms (cont, wait, stop) before migrating. Default: never started. */
  runMs?: number;
  /**
   * Our own real-mode code for the BIOS image, run from the reset vector when the guest runs
   * (see bios-code.ts, e.g. loadRegistersThenHalt). Default: an all-zero BIOS.
   */
  biosCode?: Uint8Array;
  /** Bytes loaded into guest RAM (also makes RAM pages non-zero, so they travel as PAGE records). */
  ramLoads?: RamLoad[];
  /** Where to write the stream. Default: `<new temp dir>/stream.mig`, which the caller removes. */
  out?: string;
  /** Skip the firmware check (never for streams that are kept). */
  allowFirmware?: boolean;
  /** Read `info registers` of vCPU 0 just before migrating (CaptureResult.registers). */
  readRegisters?: boolean;
}

/** Everything known about one capture, for reports and assertions. */
export interface CaptureResult {
  path: string;
  /** Full QEMU command line. */
  argv: string[];
  /** The versioned machine type the alias resolved to, e.g. 'pc-i440fx-7.2'. */
  machineType: string;
  /** `info ramblock` and `info roms` of the source, taken before the migration. */
  ramblocks: string;
  roms: string;
  /** Files the harness loaded into guest memory: the zero BIOS and the ramLoads. */
  ownFiles: string[];
  /** The last query-migrate answer (status 'completed', ram statistics, ...). */
  migration: Record<string, unknown>;
  /** Wall time of the whole capture, QEMU start to exit. */
  elapsedMs: number;
  stderr: string;
  /** `info registers` of vCPU 0 when the migration started (with readRegisters). */
  registers?: string;
}

// ---------------------------------------------------------------------------------------------
// Processes.

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Last resort: a test runner that exits mid-job must not leave QEMU behind.
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Quotes a string for /bin/sh, which runs QEMU's exec: migration URIs. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const OUTPUT_LIMIT = 1 << 20;

/** One running QEMU with its QMP connection. */
export class QemuProcess {
  private stderrText = '';
  private stdoutText = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  qmp!: QmpClient;

  private constructor(
    readonly argv: string[],
    private readonly child: ChildProcess,
  ) {
    child.stderr?.setEncoding('utf8');
    child.stdout?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (this.stderrText.length < OUTPUT_LIMIT) this.stderrText += d;
    });
    child.stdout?.on('data', (d: string) => {
      if (this.stdoutText.length < OUTPUT_LIMIT) this.stdoutText += d;
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      child.once('error', () => {
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  /** The QEMU process's id (benchmarks read its CPU time from /proc). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts QEMU with `args` (which must contain `-qmp unix:<qmpSocket>,...`) and connects QMP. */
  static async start(
    args: string[],
    qmpSocket: string,
    timeoutMs: number,
    release?: RealRelease,
  ): Promise<QemuProcess> {
    const { cmd, prefix } = qemuCommand(release);
    const child = spawn(cmd, [...prefix, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    const qp = new QemuProcess([cmd, ...prefix, ...args], child);
    try {
      qp.qmp = await QmpClient.connect(qmpSocket, {
        timeoutMs,
        stillAlive: () => {
          if (qp.exitInfo)
            throw new Error(
              `QEMU exited during start-up (${qp.describeExit()}): ${qp.stderr.trim()}`,
            );
        },
      });
    } catch (e) {
      // QEMU opens the QMP socket before it builds the machine, so a bad option can also show up
      // as a reset connection: if QEMU is exiting, its own message is the useful one.
      if (await qp.waitExit(2_000)) {
        throw new Error(`QEMU exited during start-up (${qp.describeExit()}): ${qp.stderr.trim()}`);
      }
      await qp.kill();
      throw e;
    }
    return qp;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  describeExit(): string {
    const e = this.exitInfo;
    if (!e) return 'running';
    return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
  }

  /** Waits for the process to end, at most `ms`; true if it ended. */
  async waitExit(ms: number): Promise<boolean> {
    if (this.exitInfo) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const r = await Promise.race([this.exited.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return r;
  }

  /** Asks QEMU to quit, then kills it if it has not gone within a few seconds. */
  async quit(): Promise<void> {
    if (!this.exitInfo && this.qmp && !this.qmp.closed) {
      try {
        await this.qmp.execute('quit', undefined, 3_000);
      } catch {
        // QEMU often closes the socket before answering; the exit wait below decides.
      }
    }
    if (!(await this.waitExit(5_000))) await this.kill();
    this.qmp?.close();
  }

  /** SIGKILL, then wait (bounded) for the exit to be reported. */
  async kill(): Promise<void> {
    this.qmp?.close();
    if (!this.exitInfo) {
      this.child.kill('SIGKILL');
      await this.waitExit(5_000);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Command line.

/**
 * A temp dir for one QEMU job, holding the zero BIOS (with our own code at the reset vector if
 * asked) and the QMP socket (a short path: unix socket paths are limited to 108 bytes).
 */
export function makeWorkDir(biosCode?: Uint8Array): {
  dir: string;
  bios: string;
  qmpSocket: string;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsq-'));
  const bios = path.join(dir, 'zero-256k.bin');
  fs.writeFileSync(bios, biosImage(biosCode));
  return { dir, bios, qmpSocket: path.join(dir, 'qmp.sock') };
}

function isQ35(machine: string): boolean {
  return /q35/.test(machine);
}

/**
 * Default devices without firmware. The default VGA carries SeaBIOS's VGA BIOS and the default
 * NIC an iPXE ROM; an empty romfile makes QEMU skip the option ROM (and its RAM block). `-vga std`
 * is needed because a `-global VGA...` alone counts as "the user configured a VGA" and would drop
 * the default VGA altogether.
 */
function defaultDeviceArgs(machine: string): string[] {
  const nic = isQ35(machine) ? 'e1000e' : 'e1000';
  return ['-vga', 'std', '-global', 'VGA.romfile=', '-global', `${nic}.romfile=`];
}

function usesSharedMemory(o: QemuMachineOptions): boolean {
  return !!(o.sharedMemory || o.sharedMemoryFile || o.capabilities?.['x-ignore-shared']);
}

/** The command line shared by both ends of a migration. */
export function machineArgs(
  o: QemuMachineOptions,
  work: { bios: string; qmpSocket: string; sharedMemoryFile?: string },
): string[] {
  const machine = o.machine ?? 'pc';
  const mem = o.memoryMiB ?? 32;
  const machineOpts = [machine];
  if (o.suppressVmdesc) machineOpts.push('suppress-vmdesc=on');
  const args: string[] = ['-no-user-config', '-accel', 'tcg'];
  if (work.sharedMemoryFile) {
    // The backend keeps the id "pc.ram" so the RAM block is named as without a backend.
    machineOpts.push('memory-backend=pc.ram');
    args.push(
      '-object',
      `memory-backend-file,id=pc.ram,size=${mem}M,mem-path=${optionValue(work.sharedMemoryFile)},share=on`,
    );
  }
  args.push(
    '-machine',
    machineOpts.join(','),
    '-m',
    String(mem),
    '-bios',
    work.bios,
    '-display',
    'none',
  );
  args.push(...(o.defaultDevices ? defaultDeviceArgs(machine) : ['-nodefaults']));
  if (o.smp !== undefined) args.push('-smp', String(o.smp));
  if (o.uuid !== undefined) args.push('-uuid', o.uuid);
  args.push('-qmp', `unix:${work.qmpSocket},server=on,wait=off`, '-S');
  args.push(...(o.extraArgs ?? []));
  return args;
}

export async function applyMigrationSettings(
  qemu: QemuProcess,
  o: QemuMachineOptions,
): Promise<void> {
  const caps = Object.entries(o.capabilities ?? {}).map(([capability, state]) => ({
    capability,
    state,
  }));
  if (caps.length) await qemu.qmp.execute('migrate-set-capabilities', { capabilities: caps });
  if (o.parameters && Object.keys(o.parameters).length) {
    await qemu.qmp.execute('migrate-set-parameters', o.parameters);
  }
}

/** The versioned machine type behind an alias ('pc' -> 'pc-i440fx-7.2'). */
export async function resolveMachineType(qemu: QemuProcess, machine: string): Promise<string> {
  const list = await qemu.qmp.execute<Array<{ name: string; alias?: string }>>('query-machines');
  return list.find((m) => m.alias === machine)?.name ?? machine;
}

// ---------------------------------------------------------------------------------------------
// The no-firmware rule.

/**
 * Returns what breaks the no-third-party-firmware rule, from `info ramblock` and `info roms`.
 * Allowed RAM blocks: guest RAM, VGA VRAM, pc.bios (our zero file), pc.rom (an empty ROM area) and
 * QEMU's own fw_cfg tables (/rom@etc/...). Allowed ROMs: our files, QEMU's tables, and ROMs that
 * live only in fw_cfg (fw=..., no address: the zero BIOS never copies them into RAM).
 */
export function firmwareProblems(ramblocks: string, roms: string, ourFiles: string[]): string[] {
  const problems: string[] = [];
  for (const line of ramblocks.split('\n')) {
    const name = line.trim().split(/\s+/)[0] ?? '';
    if (!name || name === 'Block') continue;
    const optionRom = /\.rom$/.test(name) && name !== 'pc.rom';
    const fwCfgFile = name.startsWith('/rom@') && !name.startsWith('/rom@etc/');
    if (optionRom || fwCfgFile) problems.push(`RAM block ${name} holds a firmware image`);
  }
  for (const line of roms.split('\n')) {
    const m = /name="([^"]*)"/.exec(line);
    if (!m) continue;
    const name = m[1]!;
    if (ourFiles.includes(name) || name.startsWith('etc/')) continue;
    if (/^fw=/.test(line.trim()) && !/addr=/.test(line)) continue;
    problems.push(`ROM ${name} would be in guest memory: ${line.trim()}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Capturing a stream.

async function pollMigration(
  qemu: QemuProcess,
  deadline: number,
): Promise<Record<string, unknown>> {
  for (;;) {
    if (qemu.hasExited)
      throw new Error(
        `QEMU exited during the migration (${qemu.describeExit()}): ${qemu.stderr.trim()}`,
      );
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(`migration did not finish in time; stderr: ${qemu.stderr.trim()}`);
    const info = await qemu.qmp.execute<Record<string, unknown>>(
      'query-migrate',
      undefined,
      Math.min(left, 10_000),
    );
    const status = String(info.status ?? '');
    if (status === 'completed') return info;
    if (status === 'failed' || status === 'cancelled') {
      throw new Error(
        `migration ${status}: ${String(info['error-desc'] ?? '')} ${qemu.stderr.trim()}`,
      );
    }
    await delay(20);
  }
}

/** Waits until the exec: child has renamed `partial` to `file` (`file` may exist from an older run). */
async function waitForRename(partial: string, file: string, deadline: number): Promise<void> {
  while (fs.existsSync(partial) || !fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`stream file ${file} was not completed`);
    await delay(10);
  }
}

/** QEMU's option syntax: a comma inside a value is written twice. */
function optionValue(s: string): string {
  return s.replace(/,/g, ',,');
}

/** Captures a migration stream and returns its path. */
export async function captureStream(opts: CaptureOptions = {}): Promise<string> {
  return (await captureStreamDetailed(opts)).path;
}

/** Captures a migration stream; also returns the command line, RAM block list, statistics, timing. */
export async function captureStreamDetailed(opts: CaptureOptions = {}): Promise<CaptureResult> {
  const started = Date.now();
  const deadline = started + (opts.timeoutMs ?? 60_000);
  const work = makeWorkDir(opts.biosCode);
  // Without opts.out the stream goes to a new dir that the caller owns once the capture succeeded.
  const outDir = opts.out ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-mig-'));
  const out = path.resolve(opts.out ?? path.join(outDir!, 'stream.mig'));
  let succeeded = false;
  // QEMU's exec: child writes a temp name and renames it once cat has finished: the stream file
  // appears whole or not at all.
  const partial = `${out}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let qemu: QemuProcess | undefined;
  try {
    const sharedMemoryFile = usesSharedMemory(opts)
      ? (opts.sharedMemoryFile ?? path.join(work.dir, 'ram'))
      : undefined;
    const loadArgs: string[] = [];
    const ourFiles = [work.bios];
    (opts.ramLoads ?? []).forEach((load, i) => {
      let file = load.file;
      if (!file) {
        if (!load.data) throw new Error('RamLoad needs data or file');
        file = path.join(work.dir, `load${i}.bin`);
        fs.writeFileSync(file, load.data);
      }
      file = path.resolve(file);
      ourFiles.push(file);
      loadArgs.push(
        '-device',
        `loader,file=${optionValue(file)},addr=0x${load.addr.toString(16)},force-raw=on`,
      );
    });
    const base = machineArgs(opts, { ...work, sharedMemoryFile });
    const args = [...base, ...loadArgs];
    qemu = await QemuProcess.start(
      args,
      work.qmpSocket,
      Math.max(1, deadline - Date.now()),
      opts.release,
    );
    const machineType = await resolveMachineType(qemu, opts.machine ?? 'pc');
    const ramblocks = await qemu.qmp.hmp('info ramblock');
    const roms = await qemu.qmp.hmp('info roms');
    const problems = firmwareProblems(ramblocks, roms, ourFiles);
    if (problems.length && !opts.allowFirmware) {
      throw new Error(
        `refusing to capture: third-party firmware would be in the stream:\n${problems.join('\n')}`,
      );
    }
    await applyMigrationSettings(qemu, opts);
    if (opts.runMs !== undefined) {
      await qemu.qmp.execute('cont');
      await delay(opts.runMs);
      await qemu.qmp.execute('stop');
    }
    const registers = opts.readRegisters
      ? await qemu.qmp.hmp('info registers', { cpuIndex: 0 })
      : undefined;
    const uri = `exec:cat > ${shellQuote(partial)} && mv ${shellQuote(partial)} ${shellQuote(out)}`;
    await qemu.qmp.execute('migrate', { uri });
    const migration = await pollMigration(qemu, deadline);
    await waitForRename(partial, out, deadline);
    await qemu.quit();
    succeeded = true;
    return {
      path: out,
      argv: qemu.argv,
      machineType,
      ramblocks,
      roms,
      ownFiles: ourFiles,
      migration,
      elapsedMs: Date.now() - started,
      stderr: qemu.stderr,
      registers,
    };
  } finally {
    await qemu?.kill();
    fs.rmSync(partial, { force: true });
    fs.rmSync(work.dir, { recursive: true, force: true });
    if (!succeeded && outDir) fs.rmSync(outDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Feeding a stream to an incoming QEMU.

/** One segment register line of `info registers`. */
export interface SegmentRegister {
  selector: number;
  base: bigint;
  limit: number;
  flags: number;
}

export interface CpuRegisters {
  /** Every NAME=hex value printed, keyed by lower-case name: eax (or rax), eip (or rip), efl, cr0, ... */
  values: Record<string, bigint>;
  /** es, cs, ss, ds, fs, gs, ldt, tr. */
  segments: Record<string, SegmentRegister>;
  /** RIP in long mode, else EIP. */
  ip: bigint;
  eflags: bigint;
  /** The text QEMU printed. */
  raw: string;
}

const SEGMENT_LINE =
  /^(ES|CS|SS|DS|FS|GS|LDT|TR)\s*=\s*([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/i;

/** Parses the output of the HMP command `info registers` (x86). */
export function parseInfoRegisters(text: string): CpuRegisters {
  const values: Record<string, bigint> = {};
  const segments: Record<string, SegmentRegister> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    const seg = SEGMENT_LINE.exec(line);
    if (seg) {
      segments[seg[1]!.toLowerCase()] = {
        selector: parseInt(seg[2]!, 16),
        base: BigInt(`0x${seg[3]}`),
        limit: parseInt(seg[4]!, 16),
        flags: parseInt(seg[5]!, 16),
      };
      continue;
    }
    for (const m of line.matchAll(/\b([A-Z][A-Z0-9]*)\s*=\s*([0-9a-fA-F]+)\b/g)) {
      const name = m[1]!.toLowerCase();
      if (!(name in values)) values[name] = BigInt(`0x${m[2]}`);
    }
  }
  const ip = values.rip ?? values.eip;
  const eflags = values.rfl ?? values.efl;
  if (ip === undefined || eflags === undefined) {
    throw new Error(`unexpected 'info registers' output:\n${text}`);
  }
  return { values, segments, ip, eflags, raw: text };
}

/** A destination QEMU that accepted a stream. It is paused (-S); close() ends it. */
export interface IncomingVm {
  qemu: QemuProcess;
  /** The final query-migrate answer. */
  migration: Record<string, unknown>;
  /** `info registers` of one vCPU, parsed. */
  registers(cpuIndex?: number): Promise<CpuRegisters>;
  hmp(commandLine: string): Promise<string>;
  close(): Promise<void>;
}

export type IncomingResult =
  | { ok: true; vm: IncomingVm; elapsedMs: number }
  | {
      ok: false;
      /** What QEMU printed on stderr when it refused the stream (7.2 exits after a failed load). */
      error: string;
      /** How the process ended, e.g. 'exit code 1'. */
      exit: string;
      /** QEMU neither accepted nor refused within timeoutMs and was killed. */
      timedOut: boolean;
      elapsedMs: number;
    };

/**
 * Starts QEMU with the same machine options and loads the stream from `file`. Resolves with a
 * running handle when QEMU accepted it, or with QEMU's error text when it refused it.
 * The caller must close() an accepted VM (or use withIncoming).
 */
export async function incomingFromFile(
  file: string,
  opts: QemuMachineOptions = {},
): Promise<IncomingResult> {
  const started = Date.now();
  const deadline = started + (opts.timeoutMs ?? 60_000);
  const work = makeWorkDir();
  let qemu: QemuProcess | undefined;
  let handedOver = false;
  const cleanUp = async () => {
    await qemu?.kill();
    fs.rmSync(work.dir, { recursive: true, force: true });
  };
  try {
    const sharedMemoryFile = usesSharedMemory(opts)
      ? (opts.sharedMemoryFile ?? path.join(work.dir, 'ram'))
      : undefined;
    const args = [...machineArgs(opts, { ...work, sharedMemoryFile }), '-incoming', 'defer'];
    qemu = await QemuProcess.start(
      args,
      work.qmpSocket,
      Math.max(1, deadline - Date.now()),
      opts.release,
    );
    const q = qemu;
    await applyMigrationSettings(q, opts);
    await q.qmp.execute('migrate-incoming', { uri: `exec:cat ${shellQuote(path.resolve(file))}` });

    // QEMU 7.2 exits when a load fails, so the QMP poll races the process exit.
    let migration: Record<string, unknown> | undefined;
    let failure: string | undefined;
    let lastStatus = 'none';
    let timedOut = false;
    for (;;) {
      if (q.hasExited) break;
      if (Date.now() > deadline) {
        // Seen with an empty stream file: QEMU 7.2 stays in status 'setup' forever, spinning.
        failure = `no result after ${opts.timeoutMs ?? 60_000} ms (last query-migrate answer: ${lastStatus}); QEMU was killed`;
        timedOut = true;
        await q.kill();
        break;
      }
      let info: Record<string, unknown>;
      try {
        info = await q.qmp.execute<Record<string, unknown>>('query-migrate', undefined, 10_000);
      } catch (e) {
        if (q.qmp.closed || (await q.waitExit(2_000))) break;
        throw e;
      }
      const status = String(info.status ?? '');
      lastStatus = JSON.stringify(info);
      if (status === 'completed') {
        migration = info;
        break;
      }
      if (status === 'failed' || status === 'cancelled') {
        failure = `migration ${status}: ${String(info['error-desc'] ?? '')}`;
        break;
      }
      await delay(20);
    }

    if (migration) {
      handedOver = true;
      const vm: IncomingVm = {
        qemu: q,
        migration,
        registers: async (cpuIndex = 0) =>
          parseInfoRegisters(await q.qmp.hmp('info registers', { cpuIndex })),
        hmp: (commandLine) => q.qmp.hmp(commandLine),
        close: async () => {
          try {
            await q.quit();
          } finally {
            await cleanUp();
          }
        },
      };
      return { ok: true, vm, elapsedMs: Date.now() - started };
    }
    // Refused: let QEMU finish printing and exit, then report what it said.
    if (!(await q.waitExit(5_000))) await q.kill();
    const error = [q.stderr.trim(), failure ?? ''].filter(Boolean).join('\n');
    return { ok: false, error, exit: q.describeExit(), timedOut, elapsedMs: Date.now() - started };
  } finally {
    if (!handedOver) await cleanUp();
  }
}

/** Runs `fn` with an accepted incoming VM and always ends QEMU; throws if QEMU refused the stream. */
export async function withIncoming<T>(
  file: string,
  opts: QemuMachineOptions,
  fn: (vm: IncomingVm) => Promise<T>,
): Promise<T> {
  const r = await incomingFromFile(file, opts);
  if (!r.ok) throw new Error(`QEMU refused the stream (${r.exit}): ${r.error}`);
  try {
    return await fn(r.vm);
  } finally {
    await r.vm.close();
  }
}
