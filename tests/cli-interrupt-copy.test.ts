/**
 * Interrupted runs on a file input remove their temporaries while the kernel is still copying
 * (reencode's copy of the input) or the thread pool still writing (extract's block files).
 */
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSyntheticStream } from '../src/stream/synth';

let dir: string;
let input: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-interrupt-copy-'));
  input = path.join(dir, 'in.mig');
  await writeSyntheticStream(input, { ramBytes: 256 << 20, dataEvery: 1 });
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'src', 'cli', 'main.ts');
const tempsOf = (name: string) => fs.readdirSync(dir).filter((n) => n.startsWith(`.${name}.tmp-`));

/** A file's or a directory's contents, as one digest per file, sorted by name. */
function contents(p: string): string[] {
  if (!fs.statSync(p).isDirectory())
    return [crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')];
  return fs
    .readdirSync(p)
    .sort()
    .flatMap((n) => contents(path.join(p, n)).map((h) => `${n} ${h}`));
}

/** What an uninterrupted run writes. */
function wholeOutput(args: string[], out: string): string[] {
  const r = spawnSync('node', ['-r', 'ts-node/register/transpile-only', CLI, ...args], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  expect(r.status).toBe(0);
  const c = contents(out);
  fs.rmSync(out, { recursive: true, force: true });
  return c;
}

async function interruptOnce(args: string[], name: string, delayMs: number) {
  const child = spawn('node', ['-r', 'ts-node/register/transpile-only', CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, sig) => resolve({ code, signal: sig })),
  );
  const end = Date.now() + 60_000;
  while (tempsOf(name).length === 0 && Date.now() < end && child.exitCode === null)
    await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGINT');
  return exited;
}

test.each([
  ['reencode', (out: string) => ['reencode', input, '-o', out]],
  ['analyze --extract', (out: string) => ['analyze', input, '--extract', out]],
])(
  '%s of a file interrupted by SIGINT leaves nothing behind',
  async (what, args) => {
    let interrupted = 0;
    const whole = wholeOutput(args(path.join(dir, 'whole')), path.join(dir, 'whole'));
    for (const delay of [0, 300]) {
      const name = `${what.replace(/\W+/g, '-')}-${delay}`;
      const out = path.join(dir, name);
      const r = await interruptOnce(args(out), name, delay);
      // A run that ended before the signal wrote its output whole; one interrupted left nothing,
      // unless the signal came after the output was renamed into place: then it is whole.
      if (r.signal === 'SIGINT') {
        interrupted++;
        await new Promise((res) => setTimeout(res, 500)); // a copy still running would show up
        expect(tempsOf(name)).toEqual([]);
        if (fs.existsSync(out)) expect(contents(out)).toEqual(whole);
      } else {
        expect(r.code).toBe(0);
        expect(contents(out)).toEqual(whole);
      }
    }
    expect(interrupted).toBeGreaterThan(0); // the runs are long enough to be caught
  },
  180_000,
);

test('analyze --extract over an earlier extract interrupted by SIGINT leaves neither of them behind', async () => {
  const args = (out: string) => ['analyze', input, '--extract', out];
  const whole = wholeOutput(args(path.join(dir, 'whole-again')), path.join(dir, 'whole-again'));
  let interrupted = 0;
  for (const delay of [0, 300]) {
    const name = `extract-again-${delay}`;
    const out = path.join(dir, name);
    const first = spawnSync('node', ['-r', 'ts-node/register/transpile-only', CLI, ...args(out)], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    expect(first.status).toBe(0);
    // The second run takes the first one's block files over (moved into its own directory).
    const r = await interruptOnce(args(out), name, delay);
    if (r.signal === 'SIGINT') {
      interrupted++;
      await new Promise((res) => setTimeout(res, 500));
      expect(tempsOf(name)).toEqual([]);
      // Removed first (never a mix of two extracts), unless the signal came after the rename.
      if (fs.existsSync(out)) expect(contents(out)).toEqual(whole);
    } else {
      expect(r.code).toBe(0);
      expect(contents(out)).toEqual(whole);
    }
    fs.rmSync(out, { recursive: true, force: true });
  }
  expect(interrupted).toBeGreaterThan(0);
}, 180_000);
