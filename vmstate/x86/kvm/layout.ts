import { Parser } from 'binary-parser';
import { DescriptionError, InvalidValueError } from '../../../src/errors';

/**
 * A fixed little-endian C struct (vmcs12, vmcb, ...) declared once, in struct order, with its
 * padding spelled out. From the declaration we get the offsets, a compiled binary-parser
 * decoder and a builder that writes the same fields back, so the two directions cannot drift.
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
}

function kindSize(kind: FieldKind): number {
  switch (kind) {
    case 'u8':
      return 1;
    case 'u16':
      return 2;
    case 'u32':
      return 4;
    case 'u64':
      return 8;
    default:
      return kind.bytes;
  }
}

export class FixedLayout<M extends readonly Member[]> {
  /** Named fields in struct order with their byte offsets. */
  readonly fields: readonly PlacedField[];
  /** Bytes the declared members cover (the C sizeof); the page may be larger. */
  readonly structSize: number;
  private readonly byName = new Map<string, PlacedField>();
  private readonly parser: Parser;

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
      const placed: PlacedField = { name: m.name, offset, size: kindSize(m.kind), kind: m.kind };
      fields.push(placed);
      this.byName.set(m.name, placed);
      offset += placed.size;
    }
    if (offset > pageSize)
      throw new DescriptionError(`${name}: ${offset} bytes do not fit in ${pageSize}`);
    this.fields = fields;
    this.structSize = offset;
    this.parser = compileParser(fields);
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
    const raw = this.parser.parse(page) as Record<string, unknown>;
    const out: Record<string, number | bigint | Uint8Array> = {};
    this.fields.forEach((f, i) => {
      const v = raw[`f${i}`];
      out[f.name] = v instanceof Uint8Array ? Uint8Array.from(v) : (v as number | bigint);
    });
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
      writeField(view, f, value, `${this.name} > ${name}`);
    }
    return page;
  }
}

function compileParser(fields: readonly PlacedField[]): Parser {
  let p = new Parser().endianness('little');
  let at = 0;
  fields.forEach((f, i) => {
    if (f.offset > at) p = p.seek(f.offset - at);
    const v = `f${i}`;
    switch (f.kind) {
      case 'u8':
        p = p.uint8(v);
        break;
      case 'u16':
        p = p.uint16le(v);
        break;
      case 'u32':
        p = p.uint32le(v);
        break;
      case 'u64':
        p = p.uint64le(v);
        break;
      default:
        p = p.buffer(v, { length: f.kind.bytes });
    }
    at = f.offset + f.size;
  });
  return p;
}

function writeField(view: DataView, f: PlacedField, value: unknown, path: string): void {
  const bad = (why: string) => new InvalidValueError(`${path}: ${why}`, f.offset, path);
  if (typeof f.kind === 'object') {
    if (!(value instanceof Uint8Array) || value.length !== f.kind.bytes)
      throw bad(`expected ${f.kind.bytes} bytes`);
    new Uint8Array(view.buffer, view.byteOffset + f.offset, f.size).set(value);
    return;
  }
  if (f.kind === 'u64') {
    if (typeof value !== 'bigint' || value < 0n || value > 0xffff_ffff_ffff_ffffn)
      throw bad('expected a u64 bigint');
    view.setBigUint64(f.offset, value, true);
    return;
  }
  const max = 2 ** (8 * f.size) - 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw bad(`expected an integer in 0..${max}`);
  }
  if (f.kind === 'u8') view.setUint8(f.offset, value);
  else if (f.kind === 'u16') view.setUint16(f.offset, value, true);
  else view.setUint32(f.offset, value, true);
}
