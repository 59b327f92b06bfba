import { deflateSync } from 'zlib';
import { ByteWriter } from '../bytes/writer';
import { encodeConfigurationBody } from './configuration';
import { DEFAULT_PAGE_SIZE, FILE_MAGIC, FILE_VERSION, RamFlag, SectionType } from './constants';
import type { ByteSink } from './sink';
import type { VmdescDevice, VmdescField } from './vmdesc';

/** A field of a synthesized device: an integer, raw bytes, or a nested struct. */
export type SynthField =
  | { name: string; type: string; size: number; value: bigint }
  | { name: string; type: string; bytes: Uint8Array }
  | { name: string; type: 'struct'; vmsd: string; version: number; fields: SynthField[] };

export interface SynthSubsection {
  name: string;
  version: number;
  fields: SynthField[];
}

export type SynthPage =
  | { block: string; addr: bigint; kind: 'zero'; fill?: number }
  | { block: string; addr: bigint; kind: 'page'; data: Uint8Array }
  | { block: string; addr: bigint; kind: 'compressed'; data: Uint8Array }
  | { block: string; addr: bigint; kind: 'xbzrle'; delta: Uint8Array }
  | { kind: 'multifd-flush' };

/**
 * Writes well-formed streams from parts, the way QEMU lays them out, for tests and benchmarks
 * (real captures cover only what one QEMU build did). Device sections get a matching vmdesc entry.
 */
export class StreamBuilder {
  private readonly devices: VmdescDevice[] = [];
  private lastBlock?: string;

  constructor(
    private readonly sink: ByteSink,
    readonly opts: { pageSize?: number; footers?: boolean } = {},
  ) {}

