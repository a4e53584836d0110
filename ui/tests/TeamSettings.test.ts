import { describe, expect, it, vi, beforeEach } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import * as api from '../src/lib/api';
import TeamSettings from '../src/components/TeamSettings.svelte';
import { fakeTeamSettings } from './fake-api';

vi.mock('../src/lib/api', async () => (await import('./fake-api')).makeFakeApi());

beforeEach(() => vi.clearAllMocks());

describe('TeamSettings (with the fake api)', () => {
  it('shows an agent the settings without letting them change the team', async () => {
    vi.mocked(api.teamSettings).mockResolvedValueOnce(fakeTeamSettings(false));
    render(TeamSettings, { onclose: vi.fn() });
    await waitFor(() => expect(screen.getByTestId('team-settings-read-only')).toBeInTheDocument());
    expect(screen.getByTestId('hours-description')).toHaveTextContent('Monday to Friday');
    expect(screen.getByTestId('hours-zone')).toBeDisabled();
    expect(screen.getByTestId('target-first-high')).toBeDisabled();
    expect(screen.queryByTestId('hours-save')).toBeNull();
    expect(screen.queryByTestId('tier-add')).toBeNull();
    // Their own hours they do set.
    expect(screen.getByTestId('my-hours-save')).toBeEnabled();
  });

  it('sends only the targets that changed, in minutes, and refuses a span it cannot read', async () => {
    render(TeamSettings, { onclose: vi.fn() });
    const first = await screen.findByTestId('target-first-high');
    expect(first).toHaveValue('2h');
    await fireEvent.input(first, { target: { value: '1h30m' } });
    await fireEvent.click(screen.getByTestId('targets-save'));
    await waitFor(() =>
      expect(api.changeTeamSettings).toHaveBeenCalledWith({
        kind: 'target',
        priority: 'high',
        first_minutes: 90,
        next_minutes: 240,
      }),
    );
    expect(api.changeTeamSettings).toHaveBeenCalledTimes(1);

    await fireEvent.input(screen.getByTestId('target-next-low'), { target: { value: 'soon' } });
    await fireEvent.click(screen.getByTestId('targets-save'));
    expect(await screen.findByTestId('team-settings-error')).toHaveTextContent('low targets');
    expect(api.changeTeamSettings).toHaveBeenCalledTimes(1);
  });

  it('checks the hours before sending them', async () => {
    render(TeamSettings, { onclose: vi.fn() });
    const from = await screen.findByTestId('hours-from');
    await fireEvent.input(from, { target: { value: '9am' } });
    await fireEvent.click(screen.getByTestId('hours-save'));
    expect(await screen.findByTestId('team-settings-error')).toHaveTextContent('HH:MM');
    expect(api.changeTeamSettings).not.toHaveBeenCalled();
    await fireEvent.input(from, { target: { value: '08:00' } });
    await fireEvent.click(screen.getByTestId('hours-day-5'));
    await fireEvent.click(screen.getByTestId('hours-save'));
    await waitFor(() =>
      expect(api.changeTeamSettings).toHaveBeenCalledWith({
        kind: 'hours',
        hours: expect.objectContaining({ from: '08:00', days: [1, 2, 3, 4] }),
      }),
    );
  });
});
