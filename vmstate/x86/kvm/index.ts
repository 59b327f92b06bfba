/** Linux KVM nested virtualization state (KVM_GET/SET_NESTED_STATE) and its 4 KiB pages. */
export * from './constants';
export * from './errors';
export * from './nested-state';
export * from './needed';
export * from './vmcs12';
export * from './vmcb';
export * from './describe';
export { FixedLayout } from './layout';
