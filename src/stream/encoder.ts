import { ByteWriter } from '../bytes/writer';
import { InvalidValueError } from '../errors';
import { FILE_MAGIC, SectionType, sectionTypeByte, type SectionKind } from './constants';
import { writeRamRecord, type RamRecord } from './ram';
import type { StreamRecord, StreamVisitor } from './records';
import type { DeviceSection, SectionInfo } from './section';
import { sectionPath } from './section';
import type { ByteSink } from './sink';

/**
 * Turns records back into bytes. Fed the records of a walk unchanged, it reproduces the input
 * byte for byte (RAM, commands, vmdesc and trailing bytes included); a device section marked
 * `modified` is written from its value with its codec's encoder.
 */
export class StreamEncoder implements StreamVisitor {
  private readonly scratch = new Uint8Array(8 + 1 + 255 + 8);
  private readonly view = new DataView(this.scratch.buffer);

  /**
   * Every page with its bytes ('records'), or, for a sink that already holds the input's bytes
   * (passThrough: reencode's copy of its input), runs of pages taken from it unread ('runs').
   */
  readonly ramPages: 'records' | 'runs';

  constructor(
    private readonly sink: ByteSink,
    opts: { ramPages?: 'records' | 'runs' } = {},
  ) {
    this.ramPages = opts.ramPages === 'runs' && sink.passThrough ? 'runs' : 'records';
  }

  drain(): Promise<void> | void {
    return this.sink.flush();
  }

  record(rec: StreamRecord): void {
    const sink = this.sink;
    switch (rec.type) {
      case 'header': {
        const w = new ByteWriter(8);
        w.u32(rec.magic ?? FILE_MAGIC);
        w.u32(rec.version);
        return sink.write(w.finish());
      }
      case 'configuration':
        sink.write(Uint8Array.of(SectionType.CONFIGURATION));
        return sink.write(rec.body);
      case 'ram-section':
        return sink.write(sectionHeader(rec.kind, rec));
      case 'ram':
        return this.ram(rec.record);
      case 'ram-pages':
        // Only asked for with a passThrough sink, and written back unchanged it is always at its
        // own offset: the run's bytes are already there.
        if (this.sink.passThrough?.(rec.offset, rec.end - rec.offset)) return;
        throw new Error('StreamEncoder: a run of RAM pages carries no page bytes to write');
      case 'section':
        sink.write(sectionHeader(rec.section.kind, rec.section));
        return sink.write(sectionBody(rec.section));
      case 'footer': {
        const w = new ByteWriter(5);
        w.u8(SectionType.FOOTER);
        w.u32(rec.sectionId);
        return sink.write(w.finish());
      }
      case 'command': {
        const w = new ByteWriter(5 + rec.payload.length);
        w.u8(SectionType.COMMAND);
        w.u16(rec.cmd);
        w.u16(rec.payload.length);
        w.bytes(rec.payload);
        return sink.write(w.finish());
      }
      case 'eof':
        return sink.write(Uint8Array.of(SectionType.EOF));
      case 'vmdesc': {
        const w = new ByteWriter(5);
        w.u8(SectionType.VMDESCRIPTION);
        w.u32(rec.json.length);
        sink.write(w.finish());
        return sink.write(rec.json);
      }
      case 'trailing':
        return sink.write(rec.data);
    }
  }

  /** The hot path: page records are written without building a ByteWriter per record. */
  private ram(rec: RamRecord): void {
    if (this.sink.passThrough && rec.kind !== 'mem-size') {
      // A record is written back exactly as read, so a sink that already holds the input's
      // bytes at the same place need not be given them again.
      let n =
        8 +
        (rec.kind === 'eos' || rec.kind === 'multifd-flush' || !rec.named
          ? 0
          : 1 + rec.block.length);
      if (rec.kind === 'zero') n += 1;
      else if (rec.kind === 'page') n += rec.data.length;
      else if (rec.kind === 'xbzrle') n += 3 + rec.data.length;
      else if (rec.kind === 'compressed') n += 4 + rec.data.length;
      if (this.sink.passThrough(rec.offset, n)) return;
    }
    if (rec.kind === 'zero' || rec.kind === 'page') {
      const s = this.scratch;
      this.view.setUint32(0, Math.floor(rec.raw / 0x100000000));
      this.view.setUint32(4, rec.raw >>> 0);
      let n = 8;
      if (rec.named) {
        s[n++] = rec.block.length;
        for (let i = 0; i < rec.block.length; i++) s[n++] = rec.block.charCodeAt(i) & 0xff;
      }
      if (rec.kind === 'zero') {
        s[n++] = rec.fill;
        return this.sink.write(s.subarray(0, n));
      }
      this.sink.write(s.subarray(0, n));
      return this.sink.write(rec.data);
    }
    const w = new ByteWriter(64);
    writeRamRecord(w, rec);
    this.sink.write(w.finish());
  }
}

function sectionHeader(kind: SectionKind, s: SectionInfo): Uint8Array {
  const w = new ByteWriter(16 + s.idstr.length);
  w.u8(sectionTypeByte(kind));
  w.u32(s.sectionId);
  if (kind === 'start' || kind === 'full') {
    w.countedString(s.idstr);
    w.u32(s.instanceId);
    w.u32(s.versionId);
  }
  return w.finish();
}

/** The body as it goes out: the original bytes, or the edited value encoded again. */
export function sectionBody(s: DeviceSection): Uint8Array {
  if (!s.modified) return s.body;
  if (!s.codec?.encode)
    throw new InvalidValueError(
      `section was edited but its decoder (${s.decodedBy}) cannot encode`,
      s.bodyOffset,
      sectionPath(s),
    );
  const w = new ByteWriter(s.body.length + 16);
  s.codec.encode(w, s.value, s);
  return w.finish();
}
