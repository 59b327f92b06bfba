import fc from 'fast-check';
import {
  INVALID_GPA,
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
  VMX_SIZE_HEADER_ONLY,
  VMX_SIZE_WITH_SHADOW,
  VMX_SIZE_WITH_VMCS12,
} from './constants';
import { NestedState, noNestedGuestState } from './nested-state';
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
  PIN_BASED_VMX_PREEMPTION_TIMER,
  SECONDARY_EXEC_SHADOW_VMCS,
  VMCS12_LAYOUT,
  VMCS12_REVISION,
  VMCS_HDR_SHADOW_VMCS,
  Vmcs12Fields,
  buildVmcs12,
} from './vmcs12';
import {
  EFER_SVME,
  SVM_INTERCEPT_WORD4_VMRUN,
  VMCB_LAYOUT,
  VmcbFields,
  X86_CR0_CD,
  X86_CR0_NW,
  X86_CR0_PE,
  X86_CR0_PG,
  X86_EFLAGS_VM,
  buildVmcb,
} from './vmcb';

/**
 * fast-check arbitraries for KVM nested state that KVM would accept and could have produced:
 * no nested guest, L1 in VMX root operation (with and without a current VMCS, in and out of
 * SMM), L2 under VMX with and without a shadow VMCS and a preemption-timer deadline, SVM outside
 * and inside L2. Pages are either random bytes or realistic named fields, patched so the
 * controls the consistency rules look at agree with the header.
 */

/** A page-aligned guest-physical address below 2^52. */
export const arbitraryPageAddress = (): fc.Arbitrary<bigint> =>
  fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }).map((pfn) => pfn << 12n);

const u64 = () => fc.bigInt({ min: 0n, max: INVALID_GPA });
const u32 = () => fc.nat({ max: 0xffff_ffff });
const u16 = () => fc.nat({ max: 0xffff });

const randomPage = () => fc.uint8Array({ minLength: PAGE_SIZE, maxLength: PAGE_SIZE });

/** A vmcs12 as L1 might leave it: a few named fields, the rest zero. */
const realisticVmcs12 = (): fc.Arbitrary<Uint8Array> =>
  fc
    .record(
      {
        launch_state: fc.constantFrom(0, 1),
        guest_rip: u64(),
        guest_rsp: u64(),
        guest_rflags: fc.bigInt({ min: 2n, max: 0x3f_ffffn }),
        guest_cr0: fc.constantFrom(0x8005_0033n, 0x8000_0031n, 0x31n),
        guest_cr3: arbitraryPageAddress(),
        guest_cr4: fc.constantFrom(0x2020n, 0x3726e0n),
        host_cr0: fc.constant(0x8005_0033n),
        host_cr3: arbitraryPageAddress(),
        host_cr4: fc.constant(0x3726e0n),
        host_rip: u64(),
        host_rsp: u64(),
        vm_exit_reason: fc.constantFrom(0, 1, 10, 12, 18, 28, 30, 48),
        exit_qualification: u64(),
        pin_based_vm_exec_control: fc.constantFrom(0x16, 0x3f),
        cpu_based_vm_exec_control: fc.constantFrom(0xb5a0_61fa, 0x8401_e172),
        secondary_vm_exec_control: fc.constantFrom(0x0, 0x82, 0x10a2),
        vm_exit_controls: fc.constantFrom(0x36dff, 0x3efff),
        vm_entry_controls: fc.constantFrom(0x93ff, 0xd3ff),
        ept_pointer: arbitraryPageAddress().map((a) => a | 0x5en),
        guest_cs_selector: u16(),
        virtual_processor_id: u16(),
        guest_interruptibility_info: fc.constantFrom(0, 1, 8),
        vmx_preemption_timer_value: u32(),
      },
      { requiredKeys: ['launch_state'] },
    )
    .map((fields) => buildVmcs12(fields as Partial<Vmcs12Fields>));

const vmcs12Base = () =>
  fc.oneof(realisticVmcs12(), randomPage(), fc.constant(new Uint8Array(PAGE_SIZE)));

