/**
 * Every failure to read or write VMState is one of these classes. Each carries the byte offset
 * (absolute in the stream when the stream layer reads) and the path through sections, VMSDs,
 * struct fields and subsections, so tests and the CLI read fields instead of parsing messages.
 */
export class VMStateError extends Error {
  /** Stable name of the kind of failure, for JSON output and tests. */
  readonly code: string = 'vmstate';
  constructor(
    readonly what: string,
    readonly offset: number,
    readonly path: string,
  ) {
    super(`${what} (at byte 0x${offset.toString(16)}${path ? `, ${path}` : ''})`);
    this.name = new.target.name;
  }
  /** The same error, placed deeper in the stream: used when a section decoded from a slice is rethrown. */
  relocated(offsetDelta: number, pathPrefix: string): this {
    const copy = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(copy, this);
    const path = pathPrefix ? (this.path ? `${pathPrefix} > ${this.path}` : pathPrefix) : this.path;
    Object.defineProperty(copy, 'offset', { value: this.offset + offsetDelta, enumerable: true });
    Object.defineProperty(copy, 'path', { value: path, enumerable: true });
    copy.message = `${this.what} (at byte 0x${copy.offset.toString(16)}${path ? `, ${path}` : ''})`;
    // The stack's first line repeats the message: it names the new place too.
    copy.stack = this.stack?.replace(this.message, copy.message);
    return copy;
  }
}

/**
 * A ByteReader is a plain cursor and knows no path: the code that knows what is being read
 * places its errors. `placed(e, path)` is `e` with that path when it has none yet (an error
 * raised deeper already names a deeper place); `path` may be a function, evaluated only then.
 */
export function placed(e: unknown, path: string | (() => string)): unknown {
  if (!(e instanceof VMStateError) || e.path) return e;
  const p = typeof path === 'string' ? path : path();
  return p ? e.relocated(0, p) : e;
}

/** Runs `read`, placing what it throws at `path` (see placed). */
export function readingAt<T>(path: string | (() => string), read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw placed(e, path);
  }
}

/** The input ended before the data it promised. */
export class TruncatedError extends VMStateError {
  override readonly code = 'truncated';
  constructor(
    readonly needed: number,
    readonly available: number,
    offset: number,
    path: string,
  ) {
    super(`input truncated: need ${needed} byte(s), ${available} left`, offset, path);
  }
}

/** A subsection whose name carries the parent's prefix but that the receiver does not know (QEMU: -ENOENT). */
export class UnknownSubsectionError extends VMStateError {
  override readonly code = 'unknown-subsection';
  constructor(
    readonly subsection: string,
    readonly known: readonly string[],
    offset: number,
    path: string,
  ) {
    super(
      `unknown subsection '${subsection}' (this receiver knows: ${known.length ? known.join(', ') : 'none'})`,
      offset,
      path,
    );
  }
}

/** The stream's version is newer than the receiver's version_id. */
export class VersionTooNewError extends VMStateError {
  override readonly code = 'version-too-new';
  constructor(
    readonly vmsd: string,
    readonly version: number,
    readonly local: number,
    offset: number,
    path: string,
  ) {
    super(
      `${vmsd}: incoming version_id ${version} is too new for local version_id ${local}`,
      offset,
      path,
    );
  }
}

/** The stream's version is older than the receiver's minimum_version_id. */
export class VersionTooOldError extends VMStateError {
  override readonly code = 'version-too-old';
  constructor(
    readonly vmsd: string,
    readonly version: number,
    readonly minimum: number,
    offset: number,
    path: string,
  ) {
    super(
      `${vmsd}: incoming version_id ${version} is too old for local minimum version_id ${minimum}`,
      offset,
      path,
    );
  }
}

