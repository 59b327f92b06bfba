/**
 * Random whole-VM states for migration properties, derived from the descriptions: every section
 * comes from arbitraryState of the newest release's description, on top of one of the x86
 * scenarios (no nested guest, VMX idle, L1 in VMX root, L2 with a shadow VMCS, L2 under SVM,
 * L2 with a preemption-timer deadline), biased so every needed() branch is reached both ways:
 *
 *  - each optional `cpu/*` subsection gets random values in about one VM in four, is cleared in
 *    another, and otherwise keeps the scenario's values, so older releases often can load the result;
 *  - the nested state is the scenario's or one of KVM-valid states of the host's vendor (no
 *    nested guest, L1 only, L2 with and without shadow VMCS and preemption-timer deadline, SVM);
 *  - the host sometimes has CPU features whose subsections are always sent, or is TCG;
 *  - env.hflags' guest-mode bit agrees with the nested state, as KVM reports it, and a VM whose
 *    guest enabled Hyper-V re-enlightenment runs with a fixed TSC frequency (as QEMU requires).
 *
 * Large values (4 KiB pages, AVX-512 registers, AMX tiles) are drawn from small pools sampled
 * once, which keeps a VM cheap to generate (a matrix needs thousands) and still varied; they
 * are copied into each VM because canonicalizing a state edits struct values in place.
 */
import * as fc from 'fast-check';
import type { AnyField } from '../../src/dsl/field';
import type { State } from '../../src/dsl/kind';
import type { AnyVMSDesc } from '../../src/dsl/vmsd';
import type { GeneratedVm } from '../../src/compat/migrate';
import { arbitraryState } from '../../src/engine/arbitrary';
import { cloneValue, initialState, initialValue, stateFields } from '../../src/engine/state';
import { releases } from '../releases';
import type { Release, VmStates } from '../releases/types';
import { HF_GUEST_MASK } from './cpu-fields';
import { nestedStateAllocated, type X86Ctx, type X86CpuModel } from './ctx';
import { KVM_STATE_NESTED_GUEST_MODE, type NestedState } from './kvm';
import { arbitraryNestedState } from './kvm/arbitrary';
import { scenarios, type Scenario } from './scenarios';
import { big } from './state-access';
import { HV_REENLIGHTENMENT_ENABLE_BIT } from './subsections';

export type { GeneratedVm };

export interface VmArbitraryOptions {
  /** Releases whose sections and keys the states must cover (default: the built-in releases; `next` is the newest). */
  readonly releases?: readonly Release[];
  /** Restrict to these scenario bases. */
  readonly bases?: readonly string[];
  /** One VM in N switches each optional subsection on (default 4; 0: never, the scenario's values stay). */
  readonly subsectionOdds?: number;
  /** One host in N has each CPU feature whose subsection is always sent (default 10; 0: never). */
  readonly featureOdds?: number;
  /**
   * Give the main (non-subsection) fields random values in about half the VMs (default true);
   * false keeps the scenario's, so no subsection whose needed() reads them (cpu/pdptrs reads CR0,
   * CR4 and EFER) is sent unless the scenario sends it.
   */
  readonly randomMain?: boolean;
  /** Draw nested states from the KVM-valid pool (default true); false keeps each scenario's own. */
  readonly nestedPool?: boolean;
}

/** CPU model features whose subsection a release sends whenever the model has them. */
const ALWAYS_SENT_FEATURES: readonly (keyof X86CpuModel)[] = [
  'svmTscScale',
  'tsxCtrl',
  'sgxLc',
  'xfd',
  'amxTile',
  'archLbr',
  'hvRuntime',
  'lmce',
];

const FIXED_TSC_KHZ = 2_400_000;

const rarely = (p: number) =>
  p === 1
    ? fc.constant(true)
    : fc.oneof(
        { weight: p - 1, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      );

const single = (f: AnyField): AnyVMSDesc => ({
  name: 'pool',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f],
  subsections: [],
});

/** A field whose random values are costly to draw: pooled. */
function isLarge(f: AnyField): boolean {
  if ((f.kind as { desc?: AnyVMSDesc }).desc) return true;
  if (f.shape === 'array' && f.count.from === 'fixed' && f.count.n >= 8) return true;
  return f.kind.initial() instanceof Uint8Array && (f.kind.wireSize ?? 0) >= 64;
}

const POOL = 6;
const poolCache = new WeakMap<AnyField, unknown[]>();
function pool(f: AnyField): unknown[] {
  let p = poolCache.get(f);
  if (!p) {
    p = fc
      .sample(arbitraryState(single(f)), { numRuns: POOL, seed: 0x5eed })
      .map((s) => (s as State)[f.key]);
    poolCache.set(f, p);
  }
  return p;
}

