/**
 * tests/support/cpu-real-sections.ts cuts FULL sections out of a stream by their framing alone:
 * a footer's bytes inside a body must not end it (a running VM's timer section once did, with its
 * cpu_ticks_offset ending in 0x7e and the zero `dummy` after it: a flaky real-release test).
 */
import { cutFullSections } from './support/cpu-real-sections';

function be32(n: number): number[] {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function fullSection(id: number, idstr: string, body: number[]): number[] {
  const name = [...Buffer.from(idstr, 'latin1')];
  return [
    0x04,
    ...be32(id),
    name.length,
    ...name,
    ...be32(0),
    ...be32(2),
    ...body,
    0x7e,
    ...be32(id),
  ];
}

describe('cutting FULL sections by their framing', () => {
  // timer (id 0): cpu_ticks_offset ending in 0x7e, dummy 0, cpu_clock_offset.
  const timerBody = [
    0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x7e, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
  ];
  const head = [0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3];

  test('a footer pattern inside the body does not end it, followed by another section', () => {
    const stream = Uint8Array.from([
      ...head,
      ...fullSection(0, 'timer', timerBody),
      ...fullSection(1, 'cpu_common', [0, 1]),
      0x00,
    ]);
    const [timer] = cutFullSections(stream, 'timer');
    expect([...timer!.body]).toEqual(timerBody);
    expect([...cutFullSections(stream, 'cpu_common')[0]!.body]).toEqual([0, 1]);
  });

  test('... or by EOF and the VM description', () => {
    const json = [...Buffer.from('{"devices":[]}')];
    const stream = Uint8Array.from([
      ...head,
      ...fullSection(0, 'timer', timerBody),
      0x00,
      0x06,
      ...be32(json.length),
      ...json,
    ]);
    expect([...cutFullSections(stream, 'timer')[0]!.body]).toEqual(timerBody);
  });
});
