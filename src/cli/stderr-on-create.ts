/**
 * process.stderr is made by node the first time it is read: for a pipe (as the bench and most
 * callers capture stderr) a net.Socket and the stream modules behind it (`node -e
 * process.stderr` with stderr on a pipe: 97.7M instructions against 85.4M for `node -e 0`,
 * callgrind; from the start-up snapshot, which holds those modules already, under 1% of
 * `vmstate analyze` of a 0.2 MB stream). A run that never writes to stderr should not pay for
 * it, so what must be set up on the stream waits until something reads process.stderr.
 */

/** Calls `setUp` with process.stderr when it is first read (at once when it cannot wait). */
export function onStderrCreated(setUp: (stderr: NodeJS.WriteStream) => void): void {
  const own = Object.getOwnPropertyDescriptor(process, 'stderr');
  const get = own?.get;
  if (!own || !get || !own.configurable) {
    setUp(process.stderr);
    return;
  }
  Object.defineProperty(process, 'stderr', {
    configurable: true,
    enumerable: own.enumerable,
    get() {
      // node's getter makes the stream once and keeps it: put it back, then set the stream up.
      Object.defineProperty(process, 'stderr', own);
      const stderr = get.call(process) as NodeJS.WriteStream;
      setUp(stderr);
      return stderr;
    },
  });
}
