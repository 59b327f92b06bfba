import { MalformedError, UnsupportedError } from '../errors';
import type { StreamContents } from '../stream/collect';
import type { DescStruct, DescValue } from '../stream/vmdesc-value';
import { groupedEntries, isDescStruct } from '../stream/vmdesc-value';
import type { DeviceSection } from '../stream/section';
import { latin1 } from '../bytes/reader';
import { lazyBodyOf, type LazyBody } from '../stream/vmdesc-codec';
import { FieldKind, type PlanField, type VmdescPlan } from '../stream/vmdesc-plan';
import { OutBuffer, writeHex, ZERO_STRETCH, zeroBytesAt } from './out-buffer';
import {
  PyDict,
  PyJsonSyntaxError,
  parsePythonJson,
  pythonJson,
  utf8FromLatin1,
  writePyString,
  writePythonJson,
  type PyValue,
} from './python-json';

/**
 * The output of QEMU's scripts/analyze-migration.py, reproduced: `-d state` (the default) is one
 * key per section id, "<idstr> (<section id>)", holding the section's fields as the script
 * formats them; `-d desc` is the vmdesc JSON re-printed. Both end with a newline, as print() does.
 */
export function qemuStateJson(
  c: StreamContents,
  renderForeign: (s: DeviceSection) => PyValue = foreignValue,
): string {
  return qemuStateBytes(c, renderForeign).toString('latin1');
}

/**
 * The same text as qemuStateJson, as bytes written into one buffer. Sections decoded by the
 * vmdesc whose entries nobody has read yet are printed straight from their bytes (vmdesc-plan.ts)
 * instead of through the decoded tree and a PyDict.
 */
export function qemuStateBytes(
  c: StreamContents,
  renderForeign: (s: DeviceSection) => PyValue = foreignValue,
): Buffer {
  const bySection = new Map<number, [string, DeviceSection | PyValue]>();
  for (const e of c.entries) {
    if (e.type === 'ram-section') {
      if (e.kind !== 'start' && e.kind !== 'full') continue;
      bySection.set(e.sectionId, [e.idstr, new PyDict().set('section sizes', ramSizes(c))]);
    } else if (e.type === 'section') {
      const s = e.section;
      if (s.kind !== 'start' && s.kind !== 'full') continue;
      bySection.set(s.sectionId, [s.idstr, s]);
    }
  }
  let size = 1 << 16;
  // Register arrays print about 6.5 bytes a byte (a u32 as an indented "0x..." line) and
  // buffers 3: room for 8 a byte means no copy as it grows, and costs only address space (the
  // pages left unwritten are never touched).
  for (const [, [, v]] of bySection) if (isSection(v)) size += v.body.length * 8;
  const out = new OutBuffer(size);
  if (bySection.size === 0) out.text('{}');
  else {
    out.byte(0x7b);
    let first = true;
    for (const [id, [name, v]] of bySection) {
      if (!first) out.byte(0x2c);
      first = false;
      out.newline(4);
      writePyString(out, `${utf8FromLatin1(name)} (${id})`);
      out.text(': ');
      if (!isSection(v)) writePythonJson(out, v, 1);
      else {
        const lazy = isLazyStruct(v.value) ? lazyBodyOf(v.value) : undefined;
        const mark = out.len;
        if (!lazy || !writeBody(out, lazy, 1)) {
          out.len = mark;
          writePythonJson(out, isDescStruct(v.value) ? structDict(v.value) : renderForeign(v), 1);
        }
      }
    }
    out.newline(0);
    out.byte(0x7d);
  }
  out.byte(0x0a);
  return out.bytes();
}

function isSection(v: DeviceSection | PyValue): v is DeviceSection {
  return typeof v === 'object' && v !== null && 'body' in v && 'decodedBy' in v;
}

function isLazyStruct(v: unknown): v is DescStruct {
  return typeof v === 'object' && v !== null && (v as DescStruct).kind === 'struct';
}

