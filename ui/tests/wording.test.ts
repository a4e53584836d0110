import { describe, expect, it } from 'vitest';
import {
  conflictChoices,
  conflictText,
  joinNames,
  presenceText,
  relativeTime,
  dueShort,
  duration,
  replyDue,
  syncText,
} from '../src/lib/wording';
import type { PresenceView } from '../src/lib/types';

const p = (agent: string, conv: string, state: PresenceView['state']): PresenceView => ({
  agent_id: agent.toLowerCase(),
  agent_name: agent,
  conversation_id: conv,
  state,
});

describe('conflictChoices', () => {
  const name = (id: string) => ({ ana: 'Ana', ben: 'Ben' })[id] ?? id;
  it('keeps the winner first, then offers each other value', () => {
    const c = { field: 'assignee', values: ['ana', 'ben'] };
    expect(conflictChoices(c, 'ana', name)).toEqual([
      { value: 'ana', label: 'Keep Ana', keep: true },
      { value: 'ben', label: 'Give it to Ben', keep: false },
    ]);
    expect(conflictChoices({ field: 'status', values: ['closed', 'open'] }, 'open', name)).toEqual([
      { value: 'open', label: 'Keep open', keep: true },
      { value: 'closed', label: 'Change to closed', keep: false },
    ]);
    expect(conflictChoices({ field: 'assignee', values: ['', 'ben'] }, null, name)[0].label).toBe(
      'Keep nobody',
    );
  });
});

describe('presenceText', () => {
  it('says who is viewing and replying, replying first, without me', () => {
    const all = [
      p('Ana', 'c1', 'viewing'),
      p('Ben', 'c1', 'composing'),
      p('Me', 'c1', 'viewing'),
      p('Cy', 'c2', 'viewing'),
    ];
    expect(presenceText(all, 'c1', 'me')).toBe('Ben is replying · Ana is viewing');
    expect(presenceText(all, 'c2', 'me')).toBe('Cy is viewing');
    expect(presenceText(all, 'c3', 'me')).toBe('');
  });
  it('counts an agent once, as composing', () => {
    expect(presenceText([p('Ana', 'c', 'viewing'), p('Ana', 'c', 'composing')], 'c')).toBe(
      'Ana is replying',
    );
  });
  it('says who is writing a note, after replies and before viewers', () => {
    expect(
      presenceText(
        [p('Ana', 'c', 'viewing'), p('Cy', 'c', 'composing-note'), p('Ben', 'c', 'composing')],
        'c',
      ),
    ).toBe('Ben is replying · Cy is writing a note · Ana is viewing');
  });
  it('uses plural verbs', () => {
    expect(presenceText([p('Ana', 'c', 'viewing'), p('Ben', 'c', 'viewing')], 'c')).toBe(
      'Ana and Ben are viewing',
    );
  });
});

describe('joinNames', () => {
  it('joins', () => {
    expect(joinNames([])).toBe('');
    expect(joinNames(['A'])).toBe('A');
    expect(joinNames(['A', 'B', 'C'])).toBe('A, B and C');
  });
});

describe('conflictText', () => {
  const name = (id: string) => ({ ana: 'Ana', ben: 'Ben' })[id] ?? id;
  it('says who took it and who has it', () =>
    expect(conflictText({ field: 'assignee', values: ['ana', 'ben'] }, 'ana', name)).toBe(
      'Ana and Ben both took this while offline; Ana has it',
    ));
  it('names other fields and the value kept', () =>
    expect(
      conflictText({ field: 'status', values: ['closed', 'pending'] }, 'pending', name),
    ).toContain('it is now pending'));
});

describe('relativeTime', () => {
  const now = new Date(2026, 10, 27, 12, 0).getTime();
  it('is short', () => {
    expect(relativeTime(now - 20_000, now)).toBe('now');
    expect(relativeTime(now - 5 * 60_000, now)).toBe('5 min');
    expect(relativeTime(now - 3 * 3_600_000, now)).toBe('3 h');
    expect(relativeTime(new Date(2026, 2, 12).getTime(), now)).toBe('12 Mar');
    expect(relativeTime(new Date(2025, 2, 12).getTime(), now)).toBe('12 Mar 2025');
  });
});

describe('replyDue', () => {
  const now = 1_000_000_000;
  it('counts down and turns late', () => {
    expect(replyDue(now + 90 * 60_000, now)).toEqual({
      text: 'Reply due in 1 h 30 min',
      tone: 'ok',
    });
    expect(replyDue(now + 20 * 60_000, now)).toEqual({ text: 'Reply due in 20 min', tone: 'soon' });
    expect(replyDue(now - 15 * 60_000, now)).toEqual({
      text: 'Reply overdue by 15 min',
      tone: 'late',
    });
  });
});

describe('dueShort', () => {
  const now = 1_000_000_000;
  it('is short enough for a list row', () => {
    expect(dueShort(now + 3 * 3_600_000, now)).toEqual({ text: 'due in 3 h', tone: 'ok' });
    expect(dueShort(now + 5 * 60_000, now)).toEqual({ text: 'due in 5 min', tone: 'soon' });
    expect(dueShort(now + 59 * 60_000 + 50_000, now)).toEqual({ text: 'due in 1 h', tone: 'soon' });
    expect(dueShort(now - 26 * 3_600_000, now)).toEqual({ text: '1 d late', tone: 'late' });
  });
});

describe('duration', () => {
  it('reads as shoal report prints it', () => {
    expect(duration(45 * 60_000)).toBe('45m');
    expect(duration(3 * 3_600_000 + 20 * 60_000)).toBe('3h20m');
    expect(duration(3 * 3_600_000)).toBe('3h');
    expect(duration(2 * 86_400_000 + 4 * 3_600_000)).toBe('2d4h');
    expect(duration(86_400_000)).toBe('1d');
  });
});

describe('syncText', () => {
  const base = { waiting: 0, pending: 0, token_store: 'keyring' };
  it('describes each state', () => {
    expect(syncText({ ...base, state: 'online' })).toEqual({
      label: 'Online',
      detail: 'Up to date',
    });
    expect(syncText({ ...base, state: 'online', waiting: 1 }).detail).toBe('1 change waiting');
    expect(syncText({ ...base, state: 'syncing', pending: 4 }).detail).toBe('4 to fetch');
    const off = syncText({
      ...base,
      state: 'offline',
      waiting: 3,
      reason: 'connection refused',
      retry_in_ms: 4200,
    });
    expect(off).toEqual({
      label: 'Offline',
      detail: '3 changes waiting · connection refused · retrying in 5 s',
    });
    expect(syncText({ ...base, state: 'local' }).label).toBe('Local only');
    expect(syncText({ ...base, state: 'online', token_store: 'memory' }).detail).toMatch(
      /no keyring/,
    );
  });
});
