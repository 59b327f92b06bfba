/**
 * Each real release of the index against its own binary (TCG): what `vmstate generate` writes
 * for that release loads there on its machine types, registers intact (read back over QMP);
 * streams carrying nested state are refused there, as our description of a receiver without a
 * nested-state buffer refuses them; and the vCPU compat properties our machine types claim are
 * the values the binary's vCPU really has on that machine type.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load, type State } from '../src';
import { releasesOfKind } from '../vmstate/releases';
import { generateStream } from '../vmstate/releases/generate';
import { machineProps } from '../vmstate/releases/machines';
import type { MachineType, Release } from '../vmstate/releases/types';
import { X86_CPU_TYPE, type X86Ctx } from '../vmstate/x86/ctx';
import { cpuResetState } from '../vmstate/x86/reset';
import { scenario, scenarios } from '../vmstate/x86/scenarios';
import { cutFullSections } from './support/cpu-real-sections';
import {
  describeQemu,
  incomingFromFile,
  machineArgs,
  QemuProcess,
  type RealRelease,
} from './support/qemu';

jest.setTimeout(180_000);

const NESTED = scenarios()
  .map((s) => s.name)
  .filter((n) => /^(vmx-root|vmx-l2-shadow|svm-l2)$/.test(n));

/** The machine types to try: the newest of each family and the oldest q35. */
function machinesOf(r: Release): MachineType[] {
  const pick = (f: MachineType['family']) => r.machineTypes.filter((m) => m.family === f);
  const q35 = pick('pc-q35');
  return [q35[0], pick('pc-i440fx')[0], q35[q35.length - 1]];
}

/** QEMU's reading of a bool/int property value as our compat data spells it. */
function normalize(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') return String(v);
  const s = String(v);
  if (s === 'true' || s === 'on' || s === 'yes') return 'on';
  if (s === 'false' || s === 'off' || s === 'no') return 'off';
  return /^0x[0-9a-f]+$/i.test(s) ? String(parseInt(s, 16)) : s;
}

for (const r of releasesOfKind('real')) {
  const release = r.name as RealRelease;
  describeQemu(
    `generated ${release} streams in real QEMU ${release}`,
    () => {
      let dir: string;
      beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), `vmstate-gen-${release}-`))));
      afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

      const write = (name: string, machine: string) => {
        const o = generateStream(r, machine, scenario(name)!);
        if (!o.ok) throw new Error(o.message);
        const file = path.join(dir, `${name}-${machine}.mig`);
        fs.writeFileSync(file, o.bytes);
        return file;
      };

      it.each(machinesOf(r).map((m) => m.name))(
        'no-nested on %s loads, registers intact',
        async (machine) => {
          const s = scenario('no-nested')!;
          const res = await incomingFromFile(write('no-nested', machine), { release, machine });
          if (!res.ok) throw new Error(`QEMU ${release} refused: ${res.error}`);
          try {
            const regs = await res.vm.registers();
            const cpu = s.state.cpu;
            expect(regs.ip).toBe(cpu['env.eip']);
            expect(regs.values.rsp).toBe(cpu['env.regs'][4]);
            expect(regs.values.cr3).toBe(cpu['env.cr[3]']);
            expect(regs.values.efer).toBe(cpu['env.efer']);
            expect(regs.segments.cs.selector).toBe(cpu['env.segs'][1].selector);
            expect(regs.segments.gs.base).toBe(cpu['env.segs'][5].base);
          } finally {
            await res.vm.close();
          }
        },
      );

      it.each(NESTED)(
        'a %s stream is refused by TCG, as our description refuses it',
        async (name) => {
          const machine = r.defaultMachine;
          const file = write(name, machine);
          const res = await incomingFromFile(file, { release, machine });
          expect(res.ok).toBe(false);
          if (res.ok) await res.vm.close();
          const tcg: X86Ctx = { accel: 'tcg' };
          const cpu = r.catalog.find((c) => c.name === 'cpu')!.vmsd;
          const body = cutFullSections(fs.readFileSync(file), 'cpu')[0].body;
          expect(() =>
            load(cpu, body, 12, { ctx: tcg, into: cpuResetState(tcg) as State }),
          ).toThrow(/no nested-state buffer/);
        },
      );

      it.each(machinesOf(r).map((m) => m.name))(
        "%s: the vCPU has the values of our compat data's x86_64-cpu properties",
        async (machine) => {
          const m = r.machineTypes.find((x) => x.name === machine)!;
          const work = fs.mkdtempSync(path.join(dir, 'qmp-'));
          const bios = path.join(work, 'bios.bin');
          fs.writeFileSync(bios, new Uint8Array(256 * 1024));
          const qmpSocket = path.join(work, 'q.sock');
          const qemu = await QemuProcess.start(
            machineArgs({ machine }, { bios, qmpSocket }),
            qmpSocket,
            30_000,
            release,
          );
          try {
            const cpus = await qemu.qmp.execute<{ 'qom-path': string }[]>('query-cpus-fast');
            const props = Object.entries(machineProps(m)).filter(([k]) =>
              k.startsWith(`${X86_CPU_TYPE}.`),
            );
            const mismatches: string[] = [];
            for (const [k, want] of props) {
              const property = k.slice(X86_CPU_TYPE.length + 1);
              try {
                const got = await qemu.qmp.execute('qom-get', {
                  path: cpus[0]['qom-path'],
                  property,
                });
                if (normalize(got) !== normalize(want))
                  mismatches.push(`${property}: ours ${want}, QEMU ${String(got)}`);
              } catch (e) {
                mismatches.push(`${property}: ${(e as Error).message}`);
              }
            }
            expect(mismatches).toEqual([]);
          } finally {
            await qemu.quit();
          }
        },
      );
    },
    release,
  );
}
