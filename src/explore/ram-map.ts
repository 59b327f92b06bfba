/**
 * Where each RAM page of a stream is and how it was sent, without its contents: a map of zero,
 * data, compressed and XBZRLE pages per block for the explore page, and (for `--serve`) the
 * stream offset of each page's last record, so its bytes can be read back on demand.
 *
 * Memory grows with the records actually read (each at least 9 bytes of input), never with a
 * block length a stream claims.
 */
import type { RamBlockInfo, RamRecord } from '../stream/ram';

export const PageKind = { none: 0, zero: 1, data: 2, compressed: 3, xbzrle: 4 } as const;
export type PageKindCode = (typeof PageKind)[keyof typeof PageKind];

/** The map drawn per block has at most this many cells (a cell covers one page or more). */
export const MAX_CELLS = 1 << 18;

export interface PageLocation {
  kind: PageKindCode;
  /** Absolute offset of the page's payload (the data, the compressed bytes, the delta). */
  offset: number;
  length: number;
  /** Zero pages: the fill byte. */
  fill: number;
}

export interface BlockMap {
  name: string;
  length: number;
  pageSize: number;
  pages: number;
  pagesPerCell: number;
  /** One kind code per cell: the "most data" kind among its pages (data > compressed > xbzrle > zero). */
  cells: Uint8Array;
}

/** Growable columns of the page records seen. */
class Column<T extends Float64Array | Uint32Array | Uint8Array> {
  constructor(public a: T) {}
}

export class RamMapCollector {
  private blocks: RamBlockInfo[] = [];
  private readonly blockIndex = new Map<string, number>();
  private pageSize = 4096;
  private n = 0;
  private readonly block = new Column(new Uint32Array(1024));
  private readonly page = new Column(new Float64Array(1024));
  private readonly kind = new Column(new Uint8Array(1024));
  private readonly offset = new Column(new Float64Array(1024));
  private readonly length = new Column(new Uint32Array(1024));
  private readonly fill = new Column(new Uint8Array(1024));

  /** keepLocations: remember where each page is, for serving its bytes. */
  constructor(private readonly keepLocations: boolean) {}

  record = (r: RamRecord, pageSize: number): void => {
    this.pageSize = pageSize;
    if (r.kind === 'mem-size') {
      for (const b of r.blocks)
        if (!this.blockIndex.has(b.name)) {
          this.blockIndex.set(b.name, this.blocks.length);
          this.blocks.push(b);
        }
      return;
    }
    if (r.kind !== 'zero' && r.kind !== 'page' && r.kind !== 'compressed' && r.kind !== 'xbzrle')
      return;
    const bi = this.blockIndex.get(r.block);
    if (bi === undefined) return;
    if (this.n === this.kind.a.length) this.grow();
    const i = this.n++;
    this.block.a[i] = bi;
    this.page.a[i] = Math.floor(r.addr / pageSize);
    const head = r.offset + 8 + (r.named ? 1 + r.block.length : 0);
    switch (r.kind) {
      case 'zero':
        this.kind.a[i] = PageKind.zero;
        this.fill.a[i] = r.fill;
        this.offset.a[i] = head;
        this.length.a[i] = 1;
        break;
      case 'page':
        this.kind.a[i] = PageKind.data;
        this.offset.a[i] = head;
        this.length.a[i] = r.data.length;
        break;
      case 'compressed':
        this.kind.a[i] = PageKind.compressed;
        this.offset.a[i] = head + 4;
        this.length.a[i] = r.data.length;
        break;
      case 'xbzrle':
        this.kind.a[i] = PageKind.xbzrle;
        this.offset.a[i] = head + 3;
        this.length.a[i] = r.data.length;
        break;
    }
  };

  private grow(): void {
    const g = <T extends Float64Array | Uint32Array | Uint8Array>(c: Column<T>) => {
      const next = new (c.a.constructor as new (n: number) => T)(c.a.length * 2);
      next.set(c.a);
      c.a = next;
    };
    g(this.block);
    g(this.page);
    g(this.kind);
    g(this.offset);
    g(this.length);
    g(this.fill);
  }

  /** The per-block maps (the last record of a page decides its kind, as on the destination). */
  maps(): BlockMap[] {
    const maps = this.blocks.map((b): BlockMap => {
      const length = Number(b.length);
      const pages = Math.ceil(length / this.pageSize);
      const pagesPerCell = Math.max(1, Math.ceil(pages / MAX_CELLS));
      return {
        name: b.name,
        length,
        pageSize: this.pageSize,
        pages,
        pagesPerCell,
        cells: new Uint8Array(Math.ceil(pages / pagesPerCell)),
      };
    });
    const rank = [0, 1, 4, 3, 2]; // none < zero < xbzrle < compressed < data
    for (let i = 0; i < this.n; i++) {
      const m = maps[this.block.a[i]];
      const cell = Math.floor(this.page.a[i] / m.pagesPerCell);
      const k = this.kind.a[i];
      if (cell >= m.cells.length) continue;
      if (m.pagesPerCell === 1) m.cells[cell] = k;
      else if (rank[k] > rank[m.cells[cell]]) m.cells[cell] = k;
    }
    return maps;
  }

  /** Page -> its last record's place (for `--serve`); undefined when never sent. */
  locator(): (block: number, page: number) => PageLocation | undefined {
    if (!this.keepLocations) return () => undefined;
    const last = new Map<number, number>();
    for (let i = 0; i < this.n; i++) last.set(this.block.a[i] * 2 ** 32 + this.page.a[i], i);
    return (block, page) => {
      const i = last.get(block * 2 ** 32 + page);
      if (i === undefined) return undefined;
      return {
        kind: this.kind.a[i] as PageKindCode,
        offset: this.offset.a[i],
        length: this.length.a[i],
        fill: this.fill.a[i],
      };
    };
  }

  blockNames(): string[] {
    return this.blocks.map((b) => b.name);
  }
}
