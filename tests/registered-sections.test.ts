/**
 * vmstate/registered-sections.ts is generated from the committed -dump-vmstate files: it must
 * still equal what they list, so a dump added or recaptured cannot leave it stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { REGISTERED_SECTIONS } from '../vmstate/registered-sections';

const STREAMS = path.join(__dirname, '..', 'streams');

test.each(['5.2', '7.2', '10.0'])('release %s: the description names of its dumps', (release) => {
  const dir = path.join(STREAMS, `qemu-${release}`);
  const dumps = fs.readdirSync(dir).filter((f) => f.endsWith('.vmstate.json.gz'));
  expect(dumps.length).toBeGreaterThan(0);
  const names = new Set<string>();
  for (const f of dumps) {
    const dump = JSON.parse(
      zlib.gunzipSync(fs.readFileSync(path.join(dir, f))).toString(),
    ) as Record<string, { Description?: { name?: string } } | null>;
    for (const entry of Object.values(dump)) {
      const name = entry?.Description?.name;
      if (name) names.add(name);
    }
  }
  expect([...(REGISTERED_SECTIONS[release] ?? [])]).toEqual([...names].sort());
});
