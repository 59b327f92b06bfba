/**
 * JSON the way Python's json module writes it with indent=4, separators (',', ': ') and
 * ensure_ascii, which is what analyze-migration.py prints; plus a parser that keeps key order,
 * duplicate-key semantics and exact integers, so `--dump desc` re-prints the vmdesc as Python does.
 */
import { OutBuffer } from './out-buffer';

/** An ordered mapping (Python's OrderedDict): keys keep their first position, a repeated key replaces the value. */
export class PyDict {
  private readonly map = new Map<string, PyValue>();
  set(key: string, value: PyValue): this {
    this.map.set(key, value);
    return this;
  }
  get(key: string): PyValue | undefined {
    return this.map.get(key);
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  entries(): IterableIterator<[string, PyValue]> {
    return this.map.entries();
  }
  get size(): number {
    return this.map.size;
  }
}

/** A number kept as its exact text (Python ints are unbounded). */
export class PyNumber {
  constructor(readonly text: string) {}
}

export type PyValue = string | boolean | null | number | bigint | PyNumber | PyValue[] | PyDict;

export function pythonJson(value: PyValue, indent = 4): string {
  const out = new OutBuffer();
  writePythonJson(out, value, 0, indent);
  return out.toString();
}

/** Writes `v` as Python's json.dumps(indent) would, nested at `level`, into `out`. */
export function writePythonJson(out: OutBuffer, v: PyValue, level: number, indent = 4): void {
  if (v === null) out.text('null');
  else if (v === true) out.text('true');
  else if (v === false) out.text('false');
  else if (typeof v === 'string') writePyString(out, v);
  else if (typeof v === 'number' || typeof v === 'bigint') out.text(String(v));
  else if (v instanceof PyNumber) out.text(v.text);
  else if (Array.isArray(v)) {
    if (v.length === 0) return out.text('[]');
    out.byte(0x5b);
    for (let i = 0; i < v.length; i++) {
      if (i) out.byte(0x2c);
      out.newline(indent * (level + 1));
      writePythonJson(out, v[i], level + 1, indent);
    }
    out.newline(indent * level);
    out.byte(0x5d);
  } else {
    if (v.size === 0) return out.text('{}');
    out.byte(0x7b);
    let first = true;
    for (const [k, x] of v.entries()) {
      if (!first) out.byte(0x2c);
      first = false;
      out.newline(indent * (level + 1));
      writePyString(out, k);
      out.text(': ');
      writePythonJson(out, x, level + 1, indent);
    }
    out.newline(indent * level);
    out.byte(0x7d);
  }
}

/** pyString(s), written into `out`. */
export function writePyString(out: OutBuffer, s: string): void {
  // Printable ASCII (names, hex values) as is, its bytes kept by the buffer for the next time.
  if (s.length >= 256 || !out.quoted(s)) out.text(pyString(s));
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** Python's ensure_ascii string: printable ASCII as is, everything else escaped (UTF-16 units, lowercase hex). */
export function pyString(s: string): string {
  // Most strings (names, hex dumps of MBs) need no escape: no string built per character.
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const c = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (!short && c >= 0x20 && c <= 0x7e) continue;
    parts.push(s.slice(from, i), short ?? '\\u' + c.toString(16).padStart(4, '0'));
    from = i + 1;
  }
  parts.push(s.slice(from));
  return `"${parts.join('')}"`;
}

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f-\uffff]/;

/** Bytes that QEMU wrote as C strings, decoded as UTF-8 the way the Python script decodes them. */
export function utf8FromLatin1(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
  return new TextDecoder('utf-8').decode(bytes);
}

export class PyJsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at character ${position}`);
  }
}

/** Parses JSON into PyDict/arrays/PyNumber, as json.loads(object_pairs_hook=OrderedDict) would. */
export function parsePythonJson(text: string, maxDepth = 900): PyValue {
  let i = 0;
  const ws = () => {
    while (
      i < text.length &&
      (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')
    )
      i++;
  };
  const fail = (what: string): never => {
    throw new PyJsonSyntaxError(what, i);
  };
  const value = (depth: number): PyValue => {
    if (depth > maxDepth) fail('nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const d = new PyDict();
      ws();
      if (text[i] === '}') {
        i++;
        return d;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = str();
        ws();
        if (text[i++] !== ':') fail("expected ':'");
        d.set(k, value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return d;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a: PyValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) return ((i += 4), true);
    if (text.startsWith('false', i)) return ((i += 5), false);
    if (text.startsWith('null', i)) return ((i += 4), null);
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('expected a value');
    i += m[0].length;
    if (!m[2] && !m[3]) return new PyNumber(BigInt(m[0]).toString());
    return new PyNumber(pyFloatRepr(Number(m[0])));
  };
  const str = (): string => {
    i++;
    let s = '';
    for (;;) {
      const j = i;
      while (i < text.length && text[i] !== '"' && text[i] !== '\\') i++;
      s += text.slice(j, i);
      if (i >= text.length) fail('unterminated string');
      if (text[i] === '"') {
        i++;
        return s;
      }
      const e = text[i + 1];
      i += 2;
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      };
      if (e in simple) s += simple[e];
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i, i + 4))) {
        s += String.fromCharCode(parseInt(text.slice(i, i + 4), 16));
        i += 4;
      } else fail('bad escape');
    }
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('extra data');
  return v;
}

/** Python's repr() of a float, for the rare float in a description. */
function pyFloatRepr(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  const s = String(x);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}
