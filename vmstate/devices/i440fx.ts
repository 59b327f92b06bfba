/** The i440FX host bridge's PCI function 00:00.0 (hw/pci-host/i440fx.c, QOM i440FX). */
import { f, vmsd } from '../../src/dsl-kit';
import { pciDevice } from './pci';

export const i440fx = vmsd({
  name: 'I440FX',
  version_id: 3,
  minimum_version_id: 3,
  fields: [
    f.struct('parent_obj', pciDevice),
    f.unused(1), // was smm_enabled; SMRAM now lives in the CPU's state
  ],
});
