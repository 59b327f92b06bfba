/**
 * Random whole-VM states for migration properties, derived from the descriptions: every section
 * comes from arbitraryState of the newest release's description, on top of one of the x86
 * scenarios (no nested guest, VMX idle, L1 in VMX root, L2 with a shadow VMCS, L2 under SVM,
 * L2 with a preemption-timer deadline), biased so every needed() branch is reached both ways:
 *
 *  - each optional `cpu/*` subsection is switched on (random values) for about one VM in four
 *    and otherwise keeps the scenario's values, so older releases often can load the result;
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
import type { AnyField } from '../dsl/field';
import type { State } from '../dsl/kind';
import type { AnyVMSDesc } from '../dsl/vmsd';
import { arbitraryState } from '../engine/arbitrary';
import { cloneValue, initialValue, stateFields } from '../engine/state';
import { releases } from '../../vmstate/releases';
import type { Release, VmStates } from '../../vmstate/releases/types';
import { HF_GUEST_MASK } from '../../vmstate/x86/cpu-fields';
import { nestedStateAllocated, type X86Ctx, type X86CpuModel } from '../../vmstate/x86/ctx';
import { KVM_STATE_NESTED_GUEST_MODE, type NestedState } from '../../vmstate/x86/kvm';
import { arbitraryNestedState } from '../../vmstate/x86/kvm/arbitrary';
import { scenarios, type Scenario } from '../../vmstate/x86/scenarios';
import { big } from '../../vmstate/x86/state-access';
import { HV_REENLIGHTENMENT_ENABLE_BIT } from '../../vmstate/x86/subsections';
import type { Vm } from './migrate';

/** A generated VM and the scenario it started from (for messages). */
export interface GeneratedVm extends Vm {
  readonly base: string;
}

export interface VmArbitraryOptions {
  /** Releases whose sections and keys the states must cover (default: the built-in releases; `next` is the newest). */
  readonly releases?: readonly Release[];
  /** Restrict to these scenario bases. */
  readonly bases?: readonly string[];
}

/** CPU model features whose subsection a release sends whenever the model has them. */
const ALWAYS_SENT_FEATURES: readonly (keyof X86CpuModel)[] = ['svmTscScale', 'tsxCtrl', 'sgxLc', 'xfd', 'amxTile', 'archLbr', 'hvRuntime', 'lmce'];

const FIXED_TSC_KHZ = 2_400_000;

const rarely = (p: number) => fc.oneof({ weight: p - 1, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

const single = (f: AnyField): AnyVMSDesc => ({ name: 'pool', version_id: 1, minimum_version_id: 1, fields: [f], subsections: [] });

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
    p = fc.sample(arbitraryState(single(f)), { numRuns: POOL, seed: 0x5eed }).map((s) => (s as State)[f.key]);
    poolCache.set(f, p);
  }
  return p;
}

const nestedPools = new Map<string, NestedState[]>();
function nestedPool(vendor: 'vmx' | 'svm'): NestedState[] {
  let p = nestedPools.get(vendor);
  if (!p) {
    const kinds = vendor === 'vmx' ? (['vmx-none', 'vmx-root', 'vmx-root-vmcs', 'vmx-l2', 'vmx-l2', 'vmx-l2'] as const) : (['svm-none', 'svm-l2', 'svm-l2'] as const);
    p = kinds.flatMap((k, i) => fc.sample(arbitraryNestedState([k]), { numRuns: 8, seed: 0x6e57 + i }));
    nestedPools.set(vendor, p);
  }
  return p;
}

/** Keys of each optional top-level subsection of a description (nested state excluded). */
function subsectionKeys(desc: AnyVMSDesc): string[][] {
  return (desc.subsections as readonly AnyVMSDesc[]).map((s) => stateFields(s).map((f) => f.key)).filter((keys) => !keys.includes('env.nested_state'));
}

