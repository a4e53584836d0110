//! One client connection: the hello handshake, then frames in and out until
//! either side closes, the agent is revoked, or the relay shuts down.

use crate::auth::AuthError;
use crate::doc_cache::DocEntry;
use crate::fanout::{self, visible_to};
use crate::hub::{ConnId, Outgoing, Peer};
use crate::server::Relay;
use automerge::sync::{self, SyncDoc};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use shoal_core::{ConversationId, DocId, DocKind};
use shoal_protocol::{
    decode, encode, ClientMessage, DecodeError, ErrorCode, RelayMessage, PROTOCOL_VERSION,
};
use shoal_relay_store::AgentRecord;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A client must say hello this soon after connecting.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages queued for one client before it counts as too slow.
const OUT_QUEUE: usize = 4096;
/// Documents per `changed` page.
const FEED_PAGE: usize = 1000;

type Sink = SplitSink<WebSocket, Message>;

struct Session {
    relay: Arc<Relay>,
    sink: Sink,
    conn: ConnId,
    team: String,
    agent: AgentRecord,
    /// Documents this connection has sync state in, to forget on close.
    syncing: HashSet<String>,
}

async fn send(sink: &mut Sink, relay: &Relay, message: &RelayMessage) -> bool {
    let frame = encode(message);
    relay.metrics.sent(frame.len());
    sink.send(Message::Binary(frame.into())).await.is_ok()
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
        let _ = sink.send(Message::Close(Some(frame))).await;
        let _ = sink.close().await;
    }
}

