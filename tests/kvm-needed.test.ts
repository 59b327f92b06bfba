import fc from 'fast-check';
import { arbitraryNestedState } from '../vmstate/x86/kvm/arbitrary';
import {
  INVALID_GPA,
  KVM_STATE_NESTED_FORMAT_SVM,
  KVM_STATE_NESTED_FORMAT_VMX,
  KVM_STATE_NESTED_GUEST_MODE,
  NESTED_STATE_OFFSETS,
} from '../vmstate/x86/kvm/constants';
import {
  NestedState,
  buildNestedState,
  noNestedGuestState,
  parseNestedState,
} from '../vmstate/x86/kvm/nested-state';
import {
  nestedStateNeeded,
  svmNestedStateNeeded,
  vmxNestedStateNeeded,
  vmxShadowVmcs12Needed,
  vmxVmcs12Needed,
} from '../vmstate/x86/kvm/needed';

fc.configureGlobal({ ...fc.readConfigureGlobal(), numRuns: 150 });

/**
 * What a QEMU destination ends up with: its own freshly initialised buffer (kvm_init_nested_state:
 * zeroed, format set, VMX addresses -1) overwritten by exactly the fields the source's needed()
 * callbacks put on the wire.
 */
function migrate(s: NestedState): NestedState | undefined {
  if (!nestedStateNeeded(s)) return undefined;
  const d: NestedState = {
    ...noNestedGuestState(s.format),
    flags: s.flags,
    format: s.format,
    size: s.size,
  };
  if (vmxNestedStateNeeded(s)) {
    d['hdr.vmx.vmxon_pa'] = s['hdr.vmx.vmxon_pa'];
    d['hdr.vmx.vmcs12_pa'] = s['hdr.vmx.vmcs12_pa'];
    d['hdr.vmx.smm.flags'] = s['hdr.vmx.smm.flags'];
    if (vmxVmcs12Needed(s)) d['data.vmx[0].vmcs12'] = s['data.vmx[0].vmcs12'];
    if (vmxShadowVmcs12Needed(s)) d['data.vmx[0].shadow_vmcs12'] = s['data.vmx[0].shadow_vmcs12'];
  }
  if (svmNestedStateNeeded(s)) {
    d['hdr.svm.vmcb_pa'] = s['hdr.svm.vmcb_pa'];
    d['data.svm[0].vmcb12'] = s['data.svm[0].vmcb12'];
  }
  return d;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("QEMU's needed() conditions", () => {
  test('thresholds are the offsets of the data in struct kvm_nested_state', () => {
    expect(NESTED_STATE_OFFSETS['data.vmx[0].vmcs12']).toBe(128);
    expect(NESTED_STATE_OFFSETS['data.vmx[0].shadow_vmcs12']).toBe(4224);
    expect(vmxVmcs12Needed({ size: 128 })).toBe(false);
    expect(vmxVmcs12Needed({ size: 129 })).toBe(true);
    expect(vmxShadowVmcs12Needed({ size: 4224 })).toBe(false);
    expect(vmxShadowVmcs12Needed({ size: 4225 })).toBe(true);
    expect(svmNestedStateNeeded({ format: KVM_STATE_NESTED_FORMAT_SVM, size: 128 })).toBe(false);
    expect(svmNestedStateNeeded({ format: KVM_STATE_NESTED_FORMAT_SVM, size: 4224 })).toBe(true);
    expect(svmNestedStateNeeded({ format: KVM_STATE_NESTED_FORMAT_VMX, size: 4224 })).toBe(false);
    expect(
      vmxNestedStateNeeded({
        format: KVM_STATE_NESTED_FORMAT_VMX,
        'hdr.vmx.vmxon_pa': INVALID_GPA,
      }),
    ).toBe(false);
    expect(
      vmxNestedStateNeeded({ format: KVM_STATE_NESTED_FORMAT_VMX, 'hdr.vmx.vmxon_pa': 0n }),
    ).toBe(true);
    expect(
      vmxNestedStateNeeded({ format: KVM_STATE_NESTED_FORMAT_SVM, 'hdr.vmx.vmxon_pa': 0n }),
    ).toBe(false);
    expect(nestedStateNeeded(null)).toBe(false);
  });

  test('on valid states they agree with the size/format rules', () => {
    fc.assert(
      fc.property(arbitraryNestedState(), (s) => {
        const guest = (s.flags & KVM_STATE_NESTED_GUEST_MODE) !== 0;
        if (s.format === KVM_STATE_NESTED_FORMAT_VMX) {
          expect(svmNestedStateNeeded(s)).toBe(false);
          expect(vmxVmcs12Needed(s)).toBe(s.size >= 4224);
          expect(vmxShadowVmcs12Needed(s)).toBe(s.size === 8320);
          // a child is never needed when its parent is not: no data is silently left behind
          if (vmxVmcs12Needed(s)) expect(vmxNestedStateNeeded(s)).toBe(true);
          if (vmxShadowVmcs12Needed(s)) expect(vmxVmcs12Needed(s)).toBe(true);
          if (guest) expect(vmxVmcs12Needed(s)).toBe(true);
        } else {
          expect(vmxNestedStateNeeded(s)).toBe(false);
          expect(svmNestedStateNeeded(s)).toBe(guest);
          expect(svmNestedStateNeeded(s)).toBe(s.size === 4224);
        }
        expect(nestedStateNeeded(s)).toBe(vmxNestedStateNeeded(s) || svmNestedStateNeeded(s));
      }),
    );
  });

  test('what the subsections carry rebuilds the state, minus the fields QEMU never migrates', () => {
    fc.assert(
      fc.property(arbitraryNestedState(), (s) => {
        const d = migrate(s);
        if (!d) {
          // Nothing sent: the state must be the trivial one (flags travel in hflags/hflags2).
          const trivial = { ...noNestedGuestState(s.format), flags: s.flags };
          expect(sameBytes(buildNestedState(s), buildNestedState(trivial))).toBe(true);
          return;
        }
        const expected: NestedState = {
          ...s,
          'hdr.vmx.flags': 0,
          'hdr.vmx.preemption_timer_deadline': 0n,
        };
        // the destination's copy is a valid blob KVM_SET_NESTED_STATE takes, equal to the source's
        // except for the preemption-timer deadline
        expect(sameBytes(buildNestedState(d), buildNestedState(expected))).toBe(true);
        expect(parseNestedState(buildNestedState(d)).size).toBe(s.size);
      }),
    );
  });

  test('QEMU 4.1-5.0 (no SVM half) sends nothing for SVM vCPUs', () => {
    fc.assert(
      fc.property(arbitraryNestedState(['svm-none', 'svm-l2']), (s) => {
        expect(nestedStateNeeded(s, false)).toBe(false);
        expect(nestedStateNeeded(s, true)).toBe(s.size > 128);
      }),
      { numRuns: 40 },
    );
  });
});
