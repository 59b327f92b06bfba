/**
 * `vmstate diff` on streams real QEMUs write: two captures of one paused VM differ only in what
 * really changes (timers), and 7.2 and 10.0 migrating the same VM on pc-q35-7.2 differ in what
 * 10.0 really sends differently, sections aligned by name although their ids differ.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StreamDiff } from '../src';
import { diffStreams } from '../src/diff/diff';
import { bytesSource, fileSource } from '../src/stream/source';
import { runCli } from './fixtures/run-cli';
import {
  captureStream,
  captureStreamDetailed,
  describeQemu,
  loadRegistersThenHalt,
  pseudoRandomBytes,
  releaseStatus,
} from './support/qemu';
import { execToFile, startVm, waitForFile } from './support/qemu-tcp';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-diff-qemu-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function diff(a: string, b: string): Promise<{ code: number; d: StreamDiff }> {
  const r = await runCli(['diff', a, b, '--format', 'json', '--ram', 'pages']);
  expect(r.stderr).toBe('');
  return { code: r.code, d: JSON.parse(r.stdout) as StreamDiff };
}

describeQemu('vmstate diff on real QEMU 7.2 streams', () => {
  test('two captures of one paused VM: only timers differ', async () => {
    const { code } = loadRegistersThenHalt({ eax: 0x1234, ebx: 0x5678 });
    const vm = await startVm({ machine: 'pc', biosCode: code, runMs: 200 });
    const a = path.join(dir, 'first.mig');
    const b = path.join(dir, 'second.mig');
    try {
      expect((await vm.migrate(execToFile(a))).status).toBe('completed');
      await waitForFile(a);
      // QEMU refuses a second migration out of 'postmigrate': resume and pause again at once
      // (the vCPU sits in its HLT loop, so only the clocks move).
      await vm.qemu.qmp.execute('cont');
      await vm.qemu.qmp.execute('stop');
      expect((await vm.migrate(execToFile(b))).status).toBe('completed');
      await waitForFile(b);
    } finally {
      await vm.close();
    }
    const { code: exit, d } = await diff(a, b);
    expect(d.summary).toMatchObject({ onlyInA: 0, onlyInB: 0, pagesDiffer: 0, ramBlocksDiffer: 0 });
    expect(d.configuration).toEqual([]);
    const fields = d.sections.flatMap((s) => s.fields.map((f) => `${s.idstr}/${f.path}`));
    // Whatever differs is a clock (guest clock offsets, the RTC's update timer and alarm, the
    // PIT's next transition), nothing of the CPU or the devices' registers.
    const CLOCK =
      /^(timer\/cpu_(ticks|clock)_offset|mc146818rtc\/(last_update|update_timer|next_alarm_time)|i8254\/channels\[\d\]\.next_transition_time)$/;
    expect(fields.filter((f) => !CLOCK.test(f))).toEqual([]);
    expect(fields.length).toBeGreaterThan(0);
    expect(exit).toBe(fields.length ? 1 : 0);
  });
});

describeQemu(
  'vmstate diff: QEMU 7.2 and 10.0 migrating the same VM on pc-q35-7.2',
  () => {
    test('what 10.0 sends differently, sections aligned by (idstr, instance)', async () => {
      if (!releaseStatus('7.2').available) return;
      const a = path.join(dir, 'q35-7.2.mig');
      const b = path.join(dir, 'q35-10.0.mig');
      await captureStreamDetailed({ machine: 'pc-q35-7.2', out: a });
      await captureStreamDetailed({ release: '10.0', machine: 'pc-q35-7.2', out: b });
      const { code, d } = await diff(a, b);
      expect(code).toBe(1);
      expect(d.a.machineType).toBe('pc-q35-7.2');
      expect(d.b.machineType).toBe('pc-q35-7.2');
      expect(d.summary).toMatchObject({ onlyInA: 0, onlyInB: 0, ramBlocksDiffer: 0 });
      const by = (n: string) => d.sections.find((s) => s.idstr.endsWith(n))!;
      // Section ids moved between the releases, yet the RTC is compared with the RTC.
      const rtc = by('mc146818rtc');
      expect(rtc.a!.sectionId).not.toBe(rtc.b!.sectionId);
      // 10.0 renamed the HPET's timer count and grew globalstate's runstate handling.
      const hpet = by('hpet').fields.map((f) => [f.path, f.change]);
      expect(hpet).toEqual([
        ['num_timers', 'only-a'],
        ['num_timers_save', 'only-b'],
      ]);
      const gs = by('globalstate').fields.map((f) => f.path);
      expect(gs).toEqual(
        expect.arrayContaining(['runstate', 'has_vm_was_suspended', 'vm_was_suspended']),
      );
      expect(by('ich9_ahci').fields).toEqual([
        expect.objectContaining({
          path: 'ahci.ports',
          change: 'type',
          typeA: 'int32 equal',
          typeB: 'uint32 equal',
        }),
      ]);
      expect(by('cpu').status).toBe('same');
    });
  },
  '10.0',
);

describeQemu('vmstate diff --ram pages of a real QEMU 7.2 stream read in place', () => {
  test('its pages hashed through the file mapping match the same bytes read in, and one changed page is found', async () => {
    // 8 MiB of pseudo-random bytes in guest RAM: 2,048 data pages, a file past the size from
    // which the walk leaves pages in the file (and the native module hashes them there).
    const a = path.join(dir, 'random-ram.mig');
    await captureStream({
      machine: 'pc',
      ramLoads: [{ addr: 0x100000, data: pseudoRandomBytes(8 << 20, 0xd1ff) }],
      out: a,
    });
    const bytes = fs.readFileSync(a);
    expect(bytes.length).toBeGreaterThan(8 << 20);
    const same = await diffStreams(await fileSource(a), bytesSource(bytes), { ram: 'pages' });
    expect(same.ram?.differingPages).toBe(0);
    // Change one byte inside the loaded data (a run of 16 bytes of it, found in the stream).
    const probe = Buffer.from(pseudoRandomBytes(8 << 20, 0xd1ff).subarray(5 << 20, (5 << 20) + 16));
    const at = bytes.indexOf(probe);
    expect(at).toBeGreaterThan(0);
    const b = path.join(dir, 'random-ram-changed.mig');
    const changed = Buffer.from(bytes);
    changed[at] ^= 0xff;
    fs.writeFileSync(b, changed);
    const fromFiles = await diffStreams(await fileSource(a), await fileSource(b), { ram: 'pages' });
    const fromBytes = await diffStreams(bytesSource(bytes), bytesSource(changed), { ram: 'pages' });
    expect(fromFiles.ram?.differingPages).toBe(1);
    expect(fromFiles.ram).toEqual(fromBytes.ram);
    const range = fromFiles.ram!.blocks.find((x) => x.ranges?.length)!.ranges![0]!;
    // The page at guest address 0x100000 + 5 MiB.
    expect([Number(range.start), range.pages]).toEqual([0x100000 + (5 << 20), 1]);
  }, 120_000);
});
