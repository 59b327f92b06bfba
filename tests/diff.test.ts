/**
 * `vmstate diff` on streams real QEMU 7.2 wrote: a stream against its `vmstate edit` output
 * (exactly the edited fields), against the stream `vmstate generate` writes for the same state,
 * against a truncated copy (exit 3), and the library function behind it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { diffStreams, load, type State, type StreamDiff } from '../src';
import { byteRanges } from '../src/diff/fields';
import { bytesSource } from '../src/stream/source';
import { initialState } from '../src/engine/state';
import { releases } from '../vmstate/releases';
import { vmStateToJson } from '../vmstate/releases/state-json';
import { sectionKey } from '../vmstate/releases/types';
import { cpuResetState } from '../vmstate/x86/reset';
import { readStream, streamPath } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';
import { cutFullSections } from './support/cpu-real-sections';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-diff-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function diffJson(a: string, b: string, ...extra: string[]) {
  const r = await runCli(['diff', a, b, '--format', 'json', ...extra]);
  return { ...r, diff: r.stdout ? (JSON.parse(r.stdout) as StreamDiff) : undefined };
}

const changed = (d: StreamDiff) => d.sections.filter((s) => s.status !== 'same');

describe('vmstate diff', () => {
  const paused = streamPath('pc-nodefaults-paused');

  it('a stream against itself: same, exit 0, every page compared', async () => {
    const r = await diffJson(paused, paused, '--ram', 'pages');
    expect(r.code).toBe(0);
    expect(r.diff!.summary).toMatchObject({
      identical: true,
      changed: 0,
      onlyInA: 0,
      onlyInB: 0,
      pagesDiffer: 0,
    });
    expect(r.diff!.summary.same).toBeGreaterThan(20);
    const tree = await runCli(['diff', paused, paused]);
    expect(tree.code).toBe(0);
    expect(tree.stdout.split('\n')[1]).toMatch(
      /^same: 0 section\(s\) only in A, 0 only in B, 0 changed/,
    );
  });

  it('a stream and its `vmstate edit` output: exactly the edited fields, nothing else', async () => {
    const edited = path.join(dir, 'edited.mig');
    const e = await runCli([
      'edit',
      paused,
      '-o',
      edited,
      '--set',
      'cpu#0/env.eip=0x1234',
      '--set',
      'cpu#0/env.regs[1]=0xdeadbeef',
      '--set',
      'i8254#0/channels[0].count=0x1111',
    ]);
    expect(e.code).toBe(0);
    const r = await diffJson(paused, edited, '--ram', 'pages');
    expect(r.code).toBe(1);
    const d = r.diff!;
    expect(d.summary).toMatchObject({
      changed: 2,
      onlyInA: 0,
      onlyInB: 0,
      pagesDiffer: 0,
      ramBlocksDiffer: 0,
    });
    const cpu = changed(d).find((s) => s.idstr === 'cpu')!;
    expect(cpu.fields.map((f) => [f.path, f.field, f.index, f.b])).toEqual([
      ['env.regs[1]', 'env.regs', 1, '0x00000000deadbeef'],
      ['env.eip', 'env.eip', undefined, '0x0000000000001234'],
    ]);
    expect(cpu.a!.decodedBy).toBe('vmdesc');
    const pit = changed(d).find((s) => s.idstr === 'i8254')!;
    expect(pit.fields.map((f) => f.path)).toEqual(['channels[0].count']);
  });

  it('a buffer field: which byte ranges differ', async () => {
    const edited = path.join(dir, 'cmos.mig');
    const before = JSON.parse(
      (await runCli(['analyze', paused, '--format', 'qemu'])).stdout,
    ) as Record<string, Record<string, string>>;
    const key = Object.keys(before).find((k) => k.startsWith('mc146818rtc '))!;
    const bytes = before[key].cmos_data.split(' ');
    bytes[3] = bytes[3] === 'ff' ? '00' : 'ff';
    bytes[4] = bytes[4] === 'ff' ? '00' : 'ff';
    bytes[20] = bytes[20] === 'ff' ? '00' : 'ff';
    expect(
      (
        await runCli([
          'edit',
          paused,
          '-o',
          edited,
          '--set',
          `mc146818rtc#0/cmos_data=${bytes.join(' ')}`,
        ])
      ).code,
    ).toBe(0);
    const d = (await diffJson(paused, edited)).diff!;
    const rtc = changed(d);
    expect(rtc.map((s) => s.idstr)).toEqual(['mc146818rtc']);
    expect(rtc[0].fields).toHaveLength(1);
    expect(rtc[0].fields[0]).toMatchObject({
      path: 'cmos_data',
      byteRanges: [
        [3, 5],
        [20, 21],
      ],
    });
  });

  it('a real stream and what `vmstate generate` writes for the same state', async () => {
    const real = readStream('pc-nodefaults-paused');
    const release = releases['7.2'];
    const state: Record<string, State> = {};
    for (const c of release.catalog) {
      const [cut] = cutFullSections(real, c.name);
      const base = c.name === 'cpu' ? cpuResetState({ accel: 'tcg' }) : initialState(c.vmsd);
      state[sectionKey(c.name, c.instance)] = load(c.vmsd, cut.body, cut.version, {
        ctx: { accel: 'tcg' },
        into: base as State,
        base: cut.bodyOffset,
      });
    }
    const stateFile = path.join(dir, 'state.json');
    const json = vmStateToJson(
      { ctx: { accel: 'tcg' }, sections: state },
      (s) => release.catalog.find((c) => sectionKey(c.name, c.instance) === s)?.vmsd,
    );
    fs.writeFileSync(
      stateFile,
      JSON.stringify(json, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    );
    const generated = path.join(dir, 'generated.mig');
    const g = await runCli([
      'generate',
      '--release',
      '7.2',
      '--machine',
      'pc-i440fx-7.2',
      '--state',
      stateFile,
      '-o',
      generated,
    ]);
    expect(g.stderr).toBe('');
    expect(g.code).toBe(0);
    const d = (await diffJson(streamPath('pc-nodefaults-paused'), generated)).diff!;
    const by = (n: string) => d.sections.find((s) => s.idstr === n)!;
    for (const n of ['timer', 'cpu_common', 'cpu']) expect(by(n).status).toBe('same');
    // The simulated release writes only those three sections: every other real one is A's alone.
    expect(d.sections.filter((s) => s.status === 'only-b')).toEqual([]);
    expect(d.sections.filter((s) => s.status === 'changed')).toEqual([]);
    expect(d.summary.onlyInA).toBe(d.sections.length - 3);
    expect(d.configuration).toEqual([]);
  });

  it('--section keeps only the named sections; --ram none leaves RAM out', async () => {
    const r = await diffJson(
      paused,
      streamPath('pc-nodefaults-running'),
      '--section',
      'cpu',
      '--section',
      'timer',
      '--ram',
      'none',
    );
    expect(r.code).toBe(1);
    expect(r.diff!.sections.map((s) => s.idstr)).toEqual(['timer', 'cpu']);
    expect(r.diff!.ram).toBeUndefined();
  });

  it('--section takes one name each time, so streams named after it stay the streams', async () => {
    const r = await runCli([
      'diff',
      '--section',
      'cpu',
      paused,
      streamPath('pc-nodefaults-running'),
      '--format',
      'json',
      '--ram',
      'none',
    ]);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as StreamDiff).sections.map((s) => s.idstr)).toEqual(['cpu']);
  });

  it('--section takes globs over idstr and idstr#instance, as analyze and explore do', async () => {
    const r = await diffJson(
      paused,
      streamPath('pc-nodefaults-running'),
      '--section',
      'cpu*',
      '--section',
      '*/ide#?',
      '--ram',
      'none',
    );
    expect(r.code).toBe(1);
    expect(r.diff!.sections.map((s) => `${s.idstr}#${s.instance}`)).toEqual([
      'cpu_common#0',
      'cpu#0',
      '0000:00:01.1/ide#0',
    ]);
  });

  it('--html writes one self-contained page', async () => {
    const page = path.join(dir, 'diff.html');
    const r = await runCli(['diff', paused, streamPath('pc-nodefaults-running'), '--html', page]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^different: /);
    const html = fs.readFileSync(page, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/<script|<link|src=|https?:/);
    expect(html).toContain('data-section="cpu#0" data-status="changed"');
    expect(html).toContain('<code>env.eip</code>');
  });

  it('a truncated B is malformed: exit 3 naming B and the offset; nothing on stdout', async () => {
    const bytes = readStream('pc-nodefaults-paused');
    const cut = path.join(dir, 'cut.mig');
    fs.writeFileSync(cut, bytes.subarray(0, 150_000));
    const r = await runCli(['diff', paused, cut]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^vmstate: ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: offset 0x[0-9a-f]+, .*truncated`,
      ),
    );
  });

  it('usage errors exit 2 with one line', async () => {
    for (const args of [
      ['diff', paused, paused, '--ram', 'all'],
      ['diff', paused, paused, '--format', 'qemu'],
      ['diff', paused, path.join(dir, 'missing.mig')],
      ['diff', paused],
    ]) {
      const r = await runCli(args);
      expect(r.code).toBe(2);
    }
  });

  it('library: diffStreams over in-memory sources, page ranges of an edited RAM page', async () => {
    const a = readStream('pc-nodefaults-running');
    // Flip one byte inside the first full PAGE record's data (the ACPI tables: guest RAM is all zero).
    const b = a.slice();
    const { readStreamContents } = await import('../src/stream/collect');
    let at = -1;
    await readStreamContents(bytesSource(a), {
      onRam: (rec) => {
        if (at < 0 && rec.kind === 'page' && rec.block === '/rom@etc/acpi/tables')
          at = rec.offset + 8 + (rec.named ? 1 + rec.block.length : 0) + 100;
      },
    });
    expect(at).toBeGreaterThan(0);
    b[at] ^= 0xff;
    const d = await diffStreams(bytesSource(a), bytesSource(b), { ram: 'pages' });
    expect(d.summary.pagesDiffer).toBe(1);
    const block = d.ram!.blocks.find((x) => x.name === '/rom@etc/acpi/tables')!;
    expect(block.ranges).toHaveLength(1);
    expect(block.ranges![0].pages).toBe(1);
    expect(d.summary.changed).toBe(0);
  });

  it('byteRanges: runs of differing bytes and a length change', () => {
    expect(byteRanges(Uint8Array.of(1, 2, 3, 4), Uint8Array.of(1, 9, 9, 4))).toEqual([[1, 3]]);
    expect(byteRanges(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toEqual([[2, 3]]);
    expect(byteRanges(Uint8Array.of(1, 2), Uint8Array.of(0, 2, 3))).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });
});
