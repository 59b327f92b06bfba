import {
  INVALID_GPA,
  KVM_STATE_NESTED_EVMCS,
  KVM_STATE_NESTED_FORMAT_SVM,
  KVM_STATE_NESTED_FORMAT_VMX,
  KVM_STATE_NESTED_GIF_SET,
  KVM_STATE_NESTED_GUEST_MODE,
  KVM_STATE_NESTED_KNOWN_FLAGS,
  KVM_STATE_NESTED_MTF_PENDING,
  KVM_STATE_NESTED_RUN_PENDING,
  KVM_STATE_NESTED_SMM_GUEST_MODE,
  KVM_STATE_NESTED_SMM_VMXON,
  KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE,
  MAX_PHYS_ADDR_BITS,
  NESTED_STATE_HEADER_SIZE,
  NESTED_STATE_OFFSETS as OFF,
  PAGE_SIZE,
  SVM_SIZE_HEADER_ONLY,
  SVM_SIZE_WITH_VMCB12,
  VMX_SIZE_HEADER_ONLY,
  VMX_SIZE_WITH_SHADOW,
  VMX_SIZE_WITH_VMCS12,
} from './constants';
import { FixedLayout, u16, u32, u64 } from './layout';
import { DescriptionError } from '../../../src/errors';
import { NestedStateError, NestedStateRule } from './errors';
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
  PIN_BASED_VMX_PREEMPTION_TIMER,
  SECONDARY_EXEC_SHADOW_VMCS,
  VMCS12_LAYOUT,
  VMCS12_REVISION,
  vmcs12Header,
  vmcs12U32,
  vmcs12U64,
} from './vmcs12';
import {
  EFER_SVME,
  SVM_INTERCEPT_WORD4_VMRUN,
  VMCB_LAYOUT,
  X86_CR0_CD,
  X86_CR0_NW,
  X86_CR0_PE,
  X86_CR0_PG,
  X86_EFLAGS_VM,
  vmcbU32,
  vmcbU64,
} from './vmcb';

/**
 * struct kvm_nested_state (KVM_GET/SET_NESTED_STATE) as a flat record keyed by the field
 * names QEMU's VMState uses for it (target/i386/machine.c, cpu/kvm_nested_state and its
 * subsections), so it maps 1:1 onto the cpu description. Every key is always present, like
 * the C struct QEMU keeps: the keys of the other format and the pages `size` leaves out are
 * zero. `hdr.vmx.flags` and `hdr.vmx.preemption_timer_deadline` are part of the kernel ABI
 * but QEMU does not migrate them.
 */
export interface NestedState {
  flags: number;
  format: number;
  size: number;
  'hdr.vmx.vmxon_pa': bigint;
  'hdr.vmx.vmcs12_pa': bigint;
  'hdr.vmx.smm.flags': number;
  'hdr.vmx.flags': number;
  'hdr.vmx.preemption_timer_deadline': bigint;
  'hdr.svm.vmcb_pa': bigint;
  'data.vmx[0].vmcs12': Uint8Array;
  'data.vmx[0].shadow_vmcs12': Uint8Array;
  'data.svm[0].vmcb12': Uint8Array;
}

type U16Key = 'flags' | 'format' | 'hdr.vmx.smm.flags';
type U32Key = 'size' | 'hdr.vmx.flags';
type U64Key =
  | 'hdr.vmx.vmxon_pa'
  | 'hdr.vmx.vmcs12_pa'
  | 'hdr.vmx.preemption_timer_deadline'
  | 'hdr.svm.vmcb_pa';
type PageKey = 'data.vmx[0].vmcs12' | 'data.vmx[0].shadow_vmcs12' | 'data.svm[0].vmcb12';

const U16_KEYS: readonly U16Key[] = ['flags', 'format', 'hdr.vmx.smm.flags'];
const U32_KEYS: readonly U32Key[] = ['size', 'hdr.vmx.flags'];
const U64_KEYS: readonly U64Key[] = [
  'hdr.vmx.vmxon_pa',
  'hdr.vmx.vmcs12_pa',
  'hdr.vmx.preemption_timer_deadline',
  'hdr.svm.vmcb_pa',
];
const PAGE_KEYS: readonly PageKey[] = [
  'data.vmx[0].vmcs12',
  'data.vmx[0].shadow_vmcs12',
  'data.svm[0].vmcb12',
];

