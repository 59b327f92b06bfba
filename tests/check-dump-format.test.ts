/** -dump-vmstate format differences between releases are not breaks: 10.0 adds `num` to arrays. */
import { checkCompat } from '../src/compat/static/check';
import { fromDumpJson } from '../src/compat/static/model';

const dump = (field: Record<string, unknown>) => ({
  vmschkmachine: { Name: 'pc-q35-7.2' },
  'tpm-crb': {
    Name: 'tpm-crb',
    version_id: 0,
    minimum_version_id: 0,
    Description: {
      name: 'tpm-crb',
      version_id: 0,
      minimum_version_id: 0,
      Fields: [{ field: 'regs', version_id: 0, field_exists: false, ...field }],
    },
  },
});

const breaks = (a: unknown, b: unknown) =>
  checkCompat(fromDumpJson(a, 'old'), fromDumpJson(b, 'new'), 'full').findings.filter(
    (f) => f.rule === 'FIELD_SIZE_CHANGED',
  );

test('an array in a dump without `num` (7.2) and the same array with `num` (10.0): no size change', () => {
  expect(breaks(dump({ size: 4 }), dump({ size: 4, num: 32 }))).toEqual([]);
});

test('a different element size is still a break across the two formats, and counts compare within one', () => {
  expect(breaks(dump({ size: 4 }), dump({ size: 8, num: 32 }))).toHaveLength(2);
  expect(breaks(dump({ size: 4, num: 16 }), dump({ size: 4, num: 32 }))).toHaveLength(2);
});
