import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import NotificationList from '../src/components/NotificationList.svelte';

describe('NotificationList', () => {
  it('lists what a summary stood for; a click opens its conversation', async () => {
    const onopen = vi.fn();
    const onclose = vi.fn();
    render(NotificationList, {
      items: [
        { summary: 'Your reply was held: Refund', body: 'Ana replied', conversation_id: 'c1' },
        { summary: 'Dana: Printer', body: 'It is on fire', conversation_id: 'c2' },
        { summary: '2 new notifications', body: 'in 2 conversations', conversation_id: null },
      ],
      onopen,
      onclose,
    });
    const items = screen.getAllByTestId('notification-item');
    expect(items).toHaveLength(2);
    expect(screen.getByTestId('notification-list')).toHaveTextContent('It is on fire');
    await fireEvent.click(items[1]);
    expect(onopen).toHaveBeenCalledWith('c2');
    await fireEvent.click(screen.getByText('Close'));
    expect(onclose).toHaveBeenCalled();
  });
});
