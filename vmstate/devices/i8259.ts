/** The two cascaded 8259 interrupt controllers, sections "i8259" #0 and #1 (hw/intc/i8259_common.c, QOM isa-i8259). */
import { f, vmsd } from '../../src';

export const i8259 = vmsd({
  name: 'i8259',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u8('last_irr'),
    f.u8('irr'),
    f.u8('imr'),
    f.u8('isr'),
    f.u8('priority_add'),
    f.u8('irq_base'),
    f.u8('read_reg_select'),
    f.u8('poll'),
    f.u8('special_mask'),
    f.u8('init_state'),
    f.u8('auto_eoi'),
    f.u8('rotate_on_auto_eoi'),
    f.u8('special_fully_nested_mode'),
    f.u8('init4'),
    f.u8('single_mode'),
    f.u8('elcr'),
  ],
});
