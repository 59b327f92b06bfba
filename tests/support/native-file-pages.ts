/**
 * `describe` for tests of the native file-pages module (src/stream/native/file-pages.c), built by
 * `npm install` wherever there is a C compiler (CI has one): skipped without it, unless
 * VMSTATE_REQUIRE_QEMU says the run must have everything.
 */
import { FilePages } from '../../src/stream/file-pages';

export const describeWithFilePages =
  FilePages.of(0, 0) !== undefined || process.env.VMSTATE_REQUIRE_QEMU !== undefined
    ? describe
    : describe.skip;
