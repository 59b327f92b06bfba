/**
 * Simulated migration between releases on the scenarios, one outcome of each kind worked out by
 * hand from QEMU's behaviour (vmstate-semantics.md §15), plus releases built to be broken so the
 * lossy and crash classifications are seen to happen.
 */
import { f, k, vmsd, type Kind } from '../src';
import { expectedOutcome, violation } from '../src/compat/expect';
import { migrate, MigrationCache, type MigrationOutcome } from '../src/compat/migrate';
import { decodeVmStream, encodeVmStream } from '../src/compat/vm-stream';
import { generateStream, machineCtx, findMachine } from '../vmstate/releases/generate';
import { designs, releases, type Release } from '../vmstate/releases';
import { scenario } from '../vmstate/x86/scenarios';

const vmOf = (name: string) => {
  const sc = scenario(name)!;
  return { ctx: sc.ctx, state: sc.state as unknown as Record<string, Record<string, unknown>> };
};
const run = (name: string, from: Release, machine: string, to: Release): MigrationOutcome =>
  migrate(vmOf(name), { release: from, machine }, { release: to });

describe('the in-memory stream', () => {
  it('is byte for byte what `vmstate generate` writes, up to EOF (the VM description after it is left out)', () => {
    for (const name of ['no-nested', 'vmx-l2-shadow', 'svm-l2']) {
      const vm = vmOf(name);
      const r = releases['7.2'];
      const gen = generateStream(r, r.defaultMachine, vm);
      expect(gen.ok).toBe(true);
      if (!gen.ok) continue;
      const ctx = machineCtx(vm.ctx, findMachine(r, r.defaultMachine)!);
      const mine = encodeVmStream(r.catalog, r.defaultMachine, vm.state, ctx);
      expect(Buffer.from(gen.bytes.subarray(0, mine.length)).equals(Buffer.from(mine))).toBe(true);
      expect(gen.bytes[mine.length]).toBe(0x06); // QEMU_VM_VMDESCRIPTION follows EOF
      const loaded = decodeVmStream(r.catalog, r.defaultMachine, gen.bytes, ctx);
      expect(Object.keys(loaded).sort()).toEqual(['cpu', 'cpu_common', 'timer']);
    }
  });

  it('a destination started with another machine type refuses the configuration', () => {
    const vm = vmOf('no-nested');
    const r = releases['7.2'];
    const ctx = machineCtx(vm.ctx, findMachine(r, 'pc-q35-7.2')!);
    const bytes = encodeVmStream(r.catalog, 'pc-q35-7.2', vm.state, ctx);
    expect(() => decodeVmStream(r.catalog, 'pc-i440fx-7.2', bytes, ctx)).toThrow(
      /machine type received is 'pc-q35-7.2' and local is 'pc-i440fx-7.2'/,
    );
  });
});

