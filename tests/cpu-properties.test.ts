/**
 * Properties of every release's (and design's) `cpu` description over arbitrary states: what is
 * saved loads back to the same state (after QEMU's own pre_save/post_load fix-ups), saving again
 * gives the same bytes, and the nested-state subsections appear exactly when the kernel's
 * size/format/flags say there is something to carry.
 */
import fc from 'fast-check';
import {
  arbitraryState,
  canonicalState,
  load,
  save,
  saveDescribed,
  statesEqual,
  type AnyVMSDesc,
  type State,
} from '../src';
import { stateFields } from '../src/engine/state';
import type { VmdescVMSD } from '../src/engine/vmdesc-types';
import { designs, RELEASE_NAMES, releases, type Release } from '../vmstate/releases';
import { cpuPostLoad, cpuPreSave } from '../vmstate/x86/cpu';
import { cpuResetState } from '../vmstate/x86/reset';
import { HF_GUEST_MASK } from '../vmstate/x86/cpu-fields';
import { nestedStateAllocated, type X86Ctx } from '../vmstate/x86/ctx';
import {
  buildNestedState,
  INVALID_GPA,
  KVM_STATE_NESTED_FORMAT_SVM,
  KVM_STATE_NESTED_FORMAT_VMX,
  KVM_STATE_NESTED_GUEST_MODE,
  KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE,
  parseNestedState,
  type NestedState,
} from '../vmstate/x86/kvm';
import { arbitraryNestedState, type NestedScenario } from '../vmstate/x86/kvm/arbitrary';
import { atLeast } from '../vmstate/x86/versions';

const RUNS = 12;
const USER_TSC_KHZ = 2_400_000;

const TCG: X86Ctx = { accel: 'tcg', userTscKhz: USER_TSC_KHZ };
const KVM_INTEL: X86Ctx = {
  accel: 'kvm',
  cpu: { vmx: true },
  kvm: { nestedStateMax: 8320, exceptionPayload: true },
  userTscKhz: USER_TSC_KHZ,
};
const KVM_AMD: X86Ctx = {
  accel: 'kvm',
  cpu: { svm: true },
  kvm: { nestedStateMax: 4224, exceptionPayload: true },
  userTscKhz: USER_TSC_KHZ,
};
const HOSTS: [string, X86Ctx, NestedScenario[]][] = [
  ['tcg', TCG, ['vmx-none']],
  ['kvm-intel', KVM_INTEL, ['vmx-none', 'vmx-root', 'vmx-root-vmcs', 'vmx-l2']],
  ['kvm-amd', KVM_AMD, ['svm-none', 'svm-l2']],
];

const cpuOf = (r: Release) => r.catalog.find((c) => c.name === 'cpu')!.vmsd;

/** The kvm_nested_state description inside a release's cpu/nested_state, if it has one as a struct. */
function nestedStructOf(cpu: AnyVMSDesc): AnyVMSDesc | undefined {
  const sub = (cpu.subsections as readonly AnyVMSDesc[]).find((s) => s.name === 'cpu/nested_state');
  const field = sub?.fields.find((f) => f.key === 'env.nested_state');
  return (field?.kind as { desc?: AnyVMSDesc } | undefined)?.desc;
}

/** A NestedState restricted to the keys a description knows (what a receiver of that release holds). */
function restrict(ns: NestedState, desc: AnyVMSDesc | undefined): State {
  if (!desc) return { ...ns };
  const keys = new Set(stateFields(desc).map((f) => f.key));
  return Object.fromEntries(Object.entries(ns).filter(([k]) => keys.has(k)));
}

/**
 * Arbitrary cpu states for a release on a host, biased so every needed() branch is reached:
 * valid kernel nested states of the host's vendor, hflags' guest bit agreeing with them (else
 * cpu_post_load refuses), the TSC frequency the receiver was given, the FPU format word 0.
 */
