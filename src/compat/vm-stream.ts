/**
 * A simulated QEMU's side of a migration, in memory and synchronous: the source writes its
 * device sections as a whole stream (header, configuration, FULL sections with footers, EOF;
 * the trailing VM description is left out since no loader reads it), the destination reads
 * them back with its own catalog and fails wherever QEMU's loadvm would. Faster than the
 * chunked stream layer, which is asynchronous and built for files of any size.
 */
import { ByteReader } from '../bytes/reader';
import { ByteWriter } from '../bytes/writer';
import type { Ctx, State } from '../dsl/kind';
import { loadFrom } from '../engine/load';
import { saveInto } from '../engine/save';
import { MalformedError, UnsupportedError, readingAt } from '../errors';
import { decodeConfiguration } from '../stream/configuration';
import { FILE_MAGIC, FILE_VERSION, SectionType } from '../stream/constants';
import { writeDeviceSections, writeStreamHead } from '../stream/generate-framing';
import { MachineTypeMismatchError, SectionFooterError, UnknownSectionError } from './errors';
import { sectionKey, type CatalogSection, type VmStates } from './release';

/** Sections in the order QEMU saves them: higher priority first, then registration order. */
const orderCache = new WeakMap<readonly CatalogSection[], CatalogSection[]>();
export function saveOrder(catalog: readonly CatalogSection[]): CatalogSection[] {
  let o = orderCache.get(catalog);
  if (!o) {
    o = catalog
      .map((c, i) => ({ c, i }))
      .sort((a, b) => b.c.priority - a.c.priority || a.i - b.i)
      .map((x) => x.c);
    orderCache.set(catalog, o);
  }
  return o;
}

/**
 * The section states that go on the wire, in save order: those the VM has, minus sections whose
 * top-level needed() is false. The one answer to "which sections are sent" (generate uses it too).
 */
export function sectionsSent(
  catalog: readonly CatalogSection[],
  states: VmStates,
  ctx: Ctx,
): { section: CatalogSection; key: string; state: State }[] {
  const out: { section: CatalogSection; key: string; state: State }[] = [];
  for (const c of saveOrder(catalog)) {
    const key = sectionKey(c.name, c.instance);
    const s = states[key];
    if (!s) continue;
    if (c.vmsd.needed && !c.vmsd.needed(s, ctx)) continue;
    out.push({ section: c, key, state: s as State });
  }
  return out;
}

/**
 * The device part of a stream a source writes: every FULL section with its footer, then EOF
 * (VMStateErrors from the engine pass through: the source refuses to save).
 */
export function encodeSections(
  catalog: readonly CatalogSection[],
  states: VmStates,
  ctx: Ctx,
): Uint8Array {
  const w = new ByteWriter(16 * 1024);
  writeDeviceSections(
    w,
    sectionsSent(catalog, states, ctx).map(({ section: c, state }) => ({
      sectionId: c.sectionId,
      idstr: c.name,
      instanceId: c.instance,
      version: c.vmsd.version_id,
      writeBody: (out: ByteWriter) =>
        void saveInto(out, c.vmsd, state, { ctx, path: `${c.name}#${c.instance}` }),
    })),
  );
  return w.finish();
}

/** Header and configuration (the machine type) before the device part. */
export function streamHead(machineType: string): Uint8Array {
  const w = new ByteWriter(64);
  writeStreamHead(w, machineType);
  return w.finish();
}

/** The whole stream a source writes on a machine type. */
export function encodeVmStream(
  catalog: readonly CatalogSection[],
  machineType: string,
  states: VmStates,
  ctx: Ctx,
): Uint8Array {
  return concat(streamHead(machineType), encodeSections(catalog, states, ctx));
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * What the destination holds after loading a whole stream: the machine type in the
 * configuration must be its own, then the device part as decodeSections reads it.
 */
export function decodeVmStream(
  catalog: readonly CatalogSection[],
  machineType: string,
  bytes: Uint8Array,
  ctx: Ctx,
): Record<string, State> {
  const r = new ByteReader(bytes);
  const magic = readingAt('header', () => r.u32());
  if (magic !== FILE_MAGIC)
    throw new MalformedError(`not a migration stream: magic 0x${magic.toString(16)}`, 0, 'header');
  const version = readingAt('header', () => r.u32());
  if (version !== FILE_VERSION)
    throw new UnsupportedError(`unsupported migration stream version ${version}`, 4, 'header');
  if (r.peek() === SectionType.CONFIGURATION) {
    const at = r.offset;
    r.u8();
    const config = decodeConfiguration(r, 0);
    if (config.machineType !== machineType)
      throw new MachineTypeMismatchError(config.machineType, machineType, at + 1);
  }
  return readSections(catalog, r, ctx);
}

/**
 * Loads a device part (sections up to EOF) with a catalog: each section the catalog knows is
 * loaded from its initial state; `base` is the part's offset in its stream, for error offsets.
 * Throws a VMStateError where QEMU's loadvm fails.
 */
export function decodeSections(
  catalog: readonly CatalogSection[],
  bytes: Uint8Array,
  ctx: Ctx,
  base = 0,
): Record<string, State> {
  return readSections(catalog, new ByteReader(bytes, base), ctx);
}

function readSections(
  catalog: readonly CatalogSection[],
  r: ByteReader,
  ctx: Ctx,
): Record<string, State> {
  const out: Record<string, State> = {};
  for (;;) {
    const at = r.offset;
    const type = r.u8();
    if (type === SectionType.EOF) return out;
    if (type !== SectionType.FULL)
      throw new MalformedError(
        `unexpected record type 0x${type.toString(16)} in a device-state stream`,
        at,
        '',
      );
    const sectionId = r.u32();
    const idstr = r.countedString();
    const instance = r.u32();
    const versionId = r.u32();
    const c = catalog.find((x) => x.name === idstr && x.instance === instance);
    if (!c) throw new UnknownSectionError(idstr, instance, at);
    const path = `${idstr}#${instance}`;
    out[sectionKey(idstr, instance)] = loadFrom(r, c.vmsd, versionId, { ctx, path });
    const footerAt = r.offset;
    const footer = readingAt(path, () => r.u8());
    if (footer !== SectionType.FOOTER)
      throw new SectionFooterError(
        `missing section footer for ${idstr} (found byte 0x${footer.toString(16)})`,
        footerAt,
        path,
      );
    const footerId = readingAt(path, () => r.u32());
    if (footerId !== sectionId)
      throw new SectionFooterError(
        `mismatched section id ${footerId} in footer for ${idstr} (expected ${sectionId})`,
        footerAt,
        path,
      );
  }
}
