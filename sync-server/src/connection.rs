//! One client connection: the hello handshake, then frames in and out until
//! either side closes, the agent is revoked, or the relay shuts down.

use crate::auth::AuthError;
use crate::doc_cache::DocEntry;
use crate::fanout::{self, visible_to};
use crate::hub::{queued_size, ChangedDocs, Closer, ConnId, Peer};
use crate::server::Relay;
use automerge::sync::{self, SyncDoc};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{FutureExt, SinkExt, StreamExt};
use shoal_core::{ConversationId, DocId, DocKind};
use shoal_protocol::input_limits::InputError;
use shoal_protocol::parts::{self, PartError, Reassembly};
use shoal_protocol::{
    decode, encode, message_type, ClientMessage, DecodeError, ErrorCode, RelayMessage,
    CAPABILITIES, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION,
};
use shoal_relay_store::{AgentRecord, AppendItem};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, OwnedMutexGuard};

/// The client message types this relay knows; a frame of another type is a
/// newer client's, answered with `unsupported-message`.
const KNOWN_TYPES: &[&str] = &["hello", "changed-since", "sync", "sync-part", "presence"];

/// A client must say hello this soon after connecting.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages queued for one client before it counts as too slow.
const OUT_QUEUE: usize = 4096;
/// Documents per `changed` page.
const FEED_PAGE: usize = 1000;
/// Least time between two `changed` notices to one connection.
const NOTICE_INTERVAL: Duration = Duration::from_millis(100);
/// A ping goes to every connection this often, so a peer that vanished
/// without closing (a laptop put to sleep) is noticed.
const PING_EVERY: Duration = Duration::from_secs(20);
/// A connection that sent nothing (not even a pong) for this long is closed.
const SILENCE_LIMIT: Duration = Duration::from_secs(60);

/// The writing half of a connection.
struct Sink {
    ws: SplitSink<WebSocket, Message>,
    /// Once registered: a write gives up as soon as the connection is told
    /// to end (a revoked agent is cut off even while a write to it blocks).
    closer: Option<Arc<Closer>>,
}

struct Session {
    relay: Arc<Relay>,
    sink: Sink,
    conn: ConnId,
    team: String,
    agent: AgentRecord,
    /// Documents this connection has sync state in, to forget on close.
    syncing: HashSet<String>,
    /// Changes of other documents to announce.
    changed: Arc<ChangedDocs>,
    /// Bytes waiting in this connection's queue (see `Peer::deliver`).
    queued: Arc<AtomicUsize>,
    /// Automerge actors known to write for this agent (see `authorize`).
    actors: HashSet<automerge::ActorId>,
    /// Set when the relay ends this connection (the agent was revoked).
    closer: Arc<Closer>,
    /// A sync message from the client arriving in parts.
    parts: Reassembly,
}

/// Sends one message; false when the socket is gone or the peer did not take
/// it within the write timeout (it stopped reading: the connection ends, and
/// since no document lock is ever held across this call, nobody else waits).
async fn send(sink: &mut Sink, relay: &Relay, message: &RelayMessage) -> bool {
    if let RelayMessage::Sync { doc, data } = message {
        let part_bytes = parts::part_bytes(relay.max_frame);
        if data.len() > part_bytes {
            // Too large for a frame: in parts, back to back.
            for (part, count, chunk) in parts::split(data, part_bytes) {
                let piece = RelayMessage::SyncPart {
                    doc: doc.clone(),
                    part,
                    parts: count,
                    data: chunk.to_vec(),
                };
                if !send_frame(sink, relay, &piece).await {
                    return false;
                }
            }
            return true;
        }
    }
    send_frame(sink, relay, message).await
}

async fn send_frame(sink: &mut Sink, relay: &Relay, message: &RelayMessage) -> bool {
    let frame = encode(message);
    relay.metrics.sent(frame.len());
    write(sink, relay, Message::Binary(frame.into())).await
}

