/**
 * `npm run build`'s last step: the V8 start-up snapshot bin/vmstate starts from. It bundles
 * snapshot-main.ts into dist/vmstate-snapshot.js, builds the snapshot from it and writes, in dist/: vmstate.blob
 * (whole or not at all), vmstate.blob.node (a link to the node binary that built it: a snapshot
 * only loads in the node that made it), vmstate.blob.version (what `--version` prints) and
 * vmstate.blob.flags (the V8 flags a run from it takes: --no-rehash-snapshot, snapshot-tag.ts,
 * or none). A node that cannot build one leaves no snapshot and a warning: the CLI then starts
 * through launch.js.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { build, type Plugin } from 'esbuild';
import { packageVersion } from './package-info';
import { withoutBuiltinCodeCache } from './snapshot-code-cache';
import { NOT_IN_SNAPSHOT } from './snapshot-commands';
import { retagged, SNAPSHOT_RUN_V8_FLAGS } from './snapshot-tag';

const dist = path.resolve(__dirname, '..', '..');

/**
 * Loaded from node_modules at run time, as in package.json's bundle of bin.js; and zod, which no
 * module the snapshot evaluates uses (only compat and release-state input): bundled, its 730 KB
 * (380 KB of them locales) were half of the source string every run deserializes.
 */
const EXTERNAL = [
  'typescript',
  'ts-node',
  'fast-check',
  'binary-parser',
  'cli-progress',
  'playwright-core',
  'zod',
];

/**
 * While a snapshot is built, `require` loads only node's built-in modules, and the snapshot keeps
 * that function: the bundle's `require` of an external module goes through one made at run time
 * for the bundle's path instead.
 */
const REQUIRE_AT_RUN_TIME = `var require = (function (builtin) {
  var path = builtin('path'), Module = builtin('module'), user;
  return function (id) {
    if (Module.isBuiltin(id)) return builtin(id);
    user = user || Module.createRequire(path.resolve(process.argv[1]));
    return user(id);
  };
})(require);`;

/**
 * The modules of the commands the snapshot does not serve, as the command files import them: each
 * is replaced by a module that throws (snapshot-main.ts starts those commands through the bundle),
 * so neither their source nor anything only they import is in the heap every run deserializes.
 */
const leaveOutOtherCommands: Plugin = {
  name: 'leave-out-other-commands',
  setup(build) {
    build.onResolve({ filter: /^\.\.\// }, (args) =>
      path.basename(args.resolveDir) === 'commands' && NOT_IN_SNAPSHOT.includes(args.path)
        ? { path: args.path, namespace: 'not-in-snapshot' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'not-in-snapshot' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the start-up snapshot (snapshot-commands.ts)`)});`,
      loader: 'js',
    }));
  },
};

/** The bundle the snapshot is made from, and the stream a check decodes with it. */
const bundle = path.join(dist, 'vmstate.js');
const checkStream = path.join(dist, '..', 'streams', 'qemu-7.2', 'q35-nodefaults-paused.mig');

/** The environment of the node that builds and checks the snapshot: no V8 flags but its own. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/**
 * What a run from `blob` with these V8 flags prints for the check stream (or for help without
 * it), as bin/vmstate starts it.
 */
function checkRun(blob: string, flags: readonly string[] = []): string {
  const args = fs.existsSync(checkStream) ? ['analyze', checkStream, '--format', 'qemu'] : ['help'];
  const r = spawnSync(process.execPath, [...flags, '--snapshot-blob', blob, bundle, ...args], {
    env: cleanEnv({ VMSTATE_TRACE_START: '1' }),
    encoding: 'latin1',
    maxBuffer: 1 << 28,
  });
  return `${r.status}\n${r.stderr}\n${r.stdout}`;
}

/** v8.cachedDataVersionTag() of this node run with these V8 flags. */
function versionTag(flags: readonly string[]): number | undefined {
  const r = spawnSync(process.execPath, [...flags, '-p', "require('v8').cachedDataVersionTag()"], {
    env: cleanEnv(),
    encoding: 'utf8',
  });
  const tag = Number(r.stdout.trim());
  return r.status === 0 && Number.isInteger(tag) ? tag : undefined;
}

/**
 * Puts `bytes` in place of the blob at `file` when a run from them, with `flags`, starts from the
 * snapshot and prints `expected` (what a run from the blob as built printed); otherwise the file
 * stays as it is. Whether it did.
 */
