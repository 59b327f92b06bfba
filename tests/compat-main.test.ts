/** `vmstate main` (what `npm start` runs): the bundled stream's outline, the release matrix, the designs. */
import { runCli } from './fixtures/run-cli';
import { RELEASE_NAMES } from '../vmstate/releases';

/** Every release pair, on one machine type per family (pc-q35, pc-i440fx). */
const CELLS = RELEASE_NAMES.length ** 2 * 2;

describe('vmstate main', () => {
  it('decodes the bundled 7.2 stream, prints the matrix with no broken cell, and the designs that break it', async () => {
    const r = await runCli(['main', '--runs', '20']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/q35-nodefaults-paused\.mig: QEMU migration stream v3, 171692 bytes/);
    expect(r.stdout).toMatch(/\[5\] FULL cpu#0 v12: 1851 bytes, by vmdesc/);
    expect(r.stdout).toContain(`${CELLS} cells x 20 VMs`);
    expect(r.stdout).toMatch(/lossy 0, crash 0; 0 cell\(s\) break the property/);
    // The oldest release sends nothing any later release lacks: its row is all ok.
    const oldest = RELEASE_NAMES[0].replace('.', '\\.');
    expect(r.stdout).toMatch(
      new RegExp(`^ +${oldest}${' +20/0'.repeat(RELEASE_NAMES.length)}$`, 'm'),
    );
    expect(r.stdout).toMatch(/subsections +keeps the property with every release/);
    expect(r.stdout).toMatch(/blob +breaks \d+ pair\(s\): .*blob->7\.2.*\(refused, never lossy\)/);
    expect(r.stdout).toMatch(
      /unversioned-append +breaks \d+ pair\(s\): .*7\.2->unversioned-append/,
    );
  });

  it('--runs must be a positive whole number', async () => {
    expect((await runCli(['main', '--runs', 'x'])).code).toBe(2);
  });
});
