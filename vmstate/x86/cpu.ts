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
  /** The release whose subsection list and gates apply. */
  readonly version: QemuVersion;
  /** How nested state travels; undefined for releases before 4.1 (none at all). */
  readonly nested?: NestedDesign;
}

interface CatalogEntry {
  readonly name: string;
  /** First release with this subsection ("2.11" stands for "2.11 or earlier"). */
  readonly since: QemuVersion;
  readonly build: (features: CpuFeatures) => AnyVMSDesc | undefined;
}

const always = (d: AnyVMSDesc) => () => d;

/** Every `cpu/*` subsection up to 7.2 in wire order (xen_vcpu, 8.0, is outside our releases). */
export const CPU_SUBSECTION_CATALOG: readonly CatalogEntry[] = [
  { name: 'cpu/exception_info', since: '4.1', build: always(sub.exceptionInfo) },
  { name: 'cpu/async_pf_msr', since: '2.11', build: always(sub.asyncPfMsr) },
  { name: 'cpu/async_pf_int_msr', since: '5.2', build: always(sub.asyncPfIntMsr) },
  { name: 'cpu/async_pv_eoi_msr', since: '2.11', build: always(sub.pvEoiMsr) },
  { name: 'cpu/steal_time_msr', since: '2.11', build: always(sub.stealTimeMsr) },
  { name: 'cpu/poll_control_msr', since: '4.2', build: always(sub.pollControlMsr) },
  { name: 'cpu/fpop_ip_dp', since: '2.11', build: always(sub.fpopIpDp) },
  { name: 'cpu/msr_tsc_adjust', since: '2.11', build: always(sub.msrTscAdjust) },
  { name: 'cpu/msr_tscdeadline', since: '2.11', build: always(sub.msrTscDeadline) },
  { name: 'cpu/msr_ia32_misc_enable', since: '2.11', build: always(sub.msrIa32MiscEnable) },
  { name: 'cpu/msr_ia32_feature_control', since: '2.11', build: always(sub.msrIa32FeatureControl) },
  { name: 'cpu/msr_architectural_pmu', since: '2.11', build: always(sub.msrArchitecturalPmu) },
  { name: 'cpu/mpx', since: '2.11', build: always(sub.mpx) },
  { name: 'cpu/msr_hyperv_hypercall', since: '2.11', build: always(sub.msrHypervHypercall) },
  { name: 'cpu/msr_hyperv_vapic', since: '2.11', build: always(sub.msrHypervVapic) },
  { name: 'cpu/msr_hyperv_time', since: '2.11', build: always(sub.msrHypervTime) },
  { name: 'cpu/msr_hyperv_crash', since: '2.11', build: always(sub.msrHypervCrash) },
  { name: 'cpu/msr_hyperv_runtime', since: '2.11', build: always(sub.msrHypervRuntime) },
  { name: 'cpu/msr_hyperv_synic', since: '2.11', build: always(sub.msrHypervSynic) },
  { name: 'cpu/msr_hyperv_stimer', since: '2.11', build: always(sub.msrHypervStimer) },
  {
    name: 'cpu/msr_hyperv_reenlightenment',
    since: '3.0',
    build: (ft) => sub.msrHypervReenlightenment(atLeast(ft.version, '6.0')),
  },
  { name: 'cpu/avx512', since: '2.11', build: always(sub.avx512) },
  { name: 'cpu/xss', since: '2.11', build: always(sub.xss) },
  { name: 'cpu/umwait', since: '4.2', build: always(sub.umwait) },
  { name: 'cpu/tsc_khz', since: '2.11', build: always(sub.tscKhz) },
  {
    name: 'cpu/msr_smi_count',
    since: '2.12',
    build: (ft) => sub.msrSmiCount(atLeast(ft.version, '3.0')),
  },
  { name: 'cpu/pkru', since: '2.11', build: always(sub.pkru) },
  { name: 'cpu/pkrs', since: '6.0', build: always(sub.pkrs) },
  { name: 'cpu/spec_ctrl', since: '2.12', build: always(sub.specCtrl) },
  { name: 'cpu/amd_tsc_scale_msr', since: '6.2', build: always(sub.amdTscScaleMsr) },
  { name: 'cpu/mcg_ext_ctl', since: '2.11', build: always(sub.mcgExtCtl) },
  { name: 'cpu/intel_pt', since: '2.12', build: always(sub.intelPt) },
  { name: 'cpu/virt_ssbd', since: '3.0', build: always(sub.virtSsbd) },
  { name: 'cpu/svn_npt', since: '3.0', build: always(sub.svmNpt) },
  { name: 'cpu/svm_guest', since: '6.2', build: always(sub.svmGuest) },
  { name: 'cpu/nested_state', since: '4.1', build: (ft) => ft.nested?.build() },
  { name: 'cpu/msr_tsx_ctrl', since: '4.2', build: always(sub.msrTsxCtrl) },
  { name: 'cpu/intel_sgx', since: '6.2', build: always(sub.intelSgx) },
  { name: 'cpu/pdptrs', since: '7.0', build: always(sub.pdptrs) },
  { name: 'cpu/msr_xfd', since: '7.0', build: always(sub.msrXfd) },
  { name: 'cpu/intel_amx_xtile', since: '7.0', build: always(sub.intelAmxXtile) },
  { name: 'cpu/arch_lbr', since: '7.1', build: always(sub.archLbr) },
  { name: 'cpu/triple_fault', since: '7.2', build: always(sub.tripleFault) },
];

