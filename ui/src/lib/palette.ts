// The command palette's entries: every action of the window with its shortcut, and the filter
// that finds them as one types.
import type { Action } from './keymap';
import { VIEWS, type View } from './types';

export interface PaletteEntry {
  action: Action;
  label: string;
  /** The shortcut, as the help shows it; null when there is none. */
  keys: string | null;
  /** Acts on the open or selected conversation. */
  onConversation: boolean;
}

const CONVERSATION: [Action, string, string | null][] = [
  ['reply', 'Reply', 'r'],
  ['note', 'Internal note', 'n'],
  ['take', 'Take it (assign to me)', 'a'],
  ['assign', 'Assign to…', 'Shift+A'],
  ['unassign', 'Unassign', null],
  ['tag', 'Add or remove a tag…', 't'],
  ['priority', 'Set priority…', 'p'],
  ['pending', 'Waiting for the customer (pending)', null],
  ['close', 'Close…', 'e'],
  ['snooze', 'Snooze…', 's'],
  ['reopen', 'Reopen', 'o'],
  ['customer', 'Customer panel', 'c'],
  ['edit-customer', "Edit the customer's details…", null],
  ['move', 'Move to another customer…', null],
];

const GO_KEYS: Partial<Record<View, string>> = { open: 'g i', mine: 'g m', unassigned: 'g u' };

/** Every entry, conversation actions first, then places and the app's own. */
export function paletteEntries(viewLabel: Record<View, string>): PaletteEntry[] {
  const entries: PaletteEntry[] = CONVERSATION.map(([action, label, keys]) => ({
    action,
    label,
    keys,
    onConversation: true,
  }));
  for (const v of VIEWS) {
    entries.push({
      action: `go:${v}`,
      label: `Go to ${viewLabel[v]}`,
      keys: GO_KEYS[v] ?? null,
      onConversation: false,
    });
  }
  const app: [Action, string, string | null][] = [
    ['write', 'Write to a customer (new e-mail)…', null],
    ['log-call', 'Log a phone call…', null],
    ['new-customer', 'New customer…', null],
    ['filter-tag', 'Filter the list by tag…', null],
    ['clear-filter', 'Clear the tag filter', null],
    ['search', 'Search', '/'],
    ['reports', 'Reports', 'g r'],
    ['team-settings', 'Team settings', 'g t'],
    ['settings', 'Settings', null],
    ['help', 'Keyboard shortcuts', '?'],
  ];
  for (const [action, label, keys] of app) {
    entries.push({ action, label, keys, onConversation: false });
  }
  return entries;
}

/**
 * The entries whose label holds every word of `query` (any order, ignoring case); those whose
 * label starts with the first word come first. An empty query keeps them all.
 */
export function filterEntries<T extends { label: string }>(entries: T[], query: string): T[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return entries;
  const hits = entries.filter((e) => {
    const l = e.label.toLowerCase();
    return words.every((w) => l.includes(w));
  });
  const starts = (e: T) => e.label.toLowerCase().startsWith(words[0]);
  return [...hits.filter(starts), ...hits.filter((e) => !starts(e))];
}
