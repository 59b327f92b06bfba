/** Whether the firmware already patched the ACPI tables QEMU built (hw/i386/acpi-build.c; registered by the machine). */
import { f, vmsd } from '../../src/dsl-kit';

export const acpiBuild = vmsd({
  name: 'acpi_build',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u8('patched')],
});
