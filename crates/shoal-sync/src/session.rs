//! Syncing over one connection, once or continuously.

use crate::{connect, Backoff, Connection, RelayConfig, SyncError};
use futures_util::FutureExt;
use serde::Serialize;
use shoal_core::DocId;
use shoal_protocol::{ClientMessage, PresenceState, RelayMessage};
use shoal_replica::{MergeOutcome, Replica, SyncState};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Silence after which unsettled documents start their exchange over.
const STALL_AFTER: Duration = Duration::from_secs(2);

/// How often a watching client looks for local changes written by other
/// processes on the same replica.
const LOCAL_POLL: Duration = Duration::from_millis(200);

/// Relay messages applied in one replica transaction at most.
const MAX_BURST: usize = 256;

/// What a sync run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SyncReport {
    /// Documents brought in sync.
    pub documents: usize,
    /// Documents that received new changes from the relay.
    pub updated: usize,
    /// Documents new to this replica.
    pub created: usize,
    /// The feed cursor afterwards.
    pub cursor: u64,
    /// Message bytes sent to the relay.
    pub bytes_sent: u64,
    /// Message bytes received from the relay.
    pub bytes_received: u64,
    /// Exchanges started over after a silence with documents unsettled (a
    /// retransmission timer in effect): zero when nothing was lost.
    pub restarts: u64,
    /// What the relay refused, document by document (`forbidden`,
    /// `limit-exceeded`, `bad-change`): those changes stay local.
    pub warnings: Vec<String>,
}

/// Another agent's presence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PresenceInfo {
    /// The agent.
    pub agent_id: String,
    /// The conversation.
    pub conversation: String,
    /// Viewing or composing.
    pub state: PresenceState,
    /// Milliseconds this holds unless refreshed.
    pub ttl_ms: u32,
}

/// Connection status as shown to people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum SyncStatus {
    /// Not connected; retrying after `retry_in_ms`.
    Offline {
        /// Why.
        reason: String,
        /// Delay before the next attempt.
        retry_in_ms: u64,
    },
    /// Connected and catching up.
    Syncing {
        /// Documents not yet in sync.
        pending: usize,
    },
    /// Connected and up to date.
    Online,
}

/// What [`watch`] reports as it goes.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum SyncEvent {
    /// The status changed.
    Status {
        /// The new status.
        status: SyncStatus,
    },
    /// A document received changes from the relay.
    Received {
        /// The document.
        doc: String,
    },
    /// Someone's presence.
    Presence {
        /// What they do where.
        presence: PresenceInfo,
    },
    /// A non-fatal problem the relay reported.
    Warning {
        /// Its text.
        message: String,
    },
}

struct Session<'r> {
    replica: &'r mut Replica,
    conn: Connection,
    states: HashMap<DocId, SyncState>,
    /// Documents the relay listed as changed, not yet in sync.
    pending: HashSet<DocId>,
    /// Local documents being pushed, not yet confirmed.
    pushing: HashSet<DocId>,
    /// Feed sequence the pending documents reach.
    target: u64,
    /// The answer to `changed-since` is complete.
    feed_done: bool,
    report: SyncReport,
}

fn same_heads(a: &[shoal_replica::ChangeHash], b: &[shoal_replica::ChangeHash]) -> bool {
    a.len() == b.len() && a.iter().all(|h| b.contains(h))
}

