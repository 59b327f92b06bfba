/**
 * Whole-stream framing for streams written from device states (`vmstate generate`): header,
 * configuration, FULL sections each with a footer, EOF, and the VM description JSON in the
 * exact text form QEMU's JSON writer produces (", " and ": " separators, keys in insertion
 * order). No RAM section: generated streams describe device state only.
 */
import { ByteWriter } from '../bytes/writer';
import type { VmdescVMSD } from '../engine/vmdesc-types';
import { encodeConfigurationBody } from './configuration';
import { DEFAULT_PAGE_SIZE, FILE_MAGIC, FILE_VERSION, SectionType } from './constants';

export interface FramedSection {
  readonly sectionId: number;
  readonly idstr: string;
  readonly instanceId: number;
  readonly version: number;
  readonly body: Uint8Array;
  /** What saveDescribed returned for the body; becomes this section's vmdesc device entry. */
  readonly vmdesc: VmdescVMSD;
}

export interface FramedStream {
  readonly machineType: string;
  readonly sections: readonly FramedSection[];
  readonly pageSize?: number;
}

/** File magic, version and the configuration section naming the machine type. */
export function writeStreamHead(w: ByteWriter, machineType: string): void {
  w.u32(FILE_MAGIC);
  w.u32(FILE_VERSION);
  w.u8(SectionType.CONFIGURATION);
  w.bytes(encodeConfigurationBody({ machineType }));
}

/** A FULL section's long header: 0x04, id, idstr, instance, version (the body follows). */
export function writeFullSectionHeader(
  w: ByteWriter,
  s: { sectionId: number; idstr: string; instanceId: number; version: number },
): void {
  w.u8(SectionType.FULL);
  w.u32(s.sectionId);
  w.countedString(s.idstr);
  w.u32(s.instanceId);
  w.u32(s.version);
}

/** The footer QEMU writes after every section: 0x7e and the section id. */
export function writeSectionFooter(w: ByteWriter, sectionId: number): void {
  w.u8(SectionType.FOOTER);
  w.u32(sectionId);
}

/** One FULL section to write: its header fields and what writes its body. */
export interface SectionRecord {
  readonly sectionId: number;
  readonly idstr: string;
  readonly instanceId: number;
  readonly version: number;
  /** Writes the body (fields and subsections) after the header. */
  readonly writeBody: (w: ByteWriter) => void;
}

/**
 * The device part of a stream, as QEMU's savevm writes it: every FULL section (header, body,
 * footer) in the order given, then EOF. The one writer of sections: `vmstate generate`, the
 * simulated migration and reproductions all go through it.
 */
export function writeDeviceSections(w: ByteWriter, sections: Iterable<SectionRecord>): void {
  for (const s of sections) {
    writeFullSectionHeader(w, s);
    s.writeBody(w);
    writeSectionFooter(w, s.sectionId);
  }
  w.u8(SectionType.EOF);
}

/** A whole stream: head, the device sections, EOF, and the VM description. */
export function encodeFramedStream(stream: FramedStream): Uint8Array {
  const w = new ByteWriter(64 * 1024);
  writeStreamHead(w, stream.machineType);
  writeDeviceSections(
    w,
    stream.sections.map((s) => ({ ...s, writeBody: (out: ByteWriter) => out.bytes(s.body) })),
  );
  const devices = stream.sections.map((s) => ({
    name: s.idstr,
    instance_id: s.instanceId,
    ...s.vmdesc,
  }));
  const json = new TextEncoder().encode(
    qemuJson({ page_size: stream.pageSize ?? DEFAULT_PAGE_SIZE, devices }),
  );
  w.u8(SectionType.VMDESCRIPTION);
  w.u32(json.length);
  w.bytes(json);
  return w.finish();
}

/** JSON as QEMU's JSONWriter (non-pretty) spells it: `{"a": 1, "b": [2, 3]}`; undefined values are skipped. */
export function qemuJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(qemuJson).join(', ')}]`;
  if (typeof v === 'object') {
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      if (x !== undefined) parts.push(`${JSON.stringify(k)}: ${qemuJson(x)}`);
    return `{${parts.join(', ')}}`;
  }
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}
