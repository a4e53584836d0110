// TypeScript mirrors of the data the shell returns (docs/desktop.md). Field names are
// snake_case, as serde writes them; times are Unix milliseconds.

/** The inbox views of the sidebar. */
export type View =
  | 'mine'
  | 'unassigned'
  | 'mentions'
  | 'due-soon'
  | 'overdue'
  | 'follow-up'
  | 'open'
  | 'pending'
  | 'snoozed'
  | 'closed'
  | 'all';

/** Every view, in sidebar order. */
export const VIEWS: readonly View[] = [
  'mine',
  'unassigned',
  'mentions',
  'due-soon',
  'overdue',
  'follow-up',
  'open',
  'pending',
  'snoozed',
  'closed',
  'all',
];

export type Status = 'open' | 'pending' | 'snoozed' | 'closed';
/** Whether an agent takes new work; the whole team sees it (team document). */
export type Availability = 'available' | 'busy' | 'away' | 'off';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';
export type DeliveryState = 'draft' | 'queued' | 'sent' | 'held' | 'failed' | 'cancelled';
/** `data-kind` of an entry. */
export type EntryKind = 'customer' | 'reply' | 'note';

/** `app_state`: where the app stands. */
export interface AppState {
  /** A replica exists; otherwise onboarding comes first. */
  ready: boolean;
  home?: string;
  team_id?: string | null;
  team_name?: string | null;
  agent_id?: string | null;
  agent_name?: string | null;
  agent_email?: string | null;
  relay_url?: string | null;
  /** The replica has a relay but no token was found in the keyring: `sign_in`. */
  needs_sign_in?: boolean;
  /** The sync indicator's first state. */
  sync?: SyncStatusView;
}

/** The orders of the inbox list: newest activity, soonest due, longest waiting. */
export type Sort = 'activity' | 'due' | 'waiting';

/** One row of the inbox (shoal-replica `InboxRow`). */
export interface InboxRow {
  conversation_id: string;
  subject: string;
  customer_id: string;
  customer_name: string | null;
  customer_email: string | null;
  channel: string;
  status: Status;
  snooze_until: number | null;
  assignee: string | null;
  priority: Priority | string;
  tags: string[];
  created_at: number;
  last_activity: number;
  entry_count: number;
  unread: boolean;
  preview: string;
  has_conflict: boolean;
  /** Since when the customer has waited for an answer (none: they do not). */
  waiting_since?: number | null;
  /** The team has not answered this conversation yet. */
  first_response?: boolean;
  /** When the answer is due by the team's hours and response targets. */
  reply_due?: number | null;
  /** A reply in it is held back (a collision) until its author decides. */
  held?: boolean;
}

/** `inbox`: one page of a view. */
export interface InboxPage {
  rows: InboxRow[];
  total: number;
}

export type InboxCounts = Record<View, number>;

/** One entry of a conversation (shoal-app `EntryView`). */
export interface EntryView {
  id: string;
  kind: EntryKind;
  author_id: string;
  author_name: string;
  body: string;
  created_at: number;
  /** Replies only. */
  delivery_state: DeliveryState | null;
  delivery_reason: string | null;
  /** My queued replies: until when `unsend` can withdraw them. */
  unsend_until: number | null;
  mentions: string[];
  logged_by: string | null;
  /** Not yet shown to me (and not mine). */
  unseen: boolean;
  /** A held reply: the entry it collided with. */
  collided_with?: string | null;
  /** A held reply I may send anyway, edit or discard (mine, or as an admin). */
  can_decide?: boolean;
  /** The relay's automatic acknowledgement (not an agent's answer). */
  automatic?: boolean;
}

/** A field two agents changed concurrently (shoal-core `FieldConflict`). */
export interface FieldConflict {
  field: string;
  values: string[];
  /** Who made the concurrent changes (when recorded). */
  by?: string[];
}

/** `conversation` / `open_conversation` (shoal-app `ConversationView`). */
export interface ConversationView {
  id: string;
  subject: string;
  channel: string;
  customer_id: string;
  customer_name: string | null;
  customer_email?: string | null;
  status: Status;
  snooze_until: number | null;
  assignee: string | null;
  assignee_name?: string | null;
  priority: Priority | string;
  tags: string[];
  created_at: number;
  entries: EntryView[];
  conflicts: FieldConflict[];
  /** What I was writing here, kept across restarts. */
  draft?: { mode: 'reply' | 'note'; body: string } | null;
  /** Since when the customer has waited for an answer. */
  waiting_since?: number | null;
  /** When the team's next answer is due, in business time by the team's targets. */
  reply_due?: number | null;
  /** Pending for the customer's confirmation: when to follow up. */
  follow_up_at?: number | null;
  /** How it was closed: `confirmed` by the customer, or `no-reply`. */
  resolution?: string | null;
}

