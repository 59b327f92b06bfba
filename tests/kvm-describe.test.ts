import fc from 'fast-check';
import { arbitraryNestedState } from '../vmstate/x86/kvm/arbitrary';
import { describeNestedState, nestedFlagNames, smmFlagNames } from '../vmstate/x86/kvm/describe';
import { NestedState, noNestedGuestState, parseNestedState } from '../vmstate/x86/kvm/nested-state';
import { VMCS12_REVISION, buildVmcs12 } from '../vmstate/x86/kvm/vmcs12';

describe('describeNestedState (analyze view)', () => {
  test('flag names, unknown bits in hex', () => {
    expect(nestedFlagNames(0x0103)).toEqual(['GUEST_MODE', 'RUN_PENDING', 'GIF_SET']);
    expect(nestedFlagNames(0x8004)).toEqual(['EVMCS', '0x8000']);
    expect(smmFlagNames(3)).toEqual(['SMM_GUEST_MODE', 'SMM_VMXON']);
    expect(nestedFlagNames(0)).toEqual([]);
  });

  test('valid states: no problem, pages decoded exactly when size carries them', () => {
    fc.assert(
      fc.property(arbitraryNestedState(), (s) => {
        const r = describeNestedState(s);
        expect(r.problem).toBeUndefined();
        expect(r.format).toBe(s.format === 0 ? 'VMX' : 'SVM');
        expect(r.vmcs12 !== undefined).toBe(s.format === 0 && s.size >= 4224);
        expect(r.shadowVmcs12 !== undefined).toBe(s.size === 8320);
        expect(r.vmcb12 !== undefined).toBe(s.format === 1 && s.size === 4224);
        if (r.vmcs12) expect(r.vmcs12.revision_id).toBe(VMCS12_REVISION);
        if (r.shadowVmcs12) expect(r.shadowVmcs12.shadow_vmcs).toBe(1);
      }),
      { numRuns: 60 },
    );
  });

  test('an inconsistent state is described with its first broken rule, not thrown', () => {
    const s: NestedState = {
      ...noNestedGuestState(),
      size: 4224,
      'data.vmx[0].vmcs12': buildVmcs12({ revision_id: VMCS12_REVISION, guest_rip: 0x1000n }),
    };
    const r = describeNestedState(s);
    expect(r.problem?.rule).toBe('size');
    expect(r.vmcs12?.guest_rip).toBe(0x1000n);
    expect(describeNestedState({ ...s, format: 9 }).problem?.rule).toBe('format');
    expect(
      describeNestedState({ ...s, 'data.svm[0].vmcb12': new Uint8Array(3) }).problem?.rule,
    ).toBe('page-size');
  });

  test('works on what parseNestedState returns', () => {
    const blob = new Uint8Array(128);
    blob.set([0x00, 0x01, 0x01, 0x00, 0x80]);
    expect(describeNestedState(parseNestedState(blob))).toMatchObject({
      format: 'SVM',
      flags: ['GIF_SET'],
      header: { size: 128 },
    });
  });
});
