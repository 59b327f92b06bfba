/**
 * Element kinds QEMU devices use beyond the DSL's generic ones: hand-written VMStateInfo codecs
 * (PCI config space, PCI IRQ levels, MSI-X tables) and the "receiver's own value" flavour of the
 * _EQUAL / INT32_POSITIVE_LE kinds, whose initial value must be what the receiving device holds.
 */
import { InvalidValueError, k, type Kind } from '../../src/dsl-kit';

/**
 * A kind whose value on a fresh receiver is fixed by the device's configuration (QEMU checks an
 * _EQUAL or _LE field against it), so the initial state holds that value and generated states
 * keep it.
 */
export function receiverValue<T>(kind: Kind<T>, value: T): Kind<T> {
  return {
    ...kind,
    initial: () => value,
    arbitrary: (f) => f.constant(value),
    // The engine may read into a state that has no value yet: the receiver's value is still `value`.
    read: (r, io, current) => kind.read(r, io, current ?? value),
  };
}

/**
 * A kind whose "nothing loaded yet" value is not zero: QEMU's reset value (exception_index -1,
 * cwptr -1...), which a needed() compares against so that a state loaded without the subsection
 * saves without it again.
 */
export function withInitial<T>(kind: Kind<T>, value: T): Kind<T> {
  return { ...kind, initial: () => value };
}

/** VMSTATE_INT32_EQUAL against the receiver's value. */
export const int32Equal = (value: number): Kind<number> => receiverValue(k.equal(k.i32), value);
/** VMSTATE_UINT8_EQUAL against the receiver's value. */
export const uint8Equal = (value: number): Kind<number> => receiverValue(k.equal(k.u8), value);

/**
 * PCIDevice's config space (vmstate_info_pci_config): raw bytes, 256 for conventional PCI and
 * 4096 for PCI Express. QEMU's receiver also refuses bytes that differ from its own in read-only
 * bits (cmask & ~wmask & ~w1cmask); those masks are device internals no stream carries, so that
 * check is not made here.
 */
export const pciConfig = (size: 256 | 4096): Kind<Uint8Array> => k.buffer(size, 'pci config');

/** PCIDevice's INTx levels (vmstate_info_pci_irq_state): four be32, each 0 or 1 on load. */
export const pciIrqState: Kind<number[]> = k.custom<number[]>({
  type: 'pci irq state',
  wireSize: 16,
  check: (v) =>
    Array.isArray(v) && v.length === 4 && v.every((x) => x === 0 || x === 1)
      ? undefined
      : 'expected four INTx levels, each 0 or 1',
  write: (w, v) => v.forEach((x) => w.u32(x)),
  read: (r, io) => {
    const out: number[] = [];
    for (let pin = 0; pin < 4; pin++) {
      const at = r.offset;
      const level = r.u32();
      if (level !== 0 && level !== 1)
        io.fail(
          (_, p) =>
            new InvalidValueError(`irq state of pin ${pin} is ${level}: must be 0 or 1`, at, p),
        );
      out.push(level);
    }
    return out;
  },
  initial: () => [0, 0, 0, 0],
  arbitrary: (f) => f.array(f.integer({ min: 0, max: 1 }), { minLength: 4, maxLength: 4 }),
});

export interface MsixState {
  /** msix_entries_nr entries of 16 bytes: address low/high, data, vector control. */
  table: Uint8Array;
  /** Pending bits, one per vector, rounded up to whole bytes. */
  pba: Uint8Array;
}

/**
 * msix_save/msix_load (vmstate_info_msix): the MSI-X table then the PBA, for the number of
 * vectors the device was built with (nothing on the wire says how many).
 */
export function msixState(vectors: number): Kind<MsixState> {
  const tableBytes = vectors * 16;
  const pbaBytes = Math.ceil(vectors / 8);
  return k.custom<MsixState>({
    type: 'msix state',
    wireSize: tableBytes + pbaBytes,
    check: (v) => {
      const s = v as MsixState;
      return s &&
        s.table instanceof Uint8Array &&
        s.table.length === tableBytes &&
        s.pba instanceof Uint8Array &&
        s.pba.length === pbaBytes
        ? undefined
        : `expected {table: ${tableBytes} bytes, pba: ${pbaBytes} bytes}`;
    },
    write: (w, v) => {
      w.bytes(v.table);
      w.bytes(v.pba);
    },
    read: (r) => ({ table: r.bytesCopy(tableBytes), pba: r.bytesCopy(pbaBytes) }),
    initial: () => ({ table: new Uint8Array(tableBytes), pba: new Uint8Array(pbaBytes) }),
    arbitrary: (f) =>
      f.record({
        table: f.uint8Array({ minLength: tableBytes, maxLength: tableBytes }),
        pba: f.uint8Array({ minLength: pbaBytes, maxLength: pbaBytes }),
      }),
  });
}

/**
 * fw_cfg's VMSTATE_UINT16_HACK (vmstate_hack_uint32_as_uint16): a be16 read into a 32-bit
 * member, only in version-1 streams. QEMU cannot write it (its put is put_unused); writing the
 * be16 here keeps save the inverse of load.
 */
export const uint32AsUint16: Kind<number> = k.custom<number>({
  type: 'int32_as_uint16',
  wireSize: 2,
  check: (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff
      ? undefined
      : 'expected an integer in 0..65535',
  write: (w, v) => w.u16(v),
  read: (r) => r.u16(),
  initial: () => 0,
  arbitrary: (f) => f.integer({ min: 0, max: 0xffff }),
});
