/** Every pc_compat array the release files declare, composed once (see machines.ts). */
import { RELEASE_SPECS } from './list';
import { compatTable } from './machines';

export const PC_COMPAT = compatTable(RELEASE_SPECS);
