/**
 * A stream without a configuration section (hw_compat_2_3 turns send-configuration off) was
 * written on a machine type of 2.3 or older: its head says so, and the catalog reads its sections
 * on the 2.3 machine type, whose piix4_pm is 28 bytes shorter than the newest one's. Read on the
 * newest layout, piix4_pm swallows the next sections' headers, and a cut just after the byte it
 * ends on looked like a whole stream (the campaign's exit-0 truncation 0559f28331a4).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { peekStreamHead } from '../src/analyze/catalog-vmdesc';
import { analysisCatalog } from '../src/cli/catalog-wiring';
import { readStreamContents, type StreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';
import { runOne } from './fuzz/run-one';
import { runCli } from './fixtures/run-cli';

const STREAMS = path.join(__dirname, '..', 'streams');
const OLD = new Uint8Array(
  fs.readFileSync(path.join(STREAMS, 'qemu-7.2', 'pc-i440fx-2.3-paused.mig')),
);
const NEW = new Uint8Array(
  fs.readFileSync(path.join(STREAMS, 'qemu-7.2', 'pc-nodefaults-paused.mig')),
);

/** [idstr, offset, body length] of every device section. */
const sectionsOf = (c: StreamContents) =>
  c.entries.flatMap((e) =>
    e.type === 'section' ? [[e.section.idstr, e.section.offset, e.section.body.length]] : [],
  );

let described: StreamContents;
let withoutDescription: Uint8Array;
beforeAll(async () => {
  described = await readStreamContents(bytesSource(OLD));
  // The stream up to and with its EOF byte: as QEMU writes it with suppress-vmdesc=on.
  withoutDescription = OLD.subarray(0, described.eof!.offset + 1);
});

test('the head of a stream says whether it has a configuration section, and the machine type it names', async () => {
  expect(await peekStreamHead(bytesSource(OLD))).toEqual({ withoutConfiguration: true });
  const head = await peekStreamHead(bytesSource(NEW));
  expect(head.withoutConfiguration).toBeUndefined();
  expect(head.machineType).toMatch(/^pc-i440fx-7\.2$/);
  // Too short to tell: nothing is said.
  expect(await peekStreamHead(bytesSource(OLD.subarray(0, 8)))).toEqual({});
});

test('without its description, a 2.3 stream is read section for section as its description reads it', async () => {
  const catalog = analysisCatalog();
  const head = await peekStreamHead(bytesSource(withoutDescription));
  const byCatalog = await readStreamContents(bytesSource(withoutDescription), {
    resolvers: catalog.resolvers(head),
  });
  expect(sectionsOf(byCatalog)).toEqual(sectionsOf(described));
  expect(
    byCatalog.entries.every((e) => e.type !== 'section' || e.section.decodedBy === 'catalog'),
  ).toBe(true);
  // The newest machine type's layout does not: piix4_pm runs past its section.
  const newest = await readStreamContents(bytesSource(withoutDescription), {
    resolvers: catalog.resolvers({}),
    keepTrailing: true,
  }).then(sectionsOf, () => undefined);
  expect(newest).not.toEqual(sectionsOf(described));
});

test('every cut from piix4_pm to the EOF byte is an error, never a whole stream', async () => {
  const piix = described.entries.find(
    (e) => e.type === 'section' && e.section.idstr.endsWith('piix4_pm'),
  )!;
  const from = piix.type === 'section' ? piix.section.offset : 0;
  const eof = described.eof!.offset;
  let cuts = 0;
  for (let at = from; at <= eof; at++) {
    const o = await runOne(OLD.subarray(0, at), false);
    if (o.kind !== 'typed') expect({ at, o }).toEqual({ at, o: 'a typed error' });
    cuts++;
  }
  expect(cuts).toBeGreaterThan(2000);
  // The campaign's cut, with the views.
  expect((await runOne(OLD.subarray(0, 99846))).kind).toBe('typed');
}, 120_000);

test('vmstate analyze of the 2.3 stream without its description decodes it on pc-i440fx-2.3 of a release that has it, and says so', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-nocfg-'));
  try {
    const file = path.join(dir, 'suppressed.mig');
    fs.writeFileSync(file, withoutDescription);
    const r = await runCli(['analyze', file, '--format', 'json']);
    expect(r.stderr).toContain('assumed pc-i440fx-2.3');
    expect(r.stderr).toMatch(
      /decoded by the (7\.2|5\.2) device catalog on machine type pc-i440fx-2\.3/,
    );
    expect(r.code).toBe(0);
    // Every device section was read (none opaque), as its description reads them.
    expect(r.stdout).not.toContain('opaque');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