/** The subsection names a release knows, in wire order. */
export function cpuSubsectionNames(features: CpuFeatures): string[] {
  return cpuSubsections(features).map((d) => d.name);
}

function cpuSubsections(features: CpuFeatures): AnyVMSDesc[] {
  const out: AnyVMSDesc[] = [];
  for (const e of CPU_SUBSECTION_CATALOG) {
    if (!atLeast(features.version, e.since)) continue;
    const d = e.build(features);
    if (d) out.push(d);
  }
  return out;
}

const x = (ctx: Ctx) => ctx as X86Ctx;
const segFlags = (s: Readonly<State>, i: number) =>
  num((list(s, 'env.segs')[i] ?? {}) as State, 'flags');

/** CPUX86State's cpu_vmx_maybe_enabled(): VMX exposed and CR4.VMXE set (or in SMM, where CR4 may hide it). */
export function vmxMaybeEnabled(s: Readonly<State>, ctx: X86Ctx): boolean {
  return (
    cpuHas(ctx, 'vmx') &&
    ((big(s, 'env.cr[4]') & CR4_VMXE_MASK) !== 0n || (num(s, 'env.hflags') & HF_SMM_MASK) !== 0)
  );
}

/** Real mode: DPL must be 0 in every segment (old KVMs set it wrongly); QEMU fixes it on both sides. */
function clearRealModeDpl(s: State): void {
  if (
    (big(s, 'env.cr[0]') & CR0_PE_MASK) !== 0n ||
    ((segFlags(s, R_CS) >> DESC_DPL_SHIFT) & 3) === 0
  )
    return;
  s['env.segs'] = (list(s, 'env.segs') as State[]).map((seg) => ({
    ...seg,
    flags: (num(seg, 'flags') & ~DESC_DPL_MASK) >>> 0,
  }));
}

/**
 * cpu_pre_save as it affects the wire, as a pure function (the engine writes the returned copy):
 * the TPR mirror of int_ctl (6.2+), the fixed FPU format word, the real-mode DPL fix, the 4.1+
 * refusal to save possibly-enabled VMX without kernel support, and the 4.1+ conversion of a
 * pending exception outside L2 into an injected one (applying its payload to DR6/CR2).
 */
