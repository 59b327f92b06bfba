/** The PC speaker (hw/audio/pcspk.c, QOM isa-pcspk). */
import { f, vmsd } from '../../src/dsl-kit';
import { propOn } from './machine-ctx';

export const pcspk = vmsd({
  name: 'pcspk',
  version_id: 1,
  minimum_version_id: 1,
  // A top-level needed(): the whole section is left out when the property "migrate" is off (pc_compat_2_7: pc-*-2.7 and older).
  needed: (_s, ctx) => propOn(ctx, 'isa-pcspk.migrate', true),
  fields: [f.u8('data_on'), f.u8('dummy_refresh_clock')],
});
