/**
 * The tap's verdict is `vmstate predict`'s: records fed one by one, as the tap walks a stream in
 * flight, give the prediction predictLoad gives for the whole stream, for real 5.2 / 7.2 / 10.0
 * streams against every destination release predict knows (machine types matching and not).
 */
import * as fs from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { predictLoad } from '../src/predict/predict';
import { bytesSource } from '../src/stream/source';
import { walkStream } from '../src/stream/walk';
import { HOSTS, PLATFORMS } from '../vmstate/platforms';
import { predictCheck } from '../vmstate/tap-verdict';

const ROOT = path.join(__dirname, '..', 'streams');
const STREAMS = [
  'qemu-5.2/pc-4.2-nodefaults-paused',
  'qemu-5.2/pc-4.2-rich-max',
  'qemu-10.0/q35-10.0-nodefaults-running',
  'qemu-10.0/pc-10.0-rich-max',
].filter((s) => fs.existsSync(path.join(ROOT, `${s}.mig.gz`)));
const BUNDLED = ['pc-nodefaults-running', 'q35-nodefaults-paused'].map((s) =>
  path.join(ROOT, 'qemu-7.2', `${s}.mig`),
);

function load(file: string): Uint8Array {
  const b = fs.readFileSync(file);
  return new Uint8Array(file.endsWith('.gz') ? gunzipSync(b) : b);
}

/** What the tap's check says, fed as the tap's walk reads the stream. */
async function inFlight(bytes: Uint8Array, release: string, machine: string) {
  const check = predictCheck(release, { machine });
  try {
    await walkStream(
      bytesSource(bytes),
      { record: (r) => void check.record(r) },
      { useVmdesc: false, resolvers: [], opaqueFallback: true },
    );
  } catch (e) {
    check.walkFailed(e, 0);
  }
  return check.prediction();
}

const files = [...STREAMS.map((s) => path.join(ROOT, `${s}.mig.gz`)), ...BUNDLED];
/** Refusal reasons met over all the streams (the last test checks they go past the configuration). */
const allReasons = new Set<string>();

test.each(files)(
  '%s: the tap gives predict’s verdict for every release predict knows',
  async (file) => {
    expect(STREAMS.length).toBeGreaterThan(2);
    const bytes = load(file);
    const own = (await predictLoad(bytes, PLATFORMS.platform('7.2', 'pc-q35-7.2')))
      .streamMachineType!;
    const reasons = new Set<string>();
    let ok = 0;
    for (const release of PLATFORMS.releases) {
      // The aliases, and the stream's own machine type where the release has it.
      for (const machine of ['pc', 'q35', own]) {
        const machineType = PLATFORMS.resolveMachine(release, machine);
        if (!machineType) continue;
        const expected = await predictLoad(
          bytes,
          PLATFORMS.platform(release, machineType, HOSTS.tcg),
        );
        expect({ release, machine, p: await inFlight(bytes, release, machine) }).toEqual({
          release,
          machine,
          p: expected,
        });
        if (expected.refusal) reasons.add(expected.refusal.reason);
        else ok++;
      }
    }
    for (const r of reasons) allReasons.add(r);
    expect(ok + reasons.size).toBeGreaterThan(1);
  },
  120_000,
);

test('the streams above reach refusals past the configuration (sections a release lacks, versions)', () => {
  expect(allReasons.size).toBeGreaterThan(0);
  expect([...allReasons].filter((r) => r !== 'machine-type-mismatch').length).toBeGreaterThan(0);
});
