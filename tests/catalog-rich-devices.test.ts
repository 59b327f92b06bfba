/**
 * The device-rich VM's rtl8139, usb-ehci, qemu-xhci, intel-hda and hda-duplex (and 5.2's empty
 * "audio" section) in each real release's catalog:
 * - the catalog's descriptions are, field for field, the release's own -dump-vmstate entries for
 *   those device classes (every committed dump; struct sizes aside, which are C sizeof()s);
 * - a committed rich stream cut right after its EOF byte decodes those sections by the catalog
 *   exactly as the whole stream decodes them by its own description, in --format qemu, json and
 *   tree, and the catalog names none of them as lacking. The default run takes each release's
 *   newest pc and q35 rich streams; VMSTATE_FULL=1 every committed rich stream.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { catalogOf } from '../vmstate/catalog';
import { catalogDumpJson } from '../vmstate/catalog-check-set';
import { runCli } from './fixtures/run-cli';
import {
  committedDumps,
  committedStreams,
  dumpJson,
  fullRun,
  streamBytes,
} from './fixtures/release-streams';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';

/** The QOM types these descriptions are the class vmsd of, and their section names. */
const CLASSES = ['rtl8139', 'usb-ehci', 'qemu-xhci', 'intel-hda', 'hda-duplex'];
const SECTIONS = /(^|\/)(rtl8139|ehci|xhci|intel-hda|hda-audio|audio)$/;
const SECTION_GLOBS = ['*rtl8139', '*ehci', '*xhci', '*intel-hda', 'hda-audio', 'audio'];

/** A dump entry without the sizes of struct fields (QEMU prints sizeof() of the C struct there). */
function withoutStructSizes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutStructSizes);
  if (!v || typeof v !== 'object') return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = withoutStructSizes(x);
  if ('Description' in o && 'field' in o) delete o.size;
  return o;
}

describe.each(committedDumps().map((d) => [`${d.release} ${d.slug}`, d] as const))(
  'dump %s',
  (_n, d) => {
    const dump = dumpJson(d);
    const machine = (dump.vmschkmachine as { Name: string }).Name;
    const ours = catalogDumpJson(catalogOf(d.release, machine));
    test.each(CLASSES)('%s is the release’s own entry', (qom) => {
      expect(dump[qom]).toBeDefined();
      expect(withoutStructSizes(ours[qom])).toEqual(withoutStructSizes(dump[qom]));
    });
  },
);

const newest = (s: { stem: string; release: string }) =>
  s.stem.startsWith(`pc-${s.release}-`) || s.stem.startsWith(`q35-${s.release}-`);
const streams = committedStreams().filter(
  (s) =>
    s.configuration.startsWith('rich') &&
    (fullRun() || (newest(s) && s.configuration === 'rich-max')),
);

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-rich-devices-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The tree's lines of one section: its header line up to the next line at top level. */
function treeBlocks(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let key: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^@0x[0-9a-f]+ \[\d+\] FULL (\S+)#(\d+)/.exec(line);
    if (m) key = SECTIONS.test(m[1]!) ? `${m[1]}#${m[2]}` : undefined;
    else if (!line.startsWith(' ')) key = undefined;
    if (key) out.set(key, (out.get(key) ?? '') + line.replace(/, by (vmdesc|catalog)$/, '') + '\n');
  }
  return out;
}

describe.each(streams.map((s) => [`${s.release} ${s.stem}`, s] as const))('stream %s', (_n, s) => {
  let whole: string;
  let cut: string;
  beforeAll(async () => {
    const bytes = streamBytes(s);
    const eof = (await readStreamContents(bytesSource(bytes))).eof!.offset;
    whole = path.join(dir, `${s.release}-${s.stem}.mig`);
    cut = path.join(dir, `${s.release}-${s.stem}.cut.mig`);
    fs.writeFileSync(whole, bytes);
    fs.writeFileSync(cut, bytes.subarray(0, eof + 1));
  });
  const run = (file: string, format: string, release?: string) =>
    runCli([
      'analyze',
      file,
      '--format',
      format,
      ...(release ? ['--release', release] : []),
      ...SECTION_GLOBS.flatMap((g) => ['--section', g]),
    ]);

  test('--format qemu: the same sections, names and values', async () => {
    const theirs = await run(whole, 'qemu');
    const ours = await run(cut, 'qemu', s.release);
    expect(ours.code).toBe(0);
    for (const line of ours.stderr.split('\n'))
      expect(line).not.toMatch(/(rtl8139|ehci|xhci|hda|audio)#/);
    const a = JSON.parse(theirs.stdout) as Record<string, unknown>;
    const b = JSON.parse(ours.stdout) as Record<string, unknown>;
    // rtl8139, ehci, xhci, intel-hda, hda-audio (+ audio on 5.2)
    expect(Object.keys(a).length).toBe(s.release === '5.2' ? 6 : 5);
    expect(b).toEqual(a);
  });

  test('--format json: the same section entries, decoded by the catalog', async () => {
    type Entry = { type: string; idstr?: string; decodedBy?: string };
    const sections = (stdout: string) =>
      (JSON.parse(stdout) as { sections: Entry[] }).sections.filter(
        (e) => e.type === 'device' && SECTIONS.test(e.idstr!),
      );
    const a = sections((await run(whole, 'json')).stdout);
    const b = sections((await run(cut, 'json', s.release)).stdout);
    expect(a.length).toBe(s.release === '5.2' ? 6 : 5);
    expect(a.every((e) => e.decodedBy === 'vmdesc')).toBe(true);
    expect(b.every((e) => e.decodedBy === 'catalog')).toBe(true);
    const strip = (e: Entry) => ({ ...e, decodedBy: undefined });
    expect(b.map(strip)).toEqual(a.map(strip));
  });

  test('--format tree: the same lines', async () => {
    const a = treeBlocks((await run(whole, 'tree')).stdout);
    const b = treeBlocks((await run(cut, 'tree', s.release)).stdout);
    expect(a.size).toBe(s.release === '5.2' ? 6 : 5);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k)).toBe(v);
  });
});
