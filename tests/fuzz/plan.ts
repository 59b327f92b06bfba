/**
 * The campaign's plan: input number i -> its descriptor, the same for a given seed everywhere
 * (so a worker restarted after a hang goes on where it stopped, and a run is reproducible).
 * Even steps sweep every truncation offset of every seed stream (record boundaries first, then
 * coarse to fine strides, round robin over the streams); odd steps are structure-aware
 * mutations; every 40th step a hostile shape.
 */
import { HOSTILE, MUTATIONS, rng, type Descriptor, type SeedStream } from './inputs';

export class Plan {
  /** Truncation offsets in sweep order: stream index and offset. */
  private readonly cuts: { stream: number; at: number }[] = [];
  readonly truncations: number;

  constructor(
    private readonly seeds: SeedStream[],
    private readonly seed: number,
  ) {
    const orders = seeds.map(sweepOrder);
    for (let k = 0; ; k++) {
      let any = false;
      for (let s = 0; s < orders.length; s++)
        if (k < orders[s].length) {
          this.cuts.push({ stream: s, at: orders[s][k] });
          any = true;
        }
      if (!any) break;
    }
    this.truncations = this.cuts.length;
  }

  at(i: number): Descriptor {
    const r = rng((this.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    if (i % 40 === 39)
      return {
        kind: 'hostile',
        shape: HOSTILE[Math.floor(r() * HOSTILE.length)],
        seed: Math.floor(r() * 2 ** 31),
      };
    const t = i >> 1;
    if (i % 2 === 0 && t < this.cuts.length) {
      const c = this.cuts[t];
      return { kind: 'truncate', stream: this.seeds[c.stream].name, at: c.at };
    }
    const s = this.seeds[Math.floor(r() * this.seeds.length)];
    return {
      kind: 'mutate',
      stream: s.name,
      mutation: MUTATIONS[Math.floor(r() * MUTATIONS.length)],
      seed: Math.floor(r() * 2 ** 31),
    };
  }

  /** How many truncations steps 0..n-1 covered. */
  truncationsIn(n: number): number {
    return Math.min(this.cuts.length, Math.ceil(n / 2));
  }
}

/** Every offset 0 .. length-1 once: around record boundaries first, then strides 4096 .. 1. */
function sweepOrder(s: SeedStream): number[] {
  const n = s.bytes.length;
  const seen = new Uint8Array(n);
  const out: number[] = [];
  const add = (x: number) => {
    if (x >= 0 && x < n && !seen[x]) {
      seen[x] = 1;
      out.push(x);
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
