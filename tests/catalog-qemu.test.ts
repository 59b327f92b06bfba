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
import {
  checkStreamWithCatalog,
  expectedVerdicts,
  verdicts,
  type StreamCheck,
} from './support/catalog-check';
import { transformBytes } from './fixtures/stream-helpers';
import {
  captureStream,
  describeQemu,
  incomingFromFile,
  type CaptureOptions,
  type QemuMachineOptions,
} from './support/qemu';

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
  for (const x of c.checks)
    expect({ section: x.label, vmdesc: x.ours }).toEqual({ section: x.label, vmdesc: x.theirs });
}

/**
 * Real-mode code for our own BIOS image: port writes that make QEMU keep state its needed()
 * functions send (reset control register, keyboard LEDs with their ACKs unread, the i8042 output
 * port, a floppy controller reset, the switch to the modern ACPI CPU hotplug interface), then HLT.
 */
function pokeDevices(): Uint8Array {
  const bytes: number[] = [];
  const outDx = (port: number, value: number) =>
    bytes.push(0xba, port & 0xff, port >> 8, 0xb0, value, 0xee); // mov dx; mov al; out dx, al
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
  ] as const)(
    '%s: every section decodes, re-encodes identically and matches its vmdesc',
    async (machine, added) => {
      const c = await checkStreamWithCatalog(
        await capture(`${machine}-defaults`, { machine, defaultDevices: true }),
      );
      expectAllGood(c);
      const idstrs = c.checks.map((x) => x.idstr);
      for (const s of added) expect(idstrs).toContain(s);
      if (machine === 'pc') {
        for (const s of ['e1000/mit_state', 'e1000/full_mac_state', 'e1000/tx_tso_state'])
          expect(c.subsections).toContain(`0000:00:03.0/e1000: ${s}`);
      }
    },
  );
});

describeQemu('catalog 7.2 against QEMU: subsections our own BIOS code makes QEMU send', () => {
  // Two vCPUs (the second waits for its SIPI), three possible, two DIMM slots.
  const config: MachineConfig = { memorySlots: 2, maxCpus: 3 };
  const extraArgs = ['-smp', '2,maxcpus=3', '-m', '32,slots=2,maxmem=1G'];
  // The guest switched the ACPI CPU hotplug interface to "modern": runtime state the stream does not carry.
  const ctx: MachineCtx = {
    props: { 'PIIX4_PM.cpu-hotplug-legacy': false, 'ICH9-LPC.cpu-hotplug-legacy': false },
  };

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
    const bytes = await capture(`${machine}-poked`, {
      machine,
      biosCode: pokeDevices(),
      runMs: 300,
      extraArgs,
    });
    const c = await checkStreamWithCatalog(bytes, { ctx, config });
    for (const s of expected) expect(c.subsections).toContain(s);
    expectAllGood(c);
    // Without the runtime fact in ctx the catalog would leave cpuhp out: the bytes would differ.
    const blind = await checkStreamWithCatalog(bytes, { config });
    const pm = machine === 'pc' ? '0000:00:01.3/piix4_pm#0' : '0000:00:1f.0/ICH9LPC#0';
    expect(blind.checks.find((x) => x.label === pm)?.reencodedIdentically).toBe(false);
  });
});

describeQemu('catalog 7.2 against QEMU: -icount', () => {
  it.each([
    ['shift=3', { icount: 1 }, ['timer/icount', 'timer/icount/warp_timer']],
    ['shift=3,sleep=off', { icount: 1, icountSleep: false }, ['timer/icount']],
    [
      'shift=auto',
      { icount: 2 },
      ['timer/icount', 'timer/icount/warp_timer', 'timer/icount/timers', 'timer/icount/shift'],
    ],
  ] as const)('-icount %s', async (option, ctx, expected) => {
    const bytes = await capture(`pc-icount-${option.replace(/[=,]/g, '-')}`, {
      machine: 'pc',
      runMs: 100,
      extraArgs: ['-icount', option],
    });
    const c = await checkStreamWithCatalog(bytes, { ctx: ctx as MachineCtx });
    expectAllGood(c);
    expect(c.subsections.filter((x) => x.startsWith('timer:'))).toEqual(
      expected.map((x) => `timer: ${x}`),
    );
  });
});

