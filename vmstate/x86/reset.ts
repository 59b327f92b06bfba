/**
 * The `cpu` state of a vCPU right after reset, as QEMU's x86_cpu_reset / kvm_arch_reset_vcpu
 * leave it: the receiver's starting point when loading (fields a stream lacks keep these
 * values) and the base every scenario edits. Only values that differ from zero are set.
 */
import { initialState } from '../../src/engine/state';
import { cpuHas, isKvm, maxNestedStateLength, type X86Ctx } from './ctx';
import { cpuEverythingDescription, type CpuState } from './cpu';
import {
  INVALID_GPA,
  KVM_STATE_NESTED_FORMAT_SVM,
  KVM_STATE_NESTED_FORMAT_VMX,
  noNestedGuestState,
} from './kvm';
import { MSR_IA32_MISC_ENABLE_DEFAULT } from './subsections';

/** Segment flags at reset: present, writable data (0x9300) / code for CS (0x9b00). */
const DATA_SEG = { selector: 0, base: 0n, limit: 0xffff, flags: 0x9300 };

export function cpuResetState(ctx: X86Ctx = {}): CpuState {
  const s = initialState(cpuEverythingDescription) as CpuState;
  s['env.eip'] = 0xfff0n;
  s['env.eflags'] = 0x2n;
  s['env.fpuc'] = 0x37f;
  s['env.segs'] = [
    DATA_SEG,
    { selector: 0xf000, base: 0xffff0000n, limit: 0xffff, flags: 0x9b00 },
    DATA_SEG,
    DATA_SEG,
    DATA_SEG,
    DATA_SEG,
  ];
  s['env.ldt'] = { selector: 0, base: 0n, limit: 0xffff, flags: 0x8200 };
  s['env.tr'] = { selector: 0, base: 0n, limit: 0xffff, flags: 0x8b00 };
  s['env.gdt'] = { selector: 0, base: 0n, limit: 0xffff, flags: 0 };
  s['env.idt'] = { selector: 0, base: 0n, limit: 0xffff, flags: 0 };
  s['env.cr[0]'] = 0x60000010n;
  s['env.dr'] = [0n, 0n, 0n, 0n, 0n, 0n, 0xffff0ff0n, 0x400n];
  s['env.a20_mask'] = -1;
  s['env.mxcsr'] = 0x1f80;
  s['env.smbase'] = 0x30000;
  s['env.pat'] = 0x0007040600070406n;
  s['env.interrupt_injected'] = -1;
  s['env.exception_nr'] = -1;
  s['env.xcr0'] = 1n;
  s['env.msr_ia32_misc_enable'] = MSR_IA32_MISC_ENABLE_DEFAULT;
  // kvm_arch_reset_vcpu: KVM enables PV polling control; TCG leaves the MSR 0 (so it is always sent).
  s['env.poll_control_msr'] = isKvm(ctx) ? 1n : 0n;
  // kvm_init_nested_state (7.2): a zeroed buffer of the kernel's maximum size, format by CPU vendor.
  if (maxNestedStateLength(ctx) > 0 && (cpuHas(ctx, 'vmx') || cpuHas(ctx, 'svm'))) {
    const vmx = cpuHas(ctx, 'vmx');
    const n = noNestedGuestState(vmx ? KVM_STATE_NESTED_FORMAT_VMX : KVM_STATE_NESTED_FORMAT_SVM);
    n.flags = 0;
    n.size = maxNestedStateLength(ctx);
    if (vmx) n['hdr.vmx.vmxon_pa'] = n['hdr.vmx.vmcs12_pa'] = INVALID_GPA;
    s['env.nested_state'] = { ...n };
  }
  return s;
}
