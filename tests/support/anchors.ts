/**
 * QEMU's own scripts, run side by side with ours: scripts/analyze-migration.py and
 * scripts/vmstate-static-checker.py (Python 3). They are not part of the project: they live in
 * the workspace's shared/anchors beside the repo (CI lays a copy there too), or wherever
 * ANALYZE_MIGRATION_PY / VMSTATE_STATIC_CHECKER_PY point.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** shared/anchors beside the repo: found by walking up, so it works from tests/ and from dist/tests/. */
function anchorsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'anchors');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '../../../shared/anchors');
  }
}
const ANCHORS = anchorsDir();

export function analyzeMigrationPy(): string {
  return process.env.ANALYZE_MIGRATION_PY || path.join(ANCHORS, 'analyze-migration.py');
}

export function staticCheckerPy(): string {
  return process.env.VMSTATE_STATIC_CHECKER_PY || path.join(ANCHORS, 'vmstate-static-checker.py');
}

export function anchorsAvailable(): boolean {
  return fs.existsSync(analyzeMigrationPy());
}

/** Runs analyze-migration.py on FILE (`-d state` or `-d desc`); its stdout, or throws with stderr. */
export function runAnalyzeMigration(file: string, dump: 'state' | 'desc' = 'state'): string {
  const r = spawnSync('python3', [analyzeMigrationPy(), '-f', file, '-d', dump], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    timeout: 120_000,
  });
  if (r.status !== 0) {
    throw new Error(
      `analyze-migration.py ${file} exited ${r.status}: ${r.stderr || r.error?.message}`,
    );
  }
  return r.stdout;
}
