import { describe, expect, it } from 'vitest';
import { apply, diff, rebase, transformPosition } from '../src/lib/textdiff';

describe('diff', () => {
  it('is null for equal texts', () => expect(diff('abc', 'abc')).toBeNull());
  it('finds an insertion', () =>
    expect(diff('hello world', 'hello big world')).toEqual({
      index: 6,
      deleteCount: 0,
      insert: 'big ',
    }));
  it('finds a deletion', () =>
    expect(diff('hello big world', 'hello world')).toEqual({
      index: 6,
      deleteCount: 4,
      insert: '',
    }));
  it('finds a replacement', () =>
    expect(diff('cat', 'cut')).toEqual({ index: 1, deleteCount: 1, insert: 'u' }));
  it('counts UTF-16 units and never splits a surrogate pair', () => {
    // 😀 and 😃 share their high surrogate: a naive prefix scan would cut between the halves.
    const s = diff('a😀b', 'a😃b');
    expect(s).toEqual({ index: 1, deleteCount: 2, insert: '😃' });
  });
  it('round-trips through apply', () => {
    const pairs: [string, string][] = [
      ['', 'x'],
      ['abc', ''],
      ['aaaa', 'aa'],
      ['abcabc', 'abXabc'],
      ['é😀ü', 'é😀😀ü'],
    ];
    for (const [a, b] of pairs) {
      const s = diff(a, b);
      expect(s && apply(a, s)).toBe(b);
    }
  });
});

describe('transformPosition', () => {
  const ins = { index: 2, deleteCount: 0, insert: 'XY' };
  it('keeps positions before the edit', () => expect(transformPosition(1, ins)).toBe(1));
  it('shifts positions after the edit', () => expect(transformPosition(5, ins)).toBe(7));
  it('moves a caret at an insertion point after it unless sticking left', () => {
    expect(transformPosition(2, ins)).toBe(4);
    expect(transformPosition(2, ins, true)).toBe(2);
  });
  it('puts positions inside a deleted span at its end', () =>
    expect(transformPosition(3, { index: 1, deleteCount: 4, insert: 'z' })).toBe(2));
});

describe('rebase (remote edit merged into the editor)', () => {
  it('keeps the caret on the same text when a remote edit lands before it', () => {
    const r = rebase(
      'hello world',
      { text: 'hello world', selectionStart: 8, selectionEnd: 8 },
      'oh, hello world',
    );
    expect(r.text).toBe('oh, hello world');
    expect(r.text.slice(r.selectionStart)).toBe('rld');
  });
  it('leaves the caret when the remote edit is after it', () => {
    const r = rebase('abc', { text: 'abc', selectionStart: 1, selectionEnd: 1 }, 'abc!');
    expect(r).toEqual({ text: 'abc!', selectionStart: 1, selectionEnd: 1 });
  });
  it('keeps unsent local typing and the remote edit, both', () => {
    // Base "Call on Monday". Locally typed " please" at the end; remotely "Call" became "Phone".
    const local = { text: 'Call on Monday please', selectionStart: 21, selectionEnd: 21 };
    const r = rebase('Call on Monday', local, 'Phone on Monday');
    expect(r.text).toBe('Phone on Monday please');
    expect(r.selectionStart).toBe(r.text.length);
  });
  it('shifts a remote edit that comes after the local one', () => {
    const local = { text: 'XYabc', selectionStart: 2, selectionEnd: 2 };
    const r = rebase('abc', local, 'abcZ');
    expect(r.text).toBe('XYabcZ');
    expect(r.selectionStart).toBe(2);
  });
  it('loses neither side when edits overlap', () => {
    const local = { text: 'one TWO three', selectionStart: 7, selectionEnd: 7 };
    const r = rebase('one two three', local, 'one 2 three');
    expect(r.text).toContain('TWO');
    expect(r.text).toContain('2');
    expect(r.text.startsWith('one ')).toBe(true);
    expect(r.text.endsWith(' three')).toBe(true);
  });
  it('changes nothing when the remote text is the base', () => {
    const local = { text: 'abcd', selectionStart: 3, selectionEnd: 4 };
    expect(rebase('abc', local, 'abc')).toEqual(local);
  });
});
