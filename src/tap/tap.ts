import * as fs from 'fs';
import * as net from 'net';
import { TruncatedError, VMStateError } from '../errors';
import { openFileAtomically, type AtomicFile } from '../stream/atomic-file';
import { ContentsCollector, type StreamContents } from '../stream/collect';
import type { StreamRecord, StreamVisitor } from '../stream/records';
import { walkStream } from '../stream/walk';
import { formatTapAddress, type TapAddress } from './address';
import { ChunkQueue } from './chunk-queue';
import { SlabReader } from './slab-reader';
import { SpliceLink } from './splice-link';
import type { Prediction } from '../predict/predict';
import type { PredictionCheck, Refusal, SectionVerdict } from './verdict';

export interface TapOptions {
  /** Where the source QEMU connects (`migrate tcp:...`). Port 0 picks a free one (see onListening). */
  listen: TapAddress;
  /** Where the destination QEMU listens (`-incoming tcp:...`). */
  forward: TapAddress;
  /** Write the stream as it passed to this file, whole or not at all. */
  save?: string;
  /** `vmstate predict`'s verdict for the destination, given record by record as the stream passes. */
  check?: PredictionCheck;
  /** Close both connections before the destination receives a part `check` refuses. */
  abortOnRefusal?: boolean;
  onEvent?: (e: TapEvent) => void;
  /** Waiting for the source to connect. Default 120 s. */
  acceptTimeoutMs?: number;
  /** Connecting to the destination. Default 10 s. */
  connectTimeoutMs?: number;
  /** A source that sends nothing for this long is lost. Default 60 s. */
  idleTimeoutMs?: number;
  /** Bytes read from the source but not decoded yet, before the source is paused. Default 4 MiB. */
  maxBufferedBytes?: number;
}

export interface TapStats {
  /** Bytes from the source (all forwarded unless aborted). */
  bytes: number;
  /** Bytes forwarded to the destination. */
  forwarded: number;
  /** Bytes from the destination back to the source (the return path). */
  returnBytes: number;
  /** RAM page records (full, zero, compressed, XBZRLE). */
  pages: number;
  /** RAM section records (START, PART, END): one per iteration of the RAM loop. */
  iterations: number;
  seconds: number;
  /** CPU time of this process (user + system) since the source connected: what the tap costs. */
  cpuSeconds: number;
}

export interface TapVerdict {
  release: string;
  /** False once a record is refused (a lossy load is accepted, as QEMU accepts it). */
  accepted: boolean;
  /** The first record the destination refuses: it stops there, as QEMU does. */
  refusal?: Refusal;
  /** What `vmstate predict` says of the stream as it passed (absent when `unknown`). */
  prediction?: Prediction;
  /** Why no verdict could be given (a machine type the catalog does not describe). */
  unknown?: string;
}

export type TapEvent =
  | { type: 'listening'; address: string }
  | {
      type: 'connected';
      source: string;
      destination: string;
      /** splice: the kernel moves the bytes (src/tap/splice-link); node: this process writes them. */
      forwarding: Forwarding;
    }
  | { type: 'configuration'; offset: number; machineType: string; verdict?: SectionVerdict }
  | {
      type: 'section';
      offset: number;
      kind: string;
      idstr: string;
      instance: number;
      version: number;
      sectionId: number;
      size: number;
      verdict?: SectionVerdict;
    }
  | { type: 'ram'; offset: number; kind: string; iteration: number }
  | { type: 'progress'; stats: TapStats }
  | { type: 'eof'; offset: number; verdict?: TapVerdict }
  | { type: 'refusal'; refusal: Refusal; aborted: boolean };

/** Who moves the bytes: the kernel (splice(2), the native link) or this process. */
export type Forwarding = 'splice' | 'node';

export interface TapResult {
  stats: TapStats;
  forwarding: Forwarding;
  /** What passed, as `vmstate analyze` collects it (device sections by bytes, RAM summarized). */
  contents?: StreamContents;
  verdict?: TapVerdict;
  /** Set when --abort-on-refusal closed both connections. */
  aborted?: Refusal;
  /** The file written by `save`. */
  saved?: string;
}

/** The tap could not listen on its address (in use, no permission, a bad path). */
export class TapListenError extends Error {}

/** A connection ended before the stream did (or could not be made). Offset: bytes read from the source. */
export class TapConnectionError extends VMStateError {
  override readonly code = 'connection-lost';
}

