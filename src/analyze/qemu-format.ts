import { MalformedError, UnsupportedError } from '../errors';
import type { StreamContents } from '../stream/collect';
import type { DescStruct, DescValue } from '../stream/vmdesc-value';
import { groupedEntries, isDescStruct } from '../stream/vmdesc-value';
import type { DeviceSection } from '../stream/section';
import {
  PyDict,
  PyJsonSyntaxError,
  parsePythonJson,
  pythonJson,
  utf8FromLatin1,
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
  return pythonJson(qemuStateDict(c, renderForeign)) + '\n';
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

export function hexBytes(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++)
    s += (i ? ' ' : '') + (data[i] < 16 ? '0' : '') + data[i].toString(16);
  return s;
}

/** Sections the script could not have read (no vmdesc entry): raw bytes, or a catalog's plain value. */
function foreignValue(s: DeviceSection): PyValue {
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
