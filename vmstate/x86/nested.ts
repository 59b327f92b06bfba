/**
 * The KVM nested-virtualization state inside the `cpu` section: the `cpu/nested_state`
 * subsection and the trees hanging below it.
 *
 * `subsectionsTree` is QEMU's own design (4.1+, SVM child 5.1+): the kernel's struct
 * kvm_nested_state becomes a struct field `env.nested_state` whose description
 * `cpu/kvm_nested_state` carries flags/format/size and per-format subsections, with each 4 KiB
 * page in its own subsection gated by `size`. Our `next` release adds one more VMX child for the
 * preemption-timer deadline, gated by the kernel's header flag and a machine-type property.
 *
 * The state is the same object in every variant: `env.nested_state` holds the NestedState
 * record of vmstate/x86/kvm (all twelve keys), so designs that put it on the wire differently
 * still load to, and save from, the same state.
 */
import {
  f,
  k,
  vmsd,
  byteArray,
  type AnyVMSDesc,
  type Ctx,
  type Kind,
  type State,
} from '../../src/dsl';
import {
  INVALID_GPA,
  KVM_STATE_NESTED_FORMAT_SVM,
  KVM_STATE_NESTED_FORMAT_VMX,
  KVM_STATE_NESTED_SVM_VMCB_SIZE,
  KVM_STATE_NESTED_VMX_VMCS_SIZE,
  KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE,
  NESTED_STATE_HEADER_SIZE,
  svmNestedStateNeeded,
  vmxNestedStateNeeded,
  vmxShadowVmcs12Needed,
  vmxVmcs12Needed,
  type NestedState,
} from './kvm';
import { cpuProp, maxNestedStateLength, nestedStateAllocated, type X86Ctx } from './ctx';
import { obj } from './state-access';

const x = (ctx: Ctx) => ctx as X86Ctx;
const ns = (s: Readonly<State>) => s as unknown as NestedState;

/** Machine-type property of our `next` release: off for pc-*-7.2 and older machine types. */
export const PREEMPTION_TIMER_PROP = 'x-migrate-vmx-preemption-timer';

export interface NestedTreeOptions {
  /** `cpu/kvm_nested_state/svm` exists (QEMU 5.1+). */
  readonly svm: boolean;
  /** `cpu/kvm_nested_state/vmx/preemption_timer` exists (our `next`). */
  readonly preemptionTimer: boolean;
}

/** How a release puts the nested state on the wire; `build` gives its `cpu/nested_state` subsection. */
export interface NestedDesign {
  readonly name: string;
  /** The formats whose L1/L2 state the design carries (the rest is lost on migration). */
  readonly carriesSvm: boolean;
  /** Whether hdr.vmx.flags / preemption_timer_deadline travel (when the machine type allows it). */
  readonly carriesPreemptionTimer: (ctx: X86Ctx) => boolean;
  /** The vCPU property that turns the preemption-timer subsection off (named in loss notes). */
  readonly preemptionTimerProp?: string;
  build(): AnyVMSDesc;
}

export const vmcs12Subsection = vmsd({
  name: 'cpu/kvm_nested_state/vmx/vmcs12',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => vmxVmcs12Needed(ns(s)),
  fields: [byteArray('data.vmx[0].vmcs12', KVM_STATE_NESTED_VMX_VMCS_SIZE)],
});

export const shadowVmcs12Subsection = vmsd({
  name: 'cpu/kvm_nested_state/vmx/shadow_vmcs12',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => vmxShadowVmcs12Needed(ns(s)),
  fields: [byteArray('data.vmx[0].shadow_vmcs12', KVM_STATE_NESTED_VMX_VMCS_SIZE)],
});

/**
 * `next`: the deadline KVM reports with KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE (Linux 5.8+),
 * added the 2018 way: the header flag says the field is valid, a new subsection carries both
 * and is sent only then, so streams without a deadline stay loadable by every 4.1+ QEMU.
 */
export const preemptionTimerSubsection = vmsd({
  name: 'cpu/kvm_nested_state/vmx/preemption_timer',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s, ctx) =>
    (ns(s)['hdr.vmx.flags'] & KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE) !== 0 &&
    cpuProp(x(ctx), PREEMPTION_TIMER_PROP, true),
  fields: [f.u32('hdr.vmx.flags'), f.u64('hdr.vmx.preemption_timer_deadline')],
});

/**
 * A guest-physical address whose "nothing" is all ones, as kvm_init_nested_state leaves
 * vmxon_pa/vmcs12_pa: a receiver that never got them must not look like "VMXON at address 0".
 */
const gpaOrNone: Kind<bigint> = { ...k.u64, initial: () => INVALID_GPA };

/** The VMX header fields QEMU migrates (hdr.vmx.flags and the deadline are not among them). */
export const vmxHeaderFields = [
  f.field('hdr.vmx.vmxon_pa', gpaOrNone),
  f.field('hdr.vmx.vmcs12_pa', gpaOrNone),
  f.u16('hdr.vmx.smm.flags'),
] as const;

export function vmxSubsection(preemptionTimer: boolean) {
  return vmsd({
    name: 'cpu/kvm_nested_state/vmx',
    version_id: 1,
    minimum_version_id: 1,
    needed: (s) => vmxNestedStateNeeded(ns(s)),
    fields: vmxHeaderFields,
    subsections: preemptionTimer
      ? [vmcs12Subsection, shadowVmcs12Subsection, preemptionTimerSubsection]
      : [vmcs12Subsection, shadowVmcs12Subsection],
  });
}

