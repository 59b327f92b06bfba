/**
 * The code cache node appends to a user-land start-up snapshot, and the same blob without it.
 *
 * `node --build-snapshot` ends the blob with V8's code cache of every one of node's built-in
 * modules (node 20: 324 modules, 2.7 MB of a 5.7 MB blob), and every run from the snapshot reads
 * it and copies it out. A run from ours has no use for it: the built-ins the snapshot evaluated
 * (100 of them) keep their compiled code in its heap, and a built-in a command first needs at run
 * time (tty for a terminal, fs/promises for `reencode -o`) compiles from node's source, as any
 * module without a cache does. Without it, `vmstate analyze` of a device-heavy stream ran 4-6 ms
 * faster (interleaved runs), `reencode` too. node's own `--build-snapshot-config` with
 * `withoutCodeCache` leaves the cache out but also clears the snapshot's compiled functions (V8's
 * FunctionCodeHandling::kClear), so a run compiles our whole path from source: measured slower.
 *
 * The layout is node's (src/node_snapshotable.cc, SnapshotData::ToBlob): the cache comes last, a
 * 64-bit count, then each module's 64-bit-length id and 64-bit-length data. Nothing in the blob
 * says where it starts, so it is found as the first offset from which `count` well-formed entries,
 * each named like a module, end exactly at the blob's end. A blob of another layout has no such
 * offset and is left as it is.
 */

/** Far more than node's built-ins, far fewer than a random count read from the V8 heap. */
const MAX_MODULES = 4096;
const MAX_ID_LENGTH = 256;

export interface BuiltinCodeCache {
  /** Where the cache's count is: everything before it is the snapshot proper. */
  offset: number;
  /** The module ids it holds code for ("fs", "internal/errors", ...). */
  modules: string[];
}

/** The blob's built-in code cache, or undefined when it does not end with one (or with an empty one). */
export function builtinCodeCache(blob: Uint8Array): BuiltinCodeCache | undefined {
  for (let offset = 0; offset + 8 <= blob.length; offset++) {
    const modules = modulesFrom(blob, offset);
    if (modules) return { offset, modules };
  }
  return undefined;
}

/** The same blob with an empty code cache in place of node's, or undefined when it has none to drop. */
export function withoutBuiltinCodeCache(blob: Uint8Array): Buffer | undefined {
  const cache = builtinCodeCache(blob);
  if (!cache) return undefined;
  return Buffer.concat([blob.subarray(0, cache.offset), Buffer.alloc(8)]);
}

/** A 64-bit little-endian length that fits in 32 bits, or undefined. */
function length64(b: Uint8Array, at: number): number | undefined {
  if (at + 8 > b.length || b[at + 4] | b[at + 5] | b[at + 6] | b[at + 7]) return undefined;
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000;
}

/** A byte of a module id: letters, digits and `_ - . / :`. */
function idByte(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x3a) ||
    c === 0x5f ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x2f
  );
}

/** The module ids of a code cache read from `offset`, when it ends exactly at the blob's end. */
function modulesFrom(b: Uint8Array, offset: number): string[] | undefined {
  const count = length64(b, offset);
  if (count === undefined || count === 0 || count > MAX_MODULES) return undefined;
  const modules: string[] = [];
  let p = offset + 8;
  for (let i = 0; i < count; i++) {
    const idLength = length64(b, p);
    if (idLength === undefined || idLength === 0 || idLength > MAX_ID_LENGTH) return undefined;
    p += 8;
    if (p + idLength > b.length) return undefined;
    for (let k = p; k < p + idLength; k++) if (!idByte(b[k])) return undefined;
    modules.push(Buffer.from(b.buffer, b.byteOffset + p, idLength).toString('latin1'));
    p += idLength;
    const dataLength = length64(b, p);
    if (dataLength === undefined || p + 8 + dataLength > b.length) return undefined;
    p += 8 + dataLength;
  }
  return p === b.length ? modules : undefined;
}
