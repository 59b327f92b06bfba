/** State files for `generate --state` and `compat --state` are checked by a schema first. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from './fixtures/run-cli';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-statejson-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

const DEEP = `{"ctx":{},"sections":{"cpu":{"env.regs":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`;

const BAD: [string, string, RegExp][] = [
  ['sections null', '{"ctx":{},"sections":null}', /state file: sections: /],
  ['no ctx', '{"sections":{}}', /state file: ctx: /],
  [
    'nestedStateMax 1e15',
    '{"ctx":{"kvm":{"nestedStateMax":1e15}},"sections":{}}',
    /ctx\.kvm\.nestedStateMax/,
  ],
  [
    'nestedStateMax -1',
    '{"ctx":{"kvm":{"nestedStateMax":-1}},"sections":{}}',
    /ctx\.kvm\.nestedStateMax/,
  ],
  ['100,000-deep arrays', DEEP, /nested more than \d+ levels deep/],
];

describe.each(BAD)('%s', (name, text, why) => {
  test('generate --state: exit 3 naming the file and the key', async () => {
    const f = file(`${name.replace(/\W+/g, '-')}.json`, text);
    const out = path.join(dir, 'out.mig');
    const r = await runCli(['generate', '--release', '7.2', '--state', f, '-o', out]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toMatch(why);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(fs.existsSync(out)).toBe(false);
  });
  test('compat --state: exit 3 naming the file and the key', async () => {
    const f = file(`${name.replace(/\W+/g, '-')}-c.json`, text);
    const r = await runCli(['compat', '--from', '7.2', '--to', '7.2', '--state', f]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toMatch(why);
  });
});

test('a file written by --write-state reads back', async () => {
  const f = path.join(dir, 'written.json');
  expect(
    (
      await runCli([
        'generate',
        '--release',
        '7.2',
        '--scenario',
        'vmx-l2-shadow',
        '--write-state',
        f,
      ])
    ).code,
  ).toBe(0);
  const out = path.join(dir, 'back.mig');
  const r = await runCli(['generate', '--release', '7.2', '--state', f, '-o', out]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});