/// Writes one WebSocket message within the relay's write timeout.
async fn write(sink: &mut Sink, relay: &Relay, message: Message) -> bool {
    let written = tokio::time::timeout(relay.write_timeout, sink.ws.send(message));
    let written = match &sink.closer {
        Some(closer) => tokio::select! {
            w = written => w,
            _ = closer.notify.notified() => return false,
        },
        None => written.await,
    };
    match written {
        Ok(result) => result.is_ok(),
        Err(_) => {
            relay.metrics.slow_peer_cut();
            tracing::warn!(
                "a client took no data for {} s: closing its connection",
                relay.write_timeout.as_secs_f32()
            );
            false
        }
    }
}

/// Sends an error; fatal codes also close the socket.
async fn fail(sink: &mut Sink, relay: &Relay, code: ErrorCode, message: String) {
    let _ = send(
        sink,
        relay,
        &RelayMessage::Error {
            code,
            message: message.clone(),
        },
    )
    .await;
    if code.is_fatal() {
        let frame = CloseFrame {
            code: close_code(code),
            reason: code.as_str().into(),
        };
        if write(sink, relay, Message::Close(Some(frame))).await {
            let _ = tokio::time::timeout(relay.write_timeout, sink.ws.close()).await;
        }
    }
}

fn close_code(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::FrameTooLarge => 1009,
        ErrorCode::Malformed => 1003,
        ErrorCode::ShuttingDown => 1001,
        ErrorCode::Busy => 1013,
        ErrorCode::Internal => 1011,
        _ => 1008,
    }
}

fn decode_error(e: DecodeError) -> (ErrorCode, String) {
    match e {
        DecodeError::TooLarge { .. } => (ErrorCode::FrameTooLarge, e.to_string()),
        DecodeError::Malformed(_) => (ErrorCode::Malformed, e.to_string()),
    }
}

/// Serves one WebSocket until it ends.
pub async fn run(relay: Arc<Relay>, socket: WebSocket) {
    relay.metrics.connection_opened();
    let (ws, mut stream) = socket.split();
    let mut sink = Sink { ws, closer: None };
    // Connections that have not logged in yet are capped: they cost memory
    // and a hash each, and anyone can open them.
    let Ok(pending) = relay.pending_logins.clone().try_acquire_owned() else {
        let message = "too many connections are waiting to log in; try again shortly";
        fail(&mut sink, &relay, ErrorCode::Busy, message.into()).await;
        return;
    };
    let agent = match tokio::time::timeout(HELLO_TIMEOUT, stream.next()).await {
        Ok(Some(Ok(Message::Binary(frame)))) => {
            relay.metrics.received(frame.len());
            match decode::<ClientMessage>(&frame, relay.max_frame) {
                Ok(ClientMessage::Hello {
                    protocol,
                    token,
                    client,
                    capabilities,
                }) => {
                    tracing::debug!(%client, protocol, ?capabilities, "hello");
                    hello(&relay, protocol, token).await
                }
                Ok(_) => Err((
                    ErrorCode::Unauthenticated,
                    "the first message must be hello".to_owned(),
                )),
                Err(e) => Err(decode_error(e)),
            }
        }
        Ok(Some(Ok(Message::Text(_)))) => {
            Err((ErrorCode::Malformed, "frames must be binary".to_owned()))
        }
        Ok(_) => return,
        Err(_) => Err((
            ErrorCode::Unauthenticated,
            format!("no hello within {} s", HELLO_TIMEOUT.as_secs()),
        )),
    };
    drop(pending);
    let agent = match agent {
        Ok(agent) => agent,
        Err((code, message)) => {
            relay.metrics.auth_failed();
            fail(&mut sink, &relay, code, message).await;
            return;
        }
    };
    let team = agent.team_id.clone();
    if let Err(e) = crate::team_docs::reconcile_team(&relay, &team).await {
        tracing::warn!(team = %team, "team document not up to date: {e}");
    }
    let (tx, mut rx) = mpsc::channel(OUT_QUEUE);
    let changed = Arc::new(ChangedDocs::default());
    let queued = Arc::new(AtomicUsize::new(0));
    let closer = Arc::new(Closer::default());
    let conn = relay.hub.register(
        &team,
        Peer {
            agent_id: agent.id.clone(),
            tx,
            changed: changed.clone(),
            queued: queued.clone(),
            closer: closer.clone(),
        },
    );
    tracing::info!(agent = %agent.email, team = %team, conn, "connected");
    sink.closer = Some(closer.clone());
    let head = head(&relay, &team).await.unwrap_or(0);
    let welcome = RelayMessage::Welcome {
        protocol: PROTOCOL_VERSION,
        capabilities: CAPABILITIES.iter().map(|c| (*c).to_owned()).collect(),
        team_id: team.clone(),
        agent_id: agent.id.clone(),
        head,
        max_frame: (relay.max_frame != shoal_protocol::MAX_FRAME_BYTES)
            .then(|| u32::try_from(relay.max_frame).unwrap_or(u32::MAX)),
    };
    let mut session = Session {
        relay: relay.clone(),
        sink,
        conn,
        team,
        agent,
        syncing: HashSet::new(),
        changed,
        queued,
        actors: HashSet::new(),
        closer,
        parts: Reassembly::new(parts::MAX_SYNC_MESSAGE_BYTES),
    };
    if send(&mut session.sink, &relay, &welcome).await {
        for presence in relay.hub.current_presence(&session.team) {
            send(&mut session.sink, &relay, &presence).await;
        }
        session.serve(&mut stream, &mut rx).await;
    }
    session.close().await;
}