function replaceIfSameRun(
  file: string,
  bytes: Uint8Array,
  flags: readonly string[],
  expected: string,
  suffix: string,
): boolean {
  if (!expected.includes('vmstate start: snapshot\n')) return false;
  const candidate = `${file}${suffix}`;
  try {
    fs.writeFileSync(candidate, bytes);
    if (checkRun(candidate, flags) !== expected) return false;
    fs.renameSync(candidate, file);
    return true;
  } finally {
    fs.rmSync(candidate, { force: true });
  }
}

/**
 * Drops node's built-in code cache from the snapshot at `file` (snapshot-code-cache.ts) when it
 * has one, and only when the blob without it prints what the whole blob printed (`expected`):
 * otherwise the whole blob stays.
 */
function leaveOutBuiltinCodeCache(file: string, expected: string): void {
  const lean = withoutBuiltinCodeCache(fs.readFileSync(file));
  if (lean && !replaceIfSameRun(file, lean, [], expected, '.lean'))
    process.stderr.write(
      "warning: the start-up snapshot keeps node's code cache (a run without it differed)\n",
    );
}

/**
 * Makes the snapshot at `file` load under SNAPSHOT_RUN_V8_FLAGS (snapshot-tag.ts) and returns
 * them, only when a run with them prints what the blob as built printed (`expected`); otherwise
 * leaves the blob as it is and returns no flags.
 */
function retagForRunFlags(file: string, expected: string): readonly string[] {
  const built = versionTag([]);
  const run = versionTag(SNAPSHOT_RUN_V8_FLAGS);
  const blob =
    built !== undefined && run !== undefined
      ? retagged(fs.readFileSync(file), built, run)
      : undefined;
  if (blob && replaceIfSameRun(file, blob, SNAPSHOT_RUN_V8_FLAGS, expected, '.retagged'))
    return SNAPSHOT_RUN_V8_FLAGS;
  process.stderr.write(
    `warning: the start-up snapshot rehashes at every run (it could not be made to load with ${SNAPSHOT_RUN_V8_FLAGS.join(' ')})\n`,
  );
  return [];
}

// esbuild runs plugins only in its asynchronous API.
async function main(): Promise<void> {
  await build({
    entryPoints: [path.join(dist, 'src', 'cli', 'snapshot-main.js')],
    outfile: path.join(dist, 'vmstate-snapshot.js'),
    bundle: true,
    platform: 'node',
    format: 'iife',
    target: 'node20',
    minifyWhitespace: true,
    external: EXTERNAL,
    banner: { js: REQUIRE_AT_RUN_TIME },
    plugins: [leaveOutOtherCommands],
    logLevel: 'warning',
  });

  const blob = path.join(dist, 'vmstate.blob');
  const tmp = `${blob}.${process.pid}.tmp`;
  for (const f of [blob, `${blob}.node`, `${blob}.version`, `${blob}.flags`])
    fs.rmSync(f, { force: true });
  // Built with V8's defaults, so that the building process rehashes node's own snapshot with a
  // seed drawn at random, the one runs keep (snapshot-tag.ts).
  const r = spawnSync(
    process.execPath,
    ['--snapshot-blob', tmp, '--build-snapshot', path.join(dist, 'vmstate-snapshot.js')],
    { cwd: dist, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: cleanEnv() },
  );
  if (r.status === 0 && fs.existsSync(tmp)) {
    // What a run from the blob as built prints: each step below keeps its change only if a run
    // after it prints the same.
    const expected = checkRun(tmp);
    leaveOutBuiltinCodeCache(tmp, expected);
    const flags = retagForRunFlags(tmp, expected);
    fs.writeFileSync(`${blob}.flags`, `${flags.join(' ')}\n`);
    fs.writeFileSync(`${blob}.version`, `${packageVersion()}\n`);
    fs.symlinkSync(fs.realpathSync(process.execPath), `${blob}.node`);
    fs.renameSync(tmp, blob);
  } else {
    fs.rmSync(tmp, { force: true });
    const why = (r.stderr ?? '').trim().split('\n').pop() || r.error?.message || `exit ${r.status}`;
    process.stderr.write(`warning: no start-up snapshot (${why}); vmstate starts without it\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exitCode = 1;
});
