/**
 * A simulated QEMU 7.2 writing the state of a real QEMU 7.2 VM: load the timer, cpu_common and
 * cpu sections of each real stream with release 7.2's catalog, generate a whole stream from them
 * on the same machine type, and the three sections (header, body, footer) and their vmdesc
 * entries come out exactly as the real QEMU wrote them.
 */
import { load, type State } from '../src';
import { releases } from '../vmstate/releases';
import { generateStream } from '../vmstate/releases/generate';
import { sectionKey } from '../vmstate/releases/types';
import type { X86Ctx } from '../vmstate/x86/ctx';
import { cpuResetState } from '../vmstate/x86/reset';
import { initialState } from '../src/engine/state';
import { qemuJson } from '../src/stream/generate-framing';
import {
  cutFullSections,
  readStream,
  REAL_STREAMS,
  streamVmdesc,
} from './support/cpu-real-sections';

const release = releases['7.2'];
const TCG: X86Ctx = { accel: 'tcg' };

function machineOf(stream: Uint8Array): string {
  // 0x07, be32 length, name: the configuration record right after the 8-byte header.
  expect(stream[8]).toBe(0x07);
  const len = (stream[9] << 24) | (stream[10] << 16) | (stream[11] << 8) | stream[12];
  return Buffer.from(stream.subarray(13, 13 + len)).toString('latin1');
}

describe.each(REAL_STREAMS)('simulated 7.2 vs real %s', (name) => {
  const real = readStream(name);
  const machine = machineOf(real);
  const state: Record<string, State> = {};
  for (const c of release.catalog) {
    const [cut] = cutFullSections(real, c.name);
    const base = c.name === 'cpu' ? cpuResetState(TCG) : initialState(c.vmsd);
    state[sectionKey(c.name, c.instance)] = load(c.vmsd, cut.body, cut.version, {
      ctx: TCG,
      into: base as State,
      base: cut.bodyOffset,
    });
  }
  const out = generateStream(release, machine, { ctx: TCG, state });

  it('the release has the stream machine type and saves the state', () => {
    expect(release.machineTypes.map((m) => m.name)).toContain(machine);
    expect(out.ok).toBe(true);
  });

  it.each(['timer', 'cpu_common', 'cpu'])(
    'section %s is byte-identical, framing included',
    (section) => {
      if (!out.ok) throw new Error('not generated');
      const [mine] = cutFullSections(out.bytes, section);
      const [theirs] = cutFullSections(real, section);
      expect(mine.sectionId).toBe(theirs.sectionId);
      expect(Buffer.from(mine.whole).equals(Buffer.from(theirs.whole))).toBe(true);
    },
  );

  it('the vmdesc entries of those sections are the real ones', () => {
    if (!out.ok) throw new Error('not generated');
    const mine = streamVmdesc(out.bytes);
    const theirs = streamVmdesc(real);
    expect(mine.page_size).toBe(theirs.page_size);
    for (const d of mine.devices)
      expect(d).toEqual(
        theirs.devices.find((x) => x.name === d.name && x.instance_id === d.instance_id),
      );
    expect(mine.devices.map((d) => d.name)).toEqual(['timer', 'cpu_common', 'cpu']);
  });

  it('writes the vmdesc JSON text the way QEMU does (the real text contains ours device by device)', () => {
    if (!out.ok) throw new Error('not generated');
    const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
    const ours = text(out.bytes);
    const start = ours.indexOf('{"page_size": 4096, "devices": [');
    expect(start).toBeGreaterThan(0);
    for (const d of streamVmdesc(out.bytes).devices) expect(text(real)).toContain(qemuJson(d));
    expect(ours.endsWith(']}')).toBe(true);
  });
});