const nestedPools = new Map<string, NestedState[]>();
function nestedPool(vendor: 'vmx' | 'svm'): NestedState[] {
  let p = nestedPools.get(vendor);
  if (!p) {
    const kinds =
      vendor === 'vmx'
        ? (['vmx-none', 'vmx-root', 'vmx-root-vmcs', 'vmx-l2', 'vmx-l2', 'vmx-l2'] as const)
        : (['svm-none', 'svm-l2', 'svm-l2'] as const);
    p = kinds.flatMap((k, i) =>
      fc.sample(arbitraryNestedState([k]), { numRuns: 8, seed: 0x6e57 + i }),
    );
    nestedPools.set(vendor, p);
  }
  return p;
}

function newest(list: readonly Release[]): Release {
  return list.find((r) => r.name === 'next') ?? list[list.length - 1];
}

/** Section descriptions to generate from: the newest release's first, then those of the others. */
function sectionDescs(list: readonly Release[]): Map<string, AnyVMSDesc[]> {
  const out = new Map<string, AnyVMSDesc[]>();
  const add = (r: Release) => {
    for (const c of r.catalog) {
      const key = c.instance === 0 ? c.name : `${c.name}#${c.instance}`;
      const descs = out.get(key) ?? [];
      if (!descs.includes(c.vmsd)) descs.push(c.vmsd);
      out.set(key, descs);
    }
  };
  add(newest(list));
  for (const r of list) add(r);
  return out;
}

/** A description's own fields without its subsections (as a description arbitraryState accepts). */
const mainOnlyCache = new WeakMap<AnyVMSDesc, AnyVMSDesc>();
function mainOnly(d: AnyVMSDesc): AnyVMSDesc {
  let m = mainOnlyCache.get(d);
  if (!m)
    mainOnlyCache.set(
      d,
      (m = {
        ...d,
        subsections: [],
        pre_save: undefined,
        post_load: undefined,
        pre_load: undefined,
        needed: undefined,
      }),
    );
  return m;
}

/**
 * The optional subsections of a section over all its descriptions (first by name wins), without
 * the nested state (chosen on its own). Each is generated from its own description, whose fields
 * are then top-level: canonicalizing cannot reset a value whose needed() depends on the host.
 */
function optionalSubsections(list: readonly AnyVMSDesc[]): AnyVMSDesc[] {
  const seen = new Map<string, AnyVMSDesc>();
  for (const d of list)
    for (const sub of d.subsections as readonly AnyVMSDesc[])
      if (!seen.has(sub.name)) seen.set(sub.name, sub);
  return [...seen.values()].filter(
    (sub) => !stateFields(sub).some((f) => f.key === 'env.nested_state'),
  );
}

type GroupMode = 'base' | 'random' | 'initial';

