import { describe, expect, it } from 'vitest';
import { snoozeChoices } from '../src/lib/snooze';
import { canSend, classifySendError } from '../src/lib/sendguard';
import { checkLocal, checkRelayUrl, checkToken } from '../src/lib/validate';
import { toAppError } from '../src/lib/api';

describe('snoozeChoices', () => {
  it('offers an hour, tomorrow 9:00 and next Monday 9:00', () => {
    const fri = new Date(2026, 10, 27, 15, 30).getTime(); // a Friday
    const [hour, tomorrow, week] = snoozeChoices(fri);
    expect(hour.until - fri).toBe(3_600_000);
    expect(new Date(tomorrow.until)).toEqual(new Date(2026, 10, 28, 9, 0));
    expect(new Date(week.until)).toEqual(new Date(2026, 10, 30, 9, 0));
    const mon = new Date(2026, 10, 30, 8, 0).getTime();
    expect(new Date(snoozeChoices(mon)[2].until)).toEqual(new Date(2026, 11, 7, 9, 0));
  });
});

describe('send guard decision', () => {
  it('asks on a send-guard rejection and reports other errors', () => {
    expect(classifySendError({ kind: 'send-guard', message: 'newer', unseen: [] })).toEqual({
      kind: 'guard',
      unseen: [],
    });
    expect(classifySendError({ kind: 'io', message: 'disk full' })).toEqual({
      kind: 'error',
      message: 'disk full',
    });
  });
  it('does not send blank text', () => {
    expect(canSend('  \n')).toBe(false);
    expect(canSend('ok')).toBe(true);
  });
});

describe('toAppError', () => {
  it('keeps an AppError and wraps strings', () => {
    expect(toAppError({ kind: 'send-guard', message: 'm', unseen: [] })).toEqual({
      kind: 'send-guard',
      message: 'm',
      unseen: [],
    });
    expect(toAppError('boom')).toEqual({ kind: 'error', message: 'boom' });
  });
});

describe('onboarding validation', () => {
  it('checks the relay URL', () => {
    expect(checkRelayUrl('')).toMatch(/Enter/);
    expect(checkRelayUrl('not a url')).toMatch(/not a URL/);
    expect(checkRelayUrl('ftp://x.y')).toMatch(/must start/);
    expect(checkRelayUrl('wss://relay.example.com')).toBeNull();
    expect(checkRelayUrl('ws://127.0.0.1:4000')).toBeNull();
  });
  it('checks the token and the local fields', () => {
    expect(checkToken('')).not.toBeNull();
    expect(checkToken('ab cd')).not.toBeNull();
    expect(checkToken('abcd')).toBeNull();
    expect(checkLocal('', 'a', 'a@b.c')).toMatch(/team/);
    expect(checkLocal('T', 'A', 'nope')).toMatch(/e-mail/);
    expect(checkLocal('T', 'A', 'a@b.co')).toBeNull();
  });
});
