/**
 * Loads a user's own release or design from a TypeScript (or JavaScript) module given on the
 * command line. A .ts file is first type-checked with the TypeScript compiler (its errors are
 * reported with file, line and column, not thrown as a crash), then loaded with ts-node, which
 * is registered only here, so commands that never see a .ts file stay fast.
 *
 * When the CLI runs from its build (dist/), the module's imports of project sources
 * (`../releases/release`) are answered with the built copies, so the user's descriptions and the
 * engine share one set of modules (one VMStateError class for instanceof checks).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Release } from './release';

/** The module cannot be used: unreadable, TypeScript errors, an exception while loading, or no release in it. */
export class ModuleLoadError extends Error {
  constructor(
    readonly file: string,
    message: string,
    /** `file:line:col: message` lines, for TypeScript errors. */
    readonly diagnostics: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ModuleLoadError';
  }
}

/** The directory holding package.json above this file (the source tree, or its parent of dist/). */
function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return __dirname;
    dir = up;
  }
  return dir;
}

/** This package's name: a user's module imports the library by it. */
const PACKAGE_NAME = 'vmstate-lab';

/** Where this running copy's entry is (package.json main/types), for a user's module to import. */
function ownEntry(): { readonly runtime: string; readonly types: string } {
  const root = projectRoot();
  const fromDist = __filename.startsWith(path.join(root, 'dist') + path.sep);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    main: string;
    types: string;
  };
  // From the sources (tests, ts-node) the entry is the .ts file the build compiles to main.
  const source = path.join(root, pkg.types.replace(/^dist\//, '').replace(/\.d\.ts$/, '.ts'));
  return fromDist
    ? { runtime: path.join(root, pkg.main), types: path.join(root, pkg.types) }
    : { runtime: source, types: source };
}

const compilerOptions = {
  module: 'commonjs',
  target: 'es2022',
  moduleResolution: 'node',
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
  resolveJsonModule: true,
  types: ['node'],
} as const;

/** Every node_modules/@types from `dir` up to the file system root. */
function typeRootsAbove(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', '@types');
    if (fs.existsSync(candidate)) out.push(candidate);
    if (path.dirname(d) === d) return out;
  }
}

/** TypeScript's errors for the file and what it imports, as `file:line:col: message` lines. */
export function typeErrors(file: string): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  // Type definitions come from the project (or, installed as a package, the node_modules it sits
  // in), wherever the module lives; Node's own types only where they are installed.
  const typeRoots = typeRootsAbove(projectRoot());
  const types = typeRoots.some((r) => fs.existsSync(path.join(r, 'node'))) ? ['node'] : [];
  // `import ... from 'vmstate-lab'` means this copy, wherever the module lives.
  const paths = { [PACKAGE_NAME]: [ownEntry().types] };
  const parsed = ts.convertCompilerOptionsFromJson(
    { ...compilerOptions, noEmit: true, typeRoots, types, baseUrl: path.dirname(file), paths },
    path.dirname(file),
  );
  const program = ts.createProgram([file], parsed.options);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
    if (!d.file || d.start === undefined) return `error TS${d.code}: ${text}`;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${path.relative(process.cwd(), d.file.fileName) || d.file.fileName}:${line + 1}:${character + 1}: error TS${d.code}: ${text}`;
  });
}

let tsNodeRegistered = false;
/** Files given on the command line: always loaded from their source, never from a build of it. */
const userFiles = new Set<string>();

/**
 * ts-node, transpile-only (the type check ran already), and the redirect of project imports to
 * dist/ (only to a build at least as new as its source, never for the user's own file).
 */
function registerTypeScript(): void {
  // Under jest (or ts-node itself) .ts files already load.
  if (tsNodeRegistered || process.env.JEST_WORKER_ID !== undefined || require.extensions?.['.ts'])
    return;
  tsNodeRegistered = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tsNode = require('ts-node') as typeof import('ts-node');
  tsNode.register({ transpileOnly: true, skipProject: true, compilerOptions });
  const root = projectRoot();
  const dist = path.join(root, 'dist');
  if (!__filename.startsWith(dist + path.sep)) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Module = require('module') as {
    _resolveFilename: (request: string, parent: unknown, ...rest: unknown[]) => string;
  };
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (
    request: string,
    parent: unknown,
    ...rest: unknown[]
  ): string {
    // The user's module and the CLI running it share one copy of the library.
    if (request === PACKAGE_NAME) return ownEntry().runtime;
    const found = resolve.call(this, request, parent, ...rest);
    if (
      found.endsWith('.ts') &&
      !userFiles.has(found) &&
      found.startsWith(root + path.sep) &&
      !found.startsWith(dist + path.sep) &&
      !found.includes(`${path.sep}node_modules${path.sep}`)
    ) {
      const built = path.join(dist, path.relative(root, found)).replace(/\.ts$/, '.js');
      if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= fs.statSync(found).mtimeMs)
        return built;
    }
    return found;
  };
}

/** Requires a module by path (type-checking a .ts first); throws ModuleLoadError for anything wrong with it. */
export function loadUserModule(
  file: string,
  opts: { typeCheck?: boolean } = {},
): Record<string, unknown> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isFile())
    throw new ModuleLoadError(file, `${file}: no such file`);
  if (/\.[cm]?ts$/.test(abs)) {
    if (opts.typeCheck !== false) {
      const errors = typeErrors(abs);
      if (errors.length)
        throw new ModuleLoadError(file, `${file}: ${errors.length} TypeScript error(s)`, errors);
    }
    userFiles.add(abs);
    registerTypeScript();
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(abs) as Record<string, unknown>;
  } catch (e) {
    const first = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new ModuleLoadError(file, `${file}: error while loading the module: ${first}`);
  }
}

export function isRelease(v: unknown): v is Release {
  const r = v as Partial<Release> | undefined;
  return (
    !!r &&
    typeof r === 'object' &&
    typeof r.name === 'string' &&
    Array.isArray(r.catalog) &&
    Array.isArray(r.machineTypes) &&
    typeof r.blockers === 'function'
  );
}

/** The release a module exports: its default export, or its only exported release. */
export function releaseFromModule(file: string, mod: Record<string, unknown>): Release {
  if (isRelease(mod.default)) return mod.default;
  const found = Object.entries(mod).filter(([, v]) => isRelease(v));
  if (found.length === 1) return found[0][1] as Release;
  if (found.length === 0)
    throw new ModuleLoadError(
      file,
      `${file}: exports no release (export default defineRelease({...}) from 'vmstate-lab', or a Release object)`,
    );
  throw new ModuleLoadError(
    file,
    `${file}: exports ${found.length} releases (${found.map(([k]) => k).join(', ')}); export the one to use as default`,
  );
}