impl<'r> Session<'r> {
    async fn open(replica: &'r mut Replica, cfg: &RelayConfig) -> Result<Session<'r>, SyncError> {
        let (conn, welcome) = connect(cfg).await?;
        let me = replica.identity();
        if welcome.team_id != me.team_id.as_str() || welcome.agent_id != me.agent_id.as_str() {
            let err = SyncError::WrongIdentity {
                token_team: welcome.team_id,
                token_agent: welcome.agent_id,
                replica_team: me.team_id.to_string(),
                replica_agent: me.agent_id.to_string(),
            };
            conn.close().await;
            return Err(err);
        }
        let cursor = replica.sync_cursor()?;
        let mut session = Session {
            replica,
            conn,
            states: HashMap::new(),
            pending: HashSet::new(),
            pushing: HashSet::new(),
            target: cursor,
            feed_done: false,
            report: SyncReport::default(),
        };
        session
            .conn
            .send(&ClientMessage::ChangedSince { cursor })
            .await?;
        session.push_local().await?;
        Ok(session)
    }

    /// Offers every locally changed document to the relay.
    async fn push_local(&mut self) -> Result<(), SyncError> {
        for doc in self.replica.dirty_docs()? {
            self.pushing.insert(doc.clone());
            self.offer(&doc).await?;
        }
        Ok(())
    }

    /// Sends the next sync message for `doc`, if there is something to say.
    /// The first message from a fresh sync state tells the relay to start
    /// over too, so neither side assumes what the other already has.
    async fn offer(&mut self, doc: &DocId) -> Result<(), SyncError> {
        let restart = !self.states.contains_key(doc);
        let state = self.states.entry(doc.clone()).or_default();
        let message = self.replica.generate_sync_message(doc, state)?;
        if let Some(data) = message {
            self.conn
                .send(&ClientMessage::Sync {
                    doc: doc.to_string(),
                    data,
                    restart,
                })
                .await?;
        }
        Ok(())
    }

    /// Whether this replica and the relay now have the same heads for `doc`;
    /// settles its bookkeeping if so.
    fn settle(&mut self, doc: &DocId) -> Result<bool, SyncError> {
        let Some(theirs) = self.states.get(doc).and_then(|s| s.their_heads.clone()) else {
            return Ok(false);
        };
        let ours = self.replica.heads(doc)?;

        if !same_heads(&ours, &theirs) {
            return Ok(false);
        }
        if self.pending.remove(doc) {
            self.report.documents += 1;
        }
        if self.pushing.remove(doc) {
            self.replica.mark_synced(doc, &theirs)?;
        }
        Ok(true)
    }

    /// Whether everything asked for is in sync; advances the cursor if so.
    fn caught_up(&mut self) -> Result<bool, SyncError> {
        if self.feed_done && self.pending.is_empty() {
            if self.target > self.replica.sync_cursor()? {
                self.replica.set_sync_cursor(self.target)?;
            }
            self.report.cursor = self.target;
            return Ok(self.pushing.is_empty());
        }
        Ok(false)
    }

    /// Handles one relay message; returns events for the caller.
    async fn handle(
        &mut self,
        message: RelayMessage,
        events: &mut Vec<SyncEvent>,
    ) -> Result<(), SyncError> {
        match message {
            RelayMessage::Changed { docs, head, more } => {
                self.target = self.target.max(head);
                for raw in docs {
                    let Ok(doc) = DocId::parse(&raw) else {
                        continue;
                    };
                    // An exchange already under way will bring the news; a
                    // settled one may believe we are in sync, so start over
                    // (a fresh state sends `restart`, and the relay starts
                    // over too).
                    let ongoing = self.pending.contains(&doc) || self.pushing.contains(&doc);
                    if !ongoing {
                        self.states.remove(&doc);
                    }
                    self.pending.insert(doc.clone());
                    self.offer(&doc).await?;
                }
                if !more {
                    self.feed_done = true;
                }
            }
            RelayMessage::Sync { doc, data } => {
                let Ok(id) = DocId::parse(&doc) else {
                    return Ok(());
                };
                let state = self.states.entry(id.clone()).or_default();
                match self.replica.receive_sync_message(&id, state, &data)? {
                    MergeOutcome::Created => {
                        self.report.created += 1;
                        events.push(SyncEvent::Received { doc });
                    }
                    MergeOutcome::Updated => {
                        self.report.updated += 1;
                        events.push(SyncEvent::Received { doc });
                    }
                    MergeOutcome::Unchanged => {}
                }
                self.offer(&id).await?;
                // An exchange the relay started (it forwards new changes of
                // documents we sync) counts as pending until it settles:
                // the cursor must not move past changes still on their way.
                if !self.settle(&id)? {
                    self.pending.insert(id);
                }
            }
            RelayMessage::Ack { doc, .. } => {
                if let Ok(id) = DocId::parse(&doc) {
                    self.settle(&id)?;
                }
            }
            RelayMessage::Presence {
                agent_id,
                conversation,
                state,
                ttl_ms,
            } => {
                events.push(SyncEvent::Presence {
                    presence: PresenceInfo {
                        agent_id,
                        conversation,
                        state,
                        ttl_ms,
                    },
                });
            }
            RelayMessage::Error { code, message } => {
                if code.is_fatal() {
                    return Err(SyncError::Refused { code, message });
                }
                // A document the relay refuses cannot be synced; do not wait for it.
                if let Some(doc) = message.split(':').next().and_then(|d| DocId::parse(d).ok()) {
                    self.pending.remove(&doc);
                    self.pushing.remove(&doc);
                }
                events.push(SyncEvent::Warning {
                    message: format!("{code}: {message}"),
                });
            }
            // Put together by the connection before it gets here.
            RelayMessage::Welcome { .. } | RelayMessage::SyncPart { .. } => {}
        }
        Ok(())
    }

    /// After a silence with documents still unsettled, starts their
    /// exchanges over (fresh state, `restart`): whatever either side lost
    /// track of, a new exchange settles it. A retransmission timer, in
    /// effect, for a rare stall seen when both sides changed a document.
    async fn restart_unsettled(&mut self) -> Result<(), SyncError> {
        let docs: Vec<DocId> = self.pending.iter().chain(&self.pushing).cloned().collect();
        for doc in docs {
            self.report.restarts += 1;
            self.states.remove(&doc);
            self.offer(&doc).await?;
        }
        Ok(())
    }

    /// Handles `first` and every message that has already arrived after it
    /// (up to [`MAX_BURST`]) in one replica transaction: one commit for
    /// many documents. Returns false when the relay closed the connection.
    async fn handle_burst(
        &mut self,
        first: RelayMessage,
        events: &mut Vec<SyncEvent>,
    ) -> Result<bool, SyncError> {
        self.replica.begin_sync_batch()?;
        let mut result = self.handle(first, events).await.map(|()| true);
        let mut handled = 1;
        while matches!(result, Ok(true)) && handled < MAX_BURST {
            result = match self.conn.recv().now_or_never() {
                None => break,
                Some(Ok(Some(message))) => self.handle(message, events).await.map(|()| true),
                Some(Ok(None)) => Ok(false),
                Some(Err(e)) => Err(e),
            };
            handled += 1;
        }
        // What was handled before a failure is sound: keep it.
        let committed = self.replica.commit_sync_batch();
        let open = result?;
        committed?;
        Ok(open)
    }

    fn pending_count(&self) -> usize {
        self.pending.len() + self.pushing.len()
    }
}

/// Connects, merges both ways until this replica and the relay agree on
/// everything that changed since the cursor and everything changed locally,
/// then disconnects.
pub async fn sync_once(
    replica: &mut Replica,
    cfg: &RelayConfig,
    timeout: Duration,
) -> Result<SyncReport, SyncError> {
    let deadline = Instant::now() + timeout;
    let mut session = Session::open(replica, cfg).await?;
    let mut events = Vec::new();
    loop {
        if session.caught_up()? {
            let mut report = session.report.clone();
            (report.bytes_sent, report.bytes_received) = session.conn.bytes();
            session.conn.close().await;
            return Ok(report);
        }
        let quiet_until = (Instant::now() + STALL_AFTER).min(deadline);
        let next = tokio::time::timeout_at(quiet_until, session.conn.recv()).await;
        match next {
            Err(_) if Instant::now() < deadline => session.restart_unsettled().await?,
            Err(_) => {
                let mut pending: Vec<String> = session
                    .pending
                    .iter()
                    .chain(&session.pushing)
                    .map(|d| d.to_string())
                    .collect();
                pending.sort();
                pending.dedup();
                return Err(SyncError::Timeout {
                    seconds: timeout.as_secs(),
                    pending,
                });
            }
            Ok(Ok(Some(message))) => {
                let open = session.handle_burst(message, &mut events).await?;
                for event in events.drain(..) {
                    if let SyncEvent::Warning { message } = event {
                        session.report.warnings.push(message);
                    }
                }
                if !open {
                    return Err(SyncError::Lost("the relay closed the connection".into()));
                }
            }
            Ok(Ok(None)) => return Err(SyncError::Lost("the relay closed the connection".into())),
            Ok(Err(e)) => return Err(e),
        }
        events.clear();
    }
}

/// How often a held presence announcement is repeated; the relay forgets it
/// after its ttl unless refreshed.
const PRESENCE_REFRESH: Duration = Duration::from_secs(3);

/// Instructions to a running [`watch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncControl {
    /// Announce this agent in a conversation (repeated every 3 s and after
    /// each reconnect while set), or withdraw the announcement (`None`
    /// sends `idle` for the conversation announced before).
    Presence(Option<(String, PresenceState)>),
    /// A local write happened: offer dirty documents now instead of at the
    /// next poll.
    PushNow,
}

