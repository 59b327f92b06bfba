/**
 * The field lists of a compiled plan as generated code: one function per description for its
 * fields' save and one for their load, built once with `new Function`, as ajv and similar
 * validators do. A plain field is a named property access, an inline range check and one typed
 * store into (or load from) the bytes themselves, at a position kept in a local: no method call,
 * closure call or keyed lookup per field, and V8 optimizes the whole list as one function. A
 * struct field whose description is a plain list of fields (the cpu's segments and register
 * files) is written and read inline too, the struct's fields on its own object. Fields the code
 * does not know (custom kinds, counts from other fields, structs with hooks or subsections) call
 * the closure plan.ts makes for them. Like the closures, the code gives up with NOT_FAST (through
 * `nf`) where the interpreter must take over; it never builds an error.
 */
import type { ByteReader } from '../bytes/reader';
import type { ByteWriter } from '../bytes/writer';
import type { AnyField } from '../dsl/field';
import {
  fastReads,
  fastWrites,
  structReads,
  structWrites,
  type FastCodec,
} from '../dsl/fast-codec';
import type { State } from '../dsl/kind';
import type { AnyVMSDesc } from '../dsl/vmsd';

/**
 * Where generated saves put their bytes before they go to the ByteWriter in one copy: a buffer
 * with the write position. A saving function first makes room for all it can write (`room`);
 * before it calls a closure, which writes to the ByteWriter itself, it hands over what it holds
 * (`flush`), so the bytes keep their order.
 */
export interface SaveScratch {
  buf: Uint8Array;
  dv: DataView;
  p: number;
  room(w: ByteWriter, n: number): void;
  flush(w: ByteWriter): void;
}

/** What generated loads need besides the reader: a DataView over its bytes and the fields missed. */
export interface LoadScratch {
  readonly dv: DataView;
  readonly missed: unknown[];
  readonly ctx: unknown;
}

export type FieldsSaver<IO extends SaveScratch> = (w: ByteWriter, s: State, io: IO) => void;
export type FieldsLoader<IO extends LoadScratch> = (
  r: ByteReader,
  s: State,
  version: number,
  io: IO,
) => void;

export type SaveCall = (w: ByteWriter, s: State, io: never) => void;
export type LoadCall = (r: ByteReader, s: State, version: number, io: never) => void;

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
/** The bigints 0..255, shared by every load: most registers hold such values (bigints are immutable). */
const SMALL: readonly bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));

const key = (k: string) => JSON.stringify(k);

function codecSize(codec: FastCodec): number {
  switch (codec.op) {
    case 'u8':
    case 'i8':
    case 'bool':
      return 1;
    case 'u16':
    case 'i16':
      return 2;
    case 'u32':
    case 'i32':
      return 4;
    case 'u64':
    case 'i64':
      return 8;
    case 'bytes':
      return codec.size;
  }
}

/** The check of one value `v` of a plain kind and its store at `p`, as source text. */
function writeCode(codec: FastCodec, v: string): string {
  switch (codec.op) {
    case 'u8':
      return `if ((${v} & 0xff) !== ${v}) nf(); buf[p++] = ${v};`;
    case 'i8':
      return `if (((${v} << 24) >> 24) !== ${v}) nf(); buf[p++] = ${v} & 0xff;`;
    case 'u16':
      return `if ((${v} & 0xffff) !== ${v}) nf(); dv.setUint16(p, ${v}); p += 2;`;
    case 'i16':
      return `if (((${v} << 16) >> 16) !== ${v}) nf(); dv.setInt16(p, ${v}); p += 2;`;
    case 'u32':
      return `if ((${v} >>> 0) !== ${v}) nf(); dv.setUint32(p, ${v}); p += 4;`;
    case 'i32':
      return `if ((${v} | 0) !== ${v}) nf(); dv.setInt32(p, ${v}); p += 4;`;
    // Zero first: most of a cpu's 64-bit values are 0n, and comparing with it is far cheaper
    // than the range check and the bigint store.
    case 'u64':
      return (
        `if (${v} === 0n) { dv.setUint32(p, 0); dv.setUint32(p + 4, 0); } ` +
        `else if (typeof ${v} !== 'bigint' || ${v} < 0n || ${v} > U64_MAX) nf(); else dv.setBigUint64(p, ${v}); p += 8;`
      );
    case 'i64':
      return (
        `if (${v} === 0n) { dv.setUint32(p, 0); dv.setUint32(p + 4, 0); } ` +
        `else if (typeof ${v} !== 'bigint' || ${v} < I64_MIN || ${v} > I64_MAX) nf(); else dv.setBigInt64(p, ${v}); p += 8;`
      );
    case 'bool':
      return `if (typeof ${v} !== 'boolean') nf(); buf[p++] = ${v} ? 1 : 0;`;
    case 'bytes':
      return `if (!(${v} instanceof Uint8Array) || ${v}.length !== ${codec.size}) nf(); buf.set(${v}, p); p += ${codec.size};`;
  }
}

