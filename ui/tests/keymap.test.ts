import { describe, expect, it } from 'vitest';
import { decide, isTextField } from '../src/lib/keymap';

const key = (k: string, extra: Partial<Parameters<typeof decide>[0]> = {}) => ({
  key: k,
  inTextField: false,
  ...extra,
});

describe('decide', () => {
  it('maps single keys', () => {
    expect(decide(key('j'), false).action).toBe('next');
    expect(decide(key('k'), false).action).toBe('prev');
    expect(decide(key('Enter'), false).action).toBe('open');
    expect(decide(key('r'), false).action).toBe('reply');
    expect(decide(key('n'), false).action).toBe('note');
    expect(decide(key('a'), false).action).toBe('take');
    expect(decide(key('e'), false).action).toBe('close');
    expect(decide(key('s'), false).action).toBe('snooze');
    expect(decide(key('o'), false).action).toBe('reopen');
    expect(decide(key('/'), false).action).toBe('search');
    expect(decide(key('c'), false).action).toBe('customer');
    expect(decide(key('?'), false).action).toBe('help');
    expect(decide(key('x'), false).action).toBeNull();
  });
  it('handles the g prefix', () => {
    const g = decide(key('g'), false);
    expect(g).toEqual({ action: null, pendingG: true });
    expect(decide(key('i'), true).action).toBe('view-open');
    expect(decide(key('m'), true).action).toBe('view-mine');
    expect(decide(key('u'), true).action).toBe('view-unassigned');
    expect(decide(key('r'), true).action).toBe('reports');
    expect(decide(key('t'), true).action).toBe('team-settings');
    expect(decide(key('j'), true)).toEqual({ action: null, pendingG: false });
  });
  it('ignores letters in text fields but not Escape and Ctrl+Enter', () => {
    expect(decide(key('j', { inTextField: true }), false).action).toBeNull();
    expect(decide(key('Escape', { inTextField: true }), false).action).toBe('escape');
    expect(decide(key('Enter', { inTextField: true, ctrlKey: true }), false).action).toBe('send');
    expect(decide(key('Enter', { inTextField: true }), false).action).toBeNull();
  });
  it('leaves browser shortcuts alone', () =>
    expect(decide(key('r', { ctrlKey: true }), false).action).toBeNull());
});

describe('isTextField', () => {
  it('knows inputs that take typing', () => {
    const text = document.createElement('input');
    const box = document.createElement('input');
    box.type = 'checkbox';
    expect(isTextField(text)).toBe(true);
    expect(isTextField(box)).toBe(false);
    expect(isTextField(document.createElement('textarea'))).toBe(true);
    expect(isTextField(document.createElement('button'))).toBe(false);
    expect(isTextField(null)).toBe(false);
  });
});
