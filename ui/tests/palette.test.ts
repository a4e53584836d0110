import { describe, expect, it } from 'vitest';
import { filterEntries, paletteEntries } from '../src/lib/palette';
import { decide, SHORTCUTS } from '../src/lib/keymap';
import { VIEWS, type View } from '../src/lib/types';

const labels = Object.fromEntries(VIEWS.map((v) => [v, v])) as Record<View, string>;

describe('the command palette', () => {
  it('lists every action with its shortcut, and every view', () => {
    const entries = paletteEntries(labels);
    const byAction = new Map(entries.map((e) => [e.action, e]));
    expect(byAction.get('assign')?.keys).toBe('Shift+A');
    expect(byAction.get('tag')?.keys).toBe('t');
    expect(byAction.get('go:mine')?.keys).toBe('g m');
    for (const v of VIEWS) expect(byAction.has(`go:${v}`)).toBe(true);
    // Every shortcut the help lists that names an action is in the palette.
    const keys = new Set(entries.map((e) => e.keys).filter(Boolean));
    for (const k of ['r', 'n', 'a', 'e', 's', 'o', 'c', '/', 'g r', 'g t', '?']) {
      expect(keys.has(k)).toBe(true);
      expect(SHORTCUTS.some(([s]) => s.split(' / ').includes(k) || s === k)).toBe(true);
    }
  });
  it('finds entries by any words, those starting with the first word first', () => {
    const entries = paletteEntries(labels);
    const tags = filterEntries(entries, 'tag');
    expect(tags[0].label).toBe('Add or remove a tag…');
    expect(tags.map((e) => e.action)).toContain('filter-tag');
    expect(filterEntries(entries, 'go over').map((e) => e.action)).toEqual(['go:overdue']);
    expect(filterEntries(entries, 'zzz')).toEqual([]);
    expect(filterEntries(entries, '  ')).toHaveLength(entries.length);
  });
  it('opens with Ctrl+K or Cmd+K, even in a text field', () => {
    const k = { key: 'k', ctrlKey: true, inTextField: true };
    expect(decide(k, false).action).toBe('palette');
    expect(decide({ key: 'K', metaKey: true, inTextField: false }, false).action).toBe('palette');
    expect(decide({ key: 'A', inTextField: false }, false).action).toBe('assign');
    expect(decide({ key: 'p', inTextField: false }, false).action).toBe('priority');
    expect(decide({ key: 't', inTextField: true }, false).action).toBeNull();
  });
});
