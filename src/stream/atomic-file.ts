import * as fs from 'fs';
import * as path from 'path';

/** A temporary name beside `target`, so the final rename stays within one file system. */
export function tempNameBeside(target: string): string {
  const dir = path.dirname(path.resolve(target));
  const base = path.basename(target);
  return path.join(dir, `.${base}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
}

/**
 * Writes a file whole or not at all: `body` gets a descriptor of a temporary file beside
 * `target`; on success it is synced and renamed over `target`, on failure removed.
 */
export async function writeFileAtomically<T>(
  target: string,
  body: (fd: number) => Promise<T>,
): Promise<T> {
  const tmp = tempNameBeside(target);
  const fd = fs.openSync(tmp, 'wx', 0o644);
  let closed = false;
  try {
    const result = await body(fd);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    closed = true;
    fs.renameSync(tmp, target);
    return result;
  } catch (e) {
    if (!closed) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Fills a directory whole or not at all: `body` writes into a temporary directory beside
 * `target`, which is then renamed to `target` (which must not exist, or be an empty directory).
 */
export async function writeDirAtomically<T>(
  target: string,
  body: (dir: string) => Promise<T>,
): Promise<T> {
  const tmp = tempNameBeside(target);
  fs.mkdirSync(tmp, { mode: 0o755 });
  try {
    const result = await body(tmp);
    if (fs.existsSync(target)) fs.rmdirSync(target); // only succeeds when empty
    fs.renameSync(tmp, target);
    return result;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
