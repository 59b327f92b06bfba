/**
 * What the simulated releases do with nested guests, against what QEMU did: the 3.1/4.0 blocker,
 * 3.0's silent loss, which releases can load which streams (unknown subsection = refusal), the
 * machine-type gates, and the design alternatives' failure modes.
 */
import { load, UnknownSubsectionError, VMStateError, type AnyVMSDesc, type State } from '../src';
import {
  designs,
  RELEASE_NAMES,
  releases,
  releasesOfKind,
  type Release,
} from '../vmstate/releases';
import { generateStream, machineCtx } from '../vmstate/releases/generate';
import { VMX_MIGRATION_BLOCKER } from '../vmstate/releases/nested-support';
import { HF_GUEST_MASK } from '../vmstate/x86/cpu-fields';
import { cpuResetState } from '../vmstate/x86/reset';
import { scenario, type Scenario } from '../vmstate/x86/scenarios';
import { cutFullSections } from './support/cpu-real-sections';

const cpuOf = (r: Release) => r.catalog.find((c) => c.name === 'cpu')!.vmsd;
const sc = (name: string): Scenario => scenario(name)!;

function generated(
  r: Release,
  scenarioName: string,
  machine = r.defaultMachine,
  lossy = false,
): Uint8Array {
  const o = generateStream(r, machine, sc(scenarioName), { lossy });
  if (!o.ok) throw new Error(o.message);
  return o.bytes;
}

/** The cpu section body of a generated stream. */
function cpuBody(stream: Uint8Array): Uint8Array {
  return cutFullSections(stream, 'cpu')[0].body;
}

/** Loads a cpu body with another release's description, as that QEMU's incoming side would. */
function loadWith(r: Release, body: Uint8Array, s: Scenario): State {
  return load(cpuOf(r), body, 12, { ctx: s.ctx, into: cpuResetState(s.ctx) as State });
}

function subsectionNames(body: Uint8Array): string[] {
  const text = Buffer.from(body).toString('latin1');
  // eslint-disable-next-line no-control-regex
  return [...text.matchAll(/\x05[\x01-\xff](cpu\/[a-z0-9_/]+)\x00\x00\x00\x01/g)].map((m) => m[1]);
}

