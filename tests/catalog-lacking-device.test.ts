/**
 * Where catalog decoding cannot decode a section (a device the catalog lacks), every format says
 * which: the section's idstr and instance, the device, the release and machine type of the
 * catalog, and why; and the section is shown as its raw bytes (its extent is known from its
 * footer). The stream is a real 7.2 device-rich q35 stream cut after EOF, with the rtl8139
 * section renamed "rtl8138" (same length, so the framing holds): no release has that device.
 * A section the catalog reads but cannot write back as sent (a bool sent as 2) is reported the
 * same way.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './fixtures/run-cli';
import { committedStreams, streamBytes } from './fixtures/release-streams';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';
import type { DeviceSection } from '../src/stream/section';
import { hexBytes } from '../src/analyze/qemu-format';

const source = committedStreams(['7.2']).find((s) => s.stem === 'q35-7.2-rich-max')!;
const IDSTR = '0000:00:04.0/rtl8138';
const REASON = "the 7.2 catalog (pc-q35-7.2) has no description of device 'rtl8138'";

let dir: string;
let file: string;
let renamed: DeviceSection;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-lacking-'));
  const bytes = streamBytes(source);
  const contents = await readStreamContents(bytesSource(bytes));
  const cut = bytes.slice(0, contents.eof!.offset + 1);
  const s = contents.entries.flatMap((e) =>
    e.type === 'section' && e.section.idstr === '0000:00:04.0/rtl8139' ? [e.section] : [],
  )[0]!;
  // FULL header: type, be32 section id, idstr length byte, idstr; its last letter becomes '8'.
  const last = s.offset + 6 + s.idstr.length - 1;
  expect(String.fromCharCode(cut[last]!)).toBe('9');
  cut[last] = '8'.charCodeAt(0);
  file = path.join(dir, 'renamed.cut.mig');
  fs.writeFileSync(file, cut);
  renamed = (await readStreamContents(bytesSource(cut))).entries.flatMap((e) =>
    e.type === 'section' && e.section.idstr === IDSTR ? [e.section] : [],
  )[0]!;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const analyze = (format: string, ...more: string[]) =>
  runCli(['analyze', file, '--format', format, '--release', '7.2', ...more]);

test('stderr names the section, the catalog and the device', async () => {
  const r = await analyze('qemu', '-o', path.join(dir, 'q.json'));
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`${IDSTR}#0 @0x${renamed.offset.toString(16)}: ${REASON}`);
});

test('--format qemu: the raw bytes and a lacks object', async () => {
  const r = await analyze('qemu');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
  const entry = out[`${IDSTR} (${renamed.sectionId})`]!;
  expect(entry.data).toBe(hexBytes(renamed.body));
  expect(entry.lacks).toEqual({
    section: `${IDSTR}#0`,
    device: 'rtl8138',
    release: '7.2',
    machine_type: 'pc-q35-7.2',
    reason: REASON,
  });
  // Every other section the catalog lacks is one of the virtio family (another helper's work);
  // the ones it describes carry no such key.
  const others = Object.entries(out).filter(([k]) => !k.startsWith(IDSTR));
  expect(others.length).toBeGreaterThan(20);
  const lackingOthers = others.filter(([, v]) => v && typeof v === 'object' && 'lacks' in v);
  expect(lackingOthers.filter(([k]) => !/virtio|scsi-disk/.test(k))).toEqual([]);
});

test('--format json: the section entry says what it lacks and holds its bytes', async () => {
  const r = await analyze('json', '--section', '*rtl813?');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { sections: Record<string, unknown>[] };
  expect(out.sections).toHaveLength(1);
  const s = out.sections[0]!;
  expect(s).toMatchObject({
    idstr: IDSTR,
    instanceId: 0,
    offset: renamed.offset,
    size: renamed.body.length,
    decodedBy: 'opaque',
    lacks: {
      section: `${IDSTR}#0`,
      device: 'rtl8138',
      release: '7.2',
      machineType: 'pc-q35-7.2',
      reason: REASON,
    },
  });
  expect(s.state).toBeUndefined();
  expect(s.data).toBe(hexBytes(renamed.body));
});

test('--format tree: a line naming what is lacking, then the body as a hexdump', async () => {
  const r = await analyze('tree', '--section', '*rtl813?');
  expect(r.code).toBe(0);
  const lines = r.stdout.split('\n');
  const at = lines.findIndex((l) => l.includes(`FULL ${IDSTR}#0 v5`));
  expect(at).toBeGreaterThan(0);
  expect(lines[at]).toContain(`${renamed.body.length} bytes, by opaque`);
  expect(lines[at + 1]).toBe(`    not decoded: ${REASON}`);
  expect(lines[at + 2]).toBe(`    body: ${renamed.body.length} bytes`);
  expect(lines[at + 3]).toMatch(/^ {6}0000 {2}00 00 00 02 /); // PCIDevice.version_id, the body's first bytes
});

test('a section the catalog reads but cannot write back is shown the same way', async () => {
  // hda-audio's st[0].mute_left (body byte 20) set to 2: QEMU reads any non-zero byte as true
  // and writes it back as 1, so the catalog cannot give back the section's bytes.
  const bytes = streamBytes(source);
  const contents = await readStreamContents(bytesSource(bytes));
  const cut = bytes.slice(0, contents.eof!.offset + 1);
  const hda = contents.entries.flatMap((e) =>
    e.type === 'section' && e.section.idstr === 'hda-audio' ? [e.section] : [],
  )[0]!;
  expect(cut[hda.bodyOffset + 20]).toBe(0);
  cut[hda.bodyOffset + 20] = 2;
  const cutFile = path.join(dir, 'mute-2.cut.mig');
  fs.writeFileSync(cutFile, cut);
  const reason =
    "the 7.2 catalog (pc-q35-7.2) reads device 'hda-audio' but does not write it back as sent (first difference at body byte 20)";
  const json = await runCli([
    'analyze',
    cutFile,
    '--format',
    'json',
    '--release',
    '7.2',
    '--section',
    'hda-audio',
  ]);
  expect(json.code).toBe(0);
  expect(json.stderr).toContain(`hda-audio#0 @0x${hda.offset.toString(16)}: ${reason}`);
  const s = (JSON.parse(json.stdout) as { sections: Record<string, unknown>[] }).sections[0]!;
  expect(s.lacks).toEqual({
    section: 'hda-audio#0',
    device: 'hda-audio',
    release: '7.2',
    machineType: 'pc-q35-7.2',
    reason,
  });
  expect(s.decodedBy).toBe('opaque');
  expect(s.state).toBeUndefined();
  const body = cut.subarray(hda.bodyOffset, hda.bodyOffset + hda.body.length);
  expect(s.data).toBe(hexBytes(body.subarray(0, 4096)) + ' ...');
  const tree = await runCli([
    'analyze',
    cutFile,
    '--format',
    'tree',
    '--release',
    '7.2',
    '--section',
    'hda-audio',
  ]);
  expect(tree.stdout).toContain(
    `, by opaque\n    not decoded: ${reason}\n    body: ${hda.body.length} bytes\n`,
  );
  const qemu = await runCli([
    'analyze',
    cutFile,
    '--format',
    'qemu',
    '--release',
    '7.2',
    '--section',
    'hda-audio',
  ]);
  const q = JSON.parse(qemu.stdout) as Record<string, { data: string; lacks: unknown }>;
  expect(q[`hda-audio (${hda.sectionId})`]).toEqual({
    data: hexBytes(body),
    lacks: {
      section: 'hda-audio#0',
      device: 'hda-audio',
      release: '7.2',
      machine_type: 'pc-q35-7.2',
      reason,
    },
  });
});
