import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import * as api from '../src/lib/api';
import { InboxStore, PAGE_SIZE } from '../src/stores/inbox.svelte';
import InboxList from '../src/components/InboxList.svelte';
import { ROW_HEIGHT } from '../src/lib/virtual';

vi.mock('../src/lib/api', async () => (await import('./fake-api')).makeFakeApi());

async function setup() {
  const store = new InboxStore();
  await store.setView('open');
  const onopen = vi.fn();
  render(InboxList, { store, onopen, presence: [] });
  await waitFor(() => expect(screen.getAllByTestId('inbox-row').length).toBeGreaterThan(0));
  return { store, onopen };
}

describe('InboxList (with the fake api)', () => {
  it('renders only the visible window of 50,000 rows', async () => {
    const { store } = await setup();
    expect(store.total).toBe(50_000);
    const rows = screen.getAllByTestId('inbox-row');
    expect(rows.length).toBeLessThan(60);
    expect(rows[0]).toHaveAttribute('data-conversation-id', 'conv-0');
    expect(screen.getByTestId('inbox-list').style.height).toBe(`${50_000 * ROW_HEIGHT}px`);
    // Only the first page was asked for.
    expect(vi.mocked(api.inbox).mock.calls.every(([, offset]) => offset === 0)).toBe(true);
  });

  it('fetches the page under the window when scrolled far down', async () => {
    await setup();
    const viewport = screen.getByTestId('inbox-list').parentElement as HTMLElement;
    viewport.scrollTop = 30_000 * ROW_HEIGHT;
    await fireEvent.scroll(viewport);
    await waitFor(() =>
      expect(document.querySelector('[data-conversation-id="conv-30000"]')).not.toBeNull(),
    );
    expect(vi.mocked(api.inbox)).toHaveBeenCalledWith(
      'open',
      30_000 - (30_000 % PAGE_SIZE),
      PAGE_SIZE,
      'activity',
      null,
    );
    expect(screen.getAllByTestId('inbox-row').length).toBeLessThan(60);
    expect(document.querySelector('[data-conversation-id="conv-0"]')).toBeNull();
  });

  it('moves the selection with j and k and opens with Enter', async () => {
    const { onopen } = await setup();
    const list = screen.getByRole('listbox');
    const selectedIds = () =>
      screen
        .getAllByRole('option')
        .filter((o) => o.getAttribute('aria-selected') === 'true')
        .map((o) => o.getAttribute('data-conversation-id'));
    // The first row is selected once the list has loaded.
    expect(selectedIds()).toEqual(['conv-0']);
    await fireEvent.keyDown(list, { key: 'j' });
    await fireEvent.keyDown(list, { key: 'j' });
    await fireEvent.keyDown(list, { key: 'j' });
    await fireEvent.keyDown(list, { key: 'k' });
    expect(selectedIds()).toEqual(['conv-2']);
    await fireEvent.keyDown(list, { key: 'ArrowUp' });
    expect(selectedIds()).toEqual(['conv-1']);
    await fireEvent.keyDown(list, { key: 'Enter' });
    expect(onopen).toHaveBeenCalledWith('conv-1');
  });

  it('keeps the selected row when a refresh moves it', async () => {
    const { store } = await setup();
    store.select(5);
    // The replica changed: a new conversation came on top, so conv-5 is now row 6.
    vi.mocked(api.inbox).mockImplementationOnce(async () => {
      const { fakeRow } = await import('./fake-api');
      return {
        rows: [fakeRow(-1), ...Array.from({ length: 99 }, (_, i) => fakeRow(i))],
        total: 50_001,
      };
    });
    await store.refresh();
    expect(store.selected).toBe(6);
    expect(store.row(6)?.conversation_id).toBe('conv-5');
  });

  it('shows when an answer is due, and late ones as late', async () => {
    const now = 1_800_000_000_000;
    const { fakeRow } = await import('./fake-api');
    vi.mocked(api.inbox).mockImplementationOnce(async () => ({
      rows: [
        { ...fakeRow(0), reply_due: now - 2 * 3_600_000 },
        { ...fakeRow(1), reply_due: now + 30 * 60_000 },
        { ...fakeRow(2), reply_due: null },
      ],
      total: 3,
    }));
    const store = new InboxStore();
    await store.setView('overdue');
    render(InboxList, { store, onopen: vi.fn(), presence: [], now });
    await waitFor(() => expect(screen.getAllByTestId('inbox-row').length).toBe(3));
    const due = screen.getAllByTestId('row-due');
    expect(due.map((d) => d.textContent)).toEqual(['2 h late', 'due in 30 min']);
    expect(due[0]).toHaveClass('late');
    expect(due[1]).toHaveClass('soon');
  });

  it('asks for the chosen order and starts over from the top', async () => {
    const { store } = await setup();
    store.select(3);
    await store.setSort('due');
    expect(vi.mocked(api.inbox)).toHaveBeenLastCalledWith('open', 0, PAGE_SIZE, 'due', null);
    expect(store.selected).toBe(0);
  });

  it('filters by a tag in the same view and order, and stops filtering', async () => {
    const { store } = await setup();
    await store.setTag('refund');
    expect(vi.mocked(api.inbox)).toHaveBeenLastCalledWith(
      'open',
      0,
      PAGE_SIZE,
      'activity',
      'refund',
    );
    await store.setTag(null);
    expect(vi.mocked(api.inbox)).toHaveBeenLastCalledWith('open', 0, PAGE_SIZE, 'activity', null);
  });
});
