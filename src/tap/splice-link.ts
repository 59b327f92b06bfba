import { EventEmitter } from 'events';
import * as net from 'net';
import { loadNativeModule } from '../bytes/native-module';

/** The native module built from src/tap/native/splice-link.c by `npm install` (node-gyp). */
interface NativeSpliceLink {
  start(
    sourceFd: number,
    destFd: number,
    onEvent: (
      type: string,
      code: string | undefined,
      forwarded: number,
      returned: number,
      teed: number,
    ) => void,
  ): [unknown, number];
  endSource(handle: unknown): void;
  destroySource(handle: unknown): void;
  destroyDest(handle: unknown): void;
  counters(handle: unknown): [number, number];
}

function loadNative(): NativeSpliceLink | null {
  return loadNativeModule<NativeSpliceLink>('splice_link', 'VMSTATE_SPLICE_LINK');
}

/**
 * Whether `vmstate tap` can forward without copying: the native link was built (it is, by
 * `npm install`, on Linux with a C compiler) and VMSTATE_SPLICE_LINK is not `off`.
 */
export function spliceLinkAvailable(): boolean {
  return loadNative() !== null;
}

function fdOf(s: net.Socket): number | undefined {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

export interface SpliceLinkEvents {
  /** The source's side ended: `code` is its errno name, undefined for a clean end (FIN). */
  'source-end': [code: string | undefined];
  /** A write to the destination failed; what follows from the source is read and dropped. */
  'dest-gone': [code: string];
  /** The destination's side ended (as for source-end). */
  'dest-end': [code: string | undefined];
  /** Both directions are done and both connections closed. */
  closed: [];
}

/**
 * A source and a destination connection joined in the kernel (splice(2), two threads of the
 * native module): bytes go on as they arrive, both ways, without passing through JavaScript, and
 * `tee` is a paused socket that reads a copy of every source byte (tee(2)) for the decoder. When
 * the reader of `tee` falls behind, the copy's pipe fills and forwarding waits for it, so the
 * decoder's pace limits the source's as before. The two sockets handed to `open` are closed (the
 * link holds its own descriptors of both connections).
 */
export class SpliceLink extends EventEmitter<SpliceLinkEvents> {
  /**
   * Source bytes in the tap's copy as of the last event: each piece is counted there before it
   * goes on, so this bounds what the destination can have read, while the forwarded count
   * (counters()) takes a piece's bytes only as each write moving them returns (a destination
   * that read the first part of a piece and reset the connection is told of before that).
   */
  teed = 0;
  private constructor(
    private readonly mod: NativeSpliceLink,
    private readonly handle: unknown,
    readonly tee: net.Socket,
  ) {
    super();
  }

  /**
   * Joins `source` and `dest` (both connected, paused and unread); undefined when the native
   * module is not there or a socket has no descriptor or bytes already read (the caller forwards
   * in JavaScript then).
   */
  static open(source: net.Socket, dest: net.Socket): SpliceLink | undefined {
    if (!spliceLinkAvailable()) return undefined;
    const mod = loadNative()!;
    const sourceFd = fdOf(source);
    const destFd = fdOf(dest);
    if (sourceFd === undefined || destFd === undefined) return undefined;
    if (source.readableLength > 0 || dest.readableLength > 0) return undefined;
    // Events come later, on this thread: by then `made.link` is set.
    const made: { link?: SpliceLink } = {};
    const [handle, teeFd] = mod.start(
      sourceFd,
      destFd,
      (type, code, _forwarded, _returned, teed) => {
        const l = made.link!;
        l.teed = teed;
        if (type === 'closed') l.emit('closed');
        else if (type === 'dest-gone') l.emit('dest-gone', code ?? 'EPIPE');
        else l.emit(type as 'source-end' | 'dest-end', code);
      },
    );
    // The link has its own descriptors of both connections: these go without a FIN or RST.
    source.destroy();
    dest.destroy();
    const tee = new net.Socket({
      fd: teeFd,
      readable: true,
      writable: false,
      allowHalfOpen: true,
      // Read nothing until the tap resumes it.
      pauseOnCreate: true,
    } as net.SocketConstructorOpts);
    made.link = new SpliceLink(mod, handle, tee);
    return made.link;
  }

  /** Passes a FIN on to the source (the destination closed its side). */
  endSource(): void {
    this.mod.endSource(this.handle);
  }

  /** Ends both directions of the source connection: the source sees its migration fail. */
  destroySource(): void {
    this.mod.destroySource(this.handle);
  }

  destroyDest(): void {
    this.mod.destroyDest(this.handle);
  }

  /** Bytes forwarded to the destination and returned to the source, now. */
  counters(): [number, number] {
    return this.mod.counters(this.handle);
  }
}
