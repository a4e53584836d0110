import { describe, expect, it } from 'vitest';
import { canUndo, nextUndoDeadline } from '../src/lib/undo';

const NOT_YET = 8_640_000_000_000_000;

describe('the Undo of a sent reply', () => {
  it('is offered only while its window runs', () => {
    const e = { delivery_state: 'queued', unsend_until: 1_000 };
    expect(canUndo(e, 999)).toBe(true);
    expect(canUndo(e, 1_000)).toBe(false);
    expect(canUndo({ ...e, delivery_state: 'sent' }, 0)).toBe(false);
    expect(canUndo({ ...e, unsend_until: null }, 0)).toBe(false);
    expect(canUndo({ ...e, unsend_until: NOT_YET }, Date.now())).toBe(true);
  });
  it('says when to look again: the earliest end a timer can wait for', () => {
    const entries = [
      { delivery_state: 'queued', unsend_until: 5_000 },
      { delivery_state: 'queued', unsend_until: 3_000 },
      { delivery_state: 'queued', unsend_until: 1_000 },
      { delivery_state: 'queued', unsend_until: NOT_YET },
      { delivery_state: 'sent', unsend_until: 2_000 },
    ];
    expect(nextUndoDeadline(entries, 1_500)).toBe(3_000);
    expect(nextUndoDeadline(entries, 6_000)).toBeNull();
  });
});
