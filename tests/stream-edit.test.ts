import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { qemuStateDict } from '../src/analyze/qemu-format';
import { pythonJson } from '../src/analyze/python-json';
import { EditError, parseAssignment } from '../src/stream/edit';
import { fileSource } from '../src/stream/source';
import { transcodeToFile } from '../src/stream/transcode';
import { readStream, streamPath } from './fixtures/qemu-streams';
import { contentsOf } from './fixtures/stream-helpers';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-edit-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function edit(
  sets: string[],
  out: string,
  name: 'pc-nodefaults-paused' | 'q35-nodefaults-paused' = 'pc-nodefaults-paused',
) {
  const src = await fileSource(streamPath(name));
  try {
    return await transcodeToFile(src, out, { assignments: sets.map(parseAssignment) });
  } finally {
    await src.close();
  }
}

const stateOf = async (bytes: Uint8Array) =>
  JSON.parse(pythonJson(qemuStateDict(await contentsOf(bytes))));

describe('edit', () => {
  test('env.eip and env.regs[1]: the decoded edited stream has the new values and nothing else changed', async () => {
    const out = path.join(dir, 'eip.mig');
    await edit(['cpu#0/env.eip=0x1234', 'cpu#0/env.regs[1]=0xdeadbeef'], out);
    const original = readStream('pc-nodefaults-paused');
    const edited = new Uint8Array(fs.readFileSync(out));
    expect(edited.length).toBe(original.length);

    const before = await stateOf(original);
    const after = await stateOf(edited);
    expect(after['cpu (5)']['env.eip']).toBe('0x0000000000001234');
    expect(after['cpu (5)']['env.regs'][1]).toBe('0x00000000deadbeef');
    before['cpu (5)']['env.eip'] = '0x0000000000001234';
    before['cpu (5)']['env.regs'][1] = '0x00000000deadbeef';
    expect(after).toEqual(before);

    // Only bytes inside those two fields differ.
    const c = await contentsOf(original);
    const cpu = c.entries.find((e) => e.type === 'section' && e.section.idstr === 'cpu');
    if (cpu?.type !== 'section') throw new Error('no cpu');
    const regsAt = cpu.section.bodyOffset; // env.regs[0] is the first field
    const eipAt = regsAt + 16 * 8;
    for (let i = 0; i < original.length; i++) {
      if (original[i] === edited[i]) continue;
      const inRegs1 = i >= regsAt + 8 && i < regsAt + 16;
      const inEip = i >= eipAt && i < eipAt + 8;
      expect([i, inRegs1 || inEip]).toEqual([i, true]);
    }
  });

  test('fields in structs, arrays of structs and subsections; section chosen by section id', async () => {
    const out = path.join(dir, 'nested.mig');
    await edit(
      [
        'cpu#0/env.segs[1].base=0xffff1234',
        'cpu(5)/cpu/poll_control_msr.env.poll_control_msr=7',
        'i8259#1/imr=0x12',
      ],
      out,
    );
    const after = await stateOf(new Uint8Array(fs.readFileSync(out)));
    expect(after['cpu (5)']['env.segs'][1].base).toBe('0x00000000ffff1234');
    expect(after['cpu (5)']['cpu/poll_control_msr']['env.poll_control_msr']).toBe(
      '0x0000000000000007',
    );
    expect(after['i8259 (16)'].imr).toBe('0x12');
  });

  test('signed fields take negative values and their unsigned form', async () => {
    const out = path.join(dir, 'signed.mig');
    await edit(['timer#0/cpu_ticks_offset=-5'], out);
    expect(
      (await stateOf(new Uint8Array(fs.readFileSync(out))))['timer (0)'].cpu_ticks_offset,
    ).toBe('0xfffffffffffffffb (-5)');
  });

  test.each([
    ['cpu#0/env.hflags=0x100000000', /does not fit the field \(uint32, 4 byte\(s\)/],
    ['cpu#0/env.eip=-1', /does not fit/],
    ['cpu#0/env.eip=banana', /is not an integer/],
    ['cpu#0/env.regs=1', /array of 16; add an index/],
    ['cpu#0/env.regs[16]=1', /index 16 is out of range/],
    ['cpu#0/env.nothere=1', /no field 'env.nothere'/],
    ['cpu#0/env.segs[0]=1', /is a struct/],
    ['timer#0/unused=00 11', /2 byte\(s\) given, the field \(unused_buffer\) holds exactly 8/],
    ['nosuch#0/x=1', /no section in the stream matches/],
    ['dma/command=1', /matches more than one section/],
  ])('%s is refused (EditError) and no output is left', async (set, message) => {
    const out = path.join(dir, 'refused.mig');
    await expect(edit([set], out)).rejects.toThrow(message);
    await expect(edit([set], out)).rejects.toBeInstanceOf(EditError);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes('refused'))).toEqual([]);
  });

  test('assignment syntax errors', () => {
    expect(() => parseAssignment('cpu#0/env.eip')).toThrow(EditError);
    expect(() => parseAssignment('=5')).toThrow(EditError);
    expect(() => parseAssignment('cpu#0/env.eip=')).toThrow(EditError);
    expect(parseAssignment('0000:00:01.3/piix4_pm#0/ar.pm1.evt.sts=1')).toMatchObject({
      idstr: '0000:00:01.3/piix4_pm',
      instanceId: 0,
      field: 'ar.pm1.evt.sts',
    });
  });
});
