import { describe, expect, it } from 'vitest';
import { clampIndex, pagesFor, scrollToReveal, visibleWindow } from '../src/lib/virtual';

describe('visibleWindow', () => {
  it('covers the viewport plus overscan', () => {
    expect(visibleWindow(0, 740, 74, 50_000, 5)).toEqual({ start: 0, end: 16 });
    expect(visibleWindow(74 * 1000, 740, 74, 50_000, 5)).toEqual({ start: 995, end: 1016 });
  });
  it('clamps at the end of the list', () => {
    expect(visibleWindow(74 * 49_995, 740, 74, 50_000, 5)).toEqual({ start: 49_990, end: 50_000 });
  });
  it('is empty for an empty list', () =>
    expect(visibleWindow(0, 500, 74, 0)).toEqual({ start: 0, end: 0 }));
  it('copes with a scrollTop past the end (list shrank)', () => {
    const w = visibleWindow(74 * 1000, 740, 74, 10, 5);
    expect(w.start).toBeLessThan(10);
    expect(w.end).toBe(10);
  });
});

describe('pagesFor', () => {
  it('lists the pages a window touches', () => {
    expect(pagesFor({ start: 95, end: 205 }, 100)).toEqual([0, 1, 2]);
    expect(pagesFor({ start: 100, end: 200 }, 100)).toEqual([1]);
    expect(pagesFor({ start: 0, end: 0 }, 100)).toEqual([]);
  });
});

describe('scrollToReveal', () => {
  it('scrolls up or down just enough, or not at all', () => {
    expect(scrollToReveal(5, 0, 740, 74)).toBeNull();
    expect(scrollToReveal(10, 0, 740, 74)).toBe(74);
    expect(scrollToReveal(2, 740, 740, 74)).toBe(148);
  });
});

describe('clampIndex', () => {
  it('keeps the index in range', () => {
    expect(clampIndex(-3, 10)).toBe(0);
    expect(clampIndex(12, 10)).toBe(9);
    expect(clampIndex(0, 0)).toBe(-1);
  });
});
