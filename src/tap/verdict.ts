import type { DeviceSection } from '../stream/section';

/** Why the destination release would refuse what just passed, and where. */
export interface Refusal {
  /** Offset of the record that would be refused (its first byte never reaches the destination with --abort-on-refusal). */
  offset: number;
  /** `idstr#instance`, or 'configuration'. */
  where: string;
  reason: string;
}

export type SectionVerdict =
  | { verdict: 'ok' }
  | { verdict: 'refused'; reason: string }
  /** The checker has no description for it (not modelled): neither accepted nor refused. */
  | { verdict: 'unchecked'; reason: string };

/**
 * What a destination release would do with each part of a stream, asked as the stream passes.
 * `vmstate tap --check RELEASE` uses the catalog's descriptions (vmstate/tap-verdict.ts); a
 * `vmstate predict` loader plugs in through the same interface.
 */
export interface MigrationCheck {
  /** The release the verdict is about, as shown ("7.2"). */
  readonly release: string;
  /** The configuration section's machine type (undefined: the stream has none). */
  configuration(machineType: string | undefined): SectionVerdict;
  /** A device section as read (FULL/START; header, raw body). */
  section(section: DeviceSection): SectionVerdict;
}
