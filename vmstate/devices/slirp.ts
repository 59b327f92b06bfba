/**
 * "slirp" (net/slirp.c + libslirp's state.c): the user-mode network backend of the default NIC.
 * Not a VMSD section but a legacy save_state handler, so QEMU's vmdesc describes it only as an
 * opaque `data` buffer with its size. Its body is: for each guestfwd socket a byte 42 and the
 * socket's state, a 0 byte ending that list, then libslirp's own "slirp" VMState (version 4):
 * the IP id counter and the BOOTP client table.
 */
import { f, vmsd } from '../../src/dsl-kit';

/** NB_BOOTP_CLIENTS: leases the built-in DHCP server keeps. */
const NB_BOOTP_CLIENTS = 16;

const bootpClient = vmsd({
  name: 'slirp_bootpclient',
  version_id: 0,
  fields: [f.u16('allocated'), f.buffer('macaddr', 6)],
});

export const slirp = vmsd({
  name: 'slirp',
  version_id: 4,
  fields: [
    // Connections forwarded to a guestfwd command (-netdev user,guestfwd=...) would come first,
    // each after a byte 42; their socket/TCP control block layout is not part of this catalog.
    f.u8('end_of_sockets'),
    f.validate(
      'no guestfwd sockets',
      (s) => s.end_of_sockets === 0,
      'guestfwd socket records are not supported by the catalog',
    ),
    f.u16('ip_id', { version: 2 }),
    f.structArray('bootp_clients', bootpClient, NB_BOOTP_CLIENTS, { version: 3 }),
  ],
});
