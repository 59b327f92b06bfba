/**
 * Every committed stream of the real releases (streams/qemu-<release>/, the configurations of
 * streams/configurations.ts): `vmstate analyze --format qemu` (-d state and -d desc) equals QEMU's
 * own analyze-migration.py run live on the same file, and `vmstate reencode` writes it back byte
 * for byte. The default run takes a slice (fixtures/release-streams.ts, inDefaultSlice);
 * VMSTATE_FULL=1 takes every committed stream.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './fixtures/run-cli';
import { committedStreams, fullRun, inDefaultSlice, materialize } from './fixtures/release-streams';
import { runAnalyzeMigration } from './support/anchors';

const streams = committedStreams().filter((s) => fullRun() || inDefaultSlice(s));

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-release-streams-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the committed set covers every real release, both chipsets and the device-rich VM', () => {
  for (const release of ['5.2', '7.2', '10.0'])
    for (const stem of [`pc-${release}-nodefaults-paused`, `q35-${release}-rich-max`])
      expect(streams.some((s) => s.release === release && s.stem === stem)).toBe(true);
});

describe.each(streams.map((s) => [`${s.release} ${s.stem}`, s] as const))('%s', (_name, s) => {
  test('--format qemu equals analyze-migration.py (-d state, -d desc)', async () => {
    const file = materialize(s, dir);
    for (const dump of ['state', 'desc'] as const) {
      const ours = await runCli(['analyze', file, '--format', 'qemu', '--dump', dump]);
      expect(ours.stderr).toBe('');
      expect(ours.code).toBe(0);
      expect(JSON.parse(ours.stdout)).toEqual(JSON.parse(runAnalyzeMigration(file, dump)));
    }
  });

  test('reencode is byte-identical', async () => {
    const file = materialize(s, dir);
    const again = `${file}.again`;
    expect((await runCli(['reencode', file, '-o', again])).code).toBe(0);
    expect(fs.readFileSync(again).equals(fs.readFileSync(file))).toBe(true);
  });
});
