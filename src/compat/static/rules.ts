import { type CheckDesc, type CheckField, type CheckSet, fieldWireSize } from './model';

/** How bad a finding is: `break` fails a migration (exit 1), the others are for a reviewer. */
export type Severity = 'break' | 'warning' | 'info';

/** One finding, named by a stable rule id in the style of `buf breaking`. */
export interface Finding {
  rule: RuleId;
  severity: Severity;
  /** The top-level entry (QOM type or section name) it is about. */
  entry: string;
  /** Path inside it: description names, fields, subsections. */
  path: string;
  message: string;
  /** 'forward' (old stream into the new side) or 'backward' (new stream into the old side). */
  direction: Direction;
}

export type Direction = 'forward' | 'backward';

/** Every rule the checker knows, with what it means. README lists them from here. */
export const RULES = {
  SECTION_MISSING: {
    severity: 'break',
    about:
      'a section the source sends does not exist on the destination ("Unknown savevm section")',
  },
  DEVICE_CLASS_MISSING: {
    severity: 'warning',
    about:
      "a device class of the source's dump is not in the destination's: the destination cannot create such a device (a VM with it does not start there, so nothing migrates), or registers that state outside the class, which no dump shows (`vmstate predict` on a stream checks it)",
  },
  DEVICE_CLASS_NOT_MODELLED: {
    severity: 'info',
    about:
      "a device class of the dump that the release's device catalog does not describe (`vmstate check RELEASE DUMP`): not compared",
  },
  DEVICE_UNMIGRATABLE: {
    severity: 'warning',
    about:
      "one side's description has no field and no subsection, which is how QEMU declares a device `unmigratable`: a VM with it is blocked from migrating from that release, and a dump cannot say more",
  },
  MACHINE_TYPE_DIFFERS: {
    severity: 'break',
    about:
      "the two sides are on different machine types: QEMU refuses the stream at its configuration section (\"Machine type received is 'X' and local is 'Y'\")",
  },
  VERSION_TOO_NEW: {
    severity: 'break',
    about: "the source's version_id is above the destination's version_id",
  },
  VERSION_TOO_OLD: {
    severity: 'break',
    about: "the source's version_id is below the destination's minimum_version_id",
  },
  DESCRIPTION_RENAMED: {
    severity: 'break',
    about: 'a top-level or subsection description changed its name, which is on the wire',
  },
  STRUCT_DESCRIPTION_RENAMED: {
    severity: 'info',
    about:
      "a nested struct's description changed its name; no bytes change (it has no subsections)",
  },
  FIELD_RENAMED: {
    severity: 'info',
    about: 'a field changed its name but not its size or type: names are not on the wire',
  },
  FIELD_SIZE_CHANGED: { severity: 'break', about: 'a field takes a different number of bytes' },
  FIELD_TYPE_CHANGED: {
    severity: 'warning',
    about:
      'a field of the same size changed its type (e.g. signedness): the bytes load, their meaning may not',
  },
  FIELD_TEST_CHANGED: {
    severity: 'warning',
    about: 'a field gained or lost a test (field_exists): both sides must decide alike',
  },
  FIELD_VERSION_CHANGED: {
    severity: 'break',
    about: 'a field is gated by a different version on each side',
  },
  FIELD_MISSING_ON_DESTINATION: {
    severity: 'break',
    about:
      'the source writes more fields than the destination reads: the rest of the stream is misread',
  },
  FIELD_APPENDED_WITHOUT_VERSION_BUMP: {
    severity: 'break',
    about:
      'the destination reads a field the source never writes, with no version gate or new subsection (what vmstate-static-checker.py cannot see)',
  },
  FIELD_REPLACED_BY_UNUSED: {
    severity: 'info',
    about: 'removed fields were replaced by an unused placeholder of the same size',
  },
  UNUSED_SIZE_MISMATCH: {
    severity: 'break',
    about: 'an unused placeholder does not match the bytes it stands for',
  },
  VARRAY_MAX_GREW: {
    severity: 'break',
    about:
      "a variable array's maximum is larger on the source: it may send more elements than the destination accepts",
  },
  VARRAY_LENGTH_FIELD_SHRANK: {
    severity: 'break',
    about: "the field holding a variable array's length got narrower on the destination",
  },
  SUBSECTION_UNKNOWN_TO_DESTINATION_IF_NEEDED: {
    severity: 'warning',
    about:
      "the source's dump has a subsection the destination does not know: the load is refused whenever its needed() holds, which a -dump-vmstate file does not say (`vmstate predict` on a stream does)",
  },
  SUBSECTION_DIFFERS_IF_NEEDED: {
    severity: 'warning',
    about:
      "a subsection of the source's dump loads differently on the destination (its version, its fields): refused whenever its needed() holds, which a dump does not say",
  },
  SUBSECTION_UNKNOWN_TO_DESTINATION: {
    severity: 'break',
    about:
      'the source has a subsection the destination does not know: the load fails whenever its needed() holds',
  },
  SUBSECTION_NEEDED_ON_OLD_MACHINE: {
    severity: 'break',
    about:
      'a subsection the destination does not know is needed for sampled states even on the old machine type (no compat property keeps it off)',
  },
  SUBSECTION_OF_FEATURE_UNKNOWN_TO_DESTINATION: {
    severity: 'warning',
    about:
      "a subsection of a guest or host feature the destination lacks: refused while the guest uses the feature, which QEMU's contract allows (the destination cannot represent such a state)",
  },
  SUBSECTION_NEVER_NEEDED_ON_OLD_MACHINE: {
    severity: 'info',
    about:
      'a subsection unknown to the destination was never needed for sampled states on the old machine type (its compat property works)',
  },
} as const satisfies Record<string, { severity: Severity; about: string }>;

