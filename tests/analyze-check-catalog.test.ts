/**
 * `vmstate analyze --check-catalog` and catalog decoding of streams without a VM description,
 * on the real QEMU 7.2 streams and on copies whose description or bytes were changed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REAL_STREAMS, readStream } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-check-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The stream with its vmdesc JSON replaced by `edit(json)` (its be32 length fixed up). */
function withEditedVmdesc(
  name: (typeof REAL_STREAMS)[number],
  // The description is JSON edited in place: any keeps the edits short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  edit: (desc: { devices: any[] }) => void,
): string {
  const bytes = Buffer.from(readStream(name));
  const marker = bytes.indexOf(Buffer.from('{"page_size"'));
  const desc = JSON.parse(bytes.subarray(marker).toString('utf8'));
  edit(desc);
  const json = Buffer.from(JSON.stringify(desc));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  const file = path.join(dir, `${name}-edited.mig`);
  fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, marker - 4), len, json]));
  return file;
}

describe('--check-catalog', () => {
  test.each(REAL_STREAMS)(
    'every section of %s matches the catalog, field by field',
    async (name) => {
      const file = path.join(dir, `${name}.mig`);
      fs.writeFileSync(file, readStream(name));
      const r = await runCli(['analyze', file, '--check-catalog']);
      expect(r.stdout).toMatch(/: 0 section\(s\) differ/);
      expect(r.stdout).not.toMatch(/DIFFERS|FAILED|unknown/);
      expect(r.stdout.match(/^ {2}ok /gm)?.length).toBeGreaterThanOrEqual(29);
      expect(r.code).toBe(0);
    },
  );

  test('names the field whose description differs, and exits 1', async () => {
    const file = withEditedVmdesc('pc-nodefaults-paused', (desc) => {
      const fdc = desc.devices.find((d) => d.name === 'fdc');
      fdc.fields[0].struct.fields[1].type = 'int8'; // fdc state.srb
    });
    const r = await runCli(['analyze', file, '--check-catalog']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/: 1 section\(s\) differ/);
    expect(r.stdout).toMatch(/DIFFERS +@0x[0-9a-f]+ fdc#0/);
    expect(r.stdout).toContain(
      'fields[0] state > fields[1] srb: type: stream "int8", catalog "uint8"',
    );
  });

  test('when the sender wrote a field the catalog does not know, says where the catalog stops reading', async () => {
    // The sender's port92 has a second byte: its vmdesc says so and its body carries it.
    const bytes = Buffer.from(readStream('pc-nodefaults-paused'));
    const header = Buffer.concat([
      Buffer.from([0x04, 0, 0, 0]),
      Buffer.from([0x1a]),
      Buffer.from([6]),
      Buffer.from('port92'),
    ]);
    const at = bytes.indexOf(header.subarray(5));
    expect(at).toBeGreaterThan(0);
    const bodyStart = at + 6 + 4 + 4; // name, instance, version
    const patched = Buffer.concat([
      bytes.subarray(0, bodyStart + 1),
      Buffer.from([0x99]),
      bytes.subarray(bodyStart + 1),
    ]);
    const marker = patched.indexOf(Buffer.from('{"page_size"'));
    const desc = JSON.parse(patched.subarray(marker).toString('utf8'));
    desc.devices
      .find((d: { name: string }) => d.name === 'port92')
      .fields.push({ name: 'extra', type: 'uint8', size: 1 });
    const json = Buffer.from(JSON.stringify(desc));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(json.length);
    const file = path.join(dir, 'port92-extra.mig');
    fs.writeFileSync(file, Buffer.concat([patched.subarray(0, marker - 4), len, json]));
    const r = await runCli(['analyze', file, '--check-catalog']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/DIFFERS +@0x[0-9a-f]+ port92#0/);
    expect(r.stdout).toContain('the catalog reads 1 bytes of a 2-byte section');
    expect(r.stdout).toContain('fields[1] extra: field only in the stream');
  });
});

describe('streams without a VM description', () => {
  test.each(REAL_STREAMS)('%s decodes every device section by the catalog', async (name) => {
    const bytes = Buffer.from(readStream(name));
    const eof = bytes.indexOf(Buffer.from('{"page_size"')) - 5 - 1; // 0x00 EOF, 0x06, be32 length
    expect(bytes[eof]).toBe(0);
    const file = path.join(dir, `${name}-novmdesc.mig`);
    fs.writeFileSync(file, bytes.subarray(0, eof + 1));
    const r = await runCli(['analyze', file, '--format', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const devices = j.sections.filter((s: { type: string }) => s.type === 'device');
    expect(devices.length).toBeGreaterThanOrEqual(29);
    for (const d of devices) expect(d.decodedBy).toBe('catalog');
    const again = path.join(dir, `${name}-again.mig`);
    expect((await runCli(['reencode', file, '-o', again])).code).toBe(0);
    expect(Buffer.compare(fs.readFileSync(again), fs.readFileSync(file))).toBe(0);
  });
});
