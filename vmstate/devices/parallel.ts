/** The ISA parallel port (hw/char/parallel.c, QOM isa-parallel), one of the default devices. */
import { f, vmsd } from '../../src/dsl-kit';

export const parallelIsa = vmsd({
  name: 'parallel_isa',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u8('state.dataw'),
    f.u8('state.datar'),
    f.u8('state.status'),
    f.u8('state.control'),
    f.i32('state.irq_pending'),
    f.i32('state.epp_timeout'),
  ],
});
