/**
 * QEMU release names as this project uses them: "major.minor" for real releases, plus "next"
 * for the release of our own design that follows 7.2. Ordering is numeric, "next" last.
 */
export type QemuVersion = `${number}.${number}` | 'next';

// Parsed once per name: cpu_pre_save/post_load ask for every save and load of the cpu.
const keys = new Map<string, readonly [number, number]>();
function key(v: QemuVersion): readonly [number, number] {
  let k = keys.get(v);
  if (!k) {
    if (v === 'next') k = [Number.MAX_SAFE_INTEGER, 0];
    else {
      const [a, b] = v.split('.').map(Number);
      k = [a, b];
    }
    keys.set(v, k);
  }
  return k;
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareVersions(a: QemuVersion, b: QemuVersion): number {
  const [a1, a2] = key(a);
  const [b1, b2] = key(b);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}

export const atLeast = (v: QemuVersion, min: QemuVersion): boolean => compareVersions(v, min) >= 0;
