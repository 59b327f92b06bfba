/**
 * Migration properties over the simulated releases and the design alternatives, with random VMs
 * derived from the descriptions (vmstate/x86/vm-arbitrary.ts):
 *
 *  - never lossy, never a crash;
 *  - forward (older release -> newer): ok, unless the source itself refuses (blocker);
 *  - backward (newer -> older, on the older machine type): ok when nothing the older release
 *    lacks is sent, refused otherwise.
 *
 * jest checks every pair of releases on the newest machine type of each family both know (q35
 * and i440fx) and every machine type both know for a representative set of pairs; `vmstate
 * compat --machine all` runs the full set. A violation is shrunk by fast-check and written as a
 * reproduction (stream + JSON state) to $VMSTATE_REPRO_DIR or a temporary directory.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MigrationCache } from '../src/compat/migrate';
import { directionOf, runMatrix, type CellResult, type MatrixResult } from '../src/compat/matrix';
import { formatOutcome } from '../src/compat/migrate';
import { writeRepro } from '../src/compat/repro';
import { knownSubsections } from '../src/compat/sent';
import { arbitraryVm } from '../vmstate/x86/vm-arbitrary';
import { generateStream } from '../vmstate/releases/generate';
import { designs, RELEASE_NAMES, releases, type Release } from '../vmstate/releases';
import * as fc from 'fast-check';
import { runCli } from './fixtures/run-cli';
import { x86Platform } from '../vmstate/platform';
import { testSeed } from './support/seed';

const RELEASES: Release[] = RELEASE_NAMES.map((n) => releases[n]);
/** VMs per cell; the matrix shares them between cells, so this stays cheap. */
const RUNS = Number(process.env.VMSTATE_COMPAT_RUNS ?? 60);
const SEED = testSeed();

const cellName = (c: CellResult) => `${c.from.name} -> ${c.to.name} on ${c.machine}`;

/** Fails with every violating cell: its shrunk counterexample, and where its reproduction was written. */
function expectNoViolations(result: MatrixResult): void {
  const bad = result.cells.filter((c) => c.violations > 0);
  if (bad.length === 0) return;
  const lines = bad.map((c) => {
    const cx = c.counterexample!;
    const files = writeRepro(x86Platform, c, cx);
    return [
      `${cellName(c)} (${c.direction}): ${c.violations}/${result.runs} VMs break the property`,
      `  counterexample (scenario ${cx.vm.base}, ${cx.shrinks} shrink steps, seed ${cx.seed}): ${cx.violation}`,
      `  outcome: ${formatOutcome(cx.outcome)}`,
      `  stream: ${files.stream ?? '(the source writes none)'}`,
      `  state:  ${files.state}`,
    ].join('\n');
  });
  throw new Error(`migration property broken in ${bad.length} cell(s):\n${lines.join('\n')}`);
}

