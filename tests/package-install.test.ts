/**
 * The package as a user gets it: `npm pack`, installed into an empty directory, then the CLI
 * (`npx vmstate`) and the library (`require('vmstate-lab')`) used from there, with a design
 * file that imports only 'vmstate-lab'.
 */
import { releases } from '../vmstate/releases';
import { spawnSync, type SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

// The children must not think they run under jest (the CLI registers ts-node only outside it).
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('JEST') && k !== 'NODE_OPTIONS'),
);

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0)
    throw new Error(`${what} exited ${r.status}:\n${r.stdout}\n${r.stderr}\n${r.error ?? ''}`);
  return r.stdout;
}

describe('npm pack, installed into an empty directory', () => {
  let dir: string;
  let tarball: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-pack-'));
    const packed = ok(run('npm', ['pack', '--json', '--pack-destination', dir], ROOT), 'npm pack');
    const [info] = JSON.parse(packed.slice(packed.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = path.join(dir, info.filename);
    fs.writeFileSync(path.join(dir, 'files.json'), JSON.stringify(info.files.map((f) => f.path)));
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true }),
    );
    // Dependencies from the local npm cache; the registry only for what the cache lacks.
    let r = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], app);
    if (r.status !== 0)
      r = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
    ok(r, 'npm install');
    fs.copyFileSync(
      path.join(ROOT, 'vmstate', 'examples', 'my-design.ts'),
      path.join(app, 'design.ts'),
    );
  }, 600_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const app = () => path.join(dir, 'app');

  it('ships the library and the CLI, and no test code', () => {
    const files = JSON.parse(fs.readFileSync(path.join(dir, 'files.json'), 'utf8')) as string[];
    expect(files).toContain('dist/vmstate/index.js');
    expect(files).toContain('dist/vmstate/index.d.ts');
    expect(files).toContain('dist/src/cli/main.js');
    expect(files.filter((f) => /(^|\/)tests\/|\.test\./.test(f))).toEqual([]);
  });

  it('npx vmstate --version prints the package version', () => {
    expect(ok(run('npx', ['vmstate', '--version'], app()), 'vmstate --version').trim()).toBe(
      pkg.version,
    );
  });

  it("vmstate check runs a design that imports only 'vmstate-lab'", () => {
    const out = ok(run('npx', ['vmstate', 'check', '7.2', 'design.ts'], app()), 'vmstate check');
    expect(out).toMatch(/^vmstate check 7\.2 -> my-design \(full\): 0 breaking/);
  }, 300_000);

  it("require('vmstate-lab') gives the DSL, the engine and the catalog", () => {
    const script = `
      const { vmsd, f, save, load, releases, defineRelease } = require('vmstate-lab');
      const d = vmsd({ name: 'dev', version_id: 1, fields: [f.bool('armed'), f.u64('expiry')] });
      const s = { armed: true, expiry: 5n };
      const back = load(d, save(d, s));
      console.log(JSON.stringify({ armed: back.armed, expiry: String(back.expiry),
        releases: Object.keys(releases).length, define: typeof defineRelease }));
    `;
    const out = JSON.parse(ok(run('node', ['-e', script], app()), 'node -e')) as Record<
      string,
      unknown
    >;
    expect(out).toEqual({
      armed: true,
      expiry: '5',
      releases: Object.keys(releases).length,
      define: 'function',
    });
  });
});
