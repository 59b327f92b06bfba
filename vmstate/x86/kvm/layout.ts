import { DescriptionError, InvalidValueError } from '../../../src/errors';

/**
 * A fixed little-endian C struct (vmcs12, vmcb, the kvm_nested_state header...) declared once,
 * in struct order, with its padding spelled out. Each member kind is one codec whose size, read
 * and write sit side by side (as in restructure), and both directions run over the same placed
 * members, so reading and writing cannot drift.
 */

export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | { readonly bytes: number };

/** A named member of the struct. */
export interface NamedMember<N extends string = string, K extends FieldKind = FieldKind> {
  readonly name: N;
  readonly kind: K;
}
/** Bytes the struct reserves (padding, fields we do not name). */
export interface GapMember {
  readonly gap: number;
}
export type Member = NamedMember | GapMember;

export function u8<N extends string>(name: N): NamedMember<N, 'u8'> {
  return { name, kind: 'u8' };
}
export function u16<N extends string>(name: N): NamedMember<N, 'u16'> {
  return { name, kind: 'u16' };
}
export function u32<N extends string>(name: N): NamedMember<N, 'u32'> {
  return { name, kind: 'u32' };
}
export function u64<N extends string>(name: N): NamedMember<N, 'u64'> {
  return { name, kind: 'u64' };
}
export function bytes<N extends string, L extends number>(
  name: N,
  length: L,
): NamedMember<N, { bytes: L }> {
  return { name, kind: { bytes: length } };
}
export function gap(length: number): GapMember {
  return { gap: length };
}

/** The TypeScript value of a field kind: 64-bit fields are bigint, byte runs Uint8Array. */
export type KindValue<K> = K extends 'u64'
  ? bigint
  : K extends { bytes: number }
    ? Uint8Array
    : number;

/** The decoded object of a member list: every named member, typed by its kind. */
export type LayoutValues<M extends readonly Member[]> = {
  [E in Extract<M[number], NamedMember> as E['name']]: KindValue<E['kind']>;
};

export interface PlacedField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly kind: FieldKind;
  readonly codec: MemberCodec;
}

/** One member kind's faces together: its size, how it is read, how a value is checked and written. */
interface MemberCodec {
  readonly size: number;
  read(view: DataView, offset: number): number | bigint | Uint8Array;
  /** Returns why the value does not fit, or writes it. */
  write(view: DataView, offset: number, value: unknown): string | undefined;
}

function intCodec(
  size: 1 | 2 | 4,
  read: (view: DataView, offset: number) => number,
  write: (view: DataView, offset: number, value: number) => void,
): MemberCodec {
  const max = 2 ** (8 * size) - 1;
  return {
    size,
    read,
    write: (view, offset, value) => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
        return `expected an integer in 0..${max}`;
      write(view, offset, value);
      return undefined;
    },
  };
}

const CODECS = {
  u8: intCodec(
    1,
    (v, o) => v.getUint8(o),
    (v, o, x) => v.setUint8(o, x),
  ),
  u16: intCodec(
    2,
    (v, o) => v.getUint16(o, true),
    (v, o, x) => v.setUint16(o, x, true),
  ),
  u32: intCodec(
    4,
    (v, o) => v.getUint32(o, true),
    (v, o, x) => v.setUint32(o, x, true),
  ),
  u64: {
    size: 8,
    read: (v, o) => v.getBigUint64(o, true),
    write: (v, o, x) => {
      if (typeof x !== 'bigint' || x < 0n || x > 0xffff_ffff_ffff_ffffn)
        return 'expected a u64 bigint';
      v.setBigUint64(o, x, true);
      return undefined;
    },
  },
} satisfies Record<string, MemberCodec>;

function bytesCodec(length: number): MemberCodec {
  return {
    size: length,
    // A copy, so a decoded value does not pin the page.
    read: (v, o) => new Uint8Array(v.buffer, v.byteOffset + o, length).slice(),
    write: (v, o, x) => {
      if (!(x instanceof Uint8Array) || x.length !== length) return `expected ${length} bytes`;
      new Uint8Array(v.buffer, v.byteOffset + o, length).set(x);
      return undefined;
    },
  };
}

function codecOf(kind: FieldKind): MemberCodec {
  return typeof kind === 'object' ? bytesCodec(kind.bytes) : CODECS[kind];
}

export class FixedLayout<M extends readonly Member[]> {
  /** Named fields in struct order with their byte offsets. */
  readonly fields: readonly PlacedField[];
  /** Bytes the declared members cover (the C sizeof); the page may be larger. */
  readonly structSize: number;
  private readonly byName = new Map<string, PlacedField>();

  constructor(
    /** Name used in error paths, e.g. "vmcs12". */
    readonly name: string,
    /** Size of the buffer the struct lives in (4096 for the KVM pages). */
    readonly pageSize: number,
    members: M,
  ) {
    const fields: PlacedField[] = [];
    let offset = 0;
    for (const m of members) {
      if ('gap' in m) {
        if (!Number.isInteger(m.gap) || m.gap <= 0)
          throw new DescriptionError(`${name}: bad gap ${m.gap}`);
        offset += m.gap;
        continue;
      }
      if (this.byName.has(m.name)) throw new DescriptionError(`${name}: duplicate field ${m.name}`);
      const codec = codecOf(m.kind);
      const placed: PlacedField = { name: m.name, offset, size: codec.size, kind: m.kind, codec };
      fields.push(placed);
      this.byName.set(m.name, placed);
      offset += placed.size;
    }
    if (offset > pageSize)
      throw new DescriptionError(`${name}: ${offset} bytes do not fit in ${pageSize}`);
    this.fields = fields;
    this.structSize = offset;
  }

  /** Byte offset of a named field (throws DescriptionError for an unknown name). */
  offsetOf(field: keyof LayoutValues<M> & string): number {
    return this.field(field).offset;
  }

  field(name: string): PlacedField {
    const f = this.byName.get(name);
    if (!f) throw new DescriptionError(`${this.name} has no field '${name}'`);
    return f;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Every named field of `page`, in struct order. The caller checks the page length; byte runs
   * are copied so the result does not pin the page.
   */
  decode(page: Uint8Array): LayoutValues<M> {
    if (page.length < this.structSize) {
      throw new RangeError(`${this.name}: ${page.length} bytes, struct needs ${this.structSize}`);
    }
    const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const out: Record<string, number | bigint | Uint8Array> = {};
    for (const f of this.fields) out[f.name] = f.codec.read(view, f.offset);
    return out as LayoutValues<M>;
  }

  /**
   * Writes the given fields into `page` (a fresh zeroed page by default); fields not given keep
   * the page's bytes. Unknown names and out-of-range values are InvalidValueError.
   */
  encode(
    values: Partial<LayoutValues<M>>,
    page: Uint8Array = new Uint8Array(this.pageSize),
  ): Uint8Array {
    const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
      if (value === undefined) continue;
      const f = this.byName.get(name);
      if (!f)
        throw new InvalidValueError(
          `${this.name} has no field '${name}'`,
          0,
          `${this.name} > ${name}`,
        );
      const path = `${this.name} > ${name}`;
      const problem = f.codec.write(view, f.offset, value);
      if (problem) throw new InvalidValueError(`${path}: ${problem}`, f.offset, path);
    }
    return page;
  }
}
