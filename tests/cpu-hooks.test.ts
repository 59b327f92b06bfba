/**
 * cpu_pre_save / cpu_post_load and the ctx-dependent needed() conditions, case by case against
 * what target/i386/machine.c does.
 */
import { load, save, saveDescribed, type State } from '../src';
import { releases } from '../vmstate/releases';
import { cpu, cpuPostLoad, cpuPreSave } from '../vmstate/x86/cpu';
import { HF_GUEST_MASK } from '../vmstate/x86/cpu-fields';
import type { X86Ctx } from '../vmstate/x86/ctx';
import { cpuResetState } from '../vmstate/x86/reset';
import { scenario } from '../vmstate/x86/scenarios';

const TCG: X86Ctx = { accel: 'tcg' };
const base = () => scenario('no-nested')!.state.cpu as State;
const sent = (s: State, ctx: X86Ctx, desc = cpu) =>
  (saveDescribed(desc, s, { ctx }).vmdesc.subsections ?? []).map((x) => x.vmsd_name);

describe('cpu_pre_save', () => {
  it('turns a pending #PF outside L2 into an injected one with CR2 = payload; cpu/exception_info is not sent', () => {
    const s = {
      ...base(),
      'env.exception_nr': 14,
      'env.exception_pending': 1,
      'env.exception_has_payload': 1,
      'env.exception_payload': 0xdead000n,
    };
    const out = cpuPreSave('7.2', s, TCG);
    expect(out).toMatchObject({
      'env.exception_pending': 0,
      'env.exception_injected': 1,
      'env.cr[2]': 0xdead000n,
    });
    expect(sent(s, TCG)).not.toContain('cpu/exception_info');
  });

  it('puts a pending #DB payload in DR6, and keeps a pending exception in L2 pending (then exception_info travels)', () => {
    const db = cpuPreSave(
      '7.2',
      {
        ...base(),
        'env.exception_nr': 1,
        'env.exception_pending': 1,
        'env.exception_has_payload': 1,
        'env.exception_payload': 0x4000n,
      },
      TCG,
    );
    expect((db['env.dr'] as bigint[])[6]).toBe(0x4000n);
    const l2 = {
      ...base(),
      'env.hflags': HF_GUEST_MASK,
      'env.exception_nr': 14,
      'env.exception_pending': 1,
    };
    expect(cpuPreSave('7.2', l2, TCG)['env.exception_pending']).toBe(1);
    expect(sent(l2, TCG)).toContain('cpu/exception_info');
  });

  it('clears segment DPLs in real mode when CS has a DPL (old KVM bug)', () => {
    const s = cpuResetState(TCG) as State;
    s['env.segs'] = (s['env.segs'] as State[]).map((g) => ({
      ...g,
      flags: (g.flags as number) | (3 << 13),
    }));
    const out = cpuPreSave('7.2', s, TCG);
    expect((out['env.segs'] as State[]).map((g) => (g.flags as number) & (3 << 13))).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
  });

  it('writes v_tpr from int_ctl from 6.2 on (5.1 writes v_tpr as is)', () => {
    const s = { ...base(), 'env.int_ctl': 0x10f, 'env.v_tpr': 3 };
    expect(cpuPreSave('7.2', s, TCG)['env.v_tpr']).toBe(0xf);
    expect(cpuPreSave('5.1', s, TCG)['env.v_tpr']).toBe(3);
  });

  it('4.1+ under KVM refuses to save a vCPU that may have VMX enabled when the kernel cannot export nested state', () => {
    const s = scenario('vmx-root')!;
    const noCap: X86Ctx = { ...s.ctx, kvm: { nestedStateMax: 0, exceptionPayload: true } };
    expect(() => save(cpu, s.state.cpu, { ctx: noCap })).toThrow(
      /Guest maybe enabled nested virtualization but kernel does not support required capabilities/,
    );
    expect(() => save(releases['4.0'].catalog[2].vmsd, s.state.cpu, { ctx: noCap })).not.toThrow();
  });
});

