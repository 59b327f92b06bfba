/**
 * `npm start`: the engine on built-in data. Declares a small device the way QEMU does (fields,
 * a struct, a subsection with needed()), saves a state, shows the bytes and loads them back.
 */
import { f, k, vmsd, type StateOf } from './dsl';
import { saveDescribed } from './engine/save';
import { load } from './engine/load';
import { outline } from './engine/describe-text';

const fdrive = vmsd({
  name: 'fdrive',
  version_id: 1,
  fields: [f.u8('head'), f.u8('track'), f.u8('sect')],
  subsections: [
    vmsd({
      name: 'fdrive/media_rate',
      version_id: 1,
      fields: [f.u8('media_rate')],
      needed: (s) => s.media_rate !== 0,
    }),
  ],
});

const demoDevice = vmsd({
  name: 'demo-fdc',
  version_id: 2,
  minimum_version_id: 2,
  fields: [
    f.u8('sra'),
    f.u8('srb'),
    f.array('fifo', k.u8, 4),
    f.u32('data_pos'),
    f.structArray('drives', fdrive, 2),
    f.timer('result_timer'),
  ],
});

export function runDemo(): string {
  const state: StateOf<typeof demoDevice> = {
    sra: 0x80,
    srb: 0xc0,
    fifo: [1, 2, 3, 4],
    data_pos: 512,
    drives: [
      { head: 0, track: 3, sect: 1, media_rate: 0 },
      { head: 1, track: 79, sect: 18, media_rate: 2 },
    ],
    result_timer: -1n,
  };
  const { bytes, vmdesc } = saveDescribed(demoDevice, state);
  const back = load(demoDevice, bytes);
  const lines = [
    'vmstate-lab demo: a floppy-controller-like device described with the DSL',
    '',
    outline(demoDevice),
    '',
    `saved ${bytes.length} bytes (the second drive's media_rate subsection is sent, the first's is not):`,
    hexdump(bytes),
    '',
    'the VM description QEMU would append for it:',
    JSON.stringify(vmdesc),
    '',
    'loaded back:',
    JSON.stringify(back, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
  ];
  return `${lines.join('\n')}\n`;
}

function hexdump(bytes: Uint8Array): string {
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = Array.from(bytes.subarray(i, i + 16));
    const hex = chunk.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = chunk.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    rows.push(`  ${i.toString(16).padStart(6, '0')}  ${hex.padEnd(48)} ${text}`);
  }
  return rows.join('\n');
}
