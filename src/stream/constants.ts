/** Byte values and limits of the savevm v3 stream (see shared/reference/migration-stream-format.md). */

export const FILE_MAGIC = 0x5145564d; // "QEVM"
export const FILE_VERSION = 3;
export const FILE_VERSION_COMPAT = 2;

/** The byte that starts each top-level record. */
export const SectionType = {
  EOF: 0x00,
  START: 0x01,
  PART: 0x02,
  END: 0x03,
  FULL: 0x04,
  SUBSECTION: 0x05,
  VMDESCRIPTION: 0x06,
  CONFIGURATION: 0x07,
  COMMAND: 0x08,
  FOOTER: 0x7e,
} as const;

export type SectionKind = 'start' | 'part' | 'end' | 'full';

export function sectionKindOf(byte: number): SectionKind | undefined {
  switch (byte) {
    case SectionType.START:
      return 'start';
    case SectionType.PART:
      return 'part';
    case SectionType.END:
      return 'end';
    case SectionType.FULL:
      return 'full';
    default:
      return undefined;
  }
}

export function sectionTypeByte(kind: SectionKind): number {
  return {
    start: SectionType.START,
    part: SectionType.PART,
    end: SectionType.END,
    full: SectionType.FULL,
  }[kind];
}

/** QEMU_VM_COMMAND numbers (migration/savevm.c, names as of 8.2 plus 10.0's SWITCHOVER_START). */
export const Command = {
  OPEN_RETURN_PATH: 1,
  PING: 2,
  POSTCOPY_ADVISE: 3,
  POSTCOPY_LISTEN: 4,
  POSTCOPY_RUN: 5,
  POSTCOPY_RAM_DISCARD: 6,
  PACKAGED: 7,
  ENABLE_COLO: 8,
  POSTCOPY_RESUME: 9,
  RECV_BITMAP: 10,
  SWITCHOVER_START: 11,
} as const;

export const COMMAND_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Command).map(([name, value]) => [value, name]),
);

/** Commands whose payload length is fixed; QEMU rejects any other length with -ERANGE. */
export const COMMAND_FIXED_LENGTH: Record<number, number> = {
  [Command.OPEN_RETURN_PATH]: 0,
  [Command.PING]: 4,
  [Command.POSTCOPY_LISTEN]: 0,
  [Command.POSTCOPY_RUN]: 0,
  [Command.PACKAGED]: 4,
  [Command.ENABLE_COLO]: 0,
  [Command.POSTCOPY_RESUME]: 0,
  [Command.SWITCHOVER_START]: 0,
};

/** Low bits of every RAM record's be64 (migration/ram.c). */
export const RamFlag = {
  FULL: 0x001,
  ZERO: 0x002,
  MEM_SIZE: 0x004,
  PAGE: 0x008,
  EOS: 0x010,
  CONTINUE: 0x020,
  XBZRLE: 0x040,
  HOOK: 0x080,
  COMPRESS_PAGE: 0x100,
  MULTIFD_FLUSH: 0x200,
} as const;

/** QEMU's x86 target page; other targets say so in the vmdesc or the configuration's target-page-bits. */
export const DEFAULT_PAGE_SIZE = 4096;

/** The RAM section's idstr and the only version QEMU accepts for it. */
export const RAM_IDSTR = 'ram';
export const RAM_VERSION = 4;

/** Safety limits: nothing the stream says may make us hold more than this in memory at once. */
export const Limits = {
  /** Largest device section body (they carry no length, so they are decoded from a window that grows). */
  maxSectionBytes: 64 * 1024 * 1024,
  /** Largest VM description JSON we accept. */
  maxVmdescBytes: 64 * 1024 * 1024,
  /** Largest PACKAGED command blob. */
  maxPackagedBytes: 64 * 1024 * 1024,
  /** Bytes after the vmdesc (or after EOF) that are kept for re-encoding. */
  maxTrailingBytes: 16 * 1024 * 1024,
  /** Largest element count a vmdesc array may unfold to, and field nodes per section. */
  maxArrayLength: 1 << 20,
  maxNodesPerSection: 4 << 20,
  /**
   * For input that cannot seek (stdin, pipes): how much of the rest of the stream may be held to
   * find its vmdesc when the first device section arrives (normally all that is left by then).
   */
  maxLookaheadBytes: 32 * 1024 * 1024,
  /**
   * RAM blocks a stream may list (in all its MEM_SIZE records together). QEMU keeps nothing per
   * block it reads (each must name one of the destination's blocks); the analyzer keeps each
   * name to print it. A VM has a few dozen blocks, and KVM maps at most 32,764 memory slots.
   */
  maxRamBlocks: 32768,
  /**
   * Read size from the input. The window reads into a buffer of twice this: at 256 KiB it stays
   * in the CPU's cache between reads, and the kernel's copy into it is cheaper than into 2 MiB
   * (1 GiB stream, --format qemu: 206 -> 195 ms, hyperfine; 128 KiB made a 0.45 MB stream slower).
   */
  chunkBytes: 256 * 1024,
  /**
   * A run of RAM pages in a regular file with this much of the file left is walked in place,
   * through the file's mapping (ChunkSource.pages), instead of being read in: below it, reading
   * costs less than loading the native module and mapping a window.
   */
  inPlaceMinBytes: 4 * 1024 * 1024,
} as const;
