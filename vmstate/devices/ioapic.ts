/** The I/O APIC (hw/intc/ioapic_common.c, QOM ioapic). */
import { f, k, vmsd } from '../../src/dsl-kit';

/** IOAPIC_NUM_PINS: redirection table entries. */
const IOAPIC_NUM_PINS = 24;

export const ioapic = vmsd({
  name: 'ioapic',
  version_id: 3,
  minimum_version_id: 1,
  fields: [
    f.u8('id'),
    f.u8('ioregsel'),
    f.unused(8, { version: 2 }), // qemu-kvm's version-2 layout had 8 more bytes here
    f.u32('irr', { version: 2 }),
    f.array('ioredtbl', k.u64, IOAPIC_NUM_PINS),
  ],
});
