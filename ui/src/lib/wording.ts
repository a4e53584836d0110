// How things are said on screen: presence, conflicts, relative times, "reply due", sync status.
import type { FieldConflict, PresenceView, SyncStatusView } from './types';

/** "Ana", "Ana and Ben", "Ana, Ben and Cy". */
export function joinNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * Presence in one conversation, without me: "Ben is replying · Cy is writing a note · Ana is
 * viewing". Replying comes first because it is what risks a double answer. Empty string when
 * nobody else is there.
 */
export function presenceText(all: PresenceView[], conversationId: string, me?: string | null) {
  const here = all.filter((p) => p.conversation_id === conversationId && p.agent_id !== me);
  const seen = new Set<string>();
  const groups: [PresenceView['state'], string, string][] = [
    ['composing', 'is replying', 'are replying'],
    ['composing-note', 'is writing a note', 'are writing notes'],
    ['viewing', 'is viewing', 'are viewing'],
  ];
  const parts: string[] = [];
  for (const [state, one, many] of groups) {
    const names: string[] = [];
    for (const p of here.filter((p) => p.state === state)) {
      if (!seen.has(p.agent_id)) names.push(p.agent_name || p.agent_id);
      seen.add(p.agent_id);
    }
    if (names.length) parts.push(`${joinNames(names)} ${names.length > 1 ? many : one}`);
  }
  return parts.join(' · ');
}

const FIELD_VERB: Record<string, string> = {
  assignee: 'took this',
  status: 'changed the status',
  priority: 'changed the priority',
};

/**
 * A concurrent-change conflict as a sentence: "Ana and Ben both took this while offline; Ana has
 * it". `current` is the value Automerge kept; `name` turns agent ids into names.
 */
export function conflictText(
  c: FieldConflict,
  current: string | null,
  name: (agentId: string) => string,
): string {
  const vals = c.values.filter((v) => v !== '');
  if (c.field === 'assignee') {
    const who = joinNames(vals.map(name));
    const both = vals.length === 2 ? 'both ' : vals.length > 2 ? 'all ' : '';
    const keeper = current ? `${name(current)} has it` : 'nobody has it';
    return `${who} ${both}took this while offline; ${keeper}`;
  }
  const verb = FIELD_VERB[c.field] ?? `changed ${c.field}`;
  const shown = c.values.map((v) => v || 'none').join(' / ');
  return `The ${c.field} was set to ${shown} at the same time (${verb}); it is now ${current || 'none'}`;
}

/** One way out of a conflict: keep what Automerge kept, or change to another value. */
export interface ConflictChoice {
  value: string;
  label: string;
  keep: boolean;
}

/**
 * The conflict banner's buttons: "Keep Ana" first, then "Give it to Ben" (assignee) or "Change
 * to closed" (status, priority). Settling writes the value over every concurrent one.
 */
export function conflictChoices(
  c: FieldConflict,
  current: string | null,
  name: (agentId: string) => string,
): ConflictChoice[] {
  const show = (v: string) => (c.field === 'assignee' ? (v ? name(v) : 'nobody') : v || 'none');
  const cur = current ?? '';
  const keep: ConflictChoice = { value: cur, label: `Keep ${show(cur)}`, keep: true };
  const others = [...new Set(c.values)]
    .filter((v) => v !== cur)
    .map((v) => ({
      value: v,
      label: c.field === 'assignee' ? `Give it to ${show(v)}` : `Change to ${show(v)}`,
      keep: false,
    }));
  return [keep, ...others];
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** A short age for the list: "now", "5 min", "3 h", "Mon", "12 Mar", "12 Mar 2025". */
export function relativeTime(ts: number, now: number): string {
  const d = now - ts;
  if (d < MIN) return 'now';
  if (d < HOUR) return `${Math.floor(d / MIN)} min`;
  if (d < DAY) return `${Math.floor(d / HOUR)} h`;
  const date = new Date(ts);
  const months = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');
  if (d < 6 * DAY) return 'Sun Mon Tue Wed Thu Fri Sat'.split(' ')[date.getDay()];
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return `${date.getDate()} ${months[date.getMonth()]}${sameYear ? '' : ` ${date.getFullYear()}`}`;
}

function span(ms: number): string {
  // Whole minutes first, so 59 min 50 s reads "1 h", not "60 min".
  const mins = Math.max(1, Math.round(ms / MIN));
  if (mins < 60) return `${mins} min`;
  if (mins < 24 * 60) {
    const h = Math.floor(mins / 60);
    const m = mins % 60;
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  return `${Math.round(ms / DAY)} d`;
}

/** A report duration: "45m", "3h20m", "2d4h" (as `shoal report` prints it). */
export function duration(ms: number): string {
  const minutes = Math.round(ms / MIN);
  const d = Math.floor(minutes / (24 * 60));
  const h = Math.floor(minutes / 60) % 24;
  const m = minutes % 60;
  if (d === 0 && h === 0) return `${m}m`;
  if (d === 0) return m ? `${h}h${m}m` : `${h}h`;
  return h ? `${d}d${h}h` : `${d}d`;
}

/** The SLA clock: "Reply due in 1 h 30 min" / "Reply overdue by 15 min"; tone for colour. */
export function replyDue(due: number, now: number): { text: string; tone: 'ok' | 'soon' | 'late' } {
  const d = due - now;
  if (d < 0) return { text: `Reply overdue by ${span(-d)}`, tone: 'late' };
  return { text: `Reply due in ${span(d)}`, tone: d < HOUR ? 'soon' : 'ok' };
}

/** The clock as a list row shows it: "due in 2 h", "1 h late"; tone as in `replyDue`. */
export function dueShort(due: number, now: number): { text: string; tone: 'ok' | 'soon' | 'late' } {
  const d = due - now;
  if (d < 0) return { text: `${span(-d)} late`, tone: 'late' };
  return { text: `due in ${span(d)}`, tone: d < HOUR ? 'soon' : 'ok' };
}

/** Where the relay token is kept, in words. */
export function tokenStoreText(store: string): string {
  switch (store) {
    case 'secret-service':
      return 'System keyring (Secret Service)';
    case 'keyutils':
      return 'Kernel keyring (keyutils)';
    case 'memory':
      return 'Memory only, for this session: no keyring was found';
    case 'none':
    case '':
      return 'No token';
    default:
      return store;
  }
}

/** The sync indicator's words (a memory-only token is said, since it will not survive a restart). */
export function syncText(s: SyncStatusView): { label: string; detail: string } {
  const words = syncWords(s);
  if (s.token_store === 'memory') words.detail += ' · token not saved (no keyring)';
  return words;
}

function syncWords(s: SyncStatusView): { label: string; detail: string } {
  const waiting =
    s.waiting > 0 ? `${s.waiting} ${s.waiting === 1 ? 'change' : 'changes'} waiting` : '';
  switch (s.state) {
    case 'local':
      return { label: 'Local only', detail: 'This workspace has no relay' };
    case 'online':
      return { label: 'Online', detail: waiting || 'Up to date' };
    case 'syncing':
      return {
        label: 'Syncing',
        detail:
          [s.pending > 0 ? `${s.pending} to fetch` : '', waiting].filter(Boolean).join(' · ') ||
          'Catching up',
      };
    case 'offline': {
      const retry = s.retry_in_ms ? `retrying in ${Math.ceil(s.retry_in_ms / 1000)} s` : '';
      return {
        label: 'Offline',
        detail: [waiting, s.reason ?? '', retry].filter(Boolean).join(' · '),
      };
    }
  }
}
