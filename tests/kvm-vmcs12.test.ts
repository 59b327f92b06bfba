import fc from 'fast-check';
import { InvalidValueError } from '../src/errors';
import { NestedStateError } from '../vmstate/x86/kvm/errors';
import {
  VMCS12_FIELD_NAMES,
  VMCS12_LAYOUT,
  VMCS12_REVISION,
  Vmcs12Fields,
  buildVmcs12,
  decodeVmcs12,
} from '../vmstate/x86/kvm/vmcs12';

// The kernel's own compile-time offset assertions (vmx_check_vmcs12_offsets in vmcs12.h), plus
// the slots newer kernels named (encls_exiting_bitmap, tsc_multiplier, the CET fields).
const KERNEL_OFFSETS: [string, number][] = [
  ['abort', 4],
  ['launch_state', 8],
  ['io_bitmap_a', 40],
  ['io_bitmap_b', 48],
  ['msr_bitmap', 56],
  ['vm_exit_msr_store_addr', 64],
  ['vm_exit_msr_load_addr', 72],
  ['vm_entry_msr_load_addr', 80],
  ['tsc_offset', 88],
  ['virtual_apic_page_addr', 96],
  ['apic_access_addr', 104],
  ['posted_intr_desc_addr', 112],
  ['ept_pointer', 120],
  ['eoi_exit_bitmap0', 128],
  ['eoi_exit_bitmap1', 136],
  ['eoi_exit_bitmap2', 144],
  ['eoi_exit_bitmap3', 152],
  ['xss_exit_bitmap', 160],
  ['guest_physical_address', 168],
  ['vmcs_link_pointer', 176],
  ['guest_ia32_debugctl', 184],
  ['guest_ia32_pat', 192],
  ['guest_ia32_efer', 200],
  ['guest_ia32_perf_global_ctrl', 208],
  ['guest_pdptr0', 216],
  ['guest_pdptr1', 224],
  ['guest_pdptr2', 232],
  ['guest_pdptr3', 240],
  ['guest_bndcfgs', 248],
  ['host_ia32_pat', 256],
  ['host_ia32_efer', 264],
  ['host_ia32_perf_global_ctrl', 272],
  ['vmread_bitmap', 280],
  ['vmwrite_bitmap', 288],
  ['vm_function_control', 296],
  ['eptp_list_address', 304],
  ['pml_address', 312],
  ['encls_exiting_bitmap', 320],
  ['tsc_multiplier', 328],
  ['cr0_guest_host_mask', 344],
  ['cr4_guest_host_mask', 352],
  ['cr0_read_shadow', 360],
  ['cr4_read_shadow', 368],
  ['cr3_target_value0', 376],
  ['cr3_target_value1', 384],
  ['cr3_target_value2', 392],
  ['cr3_target_value3', 400],
  ['exit_qualification', 408],
  ['guest_linear_address', 416],
  ['guest_cr0', 424],
  ['guest_cr3', 432],
  ['guest_cr4', 440],
  ['guest_es_base', 448],
  ['guest_cs_base', 456],
  ['guest_ss_base', 464],
  ['guest_ds_base', 472],
  ['guest_fs_base', 480],
  ['guest_gs_base', 488],
  ['guest_ldtr_base', 496],
  ['guest_tr_base', 504],
  ['guest_gdtr_base', 512],
  ['guest_idtr_base', 520],
  ['guest_dr7', 528],
  ['guest_rsp', 536],
  ['guest_rip', 544],
  ['guest_rflags', 552],
  ['guest_pending_dbg_exceptions', 560],
  ['guest_sysenter_esp', 568],
  ['guest_sysenter_eip', 576],
  ['host_cr0', 584],
  ['host_cr3', 592],
  ['host_cr4', 600],
  ['host_fs_base', 608],
  ['host_gs_base', 616],
  ['host_tr_base', 624],
  ['host_gdtr_base', 632],
  ['host_idtr_base', 640],
  ['host_ia32_sysenter_esp', 648],
  ['host_ia32_sysenter_eip', 656],
  ['host_rsp', 664],
  ['host_rip', 672],
  ['host_s_cet', 680],
  ['host_ssp', 688],
  ['host_ssp_tbl', 696],
  ['guest_s_cet', 704],
  ['guest_ssp', 712],
  ['guest_ssp_tbl', 720],
  ['pin_based_vm_exec_control', 744],
  ['cpu_based_vm_exec_control', 748],
  ['exception_bitmap', 752],
  ['page_fault_error_code_mask', 756],
  ['page_fault_error_code_match', 760],
  ['cr3_target_count', 764],
  ['vm_exit_controls', 768],
  ['vm_exit_msr_store_count', 772],
  ['vm_exit_msr_load_count', 776],
  ['vm_entry_controls', 780],
  ['vm_entry_msr_load_count', 784],
  ['vm_entry_intr_info_field', 788],
  ['vm_entry_exception_error_code', 792],
  ['vm_entry_instruction_len', 796],
  ['tpr_threshold', 800],
  ['secondary_vm_exec_control', 804],
  ['vm_instruction_error', 808],
  ['vm_exit_reason', 812],
  ['vm_exit_intr_info', 816],
  ['vm_exit_intr_error_code', 820],
  ['idt_vectoring_info_field', 824],
  ['idt_vectoring_error_code', 828],
  ['vm_exit_instruction_len', 832],
  ['vmx_instruction_info', 836],
  ['guest_es_limit', 840],
  ['guest_cs_limit', 844],
  ['guest_ss_limit', 848],
  ['guest_ds_limit', 852],
  ['guest_fs_limit', 856],
  ['guest_gs_limit', 860],
  ['guest_ldtr_limit', 864],
  ['guest_tr_limit', 868],
  ['guest_gdtr_limit', 872],
  ['guest_idtr_limit', 876],
  ['guest_es_ar_bytes', 880],
  ['guest_cs_ar_bytes', 884],
  ['guest_ss_ar_bytes', 888],
  ['guest_ds_ar_bytes', 892],
  ['guest_fs_ar_bytes', 896],
  ['guest_gs_ar_bytes', 900],
  ['guest_ldtr_ar_bytes', 904],
  ['guest_tr_ar_bytes', 908],
  ['guest_interruptibility_info', 912],
  ['guest_activity_state', 916],
  ['guest_sysenter_cs', 920],
  ['host_ia32_sysenter_cs', 924],
  ['vmx_preemption_timer_value', 928],
  ['virtual_processor_id', 960],
  ['posted_intr_nv', 962],
  ['guest_es_selector', 964],
  ['guest_cs_selector', 966],
  ['guest_ss_selector', 968],
  ['guest_ds_selector', 970],
  ['guest_fs_selector', 972],
  ['guest_gs_selector', 974],
  ['guest_ldtr_selector', 976],
  ['guest_tr_selector', 978],
  ['guest_intr_status', 980],
  ['host_es_selector', 982],
  ['host_cs_selector', 984],
  ['host_ss_selector', 986],
  ['host_ds_selector', 988],
  ['host_fs_selector', 990],
  ['host_gs_selector', 992],
  ['host_tr_selector', 994],
  ['guest_pml_index', 996],
];