function arbitraryCpu(r: Release, ctx: X86Ctx, nestedScenarios: NestedScenario[]) {
  const desc = cpuOf(r);
  const nestedDesc = nestedStructOf(desc);
  const bigOrZero = (v: bigint) => fc.constantFrom(0n, v);
  return arbitraryState(desc, {
    ctx,
    overrides: {
      'env.fpregs_format_vmstate': fc.constant(0),
      'env.tsc_khz': bigOrZero(BigInt(USER_TSC_KHZ)),
      'env.poll_control_msr': fc.constantFrom(0n, 1n, 7n),
      'env.msr_ia32_misc_enable': fc.constantFrom(1n, 0x850089n),
      'env.exception_pending': fc.constantFrom(0, 1),
      'env.exception_nr': fc.constantFrom(-1, 1, 13, 14),
      'env.hflags': fc.integer({ min: 0, max: 0xffffffff }),
      'env.nested_state': arbitraryNestedState(nestedScenarios).map((ns) =>
        restrict(ns, nestedDesc),
      ),
    },
  }).map((s) => {
    const st = s as State;
    syncGuestMode(r, st, ctx);
    return canonicalState(desc, st, ctx);
  });
}

/** QEMU 4.1+ under KVM takes L2 mode (hflags' guest bit) from the nested state only; keep them agreeing. */
function syncGuestMode(r: Release, st: State, ctx: X86Ctx): void {
  if (!atLeast(r.cpuFeatures.version, '4.1') || ctx.accel !== 'kvm') return;
  const ns = st['env.nested_state'] as NestedState | undefined;
  const svm = r.cpuFeatures.nested?.carriesSvm ?? false;
  const guest =
    ns !== undefined &&
    nestedStateAllocated(ctx, svm) &&
    (ns.flags & KVM_STATE_NESTED_GUEST_MODE) !== 0;
  st['env.hflags'] =
    (((st['env.hflags'] as number) & ~HF_GUEST_MASK) | (guest ? HF_GUEST_MASK : 0)) >>> 0;
}

/** Keys whose values differ (a readable failure instead of two whole cpu states). */
function differingKeys(a: State, b: State): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => !statesEqual(a[k], b[k]),
  );
}

/** What a receiver holds after loading what the sender wrote for `s`: pre_save, the wire, post_load. */
function expectedAfterLoad(r: Release, s: State, ctx: X86Ctx): State {
  const desc = cpuOf(r);
  const sent = cpuPreSave(r.cpuFeatures.version, s, ctx);
  canonicalState(desc, sent, ctx);
  cpuPostLoad(r.cpuFeatures.version, sent, ctx);
  return sent;
}

const withSubsectionDesigns = [
  ...RELEASE_NAMES.map((n) => releases[n]),
  designs['subsections'],
  designs['unversioned-append'],
];

