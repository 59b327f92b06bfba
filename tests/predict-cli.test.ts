/**
 * `vmstate predict` as a command: exit codes, the text and the JSON fields, on the committed
 * real QEMU 7.2 streams and on generated ones (whose refusals the simulated releases define).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './fixtures/run-cli';

const PC = path.join(__dirname, '..', 'streams', 'qemu-7.2', 'pc-nodefaults-paused.mig');
const Q35 = path.join(__dirname, '..', 'streams', 'qemu-7.2', 'q35-nodefaults-paused.mig');

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-predict-cli-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a 7.2 stream loads into 7.2 on its own machine type: ok, exit 0', async () => {
  for (const f of [PC, Q35]) {
    const r = await runCli(['predict', f, '--to', '7.2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok \(7\.2 on pc-(i440fx|q35)-7\.2 loads all \d+ section\(s\)\)/);
  }
});

test('another machine type: refused with the configuration check QEMU prints, exit 1; --json has the parts', async () => {
  const r = await runCli(['predict', PC, '--to', '7.2', '--machine', 'q35']);
  expect(r.code).toBe(1);
  expect(r.stdout).toContain("Machine type received is 'pc-i440fx-7.2' and local is 'pc-q35-7.2'");
  const j = await runCli(['predict', PC, '--to', '7.2', '--machine', 'pc-q35-7.2', '--json']);
  expect(j.code).toBe(1);
  const p = JSON.parse(j.stdout);
  expect(p).toMatchObject({
    outcome: 'refused',
    release: '7.2',
    machineType: 'pc-q35-7.2',
    streamMachineType: 'pc-i440fx-7.2',
    refusal: {
      reason: 'machine-type-mismatch',
      section: 'configuration',
      received: 'pc-i440fx-7.2',
      local: 'pc-q35-7.2',
      errno: 'EINVAL',
    },
  });
  expect(p.refusal.lines).toEqual([
    "Machine type received is 'pc-i440fx-7.2' and local is 'pc-q35-7.2'",
    'load of migration failed: Invalid argument',
  ]);
});

test('generated streams of `next` with a preemption-timer deadline: host and machine type decide', async () => {
  const out = path.join(dir, 'next.mig');
  const g = await runCli([
    'generate',
    '--release',
    'next',
    '--machine',
    'pc-q35-next',
    '--scenario',
    'vmx-l2-preemption-timer',
    '-o',
    out,
  ]);
  expect(g.code).toBe(0);
  // On its own release, on a KVM host that holds nested state, it loads.
  expect((await runCli(['predict', out, '--to', 'next', '--accel', 'kvm'])).code).toBe(0);
  // Under TCG the vCPU has no nested-state buffer: the cpu section's pre_load refuses.
  const tcg = JSON.parse((await runCli(['predict', out, '--to', 'next', '--json'])).stdout);
  expect(tcg.refusal).toMatchObject({ reason: 'load-failed', section: 'cpu' });
  expect(tcg.refusal.field).toContain('cpu/nested_state');
  // 7.2 has no pc-q35-next machine type (usage), and on its own machine type the configuration differs.
  expect((await runCli(['predict', out, '--to', '5.1'])).code).toBe(2);
  const r = await runCli(['predict', out, '--to', 'next', '--machine', 'pc-q35-7.2', '--json']);
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout).refusal.reason).toBe('machine-type-mismatch');
});

test('usage errors exit 2 with one line; a damaged stream exits 3', async () => {
  for (const args of [
    ['predict', PC, '--to', 'bogus'],
    ['predict', PC, '--to', '7.2', '--machine', 'bogus'],
    ['predict', path.join(dir, 'missing.mig'), '--to', '7.2'],
    ['predict', PC],
  ]) {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  }
  const bogus = await runCli(['predict', PC, '--to', 'bogus']);
  expect(bogus.stderr).toMatch(
    /release 'bogus' is unknown to the catalog \(it knows: 5\.2, 7\.2, 10\.0, /,
  );
  const cut = path.join(dir, 'cut.mig');
  fs.writeFileSync(cut, fs.readFileSync(PC).subarray(0, 90_000));
  const r = await runCli(['predict', cut, '--to', '7.2']);
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/^vmstate: .*cut\.mig: offset 0x[0-9a-f]+/);
});
