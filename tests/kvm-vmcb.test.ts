import fc from 'fast-check';
import { DescriptionError, InvalidValueError } from '../src/errors';
import { FixedLayout, gap, u32, u8 } from '../vmstate/x86/kvm/layout';
import { NestedStateError } from '../vmstate/x86/kvm/errors';
import {
  VMCB_FIELD_NAMES,
  VMCB_LAYOUT,
  VMCB_SAVE_AREA_OFFSET,
  VmcbFields,
  buildVmcb,
  decodeVmcb,
} from '../vmstate/x86/kvm/vmcb';

// Offsets from AMD's VMCB layout as arch/x86/include/asm/svm.h declares it (the header's offset
// comments and its build-time size checks: control area 1024 bytes, save area 744).
const EXPECTED: [string, number, number][] = [
  ['control.intercept_cr', 0x000, 4],
  ['control.intercept_exceptions', 0x008, 4],
  ['control.intercept_word4', 0x010, 4],
  ['control.pause_filter_thresh', 0x03c, 2],
  ['control.pause_filter_count', 0x03e, 2],
  ['control.iopm_base_pa', 0x040, 8],
  ['control.msrpm_base_pa', 0x048, 8],
  ['control.tsc_offset', 0x050, 8],
  ['control.asid', 0x058, 4],
  ['control.tlb_ctl', 0x05c, 1],
  ['control.int_ctl', 0x060, 4],
  ['control.int_vector', 0x064, 4],
  ['control.int_state', 0x068, 4],
  ['control.exit_code', 0x070, 8],
  ['control.exit_info_1', 0x078, 8],
  ['control.exit_info_2', 0x080, 8],
  ['control.exit_int_info', 0x088, 4],
  ['control.nested_ctl', 0x090, 8],
  ['control.avic_vapic_bar', 0x098, 8],
  ['control.ghcb_gpa', 0x0a0, 8],
  ['control.event_inj', 0x0a8, 4],
  ['control.nested_cr3', 0x0b0, 8],
  ['control.virt_ext', 0x0b8, 8],
  ['control.clean', 0x0c0, 4],
  ['control.next_rip', 0x0c8, 8],
  ['control.insn_len', 0x0d0, 1],
  ['control.insn_bytes', 0x0d1, 15],
  ['control.avic_backing_page', 0x0e0, 8],
  ['control.avic_logical_id', 0x0f0, 8],
  ['control.avic_physical_id', 0x0f8, 8],
  ['control.vmsa_pa', 0x108, 8],
  ['control.bus_lock_counter', 0x120, 2],
  ['control.allowed_sev_features', 0x138, 8],
  ['control.guest_sev_features', 0x140, 8],
  ['control.reserved_sw', 0x3e0, 32],
  ['save.es.selector', 0x400, 2],
  ['save.es.attrib', 0x402, 2],
  ['save.es.limit', 0x404, 4],
  ['save.es.base', 0x408, 8],
  ['save.cs.selector', 0x410, 2],
  ['save.ss.base', 0x428, 8],
  ['save.gdtr.limit', 0x464, 4],
  ['save.ldtr.selector', 0x470, 2],
  ['save.idtr.base', 0x488, 8],
  ['save.tr.selector', 0x490, 2],
  ['save.vmpl', 0x4ca, 1],
  ['save.cpl', 0x4cb, 1],
  ['save.efer', 0x4d0, 8],
  ['save.cr4', 0x548, 8],
  ['save.cr3', 0x550, 8],
  ['save.cr0', 0x558, 8],
  ['save.dr7', 0x560, 8],
  ['save.dr6', 0x568, 8],
  ['save.rflags', 0x570, 8],
  ['save.rip', 0x578, 8],
  ['save.rsp', 0x5d8, 8],
  ['save.s_cet', 0x5e0, 8],
  ['save.rax', 0x5f8, 8],
  ['save.star', 0x600, 8],
  ['save.lstar', 0x608, 8],
  ['save.cstar', 0x610, 8],
  ['save.sfmask', 0x618, 8],
  ['save.kernel_gs_base', 0x620, 8],
  ['save.sysenter_cs', 0x628, 8],
  ['save.sysenter_esp', 0x630, 8],
  ['save.sysenter_eip', 0x638, 8],
  ['save.cr2', 0x640, 8],
  ['save.g_pat', 0x668, 8],
  ['save.dbgctl', 0x670, 8],
  ['save.br_from', 0x678, 8],
  ['save.br_to', 0x680, 8],
  ['save.last_excp_from', 0x688, 8],
  ['save.last_excp_to', 0x690, 8],
  ['save.spec_ctrl', 0x6e0, 8],
];

const fieldValue = (name: string): fc.Arbitrary<number | bigint | Uint8Array> => {
  const f = VMCB_LAYOUT.field(name);
  if (typeof f.kind === 'object') return fc.uint8Array({ minLength: f.size, maxLength: f.size });
  return f.size === 8
    ? fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
    : fc.nat({ max: 2 ** (8 * f.size) - 1 });
};

