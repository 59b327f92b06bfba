/**
 * Our own tiny real-mode programs for the BIOS image, so a captured VM can hold known register
 * values without any third-party firmware. The image is the harness's 256 KiB zero BIOS; the code
 * sits at f000:ff80 and the reset vector (f000:fff0) jumps there.
 */

export const BIOS_BYTES = 256 * 1024;
/** Offset of the code in the image (physical 0xffffff80, real-mode f000:ff80). */
export const BIOS_CODE_OFFSET = BIOS_BYTES - 0x80;
/** Room for code before the reset vector at offset BIOS_BYTES - 0x10. */
export const BIOS_CODE_MAX = 0x70;

/** The BIOS image: zeros, plus `code` at f000:ff80 and a short jump to it at the reset vector. */
export function biosImage(code?: Uint8Array): Uint8Array {
  const image = new Uint8Array(BIOS_BYTES);
  if (!code || code.length === 0) return image;
  if (code.length > BIOS_CODE_MAX)
    throw new Error(`BIOS code is ${code.length} bytes; at most ${BIOS_CODE_MAX} fit`);
  image.set(code, BIOS_CODE_OFFSET);
  const resetVector = BIOS_BYTES - 0x10;
  // jmp short rel8, relative to the end of the 2-byte instruction.
  image[resetVector] = 0xeb;
  image[resetVector + 1] = (BIOS_CODE_OFFSET - (resetVector + 2)) & 0xff;
  return image;
}

export type Reg32 = 'eax' | 'ecx' | 'edx' | 'ebx' | 'esp' | 'ebp' | 'esi' | 'edi';
const REG_INDEX: Record<Reg32, number> = {
  eax: 0,
  ecx: 1,
  edx: 2,
  ebx: 3,
  esp: 4,
  ebp: 5,
  esi: 6,
  edi: 7,
};

/**
 * Real-mode code that loads each register with its value, then halts for good (interrupts are
 * off after reset, so HLT never returns; the jmp is there in case an NMI wakes it).
 * Returns the code and the IP (within CS f000) at which the vCPU stays halted.
 */
export function loadRegistersThenHalt(values: Partial<Record<Reg32, number>>): {
  code: Uint8Array;
  haltedIp: number;
} {
  const bytes: number[] = [];
  for (const [reg, value] of Object.entries(values) as Array<[Reg32, number]>) {
    // 66 B8+r imm32: mov r32, imm32 with the operand-size prefix (16-bit code).
    bytes.push(
      0x66,
      0xb8 + REG_INDEX[reg],
      value & 0xff,
      (value >>> 8) & 0xff,
      (value >>> 16) & 0xff,
      (value >>> 24) & 0xff,
    );
  }
  bytes.push(0xf4, 0xeb, 0xfd); // hlt; jmp back to the hlt
  const haltedIp = (0x10000 - 0x80 + bytes.length - 2) & 0xffff;
  return { code: Uint8Array.from(bytes), haltedIp };
}
