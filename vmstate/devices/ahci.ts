/** The ICH9 AHCI controller 00:1f.2 on q35 (hw/ide/ahci.c, ich.c; QOM ich9-ahci). */
import { f, k, vmsd } from '../../src/dsl-kit';
import { driveOnBus, ideBus, ideDrive } from './ide';
import { int32Equal, receiverValue } from './kinds';
import { pciDevice } from './pci';
import { dumpWithoutNum } from '../dump-vmstate';

/** AHCI_MAX_CMDS: command slots per port, each with an NCQ transfer record. */
const AHCI_MAX_CMDS = 32;
/** ICH9's six SATA ports (the `ports` property the receiver must share). */
const ICH9_SATA_PORTS = 6;

const ncqTransfer = vmsd({
  name: 'ncq state',
  version_id: 1,
  fields: [
    f.u32('sector_count'),
    f.u64('lba'),
    f.u8('tag'),
    f.u8('cmd'),
    f.u8('slot'),
    f.bool('used'),
    f.bool('halt'),
  ],
});

const port = vmsd({
  name: 'ahci port',
  version_id: 1,
  pre_save: (s) => ({ ...s, 'port.ifs[0]': driveOnBus(s['port.ifs[0]'], s.port) }),
  fields: [
    f.struct('port', ideBus, { version: 1 }),
    f.struct('port.ifs[0]', ideDrive, { version: 1 }),
    f.u32('port_state'),
    f.u32('finished'),
    f.u32('port_regs.lst_addr'),
    f.u32('port_regs.lst_addr_hi'),
    f.u32('port_regs.fis_addr'),
    f.u32('port_regs.fis_addr_hi'),
    f.u32('port_regs.irq_stat'),
    f.u32('port_regs.irq_mask'),
    f.u32('port_regs.cmd'),
    f.u32('port_regs.tfdata'),
    f.u32('port_regs.sig'),
    f.u32('port_regs.scr_stat'),
    f.u32('port_regs.scr_ctl'),
    f.u32('port_regs.scr_err'),
    f.u32('port_regs.scr_act'),
    f.u32('port_regs.cmd_issue'),
    f.bool('done_first_drq'),
    f.i32('busy_slot'),
    f.bool('init_d2h_sent'),
    f.structArray('ncq_tfs', ncqTransfer, AHCI_MAX_CMDS, { version: 1 }),
  ],
});

/**
 * vmstate_ahci for a controller with `ports` ports. `ports` is VMSTATE_INT32_EQUAL up to 7.2 and
 * VMSTATE_UINT32_EQUAL later (10.0: the port count became unsigned); the same four bytes.
 */
export function ahciState(ports: number, portsKind: 'int32' | 'uint32' = 'int32') {
  return vmsd({
    name: 'ahci',
    version_id: 1,
    fields: [
      // VMSTATE_STRUCT_VARRAY_POINTER_INT32 over `ports`: the receiver's own count (checked by
      // the _EQUAL field at the end), so the number of entries is fixed for a given device.
      dumpWithoutNum(f.structArray('dev', port, ports)),
      f.u32('control_regs.cap'),
      f.u32('control_regs.ghc'),
      f.u32('control_regs.irqstatus'),
      f.u32('control_regs.impl'),
      f.u32('control_regs.version'),
      f.u32('idp_index'),
      f.field(
        'ports',
        portsKind === 'int32' ? int32Equal(ports) : receiverValue(k.equal(k.u32), ports),
      ),
    ],
  });
}

export const ich9Ahci = vmsd({
  name: 'ich9_ahci',
  version_id: 1,
  fields: [f.struct('parent_obj', pciDevice), f.struct('ahci', ahciState(ICH9_SATA_PORTS))],
});

/** After 7.2 (10.0): the port count as uint32. */
export const ich9AhciUnsignedPorts = vmsd({
  name: 'ich9_ahci',
  version_id: 1,
  fields: [
    f.struct('parent_obj', pciDevice),
    f.struct('ahci', ahciState(ICH9_SATA_PORTS, 'uint32')),
  ],
});
