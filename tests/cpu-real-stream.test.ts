/**
 * The 7.2 `cpu` description against the cpu sections of real QEMU 7.2 streams: the bytes load,
 * save back identically, and the vmdesc we produce for them is the stream's own.
 */
import { load, save, saveDescribed } from '../src';
import { cpu } from '../vmstate/x86/cpu';
import { cpuResetState } from '../vmstate/x86/reset';
import {
  cutFullSections,
  readStream,
  REAL_STREAMS,
  vmdescEntry,
} from './support/cpu-real-sections';

describe.each(REAL_STREAMS)('real 7.2 stream %s', (name) => {
  const stream = readStream(name);
  const sections = cutFullSections(stream, 'cpu');

  it('has one cpu section, version 12', () => {
    expect(sections).toHaveLength(1);
    expect(sections[0].version).toBe(12);
    expect(sections[0].instanceId).toBe(0);
  });

  it('loads the body and saves it back byte for byte', () => {
    const { body, bodyOffset } = sections[0];
    const state = load(cpu, body, 12, {
      base: bodyOffset,
      ctx: { accel: 'tcg' },
      into: cpuResetState({ accel: 'tcg' }),
    });
    const again = save(cpu, state, { ctx: { accel: 'tcg' } });
    expect(Buffer.from(again).equals(Buffer.from(body))).toBe(true);
  });

  it('describes what it wrote exactly as the stream vmdesc describes the cpu device', () => {
    const { body } = sections[0];
    const state = load(cpu, body, 12, {
      ctx: { accel: 'tcg' },
      into: cpuResetState({ accel: 'tcg' }),
    });
    const { vmdesc } = saveDescribed(cpu, state, { ctx: { accel: 'tcg' } });
    const { name: _n, instance_id: _i, ...own } = vmdescEntry(stream, 'cpu');
    expect(JSON.parse(JSON.stringify(vmdesc))).toEqual(own);
  });

  it('main fields take the 1817 bytes QEMU documents, then cpu/poll_control_msr follows', () => {
    const { body } = sections[0];
    expect(body[1817]).toBe(0x05);
    expect(Buffer.from(body.subarray(1819, 1819 + 20)).toString('latin1')).toBe(
      'cpu/poll_control_msr',
    );
  });
});
