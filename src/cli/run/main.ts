/**
 * `vmstate main` (what `npm start` runs): decode a bundled real QEMU 7.2 stream, then migrate
 * random VMs across the simulated releases and print the compatibility matrix, and how the
 * design alternatives fare against it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { openInput } from './input';
import { analysisTree } from '../../analyze/tree-format';
import { readStreamContents } from '../../stream/collect';
import { DESIGN_NAMES, designs, RELEASE_NAMES, releases } from '../../../vmstate/releases';
import { runMatrix } from '../../compat/matrix';
import { x86Platform } from '../../../vmstate/platform';
import { formatMatrix } from './compat';

/** The repository root (streams/ lives there), from the source tree or from dist/. */
function root(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'streams', 'qemu-7.2'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the bundled streams/ directory');
    dir = up;
  }
  return dir;
}

export const BUNDLED_STREAM = path.join('streams', 'qemu-7.2', 'q35-nodefaults-paused.mig');

export async function runMain(opts: { runs?: number } = {}): Promise<string> {
  const runs = opts.runs ?? 100;
  const out: string[] = [];
  const file = path.join(root(), BUNDLED_STREAM);
  const source = await openInput(file);
  let contents;
  try {
    contents = await readStreamContents(source);
  } finally {
    await source.close();
  }
  const outline = analysisTree(contents, BUNDLED_STREAM)
    .split('\n')
    .filter((l) => l && !/^\s/.test(l));
  out.push(
    `1. A real QEMU 7.2 stream, decoded by the VM description it carries (vmstate analyze --format tree ${BUNDLED_STREAM}):`,
    '',
  );
  out.push(...outline.map((l) => `   ${l}`), '');

  out.push('2. The releases, real and simulated (vmstate releases):', '');
  for (const n of RELEASE_NAMES) out.push(`   ${n.padEnd(5)} ${releases[n].summary}`);
  out.push('');
  const all = RELEASE_NAMES.map((n) => releases[n]);
  const matrix = runMatrix({ platform: x86Platform, from: all, to: all, runs });
  out.push(
    `3. Migrating ${runs} random VMs between every pair of releases (vmstate compat --runs ${runs}):`,
    '',
  );
  out.push(
    ...formatMatrix(matrix, new Map(), `vmstate compat --runs ${runs}`)
      .trimEnd()
      .split('\n')
      .map((l) => (l ? `   ${l}` : l)),
    '',
  );

  out.push(
    '4. The design alternatives for nested state against the releases (vmstate compat --design NAME):',
    '',
  );
  for (const d of DESIGN_NAMES) {
    const list = [...all, designs[d]];
    const r = runMatrix({
      platform: x86Platform,
      from: list,
      to: list,
      runs: Math.max(10, Math.round(runs / 3)),
      shrink: false,
    });
    const broken = r.cells.filter(
      (c) => c.violations > 0 && (c.from === designs[d] || c.to === designs[d]),
    );
    const pairs = [...new Set(broken.map((c) => `${c.from.name}->${c.to.name}`))];
    const kinds = ['lossy', 'crash'].filter((k) =>
      broken.some((c) => c.counts[k as 'lossy' | 'crash'] > 0),
    );
    out.push(
      `   ${d.padEnd(19)} ${broken.length === 0 ? 'keeps the property with every release' : `breaks ${pairs.length} pair(s): ${pairs.join(', ')}${kinds.length ? ` (${kinds.join(', ')}!)` : ' (refused, never lossy)'}`}`,
    );
  }
  return `${out.join('\n')}\n`;
}
