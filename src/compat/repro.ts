/**
 * Reproductions of a failing migration: the stream the source writes (with its VM description,
 * so `vmstate analyze` opens it) and the VM state as JSON (the format `vmstate generate --state`
 * reads), written into VMSTATE_REPRO_DIR or a fresh temporary directory.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tempNameBeside } from '../stream/atomic-file';
import type { Cell, Counterexample } from './matrix';
import type { Vm } from './migrate';
import type { Platform } from './platform';
import type { Release } from './release';

export interface ReproFiles {
  readonly dir: string;
  /** The source's stream, when the source writes one. */
  readonly stream?: string;
  readonly state: string;
  /** Commands that replay it. */
  readonly commands: string[];
}

/** The directory reproductions go to: $VMSTATE_REPRO_DIR (created if needed) or a new temporary one. */
export function reproDir(): string {
  const dir = process.env.VMSTATE_REPRO_DIR;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-repro-'));
}

/** Writes a file whole or not at all. */
function writeWhole(target: string, data: string | Uint8Array): void {
  const tmp = tempNameBeside(target);
  try {
    fs.writeFileSync(tmp, data, { flag: 'wx' });
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** The VM state in `vmstate generate --state` form. */
export function vmStateJsonText(platform: Platform, vm: Vm, release: Release): string {
  return `${JSON.stringify(platform.stateJson(vm, release), null, 2)}\n`;
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

export function writeRepro(
  platform: Platform,
  cell: Cell,
  cx: Counterexample,
  dir = reproDir(),
): ReproFiles {
  const stem = safe(`${cell.from.name}-to-${cell.to.name}-${cell.machine}`);
  const state = path.join(dir, `${stem}.state.json`);
  writeWhole(state, vmStateJsonText(platform, cx.vm, cell.from));
  const generated = platform.generateStream(cell.from, cell.machine, cx.vm, { lossy: true });
  let stream: string | undefined;
  if (generated.ok) {
    stream = path.join(dir, `${stem}.mig`);
    writeWhole(stream, generated.bytes);
  }
  const rel = (n: string) => (/^[\w.-]+$/.test(n) ? n : JSON.stringify(n));
  const commands = [
    ...(stream ? [`vmstate analyze ${stream}`] : []),
    `vmstate generate --release ${rel(cell.from.name)} --machine ${cell.machine} --state ${state} --lossy -o out.mig`,
    `vmstate compat --from ${rel(cell.from.name)} --to ${rel(cell.to.name)} --machine ${cell.machine} --state ${state}`,
  ];
  return { dir, stream, state, commands };
}
