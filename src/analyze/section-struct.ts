import type { DeviceSection } from '../stream/section';
import { isDescStruct, type DescStruct } from '../stream/vmdesc-value';

/**
 * The section's fields with their places (types, offsets, sizes), when a VM description decoded
 * it: the stream's own, or the one the catalog gives a stream without one (catalog-vmdesc.ts).
 */
export function sectionStruct(s: DeviceSection): DescStruct | undefined {
  return isDescStruct(s.value) ? s.value : undefined;
}
