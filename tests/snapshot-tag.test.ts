/**
 * src/cli/snapshot-tag.ts reads the V8 tag from a start-up snapshot's header and rewrites it: on
 * headers laid out by hand, and on a snapshot this node builds, which then loads under the run's
 * flags and is refused without them.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { retagged, SNAPSHOT_RUN_V8_FLAGS, snapshotTag } from '../src/cli/snapshot-tag';
import { buildTestSnapshot } from './support/build-snapshot';

/** A header as node writes it: magic, type, three length-prefixed strings, the tag; then the rest. */
function header(strings: string[], tag: number, rest = Buffer.from('v8 snapshot data')): Buffer {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x0143da19);
  const t = Buffer.alloc(4);
  t.writeUInt32LE(tag);
  return Buffer.concat([
    magic,
    Buffer.from([1]),
    ...strings.flatMap((s) => {
      const n = Buffer.alloc(8);
      n.writeUInt32LE(s.length);
      return [n, Buffer.from(s, 'latin1')];
    }),
    t,
    rest,
  ]);
}

describe("a snapshot header's V8 tag", () => {
  const blob = header(['20.20.2', 'x64', 'linux'], 0x839dbe75);

  test('is found after the version, arch and platform', () => {
    expect(snapshotTag(blob)).toEqual({ offset: 44, tag: 0x839dbe75 });
  });

  test('is rewritten in a copy, every other byte kept, only when it is the one expected', () => {
    const copy = retagged(blob, 0x839dbe75, 0x2b574ba3)!;
    expect(snapshotTag(copy)?.tag).toBe(0x2b574ba3);
    expect(Buffer.concat([copy.subarray(0, 44), copy.subarray(48)])).toEqual(
      Buffer.concat([blob.subarray(0, 44), blob.subarray(48)]),
    );
    expect(snapshotTag(blob)?.tag).toBe(0x839dbe75);
    expect(retagged(blob, 0x12345678, 0x2b574ba3)).toBeUndefined();
  });

  test('a blob that is not node-shaped has none', () => {
    const other = Buffer.from(blob);
    other.writeUInt32LE(0x0143da18, 0);
    const longString = header(['x'.repeat(65), 'x64', 'linux'], 1);
    const unprintable = header(['20.20.2', 'x\n4', 'linux'], 1);
    const hugeLength = Buffer.from(blob);
    hugeLength.writeUInt32LE(1, 9);
    for (const b of [
      other,
      longString,
      unprintable,
      hugeLength,
      blob.subarray(0, 46),
      Buffer.alloc(0),
    ])
      expect(snapshotTag(b)).toBeUndefined();
  });
});

describe('a snapshot this node builds, retagged for the run flags', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  delete env.NODE_EXTRA_CA_CERTS;
  const tagOf = (flags: readonly string[]) =>
    Number(
      spawnSync(process.execPath, [...flags, '-p', "require('v8').cachedDataVersionTag()"], {
        encoding: 'utf8',
        env,
      }).stdout,
    );

  test('loads with them, every lookup made at build time still found, and is refused without them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-snapshot-tag-'));
    try {
      // A main that hashes: property lookups in an object in dictionary mode and a Map, made at
      // build time and read at run time, which a wrong seed would miss.
      const { script, blobFile } = buildTestSnapshot(
        dir,
        `const v8 = require('v8');
         const o = {}; const m = new Map();
         for (let i = 0; i < 2000; i++) { o['k' + i] = i; m.set('m' + i, i); }
         v8.startupSnapshot.setDeserializeMainFunction(() => {
           let ok = 0;
           for (let i = 0; i < 2000; i++) if (o['k' + i] === i && m.get('m' + i) === i) ok++;
           console.log(ok);
         });`,
        env,
      );
      const blob = fs.readFileSync(blobFile);
      const built = tagOf([]);
      const run = tagOf(SNAPSHOT_RUN_V8_FLAGS);
      expect(run).not.toBe(built);
      expect(snapshotTag(blob)?.tag).toBe(built);
      const file = path.join(dir, 'retagged.blob');
      fs.writeFileSync(file, retagged(blob, built, run)!);
      const withFlags = spawnSync(
        process.execPath,
        [...SNAPSHOT_RUN_V8_FLAGS, '--snapshot-blob', file, script],
        { env, encoding: 'utf8' },
      );
      expect([withFlags.status, withFlags.stdout.trim()]).toEqual([0, '2000']);
      const without = spawnSync(process.execPath, ['--snapshot-blob', file, script], {
        env,
        encoding: 'utf8',
      });
      expect(without.status).not.toBe(0);
      expect(without.stderr).toMatch(/different V8 configurations/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
