/**
 * The device catalog per real release and machine type: every section QEMU's x86 pc (i440FX)
 * and q35 machines send, keyed by section name (the VMSD name; a stream's idstr adds the
 * device's qdev path in front, e.g. "0000:00:1f.2/ich9_ahci"). What differs between releases is
 * data (catalog-releases.ts); what a versioned machine type changes are device properties
 * (hw_compat in devices/hw-compat.ts, the x86 machines' pc_compat in releases/), read by the
 * descriptions' needed() and _TEST predicates through ctx.
 * Only `ram` is missing: it is an iterative section with its own record format (src/stream).
 */
import {
  loadFrom,
  saveDescribed,
  saveInto,
  type AnyVMSDesc,
  type ByteReader,
  type Ctx,
  type State,
} from '../src/dsl-kit';
import type { CodecResolver, SectionCodec, SectionInfo } from '../src/stream/section';
import { sectionPath } from '../src/stream/section';
import type { VmdescVMSD } from '../src/engine/vmdesc-types';
import { RELEASES, type Chipset, type ReleaseData } from './catalog-releases';
import {
  hwCompatFor,
  machineClassFor,
  machineVersion,
  propsOf,
  type GlobalProperty,
} from './devices/hw-compat';
import { ich9LpcDescription } from './devices/lpc_ich9';
import type { MachineCtx } from './devices/machine-ctx';
import { pciBus, pciHost } from './devices/pci';
import { PC_COMPAT } from './releases/pc-compat';
import { piix4PmDescription } from './devices/piix4_pm';
import type { X86Ctx } from './x86/ctx';
import { cpuResetState } from './x86/reset';

export type { Chipset } from './catalog-releases';
export { REAL_CATALOG_RELEASES } from './catalog-releases';

export interface CatalogEntry {
  /** The section name: the VMSD name, which is the idstr without a qdev path. */
  readonly name: string;
  readonly desc: AnyVMSDesc;
  /**
   * The QOM type whose class vmsd this is, i.e. its key in `-dump-vmstate` output; absent for
   * sections registered some other way (vCPUs, buses, the machine, migration itself), which
   * the dump does not list.
   */
  readonly qomType?: string;
  /**
   * A legacy save_state handler rather than a VMSD: QEMU's vmdesc describes it only as
   * `{size, fields: [{name: "data", size, type: "buffer"}]}`; `desc` still decodes its body.
   */
  readonly legacy?: boolean;
  /** Which machine's default configuration has it. */
  readonly machines: readonly Chipset[];
  /**
   * The receiving device's state before a load, when fields a stream may lack must keep values
   * other than zero (the x86 CPU's reset state). Absent: the description's initial state.
   */
  readonly receiverState?: (ctx: Ctx) => State;
  /** The one instance id the release registers the section with (SectionData.fixedInstance). */
  readonly fixedInstance?: number;
}

export interface Catalog {
  /** The real release whose descriptions these are ("5.2", "7.2", "10.0"). */
  readonly release: string;
  readonly machine: Chipset;
  /** The versioned machine type the catalog describes, as the configuration section names it. */
  readonly machineType: string;
  /** Set when the machine type was not given and this one was assumed: says why. */
  readonly assumed?: string;
  /** The device properties the machine type changes (hw_compat arrays), driver/property/value. */
  readonly compat: readonly GlobalProperty[];
  /** The ctx the machine type implies: its compat properties as `driver.property` keys. */
  readonly ctx: MachineCtx;
  /** Whether this release's VM description carries the configuration section. */
  readonly vmdescConfiguration: boolean;
  /** How this release spells its VM description. */
  readonly vmdescStyle: ReleaseData['vmdescStyle'];
  /** Whether this release's -dump-vmstate prints `num` for fixed-count arrays. */
  readonly dumpNum: boolean;
  readonly entries: ReadonlyMap<string, CatalogEntry>;
  /** The entry for a stream idstr, with or without its qdev path ("0000:00:01.1/ide" or "ide"). */
  lookup(idstr: string): CatalogEntry | undefined;
}

