/** The x86 `cpu` section across simulated releases, its nested-state trees, host context and scenarios. */
export {
  cpu,
  buildCpuDescription,
  cpuSubsectionNames,
  cpuPreSave,
  cpuPostLoad,
  vmxMaybeEnabled,
  CPU_SUBSECTION_CATALOG,
  NESTED_7_2,
  cpuEverythingDescription,
} from './cpu';
export type { CpuFeatures, CpuState } from './cpu';
export { cpuResetState } from './reset';
export { scenarios, scenario, SCENARIO_NAMES, type Scenario, type VmState } from './scenarios';
export {
  subsectionsDesign,
  subsectionsTree,
  nestedStateSubsection,
  kvmNestedStateDescription,
  vmxSubsection,
  vmxHeaderFields,
  vmcs12Subsection,
  shadowVmcs12Subsection,
  preemptionTimerSubsection,
  svmSubsection,
  kvmNestedStateFull,
  nestedStateNeeded,
  checkReceivedNestedState,
  checkNestedBufferAllocated,
  PREEMPTION_TIMER_PROP,
  type NestedDesign,
  type NestedTreeOptions,
} from './nested';
export {
  cpuProp,
  propOn,
  isKvm,
  isTcg,
  cpuHas,
  maxNestedStateLength,
  nestedStateAllocated,
  X86_CPU_TYPE,
  X86_MACHINE_CLASS,
} from './ctx';
export type { X86Ctx, X86CpuModel, KvmCaps } from './ctx';
export { compareVersions, atLeast, type QemuVersion } from './versions';