async fn hello(
    relay: &Relay,
    protocol: u16,
    token: String,
) -> Result<AgentRecord, (ErrorCode, String)> {
    if !(MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&protocol) {
        return Err((
            ErrorCode::UnsupportedVersion,
            format!(
                "this relay speaks protocol {MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION}; \
                 the client speaks {protocol}"
            ),
        ));
    }
    let auth = relay.auth.clone();
    match tokio::task::spawn_blocking(move || auth.authenticate(&token)).await {
        Ok(Ok(agent)) => Ok(agent),
        Ok(Err(AuthError::Revoked)) => Err((
            ErrorCode::Revoked,
            "this agent's token was revoked".to_owned(),
        )),
        Ok(Err(AuthError::Invalid)) => {
            Err((ErrorCode::Unauthenticated, "invalid token".to_owned()))
        }
        Ok(Err(AuthError::Store(e))) => Err((ErrorCode::Internal, e.to_string())),
        Err(e) => Err((ErrorCode::Internal, e.to_string())),
    }
}

async fn head(relay: &Relay, team: &str) -> Result<u64, String> {
    let (store, team) = (relay.store.clone(), team.to_owned());
    tokio::task::spawn_blocking(move || store.head(&team))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// Sync messages handled together at most: one group commit per batch.
const MAX_BATCH: usize = 256;
/// Batches carrying more than this many bytes are applied on a thread of
/// their own, so the other connections' tasks move to another worker.
const HEAVY_BATCH: usize = 64 * 1024;

/// Runs `f`, as blocking work when `heavy` (on the multi-threaded runtime).
fn cpu_heavy<R>(heavy: bool, f: impl FnOnce() -> R) -> R {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if heavy && multi {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// A sync message waiting in a batch.
struct SyncIn {
    doc: String,
    data: Vec<u8>,
    restart: bool,
    received: Instant,
}

/// What one incoming frame means for the connection.
enum Inbound {
    Sync(SyncIn),
    Other(ClientMessage),
    /// A message of a type this relay does not know (its type).
    Unsupported(String),
    Skip,
    /// The connection ends, with an error to report first if any.
    End(Option<(ErrorCode, String)>),
}

/// A document locked for one batch.
struct Touched {
    guard: OwnedMutexGuard<DocEntry>,
    /// Heads before the batch: what is new since is stored and passed on.
    before: Vec<automerge::ChangeHash>,
    /// When its first message of the batch arrived.
    received: Instant,
    failed: Option<(ErrorCode, String)>,
    /// The team document as it was, when a non-admin writes to it.
    team_before: Option<shoal_core::Team>,
    /// The batch's new changes, read once (by `authorize`) for every step.
    new: Vec<automerge::Change>,
}

impl Session {
    async fn serve(
        &mut self,
        stream: &mut futures_util::stream::SplitStream<WebSocket>,
        rx: &mut mpsc::Receiver<RelayMessage>,
    ) {
        let mut shutdown = self.relay.shutdown.subscribe();
        let changed = self.changed.clone();
        // When the next `changed` notice may go out: at once after a quiet
        // spell, then at most every NOTICE_INTERVAL.
        let mut notice_at: Option<tokio::time::Instant> = None;
        let mut last_notice = tokio::time::Instant::now() - NOTICE_INTERVAL;
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        let mut last_heard = Instant::now();
        let closer = self.closer.clone();
        loop {
            // An end (revocation) goes first, whatever else is ready.
            if let Some((code, message)) = closer.reason() {
                fail(&mut self.sink, &self.relay, code, message).await;
                return;
            }
            tokio::select! {
                biased;
                _ = closer.notify.notified() => continue,
                _ = ping.tick() => {
                    if last_heard.elapsed() > SILENCE_LIMIT {
                        fail(&mut self.sink, &self.relay, ErrorCode::Timeout, format!("nothing heard for {} s", SILENCE_LIMIT.as_secs())).await;
                        return;
                    }
                    if !write(&mut self.sink, &self.relay, Message::Ping(Vec::new().into())).await {
                        return;
                    }
                }
                _ = changed.ready.notified(), if notice_at.is_none() => {
                    notice_at = Some((last_notice + NOTICE_INTERVAL).max(tokio::time::Instant::now()));
                }
                _ = tokio::time::sleep_until(notice_at.unwrap_or_else(tokio::time::Instant::now)), if notice_at.is_some() => {
                    notice_at = None;
                    last_notice = tokio::time::Instant::now();
                    if !self.send_notices().await {
                        return;
                    }
                }
                frame = stream.next() => {
                    last_heard = Instant::now();
                    // Frames that have already arrived join this one's batch:
                    // many documents' changes then share one commit.
                    let mut batch = Vec::new();
                    let mut frame = frame;
                    loop {
                        // Checked on every message: nothing from an agent
                        // revoked meanwhile is taken.
                        if closer.reason().is_some() {
                            batch.clear();
                            break;
                        }
                        match self.inbound(frame) {
                            Inbound::Sync(s) => batch.push(s),
                            Inbound::Other(m) => {
                                if !self.sync_batch(std::mem::take(&mut batch)).await || !self.handle(m).await {
                                    return;
                                }
                            }
                            Inbound::Unsupported(kind) => {
                                if !self.sync_batch(std::mem::take(&mut batch)).await {
                                    return;
                                }
                                let message = format!(
                                    "this relay does not know `{kind}` messages (protocol {PROTOCOL_VERSION}); it ignored it"
                                );
                                fail(&mut self.sink, &self.relay, ErrorCode::UnsupportedMessage, message).await;
                            }
                            Inbound::Skip => {}
                            Inbound::End(error) => {
                                self.sync_batch(std::mem::take(&mut batch)).await;
                                if let Some((code, message)) = error {
                                    fail(&mut self.sink, &self.relay, code, message).await;
                                }
                                return;
                            }
                        }
                        if batch.len() >= MAX_BATCH {
                            break;
                        }
                        match stream.next().now_or_never() {
                            Some(next) => frame = next,
                            None => break,
                        }
                    }
                    if !self.sync_batch(batch).await {
                        return;
                    }
                }
                out = rx.recv() => match out {
                    Some(m) => {
                        self.queued.fetch_sub(queued_size(&m), Ordering::Relaxed);
                        if !send(&mut self.sink, &self.relay, &m).await {
                            return;
                        }
                    }
                    None => return,
                },
                _ = shutdown.changed() => {
                    fail(&mut self.sink, &self.relay, ErrorCode::ShuttingDown, "the relay is shutting down; reconnect later".into()).await;
                    return;
                }
            }
        }
    }

    fn inbound(&mut self, frame: Option<Result<Message, axum::Error>>) -> Inbound {
        match frame {
            Some(Ok(Message::Binary(frame))) => {
                self.relay.metrics.received(frame.len());
                match decode::<ClientMessage>(&frame, self.relay.max_frame) {
                    Ok(ClientMessage::Sync { doc, data, restart }) => Inbound::Sync(SyncIn {
                        doc,
                        data,
                        restart,
                        received: Instant::now(),
                    }),
                    Ok(ClientMessage::SyncPart {
                        doc,
                        part,
                        parts,
                        data,
                        restart,
                    }) => match self.parts.push(doc, part, parts, data) {
                        Ok(Some((doc, data))) => Inbound::Sync(SyncIn {
                            doc,
                            data,
                            restart,
                            received: Instant::now(),
                        }),
                        Ok(None) => Inbound::Skip,
                        Err(e @ PartError::TooLarge { .. }) => {
                            Inbound::End(Some((ErrorCode::FrameTooLarge, e.to_string())))
                        }
                        Err(e) => Inbound::End(Some((ErrorCode::Malformed, e.to_string()))),
                    },
                    Ok(message) => Inbound::Other(message),
                    // A message of a type a newer client knows and this
                    // relay does not: said so, and the connection goes on.
                    Err(DecodeError::Malformed(_))
                        if message_type(&frame)
                            .is_some_and(|t| !KNOWN_TYPES.contains(&t.as_str())) =>
                    {
                        let kind = message_type(&frame).unwrap_or_default();
                        Inbound::Unsupported(kind)
                    }
                    Err(e) => Inbound::End(Some(decode_error(e))),
                }
            }
            Some(Ok(Message::Text(_))) => {
                Inbound::End(Some((ErrorCode::Malformed, "frames must be binary".into())))
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Inbound::Skip,
            Some(Ok(Message::Close(_))) | None => Inbound::End(None),
            Some(Err(e)) => {
                // Frames over the WebSocket limit surface here.
                let text = e.to_string();
                let too_large =
                    text.contains("too long") || text.contains("size") || text.contains("Capacity");
                Inbound::End(too_large.then_some((ErrorCode::FrameTooLarge, text)))
            }
        }
    }

    /// Sends the collected `changed` notices; false when the socket is gone.
    async fn send_notices(&mut self) -> bool {
        let (docs, head) = self.changed.take();
        let pages = docs.len().div_ceil(FEED_PAGE);
        for (i, page) in docs.chunks(FEED_PAGE).enumerate() {
            let message = RelayMessage::Changed {
                docs: page.to_vec(),
                head,
                more: i + 1 < pages,
            };
            if !send(&mut self.sink, &self.relay, &message).await {
                return false;
            }
        }
        true
    }

    /// Handles one message; false ends the connection.
    async fn handle(&mut self, message: ClientMessage) -> bool {
        tracing::trace!(conn = self.conn, ?message, "received");
        match message {
            // Parts are put together as they arrive (see `inbound`).
            ClientMessage::Hello { .. } | ClientMessage::SyncPart { .. } => true,
            ClientMessage::ChangedSince { cursor } => self.changed_since(cursor).await,
            ClientMessage::Sync { doc, data, restart } => {
                let one = SyncIn {
                    doc,
                    data,
                    restart,
                    received: Instant::now(),
                };
                self.sync_batch(vec![one]).await
            }
            ClientMessage::Presence {
                conversation,
                state,
            } => {
                if ConversationId::parse(&conversation).is_ok() {
                    self.relay.hub.announce(
                        &self.team,
                        self.conn,
                        &self.agent.id,
                        &conversation,
                        state,
                    );
                }
                true
            }
        }
    }

    async fn changed_since(&mut self, mut cursor: u64) -> bool {
        let head = match head(&self.relay, &self.team).await {
            Ok(h) => h,
            Err(e) => {
                fail(&mut self.sink, &self.relay, ErrorCode::Internal, e).await;
                return false;
            }
        };
        loop {
            let (store, team, agent) = (
                self.relay.store.clone(),
                self.team.clone(),
                self.agent.id.clone(),
            );
            let page = tokio::task::spawn_blocking(move || {
                store.changed_since(&team, cursor, &agent, FEED_PAGE)
            })
            .await;
            let entries = match page {
                Ok(Ok(entries)) => entries,
                other => {
                    fail(
                        &mut self.sink,
                        &self.relay,
                        ErrorCode::Internal,
                        format!("feed: {other:?}"),
                    )
                    .await;
                    return false;
                }
            };
            let more = entries.len() == FEED_PAGE;
            cursor = entries.last().map_or(cursor, |e| e.seq);
            let message = RelayMessage::Changed {
                head: head.max(cursor),
                docs: entries.into_iter().map(|e| e.doc_id).collect(),
                more,
            };
            if !send(&mut self.sink, &self.relay, &message).await {
                return false;
            }
            if !more {
                return true;
            }
        }
    }

    /// Whether this agent may sync `doc`, and its decoded message.
    fn check(&self, doc: &str, data: &[u8]) -> Result<sync::Message, (ErrorCode, String)> {
        let id = DocId::parse(doc).map_err(|e| (ErrorCode::BadChange, e.to_string()))?;
        let allowed = match id.kind() {
            DocKind::Team => id.key() == self.team,
            DocKind::AgentPrivate => visible_to(doc, &self.agent.id),
            DocKind::Conversation | DocKind::Customer => true,
        };
        if !allowed {
            return Err((
                ErrorCode::Forbidden,
                "this document belongs to another team or agent".into(),
            ));
        }
        let message =
            sync::Message::decode(data).map_err(|e| (ErrorCode::BadChange, e.to_string()))?;
        shoal_protocol::input_limits::check(message.changes.iter(), &self.relay.input_limits)
            .map_err(|e| match e {
                InputError::Malformed(_) => (ErrorCode::BadChange, e.to_string()),
                _ => {
                    self.relay.metrics.refused_over_limit();
                    (ErrorCode::LimitExceeded, e.to_string())
                }
            })?;
        Ok(message)
    }

    /// Reports a problem with one document; false when it ends the connection.
    async fn report(&mut self, doc: &str, code: ErrorCode, message: String) -> bool {
        fail(
            &mut self.sink,
            &self.relay,
            code,
            format!("{doc}: {message}"),
        )
        .await;
        !code.is_fatal()
    }

    /// Applies a batch of sync messages: every document's new changes are
    /// forwarded, stored in one group commit, acknowledged and announced,
    /// then each document gets its reply. False ends the connection.
    async fn sync_batch(&mut self, batch: Vec<SyncIn>) -> bool {
        if batch.is_empty() {
            return true;
        }
        let relay = self.relay.clone();
        let heavy = batch.iter().map(|s| s.data.len()).sum::<usize>() > HEAVY_BATCH;
        let checked: Vec<_> = cpu_heavy(heavy, || {
            batch
                .into_iter()
                .map(|s| (self.check(&s.doc, &s.data), s))
                .collect()
        });
        let mut accepted = Vec::with_capacity(checked.len());
        for (checked, s) in checked {
            match checked {
                Ok(message) => accepted.push((s, message)),
                Err((code, message)) => {
                    if !self.report(&s.doc, code, message).await {
                        return false;
                    }
                }
            }
        }
        // Lock in one global order (sorted ids), so that batches of
        // different connections never wait for each other in a cycle.
        let mut docs: BTreeMap<String, Touched> = BTreeMap::new();
        let mut first_seen: HashMap<String, Instant> = HashMap::new();
        let mut writes: HashSet<&str> = HashSet::new();
        for (s, message) in &accepted {
            first_seen.entry(s.doc.clone()).or_insert(s.received);
            if !message.changes.is_empty() {
                writes.insert(&s.doc);
            }
        }
        let mut ids: Vec<&String> = first_seen.keys().collect();
        ids.sort();
        for doc in ids {
            // Only documents that receive changes enter the cache when new.
            let entry = if writes.contains(doc.as_str()) {
                relay.cache.get(&self.team, doc).await
            } else {
                relay.cache.peek(&self.team, doc).await
            };
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let doc = doc.clone();
                    drop(docs);
                    return self.report(&doc, ErrorCode::Internal, e.to_string()).await;
                }
            };
            let mut guard = entry.lock_owned().await;
            let before = guard.doc.get_heads();
            let team_before = (writes.contains(doc.as_str())
                && !self.is_admin()
                && doc.starts_with("team/"))
            .then(|| <shoal_core::TeamDoc as shoal_core::Document>::view_of(&guard.doc).ok())
            .flatten();
            docs.insert(
                doc.clone(),
                Touched {
                    guard,
                    before,
                    received: first_seen[doc],
                    failed: None,
                    team_before,
                    new: Vec::new(),
                },
            );
        }
        cpu_heavy(heavy, || self.apply(&mut docs, accepted));
        self.store_and_reply(docs).await
    }

    /// Applies each accepted sync message to its locked document.
    fn apply(
        &mut self,
        docs: &mut BTreeMap<String, Touched>,
        accepted: Vec<(SyncIn, sync::Message)>,
    ) {
        for (s, message) in accepted {
            let t = docs.get_mut(&s.doc).expect("locked above");
            if t.failed.is_some() {
                continue;
            }
            let e = &mut *t.guard;
            e.last_used = Instant::now();
            if s.restart {
                e.peers.remove(&self.conn);
            }
            self.syncing.insert(s.doc.clone());
            let state = e.peers.entry(self.conn).or_default();
            // A peer that asks for a change does not have it, whatever we
            // believe we sent: let it be sent again.
            for hash in &message.need {
                state.sent_hashes.remove(hash);
            }
            if let Err(err) = crate::guarded::receive_sync_message(&mut e.doc, state, message) {
                t.failed = Some((ErrorCode::BadChange, err));
            }
        }
    }

    /// Stores what the batch changed, then replies, once every lock is
    /// released. False ends the connection.
    async fn store_and_reply(&mut self, mut docs: BTreeMap<String, Touched>) -> bool {
        let relay = self.relay.clone();
        self.authorize(&mut docs).await;
        // The team's quota: what it stores, plus what this batch adds.
        let usage = match relay.usage.of(&relay.store, &self.team).await {
            Ok(usage) => Some(usage),
            Err(e) => {
                tracing::warn!(team = %self.team, "cannot read the team's usage: {e}");
                None
            }
        };
        let (mut new_docs, mut new_bytes) = (0u64, 0u64);
        let mut items = Vec::new();
        let mut counts = Vec::new();
        for (doc, t) in docs.iter_mut().filter(|(_, t)| t.failed.is_none()) {
            let changes = fanout::to_store(std::mem::take(&mut t.new));
            if changes.is_empty() {
                continue;
            }
            let is_new = u64::from(t.guard.last_seq == 0);
            let bytes: u64 = changes.iter().map(|c| c.bytes.len() as u64).sum();
            if let Some(reason) = usage.and_then(|u| {
                crate::quota::over(&relay.quota, u, new_docs + is_new, new_bytes + bytes)
            }) {
                relay.metrics.refused_over_limit();
                t.failed = Some((ErrorCode::LimitExceeded, reason));
                continue;
            }
            new_docs += is_new;
            new_bytes += bytes;
            fanout::forward(&relay.hub, &self.team, doc, &mut t.guard, self.conn);
            counts.push((doc.clone(), changes.len(), is_new, bytes));
            items.push(AppendItem {
                team_id: self.team.clone(),
                doc_id: doc.clone(),
                changes,
            });
        }
        let results = if items.is_empty() {
            Vec::new()
        } else {
            relay.committer.append(items).await
        };
        // Replies wait here until every lock is released: a write to a
        // client that stopped reading must not hold up anyone else.
        let mut replies = Vec::new();
        for ((doc, count, is_new, bytes), result) in counts.into_iter().zip(results) {
            let t = docs.get_mut(&doc).expect("locked above");
            match result {
                Ok(seq) => {
                    relay.usage.add(&self.team, is_new, bytes);
                    fanout::stored(&mut t.guard, &relay.metrics, seq, count);
                    fanout::announce(&relay.hub, &self.team, &doc, seq, &t.guard, self.conn);
                    relay.metrics.observe_propagation(t.received.elapsed());
                    replies.push(RelayMessage::Ack {
                        doc: doc.clone(),
                        seq,
                    });
                }
                Err(e) => t.failed = Some((ErrorCode::Internal, e.to_string())),
            }
        }
        let mut failed = Vec::new();
        for (doc, t) in docs.iter_mut() {
            if let Some(f) = t.failed.take() {
                // The document holds changes that were applied but not
                // stored: back to what storage holds, under the same lock,
                // so no other connection ever sees them.
                relay.cache.restore(&self.team, doc, &mut t.guard).await;
                t.guard.peers.remove(&self.conn);
                failed.push((doc.clone(), f));
                continue;
            }
            let e = &mut *t.guard;
            let state = e.peers.entry(self.conn).or_default();
            if let Some(reply) = e.doc.sync().generate_sync_message(state) {
                replies.push(RelayMessage::Sync {
                    doc: doc.clone(),
                    data: reply.encode(),
                });
            }
        }
        drop(docs);
        let mut open = true;
        for message in &replies {
            if !send(&mut self.sink, &relay, message).await {
                return false;
            }
        }
        for (doc, (code, message)) in failed {
            open &= self.report(&doc, code, message).await;
        }
        open
    }

    fn is_admin(&self) -> bool {
        self.agent.role == shoal_core::AgentRole::Admin.as_str()
    }

    /// Refuses new changes written in someone else's name: made by an
    /// Automerge actor bound to another agent (actors are bound to the first
    /// agent whose connection brings their changes), entries naming another
    /// author, or a non-admin's change to the team itself (see
    /// `shoal_core::authorship`). Changes the relay already holds are not
    /// new and pass untouched, whoever brings them.
    async fn authorize(&mut self, docs: &mut BTreeMap<String, Touched>) {
        for (doc, t) in docs.iter_mut().filter(|(_, t)| t.failed.is_none()) {
            t.new = t.guard.doc.get_changes(&t.before);
            if t.new.is_empty() {
                continue;
            }
            let new_ops = shoal_core::authorship::NewOps::of(&t.new);
            let actors: HashSet<automerge::ActorId> =
                t.new.iter().map(|c| c.actor_id().clone()).collect();
            for actor in actors {
                if self.actors.contains(&actor) {
                    continue;
                }
                let (store, team, agent) = (
                    self.relay.store.clone(),
                    self.team.clone(),
                    self.agent.id.clone(),
                );
                let hex = actor.to_hex_string();
                let owner = tokio::task::spawn_blocking(move || {
                    store.bind_actor(&team, &hex, &agent, crate::now_ms())
                })
                .await;
                match owner {
                    Ok(Ok(owner)) if owner == self.agent.id => {
                        self.actors.insert(actor);
                    }
                    Ok(Ok(_)) => {
                        t.failed = Some((
                            ErrorCode::Forbidden,
                            format!(
                                "changes made on another agent's device (actor {}) were refused",
                                actor.to_hex_string()
                            ),
                        ));
                        break;
                    }
                    Ok(Err(e)) => t.failed = Some((ErrorCode::Internal, e.to_string())),
                    Err(e) => t.failed = Some((ErrorCode::Internal, e.to_string())),
                }
            }
            if t.failed.is_some() {
                continue;
            }
            let agent = self.agent.id.as_str();
            if doc.starts_with("conv/") {
                let mine = |a: &automerge::ActorId| self.actors.contains(a);
                if let Some(reason) =
                    shoal_core::authorship::oversized_entry(&t.guard.doc, &new_ops, mine)
                {
                    self.relay.metrics.refused_over_limit();
                    t.failed = Some((ErrorCode::LimitExceeded, reason));
                    continue;
                }
            }
            let verdict = if doc.starts_with("conv/") {
                shoal_core::authorship::check_entries(&t.guard.doc, &new_ops, agent, |a| {
                    self.actors.contains(a)
                })
                .map_err(|e| e.to_string())
            } else if let Some(before) = &t.team_before {
                <shoal_core::TeamDoc as shoal_core::Document>::view_of(&t.guard.doc)
                    .map_err(|e| e.to_string())
                    .and_then(|after| {
                        shoal_core::authorship::check_team_change(before, &after, agent)
                    })
            } else {
                Ok(())
            };
            if let Err(reason) = verdict {
                t.failed = Some((ErrorCode::Forbidden, format!("refused: {reason}")));
            }
        }
    }

    async fn close(self) {
        let Session {
            relay,
            conn,
            team,
            agent,
            syncing,
            ..
        } = self;
        relay.hub.unregister(&team, conn);
        let keys: Vec<(String, String)> = syncing.into_iter().map(|d| (team.clone(), d)).collect();
        relay.cache.forget_peer(conn, &keys).await;
        relay.hub.leave(&team, &agent.id);
        tracing::info!(agent = %agent.email, conn, "disconnected");
    }
}
