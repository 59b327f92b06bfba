import { FixedLayout, LayoutValues, gap, u16, u32, u64 } from './layout';
import { KVM_STATE_NESTED_VMX_VMCS_SIZE } from './constants';
import { NestedStateError } from './errors';

/**
 * KVM's struct vmcs12 (arch/x86/kvm/vmx/vmcs12.h): L1's current VMCS as KVM caches it and as
 * KVM_GET_NESTED_STATE exports it in data.vmx[0].vmcs12 / shadow_vmcs12. The struct is packed
 * and its offsets are ABI (the kernel asserts each at build time); natural-width fields are u64.
 * Names follow the current mainline header: slots that were padding in older kernels and got
 * a name later (encls_exiting_bitmap, tsc_multiplier, the CET fields) decode as zero there.
 */

/** The revision KVM reports in IA32_VMX_BASIC and requires in every vmcs12 it loads. */
export const VMCS12_REVISION = 0x11e57ed0;
/** Bit 31 of the first dword: set in a shadow VMCS. */
export const VMCS_HDR_SHADOW_VMCS = 0x8000_0000;

/** cpu_based_vm_exec_control: use secondary_vm_exec_control. */
export const CPU_BASED_ACTIVATE_SECONDARY_CONTROLS = 0x8000_0000;
/** secondary_vm_exec_control: VMCS shadowing (VMREAD/VMWRITE go to the link-pointer VMCS). */
export const SECONDARY_EXEC_SHADOW_VMCS = 0x0000_4000;
/** pin_based_vm_exec_control: activate the VMX-preemption timer. */
export const PIN_BASED_VMX_PREEMPTION_TIMER = 0x0000_0040;