/// What [`watch`] keeps across connections.
struct Held {
    control: Option<mpsc::UnboundedReceiver<SyncControl>>,
    presence: Option<(String, PresenceState)>,
}

impl Held {
    /// The next instruction; pending forever once every sender is gone.
    async fn next(&mut self) -> SyncControl {
        match &mut self.control {
            Some(rx) => match rx.recv().await {
                Some(c) => c,
                None => {
                    self.control = None;
                    std::future::pending().await
                }
            },
            None => std::future::pending().await,
        }
    }

    /// Records a presence change; returns the messages that announce it.
    fn set_presence(&mut self, next: Option<(String, PresenceState)>) -> Vec<ClientMessage> {
        let mut out = Vec::new();
        if let Some((old, _)) = &self.presence {
            if next.as_ref().map(|(c, _)| c) != Some(old) {
                out.push(ClientMessage::Presence {
                    conversation: old.clone(),
                    state: PresenceState::Idle,
                });
            }
        }
        // `Idle` as the new state means "withdraw", like `None`.
        let next = next.filter(|(_, s)| *s != PresenceState::Idle);
        if let Some((conversation, state)) = &next {
            out.push(ClientMessage::Presence {
                conversation: conversation.clone(),
                state: *state,
            });
        }
        self.presence = next;
        out
    }