export type RuleId = keyof typeof RULES;

/** Optional knowledge the DSL side can add: does a subsection ever go out on the destination's machine type? */
export interface CheckHooks {
  /** The guest or host feature a source subsection stands for (see Release.featureOf), or undefined. */
  featureOf?(sub: string): string | undefined;
  /** Returns a sampled state description when `sub` is needed, false when never seen needed, undefined if unknown. */
  neededOnOldMachine?(entry: string, parent: CheckDesc, sub: CheckDesc): string | false | undefined;
  /** What neededOnOldMachine looked at (e.g. `306 VMs on pc-q35-7.2, pc-i440fx-7.2`), for its findings. */
  sampling?(): string;
  /** The source is a -dump-vmstate file: it says nothing of needed(). */
  sourceIsDump?: boolean;
}

/** Compares what `src` writes with what `dst` reads, for every entry of `src`. */
export function compareSets(
  src: CheckSet,
  dst: CheckSet,
  direction: Direction,
  hooks: CheckHooks = {},
): Finding[] {
  const out: Finding[] = [];
  const add = (rule: RuleId, entry: string, path: string, message: string) =>
    out.push({ rule, severity: RULES[rule].severity, entry, path, message, direction });

  if (src.machine && dst.machine && src.machine !== dst.machine)
    add(
      'MACHINE_TYPE_DIFFERS',
      'configuration',
      'configuration',
      `Machine type received is '${src.machine}' and local is '${dst.machine}'`,
    );

  const byVmsdName = new Map<string, string>();
  for (const [key, d] of dst.entries) if (!byVmsdName.has(d.name)) byVmsdName.set(d.name, key);

  for (const [key, s] of src.entries) {
    // Sets from different origins name entries differently (QOM types vs section names): fall back to the description name.
    const dkey = dst.entries.has(key) ? key : byVmsdName.get(s.name);
    const d = dkey === undefined ? undefined : dst.entries.get(dkey);
    if (!d) {
      if (dst.origin === 'dump')
        add(
          'DEVICE_CLASS_MISSING',
          key,
          s.name,
          `device class '${key}' (${s.name}) is not in ${dst.label}`,
        );
      else
        add(
          'SECTION_MISSING',
          key,
          s.name,
          `section '${key}' (${s.name}) does not exist on ${dst.label}`,
        );
      continue;
    }
    const empty = (x: CheckDesc) => x.fields.length === 0 && x.subsections.length === 0;
    if (src.origin === 'dump' && dst.origin === 'dump' && empty(s) !== empty(d)) {
      add(
        'DEVICE_UNMIGRATABLE',
        key,
        s.name,
        `'${s.name}' has no field on the ${empty(s) ? 'source' : 'destination'} (unmigratable there)`,
      );
      continue;
    }
    compareDesc(s, d, key, s.name, true, add, { ...hooks, sourceIsDump: src.origin === 'dump' });
  }
  return out;
}

