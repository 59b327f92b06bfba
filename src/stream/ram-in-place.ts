import { ScanEntry, ScanStatus, type FilePages } from './file-pages';
import type { PageTally } from './ram';
import type { PageBytesSink } from './records';

/**
 * countPages and takePages over the file itself (FilePages): the data and zero page records of
 * `block` from `at` on, one mapped window a call, counted into `t`; with `sink`, its stretches of
 * data pages go to sink.filePages and its zero pages of fill 0 to sink.zeroPage, in stream order.
 * Returns where the first record it did not take starts (`at` when it took none), and whether to
 * call again from there (the window ended, not the run). Records it does not take, and all of
 * them when the file cannot be mapped or was cut meanwhile, are left for readRamRecord.
 */
export function pagesInPlace(
  file: FilePages,
  at: number,
  pageSize: number,
  blockLength: number,
  block: string,
  t: PageTally,
  sink: PageBytesSink | undefined,
): { to: number; more: boolean } {
  const s = file.scan(at, pageSize, blockLength, sink !== undefined);
  if (s.status === ScanStatus.Fault || s.status === ScanStatus.Unmapped)
    return { to: at, more: false };
  for (let i = 0; i < s.entries; i++) {
    const kind = s.kind(i);
    if (kind === ScanEntry.Streak) t.flags(s.at(i, 1), s.at(i, 2));
    else if (kind === ScanEntry.Stretch)
      sink!.filePages!(block, s.at(i, 1), file, s.at(i, 2), s.at(i, 3));
    else sink!.zeroPage(block, s.at(i, 1));
  }
  t.pages += s.pages;
  t.zeroPages += s.zeros;
  t.nonZeroFill += s.nonZeroFill;
  return { to: s.pos, more: s.status === ScanStatus.More && s.pos > at };
}
