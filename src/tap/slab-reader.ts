import * as net from 'net';

/** Bytes of one slab: reads land one after the other in it, so a read costs no allocation. */
const SLAB_BYTES = 2 * 1024 * 1024;
/** A slab with less room than this left is retired and the next read starts a new one. */
const MIN_READ_BYTES = 128 * 1024;
/** Free slabs kept for reuse; more are left to the garbage collector. */
const POOL_SLABS = 2;

interface Retired {
  slab: Uint8Array;
  /** Stream offset just past the slab's last byte. */
  end: number;
}

/**
 * Reads an accepted socket into large slabs (the `onread` user buffer of net.Socket) instead of
 * a new 64 KiB buffer per read. Each chunk handed to `onChunk` is a view of a slab that is not
 * written again until the owner says, with `release(offset)`, that nothing before that stream
 * offset is still held (forwarded, saved and decoded); then whole slabs go back to a small
 * pool. So a fast source is read in a few large reads (fewer system calls, events and buffers),
 * chunks are forwarded, saved and decoded without a copy, and memory is reused instead of
 * waiting for the garbage collector to find the old buffers.
 *
 * Node gives `onread` only to sockets it creates itself, so the accepted (still paused) socket's
 * handle moves into a new Socket; where the handle is not reachable, the accepted socket is read
 * as usual. Use `socket` from then on (events, pause/resume, write, destroy).
 */
export class SlabReader {
  readonly socket: net.Socket;
  private slab: Uint8Array = new Uint8Array(0);
  private used = 0;
  private offset = 0;
  private readonly retired: Retired[] = [];
  private readonly pool: Uint8Array[] = [];

  constructor(
    accepted: net.Socket,
    private readonly onChunk: (bytes: Uint8Array) => void,
    opts: { allowHalfOpen: boolean },
  ) {
    const handle = (accepted as unknown as { _handle?: unknown })._handle;
    if (!handle || !accepted.isPaused()) {
      accepted.on('data', (chunk: Buffer) => {
        this.offset += chunk.length;
        onChunk(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      });
      this.socket = accepted;
      return;
    }
    accepted.removeAllListeners();
    this.socket = new net.Socket({
      handle: handle as never,
      allowHalfOpen: opts.allowHalfOpen,
      readable: true,
      writable: true,
      // Nothing is read until the owner resumes it (as the accepted socket was).
      pauseOnCreate: true,
      onread: {
        buffer: () => this.nextRegion(),
        // `buf` is the region handed out last: slab[used ...).
        callback: (n: number, buf: Uint8Array) => {
          this.used += n;
          this.offset += n;
          this.onChunk(buf.subarray(0, n));
          return undefined;
        },
      },
    } as net.SocketConstructorOpts);
  }

  private nextRegion(): Uint8Array {
    if (this.slab.length - this.used < MIN_READ_BYTES) {
      if (this.slab.length > 0) this.retired.push({ slab: this.slab, end: this.offset });
      this.slab = this.pool.pop() ?? newSlab();
      this.used = 0;
    }
    return this.slab.subarray(this.used);
  }

  /** Nothing before stream offset `upTo` is held any more: slabs wholly before it are reused. */
  release(upTo: number): void {
    while (this.retired.length > 0 && this.retired[0].end <= upTo) {
      const r = this.retired.shift()!;
      if (this.pool.length < POOL_SLABS) this.pool.push(r.slab);
    }
  }
}

function newSlab(): Uint8Array {
  const b = Buffer.allocUnsafeSlow(SLAB_BYTES);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
