/**
 * The catalog's choice of release and machine type, as the CLI says it: --release, what is
 * assumed without it, --check-catalog's context lines, and bad --release values.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './fixtures/run-cli';
import { committedStreams, streamBytes } from './fixtures/release-streams';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-catalog-release-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const q35Of10 = committedStreams(['10.0']).find((s) => s.stem === 'q35-10.0-nodefaults-paused')!;

async function files(): Promise<{ whole: string; cut: string }> {
  const bytes = streamBytes(q35Of10);
  const eof = (await readStreamContents(bytesSource(bytes))).eof!.offset;
  const whole = path.join(dir, 'whole.mig');
  const cut = path.join(dir, 'cut.mig');
  fs.writeFileSync(whole, bytes);
  fs.writeFileSync(cut, bytes.subarray(0, eof + 1));
  return { whole, cut };
}

test('without --release the release is worked out and said', async () => {
  const { cut } = await files();
  const r = await runCli(['analyze', cut, '--format', 'qemu']);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain('the stream does not say which release wrote it: assumed 10.0');
  expect(r.stderr).toContain('on machine type pc-q35-10.0');
});

test('an unknown --release is a usage error naming the real releases', async () => {
  const { cut } = await files();
  const r = await runCli(['analyze', cut, '--release', '9.9']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("no device catalog for '9.9' (real releases: 5.2, 7.2, 10.0)");
});

test('--check-catalog names release and machine type, and a newer machine type as such', async () => {
  const { whole } = await files();
  const own = await runCli(['analyze', whole, '--check-catalog', '--release', '10.0']);
  expect(own.stdout).toContain('checked against the 10.0 catalog on machine type pc-q35-10.0');
  expect(own.stdout).toMatch(/: 0 section\(s\) differ/);
  expect(own.code).toBe(0);
  const older = await runCli(['analyze', whole, '--check-catalog', '--release', '7.2']);
  expect(older.stdout).toContain('checked against the 7.2 catalog on machine type pc-q35-7.2');
  expect(older.stdout).toContain(
    "machine type differs: the stream's pc-q35-10.0 is newer than release 7.2",
  );
});

test('--check-catalog on a stream without a description: nothing to compare', async () => {
  const { cut } = await files();
  const r = await runCli(['analyze', cut, '--check-catalog', '--release', '10.0']);
  expect(r.stdout).toContain('nothing to compare: the stream carries no VM description');
  expect(r.code).toBe(0);
});
