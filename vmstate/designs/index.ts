/**
 * Design alternatives for carrying KVM nested state, each packaged like a release (the 7.2
 * subsection list, `next`'s machine types) so compatibility tools can compare them with real
 * releases and with each other:
 *  - `blob`: the whole kernel struct as one opaque buffer (the first 2018 patch);
 *  - `subsections`: the accepted design (QEMU 4.1+'s tree, with `next`'s preemption-timer child);
 *  - `unversioned-append`: new fields appended to an existing subsection without any version
 *    change (deliberately wrong).
 */
import { defineRelease } from '../releases/release';
import { NEXT_PC_COMPAT_7_2 } from '../releases/list/next';
import type { Release } from '../releases/types';
import { subsectionsDesign } from '../x86/nested';
import { blobDesign } from './blob';
import { unversionedAppendDesign } from './unversioned-append';

const list: Release[] = [
  defineRelease({
    version: 'next',
    follows: '7.2',
    name: 'blob',
    summary:
      'whole struct kvm_nested_state as one opaque buffer (u32 length + bytes) in cpu/nested_state',
    nested: blobDesign,
  }),
  defineRelease({
    version: 'next',
    follows: '7.2',
    name: 'subsections',
    summary:
      'the accepted design: per-format subsections, one per 4 KiB page, new fields in new flag-gated subsections',
    nested: subsectionsDesign({ svm: true, preemptionTimer: true }, 'subsections'),
    extraCompat: { '7.2': NEXT_PC_COMPAT_7_2 },
  }),
  defineRelease({
    version: 'next',
    follows: '7.2',
    name: 'unversioned-append',
    summary:
      'deliberately wrong: hdr.vmx.flags + deadline appended to cpu/kvm_nested_state/vmx, still version 1',
    nested: unversionedAppendDesign,
  }),
];

export const designs: Readonly<Record<string, Release>> = Object.fromEntries(
  list.map((r) => [r.name, r]),
);
export const DESIGN_NAMES: readonly string[] = list.map((r) => r.name);
