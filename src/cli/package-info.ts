import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

let version: string | undefined;

/**
 * The package's version, found by walking up from this file (works from src/ and from dist/).
 * Kept once found: the start-up snapshot (snapshot-main.ts) holds it from its build.
 */
export function packageVersion(): string {
  return (version ??= findVersion());
}

function findVersion(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'vmstate-lab' && pkg.version) return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) return '0.0.0';
    dir = up;
  }
}
