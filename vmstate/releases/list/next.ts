/**
 * `next`: our own release after 7.2 (7.2's cpu list and machine types, plus pc-*-next) that also
 * migrates the VMX preemption-timer deadline, off for pc-*-7.2 and older machine types.
 */
import { PREEMPTION_TIMER_PROP, subsectionsDesign } from '../../x86/nested';
import { cpu } from '../compat-props';
import type { CompatProp } from '../types';
import type { ReleaseSpec } from '../spec';

/**
 * Our `next` release's own pc_compat_7_2 entry: machine types up to 7.2 must not send the new
 * preemption-timer subsection, which every real QEMU would reject (unknown cpu/kvm_nested_state/vmx child).
 */
export const NEXT_PC_COMPAT_7_2: readonly CompatProp[] = [cpu(PREEMPTION_TIMER_PROP, 'off')];

const spec: ReleaseSpec = {
  version: 'next',
  kind: 'simulated',
  follows: '7.2',
  summary:
    'our release after 7.2: migrates the VMX preemption-timer deadline in cpu/kvm_nested_state/vmx/preemption_timer, ' +
    'sent only when hdr.vmx.flags says KVM has one, and never for pc-*-7.2 and older machine types',
  nested: subsectionsDesign({ svm: true, preemptionTimer: true }),
  extraCompat: { '7.2': NEXT_PC_COMPAT_7_2 },
};
export default spec;
