/**
 * The note a release gives when it would silently drop the VMX preemption-timer deadline names
 * the property that turned it off on this machine type: next's own, or a custom design's.
 */
import myDesign from '../vmstate/examples/my-design';
import { releases } from '../vmstate/releases';
import { findMachine, machineCtx } from '../vmstate/releases/generate';
import { scenario } from '../vmstate/x86/scenarios';

const deadlineVm = scenario('vmx-l2-preemption-timer')!;

test.each([
  ['next', releases.next, 'x-migrate-vmx-preemption-timer'],
  ['my-design', myDesign, 'x-migrate-preemption-deadline'],
])('%s on pc-q35-7.2 names its own property', (_, release, prop) => {
  const ctx = machineCtx(deadlineVm.ctx, findMachine(release, 'pc-q35-7.2')!);
  const note = release.losses(deadlineVm.state as never, ctx);
  expect(note).toContain(`${prop}=off`);
});

test('on its own machine type the deadline travels: no note', () => {
  const ctx = machineCtx(deadlineVm.ctx, findMachine(myDesign, 'pc-q35-next')!);
  expect(myDesign.losses(deadlineVm.state as never, ctx)).toBeUndefined();
});