const widthOf = (name: string) => VMCS12_LAYOUT.field(name).size;

/** An arbitrary value for every decoded field, typed by its width. */
const fieldValue = (name: string): fc.Arbitrary<number | bigint> => {
  if (name === 'revision_id') return fc.nat({ max: 0x7fff_ffff });
  if (name === 'shadow_vmcs') return fc.constantFrom(0, 1);
  const w = widthOf(name);
  return w === 8
    ? fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
    : fc.nat({ max: 2 ** (8 * w) - 1 });
};
const partialFields = (): fc.Arbitrary<Partial<Vmcs12Fields>> =>
  fc.record(Object.fromEntries(VMCS12_FIELD_NAMES.map((n) => [n, fieldValue(n)])), {
    requiredKeys: [],
  }) as fc.Arbitrary<Partial<Vmcs12Fields>>;

describe('struct vmcs12 layout', () => {
  test('every offset the kernel asserts', () => {
    for (const [name, offset] of KERNEL_OFFSETS)
      expect([name, VMCS12_LAYOUT.field(name).offset]).toEqual([name, offset]);
    // every named field is covered by the kernel list, and the struct ends after guest_pml_index
    expect(
      VMCS12_LAYOUT.fields
        .map((f) => f.name)
        .filter((n) => n !== 'hdr')
        .sort(),
    ).toEqual(KERNEL_OFFSETS.map(([n]) => n).sort());
    expect(VMCS12_LAYOUT.structSize).toBe(998);
  });

  test('widths: control words and limits are u32, selectors u16, addresses and natural width u64', () => {
    expect(widthOf('pin_based_vm_exec_control')).toBe(4);
    expect(widthOf('guest_tr_limit')).toBe(4);
    expect(widthOf('guest_cs_selector')).toBe(2);
    expect(widthOf('guest_rip')).toBe(8);
    expect(widthOf('ept_pointer')).toBe(8);
  });

  test('decoded names come in page order, header first', () => {
    expect(VMCS12_FIELD_NAMES.slice(0, 5)).toEqual([
      'revision_id',
      'shadow_vmcs',
      'abort',
      'launch_state',
      'io_bitmap_a',
    ]);
    expect(VMCS12_FIELD_NAMES[VMCS12_FIELD_NAMES.length - 1]).toBe('guest_pml_index');
    expect(Object.keys(decodeVmcs12(new Uint8Array(4096)))).toEqual(VMCS12_FIELD_NAMES);
  });
});