fn close_code(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::FrameTooLarge => 1009,
        ErrorCode::Malformed => 1003,
        ErrorCode::ShuttingDown => 1001,
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
    let (mut sink, mut stream) = socket.split();
    let agent = match tokio::time::timeout(HELLO_TIMEOUT, stream.next()).await {
        Ok(Some(Ok(Message::Binary(frame)))) => {
            relay.metrics.received(frame.len());
            match decode::<ClientMessage>(&frame, relay.max_frame) {
                Ok(ClientMessage::Hello {
                    protocol, token, ..
                }) => hello(&relay, protocol, token).await,
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
    let conn = relay.hub.register(
        &team,
        Peer {
            agent_id: agent.id.clone(),
            tx,
        },
    );
    tracing::info!(agent = %agent.email, team = %team, conn, "connected");
    let head = head(&relay, &team).await.unwrap_or(0);
    let welcome = RelayMessage::Welcome {
        protocol: PROTOCOL_VERSION,
        team_id: team.clone(),
        agent_id: agent.id.clone(),
        head,
    };
    let mut session = Session {
        relay: relay.clone(),
        sink,
        conn,
        team,
        agent,
        syncing: HashSet::new(),
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
    if protocol != PROTOCOL_VERSION {
        return Err((
            ErrorCode::UnsupportedVersion,
            format!("this relay speaks protocol {PROTOCOL_VERSION}; the client speaks {protocol}"),
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

impl Session {
    async fn serve(
        &mut self,
        stream: &mut futures_util::stream::SplitStream<WebSocket>,
        rx: &mut mpsc::Receiver<Outgoing>,
    ) {
        let mut shutdown = self.relay.shutdown.subscribe();
        loop {
            tokio::select! {
                frame = stream.next() => match frame {
                    Some(Ok(Message::Binary(frame))) => {
                        self.relay.metrics.received(frame.len());
                        match decode::<ClientMessage>(&frame, self.relay.max_frame) {
                            Ok(message) => {
                                if !self.handle(message, Instant::now()).await {
                                    return;
                                }
                            }
                            Err(e) => {
                                let (code, message) = decode_error(e);
                                fail(&mut self.sink, &self.relay, code, message).await;
                                return;
                            }
                        }
                    }
                    Some(Ok(Message::Text(_))) => {
                        fail(&mut self.sink, &self.relay, ErrorCode::Malformed, "frames must be binary".into()).await;
                        return;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => return,
                    Some(Err(e)) => {
                        // Frames over the WebSocket limit surface here.
                        let text = e.to_string();
                        if text.contains("too long") || text.contains("size") || text.contains("Capacity") {
                            fail(&mut self.sink, &self.relay, ErrorCode::FrameTooLarge, text).await;
                        }
                        return;
                    }
                },
                out = rx.recv() => match out {
                    Some(Outgoing::Message(m)) => {
                        if !send(&mut self.sink, &self.relay, &m).await {
                            return;
                        }
                    }
                    Some(Outgoing::Close(code, message)) => {
                        fail(&mut self.sink, &self.relay, code, message).await;
                        return;
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

    /// Handles one message; false ends the connection.
    async fn handle(&mut self, message: ClientMessage, received: Instant) -> bool {
        tracing::trace!(conn = self.conn, ?message, "received");
        match message {
            ClientMessage::Hello { .. } => true,
            ClientMessage::ChangedSince { cursor } => self.changed_since(cursor).await,
            ClientMessage::Sync { doc, data, restart } => {
                match self.sync(&doc, &data, restart, received).await {
                    Ok(()) => true,
                    Err((code, message)) => {
                        fail(
                            &mut self.sink,
                            &self.relay,
                            code,
                            format!("{doc}: {message}"),
                        )
                        .await;
                        !code.is_fatal()
                    }
                }
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

    async fn sync(
        &mut self,
        doc: &str,
        data: &[u8],
        restart: bool,
        received: Instant,
    ) -> Result<(), (ErrorCode, String)> {
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
        let relay = self.relay.clone();
        let entry = relay
            .cache
            .get(&self.team, doc)
            .await
            .map_err(|e| (ErrorCode::Internal, e.to_string()))?;
        tracing::trace!(conn = self.conn, doc, "waiting for the document");
        let mut guard = entry.lock().await;
        tracing::trace!(conn = self.conn, doc, "locked the document");
        if restart {
            guard.peers.remove(&self.conn);
        }
        let outcome = self.sync_locked(&mut guard, doc, message, received).await;
        drop(guard);
        if outcome.is_err() {
            // The in-memory document may hold changes that were not stored:
            // reload it from storage next time.
            relay.cache.evict(&self.team, doc);
        }
        outcome
    }

    async fn sync_locked(
        &mut self,
        e: &mut DocEntry,
        doc: &str,
        message: sync::Message,
        received: Instant,
    ) -> Result<(), (ErrorCode, String)> {
        let relay = self.relay.clone();
        e.last_used = Instant::now();
        self.syncing.insert(doc.to_owned());
        let before = e.doc.get_heads();
        let state = e.peers.entry(self.conn).or_default();
        // A peer that asks for a change does not have it, whatever we
        // believe we sent: let it be sent again.
        for hash in &message.need {
            state.sent_hashes.remove(hash);
        }
        e.doc
            .sync()
            .receive_sync_message(state, message)
            .map_err(|err| (ErrorCode::BadChange, err.to_string()))?;
        let stored = fanout::publish(
            &relay.store,
            &relay.hub,
            &relay.metrics,
            &self.team,
            doc,
            e,
            &before,
            self.conn,
            received,
        )
        .await
        .map_err(|err| (ErrorCode::Internal, err.to_string()))?;
        if let Some(seq) = stored {
            send(
                &mut self.sink,
                &relay,
                &RelayMessage::Ack {
                    doc: doc.to_owned(),
                    seq,
                },
            )
            .await;
        }
        let state = e.peers.entry(self.conn).or_default();
        let reply = e.doc.sync().generate_sync_message(state);
        tracing::debug!(
            conn = self.conn,
            doc,
            ?stored,
            replied = reply.is_some(),
            "sync message"
        );
        if let Some(reply) = reply {
            let message = RelayMessage::Sync {
                doc: doc.to_owned(),
                data: reply.encode(),
            };
            send(&mut self.sink, &relay, &message).await;
        }
        Ok(())
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
