/**
 * The entry of the V8 start-up snapshot (dist/vmstate.blob, built by `npm run build`, run by
 * bin/vmstate). Building it evaluates the CLI's modules, the analyze command's among them, and
 * the snapshot keeps the heap they made: a run starts with them loaded instead of reading,
 * compiling and evaluating the bundle. A run first checks that the bundle this snapshot was made
 * from is still the one beside it (same path, size and mtime); if not, it runs that bundle as
 * launch.js would, so a stale snapshot costs time, never a wrong answer. VMSTATE_TRACE_START=1
 * says on stderr which way a run started (snapshot, bundle or sources), for the tests and the bench.
 */
import * as fs from 'fs';
import * as Module from 'module';
import * as os from 'os';
import * as path from 'path';
import * as v8 from 'v8';
import { packageVersion } from './package-info';
import { setInvokedArgs } from './exit';
import { buildProgram, runMain } from './main';
import { tuneV8ForShortRun } from './short-run-v8';
import { servedBySnapshot } from './snapshot-commands';

/** The modules `vmstate analyze` loads on its way (its lazy imports): loaded here once, at build time. */
function preload(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  require('./run/analyze');
  require('./run/input');
  require('./run/output');
  require('./catalog-wiring');
  require('../stream/vmdesc');
  require('../stream/atomic-file');
  require('../analyze/qemu-format');
  require('../analyze/python-json');
  require('../analyze/json-format');
  require('../analyze/tree-format');
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/**
 * `vmstate analyze` of the bundled stream in each format, run at build time into a scratch
 * directory through a program of its own. The snapshot then holds the bytecode of the functions
 * on that path (argument parsing, reading, decoding, printing, writing), which a run would
 * otherwise compile from the bundle's source (with zod left out of the bundle, measured: 9-22%
 * fewer instructions for a run on a 0.2 MB stream, 10-15% less CPU time). What it leaves in module state is what any run leaves for the next stream in one
 * process (the fuzz campaign and the tests decode many in one).
 */
async function warmUp(dist: string): Promise<void> {
  const stream = path.join(dist, '..', 'streams', 'qemu-7.2', 'q35-nodefaults-paused.mig');
  if (!fs.existsSync(stream)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-warm-up-'));
  try {
    for (const format of ['qemu', 'json', 'tree'])
      await buildProgram().parseAsync(
        ['analyze', stream, '--format', format, '-o', path.join(dir, format)],
        { from: 'user' },
      );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    process.exitCode = undefined;
    setInvokedArgs(undefined);
  }
}

/** What identifies the bundle file: a run from this snapshot checks it against the one on disk. */
function bundleStamp(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${file}\u0000${s.size}\u0000${s.mtimeMs}`;
  } catch {
    return '';
  }
}

if (v8.startupSnapshot.isBuildingSnapshot()) {
  // The bundle the snapshot is made from: the entry's sibling in dist/.
  const bundle = path.resolve(path.dirname(process.argv[1]!), 'vmstate.js');
  const stamp = bundleStamp(bundle);
  packageVersion();
  preload();
  // The commands and their options, registered once here: a run only parses its arguments.
  const program = buildProgram();
  void warmUp(path.dirname(bundle));
  v8.startupSnapshot.setDeserializeMainFunction(() => {
    tuneV8ForShortRun();
    // bin/vmstate runs `node [vmstate.blob.flags] --snapshot-blob dist/vmstate.blob dist/vmstate.js ARGS`.
    const file = path.resolve(process.argv[1] ?? '');
    // The other commands' modules are not in the snapshot (snapshot-commands.ts): bin/vmstate
    // starts them through launch.js; started here anyway, they run the bundle as a stale snapshot does.
    if (stamp !== '' && bundleStamp(file) === stamp && servedBySnapshot(process.argv.slice(2))) {
      if (process.env.VMSTATE_TRACE_START) process.stderr.write('vmstate start: snapshot\n');
      runMain(process.argv, program);
    } else Module.createRequire(file)(path.join(path.dirname(file), 'src', 'cli', 'launch.js'));
  });
}