const ROOT = 'kvm_nested_state';
const at = (field: string) => `${ROOT} > ${field}`;

/** The state KVM_GET_NESTED_STATE reports for a vCPU that has no nested guest and never ran VMXON. */
export function noNestedGuestState(format: number = KVM_STATE_NESTED_FORMAT_VMX): NestedState {
  const vmx = format === KVM_STATE_NESTED_FORMAT_VMX;
  return {
    // GIF is architecturally set outside SVM guest code, and KVM reports it.
    flags: vmx ? 0 : KVM_STATE_NESTED_GIF_SET,
    format,
    size: NESTED_STATE_HEADER_SIZE,
    'hdr.vmx.vmxon_pa': vmx ? INVALID_GPA : 0n,
    'hdr.vmx.vmcs12_pa': vmx ? INVALID_GPA : 0n,
    'hdr.vmx.smm.flags': 0,
    'hdr.vmx.flags': 0,
    'hdr.vmx.preemption_timer_deadline': 0n,
    'hdr.svm.vmcb_pa': 0n,
    'data.vmx[0].vmcs12': new Uint8Array(PAGE_SIZE),
    'data.vmx[0].shadow_vmcs12': new Uint8Array(PAGE_SIZE),
    'data.svm[0].vmcb12': new Uint8Array(PAGE_SIZE),
  };
}

// The 128-byte fixed part is a union of two headers; the format picks which one. Each view is
// declared once and serves both parseNestedState and buildNestedState.
const VMX_HEADER = new FixedLayout('kvm_nested_state', NESTED_STATE_HEADER_SIZE, [
  u16('flags'),
  u16('format'),
  u32('size'),
  u64('hdr.vmx.vmxon_pa'),
  u64('hdr.vmx.vmcs12_pa'),
  u16('hdr.vmx.smm.flags'),
  u16('hdr.vmx.pad'),
  u32('hdr.vmx.flags'),
  u64('hdr.vmx.preemption_timer_deadline'),
] as const);
const SVM_HEADER = new FixedLayout('kvm_nested_state', NESTED_STATE_HEADER_SIZE, [
  u16('flags'),
  u16('format'),
  u32('size'),
  u64('hdr.svm.vmcb_pa'),
] as const);

// The offsets errors report and the layouts must agree.
for (const layout of [VMX_HEADER, SVM_HEADER])
  for (const f of layout.fields)
    if (OFF[f.name as keyof typeof OFF] !== f.offset)
      throw new DescriptionError(
        `kvm_nested_state: ${f.name} at ${f.offset}, not ${String(OFF[f.name as keyof typeof OFF])}`,
      );

function fail(
  rule: NestedStateRule,
  what: string,
  offset: number,
  field: string,
  base: number,
): never {
  throw new NestedStateError(rule, what, base + offset, at(field));
}

/**
 * Reads a blob exactly as KVM_GET_NESTED_STATE fills it: `size` bytes, little-endian. Anything
 * the kernel ABI does not allow is a NestedStateError (see checkNestedState); `base` is added to
 * the offsets errors report, for blobs cut out of a larger file.
 */
