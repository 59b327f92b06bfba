/**
 * `vmstate predict` into the real 5.2, 7.2 and 10.0 device catalogs (vmstate/platforms.ts), on
 * committed real streams: the destination's machine type brings its hw_compat properties, and a
 * stream with sections the catalog has no description of is never claimed to load. The live
 * comparison with real QEMU is tests/real-matrix.test.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { predictLoad } from '../src/predict/predict';
import { catalogOf } from '../vmstate/catalog';
import { PLATFORMS } from '../vmstate/platforms';
import { runCli } from './fixtures/run-cli';

const stream = (release: string, stem: string): Uint8Array =>
  new Uint8Array(
    zlib.gunzipSync(
      fs.readFileSync(path.join(__dirname, '..', 'streams', `qemu-${release}`, `${stem}.mig.gz`)),
    ),
  );

/**
 * The stream with every occurrence of device section name `from` (its section headers and its VM
 * description) renamed `to`, a name of the same length: the same VM with another device there.
 */
function renamed(bytes: Uint8Array, from: string, to: string): Uint8Array {
  expect(to.length).toBe(from.length);
  const buf = Buffer.from(bytes);
  const a = Buffer.from(from);
  let hits = 0;
  for (let i = buf.indexOf(a); i >= 0; i = buf.indexOf(a, i + a.length)) {
    buf.write(to, i, 'latin1');
    hits++;
  }
  expect(hits).toBeGreaterThan(0);
  return new Uint8Array(buf);
}

// virtio-gpu is a device every real release registers and the catalog does not describe.
const withGpu = (release: string, stem: string) =>
  renamed(stream(release, stem), 'virtio-rng', 'virtio-gpu');

test('the real releases are destinations on the issue machine types they have', () => {
  for (const r of ['5.2', '7.2', '10.0']) expect(PLATFORMS.kindOf(r)).toBe('real');
  expect(PLATFORMS.machineTypes('5.2')).toEqual([
    'pc-i440fx-5.2',
    'pc-q35-5.2',
    'pc-i440fx-4.2',
    'pc-q35-3.1',
  ]);
  expect(PLATFORMS.machineTypes('10.0')).toContain('pc-i440fx-7.2');
  expect(PLATFORMS.resolveMachine('10.0', 'q35')).toBe('pc-q35-10.0');
  expect(PLATFORMS.resolveMachine('5.2', 'pc')).toBe('pc-i440fx-5.2');
  expect(PLATFORMS.resolveMachine('5.2', 'pc-q35-7.2')).toBeUndefined();
});

test("a destination's ctx carries its machine type's compat properties", () => {
  const props = (r: string, m: string) =>
    (PLATFORMS.platform(r, m).ctx as { props?: Record<string, unknown> }).props ?? {};
  expect(props('10.0', 'pc-q35-5.2')['e1000e.migrate-timadj']).toBe('off');
  expect(props('10.0', 'pc-q35-5.2')['i8042.extended-state']).toBe('false');
  expect(props('10.0', 'pc-q35-10.0')['e1000e.migrate-timadj']).toBeUndefined();
});

test('older machine types load across releases only with their compat properties', async () => {
  // QEMU 10.0 loads these (tests/real-matrix.test.ts); without the machine type's properties
  // the 10.0 descriptions read fields the 5.2 machine types never send.
  for (const [from, stem, to, machine] of [
    ['5.2', 'q35-5.2-defaults', '10.0', 'pc-q35-5.2'],
    ['5.2', 'pc-4.2-nodefaults-paused', '7.2', 'pc-i440fx-4.2'],
    ['10.0', 'q35-3.1-nodefaults-paused', '5.2', 'pc-q35-3.1'],
  ] as const) {
    const bytes = stream(from, stem);
    const platform = PLATFORMS.platform(to, machine);
    expect((await predictLoad(bytes, platform)).outcome).toBe('ok');
    const bare = await predictLoad(bytes, { ...platform, ctx: {} });
    expect(bare.outcome).toBe('refused');
  }
});