const PROGRESS_EVERY_MS = 250;
const DEST_HIGH_WATER_MARK = 2 * 1024 * 1024;

/**
 * A proxy between a source QEMU and a destination QEMU that decodes the stream in flight.
 * Every byte goes on unchanged as it arrives (with `abortOnRefusal`, once the record it belongs
 * to has been judged), with backpressure both ways and the destination's return path back to the
 * source; memory stays bounded by `maxBufferedBytes` plus one record.
 */
export async function tapMigration(o: TapOptions): Promise<TapResult> {
  // Checked and opened before anything listens: a path that cannot be written is a usage error.
  const saveFile = o.save ? openFileAtomically(o.save, { fsync: true }) : undefined;
  try {
    return await tapOnce(o, saveFile);
  } finally {
    // Committed by a complete run; anything else leaves nothing (a no-op after the commit).
    saveFile?.discard();
  }
}

async function tapOnce(o: TapOptions, saveFile: AtomicFile | undefined): Promise<TapResult> {
  // Half-open both ways: one side's FIN is passed on while the other direction keeps flowing.
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  const listening = await listen(server, o.listen);
  o.onEvent?.({ type: 'listening', address: formatTapAddress(listening) });
  let source: net.Socket;
  try {
    source = await acceptOne(server, o.acceptTimeoutMs ?? 120_000);
  } finally {
    server.close();
  }
  let dest: net.Socket;
  try {
    dest = await connect(o.forward, o.connectTimeoutMs ?? 10_000);
  } catch (e) {
    source.destroy();
    throw new TapConnectionError(
      `cannot connect to the destination ${formatTapAddress(o.forward)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      0,
      'destination',
    );
  }
  const sourceName = `${source.remoteAddress ?? 'unix'}:${source.remotePort ?? ''}`;
  // Forwarded in the kernel, without a copy through this process, unless each record must be
  // judged before it goes on (--abort-on-refusal holds bytes back, which a link cannot).
  const link = o.abortOnRefusal && o.check ? undefined : SpliceLink.open(source, dest);
  o.onEvent?.({
    type: 'connected',
    source: sourceName,
    destination: formatTapAddress(o.forward),
    forwarding: link ? 'splice' : 'node',
  });
  return new Tap(source, dest, o, link, saveFile).run();
}

/** Where the tap listens, with the port the system chose for port 0. */
function listen(server: net.Server, a: TapAddress): Promise<TapAddress> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) =>
      reject(new TapListenError(`cannot listen on ${formatTapAddress(a)}: ${e.code ?? e.message}`));
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(a.kind === 'tcp' && addr && typeof addr === 'object' ? { ...a, port: addr.port } : a);
    };
    if (a.kind === 'unix') server.listen(a.path, done);
    else server.listen(a.port, a.host, done);
  });
}

function acceptOne(server: net.Server, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      server.off('connection', onConnection);
      reject(
        new TapConnectionError(`no source connected within ${timeoutMs / 1000} s`, 0, 'source'),
      );
    }, timeoutMs);
    const onConnection = (s: net.Socket) => {
      clearTimeout(timer);
      resolve(s);
    };
    server.once('connection', onConnection);
  });
}

function connect(a: TapAddress, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // Writes are reads of the source passed on whole (up to a few MiB): room for a few before
    // `write` says to wait, and no Nagle delay for the small records at the end of the stream.
    const common = { allowHalfOpen: true, writableHighWaterMark: DEST_HIGH_WATER_MARK };
    const s =
      a.kind === 'unix'
        ? net.connect({ ...common, path: a.path })
        : net.connect({ ...common, port: a.port, host: a.host, noDelay: true });
    // Paused before it connects: node reads nothing from it until the tap says (a SpliceLink
    // takes the connection over unread, or the tap resumes it to read the return path).
    s.pause();
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', onError);
      resolve(s);
    });
    const onError = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    s.once('error', onError);
  });
}

/** A promise and its resolver. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

class Tap {
  private readonly started = Date.now();
  private readonly cpuAtStart = process.cpuUsage();
  private readonly stats: TapStats = {
    bytes: 0,
    forwarded: 0,
    returnBytes: 0,
    pages: 0,
    iterations: 0,
    seconds: 0,
    cpuSeconds: 0,
  };
  private readonly queue: ChunkQueue;
  private readonly collector = new ContentsCollector();
  private readonly gated: boolean;
  /** Held bytes (gated mode): chunks from `heldFrom` on, not yet forwarded. */
  private held: Uint8Array[] = [];
  private heldFrom = 0;
  /** Everything before this offset has been judged and may go to the destination. */
  private safe = 0;
  private decoding = true;
  private eofSeen = false;
  private destCongested = false;
  /** How the destination went: `seen` is the most it can have read (nothing goes on after). */
  private destGone?: { seen: number; why: string; seq: number; fatal?: boolean };
  private sourceProblem?: string;
  /** Which connection went first: events are numbered as they happen. */
  private seq = 0;
  private sourceLostAt = Infinity;
  private sourceEnded = false;
  private aborted?: Refusal;
  private lastProgress = 0;
  /** Where `save` is written: a temporary file renamed at a complete end (special files in place). */
  private saveFile?: AtomicFile;
  private readonly sourceClosed = signal();
  private readonly destClosed = signal();

  private readonly source: net.Socket;
  private readonly reader: SlabReader;
  /** With a link: how the source's side ended, and whether its copy has been read to the end. */
  private linkSourceEnd?: { code?: string };
  private copyEnded = false;
  /** Bytes pushed to the decoder's queue. */
  private pushed = 0;

  constructor(
    accepted: net.Socket,
    private readonly dest: net.Socket,
    private readonly o: TapOptions,
    /** The kernel forwards both ways; `source` is then the link's copy of the source's bytes. */
    private readonly link?: SpliceLink,
    saveFile?: AtomicFile,
  ) {
    this.saveFile = saveFile;
    this.reader = new SlabReader(link?.tee ?? accepted, (bytes) => this.fromSource(bytes), {
      allowHalfOpen: true,
    });
    this.source = this.reader.socket;
    this.queue = new ChunkQueue(o.maxBufferedBytes ?? 4 * 1024 * 1024);
    this.gated = !!(o.abortOnRefusal && o.check);
  }

  private emit(e: TapEvent): void {
    this.o.onEvent?.(e);
  }

  private statsNow(): TapStats {
    if (this.link) [this.stats.forwarded, this.stats.returnBytes] = this.link.counters();
    const cpu = process.cpuUsage(this.cpuAtStart);
    return {
      ...this.stats,
      seconds: (Date.now() - this.started) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  }

  async run(): Promise<TapResult> {
    const { source, dest, queue } = this;
    queue.onStarve = () => {
      this.pump();
      this.decideDestGone();
    };
    queue.onSpace = () => this.flow();
    queue.onRead = () => this.releaseSlabs();
    // 'runs': the tap needs no page data, so the walker hands it the counts of a run of pages
    // (a RamPagesRecord) instead of a record object per page.
    const visitor: StreamVisitor = {
      record: (rec: StreamRecord) => this.record(rec),
      drain: () => this.pump(),
      ramPages: 'runs',
    };
    let walkError: unknown;
    const walked = walkStream(queue, visitor, {
      useVmdesc: false,
      resolvers: [],
      opaqueFallback: true,
    }).then(
      (summary) => this.collector.finish(summary),
      (e: unknown) => {
        walkError = e;
        // A footer QEMU checks too: the destination refuses there, which is a verdict, not a bad stream.
        const refusal = this.o.check?.walkFailed(e, this.safe);
        if (refusal) {
          walkError = undefined;
          this.refused(refusal);
        }
        this.stopDecoding();
        return undefined;
      },
    );

    if (this.link) this.wireLink(this.link);
    else this.wireSockets();
    source.resume();

    const contents = await walked;
    await Promise.race([this.sourceClosed.promise, delay(30_000)]);
    this.destroySource();
    this.endDestWhenForwarded();
    await Promise.race([this.destClosed.promise, delay(30_000)]);
    if (this.link) this.link.destroyDest();
    else dest.destroy();
    const stats = this.statsNow();
    const verdict = this.verdict();
    const forwarding: Forwarding = this.link ? 'splice' : 'node';
    try {
      if (this.aborted) return { stats, forwarding, contents, verdict, aborted: this.aborted };
      // The source went first and the stream was cut: whatever the decoder then tripped over
      // (a truncated page, a missing footer) is a consequence.
      const cut =
        walkError === undefined
          ? !this.eofSeen
          : walkError instanceof TruncatedError ||
            (walkError instanceof VMStateError && walkError.offset + 8 >= stats.bytes);
      const sourceFirst =
        (this.sourceProblem !== undefined || this.sourceEnded) &&
        cut &&
        (this.destGone === undefined || this.sourceLostAt <= this.destGone.seq);
      if (sourceFirst) {
        const inside =
          walkError instanceof VMStateError && walkError.path ? `, inside ${walkError.path}` : '';
        throw new TapConnectionError(
          `${this.sourceProblem ?? 'the source closed the connection'} mid-stream, after ${stats.bytes} byte(s)${inside}`,
          stats.bytes,
          'source',
        );
      }
      // Nothing goes on once the destination is gone: the count now is the count then, with a
      // link's write that was under way when the destination went.
      if (this.destGone?.fatal)
        throw new TapConnectionError(
          `${this.destGone.why} after ${stats.forwarded} byte(s) were forwarded, before the end of the stream${verdict?.refusal ? ` (predicted: ${verdict.release} refuses: ${verdict.refusal.reason})` : ''}`,
          stats.forwarded,
          'destination',
        );
      if (walkError !== undefined) throw walkError;
      const saved = this.commitSave();
      return { stats, forwarding, contents, verdict, saved };
    } finally {
      this.dropSave();
    }
  }

  /** Source and destination are sockets of this process: bytes go on from fromSource. */
  private wireSockets(): void {
    const { source, dest, queue } = this;
    source.on('end', () => {
      this.sourceEnded = true;
      if (this.sourceLostAt === Infinity) this.sourceLostAt = this.seq++;
      queue.end();
      this.pump();
      this.endDestWhenForwarded();
    });
    source.on('error', (e: NodeJS.ErrnoException) =>
      this.sourceLost(`source connection lost (${e.code ?? e.message})`),
    );
    source.on('close', () => {
      if (!this.sourceEnded) this.sourceLost('source connection lost');
      queue.end();
      this.pump();
      this.endDestWhenForwarded();
      this.sourceClosed.resolve();
    });
    this.idleTimeout(source);
    dest.on('data', (chunk: Buffer) => {
      this.stats.returnBytes += chunk.length;
      if (source.destroyed || !source.writable) return;
      if (!source.write(chunk)) dest.pause();
    });
    source.on('drain', () => dest.resume());
    dest.on('drain', () => {
      this.destCongested = false;
      this.releaseSlabs();
      this.flow();
    });
    dest.on('error', (e: NodeJS.ErrnoException) =>
      this.onDestGone(`destination connection lost (${e.code ?? e.message})`),
    );
    dest.on('end', () => {
      this.onDestGone('the destination closed the connection');
      if (this.eofSeen && !source.destroyed) source.end();
    });
    dest.on('close', () => {
      this.onDestGone('the destination closed the connection');
      if (!source.destroyed) source.end();
      this.destClosed.resolve();
    });
    dest.resume();
  }

  private sourceLost(why: string): void {
    if (this.sourceProblem !== undefined || this.aborted || this.destGone?.fatal) return;
    this.sourceProblem = why;
    this.sourceLostAt = this.seq++;
  }

  /** A source that sends nothing for idleTimeoutMs is lost (`source`: what reads its bytes). */
  private idleTimeout(source: net.Socket): void {
    const ms = this.o.idleTimeoutMs ?? 60_000;
    source.setTimeout(ms, () => {
      if (!(this.eofSeen && this.destGone))
        this.sourceLost(`no data from the source for ${ms / 1000} s`);
      this.destroySource();
    });
  }

  /** Cuts the source off (its migration fails, unless it had sent everything). */
  private destroySource(): void {
    this.link?.destroySource();
    // (With a link, the reader of its copy: tee(2) then fails, and the link forwards on alone.)
    this.source.destroy();
  }

  /**
   * The kernel forwards (a SpliceLink): `source` reads its copy of the source's bytes, and the
   * link says how each connection ended. The source's end counts once its copy is read to the end.
   */
  private wireLink(link: SpliceLink): void {
    const { source, queue } = this;
    const ended = () => {
      if (!this.copyEnded || !this.linkSourceEnd) return;
      if (this.linkSourceEnd.code === undefined) this.sourceEnded = true;
      queue.end();
      this.pump();
    };
    source.on('end', () => {
      this.copyEnded = true;
      ended();
    });
    // The copy's pipe cannot fail on its own: an error is the tap's (it destroyed it).
    source.on('error', () => undefined);
    // Events come in the order they happened: the source's end before the destination's answer to it.
    link.on('source-end', (code) => {
      this.linkSourceEnd = { code };
      if (code !== undefined) this.sourceLost(`source connection lost (${code})`);
      else if (this.sourceLostAt === Infinity) this.sourceLostAt = this.seq++;
      ended();
    });
    link.on('dest-gone', (code) => this.onDestGone(`destination connection lost (${code})`));
    link.on('dest-end', (code) => {
      this.onDestGone(
        code === undefined
          ? 'the destination closed the connection'
          : `destination connection lost (${code})`,
      );
      link.endSource();
    });
    // Both connections are closed; the rest of the copy may still be on its way to the decoder.
    link.on('closed', () => {
      this.sourceClosed.resolve();
      this.destClosed.resolve();
    });
    this.idleTimeout(source);
    source.resume();
  }

  private fromSource(bytes: Uint8Array): void {
    this.stats.bytes += bytes.length;
    // Forward first: saving and decoding must not delay the destination.
    if (this.destGone || this.aborted) {
      // Nothing more reaches the destination; held bytes are dropped.
    } else if (this.gated) {
      this.held.push(bytes);
      this.pump();
    } else this.toDest(bytes);
    if (this.saveFile) writeAll(this.saveFile.fd, bytes);
    if (this.decoding) {
      this.queue.push(bytes);
      this.pushed += bytes.length;
    }
    this.releaseSlabs();
    const now = Date.now();
    if (now - this.lastProgress >= PROGRESS_EVERY_MS) {
      this.lastProgress = now;
      this.emit({ type: 'progress', stats: this.statsNow() });
    }
    this.flow();
  }

  private toDest(bytes: Uint8Array): void {
    // A link forwards by itself (its counters say how much).
    if (this.link || this.destGone || this.dest.destroyed) return;
    this.stats.forwarded += bytes.length;
    if (!this.dest.write(bytes)) this.destCongested = true;
  }

  /** Slabs of source bytes that are forwarded (handed to the system), saved and decoded are reused. */
  private releaseSlabs(): void {
    const dest = this.dest;
    const written =
      this.link || this.destGone || this.aborted || dest.destroyed
        ? Infinity
        : this.stats.forwarded - dest.writableLength;
    const decoded = this.decoding ? this.pushed - this.queue.buffered : Infinity;
    this.reader.release(Math.min(written, decoded));
  }

  /** Forwards held bytes up to the judged offset (gated mode). */
  private pump(): void {
    if (!this.gated || this.aborted) return;
    while (this.held.length > 0 && this.heldFrom < this.safe) {
      const c = this.held[0];
      const n = Math.min(c.length, this.safe - this.heldFrom);
      if (n === c.length) this.held.shift();
      else this.held[0] = c.subarray(n);
      this.heldFrom += n;
      this.toDest(n === c.length ? c : c.subarray(0, n));
    }
  }

  /** Pauses the source while the destination or the decoder cannot keep up; resumes it after. */
  private flow(): void {
    const stop =
      this.destCongested ||
      (this.decoding && this.queue.full) ||
      (this.destGone !== undefined &&
        !this.eofSeen &&
        !this.destGone.fatal &&
        !this.forwardedUnread(this.destGone));
    // Called for every chunk: touch the socket only when its state changes.
    const source = this.source;
    if (stop) {
      if (!source.isPaused()) source.pause();
    } else if (!source.destroyed && source.isPaused()) source.resume();
  }

  private endDestWhenForwarded(): void {
    if (!this.sourceEnded && !this.source.destroyed) return;
    if (this.gated && this.held.length > 0 && !this.aborted) return;
    // A link passes the source's FIN on by itself.
    if (!this.link && !this.dest.destroyed && this.dest.writable) this.dest.end();
  }

  private stopDecoding(): void {
    if (!this.decoding) return;
    this.decoding = false;
    // Undecodable from here on: forward the rest unjudged rather than hold it.
    this.safe = Infinity;
    this.queue.discard();
    this.pump();
    this.decideDestGone();
    this.flow();
  }

  private onDestGone(why: string): void {
    if (this.destGone || this.aborted) return;
    this.destGone = {
      seen: this.link ? this.link.teed : this.stats.forwarded,
      why,
      seq: this.seq++,
    };
    this.held = [];
    if (this.eofSeen) {
      // The destination had the whole stream: what is left is the VM description, for analysis only.
      this.flow();
      return;
    }
    this.flow();
    if (!this.decoding || this.queue.buffered === 0) this.decideDestGone();
  }

  /** Once the decoder has read all that was forwarded: was the destination's end premature? */
  private decideDestGone(): void {
    const g = this.destGone;
    if (!g || this.eofSeen || g.fatal || this.forwardedUnread(g)) return;
    g.fatal = true;
    this.destroySource();
    this.queue.end();
  }

  /**
   * With a link, bytes reach the destination before the tap reads its copy of them: until it has
   * read what the destination can have read before it went (`seen`: the copy's bytes then, a
   * bound the link counts before each piece goes on), the decoder has not seen all it got.
   */
  private forwardedUnread(g: { seen: number }): boolean {
    if (!this.link || !this.decoding) return false;
    // A source that ended cleanly had its FIN passed on: the destination may have had it all.
    const cleanEnd = this.linkSourceEnd !== undefined && this.linkSourceEnd.code === undefined;
    return this.stats.bytes < g.seen || (cleanEnd && !this.copyEnded);
  }

  private verdict(): TapVerdict | undefined {
    const c = this.o.check;
    if (!c) return undefined;
    const prediction = c.prediction();
    return {
      release: c.release,
      accepted: !c.refusal,
      refusal: c.refusal,
      prediction,
      unknown: prediction
        ? undefined
        : (c.unknownReason ?? 'the stream ended before its machine type'),
    };
  }

  /** The check's verdict on a record; false when the tap aborted on it. */
  private judge(v: SectionVerdict | undefined): boolean {
    const refusal = this.o.check?.refusal;
    if (v?.verdict !== 'refused' || !refusal) return true;
    return this.refused(refusal);
  }

  private refused(refusal: Refusal): boolean {
    const abort = !!this.o.abortOnRefusal && !this.aborted;
    this.emit({ type: 'refusal', refusal, aborted: abort });
    if (!abort) return true;
    this.advance(refusal.offset);
    this.pump();
    this.aborted = refusal;
    this.held = [];
    // What came before the refused record goes out; nothing after it does.
    this.dest.end();
    const dest = this.dest;
    setTimeout(() => dest.destroy(), 2_000).unref();
    this.destroySource();
    this.queue.discard();
    return false;
  }

  private record(rec: StreamRecord): void {
    if (this.aborted) return;
    this.collector.record(rec);
    // Pages first, the most frequent records by far: counted, never judged.
    if (rec.type === 'ram') {
      const r = rec.record;
      if (r.kind !== 'mem-size' && r.kind !== 'eos' && r.kind !== 'multifd-flush')
        this.stats.pages++;
      this.advance(r.offset);
      return;
    }
    if (rec.type === 'ram-pages') {
      this.stats.pages += rec.records;
      this.advance(rec.end);
      return;
    }
    const check = this.o.check;
    // Predict's verdict on every record it judges, before anything of the record is forwarded.
    const verdict = check?.record(rec);
    switch (rec.type) {
      case 'configuration': {
        this.emit({
          type: 'configuration',
          offset: rec.offset,
          machineType: rec.machineType,
          verdict,
        });
        if (!this.judge(verdict)) return;
        break;
      }
      case 'ram-section':
        if (rec.depth === 0) this.stats.iterations++;
        this.emit({
          type: 'ram',
          offset: rec.offset,
          kind: rec.kind,
          iteration: this.stats.iterations,
        });
        if (!this.judge(verdict)) return;
        break;
      case 'section': {
        const s = rec.section;
        this.emit({
          type: 'section',
          offset: s.offset,
          kind: s.kind,
          idstr: s.idstr,
          instance: s.instanceId,
          version: s.versionId,
          sectionId: s.sectionId,
          size: s.body.length,
          verdict,
        });
        if (!this.judge(verdict)) return;
        this.advance(s.offset);
        return;
      }
      case 'eof':
        if (rec.depth === 0) {
          this.eofSeen = true;
          this.safe = Infinity;
          this.pump();
          this.emit({ type: 'eof', offset: rec.offset, verdict: this.verdict() });
          this.flow();
          return;
        }
        break;
      default:
        // Headers, footers, commands, the VM description: nothing to show (a command is judged).
        if (!this.judge(verdict)) return;
        break;
    }
    this.advance(rec.offset);
  }

  private advance(offset: number): void {
    if (offset > this.safe) this.safe = offset;
  }

  private commitSave(): string | undefined {
    if (!this.saveFile || !this.o.save) return undefined;
    this.saveFile.commit();
    this.saveFile = undefined;
    return this.o.save;
  }

  private dropSave(): void {
    this.saveFile?.discard();
    this.saveFile = undefined;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += fs.writeSync(fd, bytes, at, bytes.length - at);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
