/**
 * Failures of a simulated destination QEMU that happen around the device state rather than
 * inside it (the engine's own errors cover what goes wrong within a section body). Each is a
 * VMStateError, so a migration that meets one is cleanly refused, as QEMU's loadvm would be.
 */
import { VMStateError } from '../errors';

/** QEMU: "Unknown savevm section or instance '%s' %d. Make sure that your current VM setup matches your saved VM setup". */
export class UnknownSectionError extends VMStateError {
  override readonly code = 'unknown-section';
  constructor(
    readonly idstr: string,
    readonly instance: number,
    offset: number,
  ) {
    super(
      `unknown savevm section or instance '${idstr}' ${instance}`,
      offset,
      `${idstr}#${instance}`,
    );
  }
}

/** QEMU: "Missing section footer for %s" / "Mismatched section id in footer for %s". */
export class SectionFooterError extends VMStateError {
  override readonly code = 'section-footer';
  constructor(what: string, offset: number, path: string) {
    super(what, offset, path);
  }
}

/** QEMU's configuration check: "Machine type received is '%s' and local is '%s'". */
export class MachineTypeMismatchError extends VMStateError {
  override readonly code = 'machine-type-mismatch';
  constructor(
    readonly received: string,
    readonly local: string,
    offset: number,
  ) {
    super(
      `machine type received is '${received}' and local is '${local}'`,
      offset,
      'configuration',
    );
  }
}