describe('migrate between releases', () => {
  it('same release, every scenario it can migrate: ok, no notes', () => {
    for (const name of ['no-nested', 'vmx-idle', 'vmx-root', 'vmx-l2-shadow', 'svm-l2']) {
      expect(run(name, releases['7.2'], 'pc-q35-7.2', releases['7.2'])).toEqual({
        kind: 'ok',
        notes: [],
      });
      expect(run(name, releases.next, 'pc-q35-next', releases.next)).toEqual({
        kind: 'ok',
        notes: [],
      });
    }
  });

  it('7.2 -> 4.0 with L1 after VMXON: refused on cpu/nested_state, with where', () => {
    const o = run('vmx-root', releases['7.2'], 'pc-q35-4.0', releases['4.0']);
    expect(o.kind).toBe('refused');
    if (o.kind !== 'refused') return;
    expect(o.refusal).toMatchObject({
      side: 'destination',
      reason: 'unknown-subsection',
      section: 'cpu#0',
    });
    expect(o.refusal.message).toMatch(/unknown subsection 'cpu\/nested_state'/);
    // The offset points at the subsection marker inside the cpu section of the whole stream.
    const stream = new MigrationCache(vmOf('vmx-root')).stream({
      release: releases['7.2'],
      machine: 'pc-q35-4.0',
    })!;
    expect(stream[o.refusal.offset!]).toBe(0x05);
    expect(
      Buffer.from(stream.subarray(o.refusal.offset! + 2, o.refusal.offset! + 2 + 16)).toString(
        'latin1',
      ),
    ).toBe('cpu/nested_state');
  });

  it('7.2 -> 5.0 with L2 under SVM: refused at cpu/nested_state (5.0 has no SVM child and, on an AMD host, no nested-state buffer)', () => {
    const o = run('svm-l2', releases['7.2'], 'pc-q35-5.0', releases['5.0']);
    expect(o.kind === 'refused' && o.refusal).toMatchObject({
      side: 'destination',
      section: 'cpu#0',
    });
    expect(o.kind === 'refused' && o.refusal.message).toMatch(
      /unknown subsection 'cpu\/kvm_nested_state\/svm'|no nested-state buffer/,
    );
    expect(o.kind === 'refused' && o.refusal.path).toMatch(/cpu\/nested_state/);
  });

  it('7.2 -> 4.1 with L2 under VMX and a shadow VMCS: the nested tree loads', () => {
    expect(run('vmx-l2-shadow', releases['7.2'], 'pc-q35-4.1', releases['4.1']).kind).toBe('ok');
  });

  it('3.1 with VMX exposed refuses at the source (migration blocker)', () => {
    const o = run('vmx-idle', releases['3.1'], 'pc-q35-3.1', releases['7.2']);
    expect(o.kind === 'refused' && o.refusal).toMatchObject({ side: 'source', reason: 'blocker' });
    expect(o.kind === 'refused' && o.refusal.message).toMatch(
      /Nested VMX virtualization does not support live migration yet/,
    );
  });

  it('3.0 -> 7.2 with L2 running: ok, with the loss 3.0 itself causes as a note', () => {
    const o = run('vmx-l2-shadow', releases['3.0'], 'pc-q35-3.0', releases['7.2']);
    expect(o.kind).toBe('ok');
    expect(o.notes.join()).toMatch(/QEMU 3.0 has no nested-state migration/);
  });

  it('next -> 7.2 with a preemption-timer deadline: ok on pc-q35-7.2 (note: deadline not sent), refused for pc-q35-next (7.2 lacks it)', () => {
    const onOld = run('vmx-l2-preemption-timer', releases.next, 'pc-q35-7.2', releases['7.2']);
    expect(onOld.kind).toBe('ok');
    expect(onOld.notes.join()).toMatch(/x-migrate-vmx-preemption-timer=off/);
    const onNew = run('vmx-l2-preemption-timer', releases.next, 'pc-q35-next', releases['7.2']);
    expect(onNew.kind === 'refused' && onNew.refusal).toMatchObject({
      side: 'destination',
      reason: 'unknown-machine',
    });
    // The same stream into 7.2 started as pc-q35-next anyway (a 7.2 with our machine type) would meet the subsection.
    const next72 = { ...releases['7.2'], machineTypes: releases.next.machineTypes } as Release;
    const o = run('vmx-l2-preemption-timer', releases.next, 'pc-q35-next', next72);
    expect(o.kind === 'refused' && o.refusal.message).toMatch(
      /cpu\/kvm_nested_state\/vmx\/preemption_timer/,
    );
  });

  it('blob -> 7.2 with L1 after VMXON: 7.2 reads the blob length as flags/format, the kernel header as size 0, and its post_load refuses', () => {
    const o = run('vmx-root', designs.blob, 'pc-q35-7.2', releases['7.2']);
    expect(o.kind === 'refused' && o.refusal).toMatchObject({
      side: 'destination',
      reason: 'hook-failed',
    });
    expect(o.kind === 'refused' && o.refusal.message).toMatch(
      /Received nested state size less than min: len=0/,
    );
  });

  it('7.2 -> unversioned-append with L1 after VMXON: it reads 12 bytes 7.2 never sent and the section ends wrong', () => {
    const o = run('vmx-root', releases['7.2'], 'pc-q35-7.2', designs['unversioned-append']);
    expect(['refused', 'lossy']).toContain(o.kind);
    expect(o.kind).not.toBe('ok');
  });
});

describe('lossy and crash are seen', () => {
  const base = releases['7.2'];
  const withTimer = (timer: Release['catalog'][number]['vmsd'], name: string): Release => ({
    ...base,
    name,
    catalog: base.catalog.map((c) => (c.name === 'timer' ? { ...c, vmsd: timer } : c)),
  });

  it('a release that swapped two i64 fields of the same size loads, with both values changed: lossy, naming them', () => {
    const swapped = vmsd({
      name: 'timer',
      version_id: 2,
      minimum_version_id: 1,
      fields: [f.i64('cpu_clock_offset'), f.unused(8), f.i64('cpu_ticks_offset', { version: 2 })],
    });
    const o = run('no-nested', base, 'pc-q35-7.2', withTimer(swapped, 'swapped'));
    expect(o.kind).toBe('lossy');
    if (o.kind !== 'lossy') return;
    expect(o.changed).toEqual([
      { section: 'timer', path: 'cpu_ticks_offset' },
      { section: 'timer', path: 'cpu_clock_offset' },
    ]);
    const vm = vmOf('no-nested');
    const cache = new MigrationCache(vm);
    const from = { release: base, machine: 'pc-q35-7.2' };
    expect(
      violation(o, expectedOutcome(cache, from, { release: withTimer(swapped, 'swapped') })),
    ).toMatch(/^lossy/);
  });

  it('a kind whose read throws a TypeError is a crash of the destination; a throwing blocker is a crash of the source', () => {
    const broken: Kind<bigint> = {
      ...k.i64,
      read: () => {
        throw new TypeError('bug in a reader');
      },
    };
    const timer = vmsd({
      name: 'timer',
      version_id: 2,
      minimum_version_id: 1,
      fields: [
        f.field('cpu_ticks_offset', broken),
        f.unused(8),
        f.i64('cpu_clock_offset', { version: 2 }),
      ],
    });
    const o = run('no-nested', base, 'pc-q35-7.2', withTimer(timer, 'broken-reader'));
    expect(o.kind === 'crash' && o.side).toBe('destination');
    expect(o.kind === 'crash' && o.error).toMatch(/bug in a reader/);
    // Refusing loads are made without stack traces; a crash's report keeps its stack.
    expect(o.kind === 'crash' && o.error).toMatch(/^TypeError: bug in a reader\n\s+at /);
    const throwing: Release = {
      ...base,
      blockers: () => {
        throw new RangeError('bug in a blocker');
      },
    };
    const s = run('no-nested', throwing, 'pc-q35-7.2', base);
    expect(s.kind === 'crash' && s.side).toBe('source');
  });
});
