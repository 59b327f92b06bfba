import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MalformedError, TruncatedError, VMStateError } from '../src/errors';
import { fileSource } from '../src/stream/source';
import { readStreamContents } from '../src/stream/collect';
import { readStream, streamPath } from './fixtures/qemu-streams';
import { contentsOf } from './fixtures/stream-helpers';
import { runCli } from './fixtures/run-cli';

/** A QEMU 2.3-era stream: no configuration, no footers; only the description delimits sections. */
const OLD = 'pc-i440fx-2.3-paused';
const old = readStream(OLD);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-trailing-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeTemp(name: string, bytes: Uint8Array): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
}

async function eofOf(bytes: Uint8Array): Promise<number> {
  const c = await contentsOf(bytes);
  return c.eof!.offset;
}

describe('bytes after EOF', () => {
  test('a pc-i440fx-2.3 stream cut inside its VM description is exit 3 naming the offset, in every command', async () => {
    const eof = await eofOf(old);
    for (const n of [eof + 7, eof + 200, Math.floor((eof + old.length) / 2), old.length - 1]) {
      const cut = writeTemp(`cut-${n}.mig`, old.subarray(0, n));
      for (const fmt of ['json', 'qemu', 'tree']) {
        const r = await runCli(['analyze', cut, '--format', fmt]);
        expect(r.code).toBe(3);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(
          /^vmstate: .*cut-\d+\.mig: offset 0x[0-9a-f]+, vmdesc: input truncated/,
        );
      }
      const out = path.join(dir, `re-${n}.mig`);
      const re = await runCli(['reencode', cut, '-o', out]);
      expect(re.code).toBe(3);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  test('bytes after EOF that are not a VM description are an error, unless kept', async () => {
    const full = readStream('pc-nodefaults-paused');
    const eof = await eofOf(full);
    const junk = new Uint8Array(eof + 1 + 300).fill(0x41);
    junk.set(full.subarray(0, eof + 1));
    const r = await contentsOf(junk).then(
      () => 'ok',
      (e: unknown) => e,
    );
    expect(r).toBeInstanceOf(MalformedError);
    expect((r as VMStateError).offset).toBe(eof + 1);
    const kept = await contentsOf(junk, { keepTrailing: true });
    expect(kept.trailing?.data.length).toBe(300);
    const f = writeTemp('junk.mig', junk);
    expect((await runCli(['analyze', f])).code).toBe(3);
    expect((await runCli(['analyze', f, '--keep-trailing'])).code).toBe(0);
  });

  test('a corrupted description length is an error', async () => {
    const full = readStream('pc-nodefaults-paused');
    const eof = await eofOf(full);
    const shorter = full.slice();
    const len = full.length - eof - 6;
    new DataView(shorter.buffer).setUint32(eof + 2, len - 10);
    const r = await contentsOf(shorter).then(
      () => 'ok',
      (e: unknown) => e,
    );
    expect(r).toBeInstanceOf(VMStateError);
    const longer = full.slice();
    new DataView(longer.buffer).setUint32(eof + 2, len + 10);
    const f = writeTemp('longer.mig', longer);
    const e = await readStreamContents(await fileSource(f)).then(
      () => 'ok',
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(TruncatedError);
  });
});

describe('finding the VM description by its structure', () => {
  test('a description whose be32 length holds a 0x06 byte is found from the end of the file', async () => {
    const full = readStream('pc-nodefaults-paused');
    const eof = await eofOf(full);
    const json = full.subarray(eof + 6);
    // Pad the JSON with whitespace to a length of 0x00018706.
    const length = 0x00018706;
    expect(length).toBeGreaterThan(json.length);
    const padded = new Uint8Array(eof + 6 + length).fill(0x20);
    padded.set(full.subarray(0, eof + 6));
    padded.set(json, eof + 6);
    new DataView(padded.buffer).setUint32(eof + 2, length);
    const f = writeTemp('len06.mig', padded);
    const c = await readStreamContents(await fileSource(f));
    expect(c.walk.vmdescFrom).toBe('end-of-file');
    const ds = c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
    expect(ds.every((s) => s.decodedBy === 'vmdesc')).toBe(true);
    // and through a pipe (a buffered tail): the same
    const piped = await contentsOf(padded);
    expect(piped.entries.filter((e) => e.type === 'section').length).toBe(ds.length);
  });

  test('the whole 2.3-era stream still decodes by its description', async () => {
    const r = await runCli(['analyze', streamPath(OLD), '--format', 'qemu']);
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout)).length).toBeGreaterThan(10);
  });
});
