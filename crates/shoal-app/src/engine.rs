//! The engine: one replica behind a mutex for the commands, the sync engine
//! on its own thread, events through an [`EventSink`].

use crate::error::{AppError, ErrorKind};
use crate::events::{AppEvent, EventSink};
use crate::notify::{ConversationFacts, Me};
use crate::settings::Settings;
use crate::tokens::{self, TokenStore};
use crate::views::*;
use crate::worker::{self, Msg, SyncHandle, Worker};
use crate::{home, text};
use shoal_core::sla::ReplyClock;
use shoal_core::{
    expand_template, AgentId, ConversationId, CustomerId, CustomerPatch, DocId, NewCustomer,
    Priority, SendGuard, Status, StatusChange, TeamId, Timestamp,
};
use shoal_protocol::PresenceState;
use shoal_replica::{InboxQuery, InboxSort, InboxView, InitOptions, Replica, SystemClock};
use shoal_sync::{RelayConfig, SyncControl, SyncStatus};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long checking a token with the relay may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest inbox page.
const MAX_PAGE: usize = 1000;
/// Search results per query.
const SEARCH_LIMIT: usize = 50;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in another command must not take the app down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// State shared by the commands, the event worker and the sync thread.
pub(crate) struct Shared {
    home: PathBuf,
    replica: Mutex<Option<Replica>>,
    sink: Arc<dyn EventSink>,
    settings: Mutex<Settings>,
    /// The token when no keyring keeps it (this session only).
    memory_token: Mutex<Option<String>>,
    token_store: Mutex<Option<TokenStore>>,
    /// The sync engine's last status and why it stopped, if it did.
    status: Mutex<(Option<SyncStatus>, Option<String>)>,
    presence: Mutex<Vec<PresenceView>>,
    events: Mutex<Sender<Msg>>,
    sync: Mutex<Option<SyncHandle>>,
    my_presence: Mutex<Option<(String, PresenceState)>>,
}

impl Shared {
    pub(crate) fn emit(&self, e: AppEvent) {
        self.sink.emit(e);
    }

    fn send(&self, m: Msg) {
        let _ = lock(&self.events).send(m);
    }

    pub(crate) fn with_replica<T>(&self, f: impl FnOnce(&mut Replica) -> T) -> Option<T> {
        lock(&self.replica).as_mut().map(f)
    }

    pub(crate) fn me(&self) -> Option<Me> {
        let (agent, available) = self.with_replica(|r| {
            let available = r.my_availability().map_or(true, |a| a.takes_new_work());
            (r.identity().agent_id.to_string(), available)
        })?;
        Some(worker::me_of(&agent, *lock(&self.settings), available))
    }

    pub(crate) fn conversation_facts(&self, id: &str) -> Option<ConversationFacts> {
        self.with_replica(|r| crate::facts::conversation_facts(r, id))
            .flatten()
    }

    pub(crate) fn set_status(&self, sync: Option<SyncStatus>, stopped: Option<String>) {
        *lock(&self.status) = (sync, stopped);
    }

    /// The sync indicator now.
    pub(crate) fn current_status(&self) -> SyncStatusView {
        let (sync, stopped) = lock(&self.status).clone();
        self.status_view(sync.as_ref(), stopped.as_deref())
    }

    pub(crate) fn set_presence(&self, v: Vec<PresenceView>) {
        *lock(&self.presence) = v;
    }

    fn token_store_name(&self) -> String {
        lock(&self.token_store)
            .map_or("none", |s| s.as_str())
            .to_owned()
    }

    /// The sync indicator from the sync engine's last status.
    pub(crate) fn status_view(
        &self,
        sync: Option<&SyncStatus>,
        stopped: Option<&str>,
    ) -> SyncStatusView {
        let (relay, waiting) = self
            .with_replica(|r| {
                let relay = r.relay_url().ok().flatten();
                let waiting = if relay.is_some() {
                    r.dirty_docs().map(|d| d.len()).unwrap_or(0)
                } else {
                    0
                };
                (relay, waiting)
            })
            .unwrap_or((None, 0));
        let mut v = SyncStatusView {
            state: "local".into(),
            waiting,
            pending: 0,
            reason: None,
            retry_in_ms: None,
            token_store: self.token_store_name(),
        };
        if relay.is_none() {
            return v;
        }
        let has_sync = lock(&self.sync).is_some();
        match (stopped, sync, has_sync) {
            (Some(reason), _, _) => {
                v.state = "offline".into();
                v.reason = Some(reason.to_owned());
            }
            (None, _, false) => {
                v.state = "offline".into();
                v.reason = Some("no relay token: sign in again".into());
            }
            (None, None, true) => v.state = "syncing".into(),
            (
                None,
                Some(SyncStatus::Offline {
                    reason,
                    retry_in_ms,
                }),
                true,
            ) => {
                v.state = "offline".into();
                v.reason = Some(reason.clone());
                v.retry_in_ms = Some(*retry_in_ms);
            }
            (None, Some(SyncStatus::Syncing { pending }), true) => {
                v.state = "syncing".into();
                v.pending = *pending;
            }
            (None, Some(SyncStatus::Online), true) => v.state = "online".into(),
        }
        v
    }
}

/// The desktop app's engine. Dropping it stops its threads.
pub struct Engine {
    shared: Arc<Shared>,
}

