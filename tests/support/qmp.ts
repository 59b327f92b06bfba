/**
 * A small QMP (QEMU Machine Protocol) client over a unix socket, for driving a real QEMU in tests.
 * Every wait is bounded: a command, an event wait and the connection itself each carry a timeout,
 * so a stuck or dead QEMU turns into a rejected promise instead of a hung test.
 */
import * as net from 'node:net';

/** One asynchronous event QEMU sent, e.g. {event: 'STOP', data: {}, timestamp: {...}}. */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** QEMU answered a command with {"error": {...}}. */
export class QmpCommandError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly description: string,
  ) {
    super(`QMP ${command} failed: ${errorClass}: ${description}`);
    this.name = 'QmpCommandError';
  }
}

/** A wait ran out of time, or the connection went away while waiting. */
export class QmpTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`QMP: timed out after ${ms} ms waiting for ${what}`);
    this.name = 'QmpTimeoutError';
  }
}

export interface QmpConnectOptions {
  /** Total time allowed for the socket to appear, accept and negotiate. */
  timeoutMs?: number;
  /** Called between connection attempts; throwing (e.g. "QEMU exited") aborts the connect. */
  stillAlive?: () => void;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface EventWaiter {
  match: (e: QmpEvent) => boolean;
  resolve: (e: QmpEvent) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function connectOnce(path: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new QmpTimeoutError(`connect to ${path}`, timeoutMs));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

export class QmpClient {
  private buffered = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly waiters = new Set<EventWaiter>();
  /** Every event received so far, oldest first; waitEvent looks here before waiting. */
  readonly events: QmpEvent[] = [];
  private greetingWaiter: ((g: unknown) => void) | undefined;
  private closedError: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.onClose(err));
    socket.on('close', () => this.onClose(new Error('QMP connection closed')));
  }

  /**
   * Connects to QEMU's QMP socket, retrying while QEMU has not created it yet, then reads the
   * greeting and leaves capabilities negotiation mode.
   */
  static async connect(path: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      opts.stillAlive?.();
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new QmpTimeoutError(
          `QMP socket ${path} (last error: ${String(lastError)})`,
          timeoutMs,
        );
      }
      try {
        const socket = await connectOnce(path, Math.min(left, 2_000));
        const client = new QmpClient(socket);
        try {
          await client.readGreeting(Math.max(1, deadline - Date.now()));
          await client.execute('qmp_capabilities', undefined, Math.max(1, deadline - Date.now()));
        } catch (e) {
          client.close();
          throw e;
        }
        return client;
      } catch (e) {
        lastError = e;
        const code = (e as NodeJS.ErrnoException).code;
        // The socket file does not exist yet, or QEMU has not started listening: try again shortly.
        if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw e;
        await delay(20);
      }
    }
  }

  private readGreeting(timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.greetingWaiter = undefined;
        reject(new QmpTimeoutError('the QMP greeting', timeoutMs));
      }, timeoutMs);
      this.greetingWaiter = (g) => {
        clearTimeout(timer);
        resolve(g);
      };
    });
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl).trim();
      this.buffered = this.buffered.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // QEMU only sends JSON objects on QMP; ignore anything else rather than crash.
    }
    if ('QMP' in msg) {
      const w = this.greetingWaiter;
      this.greetingWaiter = undefined;
      w?.(msg.QMP);
      return;
    }
    if (typeof msg.event === 'string') {
      const event = msg as unknown as QmpEvent;
      this.events.push(event);
      for (const w of [...this.waiters]) {
        if (w.match(event)) {
          clearTimeout(w.timer);
          this.waiters.delete(w);
          w.resolve(event);
        }
      }
      return;
    }
    const id = msg.id === undefined ? undefined : String(msg.id);
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const err = (msg.error ?? {}) as { class?: string; desc?: string };
      p.reject(new QmpCommandError(p.command, err.class ?? 'unknown', err.desc ?? ''));
    } else {
      p.resolve(msg.return);
    }
  }

  private onClose(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`QMP ${p.command}: ${err.message}`));
    }
    this.pending.clear();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`QMP event wait: ${err.message}`));
    }
    this.waiters.clear();
  }

  /** True once the socket has closed (QEMU quit or died). */
  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Runs one QMP command and resolves with its "return" value. */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    timeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
  ): Promise<T> {
    if (this.closedError)
      return Promise.reject(new Error(`QMP ${command}: ${this.closedError.message}`));
    const id = `c${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpTimeoutError(`the reply to ${command}`, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      const msg: Record<string, unknown> = { execute: command, id };
      if (args !== undefined) msg.arguments = args;
      this.socket.write(JSON.stringify(msg) + '\n');
    });
  }

  /** Runs a human monitor (HMP) command line and resolves with its text output. */
  hmp(commandLine: string, opts: { cpuIndex?: number; timeoutMs?: number } = {}): Promise<string> {
    const args: Record<string, unknown> = { 'command-line': commandLine };
    if (opts.cpuIndex !== undefined) args['cpu-index'] = opts.cpuIndex;
    return this.execute<string>('human-monitor-command', args, opts.timeoutMs);
  }

  /**
   * Resolves with the first event named `name` (and accepted by `match`, if given), including one
   * that already arrived and was not consumed by an earlier wait.
   */
  waitEvent(
    name: string,
    timeoutMs: number,
    match: (e: QmpEvent) => boolean = () => true,
  ): Promise<QmpEvent> {
    const accepts = (e: QmpEvent) => e.event === name && match(e);
    const seen = this.events.findIndex(accepts);
    if (seen >= 0) return Promise.resolve(this.events.splice(seen, 1)[0]!);
    if (this.closedError)
      return Promise.reject(new Error(`QMP event ${name}: ${this.closedError.message}`));
    return new Promise<QmpEvent>((resolve, reject) => {
      const waiter: EventWaiter = {
        match: accepts,
        resolve: (e) => {
          const i = this.events.indexOf(e);
          if (i >= 0) this.events.splice(i, 1);
          resolve(e);
        },
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new QmpTimeoutError(`event ${name}`, timeoutMs));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Closes the socket; pending commands are rejected. */
  close(): void {
    this.socket.destroy();
    this.onClose(new Error('QMP connection closed by client'));
  }
}
