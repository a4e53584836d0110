// The only module that talks to the Tauri shell. Every command and event of docs/desktop.md
// has one typed function here; components and stores import these, never @tauri-apps/api.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  AppError,
  AppState,
  Availability,
  CallInput,
  CustomerInput,
  ConversationView,
  CustomerView,
  FocusConversation,
  InboxCounts,
  InboxPage,
  PresenceView,
  Priority,
  ReplicaChanged,
  ReportView,
  SearchHit,
  Settings,
  ShowNotifications,
  Sort,
  Status,
  SyncStatusView,
  TeamSettingsChange,
  TeamSettingsView,
  TeamView,
  TemplateView,
  View,
} from './types';

/** Turns whatever a rejected command gave into an `AppError`. */
export function toAppError(e: unknown): AppError {
  if (e && typeof e === 'object' && 'message' in e) {
    const o = e as Partial<AppError>;
    return {
      kind: typeof o.kind === 'string' ? o.kind : 'error',
      message: String(o.message),
      unseen: Array.isArray(o.unseen) ? o.unseen : undefined,
    };
  }
  return { kind: 'error', message: typeof e === 'string' ? e : String(e) };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export const appState = () => call<AppState>('app_state');
export const startLocal = (teamName: string, agentName: string, agentEmail: string) =>
  call<AppState>('start_local', { teamName, agentName, agentEmail });
export const joinTeam = (relayUrl: string, token: string) =>
  call<AppState>('join_team', { relayUrl, token });
/** `sign_in`: the replica has a relay but its token is not in the keyring. */
export const signIn = (token: string) => call<AppState>('sign_in', { token });
export const inbox = (
  view: View,
  offset: number,
  limit: number,
  sort: Sort = 'activity',
  tag: string | null = null,
) => call<InboxPage>('inbox', { view, sort, offset, limit, tag });
export const inboxCounts = () => call<InboxCounts>('inbox_counts');
export const conversation = (id: string) => call<ConversationView>('conversation', { id });
export const openConversation = (id: string) => call<ConversationView>('open_conversation', { id });
export const leaveConversation = () => call<null>('leave_conversation');
export const setComposing = (id: string, composing: boolean, note = false) =>
  call<null>('set_composing', { id, composing, note });
/** Settles a field agents changed concurrently by writing `value` over every candidate. */
export const resolveConflict = (id: string, field: string, value: string) =>
  call<null>('resolve_conflict', { id, field, value });
/** Keeps the composer's text in the replica (blank removes it), so a restart loses nothing. */
export const saveDraft = (id: string, mode: 'reply' | 'note', body: string) =>
  call<null>('save_draft', { id, mode, body });
export const reply = (id: string, body: string, force: boolean) =>
  call<{ entry_id: string }>('reply', { id, body, force });
export const unsend = (id: string, entryId: string) => call<null>('unsend', { id, entryId });
/** Sends a held reply anyway; `body` replaces its text when given. */
export const releaseReply = (id: string, entryId: string, body: string | null = null) =>
  call<null>('release_reply', { id, entryId, body });
/** Discards a held reply: never sent, its text kept in the conversation. */
export const discardReply = (id: string, entryId: string) =>
  call<null>('discard_reply', { id, entryId });
export const note = (id: string, body: string) => call<{ entry_id: string }>('note', { id, body });
export const assign = (id: string, agentId: string | null) => call<null>('assign', { id, agentId });
export const take = (id: string) => call<null>('take', { id });
export const setStatus = (id: string, status: Status, until: number | null = null) =>
  call<null>('set_status', { id, status, until });
export const tag = (id: string, t: string) => call<null>('tag', { id, tag: t });
export const untag = (id: string, t: string) => call<null>('untag', { id, tag: t });
export const tags = () => call<string[]>('tags');
export const newCustomer = (customer: CustomerInput) => call<string>('new_customer', { customer });
export const editCustomer = (id: string, customer: CustomerInput) =>
  call<null>('edit_customer', { id, customer });
export const logCall = (call_: CallInput) => call<string>('log_call', { call: call_ });
export const writeToCustomer = (call_: CallInput) =>
  call<string>('write_to_customer', { call: call_ });
export const moveConversation = (id: string, customer: string) =>
  call<null>('move_conversation', { id, customer });
export const setPriority = (id: string, priority: Priority) =>
  call<null>('set_priority', { id, priority });
export const customer = (id: string) => call<CustomerView>('customer', { id });
export const spliceCustomerNotes = (
  id: string,
  index: number,
  deleteCount: number,
  insert: string,
) => call<null>('splice_customer_notes', { id, index, deleteCount, insert });
export const team = () => call<TeamView>('team');
export const templates = () => call<TemplateView[]>('templates');
export const setTemplate = (name: string, body: string) =>
  call<null>('set_template', { name, body });
export const removeTemplate = (name: string) => call<null>('remove_template', { name });
export const expandTemplate = (id: string, name: string) =>
  call<string>('expand_template', { id, name });
export const search = (query: string) => call<SearchHit[]>('search', { query });
export const presence = () => call<PresenceView[]>('presence');
export const settings = () => call<Settings>('settings');
export const setSettings = (s: Settings) => call<Settings>('set_settings', { settings: s });
export const awaitConfirmation = (id: string, followUpAt: number) =>
  call<void>('await_confirmation', { id, followUpAt });
export const closeConfirmed = (id: string) => call<void>('close_confirmed', { id });
export const report = (weeks: number) => call<ReportView>('report', { weeks });
export const teamSettings = () => call<TeamSettingsView>('team_settings');
export const changeTeamSettings = (change: TeamSettingsChange) =>
  call<TeamSettingsView>('change_team_settings', { change });
export const setAvailability = (availability: Availability) =>
  call<TeamView>('set_availability', { availability });

/** Subscribes to `replica-changed`. */
export const onReplicaChanged = (f: (p: ReplicaChanged) => void): Promise<UnlistenFn> =>
  listen<ReplicaChanged>('replica-changed', (e) => f(e.payload));
/** Subscribes to `sync-status`. */
export const onSyncStatus = (f: (p: SyncStatusView) => void): Promise<UnlistenFn> =>
  listen<SyncStatusView>('sync-status', (e) => f(e.payload));
/** Subscribes to `presence`. */
export const onPresence = (f: (p: PresenceView[]) => void): Promise<UnlistenFn> =>
  listen<PresenceView[]>('presence', (e) => f(e.payload));
/** Subscribes to `show-notifications` (a summary notification was clicked). */
export const onShowNotifications = (f: (p: ShowNotifications) => void): Promise<UnlistenFn> =>
  listen<ShowNotifications>('show-notifications', (e) => f(e.payload));
/** Subscribes to `focus-conversation` (a notification was clicked). */
export const onFocusConversation = (f: (p: FocusConversation) => void): Promise<UnlistenFn> =>
  listen<FocusConversation>('focus-conversation', (e) => f(e.payload));

/**
 * `sync_status`: the current sync status, for the indicator's first paint (the event only
 * reports changes). Resolves to null when the shell does not offer the command.
 */
export const syncStatus = (): Promise<SyncStatusView | null> =>
  call<SyncStatusView>('sync_status').catch(() => null);
