/**
 * The V8 tag in a user-land start-up snapshot's header, read and rewritten: how the blob is made
 * to load under `--no-rehash-snapshot` while it was built without it.
 *
 * A run from a snapshot rehashes every string and hash table in it with a fresh random hash seed
 * (V8's --rehash-snapshot, on by default), and node 20's V8 derives the hash's secrets from that
 * seed by a search for primes: together 4-5 ms of a 40 ms `vmstate analyze`, a fifth of what the
 * CLI adds to `node -e 0`. With --no-rehash-snapshot a run keeps the seed the blob was built
 * with. Built with that flag too, the blob would hold node's own seed, the one baked into every
 * copy of this node binary (the build does not rehash either): a seed anyone can read, against
 * which a hostile stream's VM description could be made of colliding names, hash flooding
 * JSON.parse into a hang. Built with V8's defaults, the building process rehashes node's
 * snapshot with a seed of its own, drawn at random; every run of this build then uses that seed,
 * known only to whoever can read the blob.
 *
 * node refuses a blob whose header records another V8 configuration than the running one's
 * (v8.cachedDataVersionTag(), a hash of the V8 flags set): the build rewrites the tag, that of
 * the defaults, into the one --no-rehash-snapshot gives. The flag changes only what happens to
 * the heap as it is read, nothing compiled into it.
 *
 * The layout is node's (src/node_snapshotable.cc, SnapshotMetadata): a 32-bit magic number, the
 * snapshot's type (one byte), three strings (node's version, arch and platform, each a 64-bit
 * length and its bytes), then the 32-bit tag, all little-endian.
 */

/** The V8 flags a run from the retagged blob takes (bin/vmstate reads them from vmstate.blob.flags). */
export const SNAPSHOT_RUN_V8_FLAGS: readonly string[] = ['--no-rehash-snapshot'];

/** SnapshotData::kMagic. */
const NODE_SNAPSHOT_MAGIC = 0x0143da19;
/** Far longer than "20.20.2", "x64" or "linux". */
const MAX_HEADER_STRING = 64;

/** Where the tag is in `blob` and what it holds, or undefined when the header is not node's. */
export function snapshotTag(blob: Uint8Array): { offset: number; tag: number } | undefined {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < 5 || b.readUInt32LE(0) !== NODE_SNAPSHOT_MAGIC) return undefined;
  let p = 5;
  for (let i = 0; i < 3; i++) {
    if (p + 8 > b.length || b.readUInt32LE(p + 4) !== 0) return undefined;
    const n = b.readUInt32LE(p);
    p += 8;
    if (n === 0 || n > MAX_HEADER_STRING || p + n > b.length) return undefined;
    for (let k = p; k < p + n; k++) if (b[k] < 0x21 || b[k] > 0x7e) return undefined;
    p += n;
  }
  if (p + 4 > b.length) return undefined;
  return { offset: p, tag: b.readUInt32LE(p) };
}

/**
 * A copy of `blob` with `to` for its tag, when its tag is `from`; undefined when it is not, or
 * when the header is not node's.
 */
export function retagged(blob: Uint8Array, from: number, to: number): Buffer | undefined {
  const found = snapshotTag(blob);
  if (!found || found.tag !== from >>> 0) return undefined;
  const copy = Buffer.from(blob);
  copy.writeUInt32LE(to >>> 0, found.offset);
  return copy;
}
