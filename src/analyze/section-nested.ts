import type { DeviceSection } from '../stream/section';
import type { NestedStateReport } from '../../vmstate/x86/kvm';
import { sectionStruct } from './catalog-hook';
import { nestedStateReport } from './nested-view';

/**
 * The cpu section's nested-state report, read from the section's layout when the catalog gave
 * one (a catalog state always holds an env.nested_state object, sent or not; the layout has
 * the subsection only when the stream carried it).
 */
export function sectionNestedReport(s: DeviceSection): NestedStateReport | undefined {
  const st = sectionStruct(s);
  return nestedStateReport(st && st !== s.value ? { ...s, value: st } : s);
}
