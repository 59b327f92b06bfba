/**
 * The qemu format's string and hex writers, which build one string instead of one per character
 * (a hostile stream's buffer of MBs cost 146 MiB the old way), against plain references.
 */
import * as fc from 'fast-check';
import { pyString } from '../src/analyze/python-json';
import { hexBytes } from '../src/analyze/qemu-format';

/** Python's json.dumps(s, ensure_ascii=True): JSON.stringify, and everything past '~' as \uXXXX. */
const pythonDumps = (s: string) =>
  JSON.stringify(s).replace(
    /[\x7f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

test('pyString escapes as Python json.dumps with ensure_ascii', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary', maxLength: 64 }),
      (s) => pyString(s) === pythonDumps(s),
    ),
    { numRuns: 2000 },
  );
  fc.assert(fc.property(fc.string({ maxLength: 64 }), (s) => pyString(s) === pythonDumps(s)));
  expect(pyString('a"b\\c\n\u0001\u007f\u00e9\ud800')).toBe(
    '"a\\"b\\\\c\\n\\u0001\\u007f\\u00e9\\ud800"',
  );
});

test('hexBytes is each byte in two lowercase digits, one space between', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      (b) => hexBytes(b) === Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' '),
    ),
  );
  expect(hexBytes(new Uint8Array([0, 0x1f, 0xff]))).toBe('00 1f ff');
});
