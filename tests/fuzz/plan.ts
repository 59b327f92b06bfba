/**
 * The campaign's plan: input number i -> its descriptor, the same for a given seed everywhere
 * (so a worker restarted after a hang goes on where it stopped, a shard of a run is the same
 * steps in any process, and a run is reproducible).
 *
 * Steps come in blocks of `cutsPerMutation + 1`: that many truncations, then one structure-aware
 * mutation (every `hostileEvery`-th of those a hostile shape instead). Truncations go stream by
 * stream (in an order drawn from the seed), every offset of a stream once: around record
 * boundaries first, then coarse to fine strides. Once every offset is done, steps are mutations.
 */
import { HOSTILE, MUTATIONS, rng, type Descriptor, type SeedStream } from './inputs';

export interface PlanOptions {
  /** Truncations per mutation (default 1). 0: mutations and hostile shapes only. */
  cutsPerMutation?: number;
  /** Every this many mutation slots one is a hostile shape (default 20). */
  hostileEvery?: number;
  /** Only truncations (no mutation or hostile slot at all). */
  cutsOnly?: boolean;
  /** This shard's streams: those whose index (in file order) is `index` modulo `count`. */
  shard?: { index: number; count: number };
}

export class Plan {
  /** The streams this plan cuts and mutates, in sweep order. */
  readonly streams: SeedStream[];
  /** starts[k]: the first truncation number of streams[k]; the last entry is the total. */
  private readonly starts: number[] = [0];
  readonly truncations: number;
  private readonly block: number;
  private readonly hostileEvery: number;
  private order?: { stream: number; offsets: Int32Array };

  constructor(
    seeds: SeedStream[],
    private readonly seed: number,
    o: PlanOptions = {},
  ) {
    const mine = seeds.filter((_, i) => !o.shard || i % o.shard.count === o.shard.index);
    const r = rng(seed);
    // A seeded order of the streams: a short run (the jest slice) covers a different one each time.
    this.streams = mine
      .map((s) => ({ s, k: r() }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.s);
    for (const s of this.streams) this.starts.push(this.starts.at(-1)! + s.bytes.length);
    this.truncations = this.starts.at(-1)!;
    this.block = o.cutsOnly ? Infinity : (o.cutsPerMutation ?? 1) + 1;
    this.hostileEvery = o.hostileEvery ?? 20;
  }

  /** How many steps cover every truncation (and the mutations between them). */
  get stepsForAllCuts(): number {
    if (this.block === Infinity) return this.truncations;
    const perBlock = this.block - 1;
    return perBlock === 0 ? 0 : Math.ceil(this.truncations / perBlock) * this.block;
  }

  at(i: number): Descriptor {
    let cut: number;
    let slot: number | undefined;
    if (this.block === Infinity) cut = i;
    else {
      const b = Math.floor(i / this.block);
      const j = i % this.block;
      cut = b * (this.block - 1) + j;
      if (j === this.block - 1) slot = b;
    }
    if (slot === undefined && cut < this.truncations) return this.truncation(cut);
    if (this.block === Infinity) return this.truncation(cut % Math.max(1, this.truncations));
    const r = rng((this.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    if (slot !== undefined && slot % this.hostileEvery === this.hostileEvery - 1)
      return {
        kind: 'hostile',
        shape: HOSTILE[Math.floor(r() * HOSTILE.length)],
        seed: Math.floor(r() * 2 ** 31),
      };
    const s = this.streams[Math.floor(r() * this.streams.length)];
    return {
      kind: 'mutate',
      stream: s.name,
      mutation: MUTATIONS[Math.floor(r() * MUTATIONS.length)],
      seed: Math.floor(r() * 2 ** 31),
    };
  }

  private truncation(t: number): Descriptor {
    let k = 0;
    while (this.starts[k + 1] <= t) k++;
    if (this.order?.stream !== k) this.order = { stream: k, offsets: sweepOrder(this.streams[k]) };
    const s = this.streams[k];
    return { kind: 'truncate', stream: s.name, at: this.order.offsets[t - this.starts[k]] };
  }
}

/** Every offset 0 .. length-1 once: around record boundaries first, then strides 4096 .. 1. */
export function sweepOrder(s: SeedStream): Int32Array {
  const n = s.bytes.length;
  const seen = new Uint8Array(n);
  const out = new Int32Array(n);
  let k = 0;
  const add = (x: number) => {
    if (x >= 0 && x < n && !seen[x]) {
      seen[x] = 1;
      out[k++] = x;
    }
  };
  const marks = [
    0,
    4,
    8,
    9,
    s.eof,
    s.eof + 1,
    s.eof + 2,
    s.eof + 6,
    ...s.sections,
    ...s.ints.map((x) => x.at),
  ];
  for (const m of marks) for (const d of [0, -1, 1, 3]) add(m + d);
  for (const stride of [4096, 1024, 256, 64, 16, 4, 1]) for (let x = 0; x < n; x += stride) add(x);
  return out;
}
