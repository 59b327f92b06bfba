/**
 * The layer rules of eslint.config.js (README "Architecture") catch an upward load however it is
 * written: static import and export, `import = require`, and `require()` / `import()` calls.
 */
import { ESLint, type Linter } from 'eslint';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const FIXTURE = fs.readFileSync(
  path.join(__dirname, 'fixtures/lint/upward-imports.ts.txt'),
  'utf8',
);
const LAYER_RULES = new Set(['@typescript-eslint/no-restricted-imports', 'no-restricted-syntax']);

/** Lines of the fixture flagged by the layer rules when it is linted as `file`. */
async function flaggedLines(file: string): Promise<number[]> {
  const eslint = new ESLint({
    cwd: ROOT,
    // The project's config, loaded here (jest cannot run eslint's dynamic import of it). The
    // text is not on disk, so no type information: only the layer rules run.
    overrideConfigFile: true,
    overrideConfig: [
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ...(require('../eslint.config.js') as Linter.Config[]),
      { languageOptions: { parserOptions: { projectService: false } } },
    ],
    ruleFilter: ({ ruleId }) => LAYER_RULES.has(ruleId),
  });
  const [result] = await eslint.lintText(FIXTURE, { filePath: path.join(ROOT, file) });
  expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  return [...new Set(result.messages.map((m) => m.line))].sort((a, b) => a - b);
}

function linesMarked(re: RegExp): number[] {
  return FIXTURE.split('\n').flatMap((l, i) => (re.test(l) ? [i + 1] : []));
}

describe('layer lint rules', () => {
  test('src/ outside src/cli: every upward load fails, what a library may load does not', async () => {
    const upward = linesMarked(/\/\/ upward$/);
    expect(upward.length).toBe(11);
    expect(await flaggedLines('src/analyze/upward-imports.ts')).toEqual(upward);
  });

  test('vmstate/: loading src/cli fails, loading the library does not', async () => {
    const cli = linesMarked(/['`]\.\.\/cli\/.*\/\/ upward$/);
    expect(cli.length).toBe(2);
    expect(await flaggedLines('vmstate/devices/upward-imports.ts')).toEqual(cli);
  });

  test('src/cli may load both', async () => {
    expect(await flaggedLines('src/cli/run/upward-imports.ts')).toEqual([]);
  });
});
