/**
 * A matrix shares a release's save or load of a VM between machine types whose props agree on
 * every key that computation read (src/compat/props-reads.ts): the reads must be exactly the
 * keys read, with their values, and a computation that enumerates the props shares nothing.
 */
import { readsAgree, withPropsReads } from '../src/compat/props-reads';

describe('props reads', () => {
  const props = { 'x86_64-cpu.a': 'on', 'x86_64-cpu.b': 'off', 'x86_64-cpu.c': 'on' };

  it('records the keys read and their values, absent keys included', () => {
    const { result, reads } = withPropsReads({ props }, (ctx) => [
      ctx.props?.['x86_64-cpu.a'],
      ctx.props?.['x86_64-cpu.missing'],
    ]);
    expect(result).toEqual(['on', undefined]);
    expect(reads && [...reads]).toEqual([
      ['x86_64-cpu.a', 'on'],
      ['x86_64-cpu.missing', undefined],
    ]);
  });

  it('agrees with props that hold the same values on those keys only', () => {
    const { reads } = withPropsReads({ props }, (ctx) => ctx.props?.['x86_64-cpu.a']);
    expect(readsAgree(reads, { 'x86_64-cpu.a': 'on', 'x86_64-cpu.b': 'on' })).toBe(true);
    expect(readsAgree(reads, { 'x86_64-cpu.a': 'off' })).toBe(false);
    expect(readsAgree(reads, {})).toBe(false);
    expect(readsAgree(reads, undefined)).toBe(false);
  });

  it('a key read as absent disagrees with props that have it', () => {
    const { reads } = withPropsReads({ props }, (ctx) => ctx.props?.['x86_64-cpu.missing']);
    expect(readsAgree(reads, { ...props })).toBe(true);
    expect(readsAgree(reads, { ...props, 'x86_64-cpu.missing': 'on' })).toBe(false);
  });

  it.each([
    ['spreads', (p: object) => ({ ...p })],
    ['lists keys', (p: object) => Object.keys(p)],
    ['asks `in`', (p: object) => 'x86_64-cpu.a' in p],
    ['stringifies', (p: object) => JSON.stringify(p)],
  ])('a computation that %s the props shares with nothing', (_, use) => {
    const { result, reads } = withPropsReads({ props }, (ctx) => use(ctx.props!));
    expect(result).toEqual(use(props));
    expect(reads).toBeUndefined();
    expect(readsAgree(reads, props)).toBe(false);
  });

  it('without props there is nothing to record and nothing shared', () => {
    const { result, reads } = withPropsReads({}, (ctx) => ctx.props);
    expect(result).toBeUndefined();
    expect(reads).toBeUndefined();
  });
});
