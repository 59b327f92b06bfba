/**
 * The progress bar: drawn on stderr when stderr is a terminal and the input is large, never
 * otherwise (so scripts and pipes get clean output). Runs the built CLI under `script`, which
 * gives it a pseudo-terminal.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSyntheticStream } from '../src/stream/synth';
import { qemuRequired } from './support/qemu';

const CLI = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
const haveScript = spawnSync('script', ['--version']).status === 0;
// CI (VMSTATE_REQUIRE_QEMU set) builds the CLI and has util-linux's `script`: never skip there.
const required = qemuRequired();

let dir: string;
let big: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-progress-'));
  big = path.join(dir, 'big.mig');
  await writeSyntheticStream(big, { ramBytes: 128 * 1024 * 1024, dataEvery: 1 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

((haveScript && fs.existsSync(CLI)) || required ? test : test.skip)(
  'a large stream on a terminal gets a bar on stderr; stdout stays clean',
  () => {
    const errFile = path.join(dir, 'err.txt');
    const outFile = path.join(dir, 'out.txt');
    // stdout goes to a file, stderr stays on the pseudo-terminal, whose output `script` records.
    const cmd = `node ${JSON.stringify(CLI)} analyze ${JSON.stringify(big)} --format qemu > ${JSON.stringify(outFile)}`;
    const r = spawnSync('script', ['-qec', cmd, errFile], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const tty = fs.readFileSync(errFile, 'utf8');
    expect(tty).toMatch(/\d+% \| \d+\/\d+ MiB/);
    expect(tty).toContain('100%');
    const out = fs.readFileSync(outFile, 'utf8');
    expect(out).not.toMatch(/MiB/);
    expect(JSON.parse(out)).toHaveProperty(['ram (2)']);
  },
);

((haveScript && fs.existsSync(CLI)) || required ? test : test.skip)(
  '--no-progress: no bar on a terminal either (analyze, explore)',
  () => {
    for (const cmd of [
      ['analyze', big, '--format', 'qemu', '--no-progress'],
      ['explore', big, '-o', path.join(dir, 'page.html'), '--no-progress'],
    ]) {
      const errFile = path.join(dir, 'err-quiet.txt');
      const line = `node ${[CLI, ...cmd].map((a) => JSON.stringify(a)).join(' ')} > /dev/null`;
      const r = spawnSync('script', ['-qec', line, errFile], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status).toBe(0);
      expect(fs.readFileSync(errFile, 'utf8')).not.toMatch(/%|MiB/);
    }
    // Without the flag, explore draws one on that terminal (so the check above can fail).
    const errFile = path.join(dir, 'err-explore.txt');
    const line = `node ${JSON.stringify(CLI)} explore ${JSON.stringify(big)} -o ${JSON.stringify(path.join(dir, 'page2.html'))}`;
    expect(spawnSync('script', ['-qec', line, errFile], { timeout: 120_000 }).status).toBe(0);
    expect(fs.readFileSync(errFile, 'utf8')).toMatch(/\d+% \| \d+\/\d+ MiB/);
  },
);

(fs.existsSync(CLI) || required ? test : test.skip)('without a terminal there is no bar', () => {
  const r = spawnSync(process.execPath, [CLI, 'analyze', big, '--format', 'qemu'], {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20,
  });
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
});
