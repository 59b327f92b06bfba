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

/** A dump of one device class whose description has these fields (and subsections). */
const device = (
  fields: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
  version = 1,
): Record<string, unknown> => ({
  vmschkmachine: { Name: 'pc-q35-7.2' },
  dev: {
    Name: 'dev',
    version_id: version,
    minimum_version_id: 1,
    Description: {
      name: 'dev',
      version_id: version,
      minimum_version_id: 1,
      Fields: fields.map((f) => ({ version_id: 0, field_exists: false, ...f })),
      ...extra,
    },
  },
});
const findings = (a: unknown, b: unknown) =>
  checkCompat(fromDumpJson(a, 'old'), fromDumpJson(b, 'new'), 'full').findings.map(
    (f) => `${f.direction}:${f.severity}:${f.rule}`,
  );

test('a num-less array takes its count from the same field of the other dump, so an unused placeholder after it lines up', () => {
  // 7.2: pending[5] (bool, no num printed), guest; 10.0: unused 5 bytes, guest, plus a num somewhere.
  const old = device([
    { field: 'pending', size: 1 },
    { field: 'guest', size: 4 },
    { field: 'regs', size: 4 },
  ]);
  const neu = device([
    { field: 'unused', size: 5 },
    { field: 'guest', size: 4 },
    { field: 'regs', size: 4, num: 8 },
  ]);
  expect(findings(old, neu)).toEqual([
    'forward:info:FIELD_REPLACED_BY_UNUSED',
    'backward:info:FIELD_REPLACED_BY_UNUSED',
  ]);
  // The placeholder on the source side (newer release writes unused bytes where the older reads fields).
  const five = device([
    { field: 'irq', size: 4 },
    { field: 'dma', size: 4 },
    { field: 'fifo', size: 4 },
  ]);
  const placeholder = device([
    { field: 'unused', size: 8 },
    { field: 'fifo', size: 4 },
  ]);
  expect(findings(five, placeholder)).toEqual([
    'forward:info:FIELD_REPLACED_BY_UNUSED',
    'backward:info:FIELD_REPLACED_BY_UNUSED',
  ]);
  const wrong = device([
    { field: 'unused', size: 6 },
    { field: 'fifo', size: 4 },
  ]);
  expect(findings(five, wrong).filter((f) => f.includes(':break:')).length).toBeGreaterThan(0);
});

test('a device class only one dump has is a warning, not a break: no VM with it starts on the other side', () => {
  const other = JSON.parse(
    JSON.stringify(device([{ field: 'a', size: 4 }])).replace(/"dev"/g, '"more"'),
  ) as unknown;
  expect(findings(device([{ field: 'a', size: 4 }]), other)).toEqual([
    'forward:warning:DEVICE_CLASS_MISSING',
    'backward:warning:DEVICE_CLASS_MISSING',
  ]);
});

test('a subsection of a dump breaks only while its needed() holds, which a dump does not say: warnings', () => {
  const sub = (version: number) => ({
    Subsections: [
      { name: 'dev/extra', version_id: version, minimum_version_id: version, Fields: [] },
    ],
  });
  const plain = device([{ field: 'a', size: 4 }]);
  expect(findings(plain, device([{ field: 'a', size: 4 }], sub(1)))).toEqual([
    'backward:warning:SUBSECTION_UNKNOWN_TO_DESTINATION_IF_NEEDED',
  ]);
  expect(
    findings(device([{ field: 'a', size: 4 }], sub(1)), device([{ field: 'a', size: 4 }], sub(2))),
  ).toEqual([
    'forward:warning:SUBSECTION_DIFFERS_IF_NEEDED',
    'backward:warning:SUBSECTION_DIFFERS_IF_NEEDED',
  ]);
});

test("a struct's version is not on the wire; a field it adds without a version gate still breaks the older stream", () => {
  const withStruct = (version: number, fields: Record<string, unknown>[]) =>
    device([
      {
        field: 'esp',
        size: 8,
        Description: {
          name: 'esp',
          version_id: version,
          minimum_version_id: 3,
          Fields: fields.map((f) => ({ version_id: 0, ...f })),
        },
      },
    ]);
  const v6 = withStruct(6, [
    { field: 'cmd', size: 1, field_exists: true },
    { field: 'lun', size: 1, field_exists: true },
  ]);
  const v7 = withStruct(7, [
    { field: 'cmd', size: 1, field_exists: true },
    { field: 'lun', size: 1, field_exists: true },
    { field: 'drq_state', size: 1, field_exists: false },
  ]);
  // Real QEMU: 7.2 -> 10.0 with am53c974 is refused (Missing section footer), 10.0 -> 7.2 loads.
  expect(findings(v6, v7)).toEqual([
    'forward:break:FIELD_APPENDED_WITHOUT_VERSION_BUMP',
    'backward:warning:FIELD_TEST_CHANGED',
  ]);
});
