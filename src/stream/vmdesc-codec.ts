import { ByteReader } from '../bytes/reader';
import type { ByteWriter } from '../bytes/writer';
import { LimitExceededError, MalformedError } from '../errors';
import { Limits, SectionType } from './constants';
import type { CodecResolver, SectionInfo } from './section';
import { sectionPath } from './section';
import type { DescEntry, DescStruct, DescValue } from './vmdesc-value';
import type { VmdescField, VmdescIndex, VmdescVmsd } from './vmdesc';

/**
 * How analyze-migration.py reads each vmdesc type: these integer types print signed, these
 * unsigned; bool, struct, capability and nullptr have their own readers; every other type
 * (buffer, timer, tmp, unused_buffer, pci config, ...) is `size` raw bytes.
 */
const SIGNED_INT_TYPES = new Set([
  'int8',
  'int16',
  'int32',
  'int32 equal',
  'int32 le',
  'int64',
  'int64 equal',
  'uint8 equal',
  'uint16 equal',
]);
const UNSIGNED_INT_TYPES = new Set(['uint8', 'uint16', 'uint32', 'uint32 equal', 'uint64']);

/** Decodes one section body (a device entry or any VMSD object of the vmdesc) from the reader. */
export function decodeByVmdesc(r: ByteReader, desc: VmdescVmsd, section: SectionInfo): DescStruct {
  const ctx = new DecodeContext(r, sectionPath(section));
  return ctx.struct(desc);
}

class DecodeContext {
  private readonly stack: string[] = [];
  private nodes = 0;

  constructor(
    private readonly r: ByteReader,
    private readonly root: string,
  ) {
    r.path = () => this.path();
  }

  path(): string {
    let p = this.root;
    for (const s of this.stack) p += s.startsWith('[') ? s : ` > ${s}`;
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
      for (let i = 0; i < count; i++) {
        const index = field.array_len !== undefined ? i : field.index;
        this.stack.push(index !== undefined ? `${field.name}[${index}]` : field.name);
        if (++this.nodes > Limits.maxNodesPerSection)
          throw new LimitExceededError(
            'field count',
            this.nodes,
            Limits.maxNodesPerSection,
            r.offset,
            this.path(),
          );
        const value = this.field(field);
        this.stack.pop();
        entries.push(
          index !== undefined ? { name: field.name, index, value } : { name: field.name, value },
        );
      }
    }
    const subsections = [];
    for (const sub of desc.subsections ?? []) {
      const offset = r.offset;
      this.stack.push(sub.vmsd_name ?? 'subsection');
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
      this.stack.pop();
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
    if ((signed || UNSIGNED_INT_TYPES.has(type)) && size > 0) {
      const bytes = r.bytesView(size);
      let v = 0n;
      for (const b of bytes) v = (v << 8n) | BigInt(b);
      if (signed && bytes[0] & 0x80) v -= 1n << BigInt(size * 8);
      return { kind: 'int', type, offset, size, signed, value: v };
    }
    const data = r.bytesCopy(size);
    if (type === 'tmp' && Array.isArray(f.fields)) {
      const inner = tryInner(data, offset, f, this.path());
      if (inner) return { kind: 'bytes', type, offset, size, data, inner };
    }
    return { kind: 'bytes', type, offset, size, data };
  }
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
