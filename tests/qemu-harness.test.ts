/**
 * The QEMU harness itself: every catalogued variant is captured from a real QEMU once (beforeAll),
 * then checked for the facts each variant exists to show, using only raw bytes (header,
 * configuration section, vmdesc JSON at the end) and what QEMU reports over QMP. QEMU must also
 * accept each captured stream back, and refuse damaged ones with its own error text.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  STREAM_VARIANTS,
  LEGACY_STREAM_VARIANTS,
  VARIANT_UUID,
  KNOWN_REGISTERS,
  KNOWN_REGISTERS_PROGRAM,
  QemuProcess,
  captureStream,
  captureStreamDetailed,
  describeQemu,
  firmwareProblems,
  incomingFromFile,
  machineArgs,
  qemuAvailable,
  qemuRequired,
  requireQemuOrSkip,
  withIncoming,
  type CaptureResult,
} from './support/qemu';
import { QmpCommandError } from './support/qmp';

const QEVM = [0x51, 0x45, 0x56, 0x4d];

function be32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function ascii(b: Uint8Array, at: number, len: number): string {
  return Buffer.from(b.subarray(at, at + len)).toString('latin1');
}

/** The configuration section right after the 8-byte header: its machine name and where it ends. */
function configurationName(b: Uint8Array): { name: string; end: number } {
  expect(b[8]).toBe(0x07);
  const len = be32(b, 9);
  return { name: ascii(b, 13, len), end: 13 + len };
}

/** A subsection header (0x05, counted name, be32 version) at `at`, if there is one. */
function subsectionAt(
  b: Uint8Array,
  at: number,
): { name: string; version: number; body: number } | undefined {
  if (b[at] !== 0x05) return undefined;
  const len = b[at + 1]!;
  return { name: ascii(b, at + 2, len), version: be32(b, at + 2 + len), body: at + 6 + len };
}

interface VmDesc {
  page_size: number;
  devices: Array<{ name: string; instance_id: number; vmsd_name?: string; version?: number }>;
}

/** The vmdesc JSON at the end of the stream: EOF 0x00, 0x06, be32 length, JSON to the last byte. */
function trailingVmdesc(b: Uint8Array): VmDesc | undefined {
  const start = Buffer.from(b).lastIndexOf('{"page_size"');
  if (start < 0) return undefined;
  expect(b[start - 6]).toBe(0x00);
  expect(b[start - 5]).toBe(0x06);
  expect(be32(b, start - 4)).toBe(b.length - start);
  return JSON.parse(ascii(b, start, b.length - start)) as VmDesc;
}

/**
 * Crude count of RAM PART sections: a footer of the ram section (0x7e + be32 id) directly followed
 * by a PART header (0x02 + the same id). Not a decoder, just bytes that only occur at that seam.
 */
function countRamParts(b: Uint8Array, ramId: number): number {
  const id = [ramId >>> 24, (ramId >>> 16) & 0xff, (ramId >>> 8) & 0xff, ramId & 0xff];
  const seam = Buffer.from([0x7e, ...id, 0x02, ...id]);
  let n = 0;
  for (let i = Buffer.from(b).indexOf(seam); i >= 0; i = Buffer.from(b).indexOf(seam, i + 1)) n++;
  return n;
}

/** The ram START section right after the configuration section: its section id. */
function ramStartId(b: Uint8Array, at: number): number {
  expect(b[at]).toBe(0x01);
  expect(ascii(b, at + 6, b[at + 5]!)).toBe('ram');
  return be32(b, at + 1);
}

function uuidBytes(uuid: string): number[] {
  return uuid
    .replace(/-/g, '')
    .match(/../g)!
    .map((h) => parseInt(h, 16));
}

/** Runs jobs with at most `limit` at a time (QEMU is single-threaded TCG here; the box has 2 cores). */
async function inParallel<T>(
  items: T[],
  limit: number,
  job: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await job(item);
    }),
  );
}

const variantNames = Object.keys(STREAM_VARIANTS);
const legacyNames = Object.keys(LEGACY_STREAM_VARIANTS);
const ALL_VARIANTS = { ...STREAM_VARIANTS, ...LEGACY_STREAM_VARIANTS };

