/**
 * Engine throughput: save and load of a realistic description, against a JSON.stringify/JSON.parse
 * round trip of the same state measured in the same run (the baseline), printed as ratios.
 */
import { f, k, load, save, vmsd, type AnyField, type State } from '../../src';
import { goal, measure, printTable } from './measure';

/** 100 mixed fields, two structs, a 4 KiB buffer and three subsections: the shape of a real device. */
export function realisticDescription() {
  const scalars: AnyField[] = [];
  const makers = [f.u8, f.u16, f.u32, f.u64, f.i32, f.i64, f.bool] as const;
  for (let i = 0; i < 100; i++) scalars.push(makers[i % makers.length](`reg${i}`) as AnyField);
  const segment = vmsd({
    name: 'segment',
    version_id: 1,
    fields: [f.u32('selector'), f.u64('base'), f.u32('limit'), f.u32('flags')],
  });
  const fpu = vmsd({
    name: 'fpu',
    version_id: 1,
    fields: [f.u16('fcw'), f.u16('fsw'), f.array('st', k.u64, 8), f.u32('mxcsr')],
  });
  return vmsd({
    name: 'bench/device',
    version_id: 3,
    minimum_version_id: 1,
    fields: [
      ...scalars,
      f.structArray('segs', segment, 6),
      f.struct('fpu', fpu),
      f.buffer('page', 4096),
      f.array('msrs', k.u64, 32),
    ],
    subsections: [
      vmsd({
        name: 'bench/device/a',
        version_id: 1,
        fields: [f.u64('a0'), f.u64('a1')],
        needed: () => true,
      }),
      vmsd({
        name: 'bench/device/b',
        version_id: 1,
        fields: [f.u32('b0'), f.buffer('b1', 64)],
        needed: () => true,
      }),
      vmsd({ name: 'bench/device/c', version_id: 2, fields: [f.u16('c0')], needed: () => true }),
    ],
  });
}

export function sampleState(): State {
  const s: State = {};
  const desc = realisticDescription();
  for (const fld of desc.fields) {
    if (fld.shape === 'value' && fld.kind.type.startsWith('uint64')) s[fld.key] = 0x1234_5678_9abcn;
    else if (fld.shape === 'value' && fld.kind.type === 'int64') s[fld.key] = -5n;
    else if (fld.shape === 'value' && fld.kind.type === 'bool') s[fld.key] = true;
    else if (fld.shape === 'value' && /int/.test(fld.kind.type)) s[fld.key] = 200;
  }
  s.segs = Array.from({ length: 6 }, (_, i) => ({
    selector: i * 8,
    base: BigInt(i) << 32n,
    limit: 0xffff,
    flags: 0x93,
  }));
  s.fpu = { fcw: 0x37f, fsw: 0, st: Array.from({ length: 8 }, (_, i) => BigInt(i)), mxcsr: 0x1f80 };
  s.page = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31) & 0xff);
  s.msrs = Array.from({ length: 32 }, (_, i) => BigInt(i) * 0x1000n);
  Object.assign(s, { a0: 1n, a1: 2n, b0: 3, b1: new Uint8Array(64), c0: 4 });
  return s;
}

/** JSON cannot hold bigint or bytes: the baseline tags them (bytes as base64, the cheapest), as any JSON state format must. */
const replacer = (_: string, v: unknown) =>
  typeof v === 'bigint'
    ? { $big: v.toString() }
    : v instanceof Uint8Array
      ? { $b64: Buffer.from(v).toString('base64') }
      : v;
const reviver = (_: string, v: unknown) => {
  if (v && typeof v === 'object' && '$big' in v) return BigInt((v as { $big: string }).$big);
  if (v && typeof v === 'object' && '$b64' in v)
    return new Uint8Array(Buffer.from((v as { $b64: string }).$b64, 'base64'));
  return v;
};

export function benchEngine(): void {
  const desc = realisticDescription();
  const state = sampleState();
  const bytes = save(desc, state);
  const json = JSON.stringify(state, replacer);
  const results = [
    measure(
      'JSON round trip (baseline)',
      () => JSON.parse(JSON.stringify(state, replacer), reviver),
      json.length,
    ),
    measure('save', () => save(desc, state), bytes.length),
    measure('load', () => load(desc, bytes), bytes.length),
    measure('save + load', () => load(desc, save(desc, state)), bytes.length),
  ];
  printTable(
    `engine: ${desc.fields.length} fields, ${bytes.length} bytes per state (in-process CPU time)`,
    results,
    results[0],
  );
  console.log(
    `  CPU time per operation: ${results.map((r) => `${r.name} ${(r.perOp * 1e6).toFixed(1)} us`).join(', ')}`,
  );
  const ratio = results[0].perOp / results[3].perOp;
  goal(`save+load vs JSON round trip: ${ratio.toFixed(2)}x faster (goal >= 5x)`, ratio >= 5);
}
