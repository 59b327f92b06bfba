/**
 * What a release argument of `vmstate check` / `vmstate compat` names: a simulated release, a
 * design alternative, a user's TypeScript/JavaScript module exporting a release, or (for check)
 * a QEMU -dump-vmstate JSON file.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import { UsageError } from '../../errors';
import { DESIGN_NAMES, designs, RELEASE_NAMES, releases } from '../../../vmstate/releases';
import type { Release } from '../../../vmstate/releases/types';
import { loadUserModule, ModuleLoadError, releaseFromModule } from '../../compat/load-module';
import { fromDumpJson, type CheckSet } from '../../compat/static/model';

/** An input file that cannot be used (exit 3): unreadable, not JSON, TypeScript errors, no release in it. */
export class BadInputFile extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

export type Operand =
  | {
      readonly kind: 'release';
      readonly release: Release;
      readonly label: string;
      readonly from: 'builtin' | 'module';
    }
  | { readonly kind: 'dump'; readonly set: CheckSet; readonly label: string };

const MODULE = /\.(c|m)?[jt]s$/;

export const operandHelp = () =>
  `releases: ${RELEASE_NAMES.join(', ')}; designs: ${DESIGN_NAMES.join(', ')}; or a path to a .ts/.js module exporting a release`;

/** A release or design by name, or from a module path. */
export function resolveRelease(spec: string, what: string): Release {
  const o = resolveOperand(spec, what, false);
  if (o.kind !== 'release')
    throw new UsageError(`${what}: '${spec}' is a -dump-vmstate file, not a release`);
  return o.release;
}

export function resolveOperand(spec: string, what: string, dumps = true): Operand {
  const named = releases[spec] ?? designs[spec];
  if (named) return { kind: 'release', release: named, label: spec, from: 'builtin' };
  if (MODULE.test(spec)) {
    try {
      // A module's release is made by defineRelease (load-module checks only the generic shape).
      const release = releaseFromModule(spec, loadUserModule(spec)) as Release;
      return { kind: 'release', release, label: release.name, from: 'module' };
    } catch (e) {
      if (e instanceof ModuleLoadError) throw new BadInputFile(spec, e.message, e.diagnostics);
      throw e;
    }
  }
  if (dumps && /\.json(\.gz)?$/.test(spec)) {
    let text: string;
    try {
      const bytes = fs.readFileSync(spec);
      text = (spec.endsWith('.gz') ? gunzipOrBad(spec, bytes) : bytes).toString('utf8');
    } catch (e) {
      if (e instanceof BadInputFile) throw e;
      // A path that cannot be opened is a usage error (exit 2); its content is the input's (3).
      throw new UsageError(
        `cannot open ${spec}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new BadInputFile(spec, `${spec}: not JSON: ${(e as Error).message}`);
    }
    try {
      const set = fromDumpJson(json, spec);
      return { kind: 'dump', set, label: spec };
    } catch (e) {
      throw new BadInputFile(spec, (e as Error).message);
    }
  }
  if (fs.existsSync(spec))
    throw new BadInputFile(
      spec,
      `${spec}: not a ${dumps ? '-dump-vmstate .json file or a ' : ''}.ts/.js module`,
    );
  throw new UsageError(
    `${what}: unknown release '${spec}' (${operandHelp()}${dumps ? ', or a -dump-vmstate .json file' : ''})`,
  );
}

function gunzipOrBad(spec: string, bytes: Buffer): Buffer {
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: 256 << 20 });
  } catch (e) {
    throw new BadInputFile(spec, `${spec}: not gzip data: ${(e as Error).message}`);
  }
}

/** Prints a BadInputFile as the CLI does and gives its exit code (3). */
export function reportBadInput(e: BadInputFile): number {
  process.stderr.write(`vmstate: ${e.message}\n`);
  for (const d of e.details) process.stderr.write(`  ${d}\n`);
  return 3;
}