function scenarioVm(
  sc: Scenario,
  descs: Map<string, AnyVMSDesc[]>,
  opts: VmArbitraryOptions,
): fc.Arbitrary<GeneratedVm> {
  const odds = (n: number | undefined, dflt: number) =>
    (n ?? dflt) <= 0 ? fc.constant(false) : rarely(n ?? dflt);
  const subOdds = opts.subsectionOdds ?? 4;
  // A subsection keeps the scenario's values, gets random ones, or is cleared (so values the
  // scenario sets, like a Linux guest's PV MSRs, are sometimes not sent either).
  const groupMode: fc.Arbitrary<GroupMode> =
    subOdds <= 0
      ? fc.constant('base')
      : fc.oneof(
          { weight: Math.max(1, subOdds - 2), arbitrary: fc.constant<GroupMode>('base') },
          { weight: 1, arbitrary: fc.constant<GroupMode>('random') },
          { weight: 1, arbitrary: fc.constant<GroupMode>('initial') },
        );
  const vendor: 'vmx' | 'svm' | undefined = sc.ctx.cpu?.vmx
    ? 'vmx'
    : sc.ctx.cpu?.svm
      ? 'svm'
      : undefined;
  const host = fc.record({
    tcg: vendor ? fc.constant(false) : rarely(4),
    features: fc.tuple(...ALWAYS_SENT_FEATURES.map(() => odds(opts.featureOdds, 10))),
  });
  const baseStates = sc.state as unknown as Record<string, State>;
  const sections: Record<string, fc.Arbitrary<State>> = {};
  for (const [key, list] of descs) {
    const base = baseStates[key] ?? {};
    const overridesFor = (d: AnyVMSDesc) => {
      const o: Record<string, fc.Arbitrary<unknown>> = {};
      for (const f of stateFields(d))
        if (isLarge(f))
          o[f.key] = fc.constantFrom(base[f.key] ?? initialValue(f), ...pool(f)).map(cloneValue);
      return o;
    };
    const main = mainOnly(list[0]);
    const subs = optionalSubsections(list);
    const nestedField = list
      .flatMap((d) => stateFields(d))
      .find((f) => f.key === 'env.nested_state');
    const ownNested = nestedField
      ? (base['env.nested_state'] ?? initialValue(nestedField))
      : undefined;
    const nested: fc.Arbitrary<unknown> =
      nestedField === undefined
        ? fc.constant(undefined)
        : (vendor && opts.nestedPool !== false
            ? fc.constantFrom(ownNested, ...nestedPool(vendor))
            : fc.constant(ownNested)
          ).map(cloneValue);
    const initial = initialState({ ...list[0], subsections: subs } as AnyVMSDesc) as State;
    // Random values are drawn only where they are used (the main fields in half the VMs, a
    // subsection in about one in four): most of a VM's random values were thrown away before.
    const randomMain = arbitraryState(main, { ctx: sc.ctx, overrides: overridesFor(main) });
    const noValues = fc.constant(undefined);
    sections[key] = fc
      .record({
        main:
          opts.randomMain === false
            ? noValues
            : fc.boolean().chain((random) => (random ? randomMain : noValues)),
        groups: fc.tuple(
          ...subs.map((d) => {
            const random = arbitraryState(d, { ctx: sc.ctx, overrides: overridesFor(d) });
            return groupMode.chain((mode) =>
              (mode === 'random' ? random : noValues).map((values) => [mode, values] as const),
            );
          }),
        ),
        nested,
      })
      .map(({ main: m, groups, nested: n }) => {
        const s: State = { ...initial, ...base };
        if (m) Object.assign(s, m);
        groups.forEach(([mode, values], i) => {
          if (mode === 'random') Object.assign(s, values);
          else if (mode === 'initial')
            for (const f of stateFields(subs[i])) s[f.key] = initial[f.key];
        });
        if (n !== undefined) s['env.nested_state'] = n;
        return s;
      });
  }
  return fc.record({ host, states: fc.record(sections) }).map(({ host: h, states }) => {
    const cpuModel: Record<string, boolean> = { ...(sc.ctx.cpu ?? {}) } as Record<string, boolean>;
    ALWAYS_SENT_FEATURES.forEach((f, i) => {
      if (h.features[i]) cpuModel[f] = true;
    });
    let ctx: X86Ctx = { ...sc.ctx, accel: h.tcg ? 'tcg' : sc.ctx.accel, cpu: cpuModel };
    const cpu = states.cpu;
    if (
      cpu &&
      (big(cpu['env.msr_hv_reenlightenment_control']) & HV_REENLIGHTENMENT_ENABLE_BIT) !== 0n
    ) {
      // From 6.0 QEMU loads enabled re-enlightenment only with a fixed TSC frequency (-cpu tsc-frequency=).
      ctx = { ...ctx, userTscKhz: FIXED_TSC_KHZ };
      cpu['env.tsc_khz'] = BigInt(FIXED_TSC_KHZ);
    }
    if (cpu) {
      // KVM reports HF_GUEST_MASK exactly when the nested state says L2 is running.
      const n = cpu['env.nested_state'] as NestedState | undefined;
      const guest =
        !!n && (n.flags & KVM_STATE_NESTED_GUEST_MODE) !== 0 && nestedStateAllocated(ctx, true);
      const hflags = (cpu['env.hflags'] as number) ?? 0;
      cpu['env.hflags'] = guest ? (hflags | HF_GUEST_MASK) >>> 0 : (hflags & ~HF_GUEST_MASK) >>> 0;
    }
    return { base: sc.name, ctx, state: states as VmStates };
  });
}

/** Random VMs over the scenarios (see the file comment for the bias). */
export function arbitraryVm(opts: VmArbitraryOptions = {}): fc.Arbitrary<GeneratedVm> {
  const list = opts.releases ?? Object.values(releases);
  const descs = sectionDescs(list);
  const bases = scenarios().filter((s) => !opts.bases || opts.bases.includes(s.name));
  if (bases.length === 0) throw new Error(`no scenario among ${opts.bases?.join(', ')}`);
  return fc.oneof(...bases.map((sc) => scenarioVm(sc, descs, opts)));
}
