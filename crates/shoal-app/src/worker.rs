//! The engine's background threads: the event worker (coalesces
//! `replica-changed`, runs the notification rules, keeps presence and the
//! sync status) and the sync thread (shoal-sync's `watch` on its own
//! replica handle and tokio runtime).

use crate::engine::Shared;
use crate::events::{AppEvent, ReplicaChanged};
use crate::notify::{self, Gate, Known, Me};
use crate::views::{PresenceView, SyncStatusView};
use shoal_core::{DocId, DocKind};
use shoal_protocol::PresenceState;
use shoal_replica::Replica;
use shoal_sync::{PresenceInfo, RelayConfig, SyncControl, SyncEvent, SyncStatus};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `replica-changed` at most this often.
const COALESCE: Duration = Duration::from_millis(50);
/// Housekeeping (presence expiry, held notifications).
const TICK: Duration = Duration::from_millis(250);

/// What the worker is told.
pub(crate) enum Msg {
    /// Documents changed; `local` = by this app's commands.
    Changed { docs: Vec<DocId>, local: bool },
    /// The sync engine's status.
    Status(SyncStatus),
    /// Sync stopped for good (token refused…).
    Stopped(String),
    /// Someone's presence.
    Presence(PresenceInfo),
    /// Recompute and emit the sync status (a token or relay appeared).
    RefreshStatus,
    /// (Re)load what is known about every conversation.
    Baseline,
    /// A replica was just joined: what the first sync brings is history,
    /// not news, so nothing notifies until it is online.
    CatchUp,
    /// Stop the thread.
    Shutdown,
}

#[derive(Default)]
struct Pending {
    conversations: BTreeSet<String>,
    customers: BTreeSet<String>,
    team: bool,
    local: bool,
    remote: bool,
    /// Conversations whose views changed because time passed (a snooze
    /// ended, a follow-up came due): no document changed.
    clock: bool,
}

struct LivePresence {
    state: PresenceState,
    until: Instant,
}

pub(crate) struct Worker {
    shared: Arc<Shared>,
    rx: Receiver<Msg>,
    pending: Pending,
    last_emit: Option<Instant>,
    known: HashMap<String, Known>,
    gate: Gate,
    presence: HashMap<(String, String), LivePresence>,
    names: HashMap<String, String>,
    /// Last sync state from the engine (None until connected once).
    sync: Option<SyncStatus>,
    stopped: Option<String>,
    last_status: Option<SyncStatusView>,
    /// A fresh replica is catching up: no notifications until online.
    catching_up: bool,
    /// When the relay was last heard from, by the wall clock (a suspended
    /// laptop's monotonic clock stands still).
    last_contact: Option<std::time::SystemTime>,
    /// Snoozes ending up to this time (replica clock, ms) were looked at.
    snoozes_checked: Option<i64>,
    /// Not before this: the housekeeping tick is 250 ms, and each look
    /// takes the replica's lock that the window's commands wait on.
    next_snooze_check: Instant,
    epoch: Instant,
}

/// Offline longer than this, the catch-up becomes one digest.
const LONG_AWAY: Duration = Duration::from_secs(10 * 60);
/// How often ended snoozes are looked for (snoozes end on the minute).
const SNOOZE_CHECK_EVERY: Duration = Duration::from_secs(2);
/// How long a catch-up's notifications are gathered into the digest.
const DIGEST_GATHER_MS: i64 = 3_000;

impl Worker {
    pub(crate) fn spawn(shared: Arc<Shared>, rx: Receiver<Msg>, catching_up: bool) {
        let mut w = Worker {
            shared,
            rx,
            pending: Pending::default(),
            last_emit: None,
            known: HashMap::new(),
            gate: Gate::default(),
            presence: HashMap::new(),
            names: HashMap::new(),
            sync: None,
            stopped: None,
            last_status: None,
            catching_up,
            // Starting the app is not a return: the gate's limits cover a
            // first catch-up.
            last_contact: None,
            snoozes_checked: None,
            next_snooze_check: Instant::now(),
            epoch: Instant::now(),
        };
        std::thread::Builder::new()
            .name("shoal-events".into())
            .spawn(move || w.run())
            .expect("cannot start the event thread");
    }

