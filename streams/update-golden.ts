/**
 * Rewrites streams/golden/ (every release x scenario stream and manifest.json) from the current
 * catalog, after an intended change: `npm run golden`. The test (tests/releases-golden.test.ts)
 * only compares, so it can always fail.
 */
import * as fs from 'fs';
import * as path from 'path';
import { goldenCases, goldenManifest } from '../vmstate/releases/golden';

const ROOT = path.join(__dirname, 'golden');
const cases = goldenCases();
fs.rmSync(ROOT, { recursive: true, force: true });
for (const c of cases) {
  if (!c.outcome.ok) continue;
  const p = path.join(ROOT, c.file!);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, c.outcome.bytes);
}
fs.writeFileSync(
  path.join(ROOT, 'manifest.json'),
  `${JSON.stringify(goldenManifest(cases), null, 2)}\n`,
);
console.log(`${cases.filter((c) => c.outcome.ok).length} golden streams and manifest.json written to ${ROOT}`);
