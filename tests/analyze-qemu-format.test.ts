import { qemuDescJson, qemuStateJson } from '../src/analyze/qemu-format';
import { REAL_STREAMS, analyzerOutput, readStream } from './fixtures/qemu-streams';
import { contentsOf } from './fixtures/stream-helpers';

/** `--format qemu` against what QEMU's analyze-migration.py printed for the same streams. */
describe.each(REAL_STREAMS)('--format qemu on %s', (name) => {
  test('-d state: deep-equal, and byte for byte', async () => {
    const out = qemuStateJson(await contentsOf(readStream(name)));
    const expected = analyzerOutput(name, 'state');
    expect(JSON.parse(out)).toEqual(JSON.parse(expected));
    expect(out).toBe(expected);
  });

  test('-d desc: deep-equal, and byte for byte', async () => {
    const out = qemuDescJson(await contentsOf(readStream(name)));
    const expected = analyzerOutput(name, 'desc');
    expect(JSON.parse(out)).toEqual(JSON.parse(expected));
    expect(out).toBe(expected);
  });
});
