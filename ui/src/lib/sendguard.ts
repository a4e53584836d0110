// What to do with the answer to a send: done, ask (send guard), or show an error.
import type { AppError, EntryView } from './types';

export type SendOutcome =
  | { kind: 'sent'; entryId: string }
  | { kind: 'guard'; unseen: EntryView[] }
  | { kind: 'error'; message: string };

/** Classifies a command's rejection after a send attempt. */
export function classifySendError(e: AppError): SendOutcome {
  if (e.kind === 'send-guard') return { kind: 'guard', unseen: e.unseen ?? [] };
  return { kind: 'error', message: e.message || 'Sending failed' };
}

/** Whether a body is worth sending (not only whitespace). */
export function canSend(body: string): boolean {
  return body.trim().length > 0;
}