type Add = (rule: RuleId, entry: string, path: string, message: string) => void;

function compareDesc(
  s: CheckDesc,
  d: CheckDesc,
  entry: string,
  path: string,
  onWireName: boolean,
  add: Add,
  hooks: CheckHooks,
): void {
  if (s.name !== d.name) {
    if (onWireName || s.subsections.length > 0)
      add(
        'DESCRIPTION_RENAMED',
        entry,
        path,
        `description '${s.name}' is '${d.name}' on the destination`,
      );
    else
      add(
        'STRUCT_DESCRIPTION_RENAMED',
        entry,
        path,
        `struct description '${s.name}' is '${d.name}' on the destination`,
      );
  }
  // A version outside the window is refused before any field is read: nothing below it matters.
  // A struct's version is not on the wire (QEMU loads a VMSTATE_STRUCT at the destination's
  // own version): each side reads and writes the fields of its own version.
  if (!onWireName) {
    compareFields(s, d, entry, path, add, hooks, d.version_id);
  } else if (s.version_id > d.version_id)
    return add(
      'VERSION_TOO_NEW',
      entry,
      path,
      `source version ${s.version_id} > destination version_id ${d.version_id}`,
    );
  else if (s.version_id < d.minimum_version_id)
    return add(
      'VERSION_TOO_OLD',
      entry,
      path,
      `source version ${s.version_id} < destination minimum_version_id ${d.minimum_version_id}`,
    );
  else compareFields(s, d, entry, path, add, hooks, s.version_id);

  for (const sub of s.subsections) {
    const other = d.subsections.find((x) => x.name === sub.name);
    const subPath = `${path} > ${sub.name}`;
    if (!other) {
      const feature = hooks.featureOf?.(sub.name);
      if (feature) {
        add(
          'SUBSECTION_OF_FEATURE_UNKNOWN_TO_DESTINATION',
          entry,
          subPath,
          `'${sub.name}' is unknown to the destination: it stands for ${feature}, which the destination lacks; a state using it cannot be represented there`,
        );
        continue;
      }
      const sampled = hooks.neededOnOldMachine?.(entry, s, sub);
      if (sampled === undefined && hooks.sourceIsDump)
        add(
          'SUBSECTION_UNKNOWN_TO_DESTINATION_IF_NEEDED',
          entry,
          subPath,
          `subsection '${sub.name}' not found on the destination: refused whenever the source sends it (its needed() holds)`,
        );
      else if (sampled === false)
        add(
          'SUBSECTION_NEVER_NEEDED_ON_OLD_MACHINE',
          entry,
          subPath,
          `'${sub.name}' is unknown to the destination but was never needed on its machine type${hooks.sampling ? ` (sampled ${hooks.sampling()})` : ''}`,
        );
      else if (typeof sampled === 'string')
        add(
          'SUBSECTION_NEEDED_ON_OLD_MACHINE',
          entry,
          subPath,
          `'${sub.name}' is unknown to the destination and is needed on its machine type, e.g. for ${sampled}`,
        );
      else
        add(
          'SUBSECTION_UNKNOWN_TO_DESTINATION',
          entry,
          subPath,
          `subsection '${sub.name}' not found on the destination`,
        );
      continue;
    }
    if (!hooks.sourceIsDump) {
      compareDesc(sub, other, entry, subPath, true, add, hooks);
      continue;
    }
    // A dump does not say when a subsection is sent: what would break its load breaks only
    // while its needed() holds.
    compareDesc(
      sub,
      other,
      entry,
      subPath,
      true,
      (rule, e, p, message) =>
        RULES[rule].severity === 'break'
          ? add('SUBSECTION_DIFFERS_IF_NEEDED', e, p, `${rule}: ${message}`)
          : add(rule, e, p, message),
      hooks,
    );
  }
}

