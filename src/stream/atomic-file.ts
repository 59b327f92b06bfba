import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from '../errors';

/**
 * Output files and directories are written whole or not at all: into a temporary name beside the
 * target (so the final rename stays within one file system), renamed over it at the end.
 *
 * Temporary names are `.NAME.tmp-PID-RANDOM`. A run that is interrupted by SIGINT, SIGTERM or
 * SIGHUP removes its own (the CLI's handlers call removeLiveTemps); one killed outright (SIGKILL, a crash) leaves them, and the next run
 * that writes the same NAME removes those whose PID is no longer alive.
 */

/** A path that cannot be written: a usage error (exit 2) naming it. */
export class OutputPathError extends UsageError {
  constructor(
    readonly target: string,
    reason: string,
  ) {
    super(`cannot write ${target}: ${reason}`);
  }
}

const TEMP_MARK = '.tmp-';

/** A temporary name beside `target`. */
export function tempNameBeside(target: string): string {
  const dir = path.dirname(path.resolve(target));
  const base = path.basename(target);
  return path.join(
    dir,
    `.${base}${TEMP_MARK}${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
  );
}

/** Removes temporary files and directories left beside `target` by runs that no longer exist. */
export function removeStaleTemps(target: string): string[] {
  const dir = path.dirname(path.resolve(target));
  const prefix = `.${path.basename(target)}${TEMP_MARK}`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// Removal on signals. The library only keeps the list: the CLI (src/cli/signals.ts) owns the
// process's signal handlers and calls removeLiveTemps when one arrives; a program that embeds
// the library decides for itself.

const liveTemps = new Set<string>();

/** Removes the temporary files and directories this process is still writing; returns how many. */
export function removeLiveTemps(): number {
  const n = liveTemps.size;
  for (const t of liveTemps) {
    try {
      fs.rmSync(t, { recursive: true, force: true });
    } catch {
      // best effort: the next run removes what is left
    }
  }
  liveTemps.clear();
  return n;
}

function watch(tmp: string): void {
  liveTemps.add(tmp);
}

function unwatch(tmp: string): void {
  liveTemps.delete(tmp);
}

/** The temporary files of this process that are still being written (for tests). */
export function liveTempNames(): string[] {
  return [...liveTemps];
}

// ---------------------------------------------------------------------------------------------
// Checks.

/** Why errno `code` means `target` cannot be written, in words. */
function reason(e: unknown, dir: string): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  switch (code) {
    case 'ENOENT':
      return `directory ${dir} does not exist`;
    case 'ENOTDIR':
      return `${dir} is not a directory`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied in ${dir}`;
    case 'EROFS':
      return `${dir} is on a read-only file system`;
    case 'EISDIR':
      return 'it is a directory';
    default:
      return code || (e as Error).message;
  }
}

/**
 * Checks that `target` can be created or replaced as a `kind`, before any work is done; throws
 * OutputPathError (exit 2) naming it when it cannot.
 */
export function checkOutputPath(target: string, kind: 'file' | 'dir'): void {
  if (target === '') throw new OutputPathError(target, 'empty path');
  if (kind === 'file' && isSpecialFile(target)) return; // written in place: no rename in its directory
  const dir = path.dirname(path.resolve(target));
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw new OutputPathError(target, reason(e, dir));
  }
  if (!st.isDirectory()) throw new OutputPathError(target, `${dir} is not a directory`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new OutputPathError(target, reason(e, dir));
  }
  const existing = fs.statSync(target, { throwIfNoEntry: false });
  if (existing) {
    if (kind === 'file' && existing.isDirectory())
      throw new OutputPathError(target, 'it is a directory');
    if (kind === 'dir' && !existing.isDirectory())
      throw new OutputPathError(target, 'it exists and is not a directory');
  }
}

