/** The 16550A UART as an ISA device (hw/char/serial.c, serial-isa.c; QOM isa-serial), a default device. */
import { f, k, vmsd, type State } from '../../src/dsl-kit';
import { dumpSize } from '../dump-vmstate';
import { withInitial } from './kinds';

/** UART_FIFO_LENGTH: the receive and transmit FIFOs' capacity (Fifo8.capacity, not on the wire). */
const UART_FIFO_LENGTH = 16;
const UART_IER_THRI = 0x02;
const UART_IIR_ID = 0x06;
const UART_IIR_THRI = 0x02;
/** Not a value: "no thr_ipending subsection was loaded" between pre_load and post_load. */
const THR_IPENDING_NOT_LOADED = -1;

/** What thr_ipending is when it is not sent: derived from the interrupt identification register. */
const impliedThrIpending = (s: Readonly<State>): number =>
  ((s.iir as number) & UART_IIR_ID) === UART_IIR_THRI ? 1 : 0;

/** vmstate_fifo8 (util/fifo8.c) for a FIFO of the UART's capacity. */
const fifo8 = vmsd({
  name: 'Fifo8',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    // VMSTATE_VBUFFER_UINT32 over Fifo8.capacity: the receiver's constant, so a fixed buffer.
    dumpSize(f.buffer('data', UART_FIFO_LENGTH, { version: 1 }), 0),
    f.u32('head'),
    f.u32('num'),
  ],
});

const thrIpending = vmsd({
  name: 'serial/thr_ipending',
  version_id: 1,
  minimum_version_id: 1,
  // Only meaningful while THR interrupts are enabled, and only sent when it disagrees with iir.
  needed: (s: Readonly<State>) =>
    ((s.ier as number) & UART_IER_THRI) !== 0 && s.thr_ipending !== impliedThrIpending(s),
  fields: [f.i32('thr_ipending')],
});

const tsr = vmsd({
  name: 'serial/tsr',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.tsr_retry !== 0,
  fields: [f.u32('tsr_retry'), f.u8('thr'), f.u8('tsr')],
});

const recvFifo = vmsd({
  name: 'serial/recv_fifo',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => (s.recv_fifo as State).num !== 0,
  fields: [f.struct('recv_fifo', fifo8, { version: 1 })],
});

const xmitFifo = vmsd({
  name: 'serial/xmit_fifo',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => (s.xmit_fifo as State).num !== 0,
  fields: [f.struct('xmit_fifo', fifo8, { version: 1 })],
});

const fifoTimeoutTimer = vmsd({
  name: 'serial/fifo_timeout_timer',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.fifo_timeout_timer !== -1n, // timer_pending()
  fields: [f.timer('fifo_timeout_timer')],
});

const timeoutIpending = vmsd({
  name: 'serial/timeout_ipending',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.timeout_ipending !== 0,
  fields: [f.i32('timeout_ipending')],
});

const poll = vmsd({
  name: 'serial/poll',
  version_id: 1,
  minimum_version_id: 1,
  // Modem-status polling of a host serial line that cannot notify changes; -1 when off.
  needed: (s) => (s.poll_msl as number) >= 0,
  fields: [f.field('poll_msl', withInitial(k.i32, -1)), f.timer('modem_status_poll')],
});

/** vmstate_serial, the SerialState the ISA device embeds. */
export const serialState = vmsd({
  name: 'serial',
  version_id: 3,
  minimum_version_id: 2,
  // As serial_pre_load/serial_post_load: a stream without the subsections implies these values.
  pre_load: (s) => {
    s.thr_ipending = THR_IPENDING_NOT_LOADED;
    s.poll_msl = -1;
  },
  post_load: (s, version) => {
    if (version < 3) s.fcr_vmstate = 0;
    if (s.thr_ipending === THR_IPENDING_NOT_LOADED) s.thr_ipending = impliedThrIpending(s);
  },
  fields: [
    f.u16('divider', { version: 2 }),
    f.u8('rbr'),
    f.u8('ier'),
    f.u8('iir'),
    f.u8('lcr'),
    f.u8('mcr'),
    f.u8('lsr'),
    f.u8('msr'),
    f.u8('scr'),
    f.u8('fcr_vmstate', { version: 3 }),
  ],
  subsections: [thrIpending, tsr, recvFifo, xmitFifo, fifoTimeoutTimer, timeoutIpending, poll],
});

export const isaSerial = vmsd({
  name: 'serial',
  version_id: 3,
  minimum_version_id: 2,
  fields: [f.struct('state', serialState)],
});
