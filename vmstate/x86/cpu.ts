/**
 * The x86 `cpu` section (vmstate_x86_cpu, qemu-system-x86_64, KVM-enabled build): version 12,
 * minimum 11, the 1817-byte main field list, then the optional subsections in QEMU's order.
 *
 * A release's description is a function of its feature list (CpuFeatures): which subsections
 * it knows (each subsection carries the release that introduced it; QEMU only ever inserted
 * new ones in place, so filtering the newest list by release gives every older list exactly),
 * the few needed()/hook changes between releases, and how it carries nested state.
 * `cpu` below is QEMU 7.2's.
 */
import { vmsd, type AnyVMSDesc, type Ctx, type State, type StateOf } from '../../src/dsl';
import {
  cpuMainFields,
  CR0_PE_MASK,
  CR4_VMXE_MASK,
  DESC_DPL_MASK,
  DESC_DPL_SHIFT,
  HF_CPL_MASK,
  HF_GUEST_MASK,
  HF_SMM_MASK,
  R_CS,
  R_SS,
  type ExceptionNrName,
} from './cpu-fields';
import { cpuHas, isKvm, nestedStateAllocated, type X86Ctx } from './ctx';
import { KVM_STATE_NESTED_GUEST_MODE, type NestedState } from './kvm';
import { subsectionsDesign, subsectionsTree, type NestedDesign } from './nested';
import { big, list, num, obj } from './state-access';
import * as sub from './subsections';
import { atLeast, type QemuVersion } from './versions';

/** What distinguishes one release's `cpu` description from another's. */
export interface CpuFeatures {
  /** The release whose gates apply. */
  readonly version: QemuVersion;
  /** The release whose subsection list applies, when not `version` (`next` has 7.2's). */
  readonly subsectionsOf?: QemuVersion;
  /** How nested state travels; undefined for releases before 4.1 (none at all). */
  readonly nested?: NestedDesign;
}

/**
 * One `cpu/*` subsection: the release that introduced it ("2.11" stands for "2.11 or earlier"),
 * its newest description (which the state type is built from), and, where a release's variant
 * differs, how that release builds it (undefined: the release does not have it).
 */
interface CatalogEntry<D extends AnyVMSDesc = AnyVMSDesc> {
  readonly since: QemuVersion;
  readonly desc: D;
  readonly build?: (features: CpuFeatures) => AnyVMSDesc | undefined;
}

const entry = <D extends AnyVMSDesc>(
  since: QemuVersion,
  desc: D,
  build?: (features: CpuFeatures) => AnyVMSDesc | undefined,
): CatalogEntry<D> => ({ since, desc, build });

/**
 * Every `cpu/*` subsection of qemu-system-x86_64 (KVM build) up to 10.0, in wire order
 * (target/i386/machine.c's vmstate_x86_cpu list; see the x86 cpu VMState history).
 */
const CATALOG = [
  entry('4.1', sub.exceptionInfo),
  entry('2.11', sub.asyncPfMsr),
  entry('5.2', sub.asyncPfIntMsr),
  entry('2.11', sub.pvEoiMsr),
  entry('2.11', sub.stealTimeMsr),
  entry('4.2', sub.pollControlMsr),
  entry('2.11', sub.fpopIpDp),
  entry('2.11', sub.msrTscAdjust),
  entry('2.11', sub.msrTscDeadline),
  entry('2.11', sub.msrIa32MiscEnable),
  entry('2.11', sub.msrIa32FeatureControl),
  entry('2.11', sub.msrArchitecturalPmu),
  entry('2.11', sub.mpx),
  entry('2.11', sub.msrHypervHypercall),
  entry('2.11', sub.msrHypervVapic),
  entry('2.11', sub.msrHypervTime),
  entry('2.11', sub.msrHypervCrash),
  entry('2.11', sub.msrHypervRuntime),
  entry('2.11', sub.msrHypervSynic),
  entry('2.11', sub.msrHypervStimer),
  entry('3.0', sub.msrHypervReenlightenment(true), (ft) =>
    sub.msrHypervReenlightenment(atLeast(ft.version, '6.0')),
  ),
  entry('2.11', sub.avx512),
  entry('2.11', sub.xss),
  entry('4.2', sub.umwait),
  entry('2.11', sub.tscKhz),
  entry('2.12', sub.msrSmiCount(true), (ft) => sub.msrSmiCount(atLeast(ft.version, '3.0'))),
  entry('2.11', sub.pkru),
  entry('6.0', sub.pkrs),
  entry('2.12', sub.specCtrl),
  entry('6.2', sub.amdTscScaleMsr),
  entry('2.11', sub.mcgExtCtl),
  entry('2.12', sub.intelPt),
  entry('3.0', sub.virtSsbd),
  entry('3.0', sub.svmNpt),
  entry('6.2', sub.svmGuest),
  entry('4.1', subsectionsTree({ svm: true, preemptionTimer: true }), (ft) => ft.nested?.build()),
  entry('8.0', sub.xenVcpu),
  entry('4.2', sub.msrTsxCtrl),
  entry('6.2', sub.intelSgx),
  entry('7.0', sub.pdptrs),
  entry('7.0', sub.msrXfd),
  entry('9.2', sub.msrHwcr),
  entry('9.1', sub.fred),
  entry('7.0', sub.intelAmxXtile),
  entry('7.1', sub.archLbr),
  entry('7.2', sub.tripleFault),
] as const;

