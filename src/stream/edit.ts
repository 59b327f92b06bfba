import type { DeviceSection } from './section';
import { applyToState, StateEditError } from './edit-state';
import { parseBool, parseHexBytes, parseInteger } from './edit-values';
import type { DescStruct, DescValue } from './vmdesc-value';
import { groupedEntries, isDescStruct } from './vmdesc-value';

/**
 * Field edits on decoded sections: `SECTION/FIELD=VALUE`, where SECTION is `idstr#instance`,
 * `idstr(sectionId)` (or `idstr (sectionId)`, as --format qemu prints it) or a bare idstr, and
 * FIELD uses the names --format qemu shows (`env.eip`, `env.regs[1]`, `env.segs[1].base`,
 * `cpu/poll_control_msr.env.poll_control_msr`).
 */

/** A request that cannot be applied (bad syntax, no such field, a value that does not fit). Not an input-stream error. */
export class EditError extends Error {}

export interface FieldAssignment {
  text: string;
  /** Left-hand side before the field part is known (a bare idstr may itself contain '/'). */
  lhs: string;
  idstr?: string;
  instanceId?: number;
  sectionId?: number;
  field?: string;
  value: string;
  /** Sections it was applied to, for the ambiguity and "not found" checks. */
  applied: number;
}

export function parseAssignment(text: string): FieldAssignment {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new EditError(`--set '${text}': expected SECTION#INSTANCE/FIELD=VALUE`);
  const lhs = text.slice(0, eq).trim();
  const value = text.slice(eq + 1).trim();
  if (!value) throw new EditError(`--set '${text}': no value after '='`);
  const a: FieldAssignment = { text, lhs, value, applied: 0 };
  let m = /^(.+?)#(\d+)\/(.+)$/.exec(lhs);
  if (m) return { ...a, idstr: m[1], instanceId: Number(m[2]), field: m[3] };
  m = /^(.+?)\s*\((\d+)\)\/(.+)$/.exec(lhs);
  if (m) return { ...a, idstr: m[1], sectionId: Number(m[2]), field: m[3] };
  if (!lhs.includes('/'))
    throw new EditError(`--set '${text}': expected SECTION#INSTANCE/FIELD=VALUE`);
  return a;
}

/** The field part of the assignment if it targets this section, else undefined. */
export function matchSection(a: FieldAssignment, s: DeviceSection): string | undefined {
  if (a.field !== undefined) {
    if (a.idstr !== s.idstr) return undefined;
    if (a.instanceId !== undefined && a.instanceId !== s.instanceId) return undefined;
    if (a.sectionId !== undefined && a.sectionId !== s.sectionId) return undefined;
    return a.field;
  }
  return a.lhs.startsWith(s.idstr + '/') && a.lhs.length > s.idstr.length + 1
    ? a.lhs.slice(s.idstr.length + 1)
    : undefined;
}

/** Applies one assignment to a decoded section (FULL/START, vmdesc-decoded) and marks it modified. */
export function applyAssignment(a: FieldAssignment, s: DeviceSection, field: string): void {
  const where = `${s.idstr}#${s.instanceId} (section ${s.sectionId})`;
  if (!isDescStruct(s.value) && s.value && typeof s.value === 'object' && s.codec?.encode) {
    // Decoded by a device catalog: a plain state object, written again by the same codec.
    try {
      applyToState(s, field, a.value);
    } catch (e) {
      if (e instanceof StateEditError) throw new EditError(`--set '${a.text}': ${e.message}`);
      throw e;
    }
    a.applied++;
    return;
  }
  if (!isDescStruct(s.value) || !s.codec?.encode)
    throw new EditError(
      `--set '${a.text}': section ${where} was not decoded field by field (decoded by ${s.decodedBy})`,
    );
  const leaf = resolveField(s.value, field, `${where}`);
  setLeaf(leaf, a.value, `${where}/${field}`);
  s.modified = true;
  a.applied++;
}

