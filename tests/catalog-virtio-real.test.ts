/**
 * The virtio family and the SCSI disk on real device-rich streams of 5.2, 7.2 and 10.0: each
 * committed rich stream cut right after its EOF byte (no VM description) decodes by the release's
 * catalog exactly as the whole stream decodes by its own description, section by section for
 * virtio-net, virtio-blk, virtio-scsi, scsi-disk, virtio-balloon, virtio-rng and virtio-console,
 * in --format qemu, json and tree; and the VM description the catalog gives those sections (what
 * `reencode --add-vmdesc` writes) is the entry QEMU wrote, key for key in QEMU's order.
 *
 * These assertions are on these sections only while other devices of the rich VM (rtl8139, the
 * USB controllers, HD audio) are not modelled yet; catalog-decoding-real.test.ts asserts the
 * whole stream, and byte-equal --add-vmdesc, once none is missing. Every committed rich
 * stream (rich-max and rich-svm, every machine type) is taken.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './fixtures/run-cli';
import { committedStreams, streamBytes } from './fixtures/release-streams';
import { analysisCatalog } from '../src/cli/catalog-wiring';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';

const OURS = [
  'virtio-net',
  'virtio-blk',
  'virtio-scsi',
  'scsi-disk',
  'virtio-balloon',
  'virtio-rng',
  'virtio-console',
];
const ours = (idstr: string) => OURS.includes(idstr.slice(idstr.lastIndexOf('/') + 1));
const sectionArgs = OURS.flatMap((n) => ['--section', `*${n}`]);

const streams = committedStreams().filter((s) => s.configuration.startsWith('rich'));

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-catalog-virtio-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function pair(s: (typeof streams)[number]): Promise<{ whole: string; cut: string }> {
  const bytes = streamBytes(s);
  const eof = (await readStreamContents(bytesSource(bytes))).eof!.offset;
  const whole = path.join(dir, `${s.release}-${s.stem}.mig`);
  const cut = path.join(dir, `${s.release}-${s.stem}.cut.mig`);
  fs.writeFileSync(whole, bytes);
  fs.writeFileSync(cut, bytes.subarray(0, eof + 1));
  return { whole, cut };
}

async function analyze(file: string, format: string, release?: string): Promise<string> {
  const r = await runCli([
    'analyze',
    file,
    '--format',
    format,
    '--no-progress',
    ...sectionArgs,
    ...(release ? ['--release', release] : []),
  ]);
  expect(r.code).toBe(0);
  return r.stdout;
}

/** --format tree's section blocks (a line starting with "@0x" opens one), by idstr#instance. */
function treeSections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of text.split(/^(?=@0x)/m)) {
    const m = /^@0x[0-9a-f]+ \[\d+\] FULL (\S+) /.exec(block);
    if (m) out.set(m[1]!, block.replace(/, by (catalog|vmdesc)$/m, ''));
  }
  return out;
}

/**
 * The text of the device entry `{"name": NAME, "instance_id": N, ...}` in a VM description's
 * JSON (either writer's spacing): from its opening brace to the matching closing one.
 */
function entryText(json: string, name: string, instance: number): string | undefined {
  const n = JSON.stringify(name);
  const heads = [
    `{"name": ${n}, "instance_id": ${instance},`,
    `{ "name" : ${n}, "instance_id" : ${instance},`,
  ];
  const start = heads.map((h) => json.indexOf(h)).find((x) => x >= 0);
  if (start === undefined) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return json.slice(start, i + 1);
  }
  return undefined;
}

describe.each(streams.map((s) => [`${s.release} ${s.stem}`, s] as const))('%s', (_n, s) => {
  test('--format qemu, json and tree: the virtio sections by the catalog are the ones by the description', async () => {
    const { whole, cut } = await pair(s);

    const qa = JSON.parse(await analyze(whole, 'qemu')) as Record<string, unknown>;
    const qb = JSON.parse(await analyze(cut, 'qemu', s.release)) as Record<string, unknown>;
    const names = Object.keys(qa).filter((k) => ours(k.replace(/ \(\d+\)$/, '')));
    expect(names.length).toBe(OURS.length);
    expect(Object.keys(qb)).toEqual(Object.keys(qa));
    for (const k of names) expect([k, qb[k]]).toEqual([k, qa[k]]);

    type JsonSection = { idstr?: string; decodedBy?: string; [k: string]: unknown };
    const sections = (text: string) =>
      (JSON.parse(text) as { sections: JsonSection[] }).sections.filter(
        (x) => x.idstr !== undefined && ours(x.idstr),
      );
    const ja = sections(await analyze(whole, 'json'));
    const jb = sections(await analyze(cut, 'json', s.release));
    expect(ja.length).toBe(OURS.length);
    expect(ja.map((x) => x.decodedBy)).toEqual(OURS.map(() => 'vmdesc'));
    expect(jb.map((x) => x.decodedBy)).toEqual(OURS.map(() => 'catalog'));
    expect(jb.map(({ decodedBy: _d, ...x }) => x)).toEqual(ja.map(({ decodedBy: _d, ...x }) => x));

    const ta = treeSections(await analyze(whole, 'tree'));
    const tb = treeSections(await analyze(cut, 'tree', s.release));
    expect(ta.size).toBe(OURS.length);
    expect([...tb]).toEqual([...ta]);
  });

  test('the description the catalog gives them is the one QEMU wrote, in its key order', async () => {
    const { whole, cut } = await pair(s);
    const record = (await readStreamContents(bytesSource(fs.readFileSync(whole)))).vmdesc!;
    const original = record.desc!;
    const description = (await analysisCatalog().describe!(
      (resolvers) => readStreamContents(bytesSource(fs.readFileSync(cut)), { resolvers }),
      { release: s.release, machineType: s.machineType },
    ))!;
    expect(description.release).toBe(s.release);
    const key = (d: { name: string; instance_id: number }) => `${d.name}#${d.instance_id}`;
    const theirs = original.devices.filter((d) => ours(d.name));
    const mine = new Map(description.vmdesc.devices.map((d) => [key(d), d]));
    expect(theirs.length).toBe(OURS.length);
    for (const d of theirs) expect(JSON.stringify(mine.get(key(d)))).toBe(JSON.stringify(d));
    // And spelt byte for byte as the release's JSON writer spelt them.
    const theirText = Buffer.from(record.json).toString('latin1');
    const myText = Buffer.from(description.json).toString('latin1');
    for (const d of theirs) {
      const a = entryText(theirText, d.name, d.instance_id);
      expect(a).toBeDefined();
      expect([d.name, entryText(myText, d.name, d.instance_id)]).toEqual([d.name, a]);
    }
    // None of these sections is among what the catalog could not describe.
    expect(description.lacking.filter((l) => ours(l.section.replace(/#\d+$/, '')))).toEqual([]);
  });
});
