import type { ByteReader } from '../bytes/reader';
import type { ByteWriter } from '../bytes/writer';
import type { SectionKind } from './constants';

/** What a device section's header says about it; PART/END carry only the id, the rest is from its START. */
export interface SectionInfo {
  idstr: string;
  instanceId: number;
  versionId: number;
  sectionId: number;
}

/** The path prefix errors inside a section use: `cpu#0 (section 5)`; without an id, `cpu#0`. */
export function sectionPath(
  s: Pick<SectionInfo, 'idstr' | 'instanceId'> & { sectionId?: number },
): string {
  return s.sectionId === undefined
    ? `${s.idstr}#${s.instanceId}`
    : `${s.idstr}#${s.instanceId} (section ${s.sectionId})`;
}

/**
 * A way to decode a device section body. The reader starts at the first body byte and must be
 * left right after the last one (the footer or next section follows). Decoding must be pure:
 * it may be run again on a bigger window when it hits the end of the bytes read so far.
 */
export type SectionDecodeFn<T = unknown> = (reader: ByteReader, section: SectionInfo) => T;

/** A decoder plus, optionally, the inverse that lets edited values be written back. */
export interface SectionCodec<T = unknown> {
  /** Shown in analysis output: 'vmdesc', 'catalog', ... */
  readonly name: string;
  decode: SectionDecodeFn<T>;
  encode?: (writer: ByteWriter, value: T, section: SectionInfo) => void;
}

/**
 * Picks the codec for a section, or undefined to let the next resolver (or the fallback) try.
 * The vmdesc interpreter is the default resolver; the device catalog plugs in the same way.
 */
// A resolver may hand out codecs of any value type; `any` keeps typed codecs assignable (encode is contravariant).
export type CodecResolver = (
  section: SectionInfo,
  kind: SectionKind,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
) => SectionCodec<any> | undefined;

/** Wraps a bare decode function as a (read-only) codec. */
export function codecOf(name: string, decode: SectionDecodeFn): SectionCodec {
  return { name, decode };
}

/** Which device a catalog lacks for a section (see DeviceSection.lacks). */
export interface SectionLack {
  /** `idstr#instance` of the section. */
  readonly section: string;
  /** The section name the catalog looked for: the idstr's last path element. */
  readonly device: string;
  readonly release: string;
  readonly machineType: string;
  /** One sentence naming the catalog and the device ("the 7.2 catalog (pc-q35-7.2) has no description of device 'virtio-rng'"). */
  readonly reason: string;
}

/** A device section as read from the stream: header, raw body (kept for exact re-encoding) and decoded value. */
export interface DeviceSection extends SectionInfo {
  kind: SectionKind;
  /** Absolute offset of the section type byte. */
  offset: number;
  /** Absolute offset of the first body byte. */
  bodyOffset: number;
  body: Uint8Array;
  /** Which codec decoded it; 'opaque' when none could and the body was delimited by its footer. */
  decodedBy: string;
  /**
   * Set by catalog decoding (a stream without a VM description) when the catalog could not
   * describe this section: the device it lacks, which catalog, and why. The formats say so and
   * show the section's raw bytes.
   */
  lacks?: SectionLack;
  value?: unknown;
  /** Set when `value` was changed and the body must be encoded again (with `codec.encode`). */
  modified?: boolean;
  /** The codec that decoded the body. */
  codec?: SectionCodec;
  footer?: FooterInfo;
  /** Nesting depth: 0 at top level, 1 inside a PACKAGED command. */
  depth: number;
}

export interface FooterInfo {
  offset: number;
  sectionId: number;
}
