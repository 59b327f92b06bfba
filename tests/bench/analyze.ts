/**
 * `vmstate analyze` as a whole process: wall time, MB/s and peak RSS on the real QEMU streams and
 * on a large synthetic stream, against a baseline measured in the same run (a node process that
 * only reads the file). With ANALYZE_MIGRATION_PY pointing to QEMU's scripts/analyze-migration.py
 * (never committed here) the script runs on the same files and the ratios are printed too.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSyntheticStream } from '../../src/stream/synth';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const PRELOAD = path.join(__dirname, 'analyze-rss-preload.js');
const STREAMS = path.join(ROOT, 'streams', 'qemu-7.2');

interface Run {
  seconds: number;
  rssKiB: number;
}

/** Median wall time and the largest peak RSS over `runs` runs of a command. */
function timeProcess(
  cmd: string,
  args: string[],
  runs: number,
  rssFrom: 'preload' | 'python',
  cwd?: string,
): Run {
  const times: number[] = [];
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    const rssFile = path.join(os.tmpdir(), `vmstate-bench-rss-${process.pid}`);
    fs.rmSync(rssFile, { force: true });
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, VMSTATE_BENCH_RSS_FILE: rssFile },
      maxBuffer: 1 << 20,
      cwd,
    });
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
    if (r.status !== 0)
      throw new Error(
        `${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString().slice(0, 500)}`,
      );
    if (rssFrom === 'preload' && fs.existsSync(rssFile))
      rss = Math.max(rss, Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n')[0]));
    if (rssFrom === 'python')
      rss = Math.max(rss, Number(r.stderr.toString().trim().split('\n').pop()));
    fs.rmSync(rssFile, { force: true });
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)], rssKiB: rss };
}

/** A child that only reads the file in 1 MiB chunks: the floor any whole-process analyzer stands on. */
const READ_ONLY = `const fs=require('fs');const fd=fs.openSync(process.argv[1],'r');const b=Buffer.alloc(1<<20);while(fs.readSync(fd,b)>0);`;

/** Runs QEMU's script under a wrapper that prints the child's peak RSS (KiB) on stderr. */
function pythonWrapped(script: string, file: string, extra: string[] = []): string[] {
  const wrapper =
    'import resource,subprocess,sys\n' +
    'subprocess.run([sys.executable, sys.argv[1], "-f", sys.argv[2]] + sys.argv[3:], stdout=subprocess.DEVNULL, check=True)\n' +
    'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n';
  return ['-c', wrapper, script, file, ...extra];
}

/** The script's run, or the reason it failed: it cannot read several kinds of stream that we can. */
function tryScript(run: () => Run): Run | string {
  try {
    return run();
  } catch (e) {
    const lines = String((e as Error).message)
      .split('\n')
      .filter((l) => /Exception|Error/.test(l));
    return lines[lines.length - 1]?.trim() ?? 'failed';
  }
}

function row(name: string, bytes: number, r: Run, baseline: Run, other?: Run): string {
  const mbps = bytes / r.seconds / 1e6;
  const cells = [
    name.padEnd(34),
    `${(r.seconds * 1000).toFixed(0).padStart(7)} ms`,
    `${mbps.toFixed(1).padStart(8)} MB/s`,
    `${(r.rssKiB / 1024).toFixed(1).padStart(7)} MiB peak`,
    `${(r.seconds / baseline.seconds).toFixed(2).padStart(6)}x read-only time`,
  ];
  if (other)
    cells.push(
      `${(other.seconds / r.seconds).toFixed(2).padStart(6)}x faster than the script, ${(other.rssKiB / Math.max(1, r.rssKiB)).toFixed(2)}x its memory ratio`,
    );
  return '  ' + cells.join('  ');
}

export async function benchAnalyze(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const script = process.env.ANALYZE_MIGRATION_PY;
  const python = process.env.PYTHON ?? 'python3';
  const runs = Number(process.env.BENCH_ANALYZE_RUNS ?? 5);
  console.log(
    '\nvmstate analyze, whole process (median of',
    runs,
    'runs; peak RSS is the largest seen)',
  );
  if (!script)
    console.log(
      "  (set ANALYZE_MIGRATION_PY to QEMU's scripts/analyze-migration.py to compare with it)",
    );

  const files: Array<[string, string]> = fs
    .readdirSync(STREAMS)
    .filter((f) => f.endsWith('.mig'))
    .map((f) => [f, path.join(STREAMS, f)]);

  const bigMiB = Number(process.env.BENCH_ANALYZE_MB ?? 1024);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-bench-'));
  try {
    const big = path.join(tmp, `synthetic-${bigMiB}MiB.mig`);
    await writeSyntheticStream(big, { ramBytes: bigMiB * 1024 * 1024, dataEvery: 2 });
    files.push([`synthetic ${bigMiB} MiB RAM (half data pages)`, big]);

    for (const [name, file] of files) {
      const bytes = fs.statSync(file).size;
      const n = bytes > 64 << 20 ? Math.min(runs, 3) : runs;
      const baseline = timeProcess(
        process.execPath,
        ['-r', PRELOAD, '-e', READ_ONLY, file],
        n,
        'preload',
      );
      const ours = timeProcess(
        process.execPath,
        ['-r', PRELOAD, CLI, 'analyze', file, '--format', 'qemu'],
        n,
        'preload',
      );
      const json = timeProcess(
        process.execPath,
        ['-r', PRELOAD, CLI, 'analyze', file, '--format', 'json'],
        n,
        'preload',
      );
      const theirs = script
        ? tryScript(() => timeProcess(python, pythonWrapped(script, file), n, 'python'))
        : undefined;
      const extractDir = fs.mkdtempSync(path.join(tmp, 'x-'));
      const ourExtract = timeProcess(
        process.execPath,
        ['-r', PRELOAD, CLI, 'analyze', file, '--extract', path.join(extractDir, 'out')],
        1,
        'preload',
      );
      fs.rmSync(extractDir, { recursive: true, force: true });
      let theirExtract: Run | string | undefined;
      if (script) {
        // The script's -x writes into the current directory.
        const cwd = fs.mkdtempSync(path.join(tmp, 'py-'));
        theirExtract = tryScript(() =>
          timeProcess(python, pythonWrapped(script, file, ['-x']), 1, 'python', cwd),
        );
        fs.rmSync(cwd, { recursive: true, force: true });
      }
      const ran = (r: Run | string | undefined): Run | undefined =>
        typeof r === 'object' ? r : undefined;
      console.log(`${name} (${(bytes / 1048576).toFixed(2)} MiB)`);
      console.log(row('read-only baseline (node)', bytes, baseline, baseline));
      console.log(row('vmstate analyze --format qemu', bytes, ours, baseline, ran(theirs)));
      console.log(row('vmstate analyze --format json', bytes, json, baseline));
      console.log(row('vmstate analyze --extract', bytes, ourExtract, baseline, ran(theirExtract)));
      if (typeof theirs === 'object')
        console.log(row('analyze-migration.py', bytes, theirs, baseline));
      else if (theirs) console.log(`  analyze-migration.py fails on this stream: ${theirs}`);
      if (typeof theirExtract === 'object')
        console.log(row('analyze-migration.py -x', bytes, theirExtract, baseline));
      if (file === big) {
        const out = path.join(tmp, 'copy.mig');
        const re = timeProcess(
          process.execPath,
          ['-r', PRELOAD, CLI, 'reencode', file, '-o', out],
          n,
          'preload',
        );
        console.log(row('vmstate reencode', bytes, re, baseline));
        fs.rmSync(out, { force: true });
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchAnalyze().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