/**
 * Whether `target`, through any symlinks, is an existing file that is neither a regular file nor
 * a directory: a device (/dev/null), a FIFO or a socket (/dev/stdout is a symlink to one of
 * these or to a file). Such a target is written in place: renaming a temporary file over it
 * would replace the device with a plain file (`-o /dev/null` run as root would do that to the
 * whole machine's /dev/null), and "whole or not at all" means nothing for a pipe.
 */
export function isSpecialFile(target: string): boolean {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(target, { throwIfNoEntry: false });
  } catch {
    return false; // ENOTDIR, EACCES...: checkOutputPath names the reason
  }
  return st !== undefined && !st.isFile() && !st.isDirectory();
}

/**
 * The path whose directory entry a write of `target` replaces: a symlink's file (the link stays
 * a link, as `cp` writes through it), otherwise `target` itself (a dangling link included).
 */
function entryToReplace(target: string): string {
  if (!fs.lstatSync(target, { throwIfNoEntry: false })?.isSymbolicLink()) return target;
  try {
    return fs.realpathSync(target);
  } catch {
    return target;
  }
}

/** Runs a file-system step of writing `target`, turning errno failures into OutputPathError. */
function step<T>(target: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === undefined) throw e;
    throw new OutputPathError(target, reason(e, path.dirname(path.resolve(target))));
  }
}

// ---------------------------------------------------------------------------------------------
// Writers.

/**
 * How durable an output is. "Whole or not at all" is about what can be seen under the target's
 * name: the rename happens only after every byte was written, so a reader, an interrupted run or
 * a crashed process never leaves or finds half a file there. That needs no fsync. Only a power
 * loss (or a kernel crash) can lose written data that the kernel had not yet put on the disk;
 * surviving that is `fsync: true` (the data, then the directory entry after the rename), which
 * waits for the disk and costs as much as the whole write again. Like cp, tar or qemu-img the
 * default leaves that to the caller (`sync FILE` afterwards).
 */
export interface AtomicWriteOptions {
  /** Sync the file before the rename and its directory after, so it survives a power loss. */
  fsync?: boolean;
}

/** Syncs a directory's entries (a rename in it), where the file system allows opening one. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * A file being written whole or not at all (openFileAtomically): write to `fd`, then `commit`
 * (it appears under its name) or `discard` (nothing appears). `tmp` is the temporary name, absent
 * for a special file written in place.
 */
export interface AtomicFile {
  readonly fd: number;
  readonly tmp?: string;
  commit(): void;
  discard(): void;
}

/**
 * Opens `target` to be written whole or not at all, for a writer that cannot say what it writes
 * in one call (a stream saved as it passes): a temporary file beside `target` that `commit`
 * renames over it (synced first with `fsync`), `discard` removes, and an interrupted run's signal
 * handlers remove too. A symlink's file is replaced, not the link. A special file (isSpecialFile:
 * /dev/null, a FIFO) is opened and written in place. Throws OutputPathError when `target`
 * cannot be written.
 */
export function openFileAtomically(target: string, opts: AtomicWriteOptions = {}): AtomicFile {
  checkOutputPath(target, 'file');
  if (isSpecialFile(target)) {
    const fd = step(target, () => fs.openSync(target, 'w'));
    let open = true;
    const close = () => {
      if (open) fs.closeSync(fd);
      open = false;
    };
    return { fd, commit: close, discard: close };
  }
  const entry = entryToReplace(target);
  if (entry !== target) checkOutputPath(entry, 'file');
  removeStaleTemps(entry);
  const tmp = tempNameBeside(entry);
  const fd = step(entry, () => fs.openSync(tmp, 'wx', 0o644));
  watch(tmp);
  let state: 'open' | 'closed' | 'done' = 'open';
  const discard = () => {
    if (state === 'done') return;
    if (state === 'open') fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    unwatch(tmp);
    state = 'done';
  };
  return {
    fd,
    tmp,
    commit: () => {
      if (state !== 'open') throw new Error(`${target}: already committed or discarded`);
      try {
        if (opts.fsync) step(entry, () => fs.fsyncSync(fd));
        fs.closeSync(fd);
        state = 'closed';
        step(entry, () => fs.renameSync(tmp, entry));
        unwatch(tmp);
        state = 'done';
        if (opts.fsync) step(entry, () => fsyncDir(path.dirname(path.resolve(entry))));
      } catch (e) {
        discard();
        throw e;
      }
    },
    discard,
  };
}