describe('cpu_post_load', () => {
  const load72 = (s: State, ctx: X86Ctx) =>
    load(cpu, save(cpu, s, { ctx }), 12, { ctx, into: cpuResetState(ctx) as State });

  it('refuses a non-zero FPU format word, and a TSC frequency other than the user-given one', () => {
    expect(() => cpuPostLoad('7.2', { ...base(), 'env.fpregs_format_vmstate': 1 }, TCG)).toThrow(
      /Unsupported old non-softfloat CPU state/,
    );
    expect(() => load72(base(), { ...TCG, userTscKhz: 1_000_000 })).toThrow(
      /Mismatch between user-specified TSC frequency/,
    );
    expect(() => load72(base(), { ...TCG, userTscKhz: 2_400_000 })).not.toThrow();
  });

  it('under KVM refuses L2 mode in hflags without a GUEST_MODE nested state', () => {
    const s = scenario('vmx-root')!;
    const st = {
      ...s.state.cpu,
      'env.hflags': (s.state.cpu['env.hflags'] as number) | HF_GUEST_MASK,
    } as State;
    expect(() => load72(st, s.ctx)).toThrow(
      /vCPU set in guest-mode inconsistent with migrated kernel nested state/,
    );
    const l2 = scenario('vmx-l2-shadow')!;
    expect(() => load72(l2.state.cpu as State, l2.ctx)).not.toThrow();
  });

  it('takes CPL from SS.DPL, and treats an exception number without pending/injected as injected', () => {
    const s = {
      ...base(),
      'env.hflags': 0x3,
      'env.exception_nr': 6,
      'env.exception_pending': 0,
      'env.exception_injected': 0,
    };
    cpuPostLoad('7.2', s, TCG);
    expect((s['env.hflags'] as number) & 3).toBe(0); // SS is a DPL-0 kernel data segment
    expect(s['env.exception_injected']).toBe(1);
  });

  it('refuses out-of-range nested sizes and formats (nested_state_post_load)', () => {
    const s = scenario('vmx-root')!;
    const small = {
      ...s.state.cpu,
      'env.nested_state': { ...(s.state.cpu['env.nested_state'] as State), size: 8320 },
    } as State;
    expect(() =>
      load72(small, { ...s.ctx, kvm: { nestedStateMax: 4224, exceptionPayload: true } }),
    ).toThrow(/Received unsupported nested state size/);
  });
});

describe('needed() conditions that depend on the host', () => {
  it('cpu/svm_guest is TCG-only; cpu/pdptrs is KVM-only and only in PAE paging', () => {
    const s = { ...base(), 'env.int_ctl': 0x100 };
    expect(sent(s, TCG)).toContain('cpu/svm_guest');
    expect(sent(s, { accel: 'kvm' })).not.toContain('cpu/svm_guest');
    const pae = { ...base(), 'env.cr[0]': 0x80000011n, 'env.cr[4]': 0x20n, 'env.efer': 0n };
    expect(sent(pae, { accel: 'kvm' })).toContain('cpu/pdptrs');
    expect(sent(pae, TCG)).not.toContain('cpu/pdptrs');
    expect(sent(base(), { accel: 'kvm' })).not.toContain('cpu/pdptrs'); // long mode
  });

  it('"always sent for such models" subsections follow the CPU model, not the state', () => {
    const kvm: X86Ctx = {
      accel: 'kvm',
      cpu: {
        tsxCtrl: true,
        sgxLc: true,
        xfd: true,
        amxTile: true,
        archLbr: true,
        svmTscScale: true,
      },
    };
    expect(sent(base(), kvm)).toEqual(
      expect.arrayContaining([
        'cpu/msr_tsx_ctrl',
        'cpu/intel_sgx',
        'cpu/msr_xfd',
        'cpu/intel_amx_xtile',
        'cpu/arch_lbr',
        'cpu/amd_tsc_scale_msr',
      ]),
    );
  });

  it('cpu/tsc_khz follows the machine class (save_tsc_khz), cpu/msr_hyperv_runtime and mcg_ext_ctl their CPU properties', () => {
    expect(sent(base(), TCG)).toContain('cpu/tsc_khz');
    expect(sent(base(), { ...TCG, props: { 'x86-machine.save_tsc_khz': false } })).not.toContain(
      'cpu/tsc_khz',
    );
    const s = { ...base(), 'env.msr_hv_runtime': 5n, 'env.mcg_ext_ctl': 1n };
    expect(sent(s, TCG)).not.toEqual(expect.arrayContaining(['cpu/msr_hyperv_runtime']));
    expect(sent(s, { ...TCG, cpu: { hvRuntime: true, lmce: true } })).toEqual(
      expect.arrayContaining(['cpu/msr_hyperv_runtime', 'cpu/mcg_ext_ctl']),
    );
  });
});