/**
 * The value of a plain kind at `p` (bounds already checked), as a source expression. A 64-bit
 * value below 256 is one of the shared bigints: no allocation for the zeros most of a cpu holds.
 */
function readExpr(codec: FastCodec): string {
  switch (codec.op) {
    case 'u8':
      return 'b[p]';
    case 'i8':
      return '((b[p] << 24) >> 24)';
    case 'bool':
      return 'b[p] !== 0';
    case 'u16':
      return 'dv.getUint16(p)';
    case 'i16':
      return 'dv.getInt16(p)';
    case 'u32':
      return 'dv.getUint32(p)';
    case 'i32':
      return 'dv.getInt32(p)';
    case 'u64':
      return '(dv.getUint32(p) === 0 && (t = dv.getUint32(p + 4)) < 256 ? SMALL[t] : dv.getBigUint64(p))';
    case 'i64':
      return '(dv.getInt32(p) === 0 && (t = dv.getUint32(p + 4)) < 256 ? SMALL[t] : dv.getBigInt64(p))';
    case 'bytes':
      return `b.slice(p, p + ${codec.size})`;
  }
}

/** A field's plain codec for saving, when its kind keeps the plain write with its check. */
function saveCodec(f: AnyField): FastCodec | undefined {
  const fast = fastWrites.get(f.kind.write);
  return fast && fast.check === f.kind.check ? fast.codec : undefined;
}

function latin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** A struct's description the save writes inline: no hooks and no subsections, so only its fields. */
function inlineSaveStruct(f: AnyField): AnyVMSDesc | undefined {
  const st = structWrites.get(f.kind.write);
  if (!st || st.check !== f.kind.check) return undefined;
  const d = st.desc as AnyVMSDesc;
  const plain = !d.pre_save && !d.post_save && d.subsections.length === 0 && latin1(d.name);
  return plain ? d : undefined;
}

/** The fields a description saves: its own version's, since that is the version it writes. */
export function sentFields(d: AnyVMSDesc): readonly AnyField[] {
  return d.fields.filter((f) => f.shape === 'validate' || f.exists || f.version <= d.version_id);
}

/** Shared by one generated function: its externals, fresh local names and the bytes it may store. */
class Code {
  readonly x: unknown[] = [];
  private names = 0;
  bytes = 0;
  ext(v: unknown): string {
    return `X[${this.x.push(v) - 1}]`;
  }
  local(prefix: string): string {
    return `${prefix}${this.names++}`;
  }
}

/**
 * Builds a description's field save; `version` is the description's own (the one it writes).
 * `call` gives the closure of a field the code does not write itself.
 */
export function generateSave<IO extends SaveScratch>(
  d: AnyVMSDesc,
  call: (f: AnyField) => SaveCall,
  nf: () => never,
): FieldsSaver<IO> {
  const c = new Code();
  const body = saveFieldsCode(c, sentFields(d), d.version_id, 's', call);
  const make = new Function(
    'X',
    'nf',
    'U64_MAX',
    'I64_MIN',
    'I64_MAX',
    `"use strict"; return function saveFields(w, s, io) {\n` +
      `if (io.p + ${c.bytes} > io.buf.length) io.room(w, ${c.bytes});\n` +
      `let buf = io.buf, dv = io.dv, p = io.p; const ctx = io.ctx;\n${body}\nio.p = p;\n};`,
  ) as (...a: unknown[]) => FieldsSaver<IO>;
  return make(c.x, nf, U64_MAX, I64_MIN, I64_MAX);
}

function saveFieldsCode(
  c: Code,
  fields: readonly AnyField[],
  version: number,
  s: string,
  call: (f: AnyField) => SaveCall,
): string {
  const lines: string[] = [];
  for (const f of fields) {
    if (f.shape === 'validate') {
      lines.push(`if (!${c.ext(f.validate!.test)}(${s}, ${version}, ctx)) nf();`);
      continue;
    }
    const body = saveFieldCode(c, f, s, call);
    lines.push(f.exists ? `if (${c.ext(f.exists)}(${s}, ${version}, ctx)) { ${body} }` : body);
  }
  return lines.join('\n');
}