/**
 * Writes a file whole or not at all: `body` gets a descriptor of a temporary file beside
 * `target` (and its name); on success it is renamed over `target` (synced first with
 * `fsync`), on failure removed. A symlink's file is replaced, not the link. A special file
 * (isSpecialFile: /dev/null, a FIFO) is opened and written in place, and `body` gets no
 * temporary name.
 */
export async function writeFileAtomically<T>(
  target: string,
  body: (fd: number, tmp: string | undefined) => Promise<T>,
  opts: AtomicWriteOptions = {},
): Promise<T> {
  const file = openFileAtomically(target, opts);
  let result: T;
  try {
    result = await body(file.fd, file.tmp);
  } catch (e) {
    file.discard();
    throw e;
  }
  file.commit();
  return result;
}

/**
 * Fills a directory whole or not at all: `body` writes into a temporary directory beside
 * `target`, which then takes the place of `target`. An existing `target` directory is replaced
 * whole (moved aside under a temporary name, then removed), so running again into the same
 * directory gives exactly the new contents; `mayReplace` may refuse that by throwing.
 *
 * `removeFirst` removes an existing `target` before `body` runs instead of after: a failed run
 * then leaves no `target` at all (never a mix); with `reuse`, what `body` did not take of it is
 * removed after `body`, as a failed run's. It lets a large output reuse the page-cache
 * memory of the one it replaces: on a VM whose free memory goes back to the host, writing 1 GiB
 * into fresh memory cost 3.8-5.6 s of system time, into just-freed memory 0.5 s.
 */
export async function writeDirAtomically<T>(
  target: string,
  body: (dir: string, earlier: string | undefined) => Promise<T>,
  mayReplace: (existing: string) => void = () => {},
  opts: {
    removeFirst?: boolean;
    /**
     * With removeFirst: the existing `target`, moved aside, is handed to `body` as `earlier`
     * (which may move files out of it into its own directory) and removed after it.
     */
    reuse?: boolean;
  } = {},
): Promise<T> {
  checkOutputPath(target, 'dir');
  if (fs.existsSync(target)) mayReplace(target);
  removeStaleTemps(target);
  let earlier: string | undefined;
  if (opts.removeFirst && fs.existsSync(target)) {
    const old = tempNameBeside(target);
    watch(old);
    step(target, () => fs.renameSync(target, old));
    if (opts.reuse) earlier = old;
    else {
      fs.rmSync(old, { recursive: true, force: true });
      unwatch(old);
    }
  }
  const dropEarlier = () => {
    if (earlier === undefined) return;
    fs.rmSync(earlier, { recursive: true, force: true });
    unwatch(earlier);
    earlier = undefined;
  };
  const tmp = tempNameBeside(target);
  try {
    step(target, () => fs.mkdirSync(tmp, { mode: 0o755 }));
  } catch (e) {
    dropEarlier();
    throw e;
  }
  watch(tmp);
  try {
    const result = await body(tmp, earlier);
    dropEarlier();
    if (fs.existsSync(target)) {
      const old = tempNameBeside(target);
      watch(old);
      step(target, () => fs.renameSync(target, old));
      step(target, () => fs.renameSync(tmp, target));
      fs.rmSync(old, { recursive: true, force: true });
      unwatch(old);
    } else step(target, () => fs.renameSync(tmp, target));
    return result;
  } catch (e) {
    dropEarlier();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    unwatch(tmp);
  }
}