function ramSizes(c: StreamContents): PyDict {
  const sizes = new PyDict();
  for (const b of c.ram.blocks)
    sizes.set(utf8FromLatin1(b.name), '0x' + b.length.toString(16).padStart(16, '0'));
  return sizes;
}

/** Prints a lazy struct's bytes as structDict would print its tree; false when only the tree path can (names that collide). */
function writeBody(out: OutBuffer, lazy: LazyBody, level: number): boolean {
  const at = { pos: 0 };
  return writeStruct(out, lazy.plan, lazy.bytes, at, level);
}

function writeStruct(
  out: OutBuffer,
  plan: VmdescPlan,
  b: Uint8Array,
  at: { pos: number },
  level: number,
): boolean {
  if (!plan.contiguousNames) return false;
  const mark = out.len;
  let keys = 0;
  out.byte(0x7b);
  const fields = plan.fields;
  for (let i = 0; i < fields.length;) {
    const name = fields[i].field.name;
    let j = i;
    let total = 0;
    while (j < fields.length && fields[j].field.name === name) total += fields[j++].count;
    if (total > 0) {
      if (keys++) out.byte(0x2c);
      out.newline(4 * (level + 1));
      writePyString(out, name);
      out.text(': ');
      if (total === 1) {
        for (let k = i; k < j; k++)
          if (fields[k].count === 1 && !writeValue(out, fields[k], b, at, level + 1)) return false;
      } else {
        out.byte(0x5b);
        let n = 0;
        for (let k = i; k < j; k++) {
          const f = fields[k];
          if (f.kind === FieldKind.Int && !f.signed) {
            writeUnsignedRun(out, f.size, f.count, b, at, 4 * (level + 2), n > 0);
            n += f.count;
            continue;
          }
          for (let e = 0; e < f.count; e++) {
            if (n++) out.byte(0x2c);
            out.newline(4 * (level + 2));
            if (!writeValue(out, f, b, at, level + 2)) return false;
          }
        }
        out.newline(4 * (level + 1));
        out.byte(0x5d);
      }
    }
    i = j;
  }
  let subNames: string[] | undefined;
  for (const sub of plan.subsections) {
    const len = b[at.pos + 1];
    const name = latin1(b.subarray(at.pos + 2, at.pos + 2 + len));
    at.pos += 2 + len + 4;
    // A subsection named like a field (or like another subsection) replaces that entry in place.
    if (plan.fields.some((f) => f.field.name === name) || subNames?.includes(name)) return false;
    (subNames ??= []).push(name);
    if (keys++) out.byte(0x2c);
    out.newline(4 * (level + 1));
    writePyString(out, utf8FromLatin1(name));
    out.text(': ');
    if (!writeStruct(out, sub, b, at, level + 1)) return false;
  }
  if (keys === 0) {
    out.len = mark;
    out.text('{}');
  } else {
    out.newline(4 * level);
    out.byte(0x7d);
  }
  return true;
}

