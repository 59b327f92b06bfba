/**
 * The release index: one line per release, oldest first (real and simulated alike). Each file
 * is the whole declaration of its release (see ../spec.ts).
 */
import type { ReleaseSpec } from '../spec';
import r3_0 from './3.0';
import r3_1 from './3.1';
import r4_0 from './4.0';
import r4_1 from './4.1';
import r5_0 from './5.0';
import r5_1 from './5.1';
import r5_2 from './5.2';
import r7_2 from './7.2';
import r10_0 from './10.0';
import next from './next';

export const RELEASE_SPECS: readonly ReleaseSpec[] = [
  r3_0,
  r3_1,
  r4_0,
  r4_1,
  r5_0,
  r5_1,
  r5_2,
  r7_2,
  r10_0,
  next,
];
