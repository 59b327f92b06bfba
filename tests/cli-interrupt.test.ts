/** Interrupted runs remove their temporary files; the next run removes those of dead ones. */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readStream } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-interrupt-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'src', 'cli', 'main.ts');
const stream = readStream('pc-nodefaults-paused');

const tempsOf = (name: string) => fs.readdirSync(dir).filter((n) => n.startsWith(`.${name}.tmp-`));

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts ARGS reading the stream from a pipe that stops half way, then sends `signal`. */
async function interrupt(args: string[], name: string, signal: NodeJS.Signals) {
  const child = spawn('node', ['-r', 'ts-node/register/transpile-only', CLI, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, sig) => resolve({ code, signal: sig })),
  );
  child.stdin.write(stream.subarray(0, 50_000));
  await waitFor(() => tempsOf(name).length > 0, 60_000);
  child.kill(signal);
  const r = await exited;
  child.stdin.destroy();
  return { ...r, stderr };
}

test.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)(
  'reencode interrupted by %s removes its temporary file',
  async (signal) => {
    const name = `re-${signal}.mig`;
    const r = await interrupt(['reencode', '-', '-o', path.join(dir, name)], name, signal);
    expect(r.signal).toBe(signal);
    expect(tempsOf(name)).toEqual([]);
    expect(fs.existsSync(path.join(dir, name))).toBe(false);
  },
);

test('analyze --extract interrupted by SIGINT removes its temporary directory', async () => {
  const r = await interrupt(['analyze', '-', '--extract', path.join(dir, 'x')], 'x', 'SIGINT');
  expect(r.signal).toBe('SIGINT');
  expect(tempsOf('x')).toEqual([]);
});

test('the next run on the same output removes temporaries of dead processes, not of live ones', async () => {
  const src = path.join(dir, 'in.mig');
  fs.writeFileSync(src, stream);
  const out = path.join(dir, 'out.mig');
  // A PID that cannot be running (above pid_max) and this process's parent, which is alive.
  const dead = `.out.mig.tmp-4194305-deadbeef`;
  const live = `.out.mig.tmp-${process.ppid}-cafebabe`;
  fs.writeFileSync(path.join(dir, dead), 'stale');
  fs.mkdirSync(path.join(dir, `.x2.tmp-4194305-0123`));
  fs.writeFileSync(path.join(dir, live), 'in use');
  expect((await runCli(['reencode', src, '-o', out])).code).toBe(0);
  expect(tempsOf('out.mig')).toEqual([live]);
  expect((await runCli(['analyze', src, '--extract', path.join(dir, 'x2')])).code).toBe(0);
  expect(tempsOf('x2')).toEqual([]);
});

test('tap --save interrupted by SIGINT mid-migration removes its temporary file', async () => {
  const net = await import('net');
  const { freePort } = await import('./support/qemu-tcp');
  const dest = net.createServer((s) => s.resume());
  const destPort = await new Promise<number>((resolve) =>
    dest.listen(0, '127.0.0.1', () => resolve((dest.address() as { port: number }).port)),
  );
  const port = await freePort();
  const name = 'tapped.mig';
  const child = spawn(
    'node',
    [
      '-r',
      'ts-node/register/transpile-only',
      CLI,
      'tap',
      '--listen',
      `tcp:127.0.0.1:${port}`,
      '--forward',
      `tcp:127.0.0.1:${destPort}`,
      '--save',
      path.join(dir, name),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, sig) => resolve(sig)),
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('listening on'), 60_000);
  // Half the stream, and the source stays connected: the tap is mid-migration.
  const source = net.connect(port, '127.0.0.1');
  source.on('error', () => undefined);
  source.write(stream.subarray(0, 50_000));
  await waitFor(() => tempsOf(name).length > 0 && out.includes('START ram'), 60_000);
  child.kill('SIGINT');
  expect(await exited).toBe('SIGINT');
  source.destroy();
  await new Promise<void>((resolve) => dest.close(() => resolve()));
  expect(tempsOf(name)).toEqual([]);
  expect(fs.existsSync(path.join(dir, name))).toBe(false);
});
