/**
 * Every truncation offset of a stream, each a real decode of that prefix, at a cost that does
 * not grow with the offset: one walk of the stream (without its description, as every cut before
 * EOF is) records the walker's checkpoints; a cut at offset k is then walked from the last
 * checkpoint before k (the head, the search for a VM description at the cut's end and the
 * record holding the cut are read for real; what precedes that record is the same bytes the
 * checkpointing walk read, with the same resolvers). Only a typed error is taken from such a
 * walk: a cut that decodes (or anything else) is decoded again from byte 0, and that decides.
 */
import { LoadReplay, withReplay } from '../../src/engine/load-replay';
import { readStreamContents } from '../../src/stream/collect';
import type { StreamVisitor } from '../../src/stream/records';
import { bytesSource, type ChunkSource } from '../../src/stream/source';
import { walkStream, type WalkCheckpoint } from '../../src/stream/walk';
import type { SeedStream } from './inputs';
import { classify, resolversFor, runOne, type Outcome } from './run-one';

const IGNORE: StreamVisitor = { record: () => {} };

function oneChunk(bytes: Uint8Array): ChunkSource {
  const s = bytesSource(bytes, Math.max(1, bytes.length));
  return { size: s.size, read: s.read, readAt: s.readAt, close: s.close };
}

export class StreamCuts {
  private readonly checkpoints: WalkCheckpoint[] = [];
  private machineType: string | undefined;
  /** The checkpointing walk's field reads, taken up inside the section a cut ends in (load-replay.ts). */
  readonly replay = new LoadReplay();

  private constructor(readonly seed: SeedStream) {}

  static async of(seed: SeedStream): Promise<StreamCuts> {
    const c = new StreamCuts(seed);
    const whole = seed.bytes.subarray(0, Math.min(seed.bytes.length, seed.eof + 1));
    const { machineType, resolvers } = await resolversFor(whole);
    c.machineType = machineType;
    try {
      await withReplay(c.replay, () =>
        readStreamContents(bytesSource(whole), {
          resolvers,
          onCheckpoint: (cp) => c.checkpoints.push(cp),
        }),
      );
    } catch {
      // The checkpoints up to where the catalog could not read on stay good.
    }
    return c;
  }

  get count(): number {
    return this.checkpoints.length;
  }

  /** Where the checkpoints are (the offsets of the records they precede). */
  get positions(): number[] {
    return this.checkpoints.map((c) => c.pos);
  }

  /**
   * The last checkpoint before `at`, strictly: a record may look one byte past its end (a
   * section nothing decodes ends at the first footer followed by a plausible record type), so a
   * cut right at a checkpoint is walked from the one before.
   */
  private before(at: number): WalkCheckpoint | undefined {
    let lo = 0;
    let hi = this.checkpoints.length - 1;
    let found: WalkCheckpoint | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.checkpoints[mid].pos < at) {
        found = this.checkpoints[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * The stream cut at `at`, decoded; `fromZero` skips the checkpoints (to check them). The cut
   * is served as one chunk (a source without readInto), so the window holds it without copying
   * it at every cut; the window's logic is the same.
   */
  async cut(at: number, fromZero = false, views = false): Promise<Outcome> {
    const bytes = this.seed.bytes.subarray(0, at);
    const cp = fromZero ? undefined : this.before(at);
    if (cp) {
      try {
        const { machineType, resolvers } = await resolversFor(bytes);
        if (machineType === this.machineType) {
          // The records before the checkpoint are not seen again: no collector over them.
          this.replay.mode = 'replay';
          this.replay.end = at;
          await withReplay(this.replay, () =>
            walkStream(oneChunk(bytes), IGNORE, { resolvers, resumeFrom: cp }),
          );
        }
      } catch (e) {
        const o = classify(e, bytes.length);
        if (o.kind === 'typed') return o;
      }
    }
    return runOne(bytes, views);
  }
}