describe.each(withSubsectionDesigns.map((r) => [r.name, r] as const))('cpu of %s', (_name, r) => {
  const desc = cpuOf(r);
  it.each(HOSTS)('round-trips arbitrary states on %s', (_h, ctx, scenarios) => {
    fc.assert(
      fc.property(arbitraryCpu(r, ctx, scenarios), (s) => {
        const bytes = save(desc, s, { ctx });
        const back = load(desc, bytes, 12, { ctx });
        expect(differingKeys(back, expectedAfterLoad(r, s, ctx))).toEqual([]);
        // QEMU's hooks normalise once (CPL from SS.DPL, real-mode DPL, exception state); from then on
        // a loaded state saves to the bytes it was loaded from.
        const again = save(desc, back, { ctx });
        expect(
          Buffer.from(save(desc, load(desc, again, 12, { ctx }), { ctx })).equals(
            Buffer.from(again),
          ),
        ).toBe(true);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});

describe('cpu of the blob design', () => {
  const r = designs['blob'];
  const desc = cpuOf(r);
  it.each(HOSTS)('carries the whole kernel blob and parses it back on %s', (_h, ctx, scenarios) => {
    fc.assert(
      fc.property(arbitraryCpu(r, ctx, scenarios), arbitraryNestedState(scenarios), (s, ns) => {
        const st: State = { ...s, 'env.nested_state': { ...ns } };
        syncGuestMode(r, st, ctx);
        const bytes = save(desc, st, { ctx });
        const back = load(desc, bytes, 12, { ctx });
        const sent =
          ctx.accel === 'kvm' &&
          ((ns['hdr.vmx.vmxon_pa'] !== INVALID_GPA && ns.format === KVM_STATE_NESTED_FORMAT_VMX) ||
            (ns.format === KVM_STATE_NESTED_FORMAT_SVM && ns.size > 128));
        if (sent) {
          expect(back['env.nested_state']).toEqual({ ...ns });
          // The blob on the wire is exactly what KVM_GET_NESTED_STATE returned.
          expect(
            Buffer.from(back['env.nested_state_blob'] as Uint8Array).equals(
              Buffer.from(buildNestedState(ns)),
            ),
          ).toBe(true);
        } else expect(back['env.nested_state']).toBeUndefined();
        const again = save(desc, back, { ctx });
        expect(
          Buffer.from(save(desc, load(desc, again, 12, { ctx }), { ctx })).equals(
            Buffer.from(again),
          ),
        ).toBe(true);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});

/** The names of every subsection in a vmdesc, depth first, including those inside struct fields. */
function sentNames(d: VmdescVMSD): string[] {
  const out: string[] = [];
  const walk = (v: VmdescVMSD) => {
    for (const f of v.fields) if (f.struct) walk(f.struct);
    for (const s of v.subsections ?? []) {
      out.push(s.vmsd_name);
      walk(s);
    }
  };
  walk(d);
  return out;
}

describe('nested subsections follow the kernel size/format/flags rules', () => {
  const cases: [string, X86Ctx, NestedScenario[]][] = [
    ['vmx', KVM_INTEL, ['vmx-none', 'vmx-root', 'vmx-root-vmcs', 'vmx-l2']],
    ['svm', KVM_AMD, ['svm-none', 'svm-l2']],
  ];
  for (const name of ['4.1', '5.1', '7.2', 'next']) {
    const r = releases[name];
    const desc = cpuOf(r);
    const base = arbitraryFallback(desc);
    it.each(cases)(`${name}: %s blobs`, (_f, ctx, scenarios) => {
      fc.assert(
        fc.property(arbitraryNestedState(scenarios), (ns) => {
          // Through the kernel ABI: the blob KVM_GET_NESTED_STATE returns, parsed as QEMU receives it.
          const kernel = parseNestedState(buildNestedState(ns));
          const full: State = {
            ...base,
            'env.nested_state': restrict(kernel, nestedStructOf(desc)),
          };
          const { bytes, vmdesc } = saveDescribed(desc, full, { ctx });
          const sent = new Set(sentNames(vmdesc));
          const vmx = kernel.format === KVM_STATE_NESTED_FORMAT_VMX;
          const svmKnown = r.cpuFeatures.nested!.carriesSvm;
          const vmxOn = vmx && kernel['hdr.vmx.vmxon_pa'] !== INVALID_GPA;
          const svmGuest = !vmx && svmKnown && kernel.size > 128;
          expect(sent.has('cpu/nested_state')).toBe(vmxOn || svmGuest);
          expect(sent.has('cpu/kvm_nested_state/vmx')).toBe(vmxOn);
          expect(sent.has('cpu/kvm_nested_state/vmx/vmcs12')).toBe(
            vmxOn && kernel.size >= 128 + 4096,
          );
          expect(sent.has('cpu/kvm_nested_state/vmx/shadow_vmcs12')).toBe(
            vmxOn && kernel.size >= 128 + 8192,
          );
          expect(sent.has('cpu/kvm_nested_state/svm')).toBe(svmGuest);
          expect(sent.has('cpu/kvm_nested_state/vmx/preemption_timer')).toBe(
            name === 'next' &&
              vmxOn &&
              (kernel['hdr.vmx.flags'] & KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE) !== 0,
          );
          // And what the receiver rebuilds is the kernel's blob, byte for byte, whenever it carries all of it.
          const back = load(desc, bytes, 12, { ctx });
          const carriesAll =
            name === 'next' ||
            (kernel['hdr.vmx.flags'] & KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE) === 0;
          if ((vmxOn || svmGuest) && carriesAll) {
            // Every key of the kernel's format arrives as the kernel reported it (hdr is a union:
            // the other format's names alias the same bytes and are not compared).
            const other = vmx ? 'svm' : 'vmx';
            const mine = (o: object) =>
              Object.fromEntries(Object.entries(o).filter(([k]) => !k.includes(`.${other}`)));
            const received = back['env.nested_state'] as State;
            expect(mine(received)).toEqual(mine(restrict(kernel, nestedStructOf(desc))));
          }
        }),
        { numRuns: 40, endOnFailure: true },
      );
    });
  }
});

/** A reset vCPU: every key present, nothing that trips a check. */
function arbitraryFallback(_desc: AnyVMSDesc): State {
  return cpuResetState(KVM_INTEL) as State;
}