function saveFieldCode(c: Code, f: AnyField, s: string, call: (f: AnyField) => SaveCall): string {
  const v = `${s}[${key(f.key)}]`;
  const codec = saveCodec(f);
  const fixed = f.shape === 'array' && f.count.from === 'fixed' ? f.count.n : undefined;
  if (f.shape === 'unused') {
    const n = f.kind.wireSize!;
    c.bytes += n;
    return `buf.fill(0, p, p + ${n}); p += ${n};`;
  }
  if (codec && f.shape === 'value') {
    c.bytes += codecSize(codec);
    return `{ const v = ${v}; ${writeCode(codec, 'v')} }`;
  }
  if (codec && fixed !== undefined) {
    c.bytes += fixed * codecSize(codec);
    const i = c.local('i');
    return (
      `{ const a = ${v}; if (!Array.isArray(a) || a.length !== ${fixed}) nf(); ` +
      `for (let ${i} = 0; ${i} < ${fixed}; ${i}++) { const v = a[${i}]; ${writeCode(codec, 'v')} } }`
    );
  }
  const nested = inlineSaveStruct(f);
  if (nested && (f.shape === 'value' || fixed !== undefined)) {
    const o = c.local('o');
    const before = c.bytes;
    const inner = saveFieldsCode(c, sentFields(nested), nested.version_id, o, call);
    const isObject = `if (${o} === null || typeof ${o} !== 'object' || Array.isArray(${o})) nf();`;
    if (f.shape === 'value') return `{ const ${o} = ${v}; ${isObject}\n${inner}\n}`;
    c.bytes = before + (c.bytes - before) * fixed!;
    const a = c.local('a');
    const i = c.local('i');
    return (
      `{ const ${a} = ${v}; if (!Array.isArray(${a}) || ${a}.length !== ${fixed}) nf(); ` +
      `for (let ${i} = 0; ${i} < ${fixed}; ${i}++) { const ${o} = ${a}[${i}]; ${isObject}\n${inner}\n} }`
    );
  }
  // The closure writes to the ByteWriter itself (and may run nested plans, which may replace
  // the scratch buffer with a larger one).
  return `io.p = p; io.flush(w); ${c.ext(call(f))}(w, ${s}, io); buf = io.buf; dv = io.dv; p = io.p;`;
}

/** Where a field is read: always, when its test holds, or from a stream version on. */
function loadGateOpen(c: Code, f: AnyField, minimumVersion: number, s: string): string | undefined {
  if (f.exists) return `${c.ext(f.exists)}(${s}, ver, ctx)`;
  return f.version > minimumVersion ? `${f.version} <= ver` : undefined;
}

/**
 * A struct's description the load reads inline: a plain list of always-present plain fields
 * (or such structs), without hooks or subsections, so an element is its fields' values in order.
 */
function inlineLoadStruct(f: AnyField): AnyVMSDesc | undefined {
  const d = structReads.get(f.kind.read) as AnyVMSDesc | undefined;
  if (!d) return undefined;
  const plain =
    !d.pre_load &&
    !d.post_load &&
    d.subsections.length === 0 &&
    latin1(d.name) &&
    d.minimum_version_id <= d.version_id &&
    d.fields.every(
      (g) =>
        !g.exists &&
        g.version <= d.version_id &&
        ((g.shape === 'unused' && Number.isSafeInteger(g.kind.wireSize)) ||
          ((g.shape === 'value' || (g.shape === 'array' && g.count.from === 'fixed')) &&
            (fastReads.has(g.kind.read) || inlineLoadStruct(g) !== undefined))),
    );
  return plain ? d : undefined;
}

/** Builds a description's field load; the stream's version is the `ver` argument. */
export function generateLoad<IO extends LoadScratch>(
  d: AnyVMSDesc,
  call: (f: AnyField) => LoadCall,
  nf: () => never,
): FieldsLoader<IO> {
  const c = new Code();
  const lines: string[] = [];
  for (const f of d.fields) {
    if (f.shape === 'validate') {
      lines.push(`if (!${c.ext(f.validate!.test)}(s, ver, ctx)) nf();`);
      continue;
    }
    const body = loadFieldCode(c, f, 's', call);
    const open = loadGateOpen(c, f, d.minimum_version_id, 's');
    lines.push(open ? `if (${open}) { ${body} } else io.missed.push(${c.ext(f)});` : body);
  }
  const make = new Function(
    'X',
    'nf',
    'SMALL',
    `"use strict"; return function loadFields(r, s, ver, io) {\n` +
      `const b = r.bytes, end = b.length, dv = io.dv, ctx = io.ctx; let p = r.pos, t = 0;\n` +
      `${lines.join('\n')}\nr.pos = p;\n};`,
  ) as (...a: unknown[]) => FieldsLoader<IO>;
  return make(c.x, nf, SMALL);
}