/** The fields a stream of `version` carries, in order (test-gated fields may or may not be there). */
function wireFields(d: CheckDesc, version: number): CheckField[] {
  return d.fields.filter((f) => f.field_exists || f.version_id <= version);
}

/**
 * How many of `fields` from `from` an unused placeholder of `size` bytes stands for: up to the
 * field named like the one after the placeholder (`next`), or, without one, by adding up sizes.
 * A field whose count an older dump format does not give counts as at least one element.
 */
function spanOfUnused(
  fields: CheckField[],
  from: number,
  size: number,
  next: CheckField | undefined,
): { end: number; bytes: number; exact: boolean } | undefined {
  const resync =
    next && !next.unused ? fields.findIndex((x, k) => k > from && x.name === next.name) : -1;
  let bytes = 0;
  let exact = true;
  for (let k = from; k < fields.length; k++) {
    if (resync >= 0 ? k === resync : bytes >= size) return { end: k, bytes, exact };
    const f = fields[k];
    const n = fieldWireSize(f);
    if (n === undefined) return undefined;
    if (f.numUnknown) exact = false;
    bytes += n;
  }
  return resync < 0 && bytes >= size ? { end: fields.length, bytes, exact } : undefined;
}

function compareFields(
  s: CheckDesc,
  d: CheckDesc,
  entry: string,
  path: string,
  add: Add,
  hooks: CheckHooks,
  destinationVersion: number,
): void {
  const sf = wireFields(s, s.version_id);
  const df = wireFields(d, destinationVersion);
  let i = 0;
  let j = 0;
  while (i < sf.length && j < df.length) {
    const a = sf[i];
    const b = df[j];
    const at = `${path} > ${a.name}`;
    // Removed fields kept as an unused placeholder of the same total size (QEMU's recommended
    // way), on either side: the other side's fields in its place carry the same bytes.
    if (a.unused !== b.unused) {
      const [fields, from, placeholder, next] = b.unused
        ? [sf, i, b, df[j + 1]]
        : [df, j, a, sf[i + 1]];
      const span = spanOfUnused(fields, from, placeholder.size, next);
      if (span && (span.exact ? span.bytes === placeholder.size : span.bytes <= placeholder.size)) {
        const names = fields
          .slice(from, span.end)
          .map((x) => x.name)
          .join(', ');
        add(
          'FIELD_REPLACED_BY_UNUSED',
          entry,
          at,
          b.unused
            ? `${names} (${placeholder.size} bytes) became unused bytes`
            : `unused bytes (${placeholder.size}) on the source are ${names} on the destination`,
        );
        if (b.unused) {
          i = span.end;
          j++;
        } else {
          i++;
          j = span.end;
        }
        continue;
      }
    }
    if (a.unused && b.unused && a.size !== b.size)
      add(
        'UNUSED_SIZE_MISMATCH',
        entry,
        at,
        `unused ${a.size} bytes on the source, ${b.size} on the destination`,
      );
    compareField(a, b, sf, df, entry, at, add, hooks);
    i++;
    j++;
  }
  // A newer struct version (not on the wire: such a device sends its version in a field of
  // its own) whose destination ends in test-gated fields: those tests decide what it reads.
  const testsDecide =
    s.version_id > destinationVersion && df.length > 0 && df[df.length - 1].field_exists;
  for (; i < sf.length; i++) {
    const a = sf[i];
    if (a.field_exists || testsDecide)
      add(
        'FIELD_TEST_CHANGED',
        entry,
        `${path} > ${a.name}`,
        a.field_exists
          ? `the source writes '${a.name}' when its test holds, and the destination has no field for it`
          : `the source writes '${a.name}' after the destination's last field; the destination's test-gated '${df[df.length - 1].name}' decides what it reads (a dump cannot say)`,
      );
    else
      add(
        'FIELD_MISSING_ON_DESTINATION',
        entry,
        `${path} > ${a.name}`,
        `the destination has no field where the source writes '${a.name}'`,
      );
  }
  for (; j < df.length; j++) {
    const b = df[j];
    const rule = b.field_exists ? 'FIELD_TEST_CHANGED' : 'FIELD_APPENDED_WITHOUT_VERSION_BUMP';
    add(
      rule,
      entry,
      `${path} > ${b.name}`,
      `the destination reads '${b.name}' (version_id ${b.version_id}) from a version ${s.version_id} stream that does not carry it`,
    );
  }
}