export const CPU_SUBSECTION_CATALOG: readonly CatalogEntry[] = CATALOG;

/** The subsection names a release knows, in wire order. */
export function cpuSubsectionNames(features: CpuFeatures): string[] {
  return cpuSubsections(features).map((d) => d.name);
}

function cpuSubsections(features: CpuFeatures): AnyVMSDesc[] {
  const out: AnyVMSDesc[] = [];
  for (const e of CPU_SUBSECTION_CATALOG) {
    if (!atLeast(features.subsectionsOf ?? features.version, e.since)) continue;
    const d = e.build ? e.build(features) : e.desc;
    if (d) out.push(d);
  }
  return out;
}

const x = (ctx: Ctx) => ctx as X86Ctx;
const segFlags = (s: Readonly<State>, i: number) =>
  num((list(s['env.segs'])[i] as State | undefined)?.flags);

/** CPUX86State's cpu_vmx_maybe_enabled(): VMX exposed and CR4.VMXE set (or in SMM, where CR4 may hide it). */
export function vmxMaybeEnabled(s: Readonly<State>, ctx: X86Ctx): boolean {
  return (
    cpuHas(ctx, 'vmx') &&
    ((big(s['env.cr[4]']) & CR4_VMXE_MASK) !== 0n || (num(s['env.hflags']) & HF_SMM_MASK) !== 0)
  );
}

/** Real mode: DPL must be 0 in every segment (old KVMs set it wrongly); QEMU fixes it on both sides. */
function clearRealModeDpl(s: State): void {
  if (
    (big(s['env.cr[0]']) & CR0_PE_MASK) !== 0n ||
    ((segFlags(s, R_CS) >> DESC_DPL_SHIFT) & 3) === 0
  )
    return;
  s['env.segs'] = (list(s['env.segs']) as State[]).map((seg) => ({
    ...seg,
    flags: (num(seg.flags) & ~DESC_DPL_MASK) >>> 0,
  }));
}

/** The release gates cpu_pre_save/post_load test, worked out once per release name. */
interface HookGates {
  /** 6.2+: v_tpr mirrors int_ctl. */
  readonly tprMirror: boolean;
  /** 4.1+: the nested-state checks and the pending-exception conversion. */
  readonly nested: boolean;
  /** 5.1+: an SVM model gets a nested-state buffer too. */
  readonly svmNested: boolean;
}

// The hooks run at every cpu save and load: three release comparisons each time were 1.5% of
// a cpu save+load's CPU time (--cpu-prof); one Map lookup now.
const hookGates = new Map<QemuVersion, HookGates>();
function gatesOf(version: QemuVersion): HookGates {
  let g = hookGates.get(version);
  if (!g) {
    g = {
      tprMirror: atLeast(version, '6.2'),
      nested: atLeast(version, '4.1'),
      svmNested: atLeast(version, '5.1'),
    };
    hookGates.set(version, g);
  }
  return g;
}

/**
 * cpu_pre_save as it affects the wire, as a pure function (the engine writes the returned copy):
 * the TPR mirror of int_ctl (6.2+), the fixed FPU format word, the real-mode DPL fix, the 4.1+
 * refusal to save possibly-enabled VMX without kernel support, and the 4.1+ conversion of a
 * pending exception outside L2 into an injected one (applying its payload to DR6/CR2).
 */
export function cpuPreSave(version: QemuVersion, given: Readonly<State>, ctx: X86Ctx): State {
  const gates = gatesOf(version);
  const s: State = { ...given };
  if (gates.tprMirror) s['env.v_tpr'] = num(s['env.int_ctl']) & 0xf;
  s['env.fpregs_format_vmstate'] = 0;
  clearRealModeDpl(s);
  if (gates.nested) {
    const guest = (num(s['env.hflags']) & HF_GUEST_MASK) !== 0;
    if (
      isKvm(ctx) &&
      vmxMaybeEnabled(s, ctx) &&
      (!nestedStateAllocated(ctx, gates.svmNested) ||
        (!ctx.kvm?.exceptionPayload && guest && num(s['env.exception_injected']) !== 0))
    )
      throw new Error(
        'Guest maybe enabled nested virtualization but kernel does not support required capabilities to save vCPU nested state',
      );
    if (num(s['env.exception_pending']) !== 0 && !guest) {
      s['env.exception_pending'] = 0;
      s['env.exception_injected'] = 1;
      if (num(s['env.exception_has_payload']) !== 0) {
        const nr = num(s['env.exception_nr']);
        if (nr === 1) {
          const dr = [...(list(s['env.dr']) as bigint[])];
          dr[6] = big(s['env.exception_payload']);
          s['env.dr'] = dr;
        } else if (nr === 14) s['env.cr[2]'] = big(s['env.exception_payload']);
      }
    }
  }
  return s;
}

