import * as path from 'path';

/**
 * Where `npm install` (node-gyp, binding.gyp) puts the native modules, seen from a module one
 * folder below src/ (ts-node, jest), from dist/src/<folder> and from dist/ (the bundle).
 */
const CANDIDATES = [
  ['..', '..', 'build', 'Release'],
  ['..', '..', '..', 'build', 'Release'],
  ['..', 'build', 'Release'],
];

const loaded = new Map<string, unknown>();

/**
 * The native module `name` (build/Release/<name>.node) on Linux, or null when it was not built
 * (no C compiler at install) or `disableVar` in the environment is `off`. Loaded once, on first
 * use, never at start-up (a start-up snapshot cannot hold it).
 */
export function loadNativeModule<T>(name: string, disableVar: string): T | null {
  if (process.env[disableVar] === 'off' || process.platform !== 'linux') return null;
  if (loaded.has(name)) return loaded.get(name) as T | null;
  let mod: T | null = null;
  for (const parts of CANDIDATES) {
    try {
      // A path computed at run time: the bundler leaves this require to node.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(path.join(__dirname, ...parts, `${name}.node`)) as T;
      break;
    } catch {
      // not built there
    }
  }
  loaded.set(name, mod);
  return mod;
}
