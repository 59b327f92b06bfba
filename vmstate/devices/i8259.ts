/** The two cascaded 8259 interrupt controllers, sections "i8259" #0 and #1 (hw/intc/i8259_common.c, QOM isa-i8259). */
import { f, vmsd } from '../../src/dsl-kit';

const registers = [
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
];

export const i8259 = vmsd({
  name: 'i8259',
  version_id: 1,
  minimum_version_id: 1,
  fields: registers,
});

/** ICW1.LTIM, level-triggered mode of the whole chip: sent only when set. */
const ltim = vmsd({
  name: 'i8259/ltim',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.ltim !== 0,
  fields: [f.u8('ltim')],
});

/** After 7.2 (10.0 has it): the i8259/ltim subsection, needed by ltim_state_needed. */
export const i8259WithLtim = vmsd({
  name: 'i8259',
  version_id: 1,
  minimum_version_id: 1,
  fields: registers,
  subsections: [ltim],
});