impl Engine {
    /// Opens the replica in `home` if there is one, starts the event worker
    /// and, for a workspace with a relay and a stored token, the sync engine.
    pub fn open(home: &Path, sink: Arc<dyn EventSink>) -> Result<Engine, AppError> {
        let path = home::replica_path(home);
        let replica = if path.exists() {
            Some(Replica::open(&path)?)
        } else {
            None
        };
        let catching_up = replica
            .as_ref()
            .map(|r| r.relay_url().ok().flatten().is_some() && r.sync_cursor().unwrap_or(0) == 0)
            .unwrap_or(false);
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = Arc::new(Shared {
            home: home.to_owned(),
            replica: Mutex::new(replica),
            sink,
            settings: Mutex::new(Settings::load(home)),
            memory_token: Mutex::new(None),
            token_store: Mutex::new(None),
            status: Mutex::new((None, None)),
            presence: Mutex::new(Vec::new()),
            events: Mutex::new(tx),
            sync: Mutex::new(None),
            my_presence: Mutex::new(None),
        });
        let engine = Engine { shared };
        engine.start_sync_if_possible();
        Worker::spawn(engine.shared.clone(), rx, catching_up);
        Ok(engine)
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        &self.shared.home
    }

    fn start_sync_if_possible(&self) {
        let info = self.shared.with_replica(|r| {
            (
                r.relay_url().ok().flatten(),
                r.identity().agent_id.to_string(),
                r.path().to_owned(),
            )
        });
        let Some((Some(url), agent, path)) = info else {
            return;
        };
        let token = match lock(&self.shared.memory_token).clone() {
            Some(t) => Some((t, TokenStore::Memory)),
            None => tokens::load(&agent),
        };
        let Some((token, store)) = token else {
            tracing::warn!("this replica syncs with {url} but no token is stored");
            return;
        };
        *lock(&self.shared.token_store) = Some(store);
        self.start_sync(path, RelayConfig { url, token });
    }

    fn start_sync(&self, path: PathBuf, cfg: RelayConfig) {
        let tx = lock(&self.shared.events).clone();
        let handle = SyncHandle::start(path, cfg, tx);
        if let Some(p) = lock(&self.shared.my_presence).clone() {
            let _ = handle.control.send(SyncControl::Presence(Some(p)));
        }
        let old = lock(&self.shared.sync).replace(handle);
        if let Some(old) = old {
            old.stop();
        }
        self.shared.send(Msg::RefreshStatus);
    }

    fn control(&self, c: SyncControl) {
        if let Some(h) = lock(&self.shared.sync).as_ref() {
            let _ = h.control.send(c);
        }
    }

    /// Runs `f` on the replica; `not-ready` before onboarding.
    fn read<T>(&self, f: impl FnOnce(&mut Replica) -> Result<T, AppError>) -> Result<T, AppError> {
        self.shared.with_replica(f).unwrap_or_else(|| {
            Err(AppError::new(
                ErrorKind::NotReady,
                "no workspace yet: start a local one or join a team",
            ))
        })
    }

    /// Runs a write on the replica, then announces the change and pushes it.
    fn write<T>(
        &self,
        doc: DocId,
        f: impl FnOnce(&mut Replica) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let out = self.read(f)?;
        self.local_change(vec![doc]);
        Ok(out)
    }

    fn local_change(&self, docs: Vec<DocId>) {
        self.shared.send(Msg::Changed { docs, local: true });
        self.control(SyncControl::PushNow);
    }

    fn set_my_presence(&self, p: Option<(String, PresenceState)>) {
        *lock(&self.shared.my_presence) = p.clone();
        self.control(SyncControl::Presence(p));
    }

    // ----- onboarding -------------------------------------------------------

    /// The app's overall state.
    pub fn app_state(&self) -> AppState {
        let sync = self.shared.current_status();
        let info = self.shared.with_replica(|r| {
            let me = r.identity().clone();
            let team = r.team().ok();
            let agent = team.as_ref().and_then(|t| t.agent(&me.agent_id).cloned());
            (
                me,
                team.map(|t| t.name),
                agent,
                r.relay_url().ok().flatten(),
            )
        });
        let needs_sign_in =
            info.as_ref().is_some_and(|i| i.3.is_some()) && lock(&self.shared.sync).is_none();
        match info {
            None => AppState {
                ready: false,
                home: self.shared.home.display().to_string(),
                team_id: None,
                team_name: None,
                agent_id: None,
                agent_name: None,
                agent_email: None,
                relay_url: None,
                needs_sign_in: false,
                sync,
            },
            Some((me, team_name, agent, relay_url)) => AppState {
                ready: true,
                home: self.shared.home.display().to_string(),
                team_id: Some(me.team_id.to_string()),
                team_name,
                agent_id: Some(me.agent_id.to_string()),
                agent_name: agent.as_ref().map(|a| a.name.clone()),
                agent_email: agent.map(|a| a.email),
                relay_url,
                needs_sign_in,
                sync,
            },
        }
    }

    fn ensure_no_replica(&self) -> Result<PathBuf, AppError> {
        let path = home::replica_path(&self.shared.home);
        if lock(&self.shared.replica).is_some() || path.exists() {
            return Err(AppError::new(
                ErrorKind::AlreadySetUp,
                format!(
                    "a workspace already exists in {}",
                    self.shared.home.display()
                ),
            ));
        }
        Ok(path)
    }

