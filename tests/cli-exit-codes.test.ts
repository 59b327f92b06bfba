/** One rule everywhere: 2 for usage (flags, paths that cannot be opened), 3 for malformed content. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as collect from '../src/stream/collect';
import { streamPath } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';

let dir: string;
let missing: string;
let notJson: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-exit-'));
  missing = path.join(dir, 'missing.json');
  notJson = path.join(dir, 'not.json');
  fs.writeFileSync(notJson, '{ this is not json');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const stream = streamPath('pc-nodefaults-paused');

function oneLine(stderr: string): void {
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

test.each([
  ['analyze', () => ['analyze', missing]],
  ['analyze --vmdesc', () => ['analyze', stream, '--vmdesc', missing]],
  ['check', () => ['check', '7.2', missing]],
  [
    'generate --nested-state',
    () => [
      'generate',
      '--release',
      '7.2',
      '--scenario',
      'vmx-root',
      '--nested-state',
      missing,
      '-o',
      path.join(dir, 'o.mig'),
    ],
  ],
  [
    'generate --state',
    () => ['generate', '--release', '7.2', '--state', missing, '-o', path.join(dir, 'o.mig')],
  ],
  ['compat --state', () => ['compat', '--from', '7.2', '--to', '7.2', '--state', missing]],
])('a missing file is exit 2 in %s, naming it', async (_, args) => {
  const r = await runCli(args());
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(missing);
  oneLine(r.stderr);
});

test.each([
  ['analyze --vmdesc', () => ['analyze', stream, '--vmdesc', notJson]],
  ['check', () => ['check', '7.2', notJson]],
  [
    'generate --state',
    () => ['generate', '--release', '7.2', '--state', notJson, '-o', path.join(dir, 'o.mig')],
  ],
  ['compat --state', () => ['compat', '--from', '7.2', '--to', '7.2', '--state', notJson]],
])('a file that is not JSON is exit 3 in %s, naming it', async (_, args) => {
  const r = await runCli(args());
  expect(r.code).toBe(3);
  expect(r.stderr).toContain(notJson);
  oneLine(r.stderr);
});

test('an internal error is one line asking for a bug report with the command line, exit 4, no stack', async () => {
  const spy = jest.spyOn(collect, 'readStreamContents').mockImplementation(() => {
    throw new TypeError("Cannot read properties of undefined (reading 'x')");
  });
  try {
    const r = await runCli(['analyze', stream, '--format', 'tree']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /^vmstate: internal error \(a bug in vmstate\): TypeError: Cannot read/,
    );
    expect(r.stderr).toContain(
      `please report it with the command line: vmstate analyze ${stream} --format tree`,
    );
    oneLine(r.stderr);
  } finally {
    spy.mockRestore();
  }
});

test('--help states the exit codes', async () => {
  const r = await runCli(['--help']);
  expect(r.stdout + r.stderr).toMatch(
    /Exit codes:[\s\S]*2 +usage[\s\S]*3 +an input whose content is malformed/,
  );
});