/** Reads one value of a plain kind into `target` (an assignable expression or a `const` name). */
function readInto(codec: FastCodec, target: string): string {
  const n = codecSize(codec);
  return `if (p + ${n} > end) nf(); ${target} = ${readExpr(codec)}; p += ${n};`;
}

function loadFieldCode(c: Code, f: AnyField, s: string, call: (f: AnyField) => LoadCall): string {
  const target = `${s}[${key(f.key)}]`;
  const codec = fastReads.get(f.kind.read);
  if (f.shape === 'unused') {
    const n = f.kind.wireSize!;
    return `if (p + ${n} > end) nf(); p += ${n};`;
  }
  if (codec && f.shape === 'value') return readInto(codec, target);
  if (codec || inlineLoadStruct(f)) {
    const value = valueCode(c, f, target);
    if (value) return `{ ${value.code}\n${target} = ${value.result}; }`;
  }
  return `r.pos = p; ${c.ext(call(f))}(r, ${s}, ver, io); p = r.pos;`;
}

/**
 * The load of a plain value, a fixed array of them, or an inline struct (or a fixed array of
 * them) into a local: the code and the local's name. `current` is the receiver's value, as the
 * kind's read gets it (undefined: known to be absent). Undefined for any other field.
 */
function valueCode(
  c: Code,
  f: AnyField,
  current: string | undefined,
): { code: string; result: string } | undefined {
  const codec = fastReads.get(f.kind.read);
  const fixed = f.shape === 'array' && f.count.from === 'fixed' ? f.count.n : undefined;
  const v = c.local('v');
  if (codec && f.shape === 'value') return { code: `let ${v}; ${readInto(codec, v)}`, result: v };
  if (codec && fixed !== undefined) {
    const n = codecSize(codec);
    const i = c.local('i');
    return {
      code:
        `if (p + ${fixed * n} > end) nf(); const ${v} = new Array(${fixed}); ` +
        `for (let ${i} = 0; ${i} < ${fixed}; ${i}++) { ${v}[${i}] = ${readExpr(codec)}; p += ${n}; }`,
      result: v,
    };
  }
  const nested = inlineLoadStruct(f);
  if (nested && f.shape === 'value') return structLoadCode(c, nested, current);
  if (nested && fixed !== undefined) {
    // Each element loaded into the receiver's element when it has one, as the kind's read.
    const i = c.local('i');
    const cur = c.local('c');
    const element = structLoadCode(
      c,
      nested,
      current === undefined ? undefined : `${i} < ${cur}.length ? ${cur}[${i}] : undefined`,
    );
    const receiver =
      current === undefined ? '' : `const ${cur} = Array.isArray(${current}) ? ${current} : [];\n`;
    return {
      code:
        `${receiver}const ${v} = new Array(${fixed});\n` +
        `for (let ${i} = 0; ${i} < ${fixed}; ${i}++) { ${element.code}\n${v}[${i}] = ${element.result}; }`,
      result: v,
    };
  }
  return undefined;
}

/**
 * The load of one inline struct as the kind's read does it: into the receiver's value `current`
 * when that is an object, else into a new object with the keys in field order (one object
 * literal, so every element gets the same shape).
 */
function structLoadCode(
  c: Code,
  d: AnyVMSDesc,
  current: string | undefined,
): { code: string; result: string } {
  const o = c.local('o');
  const fresh: string[] = [];
  const props: string[] = [];
  for (const f of d.fields) {
    if (f.shape === 'unused') {
      fresh.push(`if (p + ${f.kind.wireSize!} > end) nf(); p += ${f.kind.wireSize!};`);
      continue;
    }
    const value = valueCode(c, f, undefined)!;
    fresh.push(value.code);
    props.push(`${key(f.key)}: ${value.result}`);
  }
  fresh.push(`${o} = { ${props.join(', ')} };`);
  if (current === undefined) return { code: `let ${o};\n${fresh.join('\n')}`, result: o };
  const inPlace: string[] = [];
  for (const f of d.fields) {
    if (f.shape === 'unused') {
      inPlace.push(`if (p + ${f.kind.wireSize!} > end) nf(); p += ${f.kind.wireSize!};`);
      continue;
    }
    const target = `${o}[${key(f.key)}]`;
    const value = valueCode(c, f, target)!;
    inPlace.push(`{ ${value.code}\n${target} = ${value.result}; }`);
  }
  return {
    code:
      `let ${o} = ${current};\n` +
      `if (${o} !== null && typeof ${o} === 'object') {\n${inPlace.join('\n')}\n} else {\n${fresh.join('\n')}\n}`,
    result: o,
  };
}
