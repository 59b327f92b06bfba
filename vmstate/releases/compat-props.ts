/** Shorthands for writing pc_compat arrays as QEMU's hw/i386/pc.c spells them. */
import { X86_CPU_TYPE, X86_MACHINE_CLASS } from '../x86/ctx';
import type { CompatProp } from './types';

export const prop = (driver: string, property: string, value: string): CompatProp => ({
  driver,
  property,
  value,
});
/** `{ TYPE_X86_CPU, property, value }`: every CPU model. */
export const cpu = (property: string, value: string) => prop(X86_CPU_TYPE, property, value);
/** `{ "<model>-" TYPE_X86_CPU, property, value }`: one CPU model. */
export const model = (name: string, property: string, value: string) =>
  prop(`${name}-${X86_CPU_TYPE}`, property, value);
/** An X86MachineClass field an old machine type's options set (not a QOM property). */
export const machineClass = (field: string, value: string) => prop(X86_MACHINE_CLASS, field, value);
/** PC_CPU_MODEL_IDS(v): the model-id strings of qemu32/qemu64/athlon up to QEMU 2.4. */
export const modelIds = (v: string) =>
  ['qemu32', 'qemu64', 'athlon'].map((m) => model(m, 'model-id', `QEMU Virtual CPU version ${v}`));