const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** `count` unsigned integers of `size` bytes as list items ("0x..." each on its own line): the long arrays of device registers. */
function writeUnsignedRun(
  out: OutBuffer,
  size: number,
  count: number,
  b: Uint8Array,
  at: { pos: number },
  spaces: number,
  comma: boolean,
): void {
  if (count <= 0) return;
  // Every item is the same bytes but its digits: `,\n`, the indent, `"0x`, digits, `"`. One item
  // is written, copied natively by doubling over the whole run, and only the digits are then
  // written per element (a store per indent space per element, or a native copy per element,
  // cost more).
  const unit = 2 + spaces + 3 + 2 * size + 1;
  out.ensure(count * unit);
  const o = out.buf;
  let w = out.len;
  // Without a leading comma, the first item is one byte shorter: it is written on its own.
  const first = comma ? 0 : 1;
  // One item: newline, indent, `"0x`, room for the digits, `"`.
  const item = () => {
    o[w++] = 0x0a;
    for (let s = 0; s < spaces; s++) o[w++] = 0x20;
    o[w++] = 0x22;
    o[w++] = 0x30;
    o[w++] = 0x78;
    for (let k = 0; k < 2 * size; k++) o[w++] = 0x30;
    o[w++] = 0x22;
  };
  if (!comma) item();
  const u0 = w;
  const items = count - first;
  if (items > 0) {
    o[w++] = 0x2c;
    item();
    for (let done = 1; done < items;) {
      const n = Math.min(done, items - done);
      o.copyWithin(u0 + done * unit, u0, u0 + n * unit);
      done += n;
    }
  }
  const end = u0 + items * unit;
  // The digits: item e's start at `d`, then the next item's a unit further. The copied item's
  // digits are zeros, so a stretch of zero elements (most of a register file) is only skipped.
  let p = at.pos;
  let d = comma ? u0 + unit - 1 - 2 * size : u0 - 1 - 2 * size;
  // Elements a zero check covers (none when one is wider than ZERO_STRETCH).
  const stretch = size <= ZERO_STRETCH ? Math.floor(ZERO_STRETCH / size) : count + 1;
  for (let e = 0; e < count;) {
    const zero = zeroBytesAt(b, p, (count - e) * size, stretch * size) / size;
    if (zero) {
      p += zero * size;
      d += zero * unit;
      e += zero;
      continue;
    }
    for (const stop = Math.min(count, e + stretch); e < stop; e++) {
      for (let k = 0; k < size; k++) {
        const v = b[p++];
        o[d] = HEX_DIGITS[v >> 4];
        o[d + 1] = HEX_DIGITS[v & 15];
        d += 2;
      }
      d += unit - 2 * size;
    }
  }
  out.len = end;
  at.pos = p;
}

function writeValue(
  out: OutBuffer,
  f: PlanField,
  b: Uint8Array,
  at: { pos: number },
  level: number,
): boolean {
  const p = at.pos;
  switch (f.kind) {
    case FieldKind.Struct:
      return writeStruct(out, f.struct!, b, at, level);
    case FieldKind.Capability: {
      const n = b[p];
      at.pos += 1 + n;
      writePyString(out, utf8FromLatin1(latin1(b.subarray(p + 1, p + 1 + n))));
      return true;
    }
    case FieldKind.Bool:
      at.pos += 1;
      out.text(b[p] !== 0 ? 'true' : 'false');
      return true;
    case FieldKind.NullPtr:
      at.pos += f.size;
      out.text('"nullptr"');
      return true;
    case FieldKind.Int: {
      const size = f.size;
      at.pos += size;
      out.text('"0x');
      writeHex(out, b, p, p + size, 0);
      if (f.signed && b[p] & 0x80) {
        let v: bigint | number;
        if (size <= 6) {
          let n = 0;
          for (let k = 0; k < size; k++) n = n * 256 + b[p + k];
          v = n - 2 ** (size * 8);
        } else {
          let u = 0n;
          for (let k = 0; k < size; k++) u = (u << 8n) | BigInt(b[p + k]);
          v = u - (1n << BigInt(size * 8));
        }
        out.text(` (${v})`);
      }
      out.byte(0x22);
      return true;
    }
    case FieldKind.Bytes:
      at.pos += f.size;
      out.byte(0x22);
      writeHex(out, b, p, p + f.size, 0x20);
      out.byte(0x22);
      return true;
    case FieldKind.Invalid:
      return false;
  }
}

export function qemuDescJson(c: StreamContents): string {
  if (!c.vmdesc)
    throw new UnsupportedError(
      'the stream has no VM description after EOF (analyze-migration.py needs one)',
      c.eof ? c.eof.offset + 1 : 0,
      'vmdesc',
    );
  return pythonJson(qemuDescValue(c.vmdesc.json, c.vmdesc.offset)) + '\n';
}

export function qemuDescValue(json: Uint8Array, offset: number): PyValue {
  try {
    return parsePythonJson(new TextDecoder('utf-8').decode(json));
  } catch (e) {
    if (e instanceof PyJsonSyntaxError)
      throw new MalformedError(
        `VM description is not valid JSON: ${e.message}`,
        offset + 5 + e.position,
        'vmdesc',
      );
    throw e;
  }
}

