/**
 * The release index as data: every release is built from its declaration alone, machine-type
 * compat arrays compose explicitly (declared once; a release's additions are additive or
 * refused, never a silent replacement), and the derived lists agree with the declarations.
 */
import { RELEASE_NAMES, releases } from '../vmstate/releases';
import { RELEASE_SPECS } from '../vmstate/releases/list';
import {
  addCompat,
  compatTable,
  CompatConflictError,
  machineProps,
  machineTypesOf,
} from '../vmstate/releases/machines';
import { PC_COMPAT } from '../vmstate/releases/pc-compat';
import { defineRelease } from '../vmstate/releases/release';
import type { ReleaseSpec } from '../vmstate/releases/spec';
import { X86_CPU_TYPE } from '../vmstate/x86/ctx';

const cpuProp = (property: string, value: string) => ({ driver: X86_CPU_TYPE, property, value });
/** The newest machine-type version every real release shares with the simulated ones. */
const someArray = Object.keys(PC_COMPAT).find((v) => PC_COMPAT[v].length > 0)!;

describe('the release index', () => {
  it('names every declared release once, in declaration order', () => {
    expect(RELEASE_NAMES).toEqual(RELEASE_SPECS.map((s) => s.name ?? s.version));
    expect(new Set(RELEASE_NAMES).size).toBe(RELEASE_NAMES.length);
  });

  it.each(RELEASE_NAMES)(
    '%s: machine types are unique, newest first, default the newest q35',
    (name) => {
      const r = releases[name];
      const names = r.machineTypes.map((m) => m.name);
      expect(new Set(names).size).toBe(names.length);
      expect(r.defaultMachine).toBe(r.machineTypes.find((m) => m.family === 'pc-q35')!.name);
      // A machine type of the release's own version applies no compat array.
      const own = r.machineTypes.filter((m) => m.version === r.cpuFeatures.version);
      expect(own.length).toBe(2);
      for (const m of own) expect(m.compatProps).toEqual([]);
    },
  );

  it('a machine type applies every array from its version up to the release, older arrays last (they win)', () => {
    const A = cpuProp('a', 'off');
    const B = cpuProp('b', 'off');
    const spec: ReleaseSpec = {
      version: '1.2',
      summary: 'synthetic',
      machines: { oldest: { 'pc-q35': '1.0', 'pc-i440fx': '1.1' } },
    };
    const ms = machineTypesOf(
      spec,
      compatTable([{ ...spec, pcCompat: { '1.0': [A], '1.1': [B] } }]),
    );
    expect(ms.map((m) => [m.name, m.compatProps])).toEqual([
      ['pc-q35-1.2', []],
      ['pc-i440fx-1.2', []],
      ['pc-q35-1.1', [B]],
      ['pc-i440fx-1.1', [B]],
      ['pc-q35-1.0', [B, A]],
    ]);
  });
});

describe('compat arrays compose without silent overrides', () => {
  const base = PC_COMPAT[someArray];
  const first = base[0];

  it('an addition of a new property is appended to the array', () => {
    const extra = cpuProp('x-test-new-property', 'off');
    const out = addCompat(PC_COMPAT, { [someArray]: [extra] }, 'test');
    expect(out[someArray]).toEqual([...base, extra]);
    expect(PC_COMPAT[someArray]).toEqual(base); // the shared table is untouched
  });

  it('repeating a property with the value the array already has changes nothing', () => {
    expect(addCompat(PC_COMPAT, { [someArray]: [first] }, 'test')[someArray]).toEqual(base);
  });

  it('an addition that would change a value the array sets is refused', () => {
    const changed = { ...first, value: `${first.value}-changed` };
    expect(() => addCompat(PC_COMPAT, { [someArray]: [changed] }, 'test')).toThrow(
      CompatConflictError,
    );
    expect(() =>
      defineRelease({
        version: 'next',
        name: 'overrider',
        summary: 'tries to replace a real array',
        extraCompat: { [someArray]: [changed] },
      }),
    ).toThrow(/already sets it to/);
  });

  it('an array declared by two release files is refused', () => {
    const a: ReleaseSpec = { version: '1.0', summary: 'a', pcCompat: { '0.9': [] } };
    const b: ReleaseSpec = { version: '1.1', summary: 'b', pcCompat: { '0.9': [] } };
    expect(() => compatTable([a, b])).toThrow(/declared by both 1.0 and 1.1/);
  });

  it("an addition reaches the machine types at and below its version, and only the adding release's", () => {
    const spec: ReleaseSpec = {
      ...RELEASE_SPECS[RELEASE_SPECS.length - 1],
      extraCompat: { [someArray]: [cpuProp('x-test-new-property', 'off')] },
    };
    const mine = machineTypesOf(spec, PC_COMPAT);
    const at = mine.find((m) => m.version === someArray);
    if (at) expect(machineProps(at)[`${X86_CPU_TYPE}.x-test-new-property`]).toBe('off');
    for (const r of RELEASE_NAMES)
      for (const m of releases[r].machineTypes)
        expect(machineProps(m)[`${X86_CPU_TYPE}.x-test-new-property`]).toBeUndefined();
  });
});

describe('simulated releases stay consistent with the real ones around them', () => {
  const names = (r: string) =>
    (
      releases[r].catalog.find((c) => c.name === 'cpu')!.vmsd.subsections as readonly {
        name: string;
      }[]
    ).map((s) => s.name);
  // Each simulated release against the first real release after it in the index.
  const pairs = RELEASE_NAMES.flatMap((s, i) => {
    if (releases[s].kind !== 'simulated' || releases[s].cpuFeatures.subsectionsOf) return [];
    const next = RELEASE_NAMES.slice(i + 1).find((n) => releases[n].kind === 'real');
    return next ? [[s, next] as const] : [];
  });

  it('there are such pairs', () => expect(pairs.length).toBeGreaterThan(0));

  it.each(pairs)(
    '%s -> %s: the real list keeps the simulated one in order; it only inserts subsections of later releases',
    (s, r) => {
      const mine = names(s);
      const theirs = names(r);
      expect(theirs.filter((n) => mine.includes(n))).toEqual(mine);
      // A subsection both have is laid out identically (names and sizes of its fields).
      const layout = (r: string, n: string) =>
        (
          releases[r].catalog
            .find((c) => c.name === 'cpu')!
            .vmsd.subsections.find((d: { name: string }) => d.name === n) as {
            fields: readonly { name: string; kind: { wireSize?: number } }[];
          }
        ).fields.map((f) => [f.name, f.kind.wireSize]);
      for (const n of mine) expect([n, layout(r, n)]).toEqual([n, layout(s, n)]);
    },
  );
});
