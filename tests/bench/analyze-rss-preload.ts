/**
 * Preloaded (node -r) into benchmarked child processes: at exit, appends the process's peak RSS in
 * KiB to the file named by VMSTATE_BENCH_RSS_FILE, so the whole-process figure includes start-up.
 * VmHWM (Linux) counts only this program: getrusage's maxrss also counts the pages the child
 * shared with the bench before exec, which is large once the bench has run its other parts.
 * VMSTATE_BENCH_CPU_FILE likewise gets the process's CPU time (user + system, microseconds).
 */
import * as fs from 'fs';

function peakKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

const target = process.env.VMSTATE_BENCH_RSS_FILE;
if (target) {
  process.on('exit', () => {
    fs.appendFileSync(target, `${peakKiB()}\n`);
  });
}

const cpuTarget = process.env.VMSTATE_BENCH_CPU_FILE;
if (cpuTarget) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    fs.appendFileSync(cpuTarget, `${u.userCPUTime + u.systemCPUTime}\n`);
  });
}
