/** Output paths that cannot be written are usage errors (exit 2, one line naming the path). */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { streamPath } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';

// Made when the file loads: the table of bad paths below is built from it.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-outpaths-'));
const aFile = path.join(dir, 'plain-file');
fs.writeFileSync(aFile, 'x');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const stream = streamPath('pc-nodefaults-paused');

/** Paths that cannot be written, each with the reason the message must give. */
const BAD = (): [string, string, RegExp][] => [
  ['missing parent directory', path.join(dir, 'no-such-dir', 'out'), /does not exist/],
  ['a file as parent directory', path.join(aFile, 'out'), /is not a directory/],
  ['a directory where a file goes', dir, /it is a directory/],
];

function expectUsage(
  r: { code: number; stderr: string; stdout: string },
  target: string,
  why: RegExp,
) {
  expect(r.code).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toContain(`cannot write ${target}`);
  expect(r.stderr).toMatch(why);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe.each(BAD())('%s', (_, target, why) => {
  test('reencode -o', async () => {
    expectUsage(await runCli(['reencode', stream, '-o', target]), target, why);
  });
  test('edit -o', async () => {
    expectUsage(
      await runCli(['edit', stream, '-o', target, '--set', 'cpu#0/env.eip=0x1234']),
      target,
      why,
    );
  });
  test('generate -o and --write-state', async () => {
    expectUsage(
      await runCli(['generate', '--release', '7.2', '--scenario', 'no-nested', '-o', target]),
      target,
      why,
    );
    expectUsage(
      await runCli([
        'generate',
        '--release',
        '7.2',
        '--scenario',
        'no-nested',
        '--write-state',
        target,
      ]),
      target,
      why,
    );
  });
});

describe('analyze --extract', () => {
  test('a missing parent directory or a file in the way is exit 2 naming the path', async () => {
    const missing = path.join(dir, 'no-such-dir', 'x');
    expectUsage(await runCli(['analyze', stream, '--extract', missing]), missing, /does not exist/);
    expectUsage(await runCli(['analyze', stream, '--extract', aFile]), aFile, /not a directory/);
  });

  test('running again into the same directory replaces it whole', async () => {
    const out = path.join(dir, 'again');
    expect((await runCli(['analyze', stream, '--extract', out])).code).toBe(0);
    const first = fs.readdirSync(out).sort();
    fs.writeFileSync(path.join(out, 'left-over'), 'x');
    const second = await runCli(['analyze', stream, '--extract', out]);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(first);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.again.tmp-'))).toEqual([]);
  });

  test('a failed run into an earlier extract leaves no directory, never a mix', async () => {
    const out = path.join(dir, 'replaced');
    expect((await runCli(['analyze', stream, '--extract', out])).code).toBe(0);
    const cut = path.join(dir, 'cut.mig');
    const whole = fs.readFileSync(stream);
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const r = await runCli(['analyze', cut, '--extract', out]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/offset 0x[0-9a-f]+/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.replaced.tmp-'))).toEqual([]);
  });

  test('a directory that is not an earlier extract is refused unless --force', async () => {
    const out = path.join(dir, 'mine');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'precious.txt'), 'keep me');
    const r = await runCli(['analyze', stream, '--extract', out]);
    expectUsage(r, out, /--force/);
    expect(fs.readFileSync(path.join(out, 'precious.txt'), 'utf8')).toBe('keep me');
    expect((await runCli(['analyze', stream, '--extract', out, '--force'])).code).toBe(0);
    expect(fs.existsSync(path.join(out, 'precious.txt'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'state.json'))).toBe(true);
  });
});