export function cpuPreSave(version: QemuVersion, given: Readonly<State>, ctx: X86Ctx): State {
  const s: State = { ...given };
  if (atLeast(version, '6.2')) s['env.v_tpr'] = num(s, 'env.int_ctl') & 0xf;
  s['env.fpregs_format_vmstate'] = 0;
  clearRealModeDpl(s);
  if (atLeast(version, '4.1')) {
    const guest = (num(s, 'env.hflags') & HF_GUEST_MASK) !== 0;
    if (
      isKvm(ctx) &&
      vmxMaybeEnabled(s, ctx) &&
      (!nestedStateAllocated(ctx, atLeast(version, '5.1')) ||
        (!ctx.kvm?.exceptionPayload && guest && num(s, 'env.exception_injected') !== 0))
    )
      throw new Error(
        'Guest maybe enabled nested virtualization but kernel does not support required capabilities to save vCPU nested state',
      );
    if (num(s, 'env.exception_pending') !== 0 && !guest) {
      s['env.exception_pending'] = 0;
      s['env.exception_injected'] = 1;
      if (num(s, 'env.exception_has_payload') !== 0) {
        const nr = num(s, 'env.exception_nr');
        if (nr === 1) {
          const dr = [...(list(s, 'env.dr') as bigint[])];
          dr[6] = big(s, 'env.exception_payload');
          s['env.dr'] = dr;
        } else if (nr === 14) s['env.cr[2]'] = big(s, 'env.exception_payload');
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
  const tscKhz = big(s, 'env.tsc_khz');
  if (tscKhz !== 0n && ctx.userTscKhz && tscKhz !== BigInt(ctx.userTscKhz))
    throw new Error('Mismatch between user-specified TSC frequency and migrated TSC frequency');
  if (num(s, 'env.fpregs_format_vmstate') !== 0)
    throw new Error('Unsupported old non-softfloat CPU state');
  clearRealModeDpl(s);
  s['env.hflags'] =
    ((num(s, 'env.hflags') & ~HF_CPL_MASK) |
      ((segFlags(s, R_SS) >> DESC_DPL_SHIFT) & HF_CPL_MASK)) >>>
    0;
  if (atLeast(version, '4.1')) {
    if (isKvm(ctx) && (num(s, 'env.hflags') & HF_GUEST_MASK) !== 0) {
      const n = obj(s, 'env.nested_state') as NestedState | undefined;
      if (
        !nestedStateAllocated(ctx, atLeast(version, '5.1')) ||
        !n ||
        !(n.flags & KVM_STATE_NESTED_GUEST_MODE)
      )
        throw new Error('vCPU set in guest-mode inconsistent with migrated kernel nested state');
    }
    if (
      num(s, 'env.exception_nr') !== -1 &&
      num(s, 'env.exception_pending') === 0 &&
      num(s, 'env.exception_injected') === 0
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
 * A statically typed description with every subsection any of our releases or designs has: its
 * StateOf is the `cpu` state type every release reads and writes (keys a release does not know
 * simply keep their initial values).
 */
const cpuEverything = vmsd({
  name: 'cpu',
  version_id: 12,
  minimum_version_id: 11,
  fields: cpuMainFields(),
  subsections: [
    sub.exceptionInfo,
    sub.asyncPfMsr,
    sub.asyncPfIntMsr,
    sub.pvEoiMsr,
    sub.stealTimeMsr,
    sub.pollControlMsr,
    sub.fpopIpDp,
    sub.msrTscAdjust,
    sub.msrTscDeadline,
    sub.msrIa32MiscEnable,
    sub.msrIa32FeatureControl,
    sub.msrArchitecturalPmu,
    sub.mpx,
    sub.msrHypervHypercall,
    sub.msrHypervVapic,
    sub.msrHypervTime,
    sub.msrHypervCrash,
    sub.msrHypervRuntime,
    sub.msrHypervSynic,
    sub.msrHypervStimer,
    sub.msrHypervReenlightenment(true),
    sub.avx512,
    sub.xss,
    sub.umwait,
    sub.tscKhz,
    sub.msrSmiCount(true),
    sub.pkru,
    sub.pkrs,
    sub.specCtrl,
    sub.amdTscScaleMsr,
    sub.mcgExtCtl,
    sub.intelPt,
    sub.virtSsbd,
    sub.svmNpt,
    sub.svmGuest,
    subsectionsTree({ svm: true, preemptionTimer: true }),
    sub.msrTsxCtrl,
    sub.intelSgx,
    sub.pdptrs,
    sub.msrXfd,
    sub.intelAmxXtile,
    sub.archLbr,
    sub.tripleFault,
  ],
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
    CPU_SUBSECTION_CATALOG.find((e) => e.name === name)?.since ?? REAL_NESTED_SUBSECTIONS[name];
  return since && `a guest or host feature QEMU migrates since ${since}`;
}
