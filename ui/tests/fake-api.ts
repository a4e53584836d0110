// A FAKE of src/lib/api.ts for component tests: the real shell is exercised by the end-to-end
// tests. Each function is a vi.fn that tests program; toAppError is the real one.
import { vi } from 'vitest';
import type { InboxRow, SearchHit, TeamSettingsView } from '../src/lib/types';

export function fakeRow(i: number): InboxRow {
  return {
    conversation_id: `conv-${i}`,
    subject: `Subject ${i}`,
    customer_id: `cust-${i}`,
    customer_name: `Customer ${i}`,
    customer_email: null,
    channel: 'email',
    status: 'open',
    snooze_until: null,
    assignee: null,
    priority: 'normal',
    tags: [],
    created_at: 0,
    last_activity: 0,
    entry_count: 1,
    unread: i % 3 === 0,
    preview: `Preview ${i}`,
    has_conflict: false,
  };
}

/** A team's settings as the engine gives them; `canEdit` for an admin. */
export function fakeTeamSettings(canEdit: boolean): TeamSettingsView {
  const hours = {
    time_zone: 'Europe/Berlin',
    days: [1, 2, 3, 4, 5],
    from: '09:00',
    to: '17:00',
    description: 'Monday to Friday, 09:00–17:00 (Europe/Berlin)',
  };
  return {
    can_edit: canEdit,
    hours,
    holidays: [{ date: '2026-12-25', label: 'Christmas' }],
    targets: [
      { priority: 'urgent', first_minutes: 60, next_minutes: 120 },
      { priority: 'high', first_minutes: 120, next_minutes: 240 },
      { priority: 'normal', first_minutes: 240, next_minutes: 480 },
      { priority: 'low', first_minutes: 480, next_minutes: 960 },
    ],
    tiers: [{ tier: 'premium', priority: 'high' }],
    acknowledgements: [],
    default_acknowledgement: 'Thank you for writing to {team.name}.',
    auto_close_days: null,
    my_working_hours: null,
  };
}

/** The fake's functions, created fresh for each test file by vi.mock's factory. */
export function makeFakeApi() {
  const unlisten = () => Promise.resolve(() => {});
  return {
    toAppError: (e: unknown) =>
      e && typeof e === 'object' && 'message' in e
        ? (e as { kind: string; message: string })
        : { kind: 'error', message: String(e) },
    inbox: vi.fn(async (_view: string, offset: number, limit: number) => {
      const total = 50_000;
      const rows: InboxRow[] = [];
      for (let i = offset; i < Math.min(total, offset + limit); i++) rows.push(fakeRow(i));
      return { rows, total };
    }),
    inboxCounts: vi.fn(async () => ({ open: 50_000 })),
    reply: vi.fn(),
    releaseReply: vi.fn(async () => null),
    discardReply: vi.fn(async () => null),
    note: vi.fn(),
    setComposing: vi.fn(async () => null),
    saveDraft: vi.fn(async () => null),
    expandTemplate: vi.fn(async () => 'Hi there,'),
    search: vi.fn(async (_query: string) => [] as SearchHit[]),
    joinTeam: vi.fn(),
    startLocal: vi.fn(),
    onReplicaChanged: vi.fn(unlisten),
    onSyncStatus: vi.fn(unlisten),
    onPresence: vi.fn(unlisten),
    onFocusConversation: vi.fn(unlisten),
    teamSettings: vi.fn(async () => fakeTeamSettings(true)),
    changeTeamSettings: vi.fn(async () => fakeTeamSettings(true)),
  };
}
