/** The PIIX3 PCI-to-ISA bridge 00:01.0 on pc (hw/isa/piix3.c, QOM PIIX3). */
import { f, k, vmsd } from '../../src/dsl-kit';
import { pciDevice } from './pci';

/** PIIX_NUM_PIRQS: the four PCI interrupt lines PIRQA..D the bridge routes to ISA IRQs. */
const PIIX_NUM_PIRQS = 4;

const resetControl = vmsd({
  name: 'PIIX3/rcr',
  version_id: 1,
  minimum_version_id: 1,
  // The reset control register (port 0xcf9), sent only once the guest wrote it.
  needed: (s) => s.rcr !== 0,
  fields: [f.u8('rcr')],
});

export const piix3 = vmsd({
  name: 'PIIX3',
  version_id: 3,
  minimum_version_id: 2,
  fields: [
    f.struct('dev', pciDevice),
    f.array('pci_irq_levels_vmstate', k.i32, PIIX_NUM_PIRQS, { version: 3 }),
  ],
  subsections: [resetControl],
});
