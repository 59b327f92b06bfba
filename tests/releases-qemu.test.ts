/**
 * Generated streams against the real QEMU 7.2 (TCG): every release's stream for a VM without a
 * nested guest loads into QEMU 7.2 on that release's machine type (forward migration) with the
 * registers we wrote (each real release's own streams in its own binary, and nested streams
 * refused there: tests/releases-real-load.test.ts). Skips only when QEMU is missing and
 * VMSTATE_REQUIRE_QEMU is unset.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RELEASE_NAMES, releases } from '../vmstate/releases';
import { generateStream } from '../vmstate/releases/generate';
import { scenario, type Scenario } from '../vmstate/x86/scenarios';
import { describeQemu, incomingFromFile } from './support/qemu';

jest.setTimeout(180_000);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-rel-qemu-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeStream(release: string, s: Scenario, machine: string): string {
  const o = generateStream(releases[release], machine, s);
  if (!o.ok) throw new Error(o.message);
  const file = path.join(dir, `${release}-${s.name}-${machine}.mig`);
  fs.writeFileSync(file, o.bytes);
  return file;
}

describeQemu('generated streams in QEMU 7.2', () => {
  // Every release whose newest q35 machine type QEMU 7.2 still has (forward migration into 7.2).
  const RELEASES = RELEASE_NAMES.filter((n) =>
    releases['7.2'].machineTypes.some((m) => m.name === releases[n].defaultMachine),
  );
  it('covers the older releases of the index', () => expect(RELEASES.length).toBeGreaterThan(3));

  it.each(RELEASES)(
    'the %s stream of a VM without a nested guest loads, registers intact',
    async (r) => {
      const s = scenario('no-nested')!;
      const machine = releases[r].defaultMachine;
      const res = await incomingFromFile(writeStream(r, s, machine), { machine });
      if (!res.ok) throw new Error(`QEMU refused: ${res.error}`);
      try {
        const regs = await res.vm.registers();
        const cpu = s.state.cpu;
        expect(regs.ip).toBe(cpu['env.eip']);
        expect(regs.values.rsp).toBe(cpu['env.regs'][4]);
        expect(regs.values.cr3).toBe(cpu['env.cr[3]']);
        expect(regs.values.efer).toBe(cpu['env.efer']);
        expect(regs.segments.cs.selector).toBe(0x10);
        expect(regs.segments.gs.base).toBe(cpu['env.segs'][5].base);
      } finally {
        await res.vm.close();
      }
    },
  );

  it('a VMX guest that never ran VMXON migrates from 7.2 (nothing nested is sent)', async () => {
    const res = await incomingFromFile(writeStream('7.2', scenario('vmx-idle')!, 'pc-i440fx-7.2'), {
      machine: 'pc-i440fx-7.2',
    });
    if (!res.ok) throw new Error(`QEMU refused: ${res.error}`);
    await res.vm.close();
  });
});