/** SVM: vmcb_pa and the vmcb12 page together, only in guest mode (size > header). */
export const svmSubsection = vmsd({
  name: 'cpu/kvm_nested_state/svm',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => svmNestedStateNeeded(ns(s)),
  fields: [
    f.u64('hdr.svm.vmcb_pa'),
    byteArray('data.svm[0].vmcb12', KVM_STATE_NESTED_SVM_VMCB_SIZE),
  ],
});

/** struct kvm_nested_state as a VMSD: never a subsection itself, so its name is never on the wire. */
export function kvmNestedStateDescription(vmx: AnyVMSDesc, svm: AnyVMSDesc | undefined) {
  return vmsd({
    name: 'cpu/kvm_nested_state',
    version_id: 1,
    minimum_version_id: 1,
    fields: [f.u16('flags'), f.u16('format'), f.u32('size')],
    subsections: svm ? [vmx, svm] : [vmx],
  });
}

/** The full tree (every child any variant has), for the state type and the KVM-ABI keys. */
export const kvmNestedStateFull = kvmNestedStateDescription(vmxSubsection(true), svmSubsection);

/**
 * The receiver side before anything is read: env->nested_state is a struct pointer, NULL unless
 * QEMU allocated the buffer (KVM with KVM_CAP_NESTED_STATE and a VMX, or 5.1+ SVM, CPU model).
 * QEMU 7.2 then does not fail gracefully: it aborts on an assertion in vmstate_load_state
 * (checked with the real binary under TCG). nested_state_post_load's "kernel cannot restore it"
 * message is therefore never reached in practice.
 */
export function checkNestedBufferAllocated(ctx: Ctx, svm: boolean): void {
  if (!nestedStateAllocated(x(ctx), svm))
    throw new Error(
      'Received nested state but this vCPU has no nested-state buffer (env->nested_state is NULL: TCG, KVM without ' +
        'KVM_CAP_NESTED_STATE, or a CPU model without VMX/SVM); QEMU aborts here (assertion in vmstate_load_state)',
    );
}

/**
 * nested_state_post_load: the receiver's kernel must be able to restore nested state, `size`
 * must lie between the header and the kernel's maximum, and the format must be VMX or SVM.
 */
export function checkReceivedNestedState(s: State, ctx: Ctx): void {
  const n = obj(s['env.nested_state']) as NestedState | undefined;
  const max = maxNestedStateLength(x(ctx));
  if (max <= 0) throw new Error('Received nested state when kernel cannot restore it');
  if (!n) throw new Error('Received nested state without a kvm_nested_state');
  if (n.size < NESTED_STATE_HEADER_SIZE)
    throw new Error(
      `Received nested state size less than min: len=${n.size}, min=${NESTED_STATE_HEADER_SIZE}`,
    );
  if (n.size > max)
    throw new Error(
      `Received unsupported nested state size: nested_state->size=${n.size}, max=${max}`,
    );
  if (n.format !== KVM_STATE_NESTED_FORMAT_VMX && n.format !== KVM_STATE_NESTED_FORMAT_SVM)
    throw new Error(`Received invalid nested state format: ${n.format}`);
}

/** nested_state_needed: env->nested_state allocated, and the VMX (or, 5.1+, SVM) child has something to send. */
export function nestedStateNeeded(s: Readonly<State>, ctx: Ctx, svm: boolean): boolean {
  const n = obj(s['env.nested_state']) as NestedState | undefined;
  if (!n || !nestedStateAllocated(x(ctx), svm)) return false;
  return vmxNestedStateNeeded(n) || (svm && svmNestedStateNeeded(n));
}

/** `cpu/nested_state`: the struct-pointer field env.nested_state described by `inner`. */
export function nestedStateSubsection<D extends AnyVMSDesc>(inner: D, svm: boolean) {
  return vmsd({
    name: 'cpu/nested_state',
    version_id: 1,
    minimum_version_id: 1,
    needed: (s, ctx) => nestedStateNeeded(s, ctx, svm),
    pre_load: (_s, ctx) => checkNestedBufferAllocated(ctx, svm),
    post_load: (s, _v, ctx) => checkReceivedNestedState(s, ctx),
    fields: [f.struct('env.nested_state', inner)],
  });
}

/** QEMU's design (4.1+), optionally with the SVM child (5.1+) and our preemption-timer child (`next`). */
export function subsectionsTree(opts: NestedTreeOptions) {
  const inner = kvmNestedStateDescription(
    vmxSubsection(opts.preemptionTimer),
    opts.svm ? svmSubsection : undefined,
  );
  return nestedStateSubsection(inner, opts.svm);
}

export function subsectionsDesign(opts: NestedTreeOptions, name = 'subsections'): NestedDesign {
  return {
    name,
    carriesSvm: opts.svm,
    carriesPreemptionTimer: (ctx) =>
      opts.preemptionTimer && cpuProp(ctx, PREEMPTION_TIMER_PROP, true),
    preemptionTimerProp: PREEMPTION_TIMER_PROP,
    build: () => subsectionsTree(opts),
  };
}
