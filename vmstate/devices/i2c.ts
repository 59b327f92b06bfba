/** An I2C bus's last addressed slave (hw/i2c/core.c, vmstate_i2c_bus; registered per bus, not per QOM type). */
import { f, vmsd } from '../../src/dsl-kit';

export const i2cBus = vmsd({
  name: 'i2c_bus',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u8('saved_address')],
});