describe('the VM arbitrary reaches every needed() branch', () => {
  const next = releases.next;
  // The rarest branch (cpu/svm_guest: a TCG host, a non-nested scenario and random int_ctl) is
  // about 1 VM in 110: 1,000 VMs reach it under any seed but about 1 in 10^4.
  const vms = fc.sample(arbitraryVm(), { numRuns: 1000, seed: SEED });
  const sentSets = vms.map((vm) => {
    const cache = new MigrationCache(vm);
    const src = cache.source(next, cache.side(next, 'pc-q35-next')!);
    return new Set(src.done ? (src.sent.get('cpu')?.subsections ?? []).map((s) => s.name) : []);
  });
  const cpu = next.catalog.find((c) => c.name === 'cpu')!.vmsd;

  it('every cpu subsection of the newest release is sent for some VMs and not for others', () => {
    const names = [...knownSubsections(cpu).keys()];
    expect(names.length).toBeGreaterThan(45);
    const never = names.filter((n) => !sentSets.some((s) => s.has(n)));
    const always = names.filter((n) => sentSets.every((s) => s.has(n)));
    expect({ never, always }).toEqual({ never: [], always: [] });
  });

  it('nested situations: none, L1 only, L2 under VMX with and without shadow VMCS, with a preemption-timer deadline, L2 under SVM, TCG', () => {
    const has = (s: Set<string>, n: string) => s.has(`cpu/kvm_nested_state/${n}`);
    const count = (pred: (s: Set<string>, i: number) => boolean) => sentSets.filter(pred).length;
    const guest = (i: number) =>
      ((vms[i].state.cpu['env.nested_state'] as { flags: number }).flags & 1) !== 0;
    expect(count((s) => !s.has('cpu/nested_state'))).toBeGreaterThan(0);
    expect(count((s, i) => has(s, 'vmx') && !guest(i))).toBeGreaterThan(0);
    expect(
      count((s, i) => has(s, 'vmx') && guest(i) && has(s, 'vmx/shadow_vmcs12')),
    ).toBeGreaterThan(0);
    expect(
      count(
        (s, i) => has(s, 'vmx') && guest(i) && has(s, 'vmx/vmcs12') && !has(s, 'vmx/shadow_vmcs12'),
      ),
    ).toBeGreaterThan(0);
    expect(count((s) => has(s, 'vmx/preemption_timer'))).toBeGreaterThan(0);
    expect(count((s) => has(s, 'svm'))).toBeGreaterThan(0);
    expect(vms.filter((vm) => vm.ctx.accel === 'tcg').length).toBeGreaterThan(0);
  });
});

describe('releases: every pair, newest machine type of each family both know', () => {
  const result = runMatrix({
    platform: x86Platform,
    from: RELEASES,
    to: RELEASES,
    runs: RUNS,
    seed: SEED,
  });

  it('covers every pair of releases x {q35, i440fx}', () => {
    expect(result.cells.length).toBe(RELEASES.length * RELEASES.length * 2);
    expect(
      result.cells.find(
        (c) => c.from.name === 'next' && c.to.name === '4.1' && c.machine === 'pc-i440fx-4.1',
      ),
    ).toBeDefined();
  });

  it('no cell breaks the property (never lossy, never crash; forward ok; backward ok exactly when nothing lacking is sent)', () => {
    expectNoViolations(result);
    for (const c of result.cells) expect(c.counts.lossy + c.counts.crash).toBe(0);
  });

  it('forward and same-release cells: only the source ever refuses (3.1/4.0 blockers)', () => {
    for (const c of result.cells.filter((x) => x.direction !== 'backward')) {
      for (const reason of Object.keys(c.reasons))
        expect(`${cellName(c)}: ${reason}`).toMatch(/: source:blocker$/);
      if (!['3.1', '4.0'].includes(c.from.name))
        expect(`${cellName(c)}: ${c.counts.ok}`).toBe(`${cellName(c)}: ${RUNS}`);
    }
  });

  it('backward cells refuse some VMs (what the older release lacks), at the destination (or a 3.1/4.0 blocker); next -> 7.2 never (its compat property keeps the new subsection off on 7.2 machine types)', () => {
    const neverRefused = result.cells
      .filter((x) => x.direction === 'backward' && x.counts.refused === 0)
      .map(cellName);
    expect(neverRefused).toEqual(['next -> 7.2 on pc-q35-7.2', 'next -> 7.2 on pc-i440fx-7.2']);
    for (const c of result.cells.filter((x) => x.direction === 'backward'))
      for (const reason of Object.keys(c.reasons))
        expect(`${c.from.name} ${reason}`).toMatch(/ destination:|^(3\.1|4\.0) source:blocker$/);
  });
});

describe('backward migration of VMs that need nothing newer', () => {
  it('is ok for every pair, old machine type, both families', () => {
    const vms = arbitraryVm({
      bases: ['no-nested', 'vmx-idle'],
      subsectionOdds: 0,
      featureOdds: 0,
      nestedPool: false,
      // Random CR0/CR4/EFER could turn on PAE paging, which sends cpu/pdptrs (unknown before 6.0).
      randomMain: false,
    });
    const result = runMatrix({
      platform: x86Platform,
      from: RELEASES,
      to: RELEASES,
      runs: 20,
      seed: SEED,
      vms,
    });
    expectNoViolations(result);
    for (const c of result.cells.filter((x) => !['3.1', '4.0'].includes(x.from.name)))
      expect(`${cellName(c)}: ${c.counts.ok}`).toBe(`${cellName(c)}: 20`);
  });
});