export function qemuStateDict(
  c: StreamContents,
  renderForeign: (s: DeviceSection) => PyValue = foreignValue,
): PyDict {
  // Keyed by section id: a repeated id keeps its first position and takes the later value.
  const bySection = new Map<number, [string, PyValue]>();
  for (const e of c.entries) {
    if (e.type === 'ram-section') {
      if (e.kind !== 'start' && e.kind !== 'full') continue;
      const sizes = new PyDict();
      for (const b of c.ram.blocks)
        sizes.set(utf8FromLatin1(b.name), '0x' + b.length.toString(16).padStart(16, '0'));
      bySection.set(e.sectionId, [e.idstr, new PyDict().set('section sizes', sizes)]);
    } else if (e.type === 'section') {
      const s = e.section;
      if (s.kind !== 'start' && s.kind !== 'full') continue;
      bySection.set(s.sectionId, [
        s.idstr,
        isDescStruct(s.value) ? structDict(s.value) : renderForeign(s),
      ]);
    }
  }
  const out = new PyDict();
  for (const [id, [name, value]] of bySection) out.set(`${utf8FromLatin1(name)} (${id})`, value);
  return out;
}

function structDict(s: DescStruct): PyDict {
  const d = new PyDict();
  // Field names come from the JSON (already text); subsection names are bytes from the stream.
  const fromStream = new Set(s.subsections.map((x) => x.name));
  for (const [name, v] of groupedEntries(s)) {
    const key = fromStream.has(name) ? utf8FromLatin1(name) : name;
    d.set(key, Array.isArray(v) ? v.map(valueOf) : valueOf(v));
  }
  return d;
}

function valueOf(v: DescValue): PyValue {
  switch (v.kind) {
    case 'struct':
      return structDict(v);
    case 'int':
      return formatInt(v.value, v.size);
    case 'bool':
      return v.byte !== 0;
    case 'bytes':
      return hexBytes(v.data);
    case 'nullptr':
      return 'nullptr';
    case 'capability':
      return utf8FromLatin1(v.name);
  }
}

/** '0x' + the value in 2*size hex digits; negative values as their unsigned form then ' (<signed>)'. */
export function formatInt(value: bigint, size: number): string {
  const digits = size * 2;
  if (value < 0n)
    return `0x${BigInt.asUintN(size * 8, value)
      .toString(16)
      .padStart(digits, '0')} (${value})`;
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/** "00 1f ff": written into one buffer, since a cut or hostile stream can hold a buffer of MBs. */
export function hexBytes(data: Uint8Array): string {
  if (data.length === 0) return '';
  const out = Buffer.allocUnsafe(data.length * 3 - 1);
  for (let i = 0, o = 0; i < data.length; i++, o += 3) {
    if (i) out[o - 1] = 0x20;
    out[o] = HEX_DIGITS[data[i] >> 4];
    out[o + 1] = HEX_DIGITS[data[i] & 15];
  }
  return out.toString('latin1');
}

/** Sections the script could not have read (no vmdesc entry): raw bytes, or a catalog's plain value. */
function foreignValue(s: DeviceSection): PyValue {
  // A section the catalog lacks: its bytes, and which device of which catalog it would need.
  if (s.lacks)
    return new PyDict()
      .set('data', hexBytes(s.body))
      .set(
        'lacks',
        new PyDict()
          .set('section', s.lacks.section)
          .set('device', s.lacks.device)
          .set('release', s.lacks.release)
          .set('machine_type', s.lacks.machineType)
          .set('reason', s.lacks.reason),
      );
  if (s.value === undefined) return new PyDict().set('data', hexBytes(s.body));
  return plain(s.value);
}

function plain(v: unknown): PyValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return '0x' + v.toString(16);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return hexBytes(v);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const d = new PyDict();
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) d.set(k, plain(x));
    return d;
  }
  return String(v);
}