test('every section of the committed rich streams is described: their loads are predicted', async () => {
  for (const [from, stem, machine] of [
    ['5.2', 'q35-5.2-rich-max', 'pc-q35-5.2'],
    ['7.2', 'q35-7.2-rich-max', 'pc-q35-7.2'],
    ['10.0', 'q35-10.0-rich-max', 'pc-q35-10.0'],
  ] as const) {
    const p = await predictLoad(stream(from, stem), PLATFORMS.platform(from, machine));
    expect({ from, outcome: p.outcome, undescribed: p.undescribed }).toEqual({
      from,
      outcome: 'ok',
      undescribed: undefined,
    });
  }
});

test('a section no release registers is refused as QEMU refuses it, not unknown', async () => {
  const bytes = renamed(stream('7.2', 'q35-7.2-rich-max'), 'virtio-rng', 'virtio-rnh');
  const p = await predictLoad(bytes, PLATFORMS.platform('7.2', 'pc-q35-7.2'));
  expect(p.outcome).toBe('refused');
  expect(p.refusal).toMatchObject({ reason: 'unknown-section' });
  expect(p.refusal!.section).toMatch(/virtio-rnh$/);
  expect(p.undescribed).toBeUndefined();
});

test('sections the catalog has no description of: unknown, named, never ok', async () => {
  const bytes = withGpu('5.2', 'q35-5.2-rich-max');
  const p = await predictLoad(bytes, PLATFORMS.platform('5.2', 'pc-q35-5.2'));
  expect(p.outcome).toBe('unknown');
  const names = p.undescribed!.map((u) => u.section);
  expect(names.length).toBeGreaterThan(0);
  const catalog = catalogOf('5.2', 'pc-q35-5.2');
  for (const n of names)
    expect({ n, described: !!catalog.lookup(n) }).toEqual({ n, described: false });
  expect(p.undescribed![0].why).toMatch(/the 5\.2 catalog has no description of section '/);
  // 7.2 loads the audio section 5.2 sends (it registers it, never sends it): unknown only for the gpu.
  const to72 = await predictLoad(bytes, PLATFORMS.platform('7.2', 'pc-q35-5.2'));
  expect(to72.outcome).toBe('unknown');
  expect(to72.refusal).toBeUndefined();
  // 10.0 numbers the two slirp instances 0 and 1, 7.2 registers both as 0: refused exactly
  // there, before any undescribed section (real 7.2 prints the same).
  const from10 = withGpu('10.0', 'q35-7.2-rich-max');
  const p10 = await predictLoad(from10, PLATFORMS.platform('7.2', 'pc-q35-7.2'));
  expect(p10.outcome).toBe('refused');
  expect(p10.refusal).toMatchObject({ reason: 'unknown-section', section: 'slirp', instance: 1 });
  expect(p10.undescribed).toBeUndefined();
  expect((await predictLoad(from10, PLATFORMS.platform('10.0', 'pc-q35-7.2'))).outcome).toBe(
    'unknown',
  );
});

test('the command: unknown exits 3 with one line on stderr; --json lists the sections', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-predict-real-'));
  try {
    const f = path.join(dir, 'rich.mig');
    fs.writeFileSync(f, withGpu('10.0', 'q35-10.0-rich-max'));
    const r = await runCli(['predict', f, '--to', '10.0']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      /^unknown \(10\.0 on pc-q35-10\.0\): cannot predict the load of \d+ section/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /offset 0x[0-9a-f]+, .*virtio-gpu#0: the 10\.0 catalog has no description/,
    );
    const j = JSON.parse((await runCli(['predict', f, '--to', '10.0', '--json'])).stdout);
    expect(j.outcome).toBe('unknown');
    expect(j.undescribed.map((u: { section: string }) => u.section)).toContainEqual(
      expect.stringMatching(/\/virtio-gpu$/),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
