/**
 * The built CLI bundle (dist/vmstate.js through launch.ts and its code cache) prints what QEMU's
 * analyze-migration.py printed for a bundled stream, and `npm run bench`'s analyze benchmark
 * runs (its tiny mode: the bundled streams once). Speed is the bench's business, not a test's.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const DIST = path.join(__dirname, '..', 'dist');
const LAUNCH = path.join(DIST, 'src', 'cli', 'launch.js');
const ROOT = path.join(__dirname, '..');
const BENCH = path.join(ROOT, 'dist-bench', 'tests', 'bench', 'run.js');
const built = fs.existsSync(LAUNCH) && fs.existsSync(path.join(DIST, 'vmstate.js'));
const STREAM = path.join(__dirname, '..', 'streams', 'qemu-7.2', 'pc-nodefaults-running');

(built ? describe : describe.skip)('the built CLI (run npm run build first)', () => {
  test('the bundle prints the script output of a real stream', () => {
    const r = spawnSync(
      process.execPath,
      [LAUNCH, 'analyze', `${STREAM}.mig`, '--format', 'qemu'],
      {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(fs.readFileSync(`${STREAM}.analyze.json`, 'utf8'));
  });

  test("npm start's main job runs from the bundle (the compat matrix on worker threads)", () => {
    const r = spawnSync(process.execPath, [LAUNCH, 'main'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/subsections +keeps the property with every release/);
  }, 320_000);

  test('--version and a bad path', () => {
    const v = spawnSync(process.execPath, [LAUNCH, '--version'], { encoding: 'utf8' });
    expect(v.stdout.trim()).toBe(
      (
        JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version,
    );
    const bad = spawnSync(process.execPath, [LAUNCH, 'analyze', '/nonexistent.mig'], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('the analyze benchmark runs in its tiny mode and prints its goals', () => {
    // The bench builds apart from the library (dist-bench/, as `npm run bench` does), every
    // time: a dist-bench left from an earlier tree would test the bench as it was (incremental,
    // about 3 s when nothing changed).
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const b = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.bench.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(b.stdout + b.stderr).toBe('');
    const r = spawnSync(process.execPath, [BENCH, 'analyze'], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_TINY: '1' },
      timeout: 300_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('bundled pc-nodefaults-running.mig');
    expect(r.stdout).toMatch(
      /goal vmstate --version vs node -e 0: [\d.]+x \(goal <= 1.2x\) {2}(OK|BELOW GOAL)/,
    );
    expect(r.stdout).toMatch(/goal --format qemu peak RSS [\d.]+ MiB/);
    // The start-up goal, measured apart from the table (one round in the tiny mode).
    expect(r.stdout).toMatch(
      /goal --format qemu \d+ ms vs node -e 0 \+ 30 ms = \d+ ms, medians of 1 alternating rounds of the two \(the table's: \d+ vs \d+ \+ 30\) {2}(OK|BELOW GOAL)/,
    );
  }, 620_000);
});