function compareField(
  a: CheckField,
  b: CheckField,
  sf: CheckField[],
  df: CheckField[],
  entry: string,
  at: string,
  add: Add,
  hooks: CheckHooks,
): void {
  // When either side's dump format gives no element counts, compare element sizes only.
  const counts = !a.numUnknown && !b.numUnknown;
  const sizeA = a.size * (counts ? (a.num ?? 1) : 1);
  const sizeB = b.size * (counts ? (b.num ?? 1) : 1);
  if (a.version_id !== b.version_id)
    add(
      'FIELD_VERSION_CHANGED',
      entry,
      at,
      `version_id ${a.version_id} on the source, ${b.version_id} on the destination`,
    );
  if (a.field_exists !== b.field_exists)
    add(
      'FIELD_TEST_CHANGED',
      entry,
      at,
      `field_exists ${a.field_exists} on the source, ${b.field_exists} on the destination`,
    );
  if (a.struct && b.struct) {
    if (counts && (a.num ?? 1) !== (b.num ?? 1))
      add(
        'FIELD_SIZE_CHANGED',
        entry,
        at,
        `${a.num ?? 1} elements on the source, ${b.num ?? 1} on the destination`,
      );
    compareDesc(a.struct, b.struct, entry, at, false, add, hooks);
  } else if (
    !!a.struct !== !!b.struct ||
    (!a.unused && !b.unused && sizeA !== sizeB) ||
    (a.unused !== b.unused && sizeA !== sizeB)
  ) {
    add(
      'FIELD_SIZE_CHANGED',
      entry,
      at,
      `${sizeA} bytes on the source, ${sizeB} on the destination`,
    );
  } else if (a.type && b.type && a.type !== b.type) {
    add(
      'FIELD_TYPE_CHANGED',
      entry,
      at,
      `type ${a.type} on the source, ${b.type} on the destination`,
    );
  }
  if (a.name !== b.name && !a.unused && !b.unused)
    add('FIELD_RENAMED', entry, at, `'${a.name}' is '${b.name}' on the destination`);
  if (a.varLength && b.varLength) {
    if (a.varLength.max > b.varLength.max)
      add(
        'VARRAY_MAX_GREW',
        entry,
        at,
        `up to ${a.varLength.max} elements on the source, at most ${b.varLength.max} accepted on the destination`,
      );
    const ca = sf.find((x) => x.name === a.varLength!.field);
    const cb = df.find((x) => x.name === b.varLength!.field);
    if (ca && cb && cb.size < ca.size)
      add(
        'VARRAY_LENGTH_FIELD_SHRANK',
        entry,
        at,
        `its length field '${cb.name}' is ${cb.size} bytes on the destination, ${ca.size} on the source`,
      );
  }
}
