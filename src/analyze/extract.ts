import * as fs from 'fs';
import * as path from 'path';
import { inflateSync } from 'zlib';
import { MalformedError, UnsupportedError } from '../errors';
import { readStreamContents, type StreamContents } from '../stream/collect';
import type { RamRecord } from '../stream/ram';
import type { ChunkSource } from '../stream/source';
import type { WalkOptions } from '../stream/walk';
import { writeDirAtomically } from '../stream/atomic-file';
import { pythonJson } from './python-json';
import { qemuDescValue, qemuStateDict } from './qemu-format';

export interface ExtractResult {
  /** Written files, relative to the directory, in the order analyze-migration.py -x prints them. */
  files: string[];
  contents: StreamContents;
}

/**
 * What `analyze-migration.py -x` writes: desc.json (the vmdesc re-printed), one file per RAM
 * block (named by the block id, leading '/' dropped, sized to the block, pages at their offsets)
 * and state.json. Everything goes into a temporary directory renamed to `dir` at the end, so a
 * failure leaves nothing behind.
 */
export async function extractStream(
  source: ChunkSource,
  dir: string,
  opts: WalkOptions = {},
): Promise<ExtractResult> {
  return writeDirAtomically(dir, async (tmp) => {
    const blocks = new BlockFiles(tmp);
    let contents: StreamContents;
    try {
      contents = await readStreamContents(source, {
        ...opts,
        onRam: (r, pageSize) => blocks.record(r, pageSize),
      });
    } finally {
      blocks.close();
    }
    const files: string[] = [];
    if (contents.vmdesc) {
      fs.writeFileSync(
        path.join(tmp, 'desc.json'),
        pythonJson(qemuDescValue(contents.vmdesc.json, contents.vmdesc.offset)),
      );
      files.push('desc.json');
    }
    files.push(...blocks.names);
    fs.writeFileSync(path.join(tmp, 'state.json'), pythonJson(qemuStateDict(contents)));
    files.push('state.json');
    return { files, contents };
  });
}

/** Maps a RAM block id to a path inside the directory, refusing ids that would leave it. */
export function blockFilePath(name: string): string {
  const rel = name.replace(/^\/+/, '');
  const parts = rel.split('/');
  if (
    !rel ||
    parts.some((p) => p === '' || p === '.' || p === '..') ||
    rel.includes('\0') ||
    rel === 'desc.json' ||
    rel === 'state.json'
  )
    throw new UnsupportedError(
      `RAM block id '${name}' cannot be used as a file name`,
      0,
      `ram > ${name}`,
    );
  return path.join(...parts);
}

class BlockFiles {
  private readonly fds = new Map<string, { fd: number; length: number }>();
  readonly names: string[] = [];

  constructor(private readonly dir: string) {}

  record(r: RamRecord, pageSize: number): void {
    if (r.kind === 'mem-size') {
      for (const b of r.blocks) {
        if (this.fds.has(b.name)) continue;
        const rel = blockFilePath(b.name);
        const file = path.join(this.dir, rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const fd = fs.openSync(file, 'w+');
        fs.ftruncateSync(fd, Number(b.length));
        this.fds.set(b.name, { fd, length: Number(b.length) });
        this.names.push(rel);
      }
      return;
    }
    if (!('block' in r)) return;
    const f = this.fds.get(r.block);
    if (!f) return;
    const pos = r.addr;
    switch (r.kind) {
      case 'zero':
        if (r.fill !== 0) this.write(f.fd, new Uint8Array(pageSize).fill(r.fill), pos, f.length);
        return;
      case 'page':
        return this.write(f.fd, r.data, pos, f.length);
      case 'compressed': {
        let data: Uint8Array;
        try {
          data = inflateSync(r.data);
        } catch (e) {
          throw new MalformedError(
            `compressed page does not inflate: ${(e as Error).message}`,
            r.offset,
            `ram > ${r.block}`,
          );
        }
        return this.write(f.fd, data, pos, f.length);
      }
      case 'xbzrle': {
        const size = pageSize;
        const page = new Uint8Array(size);
        fs.readSync(f.fd, page, 0, Math.max(0, Math.min(size, f.length - pos)), pos);
        applyXbzrle(page, r.data, r.offset, r.block);
        return this.write(f.fd, page, pos, f.length);
      }
    }
  }

  private write(fd: number, data: Uint8Array, pos: number, length: number): void {
    const n = Math.min(data.length, length - pos);
    if (n > 0) fs.writeSync(fd, data, 0, n, pos);
  }

  close(): void {
    for (const { fd } of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}

/**
 * Applies an XBZRLE delta to a page in place: pairs of (zero-run length, literal length) as
 * ULEB128 numbers, each literal run followed by its bytes; zero runs keep the old bytes.
 */
export function applyXbzrle(
  page: Uint8Array,
  delta: Uint8Array,
  offset: number,
  block: string,
): void {
  let i = 0;
  let d = 0;
  const bad = (what: string) =>
    new MalformedError(`XBZRLE page: ${what}`, offset, `ram > ${block}`);
  const uleb = (): number => {
    let v = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (i >= delta.length) throw bad('encoding ends inside a number');
      const b = delta[i++];
      v |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw bad('number too long');
  };
  while (i < delta.length) {
    d += uleb();
    if (d > page.length) throw bad('zero run past the end of the page');
    if (i >= delta.length) break;
    const n = uleb();
    if (n === 0 || d + n > page.length || i + n > delta.length)
      throw bad('literal run out of bounds');
    page.set(delta.subarray(i, i + n), d);
    d += n;
    i += n;
  }
}
