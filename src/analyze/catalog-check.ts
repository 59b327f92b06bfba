/**
 * `vmstate analyze --check-catalog`: decode every device section with the catalog too, and
 * report, field by field, where the stream's own description (what the sending QEMU wrote) and
 * the catalog's (what a receiver built from it expects) part ways. This is how a user finds which
 * field broke a "Missing section footer" load.
 */
import { ByteReader } from '../bytes/reader';
import type { Ctx, State } from '../dsl/kind';
import { VMStateError } from '../errors';
import type { StreamContents } from '../stream/collect';
import type { VmdescField, VmdescVmsd } from '../stream/vmdesc';

/** What the check needs of a catalog (vmstate/catalog-7.2.ts provides it). */
export interface CheckCatalog {
  readonly machineType: string;
  lookup(idstr: string): unknown;
  load(entry: unknown, r: ByteReader, version: number, path: string): State;
  describe(entry: unknown, state: State): { bytes: Uint8Array; vmdesc: unknown };
}

export interface FieldDifference {
  /** Where in the description: `fields[3] env.eip`, `subsections cpu/foo`. */
  path: string;
  what: string;
  stream?: unknown;
  catalog?: unknown;
}

export interface SectionReport {
  section: string;
  offset: number;
  status: 'match' | 'differs' | 'decode-failed' | 'not-in-catalog' | 'no-description';
  differences: FieldDifference[];
  /** When the catalog could not read the section: the typed error's place and message. */
  error?: { offset: number; path: string; message: string };
  /** Bytes the catalog read out of the section's body (the stream's description delimits it). */
  consumed?: number;
  bodyLength: number;
}

export interface CatalogCheckReport {
  machineType: string;
  sections: SectionReport[];
  mismatches: number;
}

export function checkAgainstCatalog(
  contents: StreamContents,
  catalog: CheckCatalog,
): CatalogCheckReport {
  const devices = contents.walk.vmdesc?.devices ?? [];
  const used = new Set<unknown>();
  const sections: SectionReport[] = [];
  for (const e of contents.entries) {
    if (e.type !== 'section' || e.section.kind !== 'full') continue;
    const s = e.section;
    const label = `${s.idstr}#${s.instanceId}`;
    const report: SectionReport = {
      section: label,
      offset: s.offset,
      status: 'match',
      differences: [],
      bodyLength: s.body.length,
    };
    sections.push(report);
    const theirs = devices.find(
      (d) => d.name === s.idstr && d.instance_id === s.instanceId && !used.has(d),
    );
    if (theirs) used.add(theirs);
    const entry = catalog.lookup(s.idstr);
    if (!entry) {
      report.status = 'not-in-catalog';
      continue;
    }
    let state: State;
    const r = new ByteReader(s.body, s.bodyOffset);
    try {
      state = catalog.load(entry, r, s.versionId, label);
    } catch (err) {
      if (!(err instanceof VMStateError)) throw err;
      report.status = 'decode-failed';
      report.error = { offset: err.offset, path: err.path, message: err.what };
    }
    report.consumed = r.pos;
    if (report.status === 'match' && r.pos !== s.body.length)
      report.differences.push({
        path: '',
        what: `the catalog reads ${r.pos} bytes of a ${s.body.length}-byte section`,
        stream: s.body.length,
        catalog: r.pos,
      });
    if (!theirs) {
      if (report.status === 'match')
        report.status = report.differences.length ? 'differs' : 'no-description';
      continue;
    }
    if (report.status === 'match') {
      const ours = catalog.describe(entry, state!).vmdesc as VmdescVmsd;
      diffVmsd(theirs, ours, '', report.differences);
      if (report.differences.length) report.status = 'differs';
    }
  }
  return {
    machineType: catalog.machineType,
    sections,
    mismatches: sections.filter((s) => s.status === 'differs' || s.status === 'decode-failed')
      .length,
  };
}

const KEYS: (keyof VmdescField)[] = ['name', 'type', 'size', 'array_len', 'index'];

