import type { DeviceSection } from '../stream/section';

/**
 * A platform's own reading of a decoded section, beside its fields (the x86 cpu's KVM nested
 * state with its vmcs12 pages by name): given to the formatters, which know no device.
 */
export interface SectionView {
  /** The key the JSON output puts it under ("nested"). */
  readonly key: string;
  /** A JSON-safe value, or undefined when this section has nothing for this view. */
  json(section: DeviceSection): unknown;
  /** Lines for the tree outline (empty when nothing), each starting with `indent`. */
  lines(section: DeviceSection, indent: string): string[];
}
