/**
 * Preloaded (node -r) into benchmarked child processes: at exit, appends the process's peak RSS in
 * KiB to the file named by VMSTATE_BENCH_RSS_FILE, so the whole-process figure includes start-up.
 */
import * as fs from 'fs';

const target = process.env.VMSTATE_BENCH_RSS_FILE;
if (target) {
  process.on('exit', () => {
    fs.appendFileSync(target, `${process.resourceUsage().maxRSS}\n`);
  });
}