describe('the skip rule for QEMU tests', () => {
  const saved = process.env.VMSTATE_REQUIRE_QEMU;
  afterEach(() => {
    if (saved === undefined) delete process.env.VMSTATE_REQUIRE_QEMU;
    else process.env.VMSTATE_REQUIRE_QEMU = saved;
  });

  it('VMSTATE_REQUIRE_QEMU counts as set unless empty or "0"', () => {
    delete process.env.VMSTATE_REQUIRE_QEMU;
    expect(qemuRequired()).toBe(false);
    process.env.VMSTATE_REQUIRE_QEMU = '';
    expect(qemuRequired()).toBe(false);
    process.env.VMSTATE_REQUIRE_QEMU = '0';
    expect(qemuRequired()).toBe(false);
    process.env.VMSTATE_REQUIRE_QEMU = '1';
    expect(qemuRequired()).toBe(true);
  });

  it('requireQemuOrSkip: true with QEMU; without it, false or a throw when QEMU is required', () => {
    process.env.VMSTATE_REQUIRE_QEMU = '1';
    if (qemuAvailable()) expect(requireQemuOrSkip()).toBe(true);
    else expect(() => requireQemuOrSkip()).toThrow(/VMSTATE_REQUIRE_QEMU is set/);
    delete process.env.VMSTATE_REQUIRE_QEMU;
    expect(requireQemuOrSkip()).toBe(qemuAvailable());
  });
});

