import { ByteReader, latin1 } from '../bytes/reader';
import { ByteWriter } from '../bytes/writer';
import { MalformedError, UnsupportedError } from '../errors';
import { SectionType } from './constants';
import type { ConfigurationRecord, ConfigurationSubsection } from './records';

const PATH = 'configuration';

/**
 * Decodes the configuration body (after the 0x07 byte): be32 length + machine type name, then the
 * optional subsections target-page-bits (be32), capabilities (be32 count + counted strings) and
 * uuid (16 bytes). It has no vmdesc entry before QEMU 8.2, so it is decoded natively.
 */
export function decodeConfiguration(
  r: ByteReader,
  depth: number,
): Omit<ConfigurationRecord, 'offset'> {
  r.path = () => PATH;
  const start = r.pos;
  const len = r.u32();
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
    const sub: ConfigurationSubsection = { name, version, offset };
    r.path = () => `${PATH} > ${name}`;
    switch (name) {
      case 'configuration/target-page-bits':
        rec.targetPageBits = r.u32();
        break;
      case 'configuration/capabilities': {
        const count = r.u32();
        const caps: string[] = [];
        // Each entry is at least one byte, so the count cannot outrun the input unchecked.
        for (let i = 0; i < count; i++) {
          r.need(1);
          caps.push(r.countedString());
        }
        rec.capabilities = caps;
        break;
      }
      case 'configuration/uuid':
        rec.uuid = r.bytesCopy(16);
        break;
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
    rec.subsections.push(sub);
    r.path = () => PATH;
  }
  rec.body = r.bytes.slice(start, r.pos);
  return rec;
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
