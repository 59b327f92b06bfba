/**
 * The matrix's worker threads, kept from one run to the next. A fresh worker loads the
 * platform's module, builds its VM arbitrary and has its code optimized before it migrates at
 * full speed (about 1.5 s of CPU for the x86 catalog), so a process that runs several matrices
 * (npm start's main job, the bench) pays that once a thread. Idle workers are unref'd: they
 * keep no process alive.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'worker_threads';
import type { ChunkTally } from './matrix-chunks';
import type { MatrixOptions } from './matrix';

/** One run's work for a worker (matrix-worker.ts). */
export interface WorkerJob {
  readonly from: string[];
  readonly to: string[];
  readonly machines: MatrixOptions['machines'];
  readonly runs: number;
  readonly seed: number;
  /** The chunk queue every thread of the run shares (matrix-chunks.ts). */
  readonly queue: Int32Array;
  /** done[index] is set to 1 by the worker once it has posted its chunks (or its error). */
  readonly done: Int32Array;
  readonly index: number;
}

/** What a worker is started with: the platform module it loads, and the port it answers on. */
export interface WorkerStart {
  readonly module: string;
  readonly results: MessagePort;
}

interface PooledWorker {
  readonly worker: Worker;
  /** Where its answers arrive, read synchronously (runMatrix is synchronous). */
  readonly results: MessagePort;
}

const pools = new Map<string, PooledWorker[]>();

function startWorker(script: string, module: string): PooledWorker {
  const { port1, port2 } = new MessageChannel();
  const start: WorkerStart = { module, results: port2 };
  const worker = new Worker(script, { workerData: start, transferList: [port2] });
  worker.unref();
  port1.unref();
  return { worker, results: port1 };
}

/**
 * Hands the job to `count` workers of the script and platform module (started when the pool
 * has fewer), and gives a wait that blocks until they all answered.
 */
export function runOnWorkers(
  script: string,
  module: string,
  count: number,
  job: Omit<WorkerJob, 'done' | 'index'>,
) {
  const key = `${script}\0${module}`;
  const pool = pools.get(key) ?? [];
  pools.set(key, pool);
  while (pool.length < count) pool.push(startWorker(script, module));
  const used = pool.slice(0, count);
  const done = new Int32Array(new SharedArrayBuffer(4 * count));
  used.forEach((w, index) => w.worker.postMessage({ ...job, done, index } satisfies WorkerJob));
  return {
    /** Blocks until every worker has sent its chunks. */
    wait(onProgress?: () => void): ChunkTally[] {
      return used.flatMap((w, k) => {
        while (Atomics.load(done, k) === 0) {
          Atomics.wait(done, k, 0, 200);
          onProgress?.();
        }
        const msg = receiveMessageOnPort(w.results);
        const m = msg?.message as { chunks?: ChunkTally[]; error?: string } | undefined;
        if (!m?.chunks) {
          // A worker that failed is not reused.
          pool.splice(pool.indexOf(w), 1);
          void w.worker.terminate();
          throw new Error(`compat matrix worker failed: ${m?.error ?? 'no result'}`);
        }
        return m.chunks;
      });
    },
  };
}