describeQemu('QEMU harness (real qemu-system-x86_64)', () => {
  let dir: string;
  const captured: Record<string, CaptureResult> = {};
  const bytes = (name: string): Uint8Array => {
    const c = captured[name];
    if (!c) throw new Error(`variant ${name} was not captured`);
    return fs.readFileSync(c.path);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-harness-'));
    await inParallel([...variantNames, ...legacyNames], 2, async (name) => {
      captured[name] = await captureStreamDetailed({
        ...ALL_VARIANTS[name]!.options,
        out: path.join(dir, `${name}.mig`),
      });
    });
  }, 120_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe.each(variantNames)('variant %s', (name) => {
    it('starts with QEVM, version 3 and a configuration section naming the resolved machine type', () => {
      const b = bytes(name);
      expect([...b.subarray(0, 4)]).toEqual(QEVM);
      expect(be32(b, 4)).toBe(3);
      const { name: machine } = configurationName(b);
      expect(machine).toBe(captured[name]!.machineType);
      const asked = STREAM_VARIANTS[name]!.options.machine ?? 'pc';
      expect(machine).toMatch(asked === 'q35' ? /^pc-q35-\d/ : /^pc-i440fx-\d/);
    });

    it('holds no third-party firmware: only RAM, VRAM, the zero BIOS and QEMU-built tables', () => {
      const c = captured[name]!;
      expect(firmwareProblems(c.ramblocks, c.roms, c.ownFiles)).toEqual([]);
      expect(c.ownFiles[0]).toMatch(/zero-256k\.bin$/);
      expect(c.roms).toContain(
        `addr=00000000fffc0000 size=0x040000 mem=rom name="${c.ownFiles[0]}"`,
      );
      expect(c.ramblocks).not.toMatch(/vga\.rom|e1000e?\.rom|genroms/);
      expect(c.roms).not.toMatch(/vgabios|efi-|pxe|bios\.bin|bios-256k/);
    });

    it('is accepted by an incoming QEMU with the same options', async () => {
      const r = await incomingFromFile(captured[name]!.path, STREAM_VARIANTS[name]!.options);
      try {
        expect(r.ok ? 'accepted' : `refused: ${r.error}`).toBe('accepted');
        if (r.ok) expect(r.vm.migration.status).toBe('completed');
      } finally {
        if (r.ok) await r.vm.close();
      }
    });
  });

  describe.each(legacyNames)('legacy variant %s', (name) => {
    it('has no configuration section: the ram START follows the header; no section footers', () => {
      const b = bytes(name);
      expect([...b.subarray(0, 4)]).toEqual(QEVM);
      expect(be32(b, 4)).toBe(3);
      const ramId = ramStartId(b, 8);
      const footerThenPart = Buffer.from([0x7e, 0, 0, 0, ramId, 0x02, 0, 0, 0, ramId]);
      expect(Buffer.from(b).indexOf(footerThenPart)).toBe(-1);
      expect(captured[name]!.machineType).toBe(LEGACY_STREAM_VARIANTS[name]!.options.machine);
    });

    it('is accepted by an incoming QEMU with the same machine type', async () => {
      const r = await incomingFromFile(captured[name]!.path, LEGACY_STREAM_VARIANTS[name]!.options);
      try {
        expect(r.ok ? 'accepted' : `refused: ${r.error}`).toBe('accepted');
      } finally {
        if (r.ok) await r.vm.close();
      }
    });
  });

  it('pc-i440fx-2.3 still ends with a vmdesc; pc-i440fx-2.2 has none (suppress-vmdesc forced on)', () => {
    expect(trailingVmdesc(bytes('pc-i440fx-2.3'))?.devices.length).toBeGreaterThan(10);
    const b22 = bytes('pc-i440fx-2.2');
    expect(Buffer.from(b22).indexOf('"page_size"')).toBe(-1);
    expect(b22[b22.length - 1]).toBe(0x00);
  });

  it('pc and q35 name their own machine types', () => {
    expect(configurationName(bytes('pc-nodefaults-paused')).name).toMatch(/^pc-i440fx-/);
    expect(configurationName(bytes('q35-nodefaults-paused')).name).toMatch(/^pc-q35-/);
  });

  it('without suppress-vmdesc the stream ends with a vmdesc JSON that parses', () => {
    const desc = trailingVmdesc(bytes('pc-nodefaults-paused'));
    expect(desc).toBeDefined();
    expect(desc!.page_size).toBe(4096);
    const names = desc!.devices.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['timer', 'cpu', 'apic', 'globalstate']));
    expect(names).not.toContain('ram'); // iterative sections are not described
  });

  it('suppress-vmdesc=on: the stream ends at the EOF byte, with no vmdesc JSON', () => {
    const b = bytes('pc-suppress-vmdesc');
    expect(b[b.length - 1]).toBe(0x00);
    expect(Buffer.from(b).indexOf('"page_size"')).toBe(-1);
    expect(Buffer.from(b).indexOf('"devices"')).toBe(-1);
    // Same VM otherwise: the described stream is the suppressed one plus 0x06, a length and JSON.
    const full = bytes('pc-nodefaults-paused');
    const desc = Buffer.from(full).lastIndexOf('{"page_size"');
    expect(b.length).toBe(desc - 5);
  });

  it('-smp 2: the vmdesc lists two cpu devices, instance ids 0 and 1', () => {
    const desc = trailingVmdesc(bytes('pc-smp2'))!;
    const cpus = desc.devices.filter((d) => d.name === 'cpu');
    expect(cpus.map((d) => d.instance_id)).toEqual([0, 1]);
    expect(desc.devices.filter((d) => d.name === 'apic')).toHaveLength(2);
    expect(
      trailingVmdesc(bytes('pc-nodefaults-paused'))!.devices.filter((d) => d.name === 'cpu'),
    ).toHaveLength(1);
  });

  it('default devices: VGA, NIC, serial, parallel and user networking are in the stream, with VRAM but no ROM', () => {
    const desc = trailingVmdesc(bytes('pc-defaults'))!;
    const names = desc.devices.map((d) => d.name);
    expect(names.some((n) => /\/vga$/.test(n))).toBe(true);
    expect(names.some((n) => /\/e1000$/.test(n))).toBe(true);
    expect(names).toEqual(expect.arrayContaining(['serial', 'parallel_isa', 'slirp']));
    expect(captured['pc-defaults']!.ramblocks).toMatch(/vga\.vram/);
  });

  it('x-ignore-shared: configuration/capabilities lists the capability; shared pc.ram is not sent', () => {
    const b = bytes('pc-x-ignore-shared');
    const sub = subsectionAt(b, configurationName(b).end);
    expect(sub?.name).toBe('configuration/capabilities');
    expect(sub?.version).toBe(1);
    const count = be32(b, sub!.body);
    expect(count).toBe(1);
    expect(ascii(b, sub!.body + 5, b[sub!.body + 4]!)).toBe('x-ignore-shared');
    // QEMU's own accounting: without pc.ram (32 MiB) far less RAM is migrated.
    const total = Number(
      (captured['pc-x-ignore-shared']!.migration.ram as { total: number }).total,
    );
    const plain = Number(
      (captured['pc-nodefaults-paused']!.migration.ram as { total: number }).total,
    );
    expect(plain - total).toBe(32 * 1024 * 1024);
  });

  it('validate-uuid: configuration/uuid carries the -uuid bytes', () => {
    const b = bytes('pc-validate-uuid');
    const sub = subsectionAt(b, configurationName(b).end);
    expect(sub?.name).toBe('configuration/uuid');
    expect([...b.subarray(sub!.body, sub!.body + 16)]).toEqual(uuidBytes(VARIANT_UUID));
    expect(b[sub!.body + 16]).toBe(0x01); // then the ram START section
  });

  it('plain variants have no configuration subsection: the ram START follows the name', () => {
    for (const name of [
      'pc-nodefaults-paused',
      'q35-nodefaults-paused',
      'pc-smp2',
      'pc-compress',
    ]) {
      const b = bytes(name);
      expect(subsectionAt(b, configurationName(b).end)).toBeUndefined();
      expect(ramStartId(b, configurationName(b).end)).toBeGreaterThan(0);
    }
  });

  it('compress: QEMU reports compressed pages', () => {
    const compression = captured['pc-compress']!.migration.compression as
      { pages: number } | undefined;
    expect(compression?.pages).toBeGreaterThanOrEqual(64);
  });

  it('bandwidth-limited: RAM is spread over several PART sections', () => {
    const b = bytes('pc-bandwidth-limited');
    const ramId = ramStartId(b, configurationName(b).end);
    expect(countRamParts(b, ramId)).toBeGreaterThan(1);
    const plain = bytes('pc-nodefaults-paused');
    expect(countRamParts(plain, ramStartId(plain, configurationName(plain).end))).toBe(1);
  });

  it('a never-started VM comes back at the reset vector: EIP=0000fff0, CS=f000, EFLAGS=2', async () => {
    await withIncoming(
      captured['pc-nodefaults-paused']!.path,
      STREAM_VARIANTS['pc-nodefaults-paused']!.options,
      async (vm) => {
        const regs = await vm.registers();
        expect(regs.ip).toBe(0xfff0n);
        expect(regs.values.eip).toBe(0xfff0n);
        expect(regs.segments.cs?.selector).toBe(0xf000);
        expect(regs.segments.cs?.base).toBe(0xffff0000n);
        expect(regs.eflags).toBe(0x2n);
        expect(regs.values.eax).toBe(0n);
      },
    );
  });

  it('both vCPUs of the -smp 2 stream come back; the second one at its reset vector too', async () => {
    await withIncoming(
      captured['pc-smp2']!.path,
      STREAM_VARIANTS['pc-smp2']!.options,
      async (vm) => {
        expect((await vm.registers(0)).ip).toBe(0xfff0n);
        expect((await vm.registers(1)).ip).toBe(0xfff0n);
      },
    );
  });

  it('a VM that ran the zero BIOS comes back with the flags of `add [bx+si],al` (ZF, PF)', async () => {
    await withIncoming(
      captured['pc-nodefaults-running']!.path,
      STREAM_VARIANTS['pc-nodefaults-running']!.options,
      async (vm) => {
        const regs = await vm.registers();
        expect(regs.eflags).toBe(0x46n);
        expect(regs.segments.cs?.selector).toBe(0xf000);
      },
    );
  });

  it('registers set by our own BIOS code come back through the stream, with the vCPU halted', async () => {
    await withIncoming(
      captured['pc-known-registers']!.path,
      STREAM_VARIANTS['pc-known-registers']!.options,
      async (vm) => {
        const regs = await vm.registers();
        for (const [name, value] of Object.entries(KNOWN_REGISTERS))
          expect([name, regs.values[name]]).toEqual([name, BigInt(value)]);
        expect(regs.ip).toBe(BigInt(KNOWN_REGISTERS_PROGRAM.haltedIp));
        expect(regs.values.hlt).toBe(1n);
      },
    );
  });

  describe('damaged streams are refused with QEMU error text', () => {
    const pcOptions = STREAM_VARIANTS['pc-nodefaults-paused']!.options;
    const damaged = (label: string, change: (b: Uint8Array) => Uint8Array): string => {
      const b = change(new Uint8Array(bytes('pc-nodefaults-paused')));
      const file = path.join(dir, `damaged-${label}.mig`);
      fs.writeFileSync(file, b);
      return file;
    };

    it('bad magic', async () => {
      const r = await incomingFromFile(
        damaged('magic', (b) => ((b[0] = 0x52), b)),
        pcOptions,
      );
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toMatch(/Not a migration stream/);
        expect(r.exit).toBe('exit code 1');
      }
    });

    it('a changed machine type name', async () => {
      const r = await incomingFromFile(
        damaged('machine', (b) => ((b[13 + 5] ^= 0x01), b)),
        pcOptions,
      );
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/Machine type received is '.*' and local is 'pc-i440fx-/);
    });

    it('a stream cut in the middle of the RAM pages', async () => {
      const r = await incomingFromFile(
        damaged('truncated', (b) => b.subarray(0, 50_000)),
        pcOptions,
      );
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/load of migration failed/);
    });

    it('a pc stream loaded into a q35 machine', async () => {
      const r = await incomingFromFile(captured['pc-nodefaults-paused']!.path, { machine: 'q35' });
      expect(r.ok).toBe(false);
      if (!r.ok)
        expect(r.error).toMatch(/Machine type received is 'pc-i440fx-[^']*' and local is 'pc-q35-/);
    });

    it('a UUID that does not match the destination -uuid', async () => {
      const r = await incomingFromFile(captured['pc-validate-uuid']!.path, {
        ...STREAM_VARIANTS['pc-validate-uuid']!.options,
        uuid: '00000000-0000-4000-8000-000000000001',
      });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(`UUID received is ${VARIANT_UUID}`);
    });

    it('an empty file: QEMU 7.2 never leaves "setup", the harness gives up and kills it', async () => {
      const r = await incomingFromFile(
        damaged('empty', () => new Uint8Array(0)),
        { ...pcOptions, timeoutMs: 2_000 },
      );
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.timedOut).toBe(true);
    });
  });

  it('refuses to capture when a device would put an option ROM into guest memory', async () => {
    await expect(
      captureStreamDetailed({ machine: 'pc', extraArgs: ['-device', 'e1000'] }),
    ).rejects.toThrow(/third-party firmware[\s\S]*e1000\.rom/);
  });

  it('a QEMU that cannot start reports its own error instead of hanging', async () => {
    await expect(
      captureStream({ machine: 'pc', extraArgs: ['-device', 'no-such-device-model'] }),
    ).rejects.toThrow(/QEMU exited during start-up[\s\S]*no-such-device-model/);
  });

  it('QMP: commands report QEMU errors, run-state changes arrive as events', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsq-t-'));
    const bios = path.join(work, 'zero.bin');
    fs.writeFileSync(bios, new Uint8Array(256 * 1024));
    const qmpSocket = path.join(work, 'qmp.sock');
    const qemu = await QemuProcess.start(machineArgs({}, { bios, qmpSocket }), qmpSocket, 20_000);
    try {
      await expect(qemu.qmp.execute('no-such-command')).rejects.toBeInstanceOf(QmpCommandError);
      expect(await qemu.qmp.execute('query-status')).toMatchObject({
        status: 'prelaunch',
        running: false,
      });
      await qemu.qmp.execute('cont');
      await qemu.qmp.waitEvent('RESUME', 5_000);
      await qemu.qmp.execute('stop');
      await qemu.qmp.waitEvent('STOP', 5_000);
      expect(await qemu.qmp.hmp('info status')).toMatch(/paused/);
      await expect(qemu.qmp.waitEvent('NO_SUCH_EVENT', 50)).rejects.toThrow(/timed out/);
      await qemu.quit();
      expect(qemu.hasExited).toBe(true);
    } finally {
      await qemu.kill();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
