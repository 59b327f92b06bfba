/**
 * The `vmstate` executable. `--version` alone is answered before commander and the command
 * modules load (it is the start-up figure of the bench); everything else goes to main.ts.
 */
import { packageVersion } from './package-info';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${packageVersion()}\n`);
} else {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./main') as typeof import('./main')).runMain(process.argv);
}
