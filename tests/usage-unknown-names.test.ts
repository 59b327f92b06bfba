/**
 * An unknown release, design or machine type is a usage error in every command that takes one:
 * exit 2 and one line on stderr that names what was not found, before anything runs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './fixtures/run-cli';

const STREAM = path.join(__dirname, '..', 'streams', 'qemu-7.2', 'pc-nodefaults-paused.mig');
const DUMP = path.join(__dirname, '..', 'streams', 'qemu-10.0', 'q35-7.2.vmstate.json.gz');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usage-unknown-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const out = (name: string) => path.join(dir, name);

const CASES: readonly (readonly [string, readonly string[], RegExp])[] = [
  ['analyze --release', ['analyze', STREAM, '--release', '9.9', '-o', out('a.json')], /'9\.9'/],
  [
    'reencode --release',
    ['reencode', STREAM, '-o', out('r.mig'), '--add-vmdesc', '--release', '9.9'],
    /'9\.9'/,
  ],
  [
    'generate --release',
    ['generate', '--release', '9.9', '--scenario', 'no-nested', '-o', out('g.mig')],
    /unknown release '9\.9'/,
  ],
  [
    'generate --machine',
    [
      'generate',
      '--release',
      '7.2',
      '--machine',
      'bogus',
      '--scenario',
      'no-nested',
      '-o',
      out('g.mig'),
    ],
    /no machine type 'bogus'/,
  ],
  [
    'generate --release (a design)',
    ['generate', '--release', 'bogus-design', '--scenario', 'no-nested', '-o', out('g.mig')],
    /unknown release 'bogus-design'/,
  ],
  ['compat --from', ['compat', '--from', '9.9', '--to', '7.2', '--runs', '1'], /'9\.9'/],
  ['compat --to', ['compat', '--from', '7.2', '--to', '9.9', '--runs', '1'], /'9\.9'/],
  ['compat --design', ['compat', '--design', 'bogus', '--runs', '1'], /'bogus'/],
  [
    'compat --machine',
    ['compat', '--from', '7.2', '--to', '7.2', '--machine', 'bogus', '--runs', '1'],
    /unknown machine type 'bogus'/,
  ],
  ['predict --to', ['predict', STREAM, '--to', '9.9'], /'9\.9' is unknown/],
  [
    'predict --machine',
    ['predict', STREAM, '--to', '7.2', '--machine', 'bogus'],
    /machine type 'bogus' is unknown/,
  ],
  ['check OLD', ['check', '9.9', '7.2'], /unknown release '9\.9'/],
  ['check NEW (a design)', ['check', '7.2', 'bogus-design'], /unknown release 'bogus-design'/],
  [
    "check RELEASE DUMP (the dump's machine type unknown to the release)",
    ['check', '5.2', DUMP],
    /release 5\.2 has no machine type 'pc-q35-7\.2'/,
  ],
  [
    'tap --check',
    ['tap', '--listen', 'tcp:127.0.0.1:1', '--forward', 'tcp:127.0.0.1:2', '--check', '9.9'],
    /'9\.9'/,
  ],
  [
    'tap --machine',
    [
      'tap',
      '--listen',
      'tcp:127.0.0.1:1',
      '--forward',
      'tcp:127.0.0.1:2',
      '--check',
      '7.2',
      '--machine',
      'bogus',
    ],
    /'bogus'/,
  ],
];

test.each(CASES)('%s: exit 2, one line naming it', async (_name, args, message) => {
  const r = await runCli([...args]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({
    code: 2,
    stderr: expect.stringMatching(message) as unknown as string,
  });
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
});
