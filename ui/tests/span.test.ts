import { describe, expect, it } from 'vitest';
import { formatSpan, isClock, parseSpan } from '../src/lib/span';

describe('spans of business time', () => {
  it('format and parse round trip', () => {
    for (const m of [1, 45, 60, 90, 240, 960, 1441]) expect(parseSpan(formatSpan(m))).toBe(m);
    expect(formatSpan(90)).toBe('1h30m');
    expect(formatSpan(120)).toBe('2h');
  });
  it('take plain minutes and refuse nonsense', () => {
    expect(parseSpan(' 1h 30m ')).toBe(90);
    expect(parseSpan('75')).toBe(75);
    expect(parseSpan('15min')).toBe(15);
    for (const bad of ['', 'soon', '0', '0h', 'h', '2x', '-5']) expect(parseSpan(bad)).toBeNull();
  });
  it('know a time of day', () => {
    expect(isClock('09:00')).toBe(true);
    expect(isClock('24:00')).toBe(true);
    expect(isClock('24:30')).toBe(false);
    expect(isClock('9')).toBe(false);
    expect(isClock('12:60')).toBe(false);
  });
});
