/**
 * Output paths that are not plain files: a device (/dev/null) or a FIFO is written in place, never
 * replaced by a renamed temporary file (run as root, `-o /dev/null` would turn the machine's
 * /dev/null into a plain file that every later write fills); a symlink stays a link
 * and its file gets the output.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { streamPath } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';

const stream = streamPath('pc-nodefaults-paused');
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-special-out-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The directory's names other than `keep`: no temporary file may be left. */
function others(keep: string[]): string[] {
  return fs.readdirSync(dir).filter((n) => !keep.includes(n));
}

test('reencode -o FIFO writes into the pipe and leaves it a FIFO', async () => {
  const fifo = path.join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const got = path.join(dir, 'got');
  // The reader is another process: opening a FIFO for writing waits for one.
  const reader = spawn('sh', ['-c', 'cat "$0" > "$1"', fifo, got], { stdio: 'ignore' });
  const done = new Promise<number | null>((resolve) => reader.on('exit', resolve));
  // Before the fix the temporary file was renamed over the FIFO: the reader would wait forever.
  const timer = setTimeout(() => reader.kill(), 20_000);
  const r = await runCli(['reencode', stream, '-o', fifo]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(await done).toBe(0);
  clearTimeout(timer);
  expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
  expect(fs.readFileSync(got).equals(fs.readFileSync(stream))).toBe(true);
  expect(others(['pipe', 'got'])).toEqual([]);
});

test('reencode -o SYMLINK replaces the file it points to and keeps the link', async () => {
  const real = path.join(dir, 'real.mig');
  fs.writeFileSync(real, 'old contents');
  const link = path.join(dir, 'link.mig');
  fs.symlinkSync(real, link);
  const r = await runCli(['reencode', stream, '-o', link]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
  expect(fs.readFileSync(real).equals(fs.readFileSync(stream))).toBe(true);
  expect(others(['real.mig', 'link.mig'])).toEqual([]);
});

test('a dangling symlink is replaced by the output, as before', async () => {
  const link = path.join(dir, 'dangling.mig');
  fs.symlinkSync(path.join(dir, 'nowhere'), link);
  const r = await runCli(['reencode', stream, '-o', link]);
  expect(r.code).toBe(0);
  expect(fs.lstatSync(link).isFile()).toBe(true);
  expect(fs.readFileSync(link).equals(fs.readFileSync(stream))).toBe(true);
});

// A character device of our own (the null device's numbers) needs mknod, that is root: the
// FIFO above covers the same path for everyone else.
const asRoot = process.getuid?.() === 0 ? test : test.skip;
asRoot('reencode -o a null device (as root) leaves it a character device', async () => {
  const dev = path.join(dir, 'null');
  execFileSync('mknod', ['-m', '666', dev, 'c', '1', '3']);
  for (const args of [
    ['reencode', stream, '-o', dev],
    ['reencode', stream, '-o', dev, '--fsync'],
    ['edit', stream, '-o', dev, '--set', 'cpu#0/env.eip=0x1234'],
  ]) {
    const r = await runCli(args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(fs.statSync(dev).isCharacterDevice()).toBe(true);
  }
  expect(others(['null'])).toEqual([]);
});
