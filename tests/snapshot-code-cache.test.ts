/**
 * src/cli/snapshot-code-cache.ts finds the built-in code cache node ends a user-land snapshot
 * with, and drops it: on blobs laid out by hand, and on a snapshot this node builds.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { builtinCodeCache, withoutBuiltinCodeCache } from '../src/cli/snapshot-code-cache';
import { buildTestSnapshot } from './support/build-snapshot';

function length64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(n, 0);
  return b;
}

/** A code cache as node writes it: the count, then each id and data with their lengths. */
function codeCache(entries: [string, Buffer][]): Buffer {
  return Buffer.concat([
    length64(entries.length),
    ...entries.flatMap(([id, data]) => [
      length64(id.length),
      Buffer.from(id, 'latin1'),
      length64(data.length),
      data,
    ]),
  ]);
}

describe('the built-in code cache at the end of a snapshot blob', () => {
  // A snapshot's own bytes: counts and lengths that lead nowhere, and the cache's own
  // bytes (a length, an id) seen out of place.
  const snapshot = Buffer.concat([
    Buffer.from('snapshot proper'),
    length64(2),
    length64(3),
    Buffer.from('fsX'),
    Buffer.alloc(40, 0xff),
    length64(0),
  ]);
  const entries: [string, Buffer][] = [
    ['fs', Buffer.alloc(300, 7)],
    ['internal/util/inspect', Buffer.from(codeCache([['x', Buffer.alloc(1)]]))],
    ['internal/deps/cjs-module-lexer/lexer', Buffer.alloc(0)],
  ];
  const blob = Buffer.concat([snapshot, codeCache(entries)]);

  test('is found where it begins, with its modules', () => {
    expect(builtinCodeCache(blob)).toEqual({
      offset: snapshot.length,
      modules: ['fs', 'internal/util/inspect', 'internal/deps/cjs-module-lexer/lexer'],
    });
  });

  test('is replaced by an empty one, the snapshot before it kept byte for byte', () => {
    expect(withoutBuiltinCodeCache(blob)).toEqual(Buffer.concat([snapshot, length64(0)]));
  });

  test('a blob that does not end with one is left alone', () => {
    const cut = blob.subarray(0, blob.length - 1);
    const longer = Buffer.concat([blob, Buffer.alloc(1)]);
    const badId = Buffer.from(blob);
    badId[snapshot.length + 16] = 0x20; // "fs" -> " s"
    const empty = Buffer.concat([snapshot, length64(0)]);
    for (const b of [cut, longer, badId, empty, snapshot, Buffer.alloc(0)]) {
      expect(builtinCodeCache(b)).toBeUndefined();
      expect(withoutBuiltinCodeCache(b)).toBeUndefined();
    }
  });

  test("this node's own snapshot ends with one, of its built-ins, and runs without it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-code-cache-'));
    try {
      const env = { ...process.env, NODE_OPTIONS: '' };
      const { script, blobFile } = buildTestSnapshot(
        dir,
        `require('v8').startupSnapshot.setDeserializeMainFunction(() => console.log(require('fs').existsSync(process.argv[2])));`,
        env,
      );
      const whole = fs.readFileSync(blobFile);
      const cache = builtinCodeCache(whole)!;
      expect(cache.modules.length).toBeGreaterThan(100);
      expect(cache.modules).toEqual(expect.arrayContaining(['fs', 'internal/errors', 'buffer']));
      const leanFile = path.join(dir, 'lean.blob');
      fs.writeFileSync(leanFile, withoutBuiltinCodeCache(whole)!);
      expect(fs.statSync(leanFile).size).toBe(cache.offset + 8);
      for (const [file, expected] of [
        [script, 'true'],
        [path.join(dir, 'missing'), 'false'],
      ]) {
        const r = spawnSync(process.execPath, ['--snapshot-blob', leanFile, script, file], {
          env,
          encoding: 'utf8',
        });
        expect(r.stderr).toBe('');
        expect([r.status, r.stdout.trim()]).toEqual([0, expected]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