    fn run(&mut self) {
        self.load_baseline();
        self.emit_status();
        loop {
            let due = match (self.has_pending(), self.last_emit) {
                (true, Some(t)) => (t + COALESCE).saturating_duration_since(Instant::now()),
                (true, None) => Duration::ZERO,
                (false, _) => TICK,
            };
            match self.rx.recv_timeout(due.min(TICK)) {
                Ok(Msg::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(m) => self.handle(m),
                Err(RecvTimeoutError::Timeout) => {}
            }
            let ready = self.last_emit.is_none_or(|t| t.elapsed() >= COALESCE);
            if self.has_pending() && ready {
                self.flush();
            }
            self.housekeeping();
        }
    }

    fn has_pending(&self) -> bool {
        self.pending.local || self.pending.remote || self.pending.clock
    }

    fn handle(&mut self, m: Msg) {
        match m {
            Msg::Changed { docs, local } => {
                for d in docs {
                    match d.kind() {
                        DocKind::Conversation => {
                            self.pending.conversations.insert(d.key().to_owned());
                        }
                        DocKind::Customer => {
                            self.pending.customers.insert(d.key().to_owned());
                        }
                        DocKind::Team => {
                            self.pending.team = true;
                            self.names.clear();
                        }
                        DocKind::AgentPrivate => {}
                    }
                }
                if local {
                    self.pending.local = true;
                } else {
                    self.pending.remote = true;
                    self.last_contact = Some(std::time::SystemTime::now());
                }
            }
            Msg::Status(s) => {
                if s == SyncStatus::Online && self.catching_up {
                    self.catching_up = false;
                    self.load_baseline();
                }
                if s == SyncStatus::Online {
                    // Back after a long time away (offline, or asleep): what
                    // the catch-up brings becomes one digest.
                    let now = std::time::SystemTime::now();
                    let away = self
                        .last_contact
                        .and_then(|t| now.duration_since(t).ok())
                        .is_some_and(|d| d >= LONG_AWAY);
                    if away && self.sync != Some(SyncStatus::Online) {
                        let until = self.now_ms() + DIGEST_GATHER_MS;
                        self.gate.digest(until);
                    }
                    self.last_contact = Some(now);
                }
                self.stopped = None;
                if matches!(s, SyncStatus::Offline { .. }) {
                    // The relay forgets our connection; so do we for theirs.
                    if !self.presence.is_empty() {
                        self.presence.clear();
                        self.emit_presence();
                    }
                }
                self.sync = Some(s);
                self.emit_status();
            }
            Msg::Stopped(reason) => {
                self.stopped = Some(reason);
                self.emit_status();
            }
            Msg::Presence(p) => {
                let me = self.shared.me().map(|m| m.agent_id);
                if me.as_deref() == Some(p.agent_id.as_str()) {
                    return;
                }
                let key = (p.agent_id, p.conversation);
                if p.state == PresenceState::Idle {
                    self.presence.remove(&key);
                } else {
                    let until = Instant::now() + Duration::from_millis(p.ttl_ms as u64);
                    self.presence.insert(
                        key,
                        LivePresence {
                            state: p.state,
                            until,
                        },
                    );
                }
                self.emit_presence();
            }
            Msg::RefreshStatus => self.emit_status(),
            Msg::Baseline => self.load_baseline(),
            Msg::CatchUp => self.catching_up = true,
            Msg::Shutdown => {}
        }
    }

    fn now_ms(&self) -> i64 {
        self.epoch.elapsed().as_millis() as i64
    }

    fn housekeeping(&mut self) {
        let now = Instant::now();
        let before = self.presence.len();
        self.presence.retain(|_, p| p.until > now);
        if self.presence.len() != before {
            self.emit_presence();
        }
        self.check_snoozes();
        if let Some(n) = self.gate.tick(self.now_ms()) {
            self.shared.emit(AppEvent::Notify(n));
        }
    }

    fn flush(&mut self) {
        let p = std::mem::take(&mut self.pending);
        self.last_emit = Some(Instant::now());
        let event = ReplicaChanged {
            conversations: p.conversations.iter().cloned().collect(),
            customers: p.customers.iter().cloned().collect(),
            team: p.team,
            local: p.local && !p.remote,
        };
        self.shared.emit(AppEvent::ReplicaChanged(event));
        if p.team {
            self.emit_presence();
        }
        self.notice(&p.conversations, p.remote);
        self.emit_status();
    }

    /// Updates what is known about changed conversations and, for changes
    /// from the relay, runs the notification rules.
    fn notice(&mut self, conversations: &BTreeSet<String>, remote: bool) {
        if self.catching_up {
            return;
        }
        let Some(me) = self.shared.me() else { return };
        let mut decided = Vec::new();
        for id in conversations {
            let Some(facts) = self.shared.conversation_facts(id) else {
                continue;
            };
            let before = self.known.insert(id.clone(), facts.known());
            if remote {
                // A local change to the same conversation in this batch still
                // only counts what is new since we last knew it.
                if let Some(n) = notify::decide(&me, before.as_ref(), &facts) {
                    decided.push(n);
                }
            }
        }
        let now = self.now_ms();
        for n in self.gate.offer(now, decided) {
            self.shared.emit(AppEvent::Notify(n));
        }
    }

    /// Conversations of mine whose snooze ended, or whose follow-up time
    /// came, since the last look (from the app's start: ones that came while
    /// it was closed are already in their views).
    fn check_snoozes(&mut self) {
        if self.catching_up || Instant::now() < self.next_snooze_check {
            return;
        }
        self.next_snooze_check = Instant::now() + SNOOZE_CHECK_EVERY;
        let Some(me) = self.shared.me() else { return };
        let Some(now) = self.shared.with_replica(|r| r.now()) else {
            return;
        };
        let after = *self.snoozes_checked.get_or_insert(now.as_millis());
        if now.as_millis() <= after {
            return;
        }
        self.snoozes_checked = Some(now.as_millis());
        let ended = self
            .shared
            .with_replica(|r| r.snoozes_ending(shoal_core::Timestamp(after), now).ok())
            .flatten()
            .unwrap_or_default();
        let follow_ups = self
            .shared
            .with_replica(|r| r.follow_ups_due(shoal_core::Timestamp(after), now).ok())
            .flatten()
            .unwrap_or_default();
        let found: Vec<_> = ended
            .iter()
            .filter_map(|s| notify::snooze_ended(&me, &s.conversation_id, &s.subject))
            .chain(
                follow_ups
                    .iter()
                    .filter_map(|f| notify::follow_up_due(&me, &f.conversation_id, &f.subject)),
            )
            .collect();
        if found.is_empty() {
            return;
        }
        // Its row moves from "snoozed" back to the open views, or into
        // "follow up".
        for s in ended.iter().chain(&follow_ups) {
            self.pending.conversations.insert(s.conversation_id.clone());
        }
        self.pending.clock = true;
        let ms = self.now_ms();
        for n in self.gate.offer(ms, found) {
            self.shared.emit(AppEvent::Notify(n));
        }
    }

    fn load_baseline(&mut self) {
        let known = self.shared.with_replica(|r| crate::facts::baseline(r).ok());
        if let Some(Some(known)) = known {
            self.known = known;
        }
    }

    fn emit_status(&mut self) {
        self.shared
            .set_status(self.sync.clone(), self.stopped.clone());
        let view = self.shared.current_status();
        if self.last_status.as_ref() != Some(&view) {
            self.last_status = Some(view.clone());
            self.shared.emit(AppEvent::SyncStatus(view));
        }
    }

    fn emit_presence(&mut self) {
        if self
            .presence
            .keys()
            .any(|(a, _)| !self.names.contains_key(a))
        {
            if let Some(Some(team)) = self.shared.with_replica(|r| r.team().ok()) {
                self.names = team
                    .agents
                    .iter()
                    .map(|a| (a.id.to_string(), a.name.clone()))
                    .collect();
            }
        }
        let mut list: Vec<PresenceView> = self
            .presence
            .iter()
            .map(|((agent, conv), p)| PresenceView {
                agent_id: agent.clone(),
                agent_name: self
                    .names
                    .get(agent)
                    .cloned()
                    .unwrap_or_else(|| agent.clone()),
                conversation_id: conv.clone(),
                state: match p.state {
                    PresenceState::Composing => "composing",
                    PresenceState::ComposingNote => "composing-note",
                    _ => "viewing",
                }
                .to_owned(),
            })
            .collect();
        list.sort_by(|a, b| {
            (&a.conversation_id, &a.agent_id).cmp(&(&b.conversation_id, &b.agent_id))
        });
        self.shared.set_presence(list.clone());
        self.shared.emit(AppEvent::Presence(list));
    }
}

/// A running sync thread.
pub(crate) struct SyncHandle {
    pub(crate) control: tokio::sync::mpsc::UnboundedSender<SyncControl>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyncHandle {
    /// Starts `watch` on a new replica handle for `path`.
    pub(crate) fn start(path: PathBuf, cfg: RelayConfig, events: Sender<Msg>) -> SyncHandle {
        let (control, control_rx) = tokio::sync::mpsc::unbounded_channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("shoal-sync".into())
            .spawn(move || {
                let result = (|| -> Result<(), String> {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?;
                    let mut replica = Replica::open(&path).map_err(|e| e.to_string())?;
                    let tx = events.clone();
                    let mut on_event = move |e: SyncEvent| {
                        let m = match e {
                            SyncEvent::Status { status } => Msg::Status(status),
                            SyncEvent::Received { doc } => match DocId::parse(&doc) {
                                Ok(d) => Msg::Changed {
                                    docs: vec![d],
                                    local: false,
                                },
                                Err(_) => return,
                            },
                            SyncEvent::Presence { presence } => Msg::Presence(presence),
                            SyncEvent::Warning { message } => {
                                tracing::warn!("relay: {message}");
                                return;
                            }
                        };
                        let _ = tx.send(m);
                    };
                    let stop = async {
                        let _ = stop_rx.await;
                    };
                    rt.block_on(shoal_sync::watch(
                        &mut replica,
                        &cfg,
                        &mut on_event,
                        Some(control_rx),
                        stop,
                    ))
                    .map_err(|e| e.to_string())
                })();
                if let Err(reason) = result {
                    tracing::warn!("sync stopped: {reason}");
                    let _ = events.send(Msg::Stopped(reason));
                }
            })
            .expect("cannot start the sync thread");
        SyncHandle {
            control,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the thread and waits for it.
    pub(crate) fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `me` for the notification rules: `available` is whether the team
/// document says this agent takes new work.
pub(crate) fn me_of(agent_id: &str, settings: crate::Settings, available: bool) -> Me {
    Me {
        agent_id: agent_id.to_owned(),
        enabled: settings.notifications,
        available,
    }
}
