import { UsageError } from '../../errors';
import { parseTapAddress, type TapAddress } from '../../tap/address';
import {
  TapListenError,
  tapMigration,
  type TapEvent,
  type TapResult,
  type TapStats,
} from '../../tap/tap';
import type { SectionVerdict } from '../../tap/verdict';
import { formatPrediction } from '../../predict/predict';

export interface TapCliOptions {
  listen: string;
  forward: string;
  save?: string;
  check?: string;
  machine?: string;
  abortOnRefusal?: boolean;
  json?: boolean;
  acceptTimeout?: string;
}

function address(flag: string, text: string): TapAddress {
  const a = parseTapAddress(text);
  if (typeof a === 'string') throw new UsageError(`${flag}: ${a}`);
  return a;
}

const hex = (n: number) => '0x' + n.toString(16);
const mb = (n: number) => (n / 1e6).toFixed(1);

function verdictText(v: SectionVerdict | undefined): string {
  if (!v) return '';
  if (v.verdict === 'ok') return '  [ok]';
  if (v.verdict === 'unknown') return `  [no verdict: ${v.reason}]`;
  return `  [REFUSED: ${v.reason}]`;
}

function progressLine(s: TapStats): string {
  const rate = s.seconds > 0 ? s.bytes / 1e6 / s.seconds : 0;
  return `${mb(s.bytes)} MB, ${s.pages} pages, ${rate.toFixed(1)} MB/s, iteration ${s.iterations}`;
}

/** `vmstate tap`: 0 the migration passed (and the check accepts it), 1 refused or aborted. */
export async function runTap(o: TapCliOptions): Promise<number> {
  const listen = address('--listen', o.listen);
  const forward = address('--forward', o.forward);
  if (o.machine !== undefined && o.check === undefined)
    throw new UsageError('--machine goes with --check RELEASE');
  if (o.abortOnRefusal && o.check === undefined)
    throw new UsageError('--abort-on-refusal needs --check RELEASE (what would refuse?)');
  // The catalog (every device, the x86 cpu) is loaded only for --check: it costs start-up time and memory.
  const verdicts = o.check !== undefined ? await import('../../../vmstate/tap-verdict') : undefined;
  if (o.check !== undefined && !verdicts!.checkableReleases().includes(o.check))
    throw new UsageError(
      `--check: no release '${o.check}' (releases: ${verdicts!.checkableReleases().join(', ')})`,
    );
  const machineProblem =
    o.check !== undefined && o.machine !== undefined
      ? verdicts!.machineProblem(o.check, o.machine)
      : undefined;
  if (machineProblem) throw new UsageError(`--machine: ${machineProblem}`);
  const acceptTimeout = Number(o.acceptTimeout ?? '120');
  if (!Number.isFinite(acceptTimeout) || acceptTimeout <= 0)
    throw new UsageError(`--accept-timeout must be a number of seconds (got '${o.acceptTimeout}')`);
  const check = o.check ? verdicts!.predictCheck(o.check, { machine: o.machine }) : undefined;

  const out = (line: string) => process.stdout.write(line + '\n');
  const tty = !o.json && process.stderr.isTTY;
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) process.stderr.write('\r\x1b[K');
    progressShown = false;
  };
  const onEvent = (e: TapEvent) => {
    if (o.json) {
      if (e.type !== 'progress') out(JSON.stringify(e));
      return;
    }
    if (e.type === 'progress') {
      if (tty) {
        process.stderr.write(`\r\x1b[K${progressLine(e.stats)}`);
        progressShown = true;
      }
      return;
    }
    clearProgress();
    switch (e.type) {
      case 'listening':
        return out(`vmstate tap: listening on ${e.address}, forwarding to ${o.forward}`);
      case 'connected':
        return out(
          `source connected (${e.source}); destination ${e.destination} connected; ${e.forwarding === 'splice' ? 'bytes forwarded in the kernel (splice)' : 'bytes forwarded by this process'}`,
        );
      case 'configuration':
        return out(
          `@${hex(e.offset)} configuration: machine ${e.machineType}${verdictText(e.verdict)}`,
        );
      case 'ram':
        if (e.kind === 'part') return;
        return out(`@${hex(e.offset)} ${e.kind.toUpperCase()} ram (iteration ${e.iteration})`);
      case 'section':
        return out(
          `@${hex(e.offset)} [${e.sectionId}] ${e.kind.toUpperCase()} ${e.idstr}#${e.instance} v${e.version}: ${e.size} bytes${verdictText(e.verdict)}`,
        );
      case 'refusal':
        return out(
          `${e.aborted ? 'ABORTED' : 'would be refused'}: ${e.refusal.where} at ${hex(e.refusal.offset)}: ${e.refusal.reason}${e.aborted ? '; both connections closed before the destination received it' : ''}`,
        );
      case 'eof':
        out(`@${hex(e.offset)} EOF`);
        if (e.verdict) out(verdictLine(e.verdict));
        return;
    }
  };

  let result: TapResult;
  try {
    result = await tapMigration({
      listen,
      forward,
      save: o.save,
      check,
      abortOnRefusal: o.abortOnRefusal,
      onEvent,
      acceptTimeoutMs: acceptTimeout * 1000,
    });
  } catch (e) {
    if (e instanceof TapListenError) throw new UsageError(e.message);
    throw e;
  } finally {
    clearProgress();
  }
  const refused = result.aborted !== undefined || (result.verdict && !result.verdict.accepted);
  if (o.json) {
    out(
      JSON.stringify({
        type: 'summary',
        stats: result.stats,
        verdict: result.verdict,
        aborted: result.aborted,
        saved: result.saved,
      }),
    );
  } else {
    out(
      `${result.aborted ? 'aborted' : 'passed'}: ${result.stats.bytes} bytes from the source, ${result.stats.forwarded} forwarded, ${result.stats.returnBytes} back; ${result.stats.pages} pages in ${result.stats.iterations} RAM iteration(s); ${result.stats.seconds.toFixed(2)} s, CPU ${result.stats.cpuSeconds.toFixed(2)} s`,
    );
    if (result.verdict && !result.aborted) out(verdictLine(result.verdict));
    if (result.saved) out(`saved ${result.saved}`);
    if (result.contents && !result.aborted) {
      const { analysisTree } = await import('../../analyze/tree-format');
      process.stdout.write(analysisTree(result.contents, 'tap'));
    }
  }
  return refused ? 1 : 0;
}

/** The verdict as `vmstate predict` prints it. */
function verdictLine(v: NonNullable<TapResult['verdict']>): string {
  if (!v.prediction) return `verdict: none for ${v.release}: ${v.unknown}`;
  return `verdict: ${formatPrediction(v.prediction)}`;
}
