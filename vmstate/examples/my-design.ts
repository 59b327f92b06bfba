/**
 * Prototyping a design of one's own: QEMU 7.2 plus the VMX preemption-timer deadline, added the
 * way QEMU adds state. KVM (Linux 5.8+) reports the deadline in hdr.vmx with the flag
 * KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE; 7.2 drops it. This design carries it in a new
 * subsection `cpu/kvm_nested_state/vmx/preemption_timer` of the VMX one, sent only when the flag
 * is set, and ties it to a vCPU property that machine types up to 7.2 turn off, so a stream
 * for an old machine type stays loadable by 7.2. Pass the file wherever a release name goes:
 *
 *   vmstate check 7.2 vmstate/examples/my-design.ts
 *   vmstate compat --design vmstate/examples/my-design.ts
 */
import { f, vmsd, type Ctx } from '../../src/dsl';
import { defineRelease } from '../releases/release';
import { cpuProp, X86_CPU_TYPE, type X86Ctx } from '../x86/ctx';
import {
  KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE,
  vmxNestedStateNeeded,
  type NestedState,
} from '../x86/kvm';
import {
  kvmNestedStateDescription,
  nestedStateSubsection,
  shadowVmcs12Subsection,
  svmSubsection,
  vmcs12Subsection,
  vmxHeaderFields,
  type NestedDesign,
} from '../x86/nested';

/** Our vCPU property: on by default, off for pc-*-7.2 and older (see extraCompat below). */
const MIGRATE_DEADLINE = 'x-migrate-preemption-deadline';
const deadlineAllowed = (ctx: Ctx) => cpuProp(ctx as X86Ctx, MIGRATE_DEADLINE, true);

/** The new subsection: the header flag says the deadline is valid; both travel together. */
const preemptionDeadline = vmsd({
  name: 'cpu/kvm_nested_state/vmx/preemption_timer',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s, ctx) =>
    ((s['hdr.vmx.flags'] as number) & KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE) !== 0 &&
    deadlineAllowed(ctx),
  fields: [f.u32('hdr.vmx.flags'), f.u64('hdr.vmx.preemption_timer_deadline')],
});

/** 7.2's VMX subsection, unchanged (same name, version and fields), with the new child last. */
const vmx = vmsd({
  name: 'cpu/kvm_nested_state/vmx',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => vmxNestedStateNeeded(s as unknown as NestedState),
  fields: vmxHeaderFields,
  subsections: [vmcs12Subsection, shadowVmcs12Subsection, preemptionDeadline],
});

const design: NestedDesign = {
  name: 'my-design',
  carriesSvm: true,
  carriesPreemptionTimer: (ctx) => deadlineAllowed(ctx),
  preemptionTimerProp: MIGRATE_DEADLINE,
  build: () => nestedStateSubsection(kvmNestedStateDescription(vmx, svmSubsection), true),
};

export default defineRelease({
  version: 'next',
  follows: '7.2',
  name: 'my-design',
  summary:
    '7.2 + the VMX preemption-timer deadline in a new flag-gated subsection, off for pc-*-7.2 and older machine types',
  nested: design,
  extraCompat: { '7.2': [{ driver: X86_CPU_TYPE, property: MIGRATE_DEADLINE, value: 'off' }] },
});
