/* eslint-disable @typescript-eslint/no-explicit-any -- the tests edit dumps as untyped JSON */
/** `vmstate check` validates -dump-vmstate files: which key of which file is wrong, exit 3. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from './fixtures/run-cli';

const REAL = path.resolve(__dirname, '..', 'streams', 'qemu-7.2', 'vmstate-pc.json');
const real = JSON.parse(fs.readFileSync(REAL, 'utf8')) as Record<string, Record<string, unknown>>;
// A device with fields (the first entries of a dump are often empty descriptions).
const firstKey = Object.keys(real).find(
  (k) =>
    k !== 'vmschkmachine' &&
    Array.isArray(real[k].Description && (real[k].Description as any).Fields),
)!;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-dumps-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function dumpFile(name: string, edit: (d: Record<string, any>) => unknown): string {
  const d = structuredClone(real) as Record<string, any>;
  const out = edit(d) ?? d;
  const f = path.join(dir, `${name}.json`);
  fs.writeFileSync(f, JSON.stringify(out));
  return f;
}

async function checkDump(f: string) {
  return runCli(['check', REAL, f, '--samples', '0']);
}

test.each([
  [
    'version_id "x"',
    (d: any) => void (d[firstKey].Description.version_id = 'x'),
    /Description\.version_id/,
  ],
  [
    'version_id 1e300',
    (d: any) => void (d[firstKey].Description.version_id = 1e300),
    /Description\.version_id/,
  ],
  [
    'a negative size',
    (d: any) => void (d[firstKey].Description.Fields[0].size = -4),
    /Fields\[0\]\.size/,
  ],
  [
    'a huge size',
    (d: any) => void (d[firstKey].Description.Fields[0].size = 2 ** 40),
    /Fields\[0\]\.size/,
  ],
  ['vmschkmachine null', (d: any) => void (d.vmschkmachine = null), /vmschkmachine/],
  [
    'a field without a name',
    (d: any) => void delete d[firstKey].Description.Fields[0].field,
    /Fields\[0\]\.field/,
  ],
])('%s: exit 3 naming the file and the key', async (name, edit, key) => {
  const f = dumpFile(name.replace(/\W+/g, '-'), edit);
  const r = await checkDump(f);
  expect(r.code).toBe(3);
  expect(r.stderr).toContain(f);
  expect(r.stderr).toContain(
    firstKey === undefined ? '' : name === 'vmschkmachine null' ? 'vmschkmachine' : firstKey,
  );
  expect(r.stderr).toMatch(key);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
});

test('a device with 130,000 fields is checked, not a stack overflow', async () => {
  const f = dumpFile('wide', (d: any) => {
    const fields = [];
    for (let i = 0; i < 130_000; i++)
      fields.push({ field: `f${i}`, version_id: 0, field_exists: false, size: 1 });
    d[firstKey].Description.Fields = fields;
  });
  const r = await checkDump(f);
  expect(r.stderr).not.toMatch(/RangeError|Maximum call stack/);
  expect([0, 1]).toContain(r.code);
});

test('nesting 100,000 deep is refused with the key where it goes too deep', async () => {
  const f = path.join(dir, 'deep.json');
  // JSON.stringify recurses too: write the text by hand.
  const open = '{"name":"d","version_id":1,"minimum_version_id":1,"Subsections":[';
  fs.writeFileSync(
    f,
    `{"x":{"Description":${open.repeat(100_000)}{"name":"leaf","version_id":1,"minimum_version_id":1}${']}'.repeat(100_000)}}}`,
  );
  const r = await checkDump(f);
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/nested more than \d+ levels deep/);
});

test('a missing dump file is a usage error (exit 2)', async () => {
  const r = await runCli(['check', REAL, path.join(dir, 'missing.json')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/cannot open .*missing\.json: ENOENT/);
});
