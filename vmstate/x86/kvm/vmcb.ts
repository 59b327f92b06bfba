import { FixedLayout, LayoutValues, Member, bytes, gap, u16, u32, u64, u8 } from './layout';
import { KVM_STATE_NESTED_SVM_VMCB_SIZE } from './constants';
import { NestedStateError } from './errors';

/**
 * AMD's VMCB as KVM declares it (arch/x86/include/asm/svm.h, struct vmcb = control area at
 * 0x000 + save area at 0x400), the layout of data.svm[0].vmcb12: the control area holds the
 * controls L1 put in its vmcb12, the save area holds L1's own state saved at VMRUN.
 * Field names are the kernel's with a `control.` / `save.` prefix; segments are flattened to
 * `save.cs.selector` etc. Older/newer kernel names: exit_code was exit_code + exit_code_hi
 * (u32 each) before 6.x; nested_ctl / virt_ext are misc_ctl / misc_ctl2 in the newest headers.
 */

/** control.intercept_word4 bit 0: VMRUN is intercepted (KVM requires it of L1's vmcb12). */
export const SVM_INTERCEPT_WORD4_VMRUN = 0x1;
/** control.nested_ctl bit 0: nested paging enabled. */
export const SVM_NESTED_CTL_NP_ENABLE = 0x1n;
export const EFER_SVME = 1n << 12n;
export const X86_CR0_PE = 1n;
export const X86_CR0_NW = 1n << 29n;
export const X86_CR0_CD = 1n << 30n;
export const X86_CR0_PG = 1n << 31n;
export const X86_EFLAGS_VM = 1n << 17n;

/** Offset of the save area inside the page (sizeof(struct vmcb_control_area)). */
export const VMCB_SAVE_AREA_OFFSET = 0x400;

function segment<P extends string>(prefix: P) {
  return [
    u16(`${prefix}.selector`),
    u16(`${prefix}.attrib`),
    u32(`${prefix}.limit`),
    u64(`${prefix}.base`),
  ] as const;
}

const members = [
  // ---- control area (0x000) ----
  u32('control.intercept_cr'), // intercepts[0]: CR reads (bits 0-15), writes (16-31)
  u32('control.intercept_dr'), // intercepts[1]
  u32('control.intercept_exceptions'), // intercepts[2]: one bit per vector
  u32('control.intercept_word3'), // INTR, NMI, ... SHUTDOWN
  u32('control.intercept_word4'), // VMRUN, VMMCALL, ... CR write traps
  u32('control.intercept_word5'), // INVLPGB, INVPCID, ... (newer CPUs)
  gap(9 * 4), // reserved_1
  u16('control.pause_filter_thresh'),
  u16('control.pause_filter_count'),
  u64('control.iopm_base_pa'),
  u64('control.msrpm_base_pa'),
  u64('control.tsc_offset'),
  u32('control.asid'),
  u8('control.tlb_ctl'),
  u8('control.erap_ctl'), // reserved in older kernels
  gap(2),
  u32('control.int_ctl'),
  u32('control.int_vector'),
  u32('control.int_state'),
  gap(4),
  u64('control.exit_code'),
  u64('control.exit_info_1'),
  u64('control.exit_info_2'),
  u32('control.exit_int_info'),
  u32('control.exit_int_info_err'),
  u64('control.nested_ctl'), // bit 0 NP enable, 1 SEV, 2 SEV-ES
  u64('control.avic_vapic_bar'),
  u64('control.ghcb_gpa'),
  u32('control.event_inj'),
  u32('control.event_inj_err'),
  u64('control.nested_cr3'),
  u64('control.virt_ext'), // bit 0 LBR virtualization, bit 1 virtual VMLOAD/VMSAVE
  u32('control.clean'),
  gap(4),
  u64('control.next_rip'),
  u8('control.insn_len'),
  bytes('control.insn_bytes', 15),
  u64('control.avic_backing_page'),
  gap(8),
  u64('control.avic_logical_id'),
  u64('control.avic_physical_id'),
  gap(8),
  u64('control.vmsa_pa'),
  gap(16),
  u16('control.bus_lock_counter'),
  gap(22),
  u64('control.allowed_sev_features'),
  u64('control.guest_sev_features'),
  gap(664),
  bytes('control.reserved_sw', 32), // Hyper-V enlightenments / software use
  // ---- save area (0x400) ----
  ...segment('save.es'),
  ...segment('save.cs'),
  ...segment('save.ss'),
  ...segment('save.ds'),
  ...segment('save.fs'),
  ...segment('save.gs'),
  ...segment('save.gdtr'),
  ...segment('save.ldtr'),
  ...segment('save.idtr'),
  ...segment('save.tr'),
  gap(42),
  u8('save.vmpl'),
  u8('save.cpl'),
  gap(4),
  u64('save.efer'),
  gap(112),
  u64('save.cr4'),
  u64('save.cr3'),
  u64('save.cr0'),
  u64('save.dr7'),
  u64('save.dr6'),
  u64('save.rflags'),
  u64('save.rip'),
  gap(88),
  u64('save.rsp'),
  u64('save.s_cet'),
  u64('save.ssp'),
  u64('save.isst_addr'),
  u64('save.rax'),
  u64('save.star'),
  u64('save.lstar'),
  u64('save.cstar'),
  u64('save.sfmask'),
  u64('save.kernel_gs_base'),
  u64('save.sysenter_cs'),
  u64('save.sysenter_esp'),
  u64('save.sysenter_eip'),
  u64('save.cr2'),
  gap(32),
  u64('save.g_pat'),
  u64('save.dbgctl'),
  u64('save.br_from'),
  u64('save.br_to'),
  u64('save.last_excp_from'),
  u64('save.last_excp_to'),
  gap(72),
  u64('save.spec_ctrl'),
] as const satisfies readonly Member[];

export const VMCB_LAYOUT = new FixedLayout('vmcb12', KVM_STATE_NESTED_SVM_VMCB_SIZE, members);

export type VmcbFields = LayoutValues<typeof members>;

export const VMCB_FIELD_NAMES: readonly (keyof VmcbFields)[] = VMCB_LAYOUT.fields.map(
  (f) => f.name as keyof VmcbFields,
);

/** Every named field of a vmcb page, in page order; 64-bit fields are bigint. */
export function decodeVmcb(page: Uint8Array): VmcbFields {
  if (!(page instanceof Uint8Array) || page.length !== KVM_STATE_NESTED_SVM_VMCB_SIZE) {
    const n = page instanceof Uint8Array ? page.length : typeof page;
    throw new NestedStateError(
      'page-size',
      `a vmcb page is ${KVM_STATE_NESTED_SVM_VMCB_SIZE} bytes, got ${n}`,
      0,
      'vmcb12',
    );
  }
  return VMCB_LAYOUT.decode(page);
}

/** A 4 KiB vmcb page holding the given fields, zeros elsewhere. */
export function buildVmcb(fields: Partial<VmcbFields>): Uint8Array {
  return VMCB_LAYOUT.encode(fields);
}

/** One field straight from the page, for the consistency checks. */
export function vmcbU32(page: Uint8Array, name: keyof VmcbFields & string): number {
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getUint32(
    VMCB_LAYOUT.field(name).offset,
    true,
  );
}
export function vmcbU64(page: Uint8Array, name: keyof VmcbFields & string): bigint {
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getBigUint64(
    VMCB_LAYOUT.field(name).offset,
    true,
  );
}