describe('decodeVmcs12 / buildVmcs12', () => {
  test('values land at the kernel offsets, little-endian (checked byte by byte)', () => {
    const page = buildVmcs12({
      revision_id: VMCS12_REVISION,
      guest_rip: 0xffff_ffff_8100_0000n,
      vm_exit_reason: 0x1e,
      guest_cs_selector: 0x0010,
      host_rip: 0x0000_7f00_1234_5678n,
      exit_qualification: 0x0102_0304_0506_0708n,
    });
    expect(Array.from(page.subarray(0, 4))).toEqual([0xd0, 0x7e, 0xe5, 0x11]);
    expect(Array.from(page.subarray(544, 552))).toEqual([
      0x00, 0x00, 0x00, 0x81, 0xff, 0xff, 0xff, 0xff,
    ]);
    expect(Array.from(page.subarray(812, 816))).toEqual([0x1e, 0, 0, 0]);
    expect(Array.from(page.subarray(966, 968))).toEqual([0x10, 0x00]);
    expect(Array.from(page.subarray(672, 680))).toEqual([
      0x78, 0x56, 0x34, 0x12, 0x00, 0x7f, 0x00, 0x00,
    ]);
    expect(Array.from(page.subarray(408, 416))).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    // nothing else was written
    const touched = new Set<number>();
    for (const [from, n] of [
      [0, 4],
      [544, 8],
      [812, 4],
      [966, 2],
      [672, 8],
      [408, 8],
    ])
      for (let i = 0; i < n; i++) touched.add(from + i);
    page.forEach((b, i) => {
      if (!touched.has(i) && b !== 0) throw new Error(`byte ${i} is ${b}`);
    });
    const d = decodeVmcs12(page);
    expect(d.revision_id).toBe(VMCS12_REVISION);
    expect(d.shadow_vmcs).toBe(0);
    expect(d.guest_rip).toBe(0xffff_ffff_8100_0000n);
    expect(d.vm_exit_reason).toBe(0x1e);
    expect(d.guest_cs_selector).toBe(0x10);
    expect(d.guest_rsp).toBe(0n);
  });

  test('the shadow bit is bit 31 of the first dword', () => {
    const page = buildVmcs12({ revision_id: VMCS12_REVISION, shadow_vmcs: 1 });
    expect(Array.from(page.subarray(0, 4))).toEqual([0xd0, 0x7e, 0xe5, 0x91]);
    expect(decodeVmcs12(page)).toMatchObject({ revision_id: VMCS12_REVISION, shadow_vmcs: 1 });
  });

  test('decode(build(fields)) gives the fields back and zero for the rest', () => {
    fc.assert(
      fc.property(partialFields(), (fields) => {
        const d = decodeVmcs12(buildVmcs12(fields)) as unknown as Record<string, number | bigint>;
        for (const name of VMCS12_FIELD_NAMES) {
          const given = (fields as Record<string, number | bigint | undefined>)[name];
          const zero = typeof d[name] === 'bigint' ? 0n : 0;
          expect([name, d[name]]).toEqual([name, given ?? zero]);
        }
      }),
      { numRuns: 60 },
    );
  });

  test('build(decode(page)) keeps every named byte and zeroes only padding and the unused tail', () => {
    const named = new Uint8Array(4096);
    for (const f of VMCS12_LAYOUT.fields) named.fill(1, f.offset, f.offset + f.size);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4096, maxLength: 4096 }), (page) => {
        const rebuilt = buildVmcs12(decodeVmcs12(page));
        for (let i = 0; i < 4096; i++) {
          if (rebuilt[i] !== (named[i] ? page[i] : 0)) throw new Error(`byte ${i}`);
        }
      }),
      { numRuns: 30 },
    );
  });

  test('bad input: page size, unknown names, out-of-range values', () => {
    expect(() => decodeVmcs12(new Uint8Array(4095))).toThrow(NestedStateError);
    expect(() => decodeVmcs12(new Uint8Array(8192))).toThrow(NestedStateError);
    expect(() => buildVmcs12({ no_such_field: 1 } as unknown as Partial<Vmcs12Fields>)).toThrow(
      InvalidValueError,
    );
    expect(() => buildVmcs12({ vm_exit_reason: 2 ** 32 })).toThrow(InvalidValueError);
    expect(() => buildVmcs12({ guest_cs_selector: -1 })).toThrow(InvalidValueError);
    expect(() => buildVmcs12({ guest_rip: 5 as unknown as bigint })).toThrow(InvalidValueError);
    expect(() => buildVmcs12({ revision_id: 0x8000_0000 })).toThrow(NestedStateError);
    expect(() => buildVmcs12({ shadow_vmcs: 2 })).toThrow(NestedStateError);
  });
});
