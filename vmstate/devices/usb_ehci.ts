/**
 * The EHCI USB 2.0 controller on PCI (hw/usb/hcd-ehci-pci.c vmstate_ehci_pci, section "ehci",
 * QOM usb-ehci; ich9-usb-ehci1/2 share it) around the EHCI core (hw/usb/hcd-ehci.c
 * vmstate_ehci, "ehci-core"). The same in 5.2, 7.2 and 10.0.
 */
import { f, vmsd } from '../../src/dsl-kit';
import { pciDevice } from './pci';

/** NB_PORTS: the root hub's ports, each sent as its own VMSTATE_UINT32(portsc[i]). */
const NB_PORTS = 6;

const ehciCore = vmsd({
  name: 'ehci-core',
  version_id: 2,
  minimum_version_id: 1,
  fields: [
    f.u32('usbcmd'),
    f.u32('usbsts'),
    f.u32('usbsts_pending', { version: 2 }),
    f.u32('usbsts_frindex', { version: 2 }),
    f.u32('usbintr'),
    f.u32('frindex'),
    f.u32('ctrldssegment'),
    f.u32('periodiclistbase'),
    f.u32('asynclistaddr'),
    f.u32('configflag'),
    ...Array.from({ length: NB_PORTS }, (_, i) => f.u32(`portsc[${i}]`)),
    f.timer('frame_timer'),
    f.u64('last_run_ns'),
    f.u32('async_stepdown'),
    f.u32('astate'),
    f.u32('pstate'),
    f.u32('a_fetch_addr'),
    f.u32('p_fetch_addr'),
  ],
});

export const usbEhciPci = vmsd({
  name: 'ehci',
  version_id: 2,
  minimum_version_id: 1,
  fields: [f.struct('pcidev', pciDevice), f.struct('ehci', ehciCore, { version: 2 })],
});
