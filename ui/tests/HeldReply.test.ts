import { describe, expect, it, vi, beforeEach } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import * as api from '../src/lib/api';
import HeldReply from '../src/components/HeldReply.svelte';
import type { EntryView } from '../src/lib/types';

vi.mock('../src/lib/api', async () => (await import('./fake-api')).makeFakeApi());

function held(canDecide: boolean): EntryView {
  return {
    id: 'r2',
    kind: 'reply',
    author_id: 'ben',
    author_name: 'Ben',
    body: 'Looking into it.',
    created_at: 1,
    delivery_state: 'held',
    delivery_reason:
      'Ana replied to the same message (10:02 UTC) while neither of you had seen the other',
    unsend_until: null,
    mentions: [],
    logged_by: null,
    unseen: false,
    collided_with: 'r1',
    can_decide: canDecide,
  };
}

beforeEach(() => vi.clearAllMocks());

describe('HeldReply (with the fake api)', () => {
  it('says why it is held and sends it anyway', async () => {
    render(HeldReply, { conversationId: 'conv-1', entry: held(true), collidedWith: "Ana's reply" });
    expect(screen.getByTestId('held-reply')).toHaveTextContent('Ana replied to the same message');
    expect(screen.getByTestId('held-reply')).toHaveTextContent("Ana's reply");
    await fireEvent.click(screen.getByTestId('held-send-anyway'));
    expect(api.releaseReply).toHaveBeenCalledWith('conv-1', 'r2', null);
  });

  it('edits the text, then sends the edited text', async () => {
    render(HeldReply, { conversationId: 'conv-1', entry: held(true) });
    await fireEvent.click(screen.getByTestId('held-edit-start'));
    const box = screen.getByTestId('held-edit') as HTMLTextAreaElement;
    expect(box.value).toBe('Looking into it.');
    await fireEvent.input(box, { target: { value: 'Ana has it; one more thing.' } });
    await fireEvent.click(screen.getByTestId('held-send-edited'));
    expect(api.releaseReply).toHaveBeenCalledWith('conv-1', 'r2', 'Ana has it; one more thing.');
    await waitFor(() => expect(screen.queryByTestId('held-edit')).toBeNull());
  });

  it('discards, and shows a refusal instead of losing it', async () => {
    vi.mocked(api.discardReply).mockRejectedValueOnce({
      kind: 'error',
      message: 'not held any more',
    });
    render(HeldReply, { conversationId: 'conv-1', entry: held(true) });
    await fireEvent.click(screen.getByTestId('held-discard'));
    expect(api.discardReply).toHaveBeenCalledWith('conv-1', 'r2');
    expect(await screen.findByRole('status')).toHaveTextContent('not held any more');
  });

  it('offers no buttons to someone who may not decide', () => {
    render(HeldReply, { conversationId: 'conv-1', entry: held(false) });
    expect(screen.getByTestId('held-reply')).toBeInTheDocument();
    expect(screen.queryByTestId('held-send-anyway')).toBeNull();
  });
});
