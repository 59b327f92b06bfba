/**
 * The 7.2 catalog's registry (lookup by idstr, per-machine and per-configuration catalogs, the
 * stream resolver, legacy sections) and how its descriptions treat hostile bytes.
 */
import {
  ByteReader,
  ByteWriter,
  EqualMismatchError,
  InvalidValueError,
  TruncatedError,
  ValidationError,
  load,
  save,
  type State,
} from '../src';
import {
  CATALOG_7_2,
  catalogFor,
  catalogResolver,
  loadSection,
  saveSection,
  sectionName,
} from '../vmstate/catalog-7.2';
import { checkStreamWithCatalog, type StreamCheck } from './support/catalog-check';
import { readStream } from './fixtures/qemu-streams';

const pc = CATALOG_7_2.pc;
const q35 = CATALOG_7_2.q35;

const checked = new Map<string, Promise<StreamCheck>>();
/** A real section's state, decoded from the fixture stream. */
async function realState(
  idstr: string,
  stream: 'pc-nodefaults-paused' | 'q35-nodefaults-paused' = 'pc-nodefaults-paused',
) {
  if (!checked.has(stream)) checked.set(stream, checkStreamWithCatalog(readStream(stream)));
  const c = await checked.get(stream)!;
  const x = c.checks.find((s) => s.idstr === idstr)!;
  return { state: x.state as State, check: x, catalog: c.catalog };
}

describe('lookup', () => {
  it('accepts idstrs with and without the qdev path', () => {
    expect(pc.lookup('0000:00:01.1/ide')?.name).toBe('ide');
    expect(pc.lookup('ide')?.name).toBe('ide');
    expect(q35.lookup('0000:00:1f.2/ich9_ahci')?.qomType).toBe('ich9-ahci');
    // The same device at another slot (e.g. a second e1000 plugged with -device) is found too.
    expect(q35.lookup('0000:00:05.0/e1000')?.desc.name).toBe('e1000');
    expect(sectionName('0000:00:1f.2/ich9_ahci')).toBe('ich9_ahci');
    expect(sectionName('dma')).toBe('dma');
  });

  it('knows nothing of sections it does not describe', () => {
    expect(pc.lookup('ram')).toBeUndefined();
    expect(pc.lookup('0000:00:04.0/virtio-gpu')).toBeUndefined();
    expect(pc.lookup('0000:00:04.0/virtio-net')?.qomType).toBe('virtio-net-device');
    expect(pc.lookup('')).toBeUndefined();
  });

  it('picks the catalog by machine type', () => {
    expect(catalogFor('pc-i440fx-7.2')).toBe(pc);
    expect(catalogFor('pc')).toBe(pc);
    expect(catalogFor('pc-q35-7.2')).toBe(q35);
    expect(catalogFor('q35')).toBe(q35);
    expect(catalogFor(undefined)).toBe(pc);
  });

  it('gives PCIBUS the IRQ count of the machine (4 PIRQs on PIIX3, 8 on ICH9)', () => {
    const bytes = (n: number) => {
      const w = new ByteWriter();
      w.i32(n);
      for (let i = 0; i < n; i++) w.i32(0);
      return w.finish();
    };
    expect(load(pc.lookup('PCIBUS')!.desc, bytes(4), 1)).toEqual({
      nirq: 4,
      irq_count: [0, 0, 0, 0],
    });
    expect(() => load(pc.lookup('PCIBUS')!.desc, bytes(8), 1)).toThrow(EqualMismatchError);
    expect(load(q35.lookup('PCIBUS')!.desc, bytes(8), 1).irq_count).toHaveLength(8);
  });

  it('sizes the ACPI hotplug tables by -m slots and -smp maxcpus', async () => {
    const slots = catalogFor('pc', { memorySlots: 2, maxCpus: 3 });
    expect(slots).not.toBe(pc);
    // The default stream has no DIMM slots: with two, the catalog expects two more entries and runs out of bytes.
    const { check } = await realState('0000:00:01.3/piix4_pm');
    expect(check.consumed).toBe(check.bodyLength);
    const c = await checkStreamWithCatalog(readStream('pc-nodefaults-paused'), {
      config: { memorySlots: 2 },
    });
    const pm = c.checks.find((x) => x.idstr === '0000:00:01.3/piix4_pm')!;
    expect(pm.error).toMatch(/^TruncatedError/);
  });
});