function diffVmsd(a: VmdescVmsd, b: VmdescVmsd, path: string, out: FieldDifference[]): void {
  if (a.vmsd_name !== b.vmsd_name)
    out.push({
      path: path || '.',
      what: 'description name',
      stream: a.vmsd_name,
      catalog: b.vmsd_name,
    });
  if (a.version !== b.version)
    out.push({ path: path || '.', what: 'version', stream: a.version, catalog: b.version });
  const n = Math.max(a.fields.length, b.fields.length);
  for (let i = 0; i < n; i++) {
    const fa = a.fields[i];
    const fb = b.fields[i];
    const at = `${path}fields[${i}] ${fa?.name ?? fb?.name}`;
    if (!fa) {
      out.push({ path: at, what: 'field only in the catalog', catalog: brief(fb) });
      continue;
    }
    if (!fb) {
      out.push({ path: at, what: 'field only in the stream', stream: brief(fa) });
      continue;
    }
    for (const k of KEYS)
      if (fa[k] !== fb[k]) out.push({ path: at, what: k, stream: fa[k], catalog: fb[k] });
    if (fa.struct || fb.struct) {
      if (!fa.struct || !fb.struct)
        out.push({ path: at, what: 'struct', stream: !!fa.struct, catalog: !!fb.struct });
      else diffVmsd(fa.struct, fb.struct, `${at} > `, out);
    }
    if (fa.fields || fb.fields)
      diffVmsd(
        {
          vmsd_name: fa.vmsd_name,
          version: fa.version,
          fields: fa.fields ?? [],
          subsections: fa.subsections,
        },
        {
          vmsd_name: fb.vmsd_name,
          version: fb.version,
          fields: fb.fields ?? [],
          subsections: fb.subsections,
        },
        `${at} > `,
        out,
      );
  }
  const sa = a.subsections ?? [];
  const sb = b.subsections ?? [];
  for (const sub of sa) {
    const other = sb.find((x) => x.vmsd_name === sub.vmsd_name);
    if (!other)
      out.push({
        path: `${path}subsection ${sub.vmsd_name}`,
        what: 'sent by the stream, not produced by the catalog for this state',
      });
    else diffVmsd(sub, other, `${path}${sub.vmsd_name} > `, out);
  }
  for (const sub of sb)
    if (!sa.some((x) => x.vmsd_name === sub.vmsd_name))
      out.push({
        path: `${path}subsection ${sub.vmsd_name}`,
        what: 'the catalog would send it for this state; the stream did not',
      });
}

function brief(f: VmdescField | undefined): unknown {
  return (
    f && {
      name: f.name,
      type: f.type,
      size: f.size,
      ...(f.array_len ? { array_len: f.array_len } : {}),
    }
  );
}

/** Where the catalog came from: its release, and what was assumed or differs on the way. */
export interface CheckContext {
  readonly release?: string;
  /** Assumptions and machine-type differences, one line each. */
  readonly notes?: readonly string[];
  /** The stream carries a VM description (else there is nothing to compare). */
  readonly described?: boolean;
}

export function formatCatalogCheck(
  r: CatalogCheckReport,
  file: string,
  host?: string,
  context: CheckContext = {},
): string {
  const against = context.release
    ? `the ${context.release} catalog on machine type ${r.machineType}`
    : `the ${r.machineType} catalog`;
  if (context.described === false)
    return (
      [
        `${file}: nothing to compare: the stream carries no VM description, so only ${against} says how its sections read (vmstate analyze decodes them by it)`,
        ...(context.notes ?? []).map((n) => `  note: ${n}`),
      ].join('\n') + '\n'
    );
  const lines = [
    `${file}: checked against ${against}${host ? ` (as written by a ${host} host)` : ''}: ${r.mismatches} section(s) differ`,
    ...(context.notes ?? []).map((n) => `  note: ${n}`),
  ];
  for (const s of r.sections) {
    const where = `@0x${s.offset.toString(16)} ${s.section}`;
    if (s.status === 'match') lines.push(`  ok       ${where}`);
    else if (s.status === 'not-in-catalog') lines.push(`  unknown  ${where}: no catalog entry`);
    else if (s.status === 'no-description')
      lines.push(
        `  ok       ${where} (the stream does not describe it; the catalog reads it whole)`,
      );
    else if (s.status === 'decode-failed')
      lines.push(
        `  FAILED   ${where}: the catalog cannot read it: ${s.error!.message} at 0x${s.error!.offset.toString(16)} (${s.error!.path})`,
      );
    else lines.push(`  DIFFERS  ${where}`);
    for (const d of s.differences) {
      const vals =
        'stream' in d || 'catalog' in d
          ? `: stream ${JSON.stringify(d.stream)}, catalog ${JSON.stringify(d.catalog)}`
          : '';
      lines.push(`           ${d.path}: ${d.what}${vals}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export type { Ctx };
