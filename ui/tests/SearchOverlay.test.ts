import { describe, expect, it, vi, beforeEach } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import * as api from '../src/lib/api';
import SearchOverlay from '../src/components/SearchOverlay.svelte';
import type { SearchHit } from '../src/lib/types';

vi.mock('../src/lib/api', async () => (await import('./fake-api')).makeFakeApi());

beforeEach(() => vi.clearAllMocks());

const hits = (n: number): SearchHit[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: 'conversation',
    id: `c${i}`,
    title: `Refund ${i}`,
    snippet: `… refund ${i} …`,
    last_activity: null,
    status: 'open',
    customer_name: 'Ana',
  }));

async function typed(query: string, answer: SearchHit[]) {
  vi.mocked(api.search).mockResolvedValueOnce(answer);
  await fireEvent.input(screen.getByTestId('search-input'), { target: { value: query } });
  await waitFor(() => expect(api.search).toHaveBeenCalledWith(query));
}

describe('SearchOverlay (with the fake api)', () => {
  it('renders the first 20 of 50 results and the rest on request', async () => {
    render(SearchOverlay, { onopen: vi.fn(), onclose: vi.fn() });
    await typed('refund', hits(50));
    await waitFor(() => expect(screen.getAllByTestId('search-result')).toHaveLength(20));
    expect(screen.getByTestId('search-more')).toHaveTextContent('30 more');
    await fireEvent.click(screen.getByTestId('search-more'));
    expect(screen.getAllByTestId('search-result')).toHaveLength(40);
    await fireEvent.click(screen.getByTestId('search-more'));
    expect(screen.getAllByTestId('search-result')).toHaveLength(50);
    expect(screen.queryByTestId('search-more')).toBeNull();
  });

  it('reveals the next page when the arrow keys go past the last row, and opens it', async () => {
    const onopen = vi.fn();
    render(SearchOverlay, { onopen, onclose: vi.fn() });
    await typed('refund', hits(25));
    await waitFor(() => expect(screen.getAllByTestId('search-result')).toHaveLength(20));
    const input = screen.getByTestId('search-input');
    for (let i = 0; i < 20; i++) await fireEvent.keyDown(input, { key: 'ArrowDown' });
    expect(screen.getAllByTestId('search-result')).toHaveLength(25);
    expect(screen.getAllByTestId('search-result')[20]).toHaveAttribute('aria-selected', 'true');
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(onopen).toHaveBeenCalledWith(expect.objectContaining({ id: 'c20' }));
  });

  it('starts again from the first page on the next keystroke', async () => {
    render(SearchOverlay, { onopen: vi.fn(), onclose: vi.fn() });
    await typed('ref', hits(50));
    await waitFor(() => expect(screen.getAllByTestId('search-result')).toHaveLength(20));
    await fireEvent.click(screen.getByTestId('search-more'));
    expect(screen.getAllByTestId('search-result')).toHaveLength(40);
    await typed('refu', hits(50).reverse());
    await waitFor(() =>
      expect(screen.getAllByTestId('search-result')[0]).toHaveAttribute('data-id', 'c49'),
    );
    expect(screen.getAllByTestId('search-result')).toHaveLength(20);
  });
});