/** The last path element of an idstr: "0000:00:1f.2/ich9_ahci" -> "ich9_ahci". */
export function sectionName(idstr: string): string {
  return idstr.slice(idstr.lastIndexOf('/') + 1);
}

/** The -m / -smp options whose values size arrays that are not on the wire. */
export interface MachineConfig {
  /** -m ...,slots=N: DIMM slots in the ACPI memory hotplug table (default 0). */
  readonly memorySlots?: number;
  /** -smp ...,maxcpus=N: entries in the ACPI CPU hotplug table (default 1). */
  readonly maxCpus?: number;
}

/** A chipset's machine type of a version: pc-i440fx-2.3, pc-q35-7.2. */
export function machineTypeOf(chipset: Chipset, version: string): string {
  return `${chipset === 'q35' ? 'pc-q35' : 'pc-i440fx'}-${version}`;
}

/** The release's own newest machine type of a chipset: pc-i440fx-10.0, pc-q35-5.2. */
export function newestMachineType(release: string, chipset: Chipset): string {
  return machineTypeOf(chipset, release);
}

export class UnknownReleaseError extends Error {}

function releaseData(release: string): ReleaseData {
  const r = RELEASES[release];
  if (!r)
    throw new UnknownReleaseError(
      `no device catalog for release '${release}' (real releases: ${Object.keys(RELEASES).join(', ')})`,
    );
  return r;
}

/**
 * The catalog of `release` for a machine type as a stream's configuration section or -M names
 * it ('pc', 'q35', 'pc-q35-5.2'...). Without one (or with an alias), the release's newest pc
 * machine type is assumed, and `assumed` says so.
 */
export function catalogOf(
  release: string,
  machineType: string | undefined,
  config: MachineConfig = {},
): Catalog {
  const data = releaseData(release);
  const chipset: Chipset = machineType !== undefined && /q35/.test(machineType) ? 'q35' : 'pc';
  const version = machineType === undefined ? undefined : machineVersion(machineType);
  const resolved = version !== undefined ? machineType! : newestMachineType(release, chipset);
  const assumed =
    machineType === undefined
      ? `the stream names no machine type: assumed ${resolved}`
      : version === undefined
        ? `'${machineType}' is an alias: assumed ${resolved}`
        : undefined;
  const compat = hwCompatFor(version ?? release, release);
  const machineClass = machineClassFor(version ?? release, release);
  const pcCompat = pcCompatFor(version ?? release, release);
  const tables = {
    ...data.pm,
    memorySlots: config.memorySlots ?? 0,
    possibleCpus: config.maxCpus ?? 1,
  };
  const entries = new Map<string, CatalogEntry>();
  for (const s of data.sections)
    entries.set(s.name, {
      name: s.name,
      desc: s.desc,
      qomType: s.qomType,
      legacy: s.legacy,
      machines: s.machines,
      fixedInstance: s.fixedInstance,
      ...(s.cpu ? { receiverState: (ctx: Ctx) => cpuResetState(ctx as X86Ctx) } : {}),
      ...(s.receiver ? { receiverState: s.receiver } : {}),
    });
  const add = (e: CatalogEntry) => entries.set(e.name, e);
  add({
    name: 'PCIHost',
    desc: pciHost,
    qomType: chipset === 'q35' ? 'q35-pcihost' : 'i440FX-pcihost',
    machines: [chipset],
  });
  add({ name: 'PCIBUS', desc: pciBus(chipset === 'q35' ? 8 : 4), machines: [chipset] });
  add({
    name: 'piix4_pm',
    desc: piix4PmDescription(tables),
    qomType: 'PIIX4_PM',
    machines: ['pc'],
  });
  add({
    name: 'ICH9LPC',
    desc: ich9LpcDescription(tables),
    qomType: 'ICH9-LPC',
    machines: ['q35'],
  });
  return {
    release,
    machine: chipset,
    machineType: resolved,
    assumed,
    compat,
    // QEMU applies a machine type's hw_compat arrays, then its pc_compat ones (later wins).
    ctx: { props: propsOf([...compat, ...pcCompat, ...machineClass]) },
    vmdescConfiguration: data.vmdescConfiguration,
    dumpNum: data.dumpNum,
    vmdescStyle: data.vmdescStyle,
    entries,
    lookup: (idstr) => entries.get(idstr) ?? entries.get(sectionName(idstr)),
  };
}

