import {
  KVM_STATE_NESTED_EVMCS,
  KVM_STATE_NESTED_FORMAT_SVM,
  KVM_STATE_NESTED_FORMAT_VMX,
  KVM_STATE_NESTED_GIF_SET,
  KVM_STATE_NESTED_GUEST_MODE,
  KVM_STATE_NESTED_MTF_PENDING,
  KVM_STATE_NESTED_RUN_PENDING,
  KVM_STATE_NESTED_SMM_GUEST_MODE,
  KVM_STATE_NESTED_SMM_VMXON,
  KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE,
  PAGE_SIZE,
  SVM_SIZE_WITH_VMCB12,
  VMX_SIZE_WITH_SHADOW,
  VMX_SIZE_WITH_VMCS12,
} from './constants';
import { NestedStateError } from './errors';
import { NestedState, checkNestedState } from './nested-state';
import { Vmcs12Fields, decodeVmcs12 } from './vmcs12';
import { VmcbFields, decodeVmcb } from './vmcb';

/**
 * A readable view of a nested state for `vmstate analyze`: flag names, the header of the active
 * format, and the pages `size` says are there decoded into named fields. It never throws on a
 * state that breaks the consistency rules; it lists the first broken rule under `problem`.
 */
export interface NestedStateReport {
  format: string;
  flags: string[];
  header: Record<string, number | bigint | string[]>;
  vmcs12?: Vmcs12Fields;
  shadowVmcs12?: Vmcs12Fields;
  vmcb12?: VmcbFields;
  problem?: { rule: string; message: string; path: string };
}

const FLAG_NAMES: [number, string][] = [
  [KVM_STATE_NESTED_GUEST_MODE, 'GUEST_MODE'],
  [KVM_STATE_NESTED_RUN_PENDING, 'RUN_PENDING'],
  [KVM_STATE_NESTED_EVMCS, 'EVMCS'],
  [KVM_STATE_NESTED_MTF_PENDING, 'MTF_PENDING'],
  [KVM_STATE_NESTED_GIF_SET, 'GIF_SET'],
];
const SMM_FLAG_NAMES: [number, string][] = [
  [KVM_STATE_NESTED_SMM_GUEST_MODE, 'SMM_GUEST_MODE'],
  [KVM_STATE_NESTED_SMM_VMXON, 'SMM_VMXON'],
];
const VMX_FLAG_NAMES: [number, string][] = [
  [KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE, 'PREEMPTION_TIMER_DEADLINE'],
];

/** Names of the set bits; bits without a name appear as hex. */
export function bitNames(value: number, names: readonly [number, string][]): string[] {
  const out: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of names) {
    if (rest & bit) out.push(name);
    rest &= ~bit;
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

export const nestedFlagNames = (flags: number) => bitNames(flags, FLAG_NAMES);
export const smmFlagNames = (flags: number) => bitNames(flags, SMM_FLAG_NAMES);
export const vmxHeaderFlagNames = (flags: number) => bitNames(flags, VMX_FLAG_NAMES);

const isPage = (p: unknown): p is Uint8Array => p instanceof Uint8Array && p.length === PAGE_SIZE;
const PAGE_KEYS = [
  'data.vmx[0].vmcs12',
  'data.vmx[0].shadow_vmcs12',
  'data.svm[0].vmcb12',
] as const;

export function describeNestedState(s: NestedState): NestedStateReport {
  const badPage = PAGE_KEYS.find((k) => !isPage(s[k]));
  if (badPage) {
    return {
      format: String(s.format),
      flags: nestedFlagNames(s.flags),
      header: {},
      problem: {
        rule: 'page-size',
        message: `${badPage} is not a ${PAGE_SIZE}-byte page`,
        path: `kvm_nested_state > ${badPage}`,
      },
    };
  }
  const report: NestedStateReport = {
    format: `unknown (${s.format})`,
    flags: nestedFlagNames(s.flags),
    header: {},
  };
  if (s.format === KVM_STATE_NESTED_FORMAT_VMX) {
    report.format = 'VMX';
    report.header = {
      size: s.size,
      'hdr.vmx.vmxon_pa': s['hdr.vmx.vmxon_pa'],
      'hdr.vmx.vmcs12_pa': s['hdr.vmx.vmcs12_pa'],
      'hdr.vmx.smm.flags': smmFlagNames(s['hdr.vmx.smm.flags']),
      'hdr.vmx.flags': vmxHeaderFlagNames(s['hdr.vmx.flags']),
      'hdr.vmx.preemption_timer_deadline': s['hdr.vmx.preemption_timer_deadline'],
    };
    if (s.size >= VMX_SIZE_WITH_VMCS12) report.vmcs12 = decodeVmcs12(s['data.vmx[0].vmcs12']);
    if (s.size >= VMX_SIZE_WITH_SHADOW)
      report.shadowVmcs12 = decodeVmcs12(s['data.vmx[0].shadow_vmcs12']);
  } else if (s.format === KVM_STATE_NESTED_FORMAT_SVM) {
    report.format = 'SVM';
    report.header = { size: s.size, 'hdr.svm.vmcb_pa': s['hdr.svm.vmcb_pa'] };
    if (s.size >= SVM_SIZE_WITH_VMCB12) report.vmcb12 = decodeVmcb(s['data.svm[0].vmcb12']);
  }
  try {
    checkNestedState(s);
  } catch (e) {
    if (!(e instanceof NestedStateError)) throw e;
    report.problem = { rule: e.rule, message: e.what, path: e.path };
  }
  return report;
}