/**
 * cpu_post_load as it affects the state: the checks QEMU refuses a stream with, the DPL fix,
 * CPL re-derived from SS.DPL, and (4.1+) an exception number without pending/injected taken as
 * injected. TCG-only work (breakpoints, softfloat status) has no state effect here.
 */
export function cpuPostLoad(version: QemuVersion, s: State, ctx: X86Ctx): void {
  const gates = gatesOf(version);
  const tscKhz = big(s['env.tsc_khz']);
  if (tscKhz !== 0n && ctx.userTscKhz && tscKhz !== BigInt(ctx.userTscKhz))
    throw new Error('Mismatch between user-specified TSC frequency and migrated TSC frequency');
  if (num(s['env.fpregs_format_vmstate']) !== 0)
    throw new Error('Unsupported old non-softfloat CPU state');
  clearRealModeDpl(s);
  s['env.hflags'] =
    ((num(s['env.hflags']) & ~HF_CPL_MASK) |
      ((segFlags(s, R_SS) >> DESC_DPL_SHIFT) & HF_CPL_MASK)) >>>
    0;
  if (gates.nested) {
    if (isKvm(ctx) && (num(s['env.hflags']) & HF_GUEST_MASK) !== 0) {
      const n = obj(s['env.nested_state']) as NestedState | undefined;
      if (
        !nestedStateAllocated(ctx, gates.svmNested) ||
        !n ||
        !(n.flags & KVM_STATE_NESTED_GUEST_MODE)
      )
        throw new Error('vCPU set in guest-mode inconsistent with migrated kernel nested state');
    }
    if (
      num(s['env.exception_nr']) !== -1 &&
      num(s['env.exception_pending']) === 0 &&
      num(s['env.exception_injected']) === 0
    )
      s['env.exception_injected'] = 1;
  }
}

/** The `cpu` description of a release. */
export function buildCpuDescription(features: CpuFeatures): AnyVMSDesc {
  const exceptionNrName: ExceptionNrName = atLeast(features.version, '4.1')
    ? 'env.exception_nr'
    : 'env.exception_injected';
  return vmsd({
    name: 'cpu',
    version_id: 12,
    minimum_version_id: 11,
    pre_save: (s, ctx) => cpuPreSave(features.version, s, x(ctx)),
    post_load: (s, _v, ctx) => cpuPostLoad(features.version, s, x(ctx)),
    fields: cpuMainFields(exceptionNrName),
    subsections: cpuSubsections(features),
  });
}

/** QEMU 7.2's nested design: VMX and SVM children, no preemption timer. */
export const NESTED_7_2 = subsectionsDesign({ svm: true, preemptionTimer: false });

/**
 * A statically typed description with every subsection any of our releases or designs has (the
 * catalog's newest variants): its StateOf is the `cpu` state type every release reads and writes
 * (keys a release does not know simply keep their initial values).
 */
const cpuEverything = vmsd({
  name: 'cpu',
  version_id: 12,
  minimum_version_id: 11,
  fields: cpuMainFields(),
  subsections: CATALOG.map((e) => e.desc) as (typeof CATALOG)[number]['desc'][],
});

/** The state of the x86 `cpu` section, whatever the release. */
export type CpuState = StateOf<typeof cpuEverything>;

/** The union description itself (its initial state holds every key any release uses). */
export const cpuEverythingDescription: AnyVMSDesc = cpuEverything;

/** QEMU 7.2's `cpu` section (x86_64, KVM-enabled build). */
export const cpu = buildCpuDescription({ version: '7.2', nested: NESTED_7_2 });

/**
 * The subsections of real QEMU's cpu VMState that exist only for a guest or host feature: QEMU
 * adds one with each new feature and sends it only while the feature is in use, so a state that
 * sends it uses that feature. A release that lacks the subsection lacks the feature, and no
 * machine type can turn a guest's use of it off. A design's own new subsection is not among
 * them: it carries state the older release already runs, so a machine type must keep it off.
 */
const REAL_NESTED_SUBSECTIONS: Readonly<Record<string, string>> = {
  'cpu/nested_state': '4.1',
  'cpu/kvm_nested_state/vmx': '4.1',
  'cpu/kvm_nested_state/vmx/vmcs12': '4.1',
  'cpu/kvm_nested_state/vmx/shadow_vmcs12': '4.1',
  'cpu/kvm_nested_state/svm': '5.1',
};

/** The feature a subsection of real QEMU carries, in words, or undefined for any other subsection. */
export function cpuSubsectionFeature(name: string): string | undefined {
  const since =
    CPU_SUBSECTION_CATALOG.find((e) => e.desc.name === name)?.since ??
    REAL_NESTED_SUBSECTIONS[name];
  return since && `a guest or host feature QEMU migrates since ${since}`;
}
