/**
 * The static checker on QEMU's own -dump-vmstate output and on DSL descriptions changed in the
 * ways QEMU developers get wrong (and right).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { f, k, vmsd, type AnyVMSDesc } from '../src';
import { checkCompat } from '../src/compat/static/check';
import { fromDumpJson, fromVmsd, type CheckSet } from '../src/compat/static/model';

const shared = join(__dirname, '..', 'streams', 'qemu-7.2');
const dump = (name: string) =>
  fromDumpJson(JSON.parse(readFileSync(join(shared, name), 'utf8')), name);
const set = (label: string, ...descs: AnyVMSDesc[]): CheckSet => ({
  label,
  origin: 'dsl',
  entries: new Map(descs.map((d) => [d.name, fromVmsd(d)])),
});
const rules = (old: CheckSet, neu: CheckSet, mode: 'forward' | 'backward' | 'full' = 'full') =>
  checkCompat(old, neu, mode).findings.map((x) => `${x.direction}:${x.rule}`);

const base = vmsd({
  name: 'dev',
  version_id: 2,
  minimum_version_id: 1,
  fields: [f.u32('a'), f.u16('b'), f.u8('n'), f.varray('list', k.u32, { count: 'n', max: 8 })],
  subsections: [
    vmsd({ name: 'dev/extra', version_id: 1, fields: [f.u64('x')], needed: (s) => s.x !== 0n }),
  ],
});

describe('QEMU -dump-vmstate files', () => {
  it('pc and q35 dumps of 7.2 differ only in the machine type, which QEMU refuses at the configuration section', () => {
    const r = checkCompat(dump('vmstate-pc.json'), dump('vmstate-q35.json'), 'full');
    expect(r.breaking).toBe(2);
    expect(r.findings.map((x) => `${x.rule} ${x.entry}`)).toEqual([
      'MACHINE_TYPE_DIFFERS configuration',
      'MACHINE_TYPE_DIFFERS configuration',
    ]);
    expect(r.findings[0].message).toBe(
      "Machine type received is 'pc-i440fx-7.2' and local is 'pc-q35-7.2'",
    );
  });

  it('finds a removed field and a bumped version in an edited dump', () => {
    const json = JSON.parse(readFileSync(join(shared, 'vmstate-pc.json'), 'utf8'));
    const edited = structuredClone(json);
    edited['isa-fdc'].Description.Fields[0].Description.Fields.splice(1, 1); // drop fdc 'srb'
    edited.port92.Description.version_id = 2;
    edited.port92.Description.minimum_version_id = 2;
    const r = checkCompat(fromDumpJson(json, 'old'), fromDumpJson(edited, 'new'), 'full');
    const found = r.findings.map((x) => `${x.direction}:${x.entry}:${x.rule}`);
    expect(found).toContain('forward:port92:VERSION_TOO_OLD');
    expect(found).toContain('backward:port92:VERSION_TOO_NEW');
    expect(found).toContain('forward:isa-fdc:FIELD_MISSING_ON_DESTINATION');
    expect(r.breaking).toBeGreaterThan(0);
  });
});

describe('rules on DSL descriptions', () => {
  it('an identical description has no findings', () => {
    expect(rules(set('old', base), set('new', base))).toEqual([]);
  });

  it('a renamed field with the same wire format is not a break', () => {
    const renamed = vmsd({ ...base, fields: [f.u32('a_renamed'), ...base.fields.slice(1)] });
    const r = checkCompat(set('old', base), set('new', renamed), 'full');
    expect(r.breaking).toBe(0);
    expect(r.findings.map((x) => x.rule)).toEqual(['FIELD_RENAMED', 'FIELD_RENAMED']);
  });

  it('a field appended without a version bump breaks both ways', () => {
    const appended = vmsd({ ...base, fields: [...base.fields, f.u32('c')] });
    expect(rules(set('old', base), set('new', appended))).toEqual([
      'forward:FIELD_APPENDED_WITHOUT_VERSION_BUMP',
      'backward:FIELD_MISSING_ON_DESTINATION',
    ]);
  });

  it('the same field appended with a version bump breaks only backward (the version is too new for the old side)', () => {
    const bumped = vmsd({
      ...base,
      version_id: 3,
      fields: [...base.fields, f.u32('c', { version: 3 })],
    });
    expect(rules(set('old', base), set('new', bumped))).toEqual(['backward:VERSION_TOO_NEW']);
  });

  it('a new subsection is compatible forward and a break backward', () => {
    const more = vmsd({
      ...base,
      subsections: [
        ...base.subsections,
        vmsd({ name: 'dev/more', version_id: 1, fields: [f.u8('m')] }),
      ],
    });
    expect(rules(set('old', base), set('new', more))).toEqual([
      'backward:SUBSECTION_UNKNOWN_TO_DESTINATION',
    ]);
  });

  it('a variable array whose maximum grew, and whose length field shrank', () => {
    const grown = vmsd({
      ...base,
      fields: [...base.fields.slice(0, 3), f.varray('list', k.u32, { count: 'n', max: 64 })],
    });
    expect(rules(set('old', base), set('new', grown))).toEqual(['backward:VARRAY_MAX_GREW']);
    const wide = vmsd({
      ...base,
      fields: [f.u32('a'), f.u16('b'), f.u32('n'), f.varray('list', k.u32, { count: 'n', max: 8 })],
    });
    expect(rules(set('old', wide), set('new', base), 'forward')).toEqual([
      'forward:FIELD_SIZE_CHANGED',
      'forward:VARRAY_LENGTH_FIELD_SHRANK',
    ]);
  });

  it('removed fields kept as unused bytes of the same size are fine; of another size they break', () => {
    const kept = vmsd({ ...base, fields: [f.u32('a'), f.unused(2), ...base.fields.slice(2)] });
    const r = checkCompat(set('old', base), set('new', kept), 'forward');
    expect(r.findings.map((x) => x.rule)).toEqual(['FIELD_REPLACED_BY_UNUSED']);
    expect(r.breaking).toBe(0);
    const wrong = vmsd({ ...base, fields: [f.u32('a'), f.unused(3), ...base.fields.slice(2)] });
    expect(checkCompat(set('old', base), set('new', wrong), 'forward').breaking).toBeGreaterThan(0);
  });

  it('a renamed struct description without subsections is not a break; a renamed subsection is', () => {
    const s1 = vmsd({ name: 'seg', version_id: 1, fields: [f.u32('sel')] });
    const s2 = vmsd({ name: 'segment', version_id: 1, fields: [f.u32('sel')] });
    const a = vmsd({ name: 'cpu', version_id: 1, fields: [f.struct('cs', s1)] });
    const b = vmsd({ name: 'cpu', version_id: 1, fields: [f.struct('cs', s2)] });
    expect(checkCompat(set('old', a), set('new', b), 'full').breaking).toBe(0);
    const c = vmsd({
      ...base,
      subsections: [vmsd({ name: 'dev/extra2', version_id: 1, fields: [f.u64('x')] })],
    });
    expect(rules(set('old', base), set('new', c))).toEqual([
      'forward:SUBSECTION_UNKNOWN_TO_DESTINATION',
      'backward:SUBSECTION_UNKNOWN_TO_DESTINATION',
    ]);
  });
});