    /// Creates a local workspace (no relay), like `shoal init`.
    pub fn start_local(
        &self,
        team_name: &str,
        agent_name: &str,
        agent_email: &str,
    ) -> Result<AppState, AppError> {
        let (team_name, agent_name, agent_email) =
            (team_name.trim(), agent_name.trim(), agent_email.trim());
        if team_name.is_empty() || agent_name.is_empty() {
            return Err(AppError::invalid(
                "the team name and your name are required",
            ));
        }
        if !agent_email.contains('@') {
            return Err(AppError::invalid(format!(
                "`{agent_email}` is not an e-mail address"
            )));
        }
        let path = self.ensure_no_replica()?;
        home::create(&self.shared.home)?;
        let opts = InitOptions {
            team_name: team_name.to_owned(),
            agent_name: agent_name.to_owned(),
            agent_email: agent_email.to_owned(),
        };
        let replica = Replica::init(&path, &opts).inspect_err(|_| {
            // Half a workspace would block the next attempt.
            let _ = std::fs::remove_file(&path);
        })?;
        *lock(&self.shared.replica) = Some(replica);
        self.shared.send(Msg::Baseline);
        self.shared.send(Msg::Changed {
            docs: Vec::new(),
            local: true,
        });
        self.shared.send(Msg::RefreshStatus);
        Ok(self.app_state())
    }

    /// Checks `token` with the relay and returns its welcome.
    fn check_token(relay_url: &str, token: &str) -> Result<shoal_sync::Welcome, AppError> {
        let cfg = RelayConfig {
            url: relay_url.to_owned(),
            token: token.to_owned(),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AppError::new(ErrorKind::Storage, e.to_string()))?;
        rt.block_on(async {
            match tokio::time::timeout(CONNECT_TIMEOUT, shoal_sync::connect(&cfg)).await {
                Err(_) => Err(AppError::new(
                    ErrorKind::Relay,
                    format!("the relay at {relay_url} did not answer in time"),
                )),
                Ok(Err(e)) => {
                    let kind = if e.is_permanent() {
                        ErrorKind::Auth
                    } else {
                        ErrorKind::Relay
                    };
                    Err(AppError::new(
                        kind,
                        format!("cannot join through {relay_url}: {e}"),
                    ))
                }
                Ok(Ok((conn, welcome))) => {
                    conn.close().await;
                    Ok(welcome)
                }
            }
        })
    }

    fn keep_token(&self, agent_id: &str, token: &str) {
        let store = tokens::save(agent_id, token);
        *lock(&self.shared.memory_token) = (store == TokenStore::Memory).then(|| token.to_owned());
        *lock(&self.shared.token_store) = Some(store);
    }