describe('sections as QEMU describes them', () => {
  it('a legacy section (slirp) is described as an opaque data buffer with its size', () => {
    const entry = pc.lookup('slirp')!;
    expect(entry.legacy).toBe(true);
    const bytes = new Uint8Array(131);
    const state = load(entry.desc, bytes, 4);
    expect(state.ip_id).toBe(0);
    const { bytes: again, vmdesc } = saveSection(entry, state);
    expect(again).toEqual(bytes);
    expect(vmdesc).toEqual({ size: 131, fields: [{ name: 'data', type: 'buffer', size: 131 }] });
  });

  it('the resolver only decodes FULL sections it knows, and encodes what it decoded', async () => {
    const resolve = catalogResolver(pc);
    const info = { idstr: '0000:00:01.0/PIIX3', instanceId: 0, versionId: 3, sectionId: 12 };
    expect(resolve(info, 'start')).toBeUndefined();
    expect(resolve({ ...info, idstr: 'ram' }, 'full')).toBeUndefined();
    const codec = resolve(info, 'full')!;
    const { state } = await realState('0000:00:01.0/PIIX3');
    const r = new ByteReader(save(pc.lookup('PIIX3')!.desc, state), 0);
    const value = codec.decode(r, info) as State;
    const w = new ByteWriter();
    codec.encode!(w, value, info);
    expect(w.finish()).toEqual(r.bytes);
  });
});

describe('hostile bytes get typed errors with offsets', () => {
  it('a PCI INTx level other than 0/1 (QEMU: "irq state %d: must be 0 or 1")', async () => {
    const { state, check } = await realState('0000:00:01.0/PIIX3');
    const bytes = save(pc.lookup('PIIX3')!.desc, state);
    // PCIDevice: version_id (4) + config (256), then four be32 levels.
    bytes[4 + 256 + 3] = 2;
    const err = (() => {
      try {
        loadSection(pc.lookup('PIIX3')!, new ByteReader(bytes, 1000), check.version);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidValueError);
    expect(err).toMatchObject({ offset: 1000 + 260, path: expect.stringContaining('irq_state') });
  });

  it('an HPET with more comparators than the chip can have', async () => {
    const { state } = await realState('hpet');
    const bytes = save(pc.lookup('hpet')!.desc, state);
    bytes[24] = 33; // num_timers, after config, isr and hpet_counter
    expect(() => load(pc.lookup('hpet')!.desc, bytes, 2)).toThrow(ValidationError);
    bytes[24] = 200;
    expect(() => load(pc.lookup('hpet')!.desc, bytes, 2)).toThrow(ValidationError);
  });

  it('a slirp section with guestfwd socket records, which the catalog does not decode', () => {
    const bytes = new Uint8Array(131);
    bytes[0] = 42;
    expect(() => load(pc.lookup('slirp')!.desc, bytes, 4)).toThrow(ValidationError);
  });

  it('a floppy controller claiming a different drive count', async () => {
    const { state } = await realState('fdc');
    const bytes = save(pc.lookup('fdc')!.desc, state);
    bytes[9 + 512 + 4 + 4 + 3 + 6] = 4; // num_floppies
    expect(() => load(pc.lookup('fdc')!.desc, bytes, 2)).toThrow(EqualMismatchError);
  });

  it('every section cut short anywhere is a TruncatedError, never a crash', async () => {
    const c = await checkStreamWithCatalog(readStream('q35-nodefaults-paused'));
    for (const x of c.checks) {
      const entry = c.catalog.lookup(x.idstr)!;
      const bytes = saveSection(entry, x.state!).bytes;
      for (const cut of new Set([0, 1, Math.floor(bytes.length / 2), bytes.length - 1])) {
        if (cut >= bytes.length) continue;
        expect(() => loadSection(entry, new ByteReader(bytes.subarray(0, cut)), x.version)).toThrow(
          TruncatedError,
        );
      }
    }
  });
});
