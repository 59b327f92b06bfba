/**
 * The layout of `--format json` and `--format tree` for people: arrays of scalars as value
 * lists (JSON) or folded runs and hexdumps (tree), the nested view before the raw pages, the
 * same layout for catalog-decoded sections, and the --section / -o / --no-progress options.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { analyzerOutput, readStream, streamPath, REAL_STREAMS } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';
import { committedStreams, fullRun, inDefaultSlice, materialize } from './fixtures/release-streams';
import { runAnalyzeMigration } from './support/anchors';

const GOLDEN = path.resolve(__dirname, '..', 'streams', 'golden', '7.2');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-layout-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Field {
  name: string;
  type: string;
  offset: number;
  size: number;
  count?: number;
  value: unknown;
  fields?: Field[];
  subsections?: { fields: Field[]; subsections: unknown[] }[];
}

/** Every leaf field of a section's state, subsections included. */
function leaves(st: {
  fields: Field[];
  subsections: { fields: Field[]; subsections: unknown[] }[];
}): Field[] {
  const out: Field[] = [];
  for (const f of st.fields) {
    if (f.type === 'struct' && f.fields) out.push(...leaves(f as never));
    else out.push(f);
  }
  for (const s of st.subsections) out.push(...leaves(s as never));
  return out;
}

/** The stream without its VM description (what suppress-vmdesc=on writes). */
function bare(file: string): string {
  const bytes = fs.readFileSync(file);
  const eof = bytes.indexOf(Buffer.from('{"page_size"')) - 6;
  expect(bytes[eof]).toBe(0);
  const out = path.join(dir, `bare-${path.basename(file)}`);
  fs.writeFileSync(out, bytes.subarray(0, eof + 1));
  return out;
}

