import { ByteReader } from '../bytes/reader';
import type { ByteWriter } from '../bytes/writer';
import { LimitExceededError, MalformedError, readingAt } from '../errors';
import { Limits, SectionType } from './constants';
import type { CodecResolver, SectionInfo } from './section';
import { sectionPath } from './section';
import {
  LAZY,
  type DescEntry,
  type DescInt,
  type DescStruct,
  type DescValue,
} from './vmdesc-value';
import type { VmdescField, VmdescIndex, VmdescVmsd } from './vmdesc';
import {
  FieldKind,
  SIGNED_INT_TYPES,
  UNSIGNED_INT_TYPES,
  planOf,
  skipStruct,
  type PlanField,
  type VmdescPlan,
} from './vmdesc-plan';

/**
 * Decodes one section body (a device entry or any VMSD object of the vmdesc) from the reader.
 * The reader is only walked (checked, nothing built); the returned struct decodes its entries
 * from a copy of the body bytes when they are first read, so a formatter that reads the bytes
 * itself (qemu-format.ts) never builds the tree. A body the walk rejects is decoded at once, so
 * the error is the decoder's, with its offset and field path.
 */
export function decodeByVmdesc(r: ByteReader, desc: VmdescVmsd, section: SectionInfo): DescStruct {
  const start = r.pos;
  const plan = planOf(desc);
  if (skipStruct(r, plan, { n: 0 }))
    return lazyStruct(plan, r.bytes.slice(start, r.pos), r.base + start, sectionPath(section));
  r.pos = start;
  return new DecodeContext(r, sectionPath(section)).decode(desc);
}

/** The tree by the checking decoder alone (the reference the plan-driven builder is tested against). */
export function decodeEagerly(r: ByteReader, desc: VmdescVmsd, section: SectionInfo): DescStruct {
  return new DecodeContext(r, sectionPath(section)).decode(desc);
}

/** Where a struct's entries still come from, while nobody has read them. */
export interface LazyBody {
  plan: VmdescPlan;
  bytes: Uint8Array;
  /** Absolute offset of bytes[0]. */
  base: number;
  path: string;
}

type Lazy = DescStruct & { [LAZY]?: LazyBody };

/** The body of a struct whose entries were never read (so it is still exactly these bytes). */
export function lazyBodyOf(s: DescStruct): LazyBody | undefined {
  return (s as Lazy)[LAZY];
}

/**
 * A struct over bytes a plan walk accepted, whose entries are built when first read; `bytes` must
 * stay unchanged (a view into another lazy body's bytes is fine).
 */
