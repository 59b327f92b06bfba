/**
 * virtio-serial (hw/char/virtio-serial-bus.c, QOM virtio-serial-device behind virtio-serial-pci;
 * its section is named "virtio-console"), version 3 in 5.2, 7.2 and 10.0: vdc->save writes the
 * console config, the ports bitmap, then each port's state.
 */
import { f, k, RangeCheckError, vmsd } from '../../src/dsl-kit';
import { virtioDevice, virtqueueElement } from './virtio';

/** VIRTIO_QUEUE_MAX / 2 - 1: the most ports a device can have, so the most bitmap words. */
const MAX_PORTS = 511;

/** One port: id, connection flags and, when the port holds a popped element, where it stopped. */
const port = vmsd({
  name: 'virtio-serial-port',
  version_id: 1,
  fields: [
    f.u32('id'),
    f.u8('guest_connected'),
    f.u8('host_connected'),
    f.u32('elem_popped'),
    f.u32('iov_idx', { exists: (s) => s.elem_popped !== 0 }),
    f.u64('iov_offset', { exists: (s) => s.elem_popped !== 0 }),
    f.struct('elem', virtqueueElement, { exists: (s) => s.elem_popped !== 0 }),
  ],
});

interface PortsBitmap {
  max_nr_ports: number;
  /** ports_map: DIV_ROUND_UP(max_nr_ports, 32) words. */
  ports_map: number[];
}

/**
 * config.max_nr_ports and the ports bitmap after it, whose word count it gives (the receiver
 * counts from its own max_virtserial_ports, which is what the source's config states).
 */
const portsBitmap = k.custom<PortsBitmap>({
  type: 'ports_map',
  minWireSize: 4,
  check: (v) => {
    const s = v as PortsBitmap;
    return s &&
      Number.isInteger(s.max_nr_ports) &&
      s.max_nr_ports >= 0 &&
      s.max_nr_ports <= MAX_PORTS &&
      Array.isArray(s.ports_map) &&
      s.ports_map.length === Math.ceil(s.max_nr_ports / 32)
      ? undefined
      : `expected {max_nr_ports <= ${MAX_PORTS}, ports_map: one word per 32 ports}`;
  },
  write: (w, v) => {
    w.u32(v.max_nr_ports);
    for (const word of v.ports_map) w.u32(word);
  },
  read: (r, io) => {
    const at = r.offset;
    const max_nr_ports = r.u32();
    if (max_nr_ports > MAX_PORTS)
      io.fail((_, p) => new RangeCheckError(max_nr_ports, MAX_PORTS, at, p));
    const ports_map: number[] = [];
    for (let i = 0; i < Math.ceil(max_nr_ports / 32); i++) ports_map.push(r.u32());
    return { max_nr_ports, ports_map };
  },
  initial: () => ({ max_nr_ports: 0, ports_map: [] }),
  arbitrary: (fc) => fc.constant({ max_nr_ports: 0, ports_map: [] }),
});

/** virtio_serial_save_device. */
export const virtioSerialSave = vmsd({
  name: 'virtio-serial-device',
  version_id: 3,
  fields: [
    f.u16('config.cols'),
    f.u16('config.rows'),
    f.field('config.max_nr_ports', portsBitmap),
    f.u32('nr_active_ports'),
    f.varray('ports', k.struct(port), { count: 'nr_active_ports', max: MAX_PORTS }),
  ],
});

export const virtioSerial = virtioDevice('virtio-console', 3, { save: virtioSerialSave });