describe('every machine type both know, representative pairs', () => {
  const pairs: [string, string][] = [
    ['next', '7.2'],
    ['7.2', 'next'],
    ['7.2', '4.1'],
    ['5.1', '5.0'],
    ['4.1', '3.0'],
  ];
  it.each(pairs)('%s -> %s', (a, b) => {
    const result = runMatrix({
      platform: x86Platform,
      from: [releases[a]],
      to: [releases[b]],
      machines: 'all',
      runs: 15,
      seed: SEED,
    });
    // Every machine type both releases have (a fork like `next` lacks the real ones after 7.2).
    const common = releases[a].machineTypes.filter((m) =>
      releases[b].machineTypes.some((x) => x.name === m.name),
    );
    expect(result.cells.length).toBe(common.length);
    expect(result.cells.length).toBeGreaterThan(2);
    expectNoViolations(result);
  });
});

describe('design alternatives', () => {
  const withDesign = (name: string, runs: number) => {
    const list = [...RELEASES, designs[name]];
    // VMs with nested VMX/SVM state and nothing else a 4.1 lacks, so every nested failure shows.
    const vms = arbitraryVm({
      bases: ['vmx-root', 'vmx-l2-shadow', 'svm-l2', 'no-nested'],
      subsectionOdds: 0,
      featureOdds: 0,
    });
    return runMatrix({
      platform: x86Platform,
      from: list,
      to: list,
      runs,
      seed: SEED,
      vms,
      shrink: false,
    });
  };
  const failing = (r: MatrixResult) =>
    [
      ...new Set(
        r.cells.filter((c) => c.violations > 0).map((c) => `${c.from.name} -> ${c.to.name}`),
      ),
    ].sort();
  const kinds = (r: MatrixResult) =>
    new Set(
      r.cells
        .filter((c) => c.violations > 0)
        .flatMap((c) =>
          Object.entries(c.counts)
            .filter(([, n]) => n > 0)
            .map(([k]) => k),
        ),
    );
  // Releases carrying nested state without the preemption timer (QEMU's own design), and ours.
  const NESTED = RELEASE_NAMES.filter((n) => {
    const d = releases[n].cpuFeatures.nested;
    return d !== undefined && !d.carriesPreemptionTimer({});
  });
  const TIMER = RELEASE_NAMES.filter((n) =>
    releases[n].cpuFeatures.nested?.carriesPreemptionTimer({}),
  );

  it('subsections (the accepted design) keeps the property with every release', () => {
    expectNoViolations(withDesign('subsections', 40));
  });

  it('blob: every 4.1+ release refuses its stream (post_load size check), and it refuses theirs (a 4.1+ stream into it is refused on a forward hop): refused, never lossy', () => {
    const r = withDesign('blob', 40);
    expect(failing(r)).toEqual(
      [
        // A release newer than blob's line (a fork of 7.2) is not bound to reach it (backward hop).
        ...NESTED.filter(
          (n) => directionOf(x86Platform, releases[n], designs.blob) !== 'backward',
        ).map((n) => `${n} -> blob`),
        ...[...NESTED, ...TIMER].map((n) => `blob -> ${n}`),
      ].sort(),
    );
    expect([...kinds(r)].filter((k) => k === 'lossy' || k === 'crash')).toEqual([]);
    const to72 = r.cells.find(
      (c) => c.from.name === 'blob' && c.to.name === '7.2' && c.machine === 'pc-q35-7.2',
    )!;
    expect(to72.reasons['destination:hook-failed']).toBe(to72.violations);
    const from72 = r.cells.find(
      (c) => c.from.name === '7.2' && c.to.name === 'blob' && c.machine === 'pc-q35-7.2',
    )!;
    expect(Object.keys(from72.reasons).every((k) => k.startsWith('destination:'))).toBe(true);
  });

  it('unversioned-append: 4.1+ streams into it and its streams into 4.1+ are refused at the section footer (it reads 12 bytes that were never sent, or leaves 12 unread): refused, never lossy', () => {
    const r = withDesign('unversioned-append', 40);
    expect(failing(r)).toEqual(
      [
        ...[...NESTED, ...TIMER].map((n) => `${n} -> unversioned-append`),
        ...[...NESTED, ...TIMER].map((n) => `unversioned-append -> ${n}`),
      ].sort(),
    );
    expect([...kinds(r)].filter((k) => k === 'lossy' || k === 'crash')).toEqual([]);
    for (const c of r.cells.filter((x) => x.violations > 0))
      for (const reason of Object.keys(c.reasons))
        expect(`${cellName(c)} ${reason}`).toMatch(
          /destination:(section-footer|truncated|unknown-subsection|hook-failed)$/,
        );
    const in72 = r.cells.find(
      (c) =>
        c.from.name === '7.2' && c.to.name === 'unversioned-append' && c.machine === 'pc-q35-7.2',
    )!;
    expect(in72.reasons['destination:section-footer']).toBeGreaterThan(0);
  });

  it('a broken property fails with the shrunk counterexample and the paths of its reproduction files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compat-repro-message-'));
    const vms = arbitraryVm({ bases: ['vmx-root'], subsectionOdds: 0, featureOdds: 0 });
    const r = runMatrix({
      platform: x86Platform,
      from: [releases['7.2']],
      to: [designs['unversioned-append']],
      machines: ['pc-q35-7.2'],
      runs: 5,
      seed: SEED,
      vms,
      shrinkTimeMs: 500,
    });
    process.env.VMSTATE_REPRO_DIR = dir;
    let message = '';
    try {
      expectNoViolations(r);
    } catch (e) {
      message = (e as Error).message;
    } finally {
      delete process.env.VMSTATE_REPRO_DIR;
    }
    expect(message).toMatch(
      /7\.2 -> unversioned-append on pc-q35-7\.2 \(forward\): \d+\/5 VMs break the property/,
    );
    const stream = /stream: (\S+)/.exec(message)![1];
    const state = /state: +(\S+)/.exec(message)![1];
    expect(path.dirname(stream)).toBe(dir);
    expect(fs.existsSync(stream) && fs.existsSync(state)).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a violation is shrunk and written as a reproduction that vmstate analyze opens and vmstate generate --state replays', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compat-repro-test-'));
    const vms = arbitraryVm({
      bases: ['vmx-root', 'vmx-l2-shadow'],
      subsectionOdds: 0,
      featureOdds: 0,
    });
    const r = runMatrix({
      platform: x86Platform,
      from: [designs.blob],
      to: [releases['7.2']],
      machines: ['pc-q35-7.2'],
      runs: 10,
      seed: SEED,
      vms,
      shrinkTimeMs: 1500,
    });
    const cell = r.cells[0];
    expect(cell.violations).toBeGreaterThan(0);
    const cx = cell.counterexample!;
    expect(cx.outcome.kind).toBe('refused');
    const files = writeRepro(x86Platform, cell, cx, dir);
    expect(files.stream).toBeDefined();
    const analyzed = await runCli(['analyze', files.stream!]);
    expect(analyzed.code).toBe(0);
    expect(analyzed.stdout).toMatch(/cpu\/nested_state/);
    const replay = path.join(dir, 'replay.mig');
    const gen = await runCli([
      'generate',
      '--release',
      'blob',
      '--machine',
      'pc-q35-7.2',
      '--state',
      files.state,
      '--lossy',
      '-o',
      replay,
    ]);
    expect(gen.code).toBe(0);
    expect(Buffer.from(fs.readFileSync(replay)).equals(fs.readFileSync(files.stream!))).toBe(true);
    const direct = generateStream(designs.blob, 'pc-q35-7.2', cx.vm, { lossy: true });
    expect(direct.ok && Buffer.from(direct.bytes).equals(fs.readFileSync(files.stream!))).toBe(
      true,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