    fn announcement(&self) -> Option<ClientMessage> {
        self.presence
            .as_ref()
            .map(|(conversation, state)| ClientMessage::Presence {
                conversation: conversation.clone(),
                state: *state,
            })
    }
}

/// Stays connected, pushing local changes and applying the relay's, until
/// `stop` completes; reconnects with jittered backoff after failures.
/// Returns early only on permanent errors (token refused, wrong identity).
/// `control` (optional) announces presence and asks for immediate pushes.
pub async fn watch(
    replica: &mut Replica,
    cfg: &RelayConfig,
    on_event: &mut (dyn FnMut(SyncEvent) + Send),
    control: Option<mpsc::UnboundedReceiver<SyncControl>>,
    stop: impl Future<Output = ()>,
) -> Result<(), SyncError> {
    tokio::pin!(stop);
    let mut backoff = Backoff::default();
    let mut held = Held {
        control,
        presence: None,
    };
    loop {
        let result = tokio::select! {
            r = watch_connection(replica, cfg, on_event, &mut backoff, &mut held) => r,
            _ = &mut stop => return Ok(()),
        };
        let err = match result {
            Ok(()) => SyncError::Lost("the relay closed the connection".into()),
            Err(e) if e.is_permanent() => return Err(e),
            Err(e) => e,
        };
        let delay = backoff.next_delay();
        on_event(SyncEvent::Status {
            status: SyncStatus::Offline {
                reason: err.to_string(),
                retry_in_ms: delay.as_millis() as u64,
            },
        });
        let wake = Instant::now() + delay;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => break,
                _ = &mut stop => return Ok(()),
                // Offline: remember presence for the next connection; nothing to push to.
                c = held.next() => {
                    if let SyncControl::Presence(p) = c {
                        held.set_presence(p);
                    }
                }
            }
        }
    }
}

