/**
 * The 7.2 catalog against streams QEMU writes while this test runs: the machines with their
 * default devices (VGA, NIC and its slirp backend, serial, parallel, CD-ROM...), a VM whose own
 * BIOS code pokes devices so that rarely sent subsections appear, and a stream the catalog
 * edits so that QEMU must load subsections we wrote and write them back.
 * Skipped only when QEMU is missing and VMSTATE_REQUIRE_QEMU is unset.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { State } from '../src';
import type { DeviceSection } from '../src/stream/section';
import { catalogFor, catalogResolver, type MachineConfig } from '../vmstate/catalog-7.2';
import type { MachineCtx } from '../vmstate/devices/machine-ctx';
import { checkStreamWithCatalog, expectedVerdicts, verdicts, type StreamCheck } from './support/catalog-check';
import { transformBytes } from './fixtures/stream-helpers';
import { captureStream, describeQemu, incomingFromFile, type CaptureOptions, type QemuMachineOptions } from './support/qemu';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-catalog-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function capture(name: string, opts: CaptureOptions): Promise<Uint8Array> {
  const file = await captureStream({ ...opts, out: path.join(dir, `${name}.mig`) });
  return new Uint8Array(fs.readFileSync(file));
}

function expectAllGood(c: StreamCheck): void {
  expect(c.unknown).toEqual([]);
  expect(verdicts(c)).toEqual(expectedVerdicts(c));
  for (const x of c.checks) expect({ section: x.label, vmdesc: x.ours }).toEqual({ section: x.label, vmdesc: x.theirs });
}

/**
 * Real-mode code for our own BIOS image: port writes that make QEMU keep state its needed()
 * functions send (reset control register, keyboard LEDs with their ACKs unread, the i8042 output
 * port, a floppy controller reset, the switch to the modern ACPI CPU hotplug interface), then HLT.
 */
function pokeDevices(): Uint8Array {
  const bytes: number[] = [];
  const outDx = (port: number, value: number) => bytes.push(0xba, port & 0xff, port >> 8, 0xb0, value, 0xee); // mov dx; mov al; out dx, al
  const outImm = (port: number, value: number) => bytes.push(0xb0, value, 0xe6, port); // mov al; out imm8, al
  outDx(0xcf9, 0x02); // PIIX3 RCR / ICH9 RST_CNT: a value without the reset bit
  outImm(0x60, 0xed); // keyboard: set LEDs...
  outImm(0x60, 0x02); // ...num lock; both ACKs stay queued as command replies
  outImm(0x64, 0xd1); // i8042: write output port...
  outImm(0x60, 0x8b); // ...reset line inactive, A20 on, two of the always-one bits cleared
  outDx(0x3f2, 0x00); // floppy DOR: enter reset...
  outDx(0x3f2, 0x0c); // ...and leave it: four SENSE INTERRUPTs now owed (reset_sensei)
  outDx(0xaf00, 0x00); // PIIX4: a 0 at the legacy CPU hotplug bitmap switches to the modern interface
  outDx(0x0cd8, 0x00); // ICH9: the same at its legacy bitmap
  bytes.push(0xf4, 0xeb, 0xfd); // hlt; jmp back to it
  return Uint8Array.from(bytes);
}

describeQemu('catalog 7.2 against QEMU with default devices', () => {
  it.each([
    ['pc', ['0000:00:02.0/vga', 'serial', 'parallel_isa', '0000:00:03.0/e1000', 'slirp']],
    ['q35', ['0000:00:01.0/vga', 'serial', 'parallel_isa', '0000:00:02.0/e1000e', 'slirp']],
  ] as const)('%s: every section decodes, re-encodes identically and matches its vmdesc', async (machine, added) => {
    const c = await checkStreamWithCatalog(await capture(`${machine}-defaults`, { machine, defaultDevices: true }));
    expectAllGood(c);
    const idstrs = c.checks.map((x) => x.idstr);
    for (const s of added) expect(idstrs).toContain(s);
    if (machine === 'pc') {
      for (const s of ['e1000/mit_state', 'e1000/full_mac_state', 'e1000/tx_tso_state'])
        expect(c.subsections).toContain(`0000:00:03.0/e1000: ${s}`);
    }
  });
});

