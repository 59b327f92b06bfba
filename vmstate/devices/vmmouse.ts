/** VMware's absolute-pointer backdoor mouse (hw/i386/vmmouse.c, QOM vmmouse). */
import { f, k, vmsd } from '../../src/dsl-kit';
import { int32Equal } from './kinds';

/** VMMOUSE_QUEUE_SIZE: the event queue, in 32-bit words. */
const VMMOUSE_QUEUE_SIZE = 1024;

export const vmmouse = vmsd({
  name: 'vmmouse',
  version_id: 0,
  minimum_version_id: 0,
  fields: [
    f.field('queue_size', int32Equal(VMMOUSE_QUEUE_SIZE)),
    f.array('queue', k.u32, VMMOUSE_QUEUE_SIZE),
    f.u16('nb_queue'),
    f.u16('status'),
    f.u8('absolute'),
  ],
});
