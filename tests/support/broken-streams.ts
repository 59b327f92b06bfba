/**
 * Ways to break a real stream so that a destination QEMU refuses it at a known place, each a
 * byte patch found by decoding the stream (never a fixed offset): the cases `vmstate predict`
 * must get right, fed to real QEMU by tests/predict-qemu.test.ts.
 */
import { readStreamContents } from '../../src/stream/collect';
import { bytesSource } from '../../src/stream/source';

export interface BrokenStream {
  readonly name: string;
  /** The section QEMU fails in ('configuration' for the machine type). */
  readonly section: string;
  readonly bytes: Uint8Array;
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  outer: for (let i = from; i + needle.length <= to; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function patched(bytes: Uint8Array, at: number, data: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  out.set(data, at);
  return out;
}

const be32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

/** Every breakage that applies to this stream (a section it lacks skips the cases needing it). */
export async function brokenStreams(bytes: Uint8Array): Promise<BrokenStream[]> {
  const c = await readStreamContents(bytesSource(bytes));
  const sections = c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
  const find = (name: string) => sections.find((s) => s.idstr.endsWith(name));
  const out: BrokenStream[] = [];

  // The header's idstr is at offset + 1 (type) + 4 (id) + 1 (length byte).
  const port92 = find('port92');
  if (port92)
    out.push({
      name: 'unknown section (port92 renamed port93)',
      section: 'port93',
      bytes: patched(bytes, port92.offset + 6, latin1('port93')),
    });
  const hpet = find('hpet');
  if (hpet)
    out.push({
      name: 'section version above the handler (hpet v99)',
      section: 'hpet',
      bytes: patched(bytes, hpet.offset + 6 + hpet.idstr.length + 4, be32(99)),
    });
  const cpu = find('cpu');
  if (cpu) {
    const name = latin1('cpu/poll_control_msr');
    const at = indexOf(bytes, name, cpu.bodyOffset, cpu.bodyOffset + cpu.body.length);
    if (at >= 0)
      out.push({
        name: 'unknown subsection (cpu/poll_control_msr renamed cpu/poll_control_msX)',
        section: 'cpu',
        bytes: patched(bytes, at + name.length - 1, latin1('X')),
      });
    out.push({
      name: 'section version below the minimum (cpu v1)',
      section: 'cpu',
      bytes: patched(bytes, cpu.offset + 6 + cpu.idstr.length + 4, be32(1)),
    });
  }
  const pcspk = find('pcspk');
  if (pcspk?.footer)
    out.push({
      name: 'mismatched section id in the footer (pcspk)',
      section: 'pcspk',
      bytes: patched(bytes, pcspk.footer.offset + 1, be32(pcspk.sectionId + 1000)),
    });
  if (c.configuration) {
    const m = c.configuration.machineType;
    const other = m.replace(/\d+$/, (d) => String(Number(d) === 0 ? 1 : Number(d) - 1));
    const at = indexOf(bytes, latin1(m), c.configuration.offset, c.configuration.offset + 64);
    out.push({
      name: `machine type ${other} in the configuration`,
      section: 'configuration',
      bytes: patched(bytes, at, latin1(other)),
    });
  }
  return out;
}
