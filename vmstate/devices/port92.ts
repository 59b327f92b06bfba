/** System control port A, 0x92 (hw/i386/port92.c, QOM port92): fast A20 and reset. */
import { f, vmsd } from '../../src/dsl-kit';

export const port92 = vmsd({
  name: 'port92',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u8('outport')],
});
