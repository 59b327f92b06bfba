/**
 * Checks a whole migration stream against the device catalog: the stream layer cuts the device
 * sections out by the stream's own vmdesc (independently of the catalog), then each section is
 * decoded with the catalog, encoded again, and described again.
 */
import { ByteReader, type Ctx, type State } from '../../src';
import { readStreamContents } from '../../src/stream/collect';
import { bytesSource } from '../../src/stream/source';
import type { VmdescDevice } from '../../src/stream/vmdesc';
import {
  catalogFor,
  loadSection,
  saveSection,
  type Catalog,
  type MachineConfig,
} from '../../vmstate/catalog-7.2';

export interface SectionCheck {
  /** idstr#instance */
  label: string;
  idstr: string;
  instanceId: number;
  version: number;
  bodyLength: number;
  /** Bytes the catalog decoder consumed (undefined when it threw). */
  consumed?: number;
  /** The section footer sits right after the body the stream layer delimited. */
  footerFollows: boolean;
  reencodedIdentically: boolean;
  /** Our vmdesc entry and the stream's (without name/instance_id), JSON-normalized. */
  ours?: unknown;
  theirs?: unknown;
  /** The decoded state. */
  state?: State;
  error?: string;
}

export interface StreamCheck {
  machineType: string;
  catalog: Catalog;
  checks: SectionCheck[];
  /** idstrs of FULL sections the catalog has no entry for. */
  unknown: string[];
  /** Subsection names the stream's vmdesc shows, as "section: a/b/c" (nested struct subsections included). */
  subsections: string[];
}

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

export async function checkStreamWithCatalog(
  bytes: Uint8Array,
  opts: { ctx?: Ctx; config?: MachineConfig } = {},
): Promise<StreamCheck> {
  const contents = await readStreamContents(bytesSource(bytes));
  const machineType = contents.configuration?.machineType ?? '';
  const catalog = catalogFor(machineType, opts.config);
  const devices = contents.walk.vmdesc?.devices ?? [];
  const ctx = opts.ctx ?? {};
  const checks: SectionCheck[] = [];
  const unknown: string[] = [];
  const subsections: string[] = [];
  for (const e of contents.entries) {
    if (e.type !== 'section' || e.section.kind !== 'full') continue;
    const s = e.section;
    const label = `${s.idstr}#${s.instanceId}`;
    const entry = catalog.lookup(s.idstr);
    if (!entry) {
      unknown.push(s.idstr);
      continue;
    }
    const theirsFull = devices.find((d) => d.name === s.idstr && d.instance_id === s.instanceId) as
      VmdescDevice | undefined;
    const { name: _n, instance_id: _i, ...theirs } = (theirsFull ?? {}) as Record<string, unknown>;
    if (theirsFull) subsections.push(...subsectionsOf(theirsFull).map((n) => `${s.idstr}: ${n}`));
    const check: SectionCheck = {
      label,
      idstr: s.idstr,
      instanceId: s.instanceId,
      version: s.versionId,
      bodyLength: s.body.length,
      footerFollows: s.footer?.offset === s.bodyOffset + s.body.length,
      reencodedIdentically: false,
      theirs: theirsFull ? plain(theirs) : undefined,
    };
    try {
      const r = new ByteReader(s.body, s.bodyOffset);
      const state = loadSection(entry, r, s.versionId, ctx, label);
      check.consumed = r.pos;
      check.state = state;
      const again = saveSection(entry, state, ctx);
      check.reencodedIdentically = Buffer.from(again.bytes).equals(Buffer.from(s.body));
      check.ours = plain(again.vmdesc);
    } catch (err) {
      check.error = err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err);
    }
    checks.push(check);
  }
  return { machineType, catalog, checks, unknown, subsections };
}

/** Every subsection name in a vmdesc entry, depth first, nested struct subsections included. */
function subsectionsOf(v: {
  fields?: Array<{ struct?: unknown; fields?: unknown }>;
  subsections?: unknown[];
}): string[] {
  const out: string[] = [];
  for (const f of v.fields ?? []) {
    if (f.struct) out.push(...subsectionsOf(f.struct as typeof v));
  }
  for (const s of (v.subsections ?? []) as Array<typeof v & { vmsd_name: string }>) {
    out.push(s.vmsd_name, ...subsectionsOf(s));
  }
  return out;
}

/**
 * The per-section verdicts in a form whose expected value is the same for every section, so a
 * failing section shows up by name in the jest diff.
 */
export function verdicts(c: StreamCheck): Array<Record<string, unknown>> {
  return c.checks.map((x) => ({
    section: x.label,
    error: x.error,
    consumedWholeBody: x.consumed === x.bodyLength,
    footerFollows: x.footerFollows,
    reencodedIdentically: x.reencodedIdentically,
  }));
}

export function expectedVerdicts(c: StreamCheck): Array<Record<string, unknown>> {
  return c.checks.map((x) => ({
    section: x.label,
    error: undefined,
    consumedWholeBody: true,
    footerFollows: true,
    reencodedIdentically: true,
  }));
}
