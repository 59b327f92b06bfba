import { StreamEncoder } from './encoder';
import { EditError, applyAssignment, matchSection, type FieldAssignment } from './edit';
import type { StreamRecord, StreamVisitor } from './records';
import { CopyPatchSink, FdSink } from './sink';
import type { ChunkSource } from './source';
import { writeFileAtomically, type AtomicWriteOptions } from './atomic-file';
import { walkStream, type WalkOptions, type WalkSummary } from './walk';

export interface TranscodeOptions extends WalkOptions, AtomicWriteOptions {
  assignments?: FieldAssignment[];
  /**
   * The input's path when it is a regular file (the source reads it): the output then starts as
   * a kernel-side copy of it, and only what differs from that copy is written (CopyPatchSink).
   */
  inputFile?: string;
  /**
   * With `inputFile` and no assignments, RAM pages are stepped over (the copy holds them) unless
   * 'records' (every page read and passed through one by one: the same output, kept to check that).
   */
  ramPages?: 'records' | 'runs';
}

/**
 * Reads a stream and writes it again to `output` (whole or not at all). With no assignments the
 * output is byte-identical to the input; assignments change field values of device sections.
 */
export async function transcodeToFile(
  source: ChunkSource,
  output: string,
  opts: TranscodeOptions = {},
): Promise<WalkSummary> {
  return writeFileAtomically(
    output,
    async (fd, tmp) => {
      // Not into a special file (tmp undefined: /dev/null, a pipe), which cannot hold a copy.
      const copyFrom = opts.inputFile !== undefined && source.size !== undefined && tmp;
      const sink = copyFrom
        ? new CopyPatchSink(
            fd,
            opts.inputFile!,
            copyFrom,
            source.size!,
            undefined,
            undefined,
            opts.fsync,
          )
        : new FdSink(fd);
      const encoder = new StreamEncoder(sink, { ramPages: opts.ramPages ?? 'runs' });
      const visitor = opts.assignments?.length
        ? new EditingVisitor(encoder, opts.assignments)
        : encoder;
      try {
        const summary = await walkStream(source, visitor, opts);
        if (sink instanceof CopyPatchSink) await sink.finish();
        else sink.flush();
        if (visitor instanceof EditingVisitor) visitor.checkAllApplied();
        return summary;
      } catch (e) {
        if (sink instanceof CopyPatchSink) await sink.settle();
        throw e;
      }
    },
    opts,
  );
}

/** Applies field assignments to matching device sections on their way to the encoder. */
export class EditingVisitor implements StreamVisitor {
  constructor(
    private readonly next: StreamVisitor,
    private readonly assignments: FieldAssignment[],
  ) {}

  drain(): Promise<void> | void {
    return this.next.drain?.();
  }

  record(rec: StreamRecord): void {
    if (rec.type === 'section' && (rec.section.kind === 'full' || rec.section.kind === 'start')) {
      for (const a of this.assignments) {
        const field = matchSection(a, rec.section);
        if (field === undefined) continue;
        if (a.applied > 0)
          throw new EditError(
            `--set '${a.text}' matches more than one section ('${rec.section.idstr}' instance ${rec.section.instanceId} again, section id ${rec.section.sectionId}); name it as ${rec.section.idstr}(${rec.section.sectionId})/${field}`,
          );
        applyAssignment(a, rec.section, field);
      }
    }
    this.next.record(rec);
  }

  checkAllApplied(): void {
    for (const a of this.assignments)
      if (a.applied === 0)
        throw new EditError(`--set '${a.text}': no section in the stream matches '${a.lhs}'`);
  }
}
