import { describe, expect, it, vi, beforeEach } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import * as api from '../src/lib/api';
import Composer from '../src/components/Composer.svelte';
import type { EntryView } from '../src/lib/types';

vi.mock('../src/lib/api', async () => (await import('./fake-api')).makeFakeApi());

const unseen: EntryView[] = [
  {
    id: 'e9',
    kind: 'customer',
    author_id: 'cust-1',
    author_name: 'Dana Customer',
    body: 'Never mind, it works now!',
    created_at: 1,
    delivery_state: null,
    delivery_reason: null,
    unsend_until: null,
    mentions: [],
    logged_by: null,
    unseen: true,
  },
];

beforeEach(() => vi.clearAllMocks());

async function typeReply(text: string) {
  render(Composer, { conversationId: 'conv-1' });
  const input = screen.getByTestId('composer-input');
  await fireEvent.input(input, { target: { value: text } });
  return input;
}

describe('Composer (with the fake api)', () => {
  it('announces composing when typing starts and stops when emptied', async () => {
    const input = await typeReply('Hello');
    expect(api.setComposing).toHaveBeenLastCalledWith('conv-1', true, false);
    await fireEvent.input(input, { target: { value: '' } });
    expect(api.setComposing).toHaveBeenLastCalledWith('conv-1', false, false);
  });

  it('keeps the text in the replica after a pause in typing, and restores it', async () => {
    vi.useFakeTimers();
    try {
      const { unmount } = render(Composer, { conversationId: 'conv-1' });
      const input = screen.getByTestId('composer-input');
      await fireEvent.input(input, { target: { value: 'Half a thought' } });
      expect(api.saveDraft).not.toHaveBeenCalled();
      vi.advanceTimersByTime(500);
      expect(api.saveDraft).toHaveBeenLastCalledWith('conv-1', 'reply', 'Half a thought');
      // Closing before the pause ends still saves what was typed.
      await fireEvent.input(input, { target: { value: 'Half a thought, and more' } });
      unmount();
      expect(api.saveDraft).toHaveBeenLastCalledWith('conv-1', 'reply', 'Half a thought, and more');
    } finally {
      vi.useRealTimers();
    }
    render(Composer, {
      conversationId: 'conv-2',
      saved: { mode: 'note', body: 'Ask Ben about the refund' },
    });
    const input = screen.getByTestId('composer-input') as HTMLTextAreaElement;
    expect(input.value).toBe('Ask Ben about the refund');
    expect(screen.getByTestId('composer')).toHaveAttribute('data-mode', 'note');
  });

  it('announces writing a note as its own presence', async () => {
    render(Composer, { conversationId: 'conv-1', mode: 'note' });
    const input = screen.getByTestId('composer-input');
    await fireEvent.input(input, { target: { value: '@ben look' } });
    expect(api.setComposing).toHaveBeenLastCalledWith('conv-1', true, true);
  });

  it('shows the unseen entries on a send-guard rejection; Send anyway sends with force', async () => {
    vi.mocked(api.reply)
      .mockRejectedValueOnce({ kind: 'send-guard', message: 'newer entries', unseen })
      .mockResolvedValueOnce({ entry_id: 'e10' });
    const input = await typeReply('Have you tried turning it off and on?');
    await fireEvent.keyDown(input, { key: 'Enter', ctrlKey: true });
    const dialog = await screen.findByTestId('send-guard');
    expect(dialog).toHaveTextContent('Never mind, it works now!');
    expect(api.reply).toHaveBeenCalledWith(
      'conv-1',
      'Have you tried turning it off and on?',
      false,
    );
    await fireEvent.click(screen.getByTestId('send-guard-confirm'));
    await waitFor(() => expect(screen.queryByTestId('send-guard')).toBeNull());
    expect(api.reply).toHaveBeenLastCalledWith(
      'conv-1',
      'Have you tried turning it off and on?',
      true,
    );
    expect(screen.getByTestId('composer-input')).toHaveValue('');
  });

  it('Cancel keeps the draft and sends nothing', async () => {
    vi.mocked(api.reply).mockRejectedValueOnce({ kind: 'send-guard', message: 'newer', unseen });
    await typeReply('Draft text');
    await fireEvent.click(screen.getByTestId('composer-send'));
    await fireEvent.click(await screen.findByTestId('send-guard-cancel'));
    expect(screen.queryByTestId('send-guard')).toBeNull();
    expect(api.reply).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('composer-input')).toHaveValue('Draft text');
  });

  it('shows other errors and keeps the text', async () => {
    vi.mocked(api.reply).mockRejectedValueOnce({ kind: 'io', message: 'database is locked' });
    await typeReply('Important');
    await fireEvent.click(screen.getByTestId('composer-send'));
    expect(await screen.findByRole('alert')).toHaveTextContent('database is locked');
    expect(screen.getByTestId('composer-input')).toHaveValue('Important');
  });

  it('sends notes in note mode', async () => {
    vi.mocked(api.note).mockResolvedValueOnce({ entry_id: 'n1' });
    render(Composer, { conversationId: 'conv-1', mode: 'note' });
    expect(screen.getByTestId('composer')).toHaveAttribute('data-mode', 'note');
    const input = screen.getByTestId('composer-input');
    await fireEvent.input(input, { target: { value: 'FYI @ana' } });
    await fireEvent.click(screen.getByTestId('composer-send'));
    await waitFor(() => expect(api.note).toHaveBeenCalledWith('conv-1', 'FYI @ana'));
    expect(api.reply).not.toHaveBeenCalled();
  });
});