function newest(list: readonly Release[]): Release {
  return list.find((r) => r.name === 'next') ?? list[list.length - 1];
}

/** Section descriptions to generate from: the newest release's, plus keys other releases add. */
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

function scenarioVm(sc: Scenario, descs: Map<string, AnyVMSDesc[]>): fc.Arbitrary<GeneratedVm> {
  const vendor: 'vmx' | 'svm' | undefined = sc.ctx.cpu?.vmx ? 'vmx' : sc.ctx.cpu?.svm ? 'svm' : undefined;
  const host = fc.record({
    tcg: vendor ? fc.constant(false) : rarely(4),
    features: fc.tuple(...ALWAYS_SENT_FEATURES.map(() => rarely(10))),
  });
  const baseStates = sc.state as unknown as Record<string, State>;
  const sections: Record<string, fc.Arbitrary<State>> = {};
  for (const [key, list] of descs) {
    const [desc, ...others] = list;
    const base = baseStates[key] ?? {};
    const overrides: Record<string, fc.Arbitrary<unknown>> = {};
    // The nested state is chosen beside the rest and set last: canonicalizing would replace a
    // nested state that is not sent by the all-zero initial one, which claims VMXON at address 0.
    let nested: fc.Arbitrary<unknown> = fc.constant(undefined);
    for (const f of stateFields(desc)) {
      if (f.key === 'env.nested_state') {
        const own = base[f.key] ?? initialValue(f);
        nested = (vendor ? fc.constantFrom(own, ...nestedPool(vendor)) : fc.constant(own)).map(cloneValue);
        overrides[f.key] = fc.constant(undefined);
      } else if (isLarge(f)) overrides[f.key] = fc.constantFrom(base[f.key] ?? initialValue(f), ...pool(f)).map(cloneValue);
    }
    const random = arbitraryState(desc, { ctx: sc.ctx, overrides });
    const extras = others.map((d) => {
      const known = new Set(stateFields(desc).map((f) => f.key));
      const extraKeys = stateFields(d).filter((f) => !known.has(f.key)).map((f) => f.key);
      return extraKeys.length ? arbitraryState(d, { ctx: sc.ctx }).map((s) => Object.fromEntries(extraKeys.map((k) => [k, (s as State)[k]]))) : fc.constant({});
    });
    const groups = subsectionKeys(desc);
    const mainKeys = desc.fields.filter((f) => f.shape !== 'unused' && f.shape !== 'validate').map((f) => f.key);
    sections[key] = fc
      .record({
        random,
        extras: fc.tuple(...extras),
        randomMain: fc.boolean(),
        on: fc.tuple(...groups.map(() => rarely(4))),
        nested,
      })
      .map(({ random: r, extras: ex, randomMain, on, nested: n }) => {
        const s: State = { ...(r as State) };
        for (const e of ex) Object.assign(s, e);
        if (!randomMain) for (const k of mainKeys) if (k in base) s[k] = base[k];
        groups.forEach((keys, i) => {
          if (!on[i]) for (const k of keys) if (k in base) s[k] = base[k];
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
    if (cpu && (big(cpu, 'env.msr_hv_reenlightenment_control') & HV_REENLIGHTENMENT_ENABLE_BIT) !== 0n) {
      // From 6.0 QEMU loads enabled re-enlightenment only with a fixed TSC frequency (-cpu tsc-frequency=).
      ctx = { ...ctx, userTscKhz: FIXED_TSC_KHZ };
      cpu['env.tsc_khz'] = BigInt(FIXED_TSC_KHZ);
    }
    if (cpu) {
      // KVM reports HF_GUEST_MASK exactly when the nested state says L2 is running.
      const n = cpu['env.nested_state'] as NestedState | undefined;
      const guest = !!n && (n.flags & KVM_STATE_NESTED_GUEST_MODE) !== 0 && nestedStateAllocated(ctx, true);
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
  return fc.oneof(...bases.map((sc) => scenarioVm(sc, descs)));
}
