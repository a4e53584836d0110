// The keyboard map: a pure function from a key press (and the "g" prefix state) to an action.
import type { View } from './types';

export type Action =
  | 'next'
  | 'prev'
  | 'open'
  | 'escape'
  | 'reply'
  | 'note'
  | 'take'
  | 'close'
  | 'snooze'
  | 'reopen'
  | 'search'
  | 'customer'
  | 'view-open'
  | 'view-mine'
  | 'view-unassigned'
  | 'reports'
  | 'team-settings'
  | 'help'
  | 'send'
  | 'palette'
  | 'assign'
  | 'unassign'
  | 'tag'
  | 'priority'
  | 'pending'
  | 'settings'
  | 'filter-tag'
  | 'clear-filter'
  | 'new-customer'
  | 'edit-customer'
  | 'log-call'
  | 'write'
  | 'move'
  | `go:${View}`;

/** What the handler needs to know about a key press. */
export interface KeyPress {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  /** Focus is in an input, textarea, select or contenteditable. */
  inTextField: boolean;
}

/** The decision: an action (or none) and whether a "g" is now pending. */
export interface KeyResult {
  action: Action | null;
  pendingG: boolean;
}

const SINGLE: Record<string, Action> = {
  j: 'next',
  ArrowDown: 'next',
  k: 'prev',
  ArrowUp: 'prev',
  Enter: 'open',
  r: 'reply',
  n: 'note',
  a: 'take',
  e: 'close',
  s: 'snooze',
  o: 'reopen',
  '/': 'search',
  c: 'customer',
  A: 'assign',
  t: 'tag',
  p: 'priority',
  '?': 'help',
};

const AFTER_G: Record<string, Action> = {
  i: 'view-open',
  m: 'view-mine',
  u: 'view-unassigned',
  r: 'reports',
  t: 'team-settings',
};

/**
 * Decides what a key press does. In text fields only Escape, Ctrl/Cmd+Enter and Ctrl/Cmd+K act; "g" starts
 * a two-key view switch (g i / g m / g u).
 */
export function decide(k: KeyPress, pendingG: boolean): KeyResult {
  if (k.key === 'Escape') return { action: 'escape', pendingG: false };
  if (k.key === 'Enter' && (k.ctrlKey || k.metaKey)) return { action: 'send', pendingG: false };
  // The palette opens from anywhere, text fields included.
  if (k.key.toLowerCase() === 'k' && (k.ctrlKey || k.metaKey) && !k.altKey) {
    return { action: 'palette', pendingG: false };
  }
  if (k.inTextField) return { action: null, pendingG: false };
  if (k.ctrlKey || k.metaKey || k.altKey) return { action: null, pendingG: false };
  if (pendingG) return { action: AFTER_G[k.key] ?? null, pendingG: false };
  if (k.key === 'g') return { action: null, pendingG: true };
  return { action: SINGLE[k.key] ?? null, pendingG: false };
}

/** Whether an element takes typing (so single-letter shortcuts must not fire). */
export function isTextField(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(type);
  }
  return (el as HTMLElement).isContentEditable === true;
}

/** Every shortcut, for the `?` overlay. */
export const SHORTCUTS: ReadonlyArray<[string, string]> = [
  ['j / k', 'Next / previous conversation'],
  ['Enter', 'Open the selected conversation'],
  ['Esc', 'Close overlay or composer, back to the list'],
  ['r', 'Reply'],
  ['n', 'Internal note'],
  ['Ctrl+Enter', 'Send'],
  ['a', 'Take it (assign to me)'],
  ['Shift+A', 'Assign to…'],
  ['t', 'Add or remove a tag…'],
  ['p', 'Set priority…'],
  ['e', 'Close the conversation'],
  ['s', 'Snooze…'],
  ['o', 'Reopen'],
  ['/', 'Search'],
  ['c', 'Customer panel'],
  ['g i', 'Go to all open'],
  ['g m', 'Go to mine'],
  ['g u', 'Go to unassigned'],
  ['g r', 'Reports'],
  ['g t', 'Team settings: hours, targets, tiers, my working hours'],
  ['Ctrl+K', 'Every action (command palette)'],
  ['?', 'This help'],
];
