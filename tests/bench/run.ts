/** `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run. */
import { benchEngine } from './engine';

async function main(): Promise<void> {
  benchEngine();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