interface Vmcs12Shape {
  /** guest mode with VMCS shadowing and a link pointer: the shadow page must travel. */
  shadowing: boolean;
  /** the VMX-preemption timer is active (needed for a deadline). */
  preemptionTimer: boolean;
}

function setU32(page: Uint8Array, offset: number, v: number): void {
  new DataView(page.buffer, page.byteOffset).setUint32(offset, v >>> 0, true);
}
function getU32(page: Uint8Array, offset: number): number {
  return new DataView(page.buffer, page.byteOffset).getUint32(offset, true);
}
function setU64(page: Uint8Array, offset: number, v: bigint): void {
  new DataView(page.buffer, page.byteOffset).setBigUint64(offset, v, true);
}
function getU64(page: Uint8Array, offset: number): bigint {
  return new DataView(page.buffer, page.byteOffset).getBigUint64(offset, true);
}

/** A vmcs12 page whose header and shadowing/timer controls match `shape`. */
export const arbitraryVmcs12Page = (shape: Vmcs12Shape): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(vmcs12Base(), arbitraryPageAddress(), fc.constantFrom('activate', 'secondary', 'link'))
    .map(([base, link, off]) => {
      const page = Uint8Array.from(base);
      const o = (name: string) => VMCS12_LAYOUT.field(name).offset;
      setU32(page, 0, VMCS12_REVISION);
      let cpu = getU32(page, o('cpu_based_vm_exec_control'));
      let sec = getU32(page, o('secondary_vm_exec_control'));
      let linkPtr = getU64(page, o('vmcs_link_pointer'));
      if (shape.shadowing) {
        cpu |= CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
        sec |= SECONDARY_EXEC_SHADOW_VMCS;
        linkPtr = link;
      } else if (
        cpu & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS &&
        sec & SECONDARY_EXEC_SHADOW_VMCS &&
        linkPtr !== INVALID_GPA
      ) {
        // Turn shadowing off one of the three ways KVM recognises.
        if (off === 'activate') cpu &= ~CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
        else if (off === 'secondary') sec &= ~SECONDARY_EXEC_SHADOW_VMCS;
        else linkPtr = INVALID_GPA;
      }
      setU32(page, o('cpu_based_vm_exec_control'), cpu);
      setU32(page, o('secondary_vm_exec_control'), sec);
      setU64(page, o('vmcs_link_pointer'), linkPtr);
      if (shape.preemptionTimer) {
        const pin = o('pin_based_vm_exec_control');
        setU32(page, pin, getU32(page, pin) | PIN_BASED_VMX_PREEMPTION_TIMER);
      }
      return page;
    });

/** A shadow vmcs12 page: revision with the shadow bit, random or realistic body. */
export const arbitraryShadowVmcs12Page = (): fc.Arbitrary<Uint8Array> =>
  vmcs12Base().map((base) => {
    const page = Uint8Array.from(base);
    setU32(page, 0, VMCS12_REVISION | VMCS_HDR_SHADOW_VMCS);
    return page;
  });

const realisticVmcb = (): fc.Arbitrary<Uint8Array> =>
  fc
    .record(
      {
        'control.intercept_word3': u32(),
        'control.iopm_base_pa': arbitraryPageAddress(),
        'control.msrpm_base_pa': arbitraryPageAddress(),
        'control.tsc_offset': u64(),
        'control.tlb_ctl': fc.constantFrom(0, 1, 3, 7),
        'control.int_ctl': fc.constantFrom(0, 0x0100_0000, 0x0300_0100),
        'control.exit_code': fc.constantFrom(0x60n, 0x72n, 0x78n, 0x7bn, 0x80n, 0x400n),
        'control.exit_info_1': u64(),
        'control.exit_info_2': u64(),
        'control.nested_ctl': fc.constantFrom(0n, 1n),
        'control.nested_cr3': arbitraryPageAddress(),
        'control.next_rip': u64(),
        'save.cs.selector': u16(),
        'save.cs.attrib': fc.constantFrom(0x29b, 0xa9b),
        'save.cs.limit': fc.constant(0xffff_ffff),
        'save.cpl': fc.constantFrom(0, 3),
        'save.cr3': arbitraryPageAddress(),
        'save.cr4': fc.constantFrom(0x6f0n, 0x3506f0n),
        'save.rip': u64(),
        'save.rsp': u64(),
        'save.rax': u64(),
        'save.g_pat': fc.constant(0x0007_0406_0007_0406n),
      },
      { requiredKeys: [] },
    )
    .map((fields) => buildVmcb(fields as Partial<VmcbFields>));

