import { describe, expect, it, vi, beforeEach } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import * as api from '../src/lib/api';
import Onboarding from '../src/components/Onboarding.svelte';

vi.mock('../src/lib/api', async () => (await import('./fake-api')).makeFakeApi());

beforeEach(() => vi.clearAllMocks());

describe('Onboarding (with the fake api)', () => {
  it('refuses a bad relay URL without calling the shell', async () => {
    render(Onboarding, { ondone: vi.fn() });
    await fireEvent.input(screen.getByTestId('join-relay'), { target: { value: 'relay dot com' } });
    await fireEvent.input(screen.getByTestId('join-token'), { target: { value: 'tok' } });
    await fireEvent.click(screen.getByTestId('join-submit'));
    expect(screen.getByTestId('onboarding-error')).toHaveTextContent('not a URL');
    expect(api.joinTeam).not.toHaveBeenCalled();
  });

  it('keeps the token in a password field and shows the relay error', async () => {
    let reject: (e: unknown) => void = () => {};
    vi.mocked(api.joinTeam).mockImplementationOnce(() => new Promise((_, r) => (reject = r)));
    render(Onboarding, { ondone: vi.fn() });
    expect(screen.getByTestId('join-token')).toHaveAttribute('type', 'password');
    await fireEvent.input(screen.getByTestId('join-relay'), {
      target: { value: 'ws://127.0.0.1:9' },
    });
    await fireEvent.input(screen.getByTestId('join-token'), { target: { value: 'secret' } });
    await fireEvent.click(screen.getByTestId('join-submit'));
    expect(screen.getByTestId('join-submit')).toBeDisabled();
    expect(screen.getByTestId('join-submit')).toHaveTextContent('Joining');
    reject({ kind: 'auth', message: 'The relay refused the token' });
    await waitFor(() =>
      expect(screen.getByTestId('onboarding-error')).toHaveTextContent(
        'The relay refused the token',
      ),
    );
    expect(api.joinTeam).toHaveBeenCalledWith('ws://127.0.0.1:9', 'secret');
    expect(screen.getByTestId('join-submit')).not.toBeDisabled();
  });

  it('starts a local workspace after checking the fields', async () => {
    const state = { ready: true, agent_id: 'a1' };
    vi.mocked(api.startLocal).mockResolvedValueOnce(state as never);
    const ondone = vi.fn();
    render(Onboarding, { ondone });
    await fireEvent.click(screen.getByRole('tab', { name: 'Start a local workspace' }));
    await fireEvent.input(screen.getByTestId('local-team'), { target: { value: 'Acme' } });
    await fireEvent.input(screen.getByTestId('local-name'), { target: { value: 'Ana' } });
    await fireEvent.input(screen.getByTestId('local-email'), { target: { value: 'ana' } });
    await fireEvent.click(screen.getByTestId('local-submit'));
    expect(screen.getByTestId('onboarding-error')).toHaveTextContent('e-mail');
    await fireEvent.input(screen.getByTestId('local-email'), {
      target: { value: 'ana@acme.test' },
    });
    await fireEvent.click(screen.getByTestId('local-submit'));
    await waitFor(() => expect(ondone).toHaveBeenCalledWith(state));
    expect(api.startLocal).toHaveBeenCalledWith('Acme', 'Ana', 'ana@acme.test');
  });
});
