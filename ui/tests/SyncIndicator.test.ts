import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import SyncIndicator from '../src/components/SyncIndicator.svelte';
import type { SyncStatusView } from '../src/lib/types';

const base: SyncStatusView = {
  state: 'online',
  waiting: 0,
  pending: 0,
  token_store: 'Secret Service',
};

describe('SyncIndicator', () => {
  it.each([
    [{ ...base }, 'online', 'Up to date'],
    [{ ...base, state: 'syncing', pending: 12 }, 'syncing', '12 to fetch'],
    [
      { ...base, state: 'offline', waiting: 2, reason: 'relay unreachable' },
      'offline',
      '2 changes waiting · relay unreachable',
    ],
    [{ ...base, state: 'local' }, 'local', 'no relay'],
  ] as [SyncStatusView, string, string][])('shows %o', (status, state, text) => {
    render(SyncIndicator, { status });
    const el = screen.getByTestId('sync-indicator');
    expect(el).toHaveAttribute('data-state', state);
    expect(el).toHaveTextContent(text);
    expect(screen.getByRole('status')).toHaveTextContent(/Sync/);
  });

  it('updates when the status changes', async () => {
    const r = render(SyncIndicator, { status: base });
    await r.rerender({ status: { ...base, state: 'offline', waiting: 1, reason: 'timeout' } });
    expect(screen.getByTestId('sync-indicator')).toHaveAttribute('data-state', 'offline');
    expect(screen.getByTestId('sync-indicator')).toHaveTextContent('1 change waiting');
  });
});