describeQemu('catalog 7.2 against QEMU: subsections our own BIOS code makes QEMU send', () => {
  // Two vCPUs (the second waits for its SIPI), three possible, two DIMM slots.
  const config: MachineConfig = { memorySlots: 2, maxCpus: 3 };
  const extraArgs = ['-smp', '2,maxcpus=3', '-m', '32,slots=2,maxmem=1G'];
  // The guest switched the ACPI CPU hotplug interface to "modern": runtime state the stream does not carry.
  const ctx: MachineCtx = { props: { 'PIIX4_PM.cpu-hotplug-legacy': false, 'ICH9-LPC.cpu-hotplug-legacy': false } };

  it.each([
    [
      'pc',
      [
        'apic: apic_sipi',
        '0000:00:01.0/PIIX3: PIIX3/rcr',
        'fdc: fdc/reset_sensei',
        'ps2kbd: ps2kbd/ledstate',
        'ps2kbd: ps2kbd/command_reply_queue',
        'pckbd: pckbd_outport',
        '0000:00:01.3/piix4_pm: piix4_pm/cpuhp',
      ],
    ],
    [
      'q35',
      [
        'apic: apic_sipi',
        '0000:00:1f.0/ICH9LPC: ICH9LPC/rst_cnt',
        'ps2kbd: ps2kbd/ledstate',
        'ps2kbd: ps2kbd/command_reply_queue',
        'pckbd: pckbd_outport',
        '0000:00:1f.0/ICH9LPC: ich9_pm/cpuhp',
      ],
    ],
  ] as const)('%s', async (machine, expected) => {
    const bytes = await capture(`${machine}-poked`, { machine, biosCode: pokeDevices(), runMs: 300, extraArgs });
    const c = await checkStreamWithCatalog(bytes, { ctx, config });
    for (const s of expected) expect(c.subsections).toContain(s);
    expectAllGood(c);
    // Without the runtime fact in ctx the catalog would leave cpuhp out: the bytes would differ.
    const blind = await checkStreamWithCatalog(bytes, { config });
    const pm = machine === 'pc' ? '0000:00:01.3/piix4_pm#0' : '0000:00:1f.0/ICH9LPC#0';
    expect(blind.checks.find((x) => x.label === pm)?.reencodedIdentically).toBe(false);
  });
});

describeQemu('catalog 7.2 against QEMU: subsections written by the catalog, loaded and sent again by QEMU', () => {
  const machine: QemuMachineOptions = { machine: 'pc', defaultDevices: true };

  /** State edits that make each needed() true, by section idstr. */
  const edits: Record<string, (s: State) => void> = {
    ps2kbd: (s) => {
      s.ledstate = 4;
    },
    '0000:00:01.0/PIIX3': (s) => {
      s.rcr = 2;
    },
    fdc: (s) => {
      (s.state as State).reset_sensei = 3;
    },
    hpet: (s) => {
      s.rtc_irq_level = 1;
    },
    '0000:00:01.1/ide': (s) => {
      const cd = (s['bus[1].ifs'] as State[])[0];
      cd['events.new_media'] = true;
      cd.tray_locked = true;
    },
  };
  const expectSent = [
    'ps2kbd: ps2kbd/ledstate',
    '0000:00:01.0/PIIX3: PIIX3/rcr',
    'fdc: fdc/reset_sensei',
    'hpet: hpet/rtc_irq_level',
    '0000:00:01.1/ide: ide_drive/tray_state',
    '0000:00:01.1/ide: ide_drive/atapi/gesn_state',
  ];

  it('pc with default devices', async () => {
    const original = await capture('pc-edit-source', machine);
    const catalog = catalogFor('pc');
    const edited = await transformBytes(
      original,
      (rec) => {
        if (rec.type !== 'section' || !(rec.section.idstr in edits)) return rec;
        const section: DeviceSection = { ...rec.section, value: structuredClone(rec.section.value as State), modified: true };
        edits[section.idstr](section.value as State);
        return { ...rec, section };
      },
      { resolvers: [catalogResolver(catalog)], preferResolvers: true },
    );
    // Our own decoder reads the subsections back (the vmdesc still describes the original sections).
    const file = path.join(dir, 'pc-edited.mig');
    fs.writeFileSync(file, edited);

    const result = await incomingFromFile(file, machine);
    if (!result.ok) throw new Error(`QEMU refused the catalog-written stream (${result.exit}): ${result.error}`);
    const again = path.join(dir, 'pc-edited-again.mig');
    try {
      await result.vm.qemu.qmp.execute('migrate', { uri: `exec:cat > ${again}` });
      for (let i = 0; i < 500; i++) {
        const info = await result.vm.qemu.qmp.execute<{ status?: string }>('query-migrate');
        if (info.status === 'completed') break;
        if (info.status === 'failed') throw new Error('second migration failed');
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await result.vm.close();
    }
    // QEMU's needed() agreed with ours: it sends every subsection we made needed, and the
    // catalog decodes its stream (and re-encodes it identically) with the edited values in it.
    const c = await checkStreamWithCatalog(new Uint8Array(fs.readFileSync(again)));
    expectAllGood(c);
    for (const s of expectSent) expect(c.subsections).toContain(s);
    const state = (label: string) => c.checks.find((x) => x.label === label)?.state as State;
    expect(state('ps2kbd#0').ledstate).toBe(4);
    expect(state('0000:00:01.0/PIIX3#0').rcr).toBe(2);
    expect((state('fdc#0').state as State).reset_sensei).toBe(3);
    expect(state('hpet#0').rtc_irq_level).toBe(1);
    const cd = (state('0000:00:01.1/ide#0')['bus[1].ifs'] as State[])[0];
    expect([cd['events.new_media'], cd.tray_locked]).toEqual([true, true]);
  });
});
