#!/usr/bin/env node
/**
 * The installed `vmstate` executable. It runs the single-file bundle dist/vmstate.js (built by
 * `npm run build` with esbuild: one file to read instead of some forty modules to resolve) through
 * a V8 code cache kept beside it, so a run starts from compiled code instead of parsing the
 * bundle. Without the bundle (running from the source tree) it is plain bin.ts. bin/vmstate starts
 * the CLI from a V8 start-up snapshot instead when one is there (snapshot-main.ts), else runs this.
 */
import * as fs from 'fs';
import * as Module from 'module';
import * as path from 'path';
import * as vm from 'vm';
import { packageVersion } from './package-info';
import { tuneV8ForShortRun } from './short-run-v8';

const args = process.argv.slice(2);
const bundle = path.resolve(__dirname, '..', '..', 'vmstate.js');

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${packageVersion()}\n`);
} else if (!fs.existsSync(bundle)) {
  tuneV8ForShortRun();
  traceStart('sources');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./bin');
} else {
  tuneV8ForShortRun();
  traceStart('bundle');
  runBundle(bundle);
}

/** VMSTATE_TRACE_START=1: which way the CLI started, on stderr (snapshot-main.ts says "snapshot"). */
function traceStart(how: string): void {
  if (process.env.VMSTATE_TRACE_START) process.stderr.write(`vmstate start: ${how}\n`);
}

function runBundle(file: string): void {
  const cacheFile = `${file}.${process.version}.cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache yet: made at exit
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, 'utf8').replace(/^#!.*/, '')}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  if (!cachedData || script.cachedDataRejected)
    process.once('exit', () => {
      // At exit the cache also holds the functions this run compiled. Written whole or not at all.
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch {
        fs.rmSync(tmp, { force: true });
      }
    });
  const mod = { exports: {} };
  (script.runInThisContext() as (...a: unknown[]) => void)(
    mod.exports,
    Module.createRequire(file),
    mod,
    file,
    path.dirname(file),
  );
}
