/** `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run. */
import { benchAnalyze } from './analyze';
import { benchCompat } from './compat';
import { benchDiff, benchTap } from './diff-tap';
import { benchEngine } from './engine';
import { benchRealMatrix } from './real-matrix';
import { benchExplore } from './explore';
import { benchFuzzCuts } from './fuzz-cuts';

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  if (want('engine')) benchEngine();
  if (want('compat')) await benchCompat();
  if (want('analyze')) await benchAnalyze();
  if (want('real-matrix')) await benchRealMatrix();
  if (want('diff')) await benchDiff();
  if (want('tap')) await benchTap();
  if (want('explore')) await benchExplore();
  if (want('fuzz-cuts')) await benchFuzzCuts();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