const members = [
  u32('hdr'), // revision_id (bits 0-30) | shadow_vmcs (bit 31); split by decodeVmcs12
  u32('abort'),
  u32('launch_state'),
  gap(7 * 4), // padding[7]
  u64('io_bitmap_a'),
  u64('io_bitmap_b'),
  u64('msr_bitmap'),
  u64('vm_exit_msr_store_addr'),
  u64('vm_exit_msr_load_addr'),
  u64('vm_entry_msr_load_addr'),
  u64('tsc_offset'),
  u64('virtual_apic_page_addr'),
  u64('apic_access_addr'),
  u64('posted_intr_desc_addr'),
  u64('ept_pointer'),
  u64('eoi_exit_bitmap0'),
  u64('eoi_exit_bitmap1'),
  u64('eoi_exit_bitmap2'),
  u64('eoi_exit_bitmap3'),
  u64('xss_exit_bitmap'),
  u64('guest_physical_address'),
  u64('vmcs_link_pointer'),
  u64('guest_ia32_debugctl'),
  u64('guest_ia32_pat'),
  u64('guest_ia32_efer'),
  u64('guest_ia32_perf_global_ctrl'),
  u64('guest_pdptr0'),
  u64('guest_pdptr1'),
  u64('guest_pdptr2'),
  u64('guest_pdptr3'),
  u64('guest_bndcfgs'),
  u64('host_ia32_pat'),
  u64('host_ia32_efer'),
  u64('host_ia32_perf_global_ctrl'),
  u64('vmread_bitmap'),
  u64('vmwrite_bitmap'),
  u64('vm_function_control'),
  u64('eptp_list_address'),
  u64('pml_address'),
  u64('encls_exiting_bitmap'), // padding64[0] in older kernels
  u64('tsc_multiplier'), // padding64[1] in older kernels
  gap(8), // padding64
  u64('cr0_guest_host_mask'),
  u64('cr4_guest_host_mask'),
  u64('cr0_read_shadow'),
  u64('cr4_read_shadow'),
  u64('cr3_target_value0'), // the four cr3 targets are "dead_space" in newest kernels
  u64('cr3_target_value1'),
  u64('cr3_target_value2'),
  u64('cr3_target_value3'),
  u64('exit_qualification'),
  u64('guest_linear_address'),
  u64('guest_cr0'),
  u64('guest_cr3'),
  u64('guest_cr4'),
  u64('guest_es_base'),
  u64('guest_cs_base'),
  u64('guest_ss_base'),
  u64('guest_ds_base'),
  u64('guest_fs_base'),
  u64('guest_gs_base'),
  u64('guest_ldtr_base'),
  u64('guest_tr_base'),
  u64('guest_gdtr_base'),
  u64('guest_idtr_base'),
  u64('guest_dr7'),
  u64('guest_rsp'),
  u64('guest_rip'),
  u64('guest_rflags'),
  u64('guest_pending_dbg_exceptions'),
  u64('guest_sysenter_esp'),
  u64('guest_sysenter_eip'),
  u64('host_cr0'),
  u64('host_cr3'),
  u64('host_cr4'),
  u64('host_fs_base'),
  u64('host_gs_base'),
  u64('host_tr_base'),
  u64('host_gdtr_base'),
  u64('host_idtr_base'),
  u64('host_ia32_sysenter_esp'),
  u64('host_ia32_sysenter_eip'),
  u64('host_rsp'),
  u64('host_rip'),
  u64('host_s_cet'), // the six CET fields were paddingl[0..5] before CET virtualization
  u64('host_ssp'),
  u64('host_ssp_tbl'),
  u64('guest_s_cet'),
  u64('guest_ssp'),
  u64('guest_ssp_tbl'),
  gap(2 * 8), // paddingl
  u32('pin_based_vm_exec_control'),
  u32('cpu_based_vm_exec_control'),
  u32('exception_bitmap'),
  u32('page_fault_error_code_mask'),
  u32('page_fault_error_code_match'),
  u32('cr3_target_count'),
  u32('vm_exit_controls'),
  u32('vm_exit_msr_store_count'),
  u32('vm_exit_msr_load_count'),
  u32('vm_entry_controls'),
  u32('vm_entry_msr_load_count'),
  u32('vm_entry_intr_info_field'),
  u32('vm_entry_exception_error_code'),
  u32('vm_entry_instruction_len'),
  u32('tpr_threshold'),
  u32('secondary_vm_exec_control'),
  u32('vm_instruction_error'),
  u32('vm_exit_reason'),
  u32('vm_exit_intr_info'),
  u32('vm_exit_intr_error_code'),
  u32('idt_vectoring_info_field'),
  u32('idt_vectoring_error_code'),
  u32('vm_exit_instruction_len'),
  u32('vmx_instruction_info'),
  u32('guest_es_limit'),
  u32('guest_cs_limit'),
  u32('guest_ss_limit'),
  u32('guest_ds_limit'),
  u32('guest_fs_limit'),
  u32('guest_gs_limit'),
  u32('guest_ldtr_limit'),
  u32('guest_tr_limit'),
  u32('guest_gdtr_limit'),
  u32('guest_idtr_limit'),
  u32('guest_es_ar_bytes'),
  u32('guest_cs_ar_bytes'),
  u32('guest_ss_ar_bytes'),
  u32('guest_ds_ar_bytes'),
  u32('guest_fs_ar_bytes'),
  u32('guest_gs_ar_bytes'),
  u32('guest_ldtr_ar_bytes'),
  u32('guest_tr_ar_bytes'),
  u32('guest_interruptibility_info'),
  u32('guest_activity_state'),
  u32('guest_sysenter_cs'),
  u32('host_ia32_sysenter_cs'),
  u32('vmx_preemption_timer_value'),
  gap(7 * 4), // padding32[7]
  u16('virtual_processor_id'),
  u16('posted_intr_nv'),
  u16('guest_es_selector'),
  u16('guest_cs_selector'),
  u16('guest_ss_selector'),
  u16('guest_ds_selector'),
  u16('guest_fs_selector'),
  u16('guest_gs_selector'),
  u16('guest_ldtr_selector'),
  u16('guest_tr_selector'),
  u16('guest_intr_status'),
  u16('host_es_selector'),
  u16('host_cs_selector'),
  u16('host_ss_selector'),
  u16('host_ds_selector'),
  u16('host_fs_selector'),
  u16('host_gs_selector'),
  u16('host_tr_selector'),
  u16('guest_pml_index'),
] as const;

