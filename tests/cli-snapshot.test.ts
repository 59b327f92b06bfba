/**
 * bin/vmstate starts the CLI from the V8 start-up snapshot `npm run build` makes
 * (src/cli/snapshot-main.ts, build-snapshot.ts) and prints exactly what the bundle prints; when
 * the snapshot is missing or stale, was built by another node, or NODE_OPTIONS is set, it starts
 * through launch.js and still prints the same. Run on a copy of the built package, whose snapshot
 * the test builds itself. VMSTATE_TRACE_START=1 makes the CLI say which way it started.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';
import { buildProgram } from '../src/cli/main';
import { SNAPSHOT_COMMANDS } from '../src/cli/snapshot-commands';
import { builtinCodeCache } from '../src/cli/snapshot-code-cache';
import { SNAPSHOT_RUN_V8_FLAGS, snapshotTag } from '../src/cli/snapshot-tag';

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const built =
  fs.existsSync(path.join(DIST, 'vmstate.js')) &&
  fs.existsSync(path.join(DIST, 'src', 'cli', 'build-snapshot.js'));
const STREAMS = path.join(ROOT, 'streams', 'qemu-7.2');
const STREAM = path.join(STREAMS, 'pc-nodefaults-running');
// The children must not think they run under jest (the CLI registers ts-node only outside it).
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JEST')));
const VERSION = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

(built ? describe : describe.skip)(
  'bin/vmstate and its start-up snapshot (npm run build first)',
  () => {
    let pkg: string;
    const bin = () => path.join(pkg, 'bin', 'vmstate');
    const blob = () => path.join(pkg, 'dist', 'vmstate.blob');
    const bundle = () => path.join(pkg, 'dist', 'vmstate.js');

    function run(args: string[], env: Record<string, string> = {}, cmd = bin()) {
      const r = spawnSync(cmd, args, {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        env: { ...ENV, NODE_OPTIONS: '', VMSTATE_TRACE_START: '1', ...env },
      });
      const start = /^vmstate start: (\S+)\n/.exec(r.stderr)?.[1];
      return {
        status: r.status,
        stdout: r.stdout,
        stderr: r.stderr.replace(/^vmstate start: \S+\n/, ''),
        start,
      };
    }

    /** What the bundle prints, started by launch.js as before the snapshot. */
    function viaBundle(args: string[]) {
      return spawnSync(
        process.execPath,
        [path.join(pkg, 'dist', 'src', 'cli', 'launch.js'), ...args],
        {
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        },
      );
    }

    function buildSnapshot(): void {
      // The build runs analyze of the package's bundled stream into a scratch directory (its
      // warm-up): it must leave nothing behind.
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-build-tmp-'));
      try {
        const r = spawnSync(
          process.execPath,
          [path.join(pkg, 'dist', 'src', 'cli', 'build-snapshot.js')],
          { encoding: 'utf8', env: { ...ENV, TMPDIR: tmp } },
        );
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(fs.existsSync(blob())).toBe(true);
        expect(fs.readdirSync(tmp)).toEqual([]);
        // Without node's code cache of its built-ins (snapshot-code-cache.ts): an empty one ends
        // the blob, and the blob it was cut from is gone.
        const snapshot = fs.readFileSync(blob());
        expect(builtinCodeCache(snapshot)).toBeUndefined();
        expect(snapshot.subarray(-8)).toEqual(Buffer.alloc(8));
        expect(
          fs.readdirSync(path.dirname(blob())).filter((f) => /\.(tmp|lean|retagged)$/.test(f)),
        ).toEqual([]);
        // Tagged for the run's V8 flags (snapshot-tag.ts), which vmstate.blob.flags lists.
        expect(fs.readFileSync(`${blob()}.flags`, 'utf8')).toBe(
          `${SNAPSHOT_RUN_V8_FLAGS.join(' ')}\n`,
        );
        expect(snapshotTag(snapshot)?.tag).toBe(versionTag(SNAPSHOT_RUN_V8_FLAGS));
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    }

    /** v8.cachedDataVersionTag() of this node with these V8 flags. */
    function versionTag(flags: readonly string[]): number {
      const r = spawnSync(
        process.execPath,
        [...flags, '-p', "require('v8').cachedDataVersionTag()"],
        {
          encoding: 'utf8',
          env: { ...ENV, NODE_OPTIONS: '' },
        },
      );
      return Number(r.stdout.trim());
    }

    beforeAll(() => {
      pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-snapshot-'));
      fs.cpSync(path.join(ROOT, 'bin'), path.join(pkg, 'bin'), { recursive: true });
      fs.cpSync(DIST, path.join(pkg, 'dist'), {
        recursive: true,
        filter: (f) => !/vmstate\.blob/.test(path.basename(f)),
      });
      fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
      // As installed: the package ships this stream, which the snapshot's build-time warm-up reads.
      const shipped = path.join('streams', 'qemu-7.2', 'q35-nodefaults-paused.mig');
      fs.mkdirSync(path.dirname(path.join(pkg, shipped)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, shipped), path.join(pkg, shipped));
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
      buildSnapshot();
    }, 120_000);

    afterAll(() => fs.rmSync(pkg, { recursive: true, force: true }));

    test('from the snapshot: the same output as the bundle, in every format, and the same exit codes', () => {
      for (const format of ['qemu', 'json', 'tree']) {
        const args = ['analyze', `${STREAM}.mig`, '--format', format];
        const r = run(args);
        expect(r.start).toBe('snapshot');
        expect(r.status).toBe(0);
        expect(r.stdout).toBe(viaBundle(args).stdout);
        if (format === 'qemu')
          expect(r.stdout).toBe(fs.readFileSync(`${STREAM}.analyze.json`, 'utf8'));
      }
      const bad = run(['analyze', '/nonexistent.mig']);
      expect(bad.start).toBe('snapshot');
      expect(bad.status).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    });

    test('a stream without a VM description (decoded by the catalog): the same output and notes as the bundle', async () => {
      // The stream cut right after its EOF byte: no VM description follows.
      const bytes = fs.readFileSync(`${STREAM}.mig`);
      const eof = (await readStreamContents(bytesSource(bytes))).eof!.offset;
      const file = path.join(pkg, 'no-vmdesc.mig');
      fs.writeFileSync(file, bytes.subarray(0, eof + 1));
      for (const format of ['qemu', 'json', 'tree']) {
        const args = ['analyze', file, '--format', format];
        const r = run(args);
        const b = viaBundle(args);
        expect(r.start).toBe('snapshot');
        expect(r.stderr).toMatch(/device catalog/);
        expect([r.status, r.stdout, r.stderr]).toEqual([b.status, b.stdout, b.stderr]);
      }
    });

    test('a closed stderr ends the run with its exit code instead of a loop of failed error reports', () => {
      const cut = path.join(pkg, 'cut.mig');
      fs.writeFileSync(cut, fs.readFileSync(`${STREAM}.mig`).subarray(0, 5000));
      const launch = `'${process.execPath}' '${path.join(pkg, 'dist', 'src', 'cli', 'launch.js')}'`;
      for (const [cli, args, code] of [
        [`'${bin()}'`, 'analyze /nonexistent.mig', 2],
        [`'${bin()}'`, `analyze '${cut}'`, 3],
        [launch, 'analyze /nonexistent.mig', 2],
        [launch, `analyze '${cut}'`, 3],
      ] as const) {
        // head -c0 exits at once: every write to the pipe fails with EPIPE.
        const r = spawnSync(
          'bash',
          ['-c', `${cli} ${args} 2>&1 >/dev/null | head -c0; echo "\${PIPESTATUS[0]}"`],
          { encoding: 'utf8', timeout: 60_000, env: { ...ENV, NODE_OPTIONS: '' } },
        );
        expect(r.stdout.trim()).toBe(String(code));
      }
    });

    test('the commands registered at build time: help, usage errors and exit codes as from the bundle', () => {
      for (const [args, start] of [
        [['--help'], 'snapshot'],
        [['analyze', '--help'], 'snapshot'],
        [['help', 'compat'], 'snapshot'],
        [['analyze'], 'snapshot'],
        [['analyze', `${STREAM}.mig`, '--format', 'x'], 'snapshot'],
        // Not analyze's: through launch.js.
        [['bogus'], 'bundle'],
        [['compat', '--runs', 'abc'], 'bundle'],
      ] as const) {
        const r = run([...args]);
        const b = viaBundle([...args]);
        expect(r.start).toBe(start);
        expect([r.status, r.stdout, r.stderr]).toEqual([b.status, b.stdout, b.stderr]);
      }
    });

    test('analyze, reencode and edit start from the snapshot, every other command through launch.js, and the snapshot holds only theirs', () => {
      const names = buildProgram().commands.map((c) => c.name());
      expect(names).toEqual(expect.arrayContaining([...SNAPSHOT_COMMANDS, 'compat', 'tap']));
      for (const name of names) {
        const r = run([name, '--help']);
        expect([name, r.start]).toEqual([
          name,
          SNAPSHOT_COMMANDS.includes(name) ? 'snapshot' : 'bundle',
        ]);
        expect(r.stdout).toBe(viaBundle([name, '--help']).stdout);
      }
      const source = fs.readFileSync(path.join(pkg, 'dist', 'vmstate-snapshot.js'), 'utf8');
      expect(source).toMatch(/function runAnalyze\(/);
      for (const f of ['runCompat', 'runTap', 'runExplore', 'runDiff', 'runPredict', 'runReleases'])
        expect([f, source.includes(`function ${f}(`)]).toEqual([f, false]);
    });

    test('a command the snapshot does not hold, started from it by hand, runs the bundle in process', () => {
      const r = run(
        [...SNAPSHOT_RUN_V8_FLAGS, '--snapshot-blob', blob(), bundle(), 'releases'],
        {},
        process.execPath,
      );
      expect(r.start).toBe('bundle');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(viaBundle(['releases']).stdout);
    });

    test('--version, from the snapshot and from the bundle', () => {
      expect(run(['--version']).stdout).toBe(`${VERSION}\n`);
      expect(run(['-V']).stdout).toBe(`${VERSION}\n`);
      expect(run(['--version'], { NODE_OPTIONS: '--no-warnings' }).stdout).toBe(`${VERSION}\n`);
    });

    test('a module loaded from node_modules at run time (ts-node for a .ts design) loads when started by bin/vmstate', () => {
      const r = run(['check', '7.2', path.join(ROOT, 'vmstate', 'examples', 'my-design.ts')]);
      expect(r.start).toBe('bundle');
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^vmstate check 7\.2 -> my-design \(full\): 0 breaking/);
    }, 120_000);

    test('through a symlink, as npm links the bin into node_modules/.bin', () => {
      const link = path.join(pkg, 'vmstate-link');
      fs.symlinkSync(bin(), link);
      const r = run(['analyze', `${STREAM}.mig`, '--format', 'tree'], {}, link);
      expect(r.start).toBe('snapshot');
      expect(r.stdout).toBe(viaBundle(['analyze', `${STREAM}.mig`, '--format', 'tree']).stdout);
    });

    test('node runs with one V8 platform thread and no NODE_EXTRA_CA_CERTS, from the snapshot and through launch.js; from the snapshot, malloc on huge pages unless the user chose', () => {
      // A node on PATH that records its arguments, NODE_EXTRA_CA_CERTS and GLIBC_TUNABLES, and
      // runs the real one.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-fake-node-'));
      const argsFile = path.join(dir, 'args');
      const certsFile = path.join(dir, 'certs');
      const tunablesFile = path.join(dir, 'tunables');
      const fake = path.join(dir, 'node');
      fs.writeFileSync(
        fake,
        `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\n` +
          `printf '%s' "\${NODE_EXTRA_CA_CERTS-unset}" > '${certsFile}'\n` +
          `printf '%s' "\${GLIBC_TUNABLES-unset}" > '${tunablesFile}'\n` +
          `exec '${process.execPath}' "$@"\n`,
        { mode: 0o755 },
      );
      const link = `${blob()}.node`;
      const env = {
        PATH: `${dir}:${process.env.PATH ?? ''}`,
        NODE_EXTRA_CA_CERTS: path.join(dir, 'no-such-bundle.pem'),
        GLIBC_TUNABLES: 'glibc.malloc.arena_max=2',
      };
      const tunables = () => fs.readFileSync(tunablesFile, 'utf8');
      const args = ['analyze', `${STREAM}.mig`, '--format', 'qemu'];
      const expected = fs.readFileSync(`${STREAM}.analyze.json`, 'utf8');
      try {
        const viaLaunch = run(args, env);
        expect(viaLaunch.start).toBe('bundle');
        expect(viaLaunch.stdout).toBe(expected);
        expect(fs.readFileSync(certsFile, 'utf8')).toBe('unset');
        expect(tunables()).toBe('glibc.malloc.arena_max=2');
        const [pool, script] = fs.readFileSync(argsFile, 'utf8').split('\n');
        expect([pool, path.resolve(script!)]).toEqual([
          '--v8-pool-size=1',
          path.join(pkg, 'dist', 'src', 'cli', 'launch.js'),
        ]);
        // The snapshot is used with the node that built it: here the fake one, which runs it.
        fs.rmSync(link);
        fs.symlinkSync(fake, link);
        const fromSnapshot = run(args, env);
        expect(fromSnapshot.start).toBe('snapshot');
        expect(fromSnapshot.stdout).toBe(expected);
        expect(fs.readFileSync(certsFile, 'utf8')).toBe('unset');
        expect(tunables()).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
        expect(run(args, { ...env, GLIBC_TUNABLES: '' }).stdout).toBe(expected);
        expect(tunables()).toBe('glibc.malloc.hugetlb=1');
        expect(run(args, { ...env, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).stdout).toBe(
          expected,
        );
        expect(tunables()).toBe('glibc.malloc.hugetlb=0');
        expect(fs.readFileSync(argsFile, 'utf8').split('\n').slice(0, 3)).toEqual([
          '--v8-pool-size=1',
          ...SNAPSHOT_RUN_V8_FLAGS,
          '--snapshot-blob',
        ]);
      } finally {
        fs.rmSync(link, { force: true });
        fs.symlinkSync(fs.realpathSync(process.execPath), link);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    describe('falls back to the bundle, printing the same', () => {
      const args = ['analyze', path.join(STREAMS, 'q35-nodefaults-paused.mig'), '--format', 'json'];
      let expected: string;
      beforeAll(() => {
        expected = viaBundle(args).stdout;
        expect(expected.length).toBeGreaterThan(1000);
      });
      afterEach(() => {
        const earlier = new Date(Date.now() - 10_000);
        fs.utimesSync(bundle(), earlier, earlier);
        buildSnapshot();
      }, 120_000);

      test('when NODE_OPTIONS is set (a V8 flag there would make node refuse the snapshot)', () => {
        const r = run(args, { NODE_OPTIONS: '--no-warnings' });
        expect(r.start).toBe('bundle');
        expect(r.stdout).toBe(expected);
      });

      test('when the snapshot is missing', () => {
        fs.rmSync(blob());
        const r = run(args);
        expect(r.start).toBe('bundle');
        expect(r.stdout).toBe(expected);
      });

      test('when the bundle is newer than the snapshot', () => {
        const later = new Date(fs.statSync(blob()).mtimeMs + 5000);
        fs.utimesSync(bundle(), later, later);
        const r = run(args);
        expect(r.start).toBe('bundle');
        expect(r.stdout).toBe(expected);
      });

      test('when the bundle changed but looks older (the snapshot itself notices, in process)', () => {
        const before = fs.statSync(bundle());
        fs.appendFileSync(bundle(), '\n// changed\n');
        fs.utimesSync(bundle(), before.atime, before.mtime);
        const r = run(args);
        expect(r.start).toBe('bundle');
        expect(r.stdout).toBe(expected);
        const bad = run(['analyze', '/nonexistent.mig']);
        expect(bad.status).toBe(2);
      });

      test('when the snapshot does not say which V8 flags it runs with (built before it had to)', () => {
        fs.rmSync(`${blob()}.flags`);
        const r = run(args);
        expect(r.start).toBe('bundle');
        expect(r.stdout).toBe(expected);
      });

      test('the snapshot, retagged, is refused without its flags: node would have rehashed it', () => {
        const r = run(['--snapshot-blob', blob(), bundle(), 'help'], {}, process.execPath);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/different V8 configurations/);
      });

      test('when the node on PATH is not the one that built the snapshot', () => {
        const link = `${blob()}.node`;
        fs.rmSync(link);
        fs.symlinkSync('/bin/sh', link);
        const r = run(args);
        expect(r.start).toBe('bundle');
        expect(r.stdout).toBe(expected);
      });
    });
  },
);