async fn watch_connection(
    replica: &mut Replica,
    cfg: &RelayConfig,
    on_event: &mut (dyn FnMut(SyncEvent) + Send),
    backoff: &mut Backoff,
    held: &mut Held,
) -> Result<(), SyncError> {
    let mut session = Session::open(replica, cfg).await?;
    backoff.reset();
    let mut last_status = SyncStatus::Syncing {
        pending: session.pending_count(),
    };
    on_event(SyncEvent::Status {
        status: last_status.clone(),
    });
    let mut poll = tokio::time::interval(LOCAL_POLL);
    // The first tick is immediate: a presence held from before a reconnect
    // is announced again at once.
    let mut refresh = tokio::time::interval(PRESENCE_REFRESH);
    let mut last_progress = Instant::now();
    let mut events = Vec::new();
    loop {
        tokio::select! {
            message = session.conn.recv() => match message? {
                Some(m) => {
                    last_progress = Instant::now();
                    if !session.handle_burst(m, &mut events).await? {
                        return Ok(());
                    }
                }
                None => return Ok(()),
            },
            _ = poll.tick() => {
                session.push_local().await?;
                if session.pending_count() > 0 && last_progress.elapsed() > STALL_AFTER {
                    session.restart_unsettled().await?;
                    last_progress = Instant::now();
                }
            }
            _ = refresh.tick() => {
                if let Some(m) = held.announcement() {
                    session.conn.send(&m).await?;
                }
            }
            c = held.next() => match c {
                SyncControl::PushNow => session.push_local().await?,
                SyncControl::Presence(p) => {
                    for m in held.set_presence(p) {
                        session.conn.send(&m).await?;
                    }
                    refresh.reset();
                }
            },
        }
        for e in events.drain(..) {
            on_event(e);
        }
        let status = if session.caught_up()? {
            SyncStatus::Online
        } else {
            SyncStatus::Syncing {
                pending: session.pending_count(),
            }
        };
        if status != last_status {
            on_event(SyncEvent::Status {
                status: status.clone(),
            });
            last_status = status;
        }
    }
}

/// Connects, optionally announces this agent's presence in a conversation
/// (refreshed while `hold` lasts), and returns the presence of the others.
pub async fn presence(
    cfg: &RelayConfig,
    announce: Option<(String, PresenceState)>,
    hold: Duration,
) -> Result<Vec<PresenceInfo>, SyncError> {
    let (mut conn, _) = connect(cfg).await?;
    let mut seen: HashMap<(String, String), PresenceInfo> = HashMap::new();
    let until = Instant::now() + hold.max(Duration::from_millis(300));
    let mut refresh = tokio::time::interval(Duration::from_secs(3));
    loop {
        tokio::select! {
            _ = refresh.tick() => {
                if let Some((conversation, state)) = &announce {
                    conn.send(&ClientMessage::Presence { conversation: conversation.clone(), state: *state }).await?;
                }
            }
            m = conn.recv() => match m? {
                Some(RelayMessage::Presence { agent_id, conversation, state, ttl_ms }) => {
                    let key = (agent_id.clone(), conversation.clone());
                    if state == PresenceState::Idle {
                        seen.remove(&key);
                    } else {
                        seen.insert(key, PresenceInfo { agent_id, conversation, state, ttl_ms });
                    }
                }
                Some(_) => {}
                None => break,
            },
            _ = tokio::time::sleep_until(until) => break,
        }
    }
    if let Some((conversation, _)) = &announce {
        let _ = conn
            .send(&ClientMessage::Presence {
                conversation: conversation.clone(),
                state: PresenceState::Idle,
            })
            .await;
    }
    conn.close().await;
    let mut list: Vec<PresenceInfo> = seen.into_values().collect();
    list.sort_by(|a, b| (&a.conversation, &a.agent_id).cmp(&(&b.conversation, &b.agent_id)));
    Ok(list)
}
