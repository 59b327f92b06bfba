import { runDemo } from '../src/demo';

it('the demo saves, shows and loads back a state with a nested subsection', () => {
  const out = runDemo();
  expect(out).toContain('fdrive/media_rate');
  // The loaded state equals what was saved, including the second drive's subsection field.
  expect(out).toContain('"media_rate":2');
  expect(out).toMatch(/saved \d+ bytes/);
});
