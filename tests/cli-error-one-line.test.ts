/**
 * A malformed stream's error is one line on stderr even when the stream's own text (a section's
 * idstr that a mutated length byte stretched over binary bytes) holds newlines: the fuzz
 * campaign's CLI sample found two such inputs (tests/fuzz/reproducers/cli-9b870cef26b0,
 * cli-a9914018c483).
 */
import * as fc from 'fast-check';
import * as path from 'path';
import { printable } from '../src/cli/exit';
import { runCli } from './fixtures/run-cli';

const REPRO = path.join(__dirname, 'fuzz', 'reproducers');

test.each(['cli-9b870cef26b0', 'cli-a9914018c483'])(
  '%s: exit 3 and one line on stderr, in every format',
  async (name) => {
    for (const format of ['json', 'tree', 'qemu']) {
      const r = await runCli(['analyze', path.join(REPRO, `${name}.mig`), '--format', format]);
      expect(r.code).toBe(3);
      expect(r.stderr.endsWith('\n')).toBe(true);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/offset 0x[0-9a-f]+, .*\\x0a/);
    }
  },
);

test('printable: no control character is left, and printable text is unchanged', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const p = printable(s);
      expect(p).not.toMatch(/[\x00-\x1f\x7f-\x9f]/); // eslint-disable-line no-control-regex
      if (!/[\x00-\x1f\x7f-\x9f]/.test(s)) expect(p).toBe(s); // eslint-disable-line no-control-regex
    }),
  );
});