describe('blockers and losses', () => {
  it("3.1 and 4.0 refuse any KVM vCPU whose model exposes VMX, with QEMU's text, even before VMXON", () => {
    for (const r of ['3.1', '4.0']) {
      for (const s of ['vmx-idle', 'vmx-root', 'vmx-l2-shadow', 'vmx-l2-preemption-timer']) {
        const o = generateStream(releases[r], releases[r].defaultMachine, sc(s));
        expect(o).toMatchObject({ ok: false, why: 'blocker' });
        if (!o.ok) expect(o.message).toContain(VMX_MIGRATION_BLOCKER);
      }
    }
    expect(VMX_MIGRATION_BLOCKER).toBe(
      'Nested VMX virtualization does not support live migration yet',
    );
  });

  it('the blocker is a KVM one: the same CPU model under TCG migrates on 3.1', () => {
    const s = sc('vmx-idle');
    expect(
      generateStream(releases['3.1'], 'pc-q35-3.1', { ...s, ctx: { ...s.ctx, accel: 'tcg' } }).ok,
    ).toBe(true);
  });

  it('3.0 has no blocker: it migrates an L1 in VMX operation and drops its VMX state (only with --lossy here)', () => {
    const o = generateStream(releases['3.0'], 'pc-q35-3.0', sc('vmx-l2-shadow'));
    expect(o).toMatchObject({ ok: false, why: 'loss' });
    const lossy = generateStream(releases['3.0'], 'pc-q35-3.0', sc('vmx-l2-shadow'), {
      lossy: true,
    });
    expect(lossy.ok).toBe(true);
    if (!lossy.ok) return;
    expect(lossy.lost).toMatch(/drops L1's VMX state/);
    const body = cpuBody(lossy.bytes);
    expect(subsectionNames(body)).not.toContain('cpu/nested_state');
    const back = loadWith(releases['3.0'], body, sc('vmx-l2-shadow'));
    expect((back['env.hflags'] as number) & HF_GUEST_MASK).toBe(0); // 3.0 never knew the vCPU was in L2
  });

  it('SVM L2 is lost by every release before 5.1 (no SVM blocker ever existed) and carried from 5.1', () => {
    const svm = RELEASE_NAMES.filter((r) => releases[r].cpuFeatures.nested?.carriesSvm);
    expect(svm.length).toBeGreaterThan(0);
    expect(svm.length).toBeLessThan(RELEASE_NAMES.length);
    for (const r of RELEASE_NAMES.filter((n) => !svm.includes(n)))
      expect(generateStream(releases[r], releases[r].defaultMachine, sc('svm-l2'))).toMatchObject({
        ok: false,
        why: 'loss',
      });
    for (const r of svm)
      expect(subsectionNames(cpuBody(generated(releases[r], 'svm-l2')))).toContain(
        'cpu/kvm_nested_state/svm',
      );
  });

  it('every real release drops the preemption-timer deadline; next carries it, but not on pc-*-7.2 machine types', () => {
    const real = releasesOfKind('real').map((r) => r.name);
    const dropping = RELEASE_NAMES.filter(
      (r) =>
        releases[r].cpuFeatures.nested &&
        !releases[r].cpuFeatures.nested!.carriesPreemptionTimer({}),
    );
    for (const r of real) expect(dropping).toContain(r);
    for (const r of dropping) {
      const o = generateStream(
        releases[r],
        releases[r].defaultMachine,
        sc('vmx-l2-preemption-timer'),
      );
      expect(o).toMatchObject({ ok: false, why: 'loss' });
      if (!o.ok) expect(o.message).toMatch(/does not migrate hdr\.vmx\.flags/);
    }
    expect(subsectionNames(cpuBody(generated(releases.next, 'vmx-l2-preemption-timer')))).toContain(
      'cpu/kvm_nested_state/vmx/preemption_timer',
    );
    const old = generateStream(releases.next, 'pc-q35-7.2', sc('vmx-l2-preemption-timer'));
    expect(old).toMatchObject({ ok: false, why: 'loss' });
    if (!old.ok) expect(old.message).toContain('x86_64-cpu.x-migrate-vmx-preemption-timer=off');
  });
});

describe('who loads whose stream', () => {
  it('a 7.2 VMX L2 stream (shadow vmcs) loads into 4.1: the VMX tree has not changed since', () => {
    const s = sc('vmx-l2-shadow');
    const back = loadWith(releases['4.1'], cpuBody(generated(releases['7.2'], 'vmx-l2-shadow')), s);
    const n = back['env.nested_state'] as State;
    expect(n.size).toBe(8320);
    expect(n['data.vmx[0].shadow_vmcs12']).toEqual(
      (s.state.cpu['env.nested_state'] as State)['data.vmx[0].shadow_vmcs12'],
    );
  });

  it('4.0 refuses cpu/nested_state; 5.0 does not know cpu/kvm_nested_state/svm', () => {
    const vmx = cpuBody(generated(releases['7.2'], 'vmx-root'));
    expect(() => loadWith(releases['4.0'], vmx, sc('vmx-root'))).toThrow(UnknownSubsectionError);
    const svm = cpuBody(generated(releases['7.2'], 'svm-l2'));
    // 4.1-5.0 allocate env->nested_state for VMX models only: on an SVM host the struct pointer is
    // NULL and QEMU aborts as soon as cpu/nested_state arrives...
    expect(() => loadWith(releases['5.0'], svm, sc('svm-l2'))).toThrow(/no nested-state buffer/);
    // ...and where a buffer exists, the svm child is an unknown subsection.
    const intelCtx = sc('vmx-root').ctx;
    try {
      load(cpuOf(releases['5.0']), svm, 12, {
        ctx: intelCtx,
        into: cpuResetState(intelCtx) as State,
      });
      throw new Error('5.0 loaded an SVM nested state');
    } catch (e) {
      expect(e).toBeInstanceOf(UnknownSubsectionError);
      expect((e as VMStateError).message).toContain('cpu/kvm_nested_state/svm');
    }
  });

  it("7.2 refuses next's preemption-timer subsection, but next on a 7.2 machine type writes what 7.2 writes", () => {
    const withTimer = cpuBody(generated(releases.next, 'vmx-l2-preemption-timer'));
    expect(() => loadWith(releases['7.2'], withTimer, sc('vmx-l2-preemption-timer'))).toThrow(
      /preemption_timer/,
    );
    for (const s of ['vmx-l2-shadow', 'svm-l2', 'vmx-root']) {
      expect(
        Buffer.from(cpuBody(generated(releases.next, s, 'pc-q35-7.2'))).equals(
          Buffer.from(cpuBody(generated(releases['7.2'], s))),
        ),
      ).toBe(true);
    }
  });

  it("next without a deadline writes exactly 7.2's bytes, so 7.2 loads it", () => {
    const body = cpuBody(generated(releases.next, 'vmx-l2-shadow'));
    expect(
      Buffer.from(body).equals(Buffer.from(cpuBody(generated(releases['7.2'], 'vmx-l2-shadow')))),
    ).toBe(true);
  });
});

describe('design alternatives', () => {
  it('unversioned-append: 7.2 cannot load it even when there is no deadline (12 unexpected bytes after the vmx fields)', () => {
    for (const s of ['vmx-root', 'vmx-l2-preemption-timer']) {
      const body = cpuBody(generated(designs['unversioned-append'], s));
      expect(() => loadWith(releases['7.2'], body, sc(s))).toThrow(VMStateError);
      // ...while it loads with its own description: nothing on the wire tells the two layouts apart.
      expect(() => loadWith(designs['unversioned-append'], body, sc(s))).not.toThrow();
    }
  });

  it('blob: the kernel struct travels opaque; 7.2 misreads it', () => {
    const s = sc('vmx-l2-preemption-timer');
    const body = cpuBody(generated(designs.blob, 'vmx-l2-preemption-timer'));
    const back = loadWith(designs.blob, body, s);
    expect(back['env.nested_state']).toEqual(s.state.cpu['env.nested_state']);
    expect(() => loadWith(releases['7.2'], body, s)).toThrow(VMStateError);
  });

  it("subsections is next's design: same bytes", () => {
    for (const s of ['vmx-l2-preemption-timer', 'svm-l2', 'vmx-l2-shadow'])
      expect(
        Buffer.from(generated(designs.subsections, s)).equals(
          Buffer.from(generated(releases.next, s)),
        ),
      ).toBe(true);
  });
});

describe('machine types and compat properties', () => {
  it('pc-*-2.11 turns x-migrate-smi-count off, so 3.0+ do not send cpu/msr_smi_count for it', () => {
    const s = sc('no-nested');
    const withSmi = {
      ...s,
      state: { ...s.state, cpu: { ...s.state.cpu, 'env.msr_smi_count': 5n } },
    };
    for (const r of ['3.0', '7.2']) {
      const rel = releases[r];
      const on = generateStream(rel, rel.defaultMachine, withSmi);
      const off = generateStream(rel, 'pc-i440fx-2.11', withSmi);
      if (!on.ok || !off.ok) throw new Error('not generated');
      expect(subsectionNames(cpuBody(on.bytes))).toContain('cpu/msr_smi_count');
      expect(subsectionNames(cpuBody(off.bytes))).not.toContain('cpu/msr_smi_count');
    }
  });

  it("a machine type applies every compat array from its version to the release's predecessor, older entries last", () => {
    const m = releases['7.2'].machineTypes.find((x) => x.name === 'pc-q35-6.0')!;
    const props = machineCtx({}, m).props!;
    expect(props['x86_64-cpu.x-vendor-cpuid-only']).toBe('off'); // pc_compat_6_0
    expect(props['x86_64-cpu.hv-version-id-build']).toBe('0x1bbc'); // pc_compat_6_1
    expect(props['x86_64-cpu.x-migrate-smi-count']).toBeUndefined(); // pc_compat_2_11 is older than the machine
    expect(releases['7.2'].machineTypes.find((x) => x.name === 'pc-q35-7.2')!.compatProps).toEqual(
      [],
    );
    expect(releases['3.0'].machineTypes.map((x) => x.name)).not.toContain('pc-q35-3.1');
    // pc-q35-4.0.1 applies 4.0's arrays, and 10.0 no longer has pc-i440fx-2.3.
    const q401 = releases['7.2'].machineTypes.find((x) => x.name === 'pc-q35-4.0.1')!;
    expect(q401.compatProps).toEqual(
      releases['7.2'].machineTypes.find((x) => x.name === 'pc-q35-4.0')!.compatProps,
    );
    expect(releases['10.0'].machineTypes.map((x) => x.name)).not.toContain('pc-i440fx-2.3');
  });

  it("each release lists QEMU's cpu subsection count for x86_64 (history doc section 4)", () => {
    const count = (r: string) => (cpuOf(releases[r]).subsections as readonly AnyVMSDesc[]).length;
    expect([
      count('3.0'),
      count('3.1'),
      count('4.0'),
      count('4.1'),
      count('5.0'),
      count('5.1'),
      count('5.2'),
      count('7.2'),
      count('10.0'),
      count('next'),
    ]).toEqual([28, 28, 28, 30, 33, 33, 34, 43, 46, 43]);
  });
});