/** A VMSTATE_VALIDATE pseudo-field (or a post_load check) rejected the loaded state. */
export class ValidationError extends VMStateError {
  override readonly code = 'validation-failed';
  constructor(
    readonly check: string,
    reason: string,
    offset: number,
    path: string,
  ) {
    super(`input validation failed: ${check}${reason ? `: ${reason}` : ''}`, offset, path);
  }
}

/** A variable array's length (read from another field) exceeds the declared maximum. */
export class ArrayLengthError extends VMStateError {
  override readonly code = 'array-length';
  constructor(
    readonly length: number,
    readonly maximum: number,
    offset: number,
    path: string,
  ) {
    super(`length ${length} exceeds the declared maximum ${maximum}`, offset, path);
  }
}

/** An `_equal` field's received value differs from the receiver's own value. */
export class EqualMismatchError extends VMStateError {
  override readonly code = 'equal-mismatch';
  constructor(
    readonly received: unknown,
    readonly expected: unknown,
    hint: string,
    offset: number,
    path: string,
  ) {
    super(
      `received ${String(received)} but this side has ${String(expected)}${hint ? ` (${hint})` : ''}`,
      offset,
      path,
    );
  }
}

/** An `int32 le` field's received value is negative or above the receiver's own value. */
export class RangeCheckError extends VMStateError {
  override readonly code = 'range-check';
  constructor(
    readonly received: number,
    readonly limit: number,
    offset: number,
    path: string,
  ) {
    super(`received ${received}, which is not within 0..${limit}`, offset, path);
  }
}

/** A pre_load/post_load/pre_save/post_save hook refused. */
export class HookError extends VMStateError {
  override readonly code = 'hook-failed';
  constructor(
    readonly hook: string,
    reason: string,
    offset: number,
    path: string,
  ) {
    super(`${hook} failed: ${reason}`, offset, path);
  }
}

/** A value given to save does not fit its field (wrong type, out of range, wrong buffer size). */
export class InvalidValueError extends VMStateError {
  override readonly code = 'invalid-value';
  constructor(reason: string, offset: number, path: string) {
    super(reason, offset, path);
  }
}

/** The bytes are not what the format allows at this point (bad magic, unknown section type, bad flags...). */
export class MalformedError extends VMStateError {
  override readonly code = 'malformed';
  constructor(what: string, offset: number, path: string) {
    super(what, offset, path);
  }
}

/** Bytes left over after a complete body. */
export class TrailingBytesError extends VMStateError {
  override readonly code = 'trailing-bytes';
  constructor(
    readonly count: number,
    offset: number,
    path: string,
  ) {
    super(`${count} byte(s) left over after the end of the state`, offset, path);
  }
}

/** A description that cannot be right (duplicate keys, a subsection name without its parent's prefix...). */
export class DescriptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DescriptionError';
  }
}

/** The stream asks for more than a safety limit allows (a section, a JSON blob or a package larger than we hold in memory). */
export class LimitExceededError extends VMStateError {
  override readonly code = 'limit-exceeded';
  constructor(
    readonly what_: string,
    readonly size: number,
    readonly limit: number,
    offset: number,
    path: string,
    unit = 'byte(s)',
  ) {
    super(`${what_} of ${size} ${unit} exceeds the limit of ${limit}`, offset, path);
  }
}

/** Valid stream content that this tool cannot interpret (e.g. a device section with no description and no footer to find its end). */
export class UnsupportedError extends VMStateError {
  override readonly code = 'unsupported';
  constructor(what: string, offset: number, path: string) {
    super(what, offset, path);
  }
}

/**
 * A request that makes no sense as asked (a bad --set expression, an unknown release or machine
 * type, a path that cannot be opened or written): the CLI's exit 2.
 */
export class UsageError extends Error {}

/**
 * An input file (other than a stream) whose content is malformed or unsupported: the CLI's exit
 * 3, with one line naming the file (and the key or offset inside it when the message gives one).
 */
export class BadInputFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** A request that cannot be carried out for a stated reason (exit 1), e.g. a migration blocker. */
export class RefusedError extends Error {}
