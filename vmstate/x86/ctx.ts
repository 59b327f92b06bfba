/**
 * What the x86 `cpu` description's needed()/pre_save/post_load consult besides the state:
 * the machine type's compat properties, the accelerator, the CPU model's CPUID features and
 * the host kernel's KVM capabilities. QEMU reads these from globals (kvm_enabled(),
 * kvm_max_nested_state_length(), cpu->migrate_smi_count, env->features[...]); here they travel
 * in the engine's ctx so a description stays a pure function of (state, ctx).
 */
import type { Ctx } from '../../src/dsl';

/** CPUID features and CPU properties that decide whether a subsection can be sent at all. */
export interface X86CpuModel {
  /** CPUID.1:ECX.VMX: the model exposes Intel VMX to the guest. */
  readonly vmx?: boolean;
  /** CPUID.80000001:ECX.SVM: the model exposes AMD SVM. */
  readonly svm?: boolean;
  /** CPUID.8000000A:EDX TSC scaling (cpu/amd_tsc_scale_msr is always sent for such models). */
  readonly svmTscScale?: boolean;
  /** ARCH_CAPABILITIES.TSX_CTRL (cpu/msr_tsx_ctrl always sent). */
  readonly tsxCtrl?: boolean;
  /** CPUID.7.0:ECX.SGX_LC (cpu/intel_sgx always sent). */
  readonly sgxLc?: boolean;
  /** CPUID.0xD.1:EAX.XFD (cpu/msr_xfd always sent). */
  readonly xfd?: boolean;
  /** CPUID.7.0:EDX.AMX_TILE (cpu/intel_amx_xtile always sent). */
  readonly amxTile?: boolean;
  /** CPUID.7.0:EDX.ARCH_LBR (cpu/arch_lbr always sent). */
  readonly archLbr?: boolean;
  /** CPUID.7.1:EAX.FRED (cpu/fred always sent, 9.1+). */
  readonly fred?: boolean;
  /** CPU property hv-runtime (gates cpu/msr_hyperv_runtime). */
  readonly hvRuntime?: boolean;
  /** CPU property lmce (gates cpu/mcg_ext_ctl). */
  readonly lmce?: boolean;
}

/** Host kernel facts QEMU queries through KVM_CHECK_EXTENSION. */
export interface KvmCaps {
  /** KVM_CAP_NESTED_STATE: the largest nested-state blob (8320 VMX, 4224 SVM), 0 when unsupported. */
  readonly nestedStateMax?: number;
  /** KVM_CAP_EXCEPTION_PAYLOAD (Linux 4.20+). */
  readonly exceptionPayload?: boolean;
}

export interface X86Ctx extends Ctx {
  /**
   * Properties keyed `<QOM type>.<property>` as a -global names them, like the device catalog's
   * MachineCtx: the machine type's compat properties land here, e.g.
   * `'x86_64-cpu.x-migrate-smi-count': 'off'`; machine-class fields use `x86-machine.<field>`.
   */
  readonly props?: Readonly<Record<string, unknown>>;
  /** 'tcg' when absent: the real 7.2 sample streams are TCG. */
  readonly accel?: 'kvm' | 'tcg';
  readonly cpu?: X86CpuModel;
  readonly kvm?: KvmCaps;
  /** -accel kvm,xen-version=...: QEMU emulates Xen HVM (xen_mode == XEN_EMULATE; cpu/xen_vcpu, 8.0+). */
  readonly xenEmulate?: boolean;
  /** The receiver's -cpu tsc-frequency (user_tsc_khz), checked by cpu_post_load and the Hyper-V reenlightenment check. */
  readonly userTscKhz?: number;
}

export const isKvm = (ctx: X86Ctx): boolean => ctx.accel === 'kvm';
export const isTcg = (ctx: X86Ctx): boolean => ctx.accel !== 'kvm';
export const cpuHas = (ctx: X86Ctx, feature: keyof X86CpuModel): boolean =>
  ctx.cpu?.[feature] === true;

/** TYPE_X86_CPU in qemu-system-x86_64: compat entries for it apply to every CPU model. */
export const X86_CPU_TYPE = 'x86_64-cpu';
/** Pseudo-type for X86MachineClass fields set by old machine types (not QOM properties). */
export const X86_MACHINE_CLASS = 'x86-machine';

// The `x86_64-cpu.<name>` keys, made once: needed() asks at every cpu save, and a key built
// anew is hashed anew by every lookup.
const cpuPropKeys = new Map<string, string>();

/** A property of the vCPU (TYPE_X86_CPU). */
export function cpuProp(ctx: X86Ctx, name: string, dflt: boolean): boolean {
  let key = cpuPropKeys.get(name);
  if (key === undefined) cpuPropKeys.set(name, (key = `${X86_CPU_TYPE}.${name}`));
  return propOn(ctx, key, dflt);
}

/**
 * A boolean compat property with QEMU's parsing of "on"/"off"/"true"/"false"; `dflt` is the
 * property's default in the release (what a machine type without a compat entry gets).
 */
export function propOn(ctx: X86Ctx, key: string, dflt: boolean): boolean {
  const v = ctx.props?.[key];
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v === 'on' || v === 'true' || v === 'yes';
  return dflt;
}

/** KVM_CAP_NESTED_STATE as QEMU's kvm_max_nested_state_length() reports it (0 under TCG). */
export function maxNestedStateLength(ctx: X86Ctx): number {
  return isKvm(ctx) ? (ctx.kvm?.nestedStateMax ?? 0) : 0;
}

/**
 * Whether QEMU allocated env->nested_state for this vCPU (kvm_arch_init_vcpu): KVM reports a
 * nested-state size and the model exposes VMX, or SVM from QEMU 5.1 on. Without it nothing of
 * the nested tree is ever sent.
 */
export function nestedStateAllocated(ctx: X86Ctx, svmKnown: boolean): boolean {
  return maxNestedStateLength(ctx) > 0 && (cpuHas(ctx, 'vmx') || (svmKnown && cpuHas(ctx, 'svm')));
}