describeQemu('catalog 7.2 against QEMU: compat properties switched off with -global', () => {
  /** Each property is a ctx key of the same name (`<QOM type>.<property>`). */
  const globals = [
    'e1000.mitigation',
    'e1000.extra_mac_registers',
    'e1000.migrate_tso_props',
    'isa-pcspk.migrate',
    'i8042.extended-state',
    'PIIX4_PM.acpi-pci-hotplug-with-bridge-support',
    'PIIX4_PM.memory-hotplug-support',
    'fw_cfg_io.dma_enabled',
    'pci-host-bridge.x-config-reg-migration-enabled',
  ];
  const ctx: MachineCtx = { props: Object.fromEntries(globals.map((g) => [g, 'off'])) };

  it('pc with default devices: the catalog follows every switch', async () => {
    const bytes = await capture('pc-compat-off', {
      machine: 'pc',
      defaultDevices: true,
      extraArgs: globals.flatMap((g) => ['-global', `${g}=off`]),
    });
    const c = await checkStreamWithCatalog(bytes, { ctx });
    expectAllGood(c);
    // Subsections gone; the PIIX4 PCI hotplug fields replaced by the pre-2.0 single-bus layout.
    for (const s of ['e1000/', 'pckbd/extended_state', 'piix4_pm/memhp', 'fw_cfg/dma'])
      expect(c.subsections.join('\n')).not.toContain(s);
    const pm = c.checks.find((x) => x.idstr === '0000:00:01.3/piix4_pm')!;
    const names = (pm.theirs as { fields: Array<{ name: string }> }).fields.map((f) => f.name);
    expect(names).toContain('acpi_pci_hotplug.acpi_pcihp_pci_status[0x0]');
    expect(names).not.toContain('acpi_pci_hotplug.hotplug_select');
    // Whole sections whose top-level needed() is false are not in the stream at all.
    const idstrs = c.checks.map((x) => x.idstr);
    expect(idstrs).not.toContain('pcspk');
    expect(idstrs).not.toContain('PCIHost');
    const catalog = catalogFor('pc');
    for (const name of ['pcspk', 'PCIHost']) {
      const d = catalog.lookup(name)!.desc;
      expect([name, d.needed!({}, ctx), d.needed!({}, {})]).toEqual([name, false, true]);
    }
  });
});

