/** The ISA floppy controller (hw/block/fdc.c, fdc-isa.c; QOM isa-fdc), part of every pc machine. */
import { f, k, vmsd, type State } from '../../src/dsl-kit';
import { uint8Equal, withInitial } from './kinds';
import { dumpWithoutNum } from '../dump-vmstate';

/** MAX_FD: drives per controller, which num_floppies must match. */
const MAX_FD = 2;
/** FD_SECTOR_LEN: the command/data FIFO (fifo_size, not on the wire). */
const FIFO_SIZE = 512;

const mediaChanged = vmsd({
  name: 'fdrive/media_changed',
  version_id: 1,
  minimum_version_id: 1,
  // QEMU also requires a backend; a drive without one keeps media_changed at its reset value 1.
  needed: (s) => s.media_changed !== 1,
  fields: [f.field('media_changed', withInitial(k.u8, 1))],
});

const mediaRate = vmsd({
  name: 'fdrive/media_rate',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u8('media_rate')], // no needed(): always sent
});

const perpendicular = vmsd({
  name: 'fdrive/perpendicular',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.perpendicular !== 0,
  fields: [f.u8('perpendicular')],
});

const drive = vmsd({
  name: 'fdrive',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u8('head'), f.u8('track'), f.u8('sect')],
  subsections: [mediaChanged, mediaRate, perpendicular],
});

/** Main status register bits that reconstruct_phase() reads. */
const FD_MSR_NONDMA = 0x20;
const FD_MSR_DIO = 0x40;
const FD_MSR_RQM = 0x80;
/** Controller phases; RECONSTRUCT means "not loaded, derive it from msr". */
const FD_PHASE_RECONSTRUCT = 0;
const FD_PHASE_COMMAND = 1;
const FD_PHASE_EXECUTION = 2;
const FD_PHASE_RESULT = 3;

/** The phase older QEMUs imply through the main status register. */
function reconstructPhase(s: Readonly<State>): number {
  const msr = s.msr as number;
  if (msr & FD_MSR_NONDMA) return FD_PHASE_EXECUTION;
  if ((msr & FD_MSR_RQM) === 0) return FD_PHASE_EXECUTION; // QEMU 2.3 cleared RQM only during DMA
  if (msr & FD_MSR_DIO) return FD_PHASE_RESULT;
  return FD_PHASE_COMMAND;
}

const resetSensei = vmsd({
  name: 'fdc/reset_sensei',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.reset_sensei !== 0,
  fields: [f.i32('reset_sensei')],
});

const resultTimer = vmsd({
  name: 'fdc/result_timer',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.result_timer !== -1n, // timer_pending()
  fields: [f.timer('result_timer')],
});

const phase = vmsd({
  name: 'fdc/phase',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.phase !== reconstructPhase(s),
  // An all-zero msr reconstructs to EXECUTION, so a fresh state does not send the subsection.
  fields: [f.field('phase', withInitial(k.u8, FD_PHASE_EXECUTION))],
});

/** vmstate_fdc, the FDCtrl the ISA device embeds. */
const controller = vmsd({
  name: 'fdc',
  version_id: 2,
  minimum_version_id: 2,
  // As fdc_pre_load/fdc_post_load: without the phase subsection the phase is derived from msr.
  pre_load: (s) => {
    s.phase = FD_PHASE_RECONSTRUCT;
  },
  post_load: (s) => {
    if (s.phase === FD_PHASE_RECONSTRUCT) s.phase = reconstructPhase(s);
  },
  fields: [
    f.u8('sra'),
    f.u8('srb'),
    f.u8('dor_vmstate'),
    f.u8('tdr'),
    f.u8('dsr'),
    f.u8('msr'),
    f.u8('status0'),
    f.u8('status1'),
    f.u8('status2'),
    // VMSTATE_VARRAY_INT32 over fifo_size, which is the receiver's constant 512, not a stream value.
    dumpWithoutNum(f.array('fifo', k.u8, FIFO_SIZE)),
    f.u32('data_pos'),
    f.u32('data_len'),
    f.u8('data_state'),
    f.u8('data_dir'),
    f.u8('eot'),
    f.u8('timer0'),
    f.u8('timer1'),
    f.u8('precomp_trk'),
    f.u8('config'),
    f.u8('lock'),
    f.u8('pwrd'),
    f.field('num_floppies', uint8Equal(MAX_FD)),
    f.structArray('drives', drive, MAX_FD, { version: 1 }),
  ],
  subsections: [resetSensei, resultTimer, phase],
});

export const isaFdc = vmsd({
  name: 'fdc',
  version_id: 2,
  minimum_version_id: 2,
  fields: [f.struct('state', controller)],
});