/** A vmcb12 page that passes svm_set_nested_state's checks (random or realistic body). */
export const arbitraryVmcb12Page = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(
      fc.oneof(realisticVmcb(), randomPage(), fc.constant(new Uint8Array(PAGE_SIZE))),
      fc.integer({ min: 1, max: 0xffff_ffff }),
      fc.bigInt({ min: 0n, max: 0xffff_ffffn }),
    )
    .map(([base, asid, cr0bits]) => {
      const page = Uint8Array.from(base);
      const o = (name: string) => VMCB_LAYOUT.field(name).offset;
      setU32(
        page,
        o('control.intercept_word4'),
        getU32(page, o('control.intercept_word4')) | SVM_INTERCEPT_WORD4_VMRUN,
      );
      if (getU32(page, o('control.asid')) === 0) setU32(page, o('control.asid'), asid);
      setU64(page, o('save.efer'), getU64(page, o('save.efer')) | EFER_SVME);
      let cr0 = cr0bits | X86_CR0_PG | X86_CR0_PE;
      if (cr0 & X86_CR0_NW) cr0 |= X86_CR0_CD;
      setU64(page, o('save.cr0'), cr0);
      setU64(page, o('save.rflags'), getU64(page, o('save.rflags')) & ~X86_EFLAGS_VM);
      setU64(page, o('save.dr6'), getU64(page, o('save.dr6')) & 0xffff_ffffn);
      setU64(page, o('save.dr7'), getU64(page, o('save.dr7')) & 0xffff_ffffn);
      return page;
    });

function vmx(fields: Partial<NestedState>): NestedState {
  return { ...noNestedGuestState(KVM_STATE_NESTED_FORMAT_VMX), ...fields };
}
function svm(fields: Partial<NestedState>): NestedState {
  return { ...noNestedGuestState(KVM_STATE_NESTED_FORMAT_SVM), ...fields };
}

/** vmcs12_pa: a page other than vmxon_pa, or -1 with an enlightened VMCS. */
const currentVmcs = (vmxon: bigint) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: arbitraryPageAddress()
        .filter((a) => a !== vmxon)
        .map((pa) => ({ pa, evmcs: 0 })),
    },
    { weight: 1, arbitrary: fc.constant({ pa: INVALID_GPA, evmcs: KVM_STATE_NESTED_EVMCS }) },
  );

/** No nested guest: never executed VMXON. */
const vmxNoNestedGuest = () =>
  fc.constantFrom(0, KVM_STATE_NESTED_EVMCS).map((flags) => vmx({ flags }));

/** L1 executed VMXON but has no current VMCS (maybe inside SMM). */
const vmxRootNoVmcs = () =>
  fc
    .tuple(arbitraryPageAddress(), fc.constantFrom(0, KVM_STATE_NESTED_SMM_VMXON))
    .map(([vmxon, smm]) =>
      vmx({ 'hdr.vmx.vmxon_pa': vmxon, 'hdr.vmx.smm.flags': smm, size: VMX_SIZE_HEADER_ONLY }),
    );

/** L1 in VMX root operation with a current VMCS (or inside SMM, maybe interrupted in L2). */
const vmxRootWithVmcs = () =>
  arbitraryPageAddress().chain((vmxon) =>
    fc
      .tuple(
        currentVmcs(vmxon),
        fc.constantFrom(
          0,
          KVM_STATE_NESTED_SMM_VMXON,
          KVM_STATE_NESTED_SMM_VMXON | KVM_STATE_NESTED_SMM_GUEST_MODE,
        ),
        fc
          .boolean()
          .chain((shadowing) => arbitraryVmcs12Page({ shadowing, preemptionTimer: false })),
      )
      .map(([cur, smm, vmcs12]) =>
        vmx({
          flags: cur.evmcs,
          size: VMX_SIZE_WITH_VMCS12,
          'hdr.vmx.vmxon_pa': vmxon,
          'hdr.vmx.vmcs12_pa': cur.pa,
          'hdr.vmx.smm.flags': smm,
          'data.vmx[0].vmcs12': vmcs12,
        }),
      ),
  );

