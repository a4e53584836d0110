// A FAKE of src/lib/api.ts for component tests: the real shell is exercised by the end-to-end
// tests. Each function is a vi.fn that tests program; toAppError is the real one.
import { vi } from 'vitest';
import type { InboxRow, SearchHit } from '../src/lib/types';

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
  };
}
