/**
 * The field lists of a compiled plan as generated code: one function per description for its
 * fields' save and one for their load, built once with `new Function`, as ajv and similar
 * validators do. A plain field is then a named property access, an inline range check and one
 * writer or reader call, with no closure call per field and no keyed lookup; V8 optimizes the
 * whole list as one function. Fields the generated code does not know (structs, custom kinds,
 * counts from other fields) call the closure plan.ts already makes for them, handed in as `X`.
 * Like the closures, the code gives up with NOT_FAST (through `nf`) where the interpreter must
 * take over; it never builds an error.
 */
import type { ByteReader } from '../bytes/reader';
import type { ByteWriter } from '../bytes/writer';
import type { AnyField } from '../dsl/field';
import type { FastCodec } from '../dsl/fast-codec';
import type { State } from '../dsl/kind';

/** What the generated code is handed: closures and values it refers to by index. */
type Externals = unknown[];

export type FieldsSaver<IO> = (w: ByteWriter, s: State, io: IO) => void;
export type FieldsLoader<IO> = (r: ByteReader, s: State, version: number, io: IO) => void;

/** One field's part of the generated save, or a closure to call for it. */
export type SavePart =
  | { readonly code: 'value'; readonly codec: FastCodec }
  | { readonly code: 'array'; readonly codec: FastCodec; readonly n: number }
  | { readonly code: 'call'; readonly op: (w: ByteWriter, s: State, io: never) => void };

export type LoadPart =
  | { readonly code: 'value'; readonly codec: FastCodec }
  | { readonly code: 'array'; readonly codec: FastCodec; readonly n: number; readonly min: number }
  | {
      readonly code: 'call';
      readonly op: (r: ByteReader, s: State, version: number, io: never) => void;
    };

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** The check and the write of one value `v` of a plain kind, as source text. */
function writeCode(codec: FastCodec, v: string): string {
  switch (codec.op) {
    case 'u8':
      return `if ((${v} & 0xff) === ${v}) w.u8(${v}); else nf();`;
    case 'i8':
      return `if (((${v} << 24) >> 24) === ${v}) w.u8(${v} & 0xff); else nf();`;
    case 'u16':
      return `if ((${v} & 0xffff) === ${v}) w.u16(${v}); else nf();`;
    case 'i16':
      return `if (((${v} << 16) >> 16) === ${v}) w.i16(${v}); else nf();`;
    case 'u32':
      return `if ((${v} >>> 0) === ${v}) w.u32(${v}); else nf();`;
    case 'i32':
      return `if ((${v} | 0) === ${v}) w.i32(${v}); else nf();`;
    case 'u64':
      return `if (typeof ${v} === 'bigint' && ${v} >= 0n && ${v} <= U64_MAX) w.u64(${v}); else nf();`;
    case 'i64':
      return `if (typeof ${v} === 'bigint' && ${v} >= I64_MIN && ${v} <= I64_MAX) w.i64(${v}); else nf();`;
    case 'bool':
      return `if (typeof ${v} === 'boolean') w.u8(${v} ? 1 : 0); else nf();`;
    case 'bytes':
      return `if (${v} instanceof Uint8Array && ${v}.length === ${codec.size}) w.bytes(${v}); else nf();`;
  }
}

/** The read of one value of a plain kind, as a source expression. */
function readCode(codec: FastCodec): string {
  switch (codec.op) {
    case 'bool':
      return 'r.u8() !== 0';
    case 'bytes':
      return `r.bytesCopy(${codec.size})`;
    default:
      return `r.${codec.op}()`;
  }
}

/** Where a field is sent: always, when its test holds, or from a stream version on (load only). */
export interface Gate {
  readonly exists?: unknown;
  /** Load: the stream version the field is in from, when above the description's minimum. */
  readonly from?: number;
  /** Load: the field, recorded as missed when the gate is shut. */
  readonly field?: AnyField;
}

const key = (k: string) => JSON.stringify(k);

/** Builds a description's field save; `version` is the description's own (the one it writes). */
export function generateSave<IO>(
  parts: ReadonlyArray<{ part: SavePart; gate: Gate; validate?: unknown }>,
  keys: readonly string[],
  version: number,
  nf: () => never,
): FieldsSaver<IO> {
  const x: Externals = [];
  const ext = (v: unknown) => `X[${x.push(v) - 1}]`;
  const lines: string[] = [];
  parts.forEach(({ part, gate, validate }, i) => {
    if (validate) {
      lines.push(`if (!${ext(validate)}(s, ${version}, io.ctx)) nf();`);
      return;
    }
    let body: string;
    if (part.code === 'call') body = `${ext(part.op)}(w, s, io);`;
    else if (part.code === 'value')
      body = `{ const v = s[${key(keys[i])}]; ${writeCode(part.codec, 'v')} }`;
    else
      body =
        `{ const a = s[${key(keys[i])}]; if (!Array.isArray(a) || a.length !== ${part.n}) nf(); ` +
        `for (let i = 0; i < ${part.n}; i++) { const v = a[i]; ${writeCode(part.codec, 'v')} } }`;
    lines.push(gate.exists ? `if (${ext(gate.exists)}(s, ${version}, io.ctx)) ${body}` : body);
  });
  const make = new Function(
    'X',
    'nf',
    'U64_MAX',
    'I64_MIN',
    'I64_MAX',
    `"use strict"; return function saveFields(w, s, io) {\n${lines.join('\n')}\n};`,
  ) as (...a: unknown[]) => FieldsSaver<IO>;
  return make(x, nf, U64_MAX, I64_MIN, I64_MAX);
}

/** Builds a description's field load; the stream's version is the `ver` argument. */
export function generateLoad<IO>(
  parts: ReadonlyArray<{ part: LoadPart; gate: Gate; validate?: unknown }>,
  keys: readonly string[],
  nf: () => never,
): FieldsLoader<IO> {
  const x: Externals = [];
  const ext = (v: unknown) => `X[${x.push(v) - 1}]`;
  const lines: string[] = [];
  parts.forEach(({ part, gate, validate }, i) => {
    if (validate) {
      lines.push(`if (!${ext(validate)}(s, ver, io.ctx)) nf();`);
      return;
    }
    let body: string;
    if (part.code === 'call') body = `${ext(part.op)}(r, s, ver, io);`;
    else if (part.code === 'value') body = `s[${key(keys[i])}] = ${readCode(part.codec)};`;
    else
      body =
        `{ if (${part.n * part.min} > r.remaining) nf(); const out = new Array(${part.n}); ` +
        `for (let i = 0; i < ${part.n}; i++) out[i] = ${readCode(part.codec)}; s[${key(keys[i])}] = out; }`;
    if (gate.exists)
      lines.push(
        `if (${ext(gate.exists)}(s, ver, io.ctx)) ${body} else io.missed.push(${ext(gate.field)});`,
      );
    else if (gate.from !== undefined)
      lines.push(`if (${gate.from} <= ver) ${body} else io.missed.push(${ext(gate.field)});`);
    else lines.push(body);
  });
  const make = new Function(
    'X',
    'nf',
    `"use strict"; return function loadFields(r, s, ver, io) {\n${lines.join('\n')}\n};`,
  ) as (...a: unknown[]) => FieldsLoader<IO>;
  return make(x, nf);
}
