/**
 * Catalog decoding equals description decoding, on real streams of each release: the committed
 * stream cut right after its EOF byte (no VM description) and decoded by `vmstate analyze
 * --release R` gives, section by section, exactly what the whole stream gives by its own
 * description (`--format qemu`; `--format json` device sections), or the catalog says on stderr
 * which device it lacks. When it lacks none, `reencode --add-vmdesc` writes back the whole
 * stream byte for byte. The default run takes the -nodefaults and default-device streams of each
 * release's newest machine types and the device-rich q35; VMSTATE_FULL=1 every committed stream.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './fixtures/run-cli';
import { committedStreams, fullRun, streamBytes } from './fixtures/release-streams';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';

const newest = (s: { stem: string; release: string }) =>
  s.stem.startsWith(`pc-${s.release}-`) || s.stem.startsWith(`q35-${s.release}-`);
const streams = committedStreams().filter(
  (s) =>
    fullRun() ||
    (newest(s) &&
      (s.configuration === 'nodefaults-paused' ||
        s.configuration === 'defaults' ||
        (s.configuration === 'rich-max' && s.stem.startsWith('q35-')))),
);

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-catalog-real-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The stream and the same stream cut after EOF, as files. */
async function pair(s: (typeof streams)[number]): Promise<{ whole: string; cut: string }> {
  const bytes = streamBytes(s);
  const contents = await readStreamContents(bytesSource(bytes));
  const eof = contents.eof!.offset;
  const whole = path.join(dir, `${s.release}-${s.stem}.mig`);
  const cut = path.join(dir, `${s.release}-${s.stem}.cut.mig`);
  fs.writeFileSync(whole, bytes);
  fs.writeFileSync(cut, bytes.subarray(0, eof + 1));
  return { whole, cut };
}

/** Sections the catalog said it lacks: "idstr#instance @0x...: reason" lines of stderr. */
function lackingOf(stderr: string): Set<string> {
  const out = new Set<string>();
  for (const m of stderr.matchAll(/: (\S+)#(\d+) @0x[0-9a-f]+: (.*)$/gm)) out.add(m[1]!);
  return out;
}

describe.each(streams.map((s) => [`${s.release} ${s.stem}`, s] as const))('%s', (_n, s) => {
  test('--format qemu: every section as by its description, or the lacking device named', async () => {
    const { whole, cut } = await pair(s);
    const theirs = await runCli(['analyze', whole, '--format', 'qemu']);
    const ours = await runCli(['analyze', cut, '--format', 'qemu', '--release', s.release]);
    expect(ours.code).toBe(0);
    expect(ours.stderr).toContain(
      `decoded by the ${s.release} device catalog on machine type ${s.machineType}`,
    );
    const a = JSON.parse(theirs.stdout) as Record<string, unknown>;
    const b = JSON.parse(ours.stdout) as Record<string, unknown>;
    const lacking = lackingOf(ours.stderr);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    const differing = Object.keys(a).filter(
      (k) =>
        JSON.stringify(a[k]) !== JSON.stringify(b[k]) && !lacking.has(k.replace(/ \(\d+\)$/, '')),
    );
    expect(differing).toEqual([]);
    if (lacking.size === 0) expect(b).toEqual(a);
  });

  test('--add-vmdesc writes the description QEMU wrote, byte for byte (or refuses, naming the lacking devices)', async () => {
    const { whole, cut } = await pair(s);
    const out = `${cut}.added`;
    const r = await runCli(['reencode', cut, '--add-vmdesc', '--release', s.release, '-o', out]);
    if (lackingOf(r.stderr).size === 0) {
      expect(r.code).toBe(0);
      expect(fs.readFileSync(out).equals(fs.readFileSync(whole))).toBe(true);
    } else {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot describe \d+ section/);
      expect(fs.existsSync(out)).toBe(false);
    }
  });
});
