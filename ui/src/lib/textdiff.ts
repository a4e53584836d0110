// Text diffs as splices, in UTF-16 code units (what JavaScript string indexes and the
// textarea's selectionStart count), plus the caret transforms a collaborative editor needs.

/** One edit: delete `deleteCount` units at `index`, then insert `insert` there. */
export interface Splice {
  index: number;
  deleteCount: number;
  insert: string;
}

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/**
 * The single splice that turns `before` into `after` (common prefix and suffix kept), or null
 * when they are equal. Never splits a surrogate pair, so the inserted text is valid UTF-16.
 */
export function diff(before: string, after: string): Splice | null {
  if (before === after) return null;
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  // Do not cut between a high and a low surrogate.
  if (start > 0 && isHighSurrogate(before.charCodeAt(start - 1))) start--;
  let endB = before.length;
  let endA = after.length;
  while (
    endB > start &&
    endA > start &&
    before.charCodeAt(endB - 1) === after.charCodeAt(endA - 1)
  ) {
    endB--;
    endA--;
  }
  if (endB < before.length && isLowSurrogate(before.charCodeAt(endB))) {
    endB++;
    endA++;
  }
  return { index: start, deleteCount: endB - start, insert: after.slice(start, endA) };
}

/** Applies a splice to a text. */
export function apply(text: string, s: Splice): string {
  return text.slice(0, s.index) + s.insert + text.slice(s.index + s.deleteCount);
}

/**
 * Where a position in a text moves when another edit is applied before it: positions after
 * the edited span shift by the length change; positions inside it go to its end (or stay at
 * its start when `stickLeft`, used for the start of a selection).
 */
export function transformPosition(pos: number, s: Splice, stickLeft = false): number {
  const end = s.index + s.deleteCount;
  if (pos < s.index) return pos;
  if (pos === s.index && s.deleteCount === 0) return stickLeft ? pos : pos + s.insert.length;
  if (pos >= end) return pos - s.deleteCount + s.insert.length;
  return stickLeft ? s.index : s.index + s.insert.length;
}

/** A text with the caret (selection) the person had in it. */
export interface Edited {
  text: string;
  selectionStart: number;
  selectionEnd: number;
}

/**
 * Merges a remote change into the local editor. `base` is the text both sides last agreed on,
 * `local` the editor (with unsent local edits and the caret), `remote` the text that arrived.
 * The remote edit is moved past the local one and applied to the editor; the caret follows.
 * Returns the new editor state; the local edit stays unsent (diff it against `remote` to send).
 */
export function rebase(base: string, local: Edited, remote: string): Edited {
  const r = diff(base, remote);
  if (!r) return { ...local };
  const l = diff(base, local.text);
  let rr: Splice = r;
  if (l) {
    const lEnd = l.index + l.deleteCount;
    const rEnd = r.index + r.deleteCount;
    if (rEnd <= l.index) {
      // Remote edit entirely before the local one: positions in `local` are unchanged there.
      rr = r;
    } else if (r.index >= lEnd) {
      // Entirely after: shift by the local edit's length change.
      rr = { ...r, index: r.index - l.deleteCount + l.insert.length };
    } else {
      // Overlapping: keep the local text, and delete only what the remote removed outside it.
      const delBefore = Math.max(0, l.index - r.index);
      const delAfter = Math.max(0, rEnd - lEnd);
      let text = local.text;
      let selStart = local.selectionStart;
      let selEnd = local.selectionEnd;
      const localEnd = l.index + l.insert.length;
      // Insert the remote text and delete its part after the local edit...
      const after: Splice = { index: localEnd, deleteCount: delAfter, insert: '' };
      text = apply(text, after);
      selStart = transformPosition(selStart, after, true);
      selEnd = transformPosition(selEnd, after);
      // ...then its part before, putting the remote insertion where the remote edit began.
      const before: Splice = {
        index: Math.min(r.index, l.index),
        deleteCount: delBefore,
        insert: r.insert,
      };
      text = apply(text, before);
      selStart = transformPosition(selStart, before, true);
      selEnd = transformPosition(selEnd, before);
      return { text, selectionStart: selStart, selectionEnd: Math.max(selStart, selEnd) };
    }
  }
  const text = apply(local.text, rr);
  const selectionStart = transformPosition(local.selectionStart, rr, true);
  const selectionEnd = Math.max(selectionStart, transformPosition(local.selectionEnd, rr));
  return { text, selectionStart, selectionEnd };
}