describeQemu('catalog 7.2 against QEMU: more compat properties', () => {
  it.each([
    // acpi_index is left out (a _TEST field) while the rest of the PCI hotplug state still travels.
    ['pc', ['PIIX4_PM.x-not-migrate-acpi-index'], 'on', '0000:00:01.3/piix4_pm'],
    // Q35's memory and PCI hotplug subsections, each behind its own property. (enable_tco is
    // forced on when the device is realized, so a -global cannot switch ich9_pm/tco off in 7.2.)
    [
      'q35',
      ['ICH9-LPC.memory-hotplug-support', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support'],
      'off',
      '0000:00:1f.0/ICH9LPC',
    ],
  ] as const)('%s with %s', async (machine, globals, value, pm) => {
    const ctx: MachineCtx = { props: Object.fromEntries(globals.map((g) => [g, value])) };
    const bytes = await capture(`${machine}-compat-${value}`, {
      machine,
      extraArgs: globals.flatMap((g) => ['-global', `${g}=${value}`]),
    });
    const c = await checkStreamWithCatalog(bytes, { ctx });
    expectAllGood(c);
    const subs = c.subsections.filter((x) => x.startsWith(`${pm}:`));
    const names = JSON.stringify(c.checks.find((x) => x.idstr === pm)!.theirs);
    if (machine === 'pc') {
      expect(names).not.toContain('acpi_pci_hotplug.acpi_index');
      expect(names).toContain('acpi_pci_hotplug.hotplug_select');
    } else {
      expect(subs).toEqual([`${pm}: ich9_pm/tco`]);
    }
    // And the default ctx would have written something else for the same state.
    const blind = await checkStreamWithCatalog(bytes);
    expect(blind.checks.find((x) => x.idstr === pm)?.reencodedIdentically).toBe(false);
  });
});

describeQemu(
  'catalog 7.2 against QEMU: subsections written by the catalog, loaded and sent again by QEMU',
  () => {
    /** State edits that make each needed() true, by section idstr. */
    const edits: Record<string, (s: State) => void> = {
      ps2kbd: (s) => {
        s.ledstate = 4;
        s.need_high_bit = true;
      },
      '0000:00:01.0/PIIX3': (s) => {
        s.rcr = 2;
      },
      fdc: (s) => {
        const fdc = s.state as State;
        fdc.reset_sensei = 3;
        fdc.result_timer = 123456789n;
        fdc.phase = 3; // RESULT, while msr says COMMAND
        const drives = fdc.drives as State[];
        drives[0].media_changed = 0; // drive A has a (media-less) backend in the default pc
        drives[1].perpendicular = 1;
      },
      hpet: (s) => {
        s.rtc_irq_level = 1;
        s.config = (s.config as bigint) | 1n; // running: its offset to guest time travels too
        s.hpet_offset = 0x1000n;
      },
      mc146818rtc: (s) => {
        s.irq_reinject_on_ack_count = 3;
      },
      serial: (s) => {
        const uart = s.state as State;
        uart.ier = 0x02; // THR interrupt enabled...
        uart.iir = 0x01; // ...no interrupt identified, yet one pending: thr_ipending disagrees with iir
        uart.thr_ipending = 1;
        uart.timeout_ipending = 1;
        uart.recv_fifo = {
          data: Uint8Array.from({ length: 16 }, (_, i) => 0x41 + i),
          head: 2,
          num: 3,
        };
        uart.xmit_fifo = { data: new Uint8Array(16).fill(0x5a), head: 0, num: 1 };
        uart.fifo_timeout_timer = 987654321n;
        uart.poll_msl = 0; // modem-status polling of a host tty
        uart.modem_status_poll = 55555n;
      },
      cpu_common: (s) => {
        s.crash_occurred = true;
        s.exception_index = 13;
      },
      '0000:00:02.0/vga': (s) => {
        (s.vga as State).big_endian_fb = true;
      },
      '0000:00:01.1/ide': (s) => {
        const cd = (s['bus[1].ifs'] as State[])[0];
        cd['events.new_media'] = true;
        cd.tray_locked = true;
        cd.status = (cd.status as number) | 0x08; // DRQ: a PIO transfer in flight
        (s.bus as State[])[1].error_status = 0x10; // IDE_RETRY_PIO on the CD's bus
        const bmdma = s.bmdma as State[];
        bmdma[0].cur_prd_len = 0x200;
        bmdma[0].cur_addr = 0x1000;
        bmdma[1].status = 0x08; // a bit old QEMUs abused for retry state
      },
    };
    const expectSent = [
      'ps2kbd: ps2kbd/ledstate',
      'ps2kbd: ps2kbd/need_high_bit',
      '0000:00:01.0/PIIX3: PIIX3/rcr',
      'fdc: fdc/reset_sensei',
      'fdc: fdc/result_timer',
      'fdc: fdc/phase',
      'fdc: fdrive/media_changed',
      'fdc: fdrive/perpendicular',
      'hpet: hpet/rtc_irq_level',
      'hpet: hpet/offset',
      'mc146818rtc: mc146818rtc/irq_reinject_on_ack_count',
      'serial: serial/thr_ipending',
      'serial: serial/recv_fifo',
      'serial: serial/xmit_fifo',
      'serial: serial/fifo_timeout_timer',
      'serial: serial/timeout_ipending',
      'serial: serial/poll',
      'cpu_common: cpu_common/exception_index',
      'cpu_common: cpu_common/crash_occurred',
      '0000:00:02.0/vga: vga.endian',
      '0000:00:01.1/ide: ide_drive/tray_state',
      '0000:00:01.1/ide: ide_drive/atapi/gesn_state',
      '0000:00:01.1/ide: ide_drive/pio_state',
      '0000:00:01.1/ide: ide_bus/error',
      '0000:00:01.1/ide: ide bmdma_current',
      '0000:00:01.1/ide: ide bmdma/status',
    ];

    it('pc with default devices', async () => {
      const c = await editThroughQemu(
        'pc',
        { machine: 'pc', defaultDevices: true } satisfies QemuMachineOptions,
        edits,
      );
      for (const s of expectSent) expect(c.subsections).toContain(s);
      const state = (label: string) => c.checks.find((x) => x.label === label)?.state as State;
      expect(state('ps2kbd#0').ledstate).toBe(4);
      expect(state('0000:00:01.0/PIIX3#0').rcr).toBe(2);
      expect((state('fdc#0').state as State).reset_sensei).toBe(3);
      expect(state('hpet#0').rtc_irq_level).toBe(1);
      const cd = (state('0000:00:01.1/ide#0')['bus[1].ifs'] as State[])[0];
      expect([cd['events.new_media'], cd.tray_locked]).toEqual([true, true]);
    });

    it('q35 with default devices: AHCI ports, ICH9 SMI features', async () => {
      const q35Edits: Record<string, (s: State) => void> = {
        '0000:00:1f.2/ich9_ahci': (s) => {
          const port = ((s.ahci as State).dev as State[])[0];
          (port.port as State).error_status = 0x10; // IDE_RETRY_PIO: pio_state of the port's drive follows
          (port['port.ifs[0]'] as State).tray_open = true;
        },
        '0000:00:1f.0/ICH9LPC': (s) => {
          s.smi_guest_features_le = [1, 0, 0, 0, 0, 0, 0, 0];
          s.smi_features_ok = 1;
          s.smi_negotiated_features = 1n;
        },
      };
      const c = await editThroughQemu('q35', { machine: 'q35', defaultDevices: true }, q35Edits);
      for (const s of ['ide_bus/error', 'ide_drive/pio_state', 'ide_drive/tray_state'])
        expect(c.subsections).toContain(`0000:00:1f.2/ich9_ahci: ${s}`);
      expect(c.subsections).toContain('0000:00:1f.0/ICH9LPC: ICH9LPC/smi_feat');
    });
  },
);

/**
 * Edits sections of a fresh capture with the catalog (so needed() turns true and the catalog
 * writes the subsections), has an incoming QEMU load the result, migrates that QEMU again and
 * checks its stream with the catalog.
 */
async function editThroughQemu(
  name: string,
  machine: QemuMachineOptions,
  edits: Record<string, (s: State) => void>,
): Promise<StreamCheck> {
  const original = await capture(`${name}-edit-source`, machine);
  const catalog = catalogFor(machine.machine);
  const edited = await transformBytes(
    original,
    (rec) => {
      if (rec.type !== 'section' || !(rec.section.idstr in edits)) return rec;
      const section: DeviceSection = {
        ...rec.section,
        value: structuredClone(rec.section.value as State),
        modified: true,
      };
      edits[section.idstr](section.value as State);
      return { ...rec, section };
    },
    { resolvers: [catalogResolver(catalog)], preferResolvers: true },
  );
  const file = path.join(dir, `${name}-edited.mig`);
  fs.writeFileSync(file, edited);

  const result = await incomingFromFile(file, machine);
  if (!result.ok)
    throw new Error(`QEMU refused the catalog-written stream (${result.exit}): ${result.error}`);
  const again = path.join(dir, `${name}-edited-again.mig`);
  try {
    // cat writes a temporary name and renames it when done, so the file appears whole.
    await result.vm.qemu.qmp.execute('migrate', {
      uri: `exec:cat > ${again}.part && mv ${again}.part ${again}`,
    });
    for (let i = 0; !fs.existsSync(again); i++) {
      const info = await result.vm.qemu.qmp.execute<{ status?: string }>('query-migrate');
      if (info.status === 'failed' || i > 1500)
        throw new Error(`second migration did not complete: ${JSON.stringify(info)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await result.vm.close();
  }
  // QEMU's needed() agreed with ours: the catalog decodes QEMU's stream and re-encodes it identically.
  const c = await checkStreamWithCatalog(new Uint8Array(fs.readFileSync(again)));
  expectAllGood(c);
  return c;
}
