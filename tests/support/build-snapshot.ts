/**
 * A throwaway user-land start-up snapshot of this node: `main` (a script calling
 * v8.startupSnapshot.setDeserializeMainFunction) written into `dir` and built into a blob there.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export function buildTestSnapshot(
  dir: string,
  main: string,
  env: NodeJS.ProcessEnv,
): { script: string; blobFile: string } {
  const script = path.join(dir, 'main.js');
  const blobFile = path.join(dir, 'snap.blob');
  fs.writeFileSync(script, main);
  const built = spawnSync(
    process.execPath,
    ['--snapshot-blob', blobFile, '--build-snapshot', script],
    {
      env,
      encoding: 'utf8',
    },
  );
  expect([built.status, built.stderr]).toEqual([0, '']);
  return { script, blobFile };
}
