// Live state pushed by the shell: sync status and presence.
import type { PresenceView, SyncStatusView } from '../lib/types';

export class LiveStore {
  sync = $state<SyncStatusView>({ state: 'syncing', waiting: 0, pending: 0, token_store: '' });
  presence = $state<PresenceView[]>([]);
}
