// The Undo of a sent reply: offered while the undo window runs, gone when it closes, whether
// or not anything else changes on screen.

/** Largest delay a browser timer takes (ms); deadlines beyond it wait for "not yet". */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Undoable {
  delivery_state: string | null;
  unsend_until: number | null;
}

/** Whether the entry's Undo is offered at `now`. */
export function canUndo(e: Undoable, now: number): boolean {
  return e.delivery_state === 'queued' && (e.unsend_until ?? 0) > now;
}

/**
 * When the next offered Undo ends, after `now`, if a timer can wait for it (a reply the relay
 * has not seen yet has no deadline: its Undo stays until the relay takes it).
 */
export function nextUndoDeadline(entries: Undoable[], now: number): number | null {
  const ends = entries
    .filter((e) => canUndo(e, now))
    .map((e) => e.unsend_until as number)
    .filter((t) => t - now <= MAX_TIMER_MS);
  return ends.length ? Math.min(...ends) : null;
}
