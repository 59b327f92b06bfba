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
import { defineDesign, defineRelease, f, kvm, vmsd, x86, type Ctx } from 'vmstate-lab';

/** Our vCPU property: on by default, off for pc-*-7.2 and older (see extraCompat below). */
const MIGRATE_DEADLINE = 'x-migrate-preemption-deadline';
const deadlineAllowed = (ctx: Ctx) => x86.cpuProp(ctx as x86.X86Ctx, MIGRATE_DEADLINE, true);

/** The new subsection: the header flag says the deadline is valid; both travel together. */
const preemptionDeadline = vmsd({
  name: 'cpu/kvm_nested_state/vmx/preemption_timer',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u32('hdr.vmx.flags'), f.u64('hdr.vmx.preemption_timer_deadline')],
  // The hooks see the typed state: s['hdr.vmx.flags'] is a number.
  needed: (s, ctx) =>
    (s['hdr.vmx.flags'] & kvm.KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE) !== 0 &&
    deadlineAllowed(ctx),
});

/** 7.2's VMX subsection, unchanged (same name, version and fields), with the new child last. */
const vmx = vmsd({
  name: 'cpu/kvm_nested_state/vmx',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => kvm.vmxNestedStateNeeded(s as unknown as kvm.NestedState),
  fields: x86.vmxHeaderFields,
  subsections: [x86.vmcs12Subsection, x86.shadowVmcs12Subsection, preemptionDeadline],
});

const design = defineDesign({
  name: 'my-design',
  carriesSvm: true,
  carriesPreemptionTimer: (ctx) => deadlineAllowed(ctx),
  preemptionTimerProp: MIGRATE_DEADLINE,
  build: () =>
    x86.nestedStateSubsection(x86.kvmNestedStateDescription(vmx, x86.svmSubsection), true),
});

export default defineRelease({
  version: 'next',
  follows: '7.2',
  name: 'my-design',
  summary:
    '7.2 + the VMX preemption-timer deadline in a new flag-gated subsection, off for pc-*-7.2 and older machine types',
  nested: design,
  extraCompat: { '7.2': [{ driver: x86.X86_CPU_TYPE, property: MIGRATE_DEADLINE, value: 'off' }] },
});
