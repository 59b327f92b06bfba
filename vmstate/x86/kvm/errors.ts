import { VMStateError } from '../../../src/errors';

/**
 * Which consistency rule a nested-state blob (or a NestedState value) broke. Stable strings,
 * so tests and the CLI can tell rejections apart without reading messages.
 */
export type NestedStateRule =
  | 'truncated' // the bytes end before the header or before `size`
  | 'trailing-bytes' // bytes after `size`
  | 'size' // `size` disagrees with the header/flags/data it should describe
  | 'format' // neither VMX nor SVM
  | 'flags' // unknown or contradictory KVM_STATE_NESTED_* bits
  | 'smm-flags' // hdr.vmx.smm.flags unknown or contradictory
  | 'vmx-flags' // hdr.vmx.flags / preemption timer deadline
  | 'address' // a guest-physical address KVM would refuse
  | 'reserved' // padding / unused header bytes that must be zero
  | 'vmcs12' // vmcs12 page contents KVM_SET_NESTED_STATE refuses
  | 'shadow-vmcs12' // shadow vmcs12 page contents KVM_SET_NESTED_STATE refuses
  | 'vmcb12' // vmcb12 page contents KVM_SET_NESTED_STATE refuses
  | 'value' // a NestedState value of the wrong type or range (building only)
  | 'page-size'; // a 4 KiB page that is not 4096 bytes

/** A KVM nested-state blob or value that the kernel ABI does not allow. */
export class NestedStateError extends VMStateError {
  override readonly code = 'nested-state';
  constructor(
    readonly rule: NestedStateRule,
    what: string,
    offset: number,
    path: string,
  ) {
    super(what, offset, path);
  }
}
