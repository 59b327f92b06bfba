export { parseTapAddress, formatTapAddress, type TapAddress } from './address';
export { PredictionCheck, type Destination, type Refusal, type SectionVerdict } from './verdict';
export {
  tapMigration,
  TapConnectionError,
  TapListenError,
  type TapOptions,
  type TapResult,
  type TapEvent,
  type TapStats,
  type TapVerdict,
  type Forwarding,
} from './tap';
export { spliceLinkAvailable } from './splice-link';