describe('--format json', () => {
  test.each(REAL_STREAMS)(
    '%s: at most 2x the size of analyze-migration.py output',
    async (name) => {
      const r = await runCli(['analyze', streamPath(name)]);
      expect(r.code).toBe(0);
      const script = Buffer.byteLength(analyzerOutput(name, 'state'));
      expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(2 * script);
    },
  );

  test('a stream with nested VMX state: at most 2x the script output on the same stream', async () => {
    const file = path.join(GOLDEN, 'vmx-l2-shadow.mig');
    const script = Buffer.byteLength(runAnalyzeMigration(file));
    const r = await runCli(['analyze', file]);
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(2 * script);
  });

  // The real releases' committed streams (a slice by default, all with VMSTATE_FULL=1), against
  // the script run live on each: the device-rich VMs too (virtio, USB, audio, SCSI...).
  test.each(
    committedStreams()
      .filter((s) => fullRun() || inDefaultSlice(s))
      .map((s) => [`${s.release} ${s.stem}`, s] as const),
  )('%s: at most 2x the size of analyze-migration.py output', async (_name, s) => {
    const file = materialize(s, dir);
    const r = await runCli(['analyze', file]);
    expect(r.code).toBe(0);
    const script = Buffer.byteLength(runAnalyzeMigration(file));
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(2 * script);
  });

  test('arrays of scalars are one field with a value list; every integer is at the offset it names', async () => {
    const file = streamPath('q35-nodefaults-paused');
    const bytes = Buffer.from(readStream('q35-nodefaults-paused'));
    const j = JSON.parse((await runCli(['analyze', file])).stdout);
    const cpu = j.sections.find((s: { idstr: string }) => s.idstr === 'cpu');
    const regs = cpu.state.fields.find((f: Field) => f.name === 'env.regs');
    expect(regs).toMatchObject({ type: 'uint64', size: 128, count: 16 });
    expect(regs.value).toHaveLength(16);
    expect(regs.value[2]).toBe(Number(bytes.readBigUInt64BE(regs.offset + 16)));
    let checked = 0;
    for (const s of j.sections.filter((x: { state?: unknown }) => x.state)) {
      for (const f of leaves(s.state)) {
        if (!/^u?int(8|16|32|64)$/.test(f.type)) continue;
        const n = f.count ?? 1;
        const each = f.size / n;
        const vals = f.count ? (f.value as unknown[]) : [f.value];
        for (let i = 0; i < n; i++) {
          const at = f.offset + i * each;
          const raw = f.type.startsWith('u')
            ? bytes.readBigUInt64BE(at - (8 - each)) & ((1n << BigInt(8 * each)) - 1n)
            : BigInt.asIntN(8 * each, bytes.readBigUInt64BE(at - (8 - each)));
          expect(BigInt(vals[i] as number | string)).toBe(raw);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  test('catalog-decoded sections have the layout of description-decoded ones', async () => {
    const file = streamPath('pc-nodefaults-paused');
    const a = JSON.parse((await runCli(['analyze', file])).stdout);
    const b = JSON.parse((await runCli(['analyze', bare(file)])).stdout);
    const devices = (j: { sections: { type: string; decodedBy: string }[] }) =>
      j.sections.filter((s) => s.type === 'device');
    const da = devices(a);
    const db = devices(b);
    expect(db.length).toBe(da.length);
    expect(db.every((s) => s.decodedBy === 'catalog')).toBe(true);
    for (let i = 0; i < da.length; i++)
      expect({ ...db[i], decodedBy: 'vmdesc' }).toEqual({ ...da[i], decodedBy: 'vmdesc' });
  });
});

describe('--format tree', () => {
  const file = path.join(GOLDEN, 'vmx-l2-shadow.mig');

  test('nested VMX: the decoded view first, the raw pages one line each; short lines', async () => {
    const r = await runCli(['analyze', file, '--format', 'tree']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.length).toBeLessThan(600);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(200);
    const rip = lines.findIndex((l) => /^\s+guest_rip = 0x/.test(l));
    const page = lines.findIndex((l) => /data\.vmx\[0\]\.vmcs12\[4096\]/.test(l));
    expect(rip).toBeGreaterThan(0);
    expect(page).toBeGreaterThan(rip);
    expect(lines[page]).toMatch(/4096 bytes, shown decoded above \(--raw prints them\)/);
    expect(r.stdout).not.toMatch(/vmcs12\[\d+\] = /);
  });

  test('--raw prints the pages as a hexdump with zero runs folded', async () => {
    const r = await runCli(['analyze', file, '--format', 'tree', '--raw']);
    const bytes = fs.readFileSync(file);
    const j = JSON.parse((await runCli(['analyze', file])).stdout);
    const cpu = j.sections.find((s: { idstr: string }) => s.idstr === 'cpu');
    const page = leaves(cpu.state).find((f) => f.name === 'data.vmx[0].vmcs12')!;
    expect(page).toMatchObject({ type: 'uint8', count: 4096, size: 4096 });
    const first = [...bytes.subarray(page.offset, page.offset + 8)]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join(' ');
    expect(r.stdout).toMatch(/data\.vmx\[0\]\.vmcs12\[4096\]: 4096 bytes\n/);
    expect(r.stdout).toContain(`0000  ${first}  `);
    expect(r.stdout).toMatch(/\.\.0fff {2}zero \(\d+ bytes\)/);
    expect(r.stdout.split('\n').length).toBeLessThan(1200);
  });

  test('arrays of numbers fold into runs', async () => {
    const r = await runCli(['analyze', streamPath('q35-nodefaults-paused'), '--format', 'tree']);
    expect(r.stdout).toMatch(/\n {4}queue\[1024\] = 0x0 ×1024\n/);
    expect(r.stdout).toMatch(/env\.regs\[16\] = 0x0, 0x0, 0x60fb1, 0x0 ×13\n/);
    expect(r.stdout).toMatch(/env\.mce_banks\[40\]:\n {6}\[0\] 0xffffffffffffffff, 0x0 ×3, /);
    expect(r.stdout).toMatch(/env\.xmm_regs\[0\]\[0\.\.15\]: \(16 alike\)/);
    expect(r.stdout.split('\n').length).toBeLessThan(1000);
  });

  test('catalog-decoded sections print exactly as description-decoded ones', async () => {
    const f = path.join(GOLDEN, 'vmx-l2-shadow.mig');
    const norm = (s: string) =>
      s
        .split('\n')
        .slice(1)
        .filter((l) => !/VM description/.test(l))
        .map((l) => l.replace(/by (catalog|vmdesc)/, 'by X'));
    const a = await runCli(['analyze', f, '--format', 'tree']);
    const b = await runCli(['analyze', bare(f), '--format', 'tree']);
    expect(b.stdout).toMatch(/by catalog/);
    expect(norm(b.stdout)).toEqual(norm(a.stdout));
  });
});

describe('options', () => {
  test('--section keeps the sections a glob names (idstr or idstr#instance), repeatable', async () => {
    const file = streamPath('q35-nodefaults-paused');
    const r = await runCli(['analyze', file, '--section', 'cpu*', '--section', 'timer#0']);
    const ids = JSON.parse(r.stdout).sections.map((s: { idstr: string }) => s.idstr);
    expect(ids).toEqual(['timer', 'cpu_common', 'cpu']);
    const t = await runCli(['analyze', file, '--format', 'tree', '--section', '*ICH9LPC']);
    expect(t.stdout).toMatch(/ICH9LPC#0/);
    expect(t.stdout).not.toMatch(/cpu#0/);
  });

  test('-o FILE writes the output whole, -o - is stdout, --no-progress is accepted', async () => {
    const file = streamPath('pc-nodefaults-paused');
    const out = path.join(dir, 'a.json');
    const a = await runCli(['analyze', file, '-o', out, '--no-progress']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe('');
    const b = await runCli(['analyze', file, '-o', '-']);
    expect(fs.readFileSync(out, 'utf8')).toBe(b.stdout);
    const bad = await runCli(['analyze', file, '-o', path.join(dir, 'no', 'x.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/cannot write/);
  });
});

describe('-o - for streams', () => {
  test('reencode -o - writes the same bytes as -o FILE; a damaged input writes nothing to stdout', async () => {
    const file = streamPath('pc-nodefaults-paused');
    const out = path.join(dir, 'copy.mig');
    expect((await runCli(['reencode', file, '-o', out])).code).toBe(0);
    const r = await runCli(['reencode', file, '-o', '-']);
    expect(r.code).toBe(0);
    // runCli collects stdout as UTF-8: compare through the same decoding.
    expect(r.stdout).toBe(fs.readFileSync(out).toString('utf8'));
    const cut = path.join(dir, 'cut.mig');
    fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 0x15620 + 500));
    const bad = await runCli(['reencode', cut, '-o', '-']);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toBe('');
  });

  test('generate -o - and --write-state - write to stdout what they write to a file; not both', async () => {
    const gen = ['generate', '--release', '7.2', '--scenario', 'no-nested'];
    const out = path.join(dir, 'gen.mig');
    const state = path.join(dir, 'gen.state.json');
    expect((await runCli([...gen, '-o', out, '--write-state', state])).code).toBe(0);
    const r = await runCli([...gen, '-o', '-']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fs.readFileSync(out).toString('utf8'));
    const s = await runCli([...gen, '--write-state', '-', '-o', path.join(dir, 'gen2.mig')]);
    expect(s.code).toBe(0);
    expect(s.stdout).toBe(fs.readFileSync(state, 'utf8'));
    const both = await runCli([...gen, '-o', '-', '--write-state', '-']);
    expect(both.code).toBe(2);
    expect(both.stdout).toBe('');
    expect(fs.existsSync(path.join(dir, '-'))).toBe(false);
  });

  test('diff --html - writes the page to stdout in place of the text', async () => {
    const a = streamPath('pc-nodefaults-paused');
    const b = streamPath('pc-nodefaults-running');
    const page = path.join(dir, 'diff.html');
    const f = await runCli(['diff', a, b, '--html', page]);
    expect(f.stdout).toMatch(/^different: /);
    const r = await runCli(['diff', a, b, '--html', '-']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^<!DOCTYPE html>/);
    // The page names the command that wrote it: the same page but for that line.
    const strip = (h: string) => h.replace(/<p><code>vmstate diff [^<]*<\/code><\/p>/, '');
    expect(strip(r.stdout)).toBe(strip(fs.readFileSync(page, 'utf8')));
  });
});