/** Finds a field by the names --format qemu prints; names may contain '.', '[' and '/', so the longest key wins. */
export function resolveField(root: DescStruct, path: string, where: string): DescValue {
  let node: DescValue | DescValue[] = root;
  let rest = path;
  let walked = '';
  while (rest.length > 0) {
    if (Array.isArray(node)) {
      const m = /^\[(\d+)\]/.exec(rest);
      if (!m)
        throw new EditError(
          `${where}: '${walked}' is an array of ${node.length}; add an index like ${walked}[0]`,
        );
      const i = Number(m[1]);
      if (i >= node.length)
        throw new EditError(
          `${where}: index ${i} is out of range for '${walked}' (${node.length} elements)`,
        );
      node = node[i];
      walked += m[0];
      rest = rest.slice(m[0].length);
      continue;
    }
    if (node.kind !== 'struct')
      throw new EditError(`${where}: '${walked}' is a ${node.type}, it has no field '${rest}'`);
    if (walked) {
      if (!rest.startsWith('.')) throw new EditError(`${where}: expected '.' after '${walked}'`);
      rest = rest.slice(1);
      walked += '.';
    }
    const entries = groupedEntries(node);
    let best: [string, DescValue | DescValue[]] | undefined;
    for (const [k, v] of entries) {
      if (
        rest === k ||
        (rest.startsWith(k) && (rest[k.length] === '.' || rest[k.length] === '['))
      ) {
        if (!best || k.length > best[0].length) best = [k, v];
      }
    }
    if (!best) {
      const names = entries.map(([k]) => k);
      throw new EditError(
        `${where}: no field '${rest}'${walked ? ` in '${walked.slice(0, -1)}'` : ''} (fields: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''})`,
      );
    }
    node = best[1];
    walked += best[0];
    rest = rest.slice(best[0].length);
  }
  if (Array.isArray(node))
    throw new EditError(
      `${where}: '${walked}' is an array of ${node.length}; add an index like ${walked}[0]`,
    );
  return node;
}

function setLeaf(leaf: DescValue, text: string, where: string): void {
  switch (leaf.kind) {
    case 'int': {
      const v = parseInteger(text);
      if (v === undefined)
        throw new EditError(
          `${where}: '${text}' is not an integer (field type ${leaf.type}, ${leaf.size} byte(s))`,
        );
      const bits = BigInt(leaf.size * 8);
      const min = leaf.signed ? -(1n << (bits - 1n)) : 0n;
      const max = (1n << bits) - 1n;
      if (v < min || v > max)
        throw new EditError(
          `${where}: ${text} does not fit the field (${leaf.type}, ${leaf.size} byte(s): ${leaf.signed ? `${min}..${max} (or its unsigned form)` : `0..0x${max.toString(16)}`})`,
        );
      leaf.value = leaf.signed ? BigInt.asIntN(leaf.size * 8, v) : v;
      return;
    }
    case 'bool': {
      const b = parseBool(text);
      if (b === undefined)
        throw new EditError(`${where}: '${text}' is not a bool (true/false/1/0)`);
      leaf.byte = b ? 1 : 0;
      return;
    }
    case 'bytes': {
      const bytes = parseHexBytes(text, leaf.size);
      if (!(bytes instanceof Uint8Array)) {
        if (bytes.problem === 'not-hex')
          throw new EditError(
            `${where}: '${text}' is not hex bytes (field type ${leaf.type}, ${leaf.size} byte(s), e.g. "00 11 22")`,
          );
        throw new EditError(
          `${where}: ${bytes.given} byte(s) given, the field (${leaf.type}) holds exactly ${leaf.size}`,
        );
      }
      leaf.data = bytes;
      delete leaf.inner;
      return;
    }
    case 'struct':
      throw new EditError(`${where}: is a struct; name one of its fields`);
    case 'capability':
    case 'nullptr':
      throw new EditError(`${where}: fields of type ${leaf.type} cannot be edited`);
  }
}
