/**
 * "cpu_common" (cpu.c, vmstate_cpu_common): the target-independent part of each vCPU, one
 * section per vCPU with instance id = cpu_index.
 */
import { f, k, vmsd } from '../../src/dsl-kit';
import { isTcg } from './machine-ctx';
import { withInitial } from './kinds';

const exceptionIndex = vmsd({
  name: 'cpu_common/exception_index',
  version_id: 1,
  minimum_version_id: 1,
  // -1 means no exception pending; only TCG keeps one across a stop.
  needed: (s, ctx) => isTcg(ctx) && s.exception_index !== -1,
  fields: [f.field('exception_index', withInitial(k.i32, -1))],
});

const crashOccurred = vmsd({
  name: 'cpu_common/crash_occurred',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.crash_occurred === true,
  fields: [f.bool('crash_occurred')],
});

export const cpuCommon = vmsd({
  name: 'cpu_common',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u32('halted'), f.u32('interrupt_request')],
  subsections: [exceptionIndex, crashOccurred],
});
