/** The Q35 memory controller hub's PCI function 00:00.0 (hw/pci-host/q35.c, QOM mch). */
import { f, vmsd } from '../../src/dsl-kit';
import { pciDevice } from './pci';

export const mch = vmsd({
  name: 'mch',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.struct('parent_obj', pciDevice),
    f.unused(1), // was smm_enabled; SMRAM now lives in the CPU's state
  ],
});
