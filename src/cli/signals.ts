import { removeLiveTemps } from '../stream/atomic-file';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * An interrupted run leaves no half-written output: on SIGINT, SIGTERM or SIGHUP the temporary
 * files being written are removed. When nothing else listens for the signal (explore --serve
 * does, to stop its server), the process then dies of it as if no handler were installed
 * (exit status 128 + n), which is what a shell or a supervisor expects.
 */
export function removeTempsOnSignals(): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    removeLiveTemps();
    if (process.listenerCount(signal) > 1) return;
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', () => removeLiveTemps());
}
