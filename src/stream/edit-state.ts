/**
 * Field edits on sections decoded by a device catalog (streams without a VM description): the
 * value is a plain state object keyed by QEMU's field names, with arrays and nested structs.
 * The codec that decoded the section writes it again, and checks the new value on the way.
 */
import { ByteWriter } from '../bytes/writer';
import { VMStateError } from '../errors';
import type { State } from '../dsl/kind';
import type { DeviceSection } from './section';
import { parseBool, parseHexBytes, parseInteger } from './edit-values';

export class StateEditError extends Error {}

/** Sets `path` (names as --format qemu shows them) in a catalog-decoded section to `text`. */
export function applyToState(s: DeviceSection, path: string, text: string): void {
  const where = `${s.idstr}#${s.instanceId} (section ${s.sectionId})/${path}`;
  const { parent, key } = locate(s.value as State, path, where);
  const old = parent[key as never] as unknown;
  const next = converted(old, text, where);
  parent[key as never] = next as never;
  // Encode once now: a value the field cannot hold is the user's mistake, said here, not a broken stream later.
  try {
    s.codec!.encode!(new ByteWriter(), s.value, s);
  } catch (e) {
    parent[key as never] = old as never;
    if (e instanceof VMStateError)
      throw new StateEditError(`${where}: ${text} does not fit the field: ${e.what}`);
    throw e;
  }
  s.modified = true;
}

/** Walks objects by their longest matching key (keys hold '.' and '[') and arrays by [index]. */
function locate(
  root: State,
  path: string,
  where: string,
): { parent: State | unknown[]; key: string | number } {
  let node: unknown = root;
  let rest = path;
  // Subsection fields live in the parent's state: a leading `cpu/some_subsection.` names nothing of its own.
  const sub = /^[^.[\]]*\/[^.[\]]*\./.exec(rest);
  if (sub && !(sub[0].slice(0, -1) in root)) rest = rest.slice(sub[0].length);
  for (;;) {
    if (Array.isArray(node)) {
      const m = /^\[(\d+)\]/.exec(rest);
      if (!m)
        throw new StateEditError(`${where}: an array of ${node.length} needs an index like [0]`);
      const i = Number(m[1]);
      if (i >= node.length)
        throw new StateEditError(`${where}: index ${i} is out of range (${node.length} elements)`);
      rest = rest.slice(m[0].length);
      if (!rest) return { parent: node, key: i };
      node = node[i];
      continue;
    }
    if (!node || typeof node !== 'object' || node instanceof Uint8Array)
      throw new StateEditError(`${where}: '${rest}' is inside a value that has no fields`);
    if (rest.startsWith('.')) rest = rest.slice(1);
    const obj = node as State;
    let best: string | undefined;
    for (const k of Object.keys(obj))
      if (
        (rest === k ||
          (rest.startsWith(k) && (rest[k.length] === '.' || rest[k.length] === '['))) &&
        (!best || k.length > best.length)
      )
        best = k;
    if (best === undefined) {
      const names = Object.keys(obj);
      throw new StateEditError(
        `${where}: no field '${rest}' (fields: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''})`,
      );
    }
    rest = rest.slice(best.length);
    if (!rest) return { parent: obj, key: best };
    node = obj[best];
  }
}

/** The new value in the old value's representation; range checks are the codec's. */
function converted(old: unknown, text: string, where: string): unknown {
  if (typeof old === 'bigint' || typeof old === 'number') {
    const v = parseInteger(text);
    if (v === undefined) throw new StateEditError(`${where}: '${text}' is not an integer`);
    if (typeof old === 'bigint') return v;
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new StateEditError(`${where}: ${text} does not fit the field`);
    return Number(v);
  }
  if (typeof old === 'boolean') {
    const b = parseBool(text);
    if (b === undefined)
      throw new StateEditError(`${where}: '${text}' is not a bool (true/false/1/0)`);
    return b;
  }
  if (old instanceof Uint8Array) {
    const bytes = parseHexBytes(text, old.length);
    if (bytes instanceof Uint8Array) return bytes;
    if (bytes.problem === 'not-hex')
      throw new StateEditError(`${where}: '${text}' is not hex bytes`);
    throw new StateEditError(
      `${where}: ${bytes.given} byte(s) given, the field holds exactly ${old.length}`,
    );
  }
  throw new StateEditError(`${where}: is a struct or an array; name one of its fields`);
}
