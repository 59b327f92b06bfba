import { ByteReader, latin1 } from '../bytes/reader';
import { ByteWriter } from '../bytes/writer';
import { LimitExceededError, MalformedError, UnsupportedError, readingAt } from '../errors';
import { SectionType } from './constants';
import type { ConfigurationRecord } from './records';

const PATH = 'configuration';

/** More than every migration capability QEMU has (about 25 in 10.0). */
export const MAX_CAPABILITIES = 64;

/** Machine type names are short (pc-i440fx-10.0); QEMU compares the whole name with its own. */
export const MAX_MACHINE_TYPE_BYTES = 256;

/**
 * More than the largest configuration body (a bounded name, three subsections of bounded size),
 * so one read of this many bytes parses it once.
 */
export const MAX_CONFIGURATION_BYTES = 32 * 1024;

/**
 * Decodes the configuration body (after the 0x07 byte): be32 length + machine type name, then the
 * optional subsections target-page-bits (be32), capabilities (be32 count + counted strings) and
 * uuid (16 bytes). It has no vmdesc entry before QEMU 8.2, so it is decoded natively.
 */
export function decodeConfiguration(
  r: ByteReader,
  depth: number,
): Omit<ConfigurationRecord, 'offset'> {
  return readingAt(PATH, () => {
    const start = r.pos;
    const len = r.u32();
    if (len > MAX_MACHINE_TYPE_BYTES)
      throw new LimitExceededError(
        'machine type name',
        len,
        MAX_MACHINE_TYPE_BYTES,
        start + r.base,
        PATH,
      );
    const machineType = latin1(r.bytesView(len));
    const rec: Omit<ConfigurationRecord, 'offset'> = {
      type: 'configuration',
      body: new Uint8Array(0),
      machineType,
      subsections: [],
      depth,
    };
    while (r.peek() === SectionType.SUBSECTION) {
      const offset = r.offset;
      r.u8();
      const name = r.countedString();
      const version = r.u32();
      readingAt(`${PATH} > ${name}`, () => readSubsection(r, name, offset, rec));
      rec.subsections.push({ name, version, offset });
    }
    rec.body = r.bytes.slice(start, r.pos);
    return rec;
  });
}

/** The body of one configuration subsection, into `rec`. */
function readSubsection(
  r: ByteReader,
  name: string,
  offset: number,
  rec: Omit<ConfigurationRecord, 'offset'>,
): void {
  switch (name) {
    case 'configuration/target-page-bits':
      rec.targetPageBits = r.u32();
      return;
    case 'configuration/capabilities': {
      const countAt = r.offset;
      const count = r.u32();
      // QEMU sends only the capabilities it validates (one or two) and refuses a name it
      // does not know, the empty one included: a longer list is no stream QEMU wrote.
      if (count > MAX_CAPABILITIES)
        throw new LimitExceededError(
          'capability count',
          count,
          MAX_CAPABILITIES,
          countAt,
          `${PATH} > ${name}`,
        );
      const caps: string[] = [];
      for (let i = 0; i < count; i++) {
        const at = r.offset;
        const cap = r.countedString();
        if (cap === '')
          throw new MalformedError(
            `capability ${i} has an empty name (QEMU refuses names it does not know)`,
            at,
            `${PATH} > ${name}`,
          );
        caps.push(cap);
      }
      rec.capabilities = caps;
      return;
    }
    case 'configuration/uuid':
      rec.uuid = r.bytesCopy(16);
      return;
    default:
      if (!name.startsWith('configuration'))
        throw new MalformedError(
          `subsection '${name}' inside the configuration section`,
          offset,
          PATH,
        );
      throw new UnsupportedError(
        `unknown configuration subsection '${name}' (its length is not known)`,
        offset,
        PATH,
      );
  }
}

export function hasCapability(c: ConfigurationRecord | undefined, cap: string): boolean {
  return !!c?.capabilities?.includes(cap);
}

/** Builds a configuration body (for synthesized streams); decoding it gives back the same fields. */
export function encodeConfigurationBody(c: {
  machineType: string;
  targetPageBits?: number;
  capabilities?: string[];
  uuid?: Uint8Array;
}): Uint8Array {
  const w = new ByteWriter(64);
  w.u32(c.machineType.length);
  for (let i = 0; i < c.machineType.length; i++) w.u8(c.machineType.charCodeAt(i) & 0xff);
  const sub = (name: string) => {
    w.u8(SectionType.SUBSECTION);
    w.countedString(name);
    w.u32(1);
  };
  if (c.targetPageBits !== undefined) {
    sub('configuration/target-page-bits');
    w.u32(c.targetPageBits);
  }
  if (c.capabilities) {
    sub('configuration/capabilities');
    w.u32(c.capabilities.length);
    for (const cap of c.capabilities) w.countedString(cap);
  }
  if (c.uuid) {
    sub('configuration/uuid');
    w.bytes(c.uuid);
  }
  return w.finish();
}