describe('struct vmcb layout', () => {
  test('offsets and widths', () => {
    for (const [name, offset, size] of EXPECTED) {
      const f = VMCB_LAYOUT.field(name);
      expect([name, f.offset, f.size]).toEqual([name, offset, size]);
    }
  });

  test('control area is 1024 bytes, save area 744', () => {
    const firstSave = VMCB_LAYOUT.fields.find((f) => f.name.startsWith('save.'))!;
    expect(firstSave.offset).toBe(VMCB_SAVE_AREA_OFFSET);
    expect(VMCB_SAVE_AREA_OFFSET).toBe(1024);
    expect(VMCB_LAYOUT.structSize - VMCB_SAVE_AREA_OFFSET).toBe(744);
    expect(VMCB_FIELD_NAMES.every((n) => n.startsWith('control.') || n.startsWith('save.'))).toBe(
      true,
    );
  });
});

describe('decodeVmcb / buildVmcb', () => {
  test('hand-checked bytes of a few fields', () => {
    const page = buildVmcb({
      'control.asid': 1,
      'control.exit_code': 0x7bn,
      'control.nested_ctl': 1n,
      'control.nested_cr3': 0x1234_5000n,
      'save.rip': 0xffff_ffff_8100_0010n,
      'save.efer': 0x1d01n,
      'save.cs.selector': 0x10,
      'save.cs.attrib': 0x029b,
      'save.cpl': 3,
    });
    expect(Array.from(page.subarray(0x58, 0x5c))).toEqual([1, 0, 0, 0]);
    expect(Array.from(page.subarray(0x70, 0x78))).toEqual([0x7b, 0, 0, 0, 0, 0, 0, 0]);
    expect(page[0x90]).toBe(1);
    expect(Array.from(page.subarray(0xb0, 0xb8))).toEqual([0x00, 0x50, 0x34, 0x12, 0, 0, 0, 0]);
    expect(Array.from(page.subarray(0x578, 0x580))).toEqual([
      0x10, 0x00, 0x00, 0x81, 0xff, 0xff, 0xff, 0xff,
    ]);
    expect(Array.from(page.subarray(0x4d0, 0x4d2))).toEqual([0x01, 0x1d]);
    expect(Array.from(page.subarray(0x410, 0x414))).toEqual([0x10, 0x00, 0x9b, 0x02]);
    expect(page[0x4cb]).toBe(3);
    const d = decodeVmcb(page);
    expect(d['control.asid']).toBe(1);
    expect(d['control.exit_code']).toBe(0x7bn);
    expect(d['save.rip']).toBe(0xffff_ffff_8100_0010n);
    expect(d['save.cs.attrib']).toBe(0x29b);
    expect(d['save.rsp']).toBe(0n);
    expect(Object.keys(d)).toEqual(VMCB_FIELD_NAMES);
  });

  test('decode(build(fields)) gives the fields back and zero for the rest', () => {
    const arb = fc.record(Object.fromEntries(VMCB_FIELD_NAMES.map((n) => [n, fieldValue(n)])), {
      requiredKeys: [],
    });
    fc.assert(
      fc.property(arb, (fields) => {
        const d = decodeVmcb(buildVmcb(fields as Partial<VmcbFields>)) as unknown as Record<
          string,
          unknown
        >;
        for (const name of VMCB_FIELD_NAMES) {
          const given = (fields as Record<string, unknown>)[name];
          const v = d[name];
          const zero =
            v instanceof Uint8Array ? new Uint8Array(v.length) : typeof v === 'bigint' ? 0n : 0;
          expect([name, v]).toEqual([name, given ?? zero]);
        }
      }),
      { numRuns: 60 },
    );
  });

  test('build(decode(page)) keeps every named byte and zeroes only reserved ones', () => {
    const named = new Uint8Array(4096);
    for (const f of VMCB_LAYOUT.fields) named.fill(1, f.offset, f.offset + f.size);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4096, maxLength: 4096 }), (page) => {
        const rebuilt = buildVmcb(decodeVmcb(page));
        for (let i = 0; i < 4096; i++) {
          if (rebuilt[i] !== (named[i] ? page[i] : 0)) throw new Error(`byte ${i}`);
        }
      }),
      { numRuns: 30 },
    );
  });

  test('decoded byte runs are copies', () => {
    const page = buildVmcb({ 'control.insn_bytes': new Uint8Array(15).fill(0x90) });
    const d = decodeVmcb(page);
    page.fill(0);
    expect(Array.from(d['control.insn_bytes'])).toEqual(new Array(15).fill(0x90));
  });

  test('bad input', () => {
    expect(() => decodeVmcb(new Uint8Array(100))).toThrow(NestedStateError);
    expect(() => buildVmcb({ 'control.insn_bytes': new Uint8Array(3) })).toThrow(InvalidValueError);
    expect(() => buildVmcb({ 'control.tlb_ctl': 256 })).toThrow(InvalidValueError);
    expect(() => buildVmcb({ 'save.rip': -1n })).toThrow(InvalidValueError);
  });
});

describe('FixedLayout declarations', () => {
  test('duplicate names and overflowing structs are description errors', () => {
    expect(() => new FixedLayout('x', 16, [u32('a'), u32('a')])).toThrow(DescriptionError);
    expect(() => new FixedLayout('x', 4, [u32('a'), u8('b')])).toThrow(DescriptionError);
    expect(() => new FixedLayout('x', 16, [gap(0)])).toThrow(DescriptionError);
    const l = new FixedLayout('x', 8, [u8('a'), gap(3), u32('b')]);
    expect(l.offsetOf('b')).toBe(4);
    expect(l.decode(Uint8Array.from([7, 9, 9, 9, 1, 2, 0, 0]))).toEqual({ a: 7, b: 0x201 });
  });
});