    /// Joins a team through its relay, like `shoal login` on an empty home:
    /// checks the token, creates the replica, keeps the token in the
    /// keyring and starts syncing (the first sync runs in the background).
    pub fn join_team(&self, relay_url: &str, token: &str) -> Result<AppState, AppError> {
        let (relay_url, token) = (relay_url.trim(), token.trim());
        if relay_url.is_empty() || token.is_empty() {
            return Err(AppError::invalid(
                "the relay address and the token are required",
            ));
        }
        let path = self.ensure_no_replica()?;
        let welcome = Self::check_token(relay_url, token)?;
        let team = TeamId::parse(&welcome.team_id)?;
        let agent = AgentId::parse(&welcome.agent_id)?;
        home::create(&self.shared.home)?;
        let mut replica = Replica::create_empty(&path, &team, &agent, Arc::new(SystemClock))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&path);
            })?;
        replica.set_relay_url(relay_url)?;
        self.keep_token(agent.as_str(), token);
        *lock(&self.shared.replica) = Some(replica);
        self.shared.send(Msg::CatchUp);
        self.start_sync(
            path,
            RelayConfig {
                url: relay_url.to_owned(),
                token: token.to_owned(),
            },
        );
        Ok(self.app_state())
    }

    /// For a replica whose token is missing from the keyring: checks the
    /// token against the replica's relay and identity, keeps it, syncs.
    pub fn sign_in(&self, token: &str) -> Result<AppState, AppError> {
        let token = token.trim();
        let (url, me, path) = self.read(|r| {
            let url = r.relay_url()?.ok_or_else(|| {
                AppError::invalid("this workspace is local: it has no relay to sign in to")
            })?;
            Ok((url, r.identity().clone(), r.path().to_owned()))
        })?;
        let welcome = Self::check_token(&url, token)?;
        if welcome.team_id != me.team_id.as_str() || welcome.agent_id != me.agent_id.as_str() {
            return Err(AppError::new(
                ErrorKind::Auth,
                format!(
                    "this token belongs to agent {} of team {}, not to this workspace's agent {} of team {}",
                    welcome.agent_id, welcome.team_id, me.agent_id, me.team_id
                ),
            ));
        }
        self.keep_token(me.agent_id.as_str(), token);
        self.start_sync(
            path,
            RelayConfig {
                url,
                token: token.to_owned(),
            },
        );
        Ok(self.app_state())
    }

    /// Joins automatically when `SHOAL_JOIN_RELAY` and `SHOAL_JOIN_TOKEN`
    /// are set and no replica exists yet (scripts/run.sh's demo). `None`
    /// when there is nothing to do.
    pub fn join_from_env(&self) -> Option<Result<AppState, AppError>> {
        let relay = std::env::var("SHOAL_JOIN_RELAY").ok()?;
        let token = std::env::var("SHOAL_JOIN_TOKEN").ok()?;
        if lock(&self.shared.replica).is_some() || home::replica_path(&self.shared.home).exists() {
            return None;
        }
        Some(self.join_team(&relay, &token))
    }

    // ----- the inbox ----------------------------------------------------------

    /// A page of a view, newest activity first, and the size of the whole view.
    pub fn inbox(&self, view: &str, offset: usize, limit: usize) -> Result<InboxPage, AppError> {
        self.inbox_sorted(view, "activity", offset, limit)
    }

    /// A page of a view in an order (`activity`, `due`, `waiting`), and the
    /// size of the whole view.
    pub fn inbox_sorted(
        &self,
        view: &str,
        sort: &str,
        offset: usize,
        limit: usize,
    ) -> Result<InboxPage, AppError> {
        self.inbox_page(view, sort, None, offset, limit)
    }

    /// A page of a view in an order, only conversations with `tag` when
    /// given, and how many the view so filtered holds.
    pub fn inbox_page(
        &self,
        view: &str,
        sort: &str,
        tag: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<InboxPage, AppError> {
        let view = InboxView::from_str(view).map_err(AppError::invalid)?;
        let sort = InboxSort::from_str(sort).map_err(AppError::invalid)?;
        let tag = tag
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty());
        self.read(|r| {
            let q = InboxQuery {
                offset,
                limit: limit.clamp(1, MAX_PAGE),
                sort,
                tag,
                ..InboxQuery::view(view)
            };
            let rows = r.inbox(&q)?;
            let total = if q.tag.is_some() {
                r.inbox_total(&q)?
            } else {
                r.inbox_count(view)?
            };
            Ok(InboxPage { rows, total })
        })
    }

    /// Conversations per view, by view name.
    pub fn inbox_counts(&self) -> Result<std::collections::BTreeMap<String, i64>, AppError> {
        self.read(|r| {
            Ok(r.inbox_counts()?
                .into_iter()
                .map(|(v, n)| (v.as_str().to_owned(), n))
                .collect())
        })
    }

    fn conv_id(id: &str) -> Result<ConversationId, AppError> {
        ConversationId::parse(id.trim()).map_err(|e| AppError::invalid(e.to_string()))
    }

    fn view_of(r: &Replica, id: &ConversationId) -> Result<ConversationView, AppError> {
        let conv = r.conversation(id)?;
        let customer = r.customer(&conv.customer_id).ok();
        let team = r.team().ok();
        let names = agent_names(team.as_ref());
        let me = r.identity().agent_id.clone();
        let admin = r.is_admin().unwrap_or(false);
        let now = r.now();
        let waiting = shoal_core::sla::waiting(&conv);
        Ok(ConversationView {
            id: conv.id.to_string(),
            subject: conv.subject.clone(),
            channel: conv.channel.to_string(),
            status: conv.effective_status(now).to_string(),
            snooze_until: conv.snooze_until.map(|t| t.as_millis()),
            assignee: conv.assignee.as_ref().map(|a| a.to_string()),
            assignee_name: conv.assignee.as_ref().map(|a| {
                names
                    .get(a.as_str())
                    .cloned()
                    .unwrap_or_else(|| a.to_string())
            }),
            priority: conv.priority.to_string(),
            tags: conv.tags.clone(),
            created_at: conv.created_at.as_millis(),
            customer_id: conv.customer_id.to_string(),
            customer_name: customer.as_ref().map(|c| c.name.clone()),
            customer_email: customer.as_ref().and_then(|c| c.emails.first().cloned()),
            waiting_since: waiting.map(|w| w.since.as_millis()),
            follow_up_at: (conv.status == shoal_core::Status::Pending)
                .then_some(conv.follow_up_at)
                .flatten()
                .map(|t| t.as_millis()),
            resolution: conv.resolution.map(|r| r.to_string()),
            reply_due: waiting
                .zip(team.as_ref())
                .and_then(|(w, t)| ReplyClock::of(t).due(w, conv.priority))
                .map(|t| t.as_millis()),
            draft: r.draft(id)?.map(|d| DraftView {
                mode: d.mode,
                body: d.body,
            }),
            entries: conv
                .entries
                .iter()
                .map(|e| {
                    let mut v = entry_view(e, &conv, &me, &names, customer.as_ref());
                    v.can_decide |= admin && v.delivery_state.as_deref() == Some("held");
                    v
                })
                .collect(),
            conflicts: conv
                .conflicts
                .iter()
                .map(|c| ConflictView {
                    field: c.field.clone(),
                    values: c.values.clone(),
                })
                .collect(),
        })
    }

    /// A conversation, without marking it seen.
    pub fn conversation(&self, id: &str) -> Result<ConversationView, AppError> {
        let id = Self::conv_id(id)?;
        self.read(|r| Self::view_of(r, &id))
    }

    /// Opens a conversation: marks what it shows as seen and announces
    /// "viewing" to the team.
    pub fn open_conversation(&self, id: &str) -> Result<ConversationView, AppError> {
        let cid = Self::conv_id(id)?;
        let (view, marked) = self.read(|r| {
            let shown = r.conversation(&cid)?;
            let me = r.identity().agent_id.clone();
            let marked = !shown.unseen_by(&me).is_empty() || shown.unread_for(&me);
            if marked {
                let ids: Vec<_> = shown.entries.iter().map(|e| e.id.clone()).collect();
                r.mark_seen(&cid, &ids)?;
            }
            Ok((Self::view_of(r, &cid)?, marked))
        })?;
        if marked {
            self.local_change(vec![DocId::conversation(&cid)]);
        }
        self.set_my_presence(Some((cid.to_string(), PresenceState::Viewing)));
        Ok(view)
    }

    /// Withdraws my presence announcement.
    pub fn leave_conversation(&self) {
        self.set_my_presence(None);
    }

    /// Presence "composing" (a reply, or a note with `note`) in `id`, or
    /// back to "viewing".
    pub fn set_composing(&self, id: &str, composing: bool, note: bool) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        let state = match (composing, note) {
            (true, false) => PresenceState::Composing,
            (true, true) => PresenceState::ComposingNote,
            (false, _) => PresenceState::Viewing,
        };
        self.set_my_presence(Some((cid.to_string(), state)));
        Ok(())
    }

    /// Replies, behind the send guard: rejects with `send-guard` and the
    /// unseen entries unless `force`.
    pub fn reply(&self, id: &str, body: &str, force: bool) -> Result<EntryCreated, AppError> {
        let cid = Self::conv_id(id)?;
        if body.trim().is_empty() {
            return Err(AppError::invalid("the reply is empty"));
        }
        self.write(DocId::conversation(&cid), |r| {
            let conv = r.conversation(&cid)?;
            if conv.status == Status::Closed {
                return Err(AppError::new(
                    ErrorKind::Closed,
                    "this conversation is closed; reopen it before replying",
                ));
            }
            let me = r.identity().agent_id.clone();
            let unseen = conv.unseen_by(&me);
            if !unseen.is_empty() && !force {
                let customer = r.customer(&conv.customer_id).ok();
                let names = agent_names(r.team().ok().as_ref());
                let views: Vec<EntryView> = unseen
                    .iter()
                    .map(|e| entry_view(e, &conv, &me, &names, customer.as_ref()))
                    .collect();
                return Err(AppError {
                    kind: ErrorKind::SendGuard,
                    message: format!(
                        "not sending: {} new {} you have not seen",
                        views.len(),
                        if views.len() == 1 { "entry" } else { "entries" }
                    ),
                    unseen: Some(views),
                });
            }
            let guard = if force {
                SendGuard::Force
            } else {
                SendGuard::Check
            };
            let entry = r.reply(&cid, body, None, guard)?;
            r.clear_draft(&cid)?;
            Ok(EntryCreated {
                entry_id: entry.to_string(),
            })
        })
    }

    /// Withdraws a queued reply of mine within the undo window.
    pub fn unsend(&self, id: &str, entry_id: &str) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        let entry = shoal_core::EntryId::parse(entry_id.trim())?;
        self.write(DocId::conversation(&cid), |r| {
            r.unsend(&cid, Some(&entry))?;
            Ok(())
        })
    }

    /// Sends a held reply of mine anyway (or, as an admin, anyone's),
    /// with `body` as its new text when given.
    pub fn release_reply(
        &self,
        id: &str,
        entry_id: &str,
        body: Option<&str>,
    ) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        let entry = shoal_core::EntryId::parse(entry_id.trim())?;
        if body.is_some_and(|b| b.trim().is_empty()) {
            return Err(AppError::invalid("the reply is empty"));
        }
        self.write(DocId::conversation(&cid), |r| {
            r.release(&cid, &entry, body)?;
            Ok(())
        })
    }

    /// Discards a held reply: never sent, its text kept.
    pub fn discard_reply(&self, id: &str, entry_id: &str) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        let entry = shoal_core::EntryId::parse(entry_id.trim())?;
        self.write(DocId::conversation(&cid), |r| {
            r.discard(&cid, &entry)?;
            Ok(())
        })
    }

    /// Keeps what I am writing in `id` (`mode`: reply or note) in the
    /// replica, so closing the app loses nothing; blank removes it.
    pub fn save_draft(&self, id: &str, mode: &str, body: &str) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        if mode != "reply" && mode != "note" {
            return Err(AppError::invalid("a draft is a reply or a note"));
        }
        self.read(|r| Ok(r.save_draft(&cid, mode, body)?))
    }

    /// Adds an internal note.
    pub fn note(&self, id: &str, body: &str) -> Result<EntryCreated, AppError> {
        let cid = Self::conv_id(id)?;
        if body.trim().is_empty() {
            return Err(AppError::invalid("the note is empty"));
        }
        self.write(DocId::conversation(&cid), |r| {
            let entry = r.note(&cid, body)?;
            r.clear_draft(&cid)?;
            Ok(EntryCreated {
                entry_id: entry.to_string(),
            })
        })
    }

    /// Assigns to an agent, or unassigns (`None`).
    pub fn assign(&self, id: &str, agent_id: Option<&str>) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        let agent = agent_id
            .filter(|a| !a.trim().is_empty())
            .map(|a| AgentId::parse(a.trim()))
            .transpose()?;
        self.write(DocId::conversation(&cid), |r| {
            r.assign(&cid, agent.as_ref())?;
            Ok(())
        })
    }

    /// Assigns to me.
    pub fn take(&self, id: &str) -> Result<(), AppError> {
        let me = self.read(|r| Ok(r.identity().agent_id.to_string()))?;
        self.assign(id, Some(&me))
    }

    /// Sets the status; `until` (ms) only and always for `snoozed`.
    pub fn set_status(&self, id: &str, status: &str, until: Option<i64>) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        let status = Status::from_str(status).map_err(|e| AppError::invalid(e.to_string()))?;
        let until = match (status, until) {
            (Status::Snoozed, Some(t)) => Some(Timestamp(t)),
            (Status::Snoozed, None) => {
                return Err(AppError::invalid("snoozing needs a time to wake up"))
            }
            (_, _) => None,
        };
        self.write(DocId::conversation(&cid), |r| {
            r.set_status(&cid, StatusChange { status, until })?;
            Ok(())
        })
    }

    /// Settles a field agents changed concurrently (the conflict banner's
    /// "Keep" / "Change to"): writes `value` over every concurrent value, so
    /// the conflict is gone on every replica once synced. `value` is an
    /// agent id or "" for `assignee`, a status or a priority.
    pub fn resolve_conflict(&self, id: &str, field: &str, value: &str) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        match field {
            "assignee" => self.assign(id, Some(value)),
            "priority" => self.set_priority(id, value),
            "status" => {
                // A snooze keeps its wake-up time when it is the one kept.
                let until = self
                    .read(|r| Ok(r.conversation(&cid)?.snooze_until))?
                    .map(|t| t.as_millis());
                self.set_status(id, value, until.filter(|_| value == "snoozed"))
            }
            other => Err(AppError::invalid(format!(
                "`{other}` is not a field that can conflict"
            ))),
        }
    }

    /// Adds a customer; returns their id.
    pub fn new_customer(&self, input: CustomerInput) -> Result<String, AppError> {
        let input = input.cleaned()?;
        let id = self.read(|r| {
            Ok(r.new_customer(NewCustomer {
                name: input.name.clone(),
                emails: input.emails.clone(),
                company: input.company.clone(),
                tier: input.tier.clone(),
                ..Default::default()
            })?)
        })?;
        self.local_change(vec![DocId::customer(&id)]);
        Ok(id.to_string())
    }

    /// Replaces a customer's details with `input` (addresses added and
    /// removed as the new list says, the first staying primary).
    pub fn edit_customer(&self, id: &str, input: CustomerInput) -> Result<(), AppError> {
        let cid = CustomerId::parse(id.trim())?;
        let input = input.cleaned()?;
        self.write(DocId::customer(&cid), |r| {
            let now = r.customer(&cid)?;
            let lower =
                |v: &[String]| -> Vec<String> { v.iter().map(|e| e.to_lowercase()).collect() };
            let (old, new) = (lower(&now.emails), lower(&input.emails));
            let patch = CustomerPatch {
                name: (input.name != now.name).then(|| input.name.clone()),
                add_emails: input
                    .emails
                    .iter()
                    .filter(|e| !old.contains(&e.to_lowercase()))
                    .cloned()
                    .collect(),
                remove_emails: now
                    .emails
                    .iter()
                    .filter(|e| !new.contains(&e.to_lowercase()))
                    .cloned()
                    .collect(),
                company: (input.company != now.company).then(|| input.company.clone()),
                tier: (input.tier != now.tier).then(|| input.tier.clone()),
            };
            if !patch.is_empty() {
                r.edit_customer(&cid, &patch)?;
            }
            Ok(())
        })
    }

    /// Writes down a call as a new conversation of the customer `input`
    /// names (an e-mail address adds a customer not known yet); returns its id.
    pub fn log_call(&self, input: CallInput) -> Result<String, AppError> {
        let (subject, body) = (input.subject.trim(), input.body.trim());
        if subject.is_empty() {
            return Err(AppError::invalid("the call needs a subject"));
        }
        if body.is_empty() {
            return Err(AppError::invalid("write down what the customer said"));
        }
        let id = self.read(|r| {
            let customer = customer_for(r, &input)?;
            let (id, _) = r.new_conversation(shoal_replica::NewConversationInput {
                subject: subject.to_owned(),
                channel: shoal_core::Channel::Phone,
                customer: customer.clone(),
                body: body.to_owned(),
                priority: None,
                received_at: None,
                headers: Default::default(),
            })?;
            Ok((id, customer))
        })?;
        self.local_change(vec![DocId::conversation(&id.0), DocId::customer(&id.1)]);
        Ok(id.0.to_string())
    }

    /// Starts a conversation by writing to the customer `input` names (an
    /// e-mail address adds one not known yet): the e-mail is queued like a
    /// reply and sent by the relay; returns the conversation's id.
    pub fn write_to_customer(&self, input: CallInput) -> Result<String, AppError> {
        let (subject, body) = (input.subject.trim(), input.body.trim());
        if subject.is_empty() {
            return Err(AppError::invalid("the e-mail needs a subject"));
        }
        if body.is_empty() {
            return Err(AppError::invalid("the e-mail is empty"));
        }
        let (id, customer) = self.read(|r| {
            let customer = customer_for(r, &input)?;
            let (id, _) = r.start_conversation(&customer, subject, body)?;
            Ok((id, customer))
        })?;
        self.local_change(vec![DocId::conversation(&id), DocId::customer(&customer)]);
        Ok(id.to_string())
    }

    /// Moves a conversation to another customer (an id, e-mail or name).
    pub fn move_conversation(&self, id: &str, customer: &str) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        self.write(DocId::conversation(&cid), |r| {
            let to = r
                .resolve_customer(customer)
                .map_err(|_| AppError::invalid(format!("no customer is `{}`", customer.trim())))?;
            r.set_conversation_customer(&cid, &to)?;
            Ok(())
        })
    }

    /// Every tag, to pick from: the team's and those in use, sorted.
    pub fn tags(&self) -> Result<Vec<String>, AppError> {
        self.read(|r| Ok(r.tags()?))
    }

    /// Sets the priority (`urgent`, `high`, `normal`, `low`).
    pub fn set_priority(&self, id: &str, priority: &str) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        let p = Priority::from_str(priority).map_err(|e| AppError::invalid(e.to_string()))?;
        self.write(DocId::conversation(&cid), |r| {
            r.set_priority(&cid, p)?;
            Ok(())
        })
    }

    /// Adds a tag.
    pub fn tag(&self, id: &str, tag: &str) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        let tag = tag.trim();
        if tag.is_empty() {
            return Err(AppError::invalid("the tag is empty"));
        }
        self.write(DocId::conversation(&cid), |r| {
            r.tag(&cid, &[tag.to_owned()])?;
            Ok(())
        })
    }

    /// Removes a tag.
    pub fn untag(&self, id: &str, tag: &str) -> Result<(), AppError> {
        let cid = Self::conv_id(id)?;
        self.write(DocId::conversation(&cid), |r| {
            r.untag(&cid, &[tag.trim().to_owned()])?;
            Ok(())
        })
    }

    // ----- customers, team, templates, search ------------------------------------

    /// A customer with notes and every conversation.
    pub fn customer(&self, id: &str) -> Result<CustomerView, AppError> {
        let cid = CustomerId::parse(id.trim())?;
        self.read(|r| {
            let c = r.customer(&cid)?;
            let q = InboxQuery {
                customer: Some(cid.clone()),
                limit: MAX_PAGE,
                ..InboxQuery::view(InboxView::All)
            };
            Ok(CustomerView {
                id: c.id.to_string(),
                name: c.name,
                emails: c.emails,
                company: c.company,
                tier: c.tier,
                notes: c.notes,
                created_at: c.created_at.as_millis(),
                conversations: r.inbox(&q)?,
            })
        })
    }

    /// Edits the customer's notes; `index` and `delete_count` count UTF-16
    /// code units, as the browser does.
    pub fn splice_customer_notes(
        &self,
        id: &str,
        index: usize,
        delete_count: usize,
        insert: &str,
    ) -> Result<(), AppError> {
        let cid = CustomerId::parse(id.trim())?;
        self.write(DocId::customer(&cid), |r| {
            let notes = r.customer(&cid)?.notes;
            let (pos, delete) = text::utf16_splice_to_chars(&notes, index, delete_count)
                .ok_or_else(|| {
                    AppError::invalid(format!(
                        "cannot edit the notes at {index}+{delete_count}: outside the text or inside a character (they changed meanwhile?)"
                    ))
                })?;
            r.splice_customer_notes(&cid, pos, delete, insert)?;
            Ok(())
        })
    }

    /// The team.
    pub fn team(&self) -> Result<TeamView, AppError> {
        self.read(|r| {
            let me = r.identity().clone();
            // Right after joining, the team document may not have arrived yet.
            let Ok(team) = r.team() else {
                return Ok(TeamView {
                    id: me.team_id.to_string(),
                    name: String::new(),
                    agents: Vec::new(),
                    tags: Vec::new(),
                    me: me.agent_id.to_string(),
                });
            };
            let now = r.now();
            Ok(TeamView {
                id: team.id.to_string(),
                name: team.name.clone(),
                agents: team
                    .agents
                    .iter()
                    .map(|a| AgentView {
                        id: a.id.to_string(),
                        name: a.name.clone(),
                        email: a.email.clone(),
                        role: a.role.to_string(),
                        // Off outside their own working hours.
                        availability: a.availability_at(now).to_string(),
                        me: a.id == me.agent_id,
                    })
                    .collect(),
                tags: team.tags.clone(),
                me: me.agent_id.to_string(),
            })
        })
    }

    /// My templates, by name.
    pub fn templates(&self) -> Result<Vec<TemplateView>, AppError> {
        self.read(|r| {
            // The private document arrives with the first sync after a join.
            let Ok(private) = r.agent_private() else {
                return Ok(Vec::new());
            };
            Ok(private
                .templates
                .into_iter()
                .map(|(name, body)| TemplateView { name, body })
                .collect())
        })
    }

    /// Adds or replaces a template.
    pub fn set_template(&self, name: &str, body: &str) -> Result<(), AppError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::invalid("the template needs a name"));
        }
        let doc = self.read(|r| Ok(DocId::agent_private(&r.identity().agent_id)))?;
        self.write(doc, |r| Ok(r.set_template(name, body)?))
    }

    /// Removes a template.
    pub fn remove_template(&self, name: &str) -> Result<(), AppError> {
        let doc = self.read(|r| Ok(DocId::agent_private(&r.identity().agent_id)))?;
        self.write(doc, |r| {
            if !r.remove_template(name.trim())? {
                return Err(AppError::new(
                    ErrorKind::NotFound,
                    format!("you have no template named `{name}`"),
                ));
            }
            Ok(())
        })
    }

    /// A template filled in for a conversation's customer and me.
    pub fn expand_template(&self, id: &str, name: &str) -> Result<String, AppError> {
        let cid = Self::conv_id(id)?;
        self.read(|r| {
            let private = r.agent_private()?;
            let template = private.templates.get(name.trim()).ok_or_else(|| {
                AppError::new(
                    ErrorKind::NotFound,
                    format!("you have no template named `{name}`"),
                )
            })?;
            let conv = r.conversation(&cid)?;
            let customer = r.customer(&conv.customer_id).ok();
            let team = r.team().ok();
            let me = r.identity().agent_id.clone();
            Ok(expand_template(
                template,
                customer.as_ref(),
                team.as_ref().and_then(|t| t.agent(&me)),
                team.as_ref(),
            ))
        })
    }

    /// Search as you type (the last word is a prefix).
    pub fn search(&self, query: &str) -> Result<Vec<SearchHit>, AppError> {
        if query.trim().is_empty() {
            return Ok(Vec::new());
        }
        self.read(|r| Ok(r.search(query, true, SEARCH_LIMIT)?))
    }

    /// Everyone else's live presence.
    pub fn presence(&self) -> Vec<PresenceView> {
        lock(&self.shared.presence).clone()
    }

    /// The settings.
    pub fn settings(&self) -> Settings {
        *lock(&self.shared.settings)
    }

    /// Waits for the customer to confirm the conversation is solved: pending,
    /// with a reminder at `follow_up_at` (ms) if they have not answered.
    pub fn await_confirmation(&self, id: &str, follow_up_at: i64) -> Result<(), AppError> {
        let conv = Self::conv_id(id)?;
        self.write(DocId::conversation(&conv), |r| {
            Ok(r.await_confirmation(&conv, shoal_core::Timestamp(follow_up_at))?)
        })
    }

    /// Closes a conversation the customer confirmed as solved.
    pub fn close_confirmed(&self, id: &str) -> Result<(), AppError> {
        let conv = Self::conv_id(id)?;
        self.write(DocId::conversation(&conv), |r| {
            Ok(r.close_as(&conv, shoal_core::Resolution::Confirmed)?)
        })
    }

    /// The team report over the last `weeks` weeks, with its charts.
    pub fn report(&self, weeks: u32) -> Result<ReportView, AppError> {
        self.read(|r| {
            let report = r.report(weeks.clamp(1, 520))?;
            let charts = shoal_core::report_charts::charts(&report)
                .into_iter()
                .map(|(file, svg)| ChartView {
                    name: file.trim_end_matches(".svg").to_owned(),
                    svg,
                })
                .collect();
            Ok(ReportView { report, charts })
        })
    }

    /// Sets my availability (`available`, `busy`, `away`, `off`) in the
    /// team document, for the whole team to see; returns the team.
    pub fn set_availability(&self, availability: &str) -> Result<TeamView, AppError> {
        let availability = shoal_core::AgentAvailability::from_str(availability)
            .map_err(|e| AppError::invalid(e.to_string()))?;
        let team = self.read(|r| Ok(DocId::team(&r.identity().team_id)))?;
        self.write(team, |r| Ok(r.set_my_availability(availability)?))?;
        self.team()
    }

    /// The team's settings (hours, holidays, targets, tiers,
    /// acknowledgements, auto-close) and my own working hours.
    pub fn team_settings(&self) -> Result<crate::TeamSettingsView, AppError> {
        self.read(|r| crate::team_settings::view(r))
    }

    /// Makes one change of the team's settings (admins only, except my own
    /// working hours); returns the settings as they are now.
    pub fn change_team_settings(
        &self,
        change: crate::TeamSettingsChange,
    ) -> Result<crate::TeamSettingsView, AppError> {
        let team = self.read(|r| Ok(DocId::team(&r.identity().team_id)))?;
        self.write(team, |r| crate::team_settings::apply(r, change))?;
        self.team_settings()
    }

    /// Saves the settings.
    pub fn set_settings(&self, settings: Settings) -> Result<Settings, AppError> {
        home::create(&self.shared.home)?;
        settings.save(&self.shared.home).map_err(|e| {
            AppError::new(ErrorKind::Storage, format!("cannot save the settings: {e}"))
        })?;
        *lock(&self.shared.settings) = settings;
        Ok(settings)
    }

    /// The current sync indicator.
    pub fn sync_status(&self) -> SyncStatusView {
        self.shared.current_status()
    }

    /// A notification was clicked: tell the UI to show the conversation.
    pub fn focus_conversation(&self, conversation_id: &str) {
        self.shared.emit(AppEvent::FocusConversation {
            conversation_id: conversation_id.to_owned(),
        });
    }

    /// Asks the UI to list `items` (a summary notification was clicked).
    pub fn show_notifications(&self, items: Vec<crate::Notification>) {
        self.shared.emit(AppEvent::ShowNotifications { items });
    }

    /// Stops the sync engine and the event worker.
    pub fn shutdown(&self) {
        self.set_my_presence(None);
        let sync = lock(&self.shared.sync).take();
        if let Some(h) = sync {
            h.stop();
        }
        self.shared.send(Msg::Shutdown);
    }
}

/// The customer a call or a first e-mail is for: a known one by id, e-mail
/// or name, or a new one by e-mail address (named `input.name`).
fn customer_for(r: &mut Replica, input: &CallInput) -> Result<CustomerId, AppError> {
    let query = input.customer.trim();
    match r.resolve_customer(query) {
        Ok(c) => Ok(c),
        Err(_) if shoal_core::is_plausible_email(query) => Ok(r.find_or_create_customer(
            query,
            input.name.as_deref().filter(|n| !n.trim().is_empty()),
        )?),
        Err(_) => Err(AppError::invalid(format!(
            "no customer is called `{query}`: give their e-mail address to add them"
        ))),
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}