/** `customer`: profile, collaborative notes and every conversation of the customer. */
export interface CustomerView {
  id: string;
  name: string;
  emails: string[];
  company: string | null;
  tier: string | null;
  notes: string;
  created_at: number;
  conversations: InboxRow[];
}

export interface AgentView {
  id: string;
  name: string;
  email: string;
  role: string;
  availability: string;
  me?: boolean;
}

/** `team`: agents and tags. */
export interface TeamView {
  id?: string;
  name?: string;
  agents: AgentView[];
  tags: string[];
  /** My agent id. */
  me?: string;
}

export interface TemplateView {
  name: string;
  body: string;
}

/** A search result (shoal-replica `SearchHit`). */
export interface SearchHit {
  kind: 'conversation' | 'customer' | 'team' | 'agent-private';
  id: string;
  title: string;
  snippet: string;
  last_activity: number | null;
  status: string | null;
  customer_name: string | null;
}

export type PresenceState = 'viewing' | 'composing' | 'composing-note';

/** Another agent's live presence. */
export interface PresenceView {
  agent_id: string;
  agent_name: string;
  conversation_id: string;
  state: PresenceState;
}

export interface Settings {
  notifications: boolean;
}

export type SyncState = 'local' | 'offline' | 'syncing' | 'online';

/** `sync-status` event payload. */
export interface SyncStatusView {
  state: SyncState;
  waiting: number;
  pending: number;
  reason?: string | null;
  retry_in_ms?: number | null;
  token_store: string;
}

/** `replica-changed` event payload. */
export interface ReplicaChanged {
  conversations: string[];
  customers: string[];
  team: boolean;
  local: boolean;
}

/** `focus-conversation` event payload. */
export interface FocusConversation {
  conversation_id: string;
}

/** How a command fails. */
export interface AppError {
  kind: string;
  message: string;
  unseen?: EntryView[];
}

/** A desktop notification as the engine decided it (shoal-app `Notification`). */
export interface NotificationView {
  summary: string;
  body: string;
  conversation_id: string | null;
}

/** `show-notifications`: a summary was clicked; what it stood for. */
export interface ShowNotifications {
  items: NotificationView[];
}

/** Median and 90th percentile of some durations (ms). */
export interface Spread {
  count: number;
  median_ms: number | null;
  p90_ms: number | null;
}

/** One week of the team report (shoal_core::report::Week). */
export interface ReportWeek {
  week: string;
  opened: number;
  by_channel: Record<string, number>;
  by_tag: Record<string, number>;
  by_tier: Record<string, number>;
  feature_requests: number;
  features: Record<string, number>;
  first_response: Spread;
  next_response: Spread;
  resolution: Spread;
  closed_confirmed: number;
  closed_no_reply: number;
  closed_other: number;
  within_target: number;
  responses: number;
  target_rate: number | null;
  backlog_at_end: number;
}

/** `report`: the team's weeks and their charts (SVG). */
export interface ReportView {
  report: { time_zone: string; weeks: ReportWeek[] };
  charts: { name: string; svg: string }[];
}

/** Working hours as the settings edit them. */
export interface HoursView {
  time_zone: string;
  /** 1 = Monday … 7 = Sunday. */
  days: number[];
  /** HH:MM */
  from: string;
  /** HH:MM, 24:00 for midnight. */
  to: string;
  /** In words, from the engine (ignored when sent). */
  description: string;
}

/** `team_settings`: the team's settings and my own working hours. */
export interface TeamSettingsView {
  can_edit: boolean;
  hours: HoursView;
  holidays: { date: string; label: string }[];
  /** Most urgent first; business minutes. */
  targets: { priority: Priority; first_minutes: number; next_minutes: number }[];
  tiers: { tier: string; priority: Priority }[];
  acknowledgements: { mailbox: string; text: string; every_hours: number }[];
  default_acknowledgement: string;
  auto_close_days: number | null;
  my_working_hours: HoursView | null;
}

/** `change_team_settings`: one change. */
export type TeamSettingsChange =
  | { kind: 'hours'; hours: HoursView }
  | { kind: 'add_holiday'; date: string; label: string }
  | { kind: 'remove_holiday'; date: string }
  | { kind: 'target'; priority: Priority; first_minutes: number; next_minutes: number }
  | { kind: 'set_tier'; tier: string; priority: Priority }
  | { kind: 'remove_tier'; tier: string }
  | { kind: 'acknowledgement'; mailbox: string; text: string | null; every_hours: number }
  | { kind: 'auto_close'; days: number | null }
  | { kind: 'my_working_hours'; hours: HoursView | null };

/** `new_customer` / `edit_customer`: a customer's details (emails: primary first). */
export interface CustomerInput {
  name: string;
  emails: string[];
  company: string | null;
  tier: string | null;
}

/** `log_call`: a call written down as a new conversation. */
export interface CallInput {
  /** An e-mail address (a new customer is added), or a known customer's name or id. */
  customer: string;
  /** The name of a customer added by this call. */
  name: string | null;
  subject: string;
  body: string;
}