/** The raw layout (the first dword is one u32 named `hdr`). */
export const VMCS12_LAYOUT = new FixedLayout('vmcs12', KVM_STATE_NESTED_VMX_VMCS_SIZE, members);

type RawVmcs12 = LayoutValues<typeof members>;

/** A decoded vmcs12: the header dword split into revision_id and shadow_vmcs, then every field. */
export type Vmcs12Fields = { revision_id: number; shadow_vmcs: number } & Omit<RawVmcs12, 'hdr'>;

/** Names of the decoded fields in page order. */
export const VMCS12_FIELD_NAMES: readonly (keyof Vmcs12Fields)[] = [
  'revision_id',
  'shadow_vmcs',
  ...VMCS12_LAYOUT.fields.filter((f) => f.name !== 'hdr').map((f) => f.name as keyof Vmcs12Fields),
];

function checkPage(page: Uint8Array, path: string): void {
  if (!(page instanceof Uint8Array) || page.length !== KVM_STATE_NESTED_VMX_VMCS_SIZE) {
    const n = page instanceof Uint8Array ? page.length : typeof page;
    throw new NestedStateError(
      'page-size',
      `a vmcs12 page is ${KVM_STATE_NESTED_VMX_VMCS_SIZE} bytes, got ${n}`,
      0,
      path,
    );
  }
}

/** Every named field of a vmcs12 page, in page order; 64-bit fields are bigint. */
export function decodeVmcs12(page: Uint8Array): Vmcs12Fields {
  checkPage(page, 'vmcs12');
  const { hdr, ...rest } = VMCS12_LAYOUT.decode(page);
  return { revision_id: hdr & 0x7fff_ffff, shadow_vmcs: hdr >>> 31, ...rest };
}

/**
 * A 4 KiB vmcs12 page holding the given fields, zeros elsewhere. revision_id is not filled in
 * for you: pass VMCS12_REVISION to get a page KVM accepts.
 */
export function buildVmcs12(fields: Partial<Vmcs12Fields>): Uint8Array {
  const { revision_id, shadow_vmcs, ...rest } = fields;
  const raw: Partial<RawVmcs12> = { ...rest };
  if (revision_id !== undefined || shadow_vmcs !== undefined) {
    const rev = revision_id ?? 0;
    const sh = shadow_vmcs ?? 0;
    if (!Number.isInteger(rev) || rev < 0 || rev > 0x7fff_ffff) {
      throw new NestedStateError(
        'value',
        `revision_id ${rev} does not fit in 31 bits`,
        0,
        'vmcs12 > revision_id',
      );
    }
    if (sh !== 0 && sh !== 1)
      throw new NestedStateError(
        'value',
        `shadow_vmcs must be 0 or 1, got ${sh}`,
        0,
        'vmcs12 > shadow_vmcs',
      );
    raw.hdr = (rev | (sh << 31)) >>> 0;
  }
  return VMCS12_LAYOUT.encode(raw);
}

/** The first-dword fields without decoding the whole page (the consistency checks need only these). */
export function vmcs12Header(page: Uint8Array): { revision_id: number; shadow_vmcs: number } {
  const hdr = new DataView(page.buffer, page.byteOffset, 4).getUint32(0, true);
  return { revision_id: hdr & 0x7fff_ffff, shadow_vmcs: hdr >>> 31 };
}

/** One u32 / u64 field straight from the page, for the consistency checks. */
export function vmcs12U32(page: Uint8Array, name: keyof RawVmcs12 & string): number {
  const f = VMCS12_LAYOUT.field(name);
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getUint32(f.offset, true);
}
export function vmcs12U64(page: Uint8Array, name: keyof RawVmcs12 & string): bigint {
  const f = VMCS12_LAYOUT.field(name);
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getBigUint64(f.offset, true);
}