/** "7.2" -> 7002, to compare versions. */
const versionNumber = (v: string): number => {
  const [a, b] = v.split('.').map(Number);
  return (a ?? 0) * 1000 + (b ?? 0);
};

/**
 * The x86 machines' own pc_compat_X_Y entries (vmstate/releases) machine version `machine` has
 * in `release`: device properties such as ICH9-LPC's acpi-pci-hotplug-with-bridge-support (off
 * on pc-q35-6.0 and older). An entry QEMU added to an older array later carries `since`.
 */
function pcCompatFor(machine: string, release: string): GlobalProperty[] {
  const applied = Object.fromEntries(
    Object.entries(PC_COMPAT).map(([v, props]) => [
      v,
      props.filter(
        (p) => p.since === undefined || versionNumber(p.since) <= versionNumber(release),
      ),
    ]),
  );
  return hwCompatFor(machine, release, applied);
}

/** A host ctx (accelerator, vCPU features) with the catalog's machine-type properties under it. */
export function catalogCtx(catalog: Catalog, host: Ctx = {}): Ctx {
  const h = host as MachineCtx;
  return { ...h, props: { ...catalog.ctx.props, ...h.props } };
}

/** Reads one section body into the entry's receiver state, leaving the reader after it. */
export function loadSection(
  entry: CatalogEntry,
  r: ByteReader,
  version: number,
  ctx: Ctx = {},
  path?: string,
): State {
  return loadFrom(r, entry.desc, version, { ctx, path, into: entry.receiverState?.(ctx) });
}

/** A legacy section's vmdesc entry body, as QEMU writes it for a save_state handler. */
export interface LegacyVmdesc {
  size: number;
  fields: [{ name: 'data'; size: number; type: 'buffer' }];
}

/**
 * Writes a section body from a state and returns it with the vmdesc entry QEMU would write for
 * it (without the `name` / `instance_id` keys the stream layer adds).
 */
export function saveSection(
  entry: CatalogEntry,
  state: State,
  ctx: Ctx = {},
): { bytes: Uint8Array; vmdesc: VmdescVMSD | LegacyVmdesc } {
  const { bytes, vmdesc } = saveDescribed(entry.desc, state, { ctx });
  if (!entry.legacy) return { bytes, vmdesc };
  return {
    bytes,
    vmdesc: { size: bytes.length, fields: [{ name: 'data', size: bytes.length, type: 'buffer' }] },
  };
}

/** Plugs a catalog into the stream walker: FULL sections it knows are decoded (and re-encoded) by it. */
export function catalogResolver(catalog: Catalog, ctx: Ctx = {}): CodecResolver {
  const codecs = new Map<CatalogEntry, SectionCodec<State>>();
  return (section: SectionInfo, kind) => {
    if (kind !== 'full') return undefined;
    const entry = catalog.lookup(section.idstr);
    if (!entry) return undefined;
    let codec = codecs.get(entry);
    if (!codec) {
      codec = {
        name: 'catalog',
        decode: (r, s) => loadSection(entry, r, s.versionId, ctx, sectionPath(s)),
        encode: (w, value, s) => void saveInto(w, entry.desc, value, { ctx, path: sectionPath(s) }),
      };
      codecs.set(entry, codec);
    }
    return codec as SectionCodec;
  };
}
