/**
 * The virtio family captured live from each real release, in a VM that has only devices the
 * catalog models (-nodefaults, the virtio devices, a SCSI disk, one legacy virtio device with
 * disable-modern=on and one with fewer MSI-X vectors): the stream cut right after its EOF byte
 * gets from `reencode --add-vmdesc` the stream QEMU wrote, VM description and all, byte for byte;
 * and its --format qemu is the whole stream's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './fixtures/run-cli';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';
import { captureStreamDetailed, describeQemu, type RealRelease } from './support/qemu';

const drive = (dir: string, name: string) => `${dir}/${name}`.replace(/,/g, ',,');

function virtioArgs(dir: string): string[] {
  fs.writeFileSync(path.join(dir, 'blk.raw'), new Uint8Array(1 << 20));
  fs.writeFileSync(path.join(dir, 'scsi.raw'), new Uint8Array(1 << 20));
  // prettier-ignore
  return [
    '-smp', '2',
    '-netdev', 'user,id=net0,restrict=on',
    '-device', 'virtio-net-pci,netdev=net0,romfile=',
    '-drive', `file=${drive(dir, 'blk.raw')},format=raw,if=none,id=blk0`,
    '-device', 'virtio-blk-pci,drive=blk0',
    '-device', 'virtio-scsi-pci,id=scsi0',
    '-drive', `file=${drive(dir, 'scsi.raw')},format=raw,if=none,id=hd0`,
    '-device', 'scsi-hd,drive=hd0,bus=scsi0.0',
    '-device', 'virtio-balloon-pci',
    '-device', 'virtio-rng-pci,disable-modern=on',
    '-device', 'virtio-serial-pci,vectors=1',
  ];
}

for (const release of ['5.2', '7.2', '10.0'] as RealRelease[]) {
  describeQemu(
    `real QEMU ${release}: virtio devices captured live`,
    () => {
      let dir: string;
      beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), `vmstate-virtio-${release}-`))));
      afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

      test.each([`pc-q35-${release}`, 'pc-i440fx-4.2'])(
        '%s: --add-vmdesc gives back the stream QEMU wrote',
        async (machine) => {
          const whole = path.join(dir, `${machine}.mig`);
          const cap = await captureStreamDetailed({
            release,
            machine,
            extraArgs: virtioArgs(dir),
            out: whole,
          });
          expect(cap.migration.status).toBe('completed');
          const bytes = new Uint8Array(fs.readFileSync(whole));
          const contents = await readStreamContents(bytesSource(bytes));
          const names = contents.vmdesc!.desc!.devices.map((d) => d.name);
          expect(names.some((n) => n.endsWith('/virtio-rng'))).toBe(true);
          expect(names.some((n) => n.endsWith('/scsi-disk'))).toBe(true);
          const cut = path.join(dir, `${machine}.cut.mig`);
          fs.writeFileSync(cut, bytes.subarray(0, contents.eof!.offset + 1));

          const added = path.join(dir, `${machine}.added.mig`);
          const r = await runCli([
            'reencode',
            cut,
            '--add-vmdesc',
            '--release',
            release,
            '-o',
            added,
          ]);
          expect(r.stderr).not.toContain('cannot describe');
          expect(r.code).toBe(0);
          expect(fs.readFileSync(added).equals(fs.readFileSync(whole))).toBe(true);

          const a = await runCli(['analyze', whole, '--format', 'qemu']);
          const b = await runCli(['analyze', cut, '--format', 'qemu', '--release', release]);
          expect(b.code).toBe(0);
          expect(JSON.parse(b.stdout)).toEqual(JSON.parse(a.stdout));
        },
      );
    },
    release,
  );
}
