/**
 * The CLI's V8 tuning for short runs (src/cli/short-run-v8.ts): the interrupt budget is raised
 * before a command runs, unless the user gave node one.
 */
import { SHORT_RUN_INTERRUPT_BUDGET, shortRunV8Flags } from '../src/cli/short-run-v8';

describe('shortRunV8Flags', () => {
  test('eight times V8 11 default interrupt budget', () => {
    expect(SHORT_RUN_INTERRUPT_BUDGET).toBe(8 * 67584);
    expect(shortRunV8Flags([], '')).toEqual(['--interrupt-budget=540672']);
    expect(shortRunV8Flags(['--v8-pool-size=1', '--snapshot-blob', 'x'], '')).toEqual([
      '--interrupt-budget=540672',
    ]);
  });

  test('none when the user gave a budget, on the command line or in NODE_OPTIONS', () => {
    expect(shortRunV8Flags(['--interrupt-budget=1000'], '')).toEqual([]);
    expect(shortRunV8Flags([], '--no-warnings --interrupt_budget=1000')).toEqual([]);
  });
});
