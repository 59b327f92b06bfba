/** The two cascaded 8237 DMA controllers, sections "dma" #0 (8-bit) and #1 (16-bit) (hw/dma/i8257.c, QOM i8257). */
import { f, k, vmsd } from '../../src/dsl-kit';

const channel = vmsd({
  name: 'dma_regs',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.array('now', k.i32, 2),
    f.array('base', k.u16, 2),
    f.u8('mode'),
    f.u8('page'),
    f.u8('pageh'),
    f.u8('dack'),
    f.u8('eop'),
  ],
});

export const i8257 = vmsd({
  name: 'dma',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u8('command'),
    f.u8('mask'),
    f.u8('flip_flop'),
    f.i32('dshift'),
    f.structArray('regs', channel, 4, { version: 1 }),
  ],
});
