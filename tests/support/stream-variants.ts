/**
 * The catalogue of stream variants the stream tests loop over: a name, what it shows, and the
 * capture options that make it. streams/capture.ts captures the same list for humans.
 */
import type { CaptureOptions } from './qemu';
import { loadRegistersThenHalt } from './bios-code';
import { pseudoRandomBytes } from './random-bytes';

export interface StreamVariant {
  /** What the variant exercises in the stream. */
  description: string;
  options: CaptureOptions;
}

/** A fixed UUID, so the configuration/uuid bytes are known to the tests. */
export const VARIANT_UUID = '6b1f3c2a-9d4e-4f5a-8b7c-0123456789ab';

/** Our own pseudo-random data for non-zero RAM pages: 256 KiB at 1 MiB (64 pages of pc.ram). */
const RANDOM_RAM = { addr: 0x100000, data: pseudoRandomBytes(256 * 1024, 0x5eed) };

/** Register values our own BIOS code loads in the pc-known-registers variant. */
export const KNOWN_REGISTERS = {
  eax: 0x12345678,
  ebx: 0x9abcdef0,
  ecx: 0x0badcafe,
  esi: 0x11223344,
  edi: 0x55667788,
  ebp: 0x99aabbcc,
  esp: 0x00007c00,
} as const;
export const KNOWN_REGISTERS_PROGRAM = loadRegistersThenHalt(KNOWN_REGISTERS);

export const STREAM_VARIANTS: Record<string, StreamVariant> = {
  'pc-nodefaults-paused': {
    description: 'i440fx, no default devices, never started (vCPU at the reset vector)',
    options: { machine: 'pc' },
  },
  'q35-nodefaults-paused': {
    description: 'Q35, no default devices, never started',
    options: { machine: 'q35' },
  },
  'pc-nodefaults-running': {
    description:
      'i440fx, ran the zero BIOS for 500 ms, then stopped: timers, PIT/PIC and cpu registers moved',
    options: { machine: 'pc', runMs: 500 },
  },
  'q35-nodefaults-running': {
    description: 'Q35, ran for 500 ms, then stopped',
    options: { machine: 'q35', runMs: 500 },
  },
  'pc-known-registers': {
    description:
      'our own BIOS code loaded KNOWN_REGISTERS and halted (HLT=1, EIP=KNOWN_REGISTERS_PROGRAM.haltedIp); ran for 200 ms',
    options: { machine: 'pc', biosCode: KNOWN_REGISTERS_PROGRAM.code, runMs: 200 },
  },
  'pc-smp2': {
    description: 'two vCPUs: cpu_common, cpu and apic appear twice (instance ids 0 and 1)',
    options: { machine: 'pc', smp: 2 },
  },
  'pc-defaults': {
    description:
      'default devices (VGA with vga.vram, e1000 + user networking, serial, parallel, floppy, CD-ROM), option ROMs switched off',
    options: { machine: 'pc', defaultDevices: true },
  },
  'pc-x-ignore-shared': {
    description:
      'capability x-ignore-shared with pc.ram in a shared file: configuration/capabilities subsection, block addresses in the RAM block list, pc.ram pages not sent',
    options: { machine: 'pc', capabilities: { 'x-ignore-shared': true } },
  },
  'pc-validate-uuid': {
    description: 'capability validate-uuid with -uuid: configuration/uuid subsection',
    options: { machine: 'pc', uuid: VARIANT_UUID, capabilities: { 'validate-uuid': true } },
  },
  'pc-suppress-vmdesc': {
    description:
      'machine property suppress-vmdesc=on: the stream ends at the EOF byte, no VM description JSON',
    options: { machine: 'pc', suppressVmdesc: true },
  },
  'pc-compress': {
    description:
      'capability compress (1 thread, level 1) with 256 KiB of random RAM: COMPRESS_PAGE (0x100) records with zlib data',
    options: {
      machine: 'pc',
      capabilities: { compress: true },
      parameters: { 'compress-threads': 1, 'compress-level': 1 },
      ramLoads: [RANDOM_RAM],
    },
  },
  'pc-bandwidth-limited': {
    description:
      'max-bandwidth 512 KiB/s with 256 KiB of random RAM: RAM is sent over several PART sections',
    options: { machine: 'pc', parameters: { 'max-bandwidth': 512 * 1024 }, ramLoads: [RANDOM_RAM] },
  },
};

/**
 * Old machine types whose streams differ in framing: kept apart from STREAM_VARIANTS so the
 * stream tests opt in. Both load back into QEMU 7.2 with the same -machine.
 */
export const LEGACY_STREAM_VARIANTS: Record<string, StreamVariant> = {
  'pc-i440fx-2.3': {
    description:
      'machine type 2.3: no configuration section and no section footers (send-configuration off); vmdesc present',
    options: { machine: 'pc-i440fx-2.3' },
  },
  'pc-i440fx-2.2': {
    description:
      'machine type 2.2: no configuration section, no footers, and no vmdesc (suppress-vmdesc forced on)',
    options: { machine: 'pc-i440fx-2.2' },
  },
};