/** L2 running under L1's VMX, with or without a shadow VMCS and a preemption-timer deadline. */
const vmxL2 = () =>
  fc
    .record({
      vmxon: arbitraryPageAddress(),
      shadowing: fc.boolean(),
      deadline: fc.option(fc.bigInt({ min: 0n, max: INVALID_GPA }), { nil: undefined }),
      runPending: fc.boolean(),
      mtfPending: fc.boolean(),
    })
    .chain((o) =>
      fc
        .tuple(
          currentVmcs(o.vmxon),
          arbitraryVmcs12Page({
            shadowing: o.shadowing,
            preemptionTimer: o.deadline !== undefined,
          }),
          o.shadowing ? arbitraryShadowVmcs12Page() : fc.constant(new Uint8Array(PAGE_SIZE)),
        )
        .map(([cur, vmcs12, shadow]) =>
          vmx({
            flags:
              KVM_STATE_NESTED_GUEST_MODE |
              cur.evmcs |
              (o.runPending ? KVM_STATE_NESTED_RUN_PENDING : 0) |
              (o.mtfPending ? KVM_STATE_NESTED_MTF_PENDING : 0),
            size: o.shadowing ? VMX_SIZE_WITH_SHADOW : VMX_SIZE_WITH_VMCS12,
            'hdr.vmx.vmxon_pa': o.vmxon,
            'hdr.vmx.vmcs12_pa': cur.pa,
            'hdr.vmx.flags': o.deadline !== undefined ? KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE : 0,
            'hdr.vmx.preemption_timer_deadline': o.deadline ?? 0n,
            'data.vmx[0].vmcs12': vmcs12,
            'data.vmx[0].shadow_vmcs12': shadow,
          }),
        ),
    );

/** SVM outside L2: only the GIF. */
const svmNoNestedGuest = () =>
  fc.constantFrom(0, KVM_STATE_NESTED_GIF_SET).map((flags) => svm({ flags }));

/** L2 running under L1's SVM. */
const svmL2 = () =>
  fc
    .record({
      vmcbPa: arbitraryPageAddress(),
      runPending: fc.boolean(),
      gif: fc.boolean(),
      vmcb12: arbitraryVmcb12Page(),
    })
    .map((o) =>
      svm({
        flags:
          KVM_STATE_NESTED_GUEST_MODE |
          (o.runPending ? KVM_STATE_NESTED_RUN_PENDING : 0) |
          (o.gif ? KVM_STATE_NESTED_GIF_SET : 0),
        size: SVM_SIZE_WITH_VMCB12,
        'hdr.svm.vmcb_pa': o.vmcbPa,
        'data.svm[0].vmcb12': o.vmcb12,
      }),
    );

export type NestedScenario =
  'vmx-none' | 'vmx-root' | 'vmx-root-vmcs' | 'vmx-l2' | 'svm-none' | 'svm-l2';

const SCENARIOS: Record<NestedScenario, () => fc.Arbitrary<NestedState>> = {
  'vmx-none': vmxNoNestedGuest,
  'vmx-root': vmxRootNoVmcs,
  'vmx-root-vmcs': vmxRootWithVmcs,
  'vmx-l2': vmxL2,
  'svm-none': svmNoNestedGuest,
  'svm-l2': svmL2,
};

/** Any valid NestedState, or only the given scenarios. */
export function arbitraryNestedState(
  scenarios: readonly NestedScenario[] = Object.keys(SCENARIOS) as NestedScenario[],
): fc.Arbitrary<NestedState> {
  return fc.oneof(...scenarios.map((s) => SCENARIOS[s]()));
}