  private get pageSize(): number {
    return this.opts.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  private out(w: ByteWriter): void {
    this.sink.write(w.finish());
  }

  header(): this {
    const w = new ByteWriter(8);
    w.u32(FILE_MAGIC);
    w.u32(FILE_VERSION);
    this.out(w);
    return this;
  }

  configuration(c: {
    machineType: string;
    targetPageBits?: number;
    capabilities?: string[];
    uuid?: Uint8Array;
  }): this {
    this.sink.write(Uint8Array.of(SectionType.CONFIGURATION));
    this.sink.write(encodeConfigurationBody(c));
    return this;
  }

  private sectionHeader(
    type: number,
    sectionId: number,
    idstr?: string,
    instanceId = 0,
    version = 0,
  ): void {
    const w = new ByteWriter(32);
    w.u8(type);
    w.u32(sectionId);
    if (idstr !== undefined) {
      w.countedString(idstr);
      w.u32(instanceId);
      w.u32(version);
    }
    this.out(w);
  }

  private footer(sectionId: number): void {
    if (this.opts.footers === false) return;
    const w = new ByteWriter(5);
    w.u8(SectionType.FOOTER);
    w.u32(sectionId);
    this.out(w);
  }

  /** RAM START: MEM_SIZE + block list (+ mr->addr per block when given) + EOS. */
  ramStart(
    sectionId: number,
    blocks: { name: string; length: bigint; pageSize?: bigint; mrAddr?: bigint }[],
  ): this {
    this.sectionHeader(SectionType.START, sectionId, 'ram', 0, 4);
    const w = new ByteWriter(256);
    const total = blocks.reduce((a, b) => a + b.length, 0n);
    w.u64(total | BigInt(RamFlag.MEM_SIZE));
    for (const b of blocks) {
      w.countedString(b.name);
      w.u64(b.length);
      if (b.pageSize !== undefined) w.u64(b.pageSize);
      if (b.mrAddr !== undefined) w.u64(b.mrAddr);
    }
    w.u64(BigInt(RamFlag.EOS));
    this.out(w);
    this.footer(sectionId);
    return this;
  }

  /** RAM PART or END: page records, then EOS. */
  ramPages(kind: 'part' | 'end', sectionId: number, pages: Iterable<SynthPage>): this {
    this.sectionHeader(kind === 'part' ? SectionType.PART : SectionType.END, sectionId);
    for (const p of pages) this.page(p);
    const w = new ByteWriter(8);
    w.u64(BigInt(RamFlag.EOS));
    this.out(w);
    this.footer(sectionId);
    return this;
  }

  page(p: SynthPage): void {
    if (p.kind === 'multifd-flush') {
      const w = new ByteWriter(8);
      w.u64(BigInt(RamFlag.MULTIFD_FLUSH));
      return this.out(w);
    }
    const cont = this.lastBlock === p.block;
    this.lastBlock = p.block;
    const flag = {
      zero: RamFlag.ZERO,
      page: RamFlag.PAGE,
      compressed: RamFlag.COMPRESS_PAGE,
      xbzrle: RamFlag.XBZRLE,
    }[p.kind];
    const w = new ByteWriter(32 + p.block.length);
    w.u64(p.addr | BigInt(flag | (cont ? RamFlag.CONTINUE : 0)));
    if (!cont) w.countedString(p.block);
    if (p.kind === 'zero') w.u8(p.fill ?? 0);
    else if (p.kind === 'compressed') {
      const z = deflateSync(p.data);
      w.u32(z.length);
      w.bytes(z);
    } else if (p.kind === 'xbzrle') {
      w.u8(1);
      w.u16(p.delta.length);
      w.bytes(p.delta);
    }
    this.out(w);
    if (p.kind === 'page') this.sink.write(p.data);
  }

  /** A FULL device section described in the vmdesc this builder writes at the end. */
  device(d: {
    sectionId: number;
    idstr: string;
    instanceId?: number;
    version: number;
    vmsd?: string;
    fields: SynthField[];
    subsections?: SynthSubsection[];
  }): this {
    const instanceId = d.instanceId ?? 0;
    this.sectionHeader(SectionType.FULL, d.sectionId, d.idstr, instanceId, d.version);
    const w = new ByteWriter(256);
    writeFields(w, d.fields);
    for (const s of d.subsections ?? []) {
      w.u8(SectionType.SUBSECTION);
      w.countedString(s.name);
      w.u32(s.version);
      writeFields(w, s.fields);
    }
    this.out(w);
    this.footer(d.sectionId);
    const dev: VmdescDevice = {
      name: d.idstr,
      instance_id: instanceId,
      vmsd_name: d.vmsd ?? d.idstr.replace(/^.*\//, ''),
      version: d.version,
      fields: d.fields.map(describe),
    };
    if (d.subsections?.length)
      dev.subsections = d.subsections.map((s) => ({
        vmsd_name: s.name,
        version: s.version,
        fields: s.fields.map(describe),
      }));
    this.devices.push(dev);
    return this;
  }

  /** A QEMU_VM_COMMAND record. */
  command(cmd: number, payload: Uint8Array = new Uint8Array(0)): this {
    const w = new ByteWriter(8 + payload.length);
    w.u8(SectionType.COMMAND);
    w.u16(cmd);
    w.u16(payload.length);
    w.bytes(payload);
    this.out(w);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.sink.write(bytes);
    return this;
  }

  eof(): this {
    this.sink.write(Uint8Array.of(SectionType.EOF));
    return this;
  }

  /** The JSON QEMU would write for the device sections so far (padded with spaces to `padTo` bytes if given). */
  vmdescJson(padTo?: number): Uint8Array {
    let json = JSON.stringify({ page_size: this.pageSize, devices: this.devices });
    if (padTo !== undefined && padTo > json.length)
      json = json.slice(0, -1) + ' '.repeat(padTo - json.length) + '}';
    return new TextEncoder().encode(json);
  }

  vmdesc(padTo?: number): this {
    const json = this.vmdescJson(padTo);
    const w = new ByteWriter(5);
    w.u8(SectionType.VMDESCRIPTION);
    w.u32(json.length);
    this.out(w);
    this.sink.write(json);
    return this;
  }
}

function writeFields(w: ByteWriter, fields: SynthField[]): void {
  for (const f of fields) {
    if ('fields' in f) writeFields(w, f.fields);
    else if ('bytes' in f) w.bytes(f.bytes);
    else {
      let u = BigInt.asUintN(f.size * 8, f.value);
      const out = new Uint8Array(f.size);
      for (let i = f.size - 1; i >= 0; i--, u >>= 8n) out[i] = Number(u & 0xffn);
      w.bytes(out);
    }
  }
}

function describe(f: SynthField): VmdescField {
  if ('fields' in f) {
    const size = 0;
    return {
      name: f.name,
      type: 'struct',
      struct: { vmsd_name: f.vmsd, version: f.version, fields: f.fields.map(describe) },
      size,
    };
  }
  return { name: f.name, type: f.type, size: 'bytes' in f ? f.bytes.length : f.size };
}

/**
 * Writes a large, valid stream to `file` for benchmarks and memory tests: a `pc.ram` block of
 * `ramBytes` where every `dataEvery`-th page carries data (a cheap pattern) and the rest are zero
 * pages, one small device section and a vmdesc. Memory use does not depend on the size.
 */
export async function writeSyntheticStream(
  file: string,
  opts: { ramBytes: number; dataEvery?: number; pageSize?: number },
): Promise<number> {
  const fs = await import('fs');
  const { FdSink } = await import('./sink');
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const dataEvery = opts.dataEvery ?? 2;
  const fd = fs.openSync(file, 'w');
  try {
    const sink = new FdSink(fd);
    const b = new StreamBuilder(sink, { pageSize });
    const pages = Math.floor(opts.ramBytes / pageSize);
    b.header().configuration({ machineType: 'pc-synthetic' });
    b.ramStart(2, [{ name: 'pc.ram', length: BigInt(pages * pageSize) }]);
    const data = new Uint8Array(pageSize);
    function* gen(): Generator<SynthPage> {
      for (let i = 0; i < pages; i++) {
        if (i % dataEvery === 0) {
          data[0] = i & 0xff;
          data[pageSize - 1] = (i >> 8) & 0xff;
          yield { block: 'pc.ram', addr: BigInt(i * pageSize), kind: 'page', data };
        } else yield { block: 'pc.ram', addr: BigInt(i * pageSize), kind: 'zero' };
      }
    }
    b.ramPages('part', 2, gen()).ramPages('end', 2, []);
    b.device({
      sectionId: 0,
      idstr: 'timer',
      version: 2,
      fields: [
        { name: 'cpu_ticks_offset', type: 'int64', size: 8, value: 1n },
        { name: 'unused', type: 'unused_buffer', bytes: new Uint8Array(8) },
        { name: 'cpu_clock_offset', type: 'int64', size: 8, value: 2n },
      ],
    });
    b.eof().vmdesc();
    sink.flush();
    return sink.written;
  } finally {
    fs.closeSync(fd);
  }
}
