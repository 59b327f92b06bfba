/**
 * The nested-state tree on the wire and in the vmdesc, byte by byte as the KVM/QEMU reference
 * lays it out (x86-nested-state.md 2.4/2.5): mixed endianness (big-endian VMState header
 * fields, the kernel's little-endian pages verbatim), name lengths, subsection sizes.
 */
import { saveDescribed, type State } from '../src';
import type { VmdescField, VmdescVMSD } from '../src/engine/vmdesc-types';
import { cpu } from '../vmstate/x86/cpu';
import { scenario } from '../vmstate/x86/scenarios';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const name = (s: string) =>
  Buffer.concat([
    Buffer.of(0x05, s.length),
    Buffer.from(s, 'latin1'),
    Buffer.of(0, 0, 0, 1),
  ]).toString('hex');

function nestedBytes(scenarioName: string): {
  body: Uint8Array;
  at: number;
  vmdesc: VmdescVMSD;
  nested: State;
} {
  const s = scenario(scenarioName)!;
  const { bytes, vmdesc } = saveDescribed(cpu, s.state.cpu, { ctx: s.ctx });
  const at = Buffer.from(bytes).indexOf(Buffer.from(name('cpu/nested_state'), 'hex'));
  return { body: bytes, at, vmdesc, nested: s.state.cpu['env.nested_state'] as State };
}

describe('VMX L2 with a shadow VMCS', () => {
  const { body, at, vmdesc, nested } = nestedBytes('vmx-l2-shadow');

  it('is framed as QEMU frames it: header fields big-endian, then vmx, vmcs12, shadow_vmcs12', () => {
    expect(at).toBeGreaterThan(1817);
    let p = at;
    const take = (n: number) => hex(body.subarray(p, (p += n)));
    expect(take(22)).toBe(name('cpu/nested_state'));
    expect(take(8)).toBe('0001' + '0000' + '00002080'); // flags GUEST_MODE, format VMX, size 8320 (be)
    expect(take(30)).toBe(name('cpu/kvm_nested_state/vmx'));
    expect(take(18)).toBe('0000000010a3c000' + '0000000010a3d000' + '0000'); // vmxon_pa, vmcs12_pa, smm.flags
    expect(take(37)).toBe(name('cpu/kvm_nested_state/vmx/vmcs12'));
    const vmcs12 = body.subarray(p, (p += 4096));
    expect(hex(vmcs12.subarray(0, 4))).toBe('d07ee511'); // revision 0x11e57ed0, little-endian as the kernel wrote it
    expect(vmcs12).toEqual(nested['data.vmx[0].vmcs12']);
    expect(take(44)).toBe(name('cpu/kvm_nested_state/vmx/shadow_vmcs12'));
    const shadow = body.subarray(p, (p += 4096));
    expect(hex(shadow.subarray(0, 4))).toBe('d07ee591'); // bit 31: shadow VMCS
    expect(p - at).toBe(8351); // the size the reference computes for this case
    // Then the next cpu subsection or the end of the section.
    expect(p === body.length || body[p] === 0x05).toBe(true);
  });

  it('is described as QEMU describes it: a struct field whose struct carries the vmx subsections', () => {
    const sub = vmdesc.subsections!.find((x) => x.vmsd_name === 'cpu/nested_state')!;
    expect(sub.version).toBe(1);
    const field = sub.fields[0] as VmdescField;
    expect(Object.keys(field)).toEqual(['name', 'type', 'struct', 'size']);
    expect(field).toMatchObject({
      name: 'env.nested_state',
      type: 'struct',
      size: 8 + 22 + 18 + 37 + 4096 + 44 + 4096 + 8,
    });
    const st = field.struct!;
    expect(st.vmsd_name).toBe('cpu/kvm_nested_state');
    expect(st.fields).toEqual([
      { name: 'flags', type: 'uint16', size: 2 },
      { name: 'format', type: 'uint16', size: 2 },
      { name: 'size', type: 'uint32', size: 4 },
    ]);
    const vmx = st.subsections![0];
    expect(vmx.vmsd_name).toBe('cpu/kvm_nested_state/vmx');
    expect(vmx.subsections!.map((x) => x.vmsd_name)).toEqual([
      'cpu/kvm_nested_state/vmx/vmcs12',
      'cpu/kvm_nested_state/vmx/shadow_vmcs12',
    ]);
    expect(vmx.subsections![0].fields).toEqual([
      { name: 'data.vmx[0].vmcs12', array_len: 4096, type: 'uint8', size: 1 },
    ]);
    expect(Object.keys(vmx.subsections![0].fields[0])).toEqual([
      'name',
      'array_len',
      'type',
      'size',
    ]);
  });
});

describe('smaller nested states', () => {
  it('VMXON without a current VMCS: 78 bytes of subsections', () => {
    const s = scenario('vmx-root')!;
    const cpuState = {
      ...s.state.cpu,
      'env.nested_state': {
        ...(s.state.cpu['env.nested_state'] as State),
        size: 128,
        'hdr.vmx.vmcs12_pa': 0xffffffffffffffffn,
        'data.vmx[0].vmcs12': new Uint8Array(4096),
      },
    };
    const { bytes } = saveDescribed(cpu, cpuState, { ctx: s.ctx });
    const at = Buffer.from(bytes).indexOf(Buffer.from(name('cpu/nested_state'), 'hex'));
    expect(bytes.length - at).toBe(78);
  });

  it('VMX with a current VMCS: 4211 bytes; SVM in L2: 4164 bytes, vmcb12 page verbatim', () => {
    const vmx = nestedBytes('vmx-root');
    expect(vmx.body.length - vmx.at).toBe(4211);
    const svm = nestedBytes('svm-l2');
    expect(svm.body.length - svm.at).toBe(4164);
    let p = svm.at + 22;
    expect(hex(svm.body.subarray(p, p + 8))).toBe('0101' + '0001' + '00001080'); // GUEST_MODE|GIF_SET, SVM, 4224
    p += 8;
    expect(hex(svm.body.subarray(p, p + 30))).toBe(name('cpu/kvm_nested_state/svm'));
    p += 30;
    expect(hex(svm.body.subarray(p, p + 8))).toBe('0000000010b0c000'); // vmcb_pa
    expect(svm.body.subarray(p + 8, p + 8 + 4096)).toEqual(svm.nested['data.svm[0].vmcb12']);
  });

  it('nothing at all for a VMX guest that never ran VMXON', () => {
    const s = scenario('vmx-idle')!;
    const { bytes } = saveDescribed(cpu, s.state.cpu, { ctx: s.ctx });
    expect(Buffer.from(bytes).includes(Buffer.from('nested_state'))).toBe(false);
  });
});