export function lazyStruct(
  plan: VmdescPlan,
  bytes: Uint8Array,
  base: number,
  path: string,
): DescStruct {
  const s = {
    kind: 'struct',
    type: 'struct',
    offset: base,
    size: bytes.length,
    vmsdName: plan.desc.vmsd_name,
    version: plan.desc.version,
  } as Lazy;
  // One pair of accessor functions for every lazy struct (`this` is the struct), so they all
  // share V8's hidden classes: a closure per struct made each one a class of its own.
  Object.defineProperties(s, LAZY_PROPERTIES);
  Object.defineProperty(s, LAZY, {
    value: { plan, bytes, base, path },
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return s;
}

/** Builds a lazy struct's entries in place (own data properties from then on). */
function materialize(s: Lazy): DescStruct {
  const body = s[LAZY];
  if (!body) return s;
  const full = buildStruct(new ByteReader(body.bytes, body.base), body.plan, body.path);
  delete s[LAZY];
  for (const key of ['entries', 'subsections'] as const)
    Object.defineProperty(s, key, {
      value: full[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return s;
}

const LAZY_PROPERTIES: PropertyDescriptorMap = {
  entries: {
    enumerable: true,
    configurable: true,
    get(this: Lazy) {
      return materialize(this).entries;
    },
    set(this: Lazy, v: DescEntry[]) {
      materialize(this).entries = v;
    },
  },
  subsections: {
    enumerable: true,
    configurable: true,
    get(this: Lazy) {
      return materialize(this).subsections;
    },
    set(this: Lazy, v: DescStruct['subsections']) {
      materialize(this).subsections = v;
    },
  },
};

/**
 * A nested struct met while grouping a lazy body's fields (field-groups.ts), for the formatters:
 * the same reading as lazyStruct's, but its `entries` and `subsections` are built by accessors on
 * the prototype, so it is one small object of a shared hidden class (an own accessor pair per
 * struct made each one a dictionary of some 600 bytes). Only the formatters hold these.
 */
export function lazyPart(
  plan: VmdescPlan,
  bytes: Uint8Array,
  base: number,
  path: string,
): DescStruct {
  return new LazyPart(plan, bytes, base, path);
}

class LazyPart implements DescStruct {
  readonly kind = 'struct';
  readonly type = 'struct';
  readonly offset: number;
  readonly size: number;
  readonly vmsdName: string | undefined;
  readonly version: number | undefined;
  [LAZY]: LazyBody | undefined;
  private built: DescStruct | undefined;

  constructor(plan: VmdescPlan, bytes: Uint8Array, base: number, path: string) {
    this.offset = base;
    this.size = bytes.length;
    this.vmsdName = plan.desc.vmsd_name;
    this.version = plan.desc.version;
    this[LAZY] = { plan, bytes, base, path };
  }

  private tree(): DescStruct {
    const body = this[LAZY];
    if (body) {
      this.built = buildStruct(new ByteReader(body.bytes, body.base), body.plan, body.path);
      this[LAZY] = undefined;
    }
    return this.built!;
  }
  get entries(): DescEntry[] {
    return this.tree().entries;
  }
  set entries(v: DescEntry[]) {
    this.tree().entries = v;
  }
  get subsections(): DescStruct['subsections'] {
    return this.tree().subsections;
  }
  set subsections(v: DescStruct['subsections']) {
    this.tree().subsections = v;
  }
}

/**
 * Bigints are immutable values, so the small ones most registers hold (zero above all) are shared
 * rather than allocated per field: a tree is mostly such integers.
 */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));

/** 2 ** (8 * size) for the sizes read as numbers. */
const WRAP = [1, 2 ** 8, 2 ** 16, 2 ** 24, 2 ** 32, 2 ** 40, 2 ** 48];

/**
 * The tree of bytes the plan walk already accepted (so no check can fail here): what
 * DecodeContext builds, field for field and key for key, driven by the compiled plan.
 */
function buildStruct(r: ByteReader, plan: VmdescPlan, path: string): DescStruct {
  const start = r.offset;
  const entries: DescEntry[] = [];
  for (const pf of plan.fields) {
    const f = pf.field;
    const name = f.name;
    if (pf.kind === FieldKind.Int && pf.size <= 6) {
      // The bulk of every tree (register files, tables): read in place, no reader calls.
      const b = r.bytes;
      const size = pf.size;
      const type = f.type;
      const signed = pf.signed;
      const wrap = WRAP[size];
      for (let i = 0; i < pf.count; i++) {
        const p = r.pos;
        let n = 0;
        for (let k = 0; k < size; k++) n = n * 256 + b[p + k];
        if (signed && b[p] & 0x80) n -= wrap;
        r.pos = p + size;
        const value: DescInt = {
          kind: 'int',
          type,
          offset: r.base + p,
          size,
          signed,
          value: n >= 0 && n < SMALL_BIGINTS.length ? SMALL_BIGINTS[n] : BigInt(n),
        };
        const index = f.array_len !== undefined ? i : f.index;
        entries.push(index !== undefined ? { name, index, value } : { name, value });
      }
      continue;
    }
    const arrayed = f.array_len !== undefined;
    for (let i = 0; i < pf.count; i++) {
      const index = arrayed ? i : f.index;
      const value = buildValue(r, pf, path);
      entries.push(index !== undefined ? { name, index, value } : { name, value });
    }
  }
  const subsections = [];
  for (const sub of plan.subsections) {
    const offset = r.offset;
    r.skip(1);
    const name = r.countedString();
    const version = r.u32();
    subsections.push({ name, version, offset, body: buildStruct(r, sub, path) });
  }
  return {
    kind: 'struct',
    type: 'struct',
    offset: start,
    size: r.offset - start,
    vmsdName: plan.desc.vmsd_name,
    version: plan.desc.version,
    entries,
    subsections,
  };
}

/** One element of a plan field, read from bytes the plan walk accepted (what the tree holds for it). */
export function buildValue(r: ByteReader, pf: PlanField, path: string): DescValue {
  const offset = r.offset;
  const type = pf.field.type;
  const size = pf.size;
  switch (pf.kind) {
    case FieldKind.Struct:
      return buildStruct(r, pf.struct!, path);
    case FieldKind.Capability: {
      const name = r.countedString();
      return { kind: 'capability', type, offset, size: r.offset - offset, name };
    }
    case FieldKind.Bool:
      return { kind: 'bool', type, offset, size, byte: r.u8() };
    case FieldKind.NullPtr:
      r.skip(size);
      return { kind: 'nullptr', type, offset, size };
    case FieldKind.Int:
      return {
        kind: 'int',
        type,
        offset,
        size,
        signed: pf.signed,
        value: readInt(r, size, pf.signed),
      };
    case FieldKind.Bytes:
    case FieldKind.Invalid: {
      const data = r.bytesCopy(size);
      const f = pf.field;
      if (type === 'tmp' && Array.isArray(f.fields)) {
        const inner = tryInner(data, offset, f, path);
        if (inner) return { kind: 'bytes', type, offset, size, data, inner };
      }
      return { kind: 'bytes', type, offset, size, data };
    }
  }
}

class DecodeContext {
  /** The path to the field being read, as names and element indexes (built into text only for errors). */
  private readonly names: string[] = [];
  private readonly indexes: Array<number | undefined> = [];
  private nodes = 0;

  constructor(
    private readonly r: ByteReader,
    private readonly root: string,
  ) {}

  /**
   * The whole body. Names are pushed per field and popped only on success, so a failed read
   * leaves them naming the field: the reader's errors get that path here.
   */
  decode(desc: VmdescVmsd): DescStruct {
    return readingAt(
      () => this.path(),
      () => this.struct(desc),
    );
  }

  path(): string {
    let p = this.root;
    for (let i = 0; i < this.names.length; i++) {
      const index = this.indexes[i];
      const s = index !== undefined ? `${this.names[i]}[${index}]` : this.names[i];
      p += s.startsWith('[') ? s : ` > ${s}`;
    }
    return p.replace(/ > \./g, '.');
  }

  struct(desc: VmdescVmsd): DescStruct {
    const r = this.r;
    const start = r.offset;
    const entries: DescEntry[] = [];
    for (const field of desc.fields) {
      const count = field.array_len ?? 1;
      if (count > Limits.maxArrayLength)
        throw new LimitExceededError(
          `array ${field.name}`,
          count,
          Limits.maxArrayLength,
          r.offset,
          this.path(),
        );
      const arrayed = field.array_len !== undefined;
      for (let i = 0; i < count; i++) {
        const index = arrayed ? i : field.index;
        this.names.push(field.name);
        this.indexes.push(index);
        if (++this.nodes > Limits.maxNodesPerSection)
          throw new LimitExceededError(
            'field count',
            this.nodes,
            Limits.maxNodesPerSection,
            r.offset,
            this.path(),
          );
        const value = this.field(field);
        this.names.pop();
        this.indexes.pop();
        entries.push(
          index !== undefined ? { name: field.name, index, value } : { name: field.name, value },
        );
      }
    }
    const subsections = [];
    for (const sub of desc.subsections ?? []) {
      const offset = r.offset;
      this.names.push(sub.vmsd_name ?? 'subsection');
      this.indexes.push(undefined);
      const marker = r.u8();
      if (marker !== SectionType.SUBSECTION)
        throw new MalformedError(
          `expected subsection ${sub.vmsd_name ?? ''} (byte 0x05), found 0x${marker.toString(16).padStart(2, '0')}`,
          offset,
          this.path(),
        );
      const name = r.countedString();
      const version = r.u32();
      const body = this.struct(sub);
      this.names.pop();
      this.indexes.pop();
      subsections.push({ name, version, offset, body });
    }
    return {
      kind: 'struct',
      type: 'struct',
      offset: start,
      size: r.offset - start,
      vmsdName: desc.vmsd_name,
      version: desc.version,
      entries,
      subsections,
    };
  }

  field(f: VmdescField): DescValue {
    const r = this.r;
    const offset = r.offset;
    const type = f.type;
    if (type === 'struct') {
      if (!f.struct)
        throw new MalformedError(`struct field ${f.name} has no description`, offset, this.path());
      return this.struct(f.struct);
    }
    if (type === 'capability') {
      const name = r.countedString();
      return { kind: 'capability', type, offset, size: r.offset - offset, name };
    }
    const size = f.size;
    if (size === undefined)
      throw new MalformedError(`field ${f.name} (${type}) has no size`, offset, this.path());
    if (type === 'bool') {
      r.need(size);
      const byte = size > 0 ? r.bytes[r.pos] : 0;
      if (size !== 1) return { kind: 'bytes', type, offset, size, data: r.bytesCopy(size) };
      r.skip(1);
      return { kind: 'bool', type, offset, size, byte };
    }
    if (type === 'nullptr') {
      const data = r.bytesView(size);
      if (size !== 1 || data[0] !== 0x30)
        throw new MalformedError(`expected the null-pointer marker 0x30`, offset, this.path());
      return { kind: 'nullptr', type, offset, size };
    }
    const signed = SIGNED_INT_TYPES.has(type);
    if ((signed || UNSIGNED_INT_TYPES.has(type)) && size > 0)
      return { kind: 'int', type, offset, size, signed, value: readInt(r, size, signed) };
    const data = r.bytesCopy(size);
    if (type === 'tmp' && Array.isArray(f.fields)) {
      const inner = tryInner(data, offset, f, this.path());
      if (inner) return { kind: 'bytes', type, offset, size, data, inner };
    }
    return { kind: 'bytes', type, offset, size, data };
  }
}

/** A big-endian integer of `size` bytes; up to 6 bytes through a double, so one bigint is made. */
function readInt(r: ByteReader, size: number, signed: boolean): bigint {
  if (size === 8) return signed ? r.i64() : r.u64();
  r.need(size);
  const b = r.bytes;
  const p = r.pos;
  r.pos += size;
  if (size <= 6) {
    let n = 0;
    for (let k = 0; k < size; k++) n = n * 256 + b[p + k];
    if (signed && b[p] & 0x80) n -= 2 ** (size * 8);
    return n >= 0 && n < SMALL_BIGINTS.length ? SMALL_BIGINTS[n] : BigInt(n);
  }
  let v = 0n;
  for (let k = 0; k < size; k++) v = (v << 8n) | BigInt(b[p + k]);
  if (signed && b[p] & 0x80) v -= 1n << BigInt(size * 8);
  return v;
}

/** Decodes a `tmp` field's bytes by its inline description, if that accounts for exactly those bytes. */
function tryInner(
  data: Uint8Array,
  offset: number,
  f: VmdescField,
  path: string,
): DescStruct | undefined {
  try {
    const r = new ByteReader(data, offset);
    const s = new DecodeContext(r, path).struct({
      vmsd_name: f.vmsd_name,
      version: f.version,
      fields: f.fields ?? [],
      subsections: f.subsections,
    });
    return r.atEnd ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a decoded struct back; the inverse of decodeByVmdesc for unmodified and edited values alike. */
export function encodeDescStruct(w: ByteWriter, s: DescStruct): void {
  const lazy = lazyBodyOf(s);
  if (lazy) return w.bytes(lazy.bytes);
  for (const e of s.entries) encodeDescValue(w, e.value);
  for (const sub of s.subsections) {
    w.u8(SectionType.SUBSECTION);
    w.countedString(sub.name);
    w.u32(sub.version);
    encodeDescStruct(w, sub.body);
  }
}

function encodeDescValue(w: ByteWriter, v: DescValue): void {
  switch (v.kind) {
    case 'struct':
      return encodeDescStruct(w, v);
    case 'int': {
      let u = BigInt.asUintN(v.size * 8, v.value);
      const out = new Uint8Array(v.size);
      for (let i = v.size - 1; i >= 0; i--) {
        out[i] = Number(u & 0xffn);
        u >>= 8n;
      }
      return w.bytes(out);
    }
    case 'bool':
      return w.u8(v.byte);
    case 'bytes':
      return w.bytes(v.data);
    case 'nullptr':
      return w.u8(0x30);
    case 'capability':
      return w.countedString(v.name);
  }
}

/**
 * Resolver for FULL/START sections described in the vmdesc. The description is claimed when the
 * resolver is asked, so a section seen twice uses the next description with its key.
 */
export function vmdescResolver(index: VmdescIndex): CodecResolver {
  return (section, kind) => {
    if (kind !== 'full' && kind !== 'start') return undefined;
    const desc = index.take(section.idstr, section.instanceId);
    if (!desc) return undefined;
    return {
      name: 'vmdesc',
      decode: (r, s) => decodeByVmdesc(r, desc, s),
      encode: (w, value) => encodeDescStruct(w, value as DescStruct),
    };
  };
}
