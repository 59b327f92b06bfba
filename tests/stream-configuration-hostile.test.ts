import { LimitExceededError, MalformedError, VMStateError } from '../src/errors';
import { ByteWriter } from '../src/bytes/writer';
import { contentsOf } from './fixtures/stream-helpers';

/** A stream head and a configuration section whose capabilities subsection says `count`. */
function configurationWith(count: number, names: string[], padding: number): Uint8Array {
  const w = new ByteWriter(64);
  w.u32(0x5145564d);
  w.u32(3);
  w.u8(0x07);
  w.u32(13);
  for (const c of 'pc-i440fx-7.2') w.u8(c.charCodeAt(0));
  w.u8(0x05);
  w.countedString('configuration/capabilities');
  w.u32(1);
  w.u32(count);
  for (const n of names) w.countedString(n);
  const head = w.finish();
  const out = new Uint8Array(head.length + padding);
  out.set(head);
  return out;
}

async function failure(bytes: Uint8Array): Promise<VMStateError> {
  const r = await contentsOf(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(r).toBeInstanceOf(VMStateError);
  return r as VMStateError;
}

describe('hostile configuration sections', () => {
  test('2^31 declared capabilities followed by zero bytes: refused at the count, not parsed name by name', async () => {
    const e = await failure(configurationWith(2 ** 31, [], 4 << 20));
    expect(e).toBeInstanceOf(LimitExceededError);
    expect(e.offset).toBe(8 + 1 + 4 + 13 + 1 + 1 + 26 + 4);
    expect(e.path).toBe('configuration > configuration/capabilities');
  });

  test('an empty capability name is refused, as QEMU refuses a name it does not know', async () => {
    const e = await failure(configurationWith(3, ['x-ignore-shared'], 64));
    expect(e).toBeInstanceOf(MalformedError);
    expect(e.what).toMatch(/capability 1 has an empty name/);
  });

  test('a machine type name of 2^31 bytes is refused at its length', async () => {
    const w = new ByteWriter(16);
    w.u32(0x5145564d);
    w.u32(3);
    w.u8(0x07);
    w.u32(2 ** 31);
    const head = w.finish();
    const bytes = new Uint8Array(head.length + (1 << 20));
    bytes.set(head);
    const e = await failure(bytes);
    expect(e).toBeInstanceOf(LimitExceededError);
    expect(e.offset).toBe(9);
  });
});