export function parseNestedState(blob: Uint8Array, base = 0): NestedState {
  if (!(blob instanceof Uint8Array))
    fail('value', 'a nested-state blob must be a Uint8Array', 0, 'flags', base);
  if (blob.length < OFF.size + 4) {
    fail(
      'truncated',
      `${blob.length} byte(s): the header starts with 8 bytes of flags, format and size`,
      blob.length,
      'size',
      base,
    );
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const size = view.getUint32(OFF.size, true);
  if (size < NESTED_STATE_HEADER_SIZE) {
    fail(
      'size',
      `size ${size} is smaller than the ${NESTED_STATE_HEADER_SIZE}-byte header`,
      OFF.size,
      'size',
      base,
    );
  }
  if (blob.length < NESTED_STATE_HEADER_SIZE) {
    fail(
      'truncated',
      `${blob.length} byte(s): the header is ${NESTED_STATE_HEADER_SIZE}`,
      blob.length,
      'hdr',
      base,
    );
  }
  if (blob.length < size) {
    fail(
      'truncated',
      `size says ${size} byte(s) but only ${blob.length} are there`,
      blob.length,
      'size',
      base,
    );
  }
  if (blob.length > size) {
    fail(
      'trailing-bytes',
      `${blob.length - size} byte(s) after the ${size} that size declares`,
      size,
      'size',
      base,
    );
  }
  const h = VMX_HEADER.decode(blob);
  const state = noNestedGuestState(h.format);
  state.flags = h.flags;
  state.format = h.format;
  state.size = size;
  if (h.format === KVM_STATE_NESTED_FORMAT_VMX) {
    if (h['hdr.vmx.pad'] !== 0)
      fail(
        'reserved',
        `hdr.vmx.pad is ${h['hdr.vmx.pad']}, must be 0`,
        OFF['hdr.vmx.pad'],
        'hdr.vmx.pad',
        base,
      );
    checkZero(blob, OFF.vmxHdrEnd, NESTED_STATE_HEADER_SIZE, 'hdr', base);
    state['hdr.vmx.vmxon_pa'] = h['hdr.vmx.vmxon_pa'];
    state['hdr.vmx.vmcs12_pa'] = h['hdr.vmx.vmcs12_pa'];
    state['hdr.vmx.smm.flags'] = h['hdr.vmx.smm.flags'];
    state['hdr.vmx.flags'] = h['hdr.vmx.flags'];
    state['hdr.vmx.preemption_timer_deadline'] = h['hdr.vmx.preemption_timer_deadline'];
    if (size >= VMX_SIZE_WITH_VMCS12)
      state['data.vmx[0].vmcs12'] = copyOf(blob, OFF['data.vmx[0].vmcs12'], VMX_SIZE_WITH_VMCS12);
    if (size >= VMX_SIZE_WITH_SHADOW) {
      state['data.vmx[0].shadow_vmcs12'] = copyOf(
        blob,
        OFF['data.vmx[0].shadow_vmcs12'],
        VMX_SIZE_WITH_SHADOW,
      );
    }
  } else if (h.format === KVM_STATE_NESTED_FORMAT_SVM) {
    // Linux 7.2-rc1 proposes an SVM `gpat` at offset 16; no released ABI puts anything there.
    checkZero(blob, OFF.svmHdrEnd, NESTED_STATE_HEADER_SIZE, 'hdr', base);
    state['hdr.svm.vmcb_pa'] = SVM_HEADER.decode(blob)['hdr.svm.vmcb_pa'];
    if (size >= SVM_SIZE_WITH_VMCB12)
      state['data.svm[0].vmcb12'] = copyOf(blob, OFF['data.svm[0].vmcb12'], SVM_SIZE_WITH_VMCB12);
  } else {
    fail('format', `format ${h.format} is neither VMX (0) nor SVM (1)`, OFF.format, 'format', base);
  }
  checkNestedState(state, base);
  return state;
}

/** A plain Uint8Array copy (Buffer#slice would share memory with the blob). */
function copyOf(blob: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(blob.subarray(from, to));
}

function checkZero(blob: Uint8Array, from: number, to: number, field: string, base: number): void {
  for (let i = from; i < to; i++) {
    if (blob[i] !== 0)
      fail(
        'reserved',
        `unused header byte ${i} is 0x${blob[i].toString(16)}, must be 0`,
        i,
        field,
        base,
      );
  }
}

/**
 * Writes the blob KVM_SET_NESTED_STATE takes (and KVM_GET_NESTED_STATE would have produced):
 * exactly `size` bytes. Rejects, with NestedStateError, every state parseNestedState rejects
 * and any value it could not have produced, so parse(build(s)) equals s whenever build succeeds.
 */
export function buildNestedState(state: NestedState): Uint8Array {
  checkTypes(state);
  checkNestedState(state);
  const out = new Uint8Array(state.size);
  const common = { flags: state.flags, format: state.format, size: state.size };
  if (state.format === KVM_STATE_NESTED_FORMAT_VMX) {
    VMX_HEADER.encode(
      {
        ...common,
        'hdr.vmx.vmxon_pa': state['hdr.vmx.vmxon_pa'],
        'hdr.vmx.vmcs12_pa': state['hdr.vmx.vmcs12_pa'],
        'hdr.vmx.smm.flags': state['hdr.vmx.smm.flags'],
        'hdr.vmx.flags': state['hdr.vmx.flags'],
        'hdr.vmx.preemption_timer_deadline': state['hdr.vmx.preemption_timer_deadline'],
      },
      out,
    );
    if (state.size >= VMX_SIZE_WITH_VMCS12)
      out.set(state['data.vmx[0].vmcs12'], OFF['data.vmx[0].vmcs12']);
    if (state.size >= VMX_SIZE_WITH_SHADOW)
      out.set(state['data.vmx[0].shadow_vmcs12'], OFF['data.vmx[0].shadow_vmcs12']);
  } else {
    SVM_HEADER.encode({ ...common, 'hdr.svm.vmcb_pa': state['hdr.svm.vmcb_pa'] }, out);
    if (state.size >= SVM_SIZE_WITH_VMCB12)
      out.set(state['data.svm[0].vmcb12'], OFF['data.svm[0].vmcb12']);
  }
  return out;
}

function checkTypes(state: NestedState): void {
  if (typeof state !== 'object' || state === null)
    fail('value', 'a NestedState must be an object', 0, 'flags', 0);
  const bad = (key: keyof NestedState, why: string): never =>
    fail('value', `${key}: ${why}`, OFF[key as keyof typeof OFF] ?? 0, key, 0);
  for (const k of U16_KEYS) {
    const v = state[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff)
      bad(k, `expected a u16 number, got ${String(v)}`);
  }
  for (const k of U32_KEYS) {
    const v = state[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
      bad(k, `expected a u32 number, got ${String(v)}`);
  }
  for (const k of U64_KEYS) {
    const v = state[k];
    if (typeof v !== 'bigint' || v < 0n || v > INVALID_GPA)
      bad(k, `expected a u64 bigint, got ${String(v)}`);
  }
  for (const k of PAGE_KEYS) {
    const v = state[k];
    if (!(v instanceof Uint8Array) || v.length !== PAGE_SIZE) {
      fail('page-size', `${k}: expected a Uint8Array of ${PAGE_SIZE} bytes`, OFF[k], k, 0);
    }
  }
}

const isZeroPage = (p: Uint8Array) => p.every((b) => b === 0);

/** PAGE_ALIGNED and below the widest MAXPHYADDR: what KVM's page_address_valid() can accept at best. */
function pageAddressValid(gpa: bigint): boolean {
  return (gpa & BigInt(PAGE_SIZE - 1)) === 0n && gpa >> BigInt(MAX_PHYS_ADDR_BITS) === 0n;
}

const hex = (v: number | bigint) => `0x${v.toString(16)}`;

/**
 * The consistency rules, shared by parse and build. Three kinds:
 *  - what KVM_SET_NESTED_STATE rejects without looking at vCPU state (x86.c, vmx_set_nested_state,
 *    svm_set_nested_state),
 *  - what KVM_GET_NESTED_STATE never produces and KVM_SET would silently drop (size not matching
 *    the data, flags that only mean something in guest mode),
 *  - what this record cannot carry (bytes of the other format, pages `size` leaves out).
 * Rules that need vCPU state (CPUID, EFER.SVME, is_smm, MAXPHYADDR, VMX capability MSRs) are not
 * expressible here.
 */
export function checkNestedState(s: NestedState, base = 0): void {
  if (s.size < NESTED_STATE_HEADER_SIZE) {
    fail(
      'size',
      `size ${s.size} is smaller than the ${NESTED_STATE_HEADER_SIZE}-byte header`,
      OFF.size,
      'size',
      base,
    );
  }
  if (s.format !== KVM_STATE_NESTED_FORMAT_VMX && s.format !== KVM_STATE_NESTED_FORMAT_SVM) {
    fail('format', `format ${s.format} is neither VMX (0) nor SVM (1)`, OFF.format, 'format', base);
  }
  if (s.flags & ~KVM_STATE_NESTED_KNOWN_FLAGS) {
    fail(
      'flags',
      `unknown flag bits ${hex(s.flags & ~KVM_STATE_NESTED_KNOWN_FLAGS)}`,
      OFF.flags,
      'flags',
      base,
    );
  }
  if (s.flags & KVM_STATE_NESTED_RUN_PENDING && !(s.flags & KVM_STATE_NESTED_GUEST_MODE)) {
    fail(
      'flags',
      'RUN_PENDING without GUEST_MODE (a pending entry implies guest mode)',
      OFF.flags,
      'flags',
      base,
    );
  }
  if (s.format === KVM_STATE_NESTED_FORMAT_VMX) checkVmx(s, base);
  else checkSvm(s, base);
}

function checkVmx(s: NestedState, base: number): void {
  const flags = s.flags;
  const guest = (flags & KVM_STATE_NESTED_GUEST_MODE) !== 0;
  const smm = s['hdr.vmx.smm.flags'];
  const vmxon = s['hdr.vmx.vmxon_pa'];
  const vmcs12pa = s['hdr.vmx.vmcs12_pa'];
  const vmxFlags = s['hdr.vmx.flags'];
  const deadline = s['hdr.vmx.preemption_timer_deadline'];

  if (flags & KVM_STATE_NESTED_GIF_SET)
    fail('flags', 'GIF_SET is an SVM flag; KVM never reports it for VMX', OFF.flags, 'flags', base);
  if (smm & ~(KVM_STATE_NESTED_SMM_GUEST_MODE | KVM_STATE_NESTED_SMM_VMXON)) {
    fail(
      'smm-flags',
      `unknown smm.flags bits ${hex(smm)}`,
      OFF['hdr.vmx.smm.flags'],
      'hdr.vmx.smm.flags',
      base,
    );
  }
  if (vmxFlags & ~KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE) {
    fail(
      'vmx-flags',
      `unknown hdr.vmx.flags bits ${hex(vmxFlags)}`,
      OFF['hdr.vmx.flags'],
      'hdr.vmx.flags',
      base,
    );
  }
  if (vmxon === INVALID_GPA) {
    if (smm)
      fail(
        'smm-flags',
        'SMM flags without VMX operation (vmxon_pa is -1)',
        OFF['hdr.vmx.smm.flags'],
        'hdr.vmx.smm.flags',
        base,
      );
    if (vmcs12pa !== INVALID_GPA) {
      fail(
        'address',
        'a current VMCS (vmcs12_pa) without VMX operation (vmxon_pa is -1)',
        OFF['hdr.vmx.vmcs12_pa'],
        'hdr.vmx.vmcs12_pa',
        base,
      );
    }
    if (flags & ~KVM_STATE_NESTED_EVMCS) {
      fail(
        'flags',
        `flags ${hex(flags)} without VMX operation (vmxon_pa is -1): only EVMCS is allowed`,
        OFF.flags,
        'flags',
        base,
      );
    }
    if (s.size !== VMX_SIZE_HEADER_ONLY) {
      fail(
        'size',
        `size ${s.size} carries a vmcs12 but vmxon_pa is -1 (not in VMX operation)`,
        OFF.size,
        'size',
        base,
      );
    }
  } else if (!pageAddressValid(vmxon)) {
    fail(
      'address',
      `vmxon_pa ${hex(vmxon)} is not a page-aligned guest-physical address`,
      OFF['hdr.vmx.vmxon_pa'],
      'hdr.vmx.vmxon_pa',
      base,
    );
  }
  if (smm & KVM_STATE_NESTED_SMM_GUEST_MODE && !(smm & KVM_STATE_NESTED_SMM_VMXON)) {
    fail(
      'smm-flags',
      'SMM_GUEST_MODE without SMM_VMXON',
      OFF['hdr.vmx.smm.flags'],
      'hdr.vmx.smm.flags',
      base,
    );
  }
  if (smm && flags & (KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_RUN_PENDING)) {
    fail(
      'smm-flags',
      'SMM flags with GUEST_MODE/RUN_PENDING (SMM leaves guest mode)',
      OFF['hdr.vmx.smm.flags'],
      'hdr.vmx.smm.flags',
      base,
    );
  }
  if (flags & KVM_STATE_NESTED_MTF_PENDING && !guest) {
    fail(
      'flags',
      'MTF_PENDING without GUEST_MODE (KVM only keeps it in guest mode)',
      OFF.flags,
      'flags',
      base,
    );
  }
  if (
    s.size !== VMX_SIZE_HEADER_ONLY &&
    s.size !== VMX_SIZE_WITH_VMCS12 &&
    s.size !== VMX_SIZE_WITH_SHADOW
  ) {
    fail(
      'size',
      `VMX size ${s.size} is none of ${VMX_SIZE_HEADER_ONLY}, ${VMX_SIZE_WITH_VMCS12}, ${VMX_SIZE_WITH_SHADOW}`,
      OFF.size,
      'size',
      base,
    );
  }

  const vmcs12 = s['data.vmx[0].vmcs12'];
  const shadow = s['data.vmx[0].shadow_vmcs12'];
  if (s.size === VMX_SIZE_HEADER_ONLY) {
    if (guest)
      fail(
        'size',
        `GUEST_MODE needs a vmcs12 but size ${s.size} carries none`,
        OFF.size,
        'size',
        base,
      );
    // Outside VMX operation KVM tolerates a stray EVMCS flag (old userspace set it to enable eVMCS).
    if (flags & KVM_STATE_NESTED_EVMCS && vmxon !== INVALID_GPA) {
      fail(
        'size',
        `EVMCS in VMX operation needs a vmcs12 but size ${s.size} carries none`,
        OFF.size,
        'size',
        base,
      );
    }
    if (vmcs12pa !== INVALID_GPA) {
      fail(
        'size',
        `vmcs12_pa ${hex(vmcs12pa)} names a current VMCS but size ${s.size} carries no vmcs12`,
        OFF['hdr.vmx.vmcs12_pa'],
        'hdr.vmx.vmcs12_pa',
        base,
      );
    }
    if (!isZeroPage(vmcs12))
      fail(
        'size',
        `data.vmx[0].vmcs12 has content but size ${s.size} leaves it out`,
        OFF.size,
        'data.vmx[0].vmcs12',
        base,
      );
  } else {
    if (vmcs12pa !== INVALID_GPA) {
      if (vmcs12pa === vmxon)
        fail(
          'address',
          'vmcs12_pa equals vmxon_pa',
          OFF['hdr.vmx.vmcs12_pa'],
          'hdr.vmx.vmcs12_pa',
          base,
        );
      if (!pageAddressValid(vmcs12pa)) {
        fail(
          'address',
          `vmcs12_pa ${hex(vmcs12pa)} is not a page-aligned guest-physical address`,
          OFF['hdr.vmx.vmcs12_pa'],
          'hdr.vmx.vmcs12_pa',
          base,
        );
      }
    } else if (!(flags & KVM_STATE_NESTED_EVMCS)) {
      fail(
        'size',
        `size ${s.size} carries a vmcs12 but there is no current VMCS (vmcs12_pa -1, no EVMCS)`,
        OFF['hdr.vmx.vmcs12_pa'],
        'hdr.vmx.vmcs12_pa',
        base,
      );
    }
    const rev = vmcs12Header(vmcs12).revision_id;
    if (rev !== VMCS12_REVISION) {
      fail(
        'vmcs12',
        `vmcs12 revision_id ${hex(rev)}, KVM requires ${hex(VMCS12_REVISION)}`,
        OFF['data.vmx[0].vmcs12'],
        'data.vmx[0].vmcs12 > revision_id',
        base,
      );
    }
  }

  const vmcs12Off = (field: string) =>
    OFF['data.vmx[0].vmcs12'] + VMCS12_LAYOUT.field(field).offset;
  // The shadow VMCS travels exactly when KVM_GET_NESTED_STATE adds it (guest mode, VMCS shadowing
  // on in vmcs12, a valid link pointer); KVM_SET insists on it then.
  const shadowActive =
    s.size >= VMX_SIZE_WITH_VMCS12 &&
    guest &&
    (vmcs12U32(vmcs12, 'cpu_based_vm_exec_control') & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) !==
      0 &&
    (vmcs12U32(vmcs12, 'secondary_vm_exec_control') & SECONDARY_EXEC_SHADOW_VMCS) !== 0 &&
    vmcs12U64(vmcs12, 'vmcs_link_pointer') !== INVALID_GPA;
  if (shadowActive && s.size !== VMX_SIZE_WITH_SHADOW) {
    fail(
      'size',
      `L2 uses VMCS shadowing (vmcs12 link pointer set) but size ${s.size} carries no shadow_vmcs12`,
      OFF.size,
      'size',
      base,
    );
  }
  if (!shadowActive && s.size === VMX_SIZE_WITH_SHADOW) {
    fail(
      'size',
      `size ${s.size} carries a shadow_vmcs12 but vmcs12 does not use VMCS shadowing in guest mode`,
      OFF.size,
      'size',
      base,
    );
  }
  if (s.size === VMX_SIZE_WITH_SHADOW) {
    const h = vmcs12Header(shadow);
    if (h.revision_id !== VMCS12_REVISION || !h.shadow_vmcs) {
      fail(
        'shadow-vmcs12',
        `shadow_vmcs12 header ${hex(h.revision_id)}/shadow=${h.shadow_vmcs}, KVM requires revision ${hex(VMCS12_REVISION)} with the shadow bit`,
        OFF['data.vmx[0].shadow_vmcs12'],
        'data.vmx[0].shadow_vmcs12 > revision_id',
        base,
      );
    }
  } else if (!isZeroPage(shadow)) {
    fail(
      'size',
      `data.vmx[0].shadow_vmcs12 has content but size ${s.size} leaves it out`,
      OFF.size,
      'data.vmx[0].shadow_vmcs12',
      base,
    );
  }

  if (vmxFlags & KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE) {
    if (!guest) {
      fail(
        'vmx-flags',
        'a preemption-timer deadline outside guest mode (KVM only keeps it for L2)',
        OFF['hdr.vmx.flags'],
        'hdr.vmx.flags',
        base,
      );
    }
    if (!(vmcs12U32(vmcs12, 'pin_based_vm_exec_control') & PIN_BASED_VMX_PREEMPTION_TIMER)) {
      fail(
        'vmx-flags',
        'a preemption-timer deadline but vmcs12 does not activate the VMX-preemption timer',
        vmcs12Off('pin_based_vm_exec_control'),
        'hdr.vmx.flags',
        base,
      );
    }
  } else if (deadline !== 0n) {
    fail(
      'vmx-flags',
      `preemption_timer_deadline ${deadline} without KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE`,
      OFF['hdr.vmx.preemption_timer_deadline'],
      'hdr.vmx.preemption_timer_deadline',
      base,
    );
  }

  if (s['hdr.svm.vmcb_pa'] !== 0n)
    fail(
      'value',
      'hdr.svm.vmcb_pa is set in a VMX state',
      OFF['hdr.svm.vmcb_pa'],
      'hdr.svm.vmcb_pa',
      base,
    );
  if (!isZeroPage(s['data.svm[0].vmcb12']))
    fail(
      'value',
      'data.svm[0].vmcb12 has content in a VMX state',
      OFF.data,
      'data.svm[0].vmcb12',
      base,
    );
}

function checkSvm(s: NestedState, base: number): void {
  const flags = s.flags;
  const guest = (flags & KVM_STATE_NESTED_GUEST_MODE) !== 0;
  const vmcbPa = s['hdr.svm.vmcb_pa'];
  if (flags & (KVM_STATE_NESTED_EVMCS | KVM_STATE_NESTED_MTF_PENDING)) {
    fail(
      'flags',
      `flags ${hex(flags)}: EVMCS and MTF_PENDING are VMX flags`,
      OFF.flags,
      'flags',
      base,
    );
  }
  if (s.size !== SVM_SIZE_HEADER_ONLY && s.size !== SVM_SIZE_WITH_VMCB12) {
    fail(
      'size',
      `SVM size ${s.size} is neither ${SVM_SIZE_HEADER_ONLY} nor ${SVM_SIZE_WITH_VMCB12}`,
      OFF.size,
      'size',
      base,
    );
  }
  if (guest && s.size !== SVM_SIZE_WITH_VMCB12)
    fail(
      'size',
      `GUEST_MODE needs the vmcb12 but size ${s.size} carries none`,
      OFF.size,
      'size',
      base,
    );
  if (!guest && s.size !== SVM_SIZE_HEADER_ONLY) {
    fail(
      'size',
      `size ${s.size} carries a vmcb12 outside guest mode (KVM only exports it in L2)`,
      OFF.size,
      'size',
      base,
    );
  }
  const vmcb = s['data.svm[0].vmcb12'];
  if (!guest) {
    if (vmcbPa !== 0n)
      fail(
        'address',
        `vmcb_pa ${hex(vmcbPa)} outside guest mode (KVM reports 0)`,
        OFF['hdr.svm.vmcb_pa'],
        'hdr.svm.vmcb_pa',
        base,
      );
    if (!isZeroPage(vmcb))
      fail(
        'size',
        `data.svm[0].vmcb12 has content but size ${s.size} leaves it out`,
        OFF.size,
        'data.svm[0].vmcb12',
        base,
      );
  } else {
    if (!pageAddressValid(vmcbPa)) {
      fail(
        'address',
        `vmcb_pa ${hex(vmcbPa)} is not a page-aligned guest-physical address`,
        OFF['hdr.svm.vmcb_pa'],
        'hdr.svm.vmcb_pa',
        base,
      );
    }
    checkVmcb12(vmcb, base);
  }
  const vmxKeysClear =
    s['hdr.vmx.vmxon_pa'] === 0n &&
    s['hdr.vmx.vmcs12_pa'] === 0n &&
    s['hdr.vmx.smm.flags'] === 0 &&
    s['hdr.vmx.flags'] === 0 &&
    s['hdr.vmx.preemption_timer_deadline'] === 0n;
  if (!vmxKeysClear) fail('value', 'hdr.vmx.* is set in an SVM state', OFF.hdr, 'hdr.vmx', base);
  if (!isZeroPage(s['data.vmx[0].vmcs12']) || !isZeroPage(s['data.vmx[0].shadow_vmcs12'])) {
    fail('value', 'data.vmx[0] has content in an SVM state', OFF.data, 'data.vmx[0]', base);
  }
}

/** svm_set_nested_state's checks of the vmcb12 control area and of L1's saved state. */
function checkVmcb12(vmcb: Uint8Array, base: number): void {
  const off = (field: string) => OFF['data.svm[0].vmcb12'] + VMCB_LAYOUT.field(field).offset;
  const bad = (field: string, why: string): never =>
    fail('vmcb12', why, off(field), `data.svm[0].vmcb12 > ${field}`, base);
  if (!(vmcbU32(vmcb, 'control.intercept_word4') & SVM_INTERCEPT_WORD4_VMRUN))
    bad('control.intercept_word4', 'L1 must intercept VMRUN');
  if (vmcbU32(vmcb, 'control.asid') === 0) bad('control.asid', 'ASID 0 is the host');
  const efer = vmcbU64(vmcb, 'save.efer');
  if (!(efer & EFER_SVME)) bad('save.efer', `saved EFER ${hex(efer)} lacks SVME`);
  const cr0 = vmcbU64(vmcb, 'save.cr0');
  if (!(cr0 & X86_CR0_PG) || !(cr0 & X86_CR0_PE))
    bad('save.cr0', `saved CR0 ${hex(cr0)} lacks PG or PE (VMRUN needs paging)`);
  if (cr0 >> 32n) bad('save.cr0', `saved CR0 ${hex(cr0)} has bits above 31`);
  if (!(cr0 & X86_CR0_CD) && cr0 & X86_CR0_NW)
    bad('save.cr0', `saved CR0 ${hex(cr0)} has NW without CD`);
  const rflags = vmcbU64(vmcb, 'save.rflags');
  if (rflags & X86_EFLAGS_VM) bad('save.rflags', `saved RFLAGS ${hex(rflags)} has VM set`);
  for (const dr of ['save.dr6', 'save.dr7'] as const) {
    const v = vmcbU64(vmcb, dr);
    if (v >> 32n) bad(dr, `saved ${dr.slice(5).toUpperCase()} ${hex(v)} has bits above 31`);
  }
}
