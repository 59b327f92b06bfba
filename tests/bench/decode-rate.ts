/**
 * Device-section decoding in process, one way of it per child process: the steady rate of
 * decoding every section the stream's vmdesc describes from its body bytes, and printing the
 * stream (--format json, tree or qemu straight from the bytes, as `vmstate analyze` does) or
 * building the library's full tree ('full': every DescStruct entry, as diff, edit and explore
 * read it).
 *
 * Why a process per way and several processes: one process's rate settles at levels up to 2x
 * apart from another's on the same build (V8 makes different tiering and inlining decisions from
 * run to run, and each way measured after another inherits that one's type feedback in the shared
 * decoder); the CLI prints one format per process. Why 2 s of warm-up: on this VM --format json
 * took 1-2 s of CPU to reach its steady rate, the earlier 0.25 s measured the climb.
 *
 * Run as a script: `node decode-rate.js FILE WAY` prints one JSON line, { bytes, rates } (MB/s of
 * section bytes per batch, CPU time).
 */
import { spawnSync } from 'child_process';
import { fileSource } from '../../src/stream/source';
import { readStreamContents } from '../../src/stream/collect';
import { analysisJsonBytes } from '../../src/analyze/json-format';
import { analysisTreeBytes } from '../../src/analyze/tree-format';
import { qemuStateBytes } from '../../src/analyze/qemu-format';
import { ByteReader } from '../../src/bytes/reader';
import { decodeByVmdesc, lazyBodyOf } from '../../src/stream/vmdesc-codec';
import type { DescStruct } from '../../src/stream/vmdesc-value';
import type { VmdescVmsd } from '../../src/stream/vmdesc';
import type { DeviceSection } from '../../src/stream/section';
import { cpuSeconds, median } from './measure';

export type DecodeWay = 'json' | 'tree' | 'qemu' | 'full';

const WARM_SECONDS = 2;
const BATCHES = 9;
const BATCH_SECONDS = 0.2;
const PROCESSES = Number(process.env.BENCH_DECODE_PROCESSES ?? 3);

/** This process's batches: MB/s of section bytes each, after the warm-up. */
async function ratesHere(
  file: string,
  way: DecodeWay,
): Promise<{ bytes: number; rates: number[] }> {
  const source = await fileSource(file);
  let contents;
  try {
    contents = await readStreamContents(source);
  } finally {
    await source.close();
  }
  const jobs: Array<{ body: Uint8Array; base: number; desc: VmdescVmsd; info: DeviceSection }> = [];
  for (const e of contents.entries) {
    if (e.type !== 'section' || e.section.decodedBy !== 'vmdesc') continue;
    const lazy = lazyBodyOf(e.section.value as DescStruct);
    if (lazy)
      jobs.push({
        body: e.section.body,
        base: e.section.bodyOffset,
        desc: lazy.plan.desc,
        info: e.section,
      });
  }
  const bytes = jobs.reduce((n, j) => n + j.body.length, 0);
  const c = contents;
  const print = { json: analysisJsonBytes, tree: analysisTreeBytes, qemu: qemuStateBytes };
  const run =
    way === 'full'
      ? () => {
          for (const j of jobs)
            void decodeByVmdesc(new ByteReader(j.body, j.base), j.desc, j.info).entries;
        }
      : () => {
          for (const j of jobs)
            j.info.value = decodeByVmdesc(new ByteReader(j.body, j.base), j.desc, j.info);
          print[way](c);
        };
  const warm = cpuSeconds();
  while (cpuSeconds() - warm < WARM_SECONDS) run();
  const rates: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const t = cpuSeconds();
    let n = 0;
    let spent = 0;
    while (spent < BATCH_SECONDS) {
      run();
      n++;
      spent = cpuSeconds() - t;
    }
    rates.push((bytes * n) / spent / 1e6);
  }
  return { bytes, rates };
}

export interface DecodeRate {
  bytes: number;
  /** Median MB/s over every batch of every process. */
  median: number;
  /** The slowest and fastest process (each process's median batch). */
  low: number;
  high: number;
}

/** The rate of one way, from PROCESSES fresh processes. */
export function decodeRate(file: string, way: DecodeWay): DecodeRate {
  const all: number[] = [];
  const perProcess: number[] = [];
  let bytes = 0;
  for (let p = 0; p < PROCESSES; p++) {
    const r = spawnSync(process.execPath, [__filename, file, way], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`decode-rate ${way} failed: ${r.stderr}`);
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      bytes: number;
      rates: number[];
    };
    bytes = got.bytes;
    all.push(...got.rates);
    perProcess.push(median(got.rates));
  }
  return {
    bytes,
    median: median(all),
    low: Math.min(...perProcess),
    high: Math.max(...perProcess),
  };
}

if (require.main === module) {
  const [file, way] = process.argv.slice(2);
  ratesHere(file, way as DecodeWay).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
