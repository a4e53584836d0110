//! Who is connected, per team, and the presence they announce. Presence is
//! ephemeral: kept in memory with an expiry, routed only within the team.

use shoal_protocol::{ErrorCode, PresenceState, RelayMessage};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};

/// Identifies one connection for the relay's lifetime.
pub type ConnId = u64;

/// How long a presence holds without a refresh.
pub const PRESENCE_TTL: Duration = Duration::from_secs(10);
/// Conversations one agent can be present in at once; announcing more
/// drops the oldest (a person views or writes in a few at most, and the
/// relay keeps presence in memory).
pub const MAX_PRESENCE_PER_AGENT: usize = 16;

/// Bytes of messages queued for one connection at most: past this the
/// client is too slow to keep up, and is disconnected (it resyncs from its
/// cursor when it comes back).
pub const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;

/// A connected client as others see it.
#[derive(Clone)]
pub struct Peer {
    /// The agent.
    pub agent_id: String,
    /// Its writer's queue.
    pub tx: mpsc::Sender<RelayMessage>,
    /// Documents changed since its last `changed` notice.
    pub changed: Arc<ChangedDocs>,
    /// Bytes in its queue (roughly: the payloads).
    pub queued: Arc<AtomicUsize>,
    /// Ends the connection, whatever its queue holds.
    pub closer: Arc<Closer>,
}

/// Tells one connection to end with an error, past its queue: a full queue
/// must not keep a revoked agent connected.
#[derive(Default)]
pub struct Closer {
    reason: Mutex<Option<(ErrorCode, String)>>,
    /// Woken once a reason is set.
    pub notify: Notify,
}

impl Closer {
    /// Asks the connection to end with `code` (the first reason wins).
    pub fn close(&self, code: ErrorCode, message: &str) {
        let mut reason = self.reason.lock().expect("closer lock");
        if reason.is_none() {
            *reason = Some((code, message.to_owned()));
        }
        drop(reason);
        self.notify.notify_one();
    }

    /// The reason, once the connection was asked to end.
    pub fn reason(&self) -> Option<(ErrorCode, String)> {
        self.reason.lock().expect("closer lock").clone()
    }
}

impl Peer {
    /// Queues a message; a client whose queue is full (in messages or
    /// bytes) is told to go instead.
    pub fn deliver(&self, message: RelayMessage) {
        let size = queued_size(&message);
        let over = self.queued.load(Ordering::Relaxed) + size > MAX_QUEUED_BYTES;
        if !over && self.tx.try_send(message).is_ok() {
            self.queued.fetch_add(size, Ordering::Relaxed);
            return;
        }
        self.closer
            .close(ErrorCode::Timeout, "too slow: the client's queue is full");
    }
}

/// What a queued message counts for in [`Peer::queued`].
pub fn queued_size(message: &RelayMessage) -> usize {
    match message {
        RelayMessage::Sync { doc, data } => doc.len() + data.len() + 16,
        _ => 256,
    }
}

/// Documents to announce to one connection, collected between notices:
/// with many agents typing, each connection gets a few `changed` messages
/// a second instead of one per keystroke of every other agent.
#[derive(Default)]
pub struct ChangedDocs {
    pending: Mutex<(HashSet<String>, u64)>,
    /// Woken when the set becomes non-empty.
    pub ready: Notify,
}

impl ChangedDocs {
    /// Adds a document changed at feed sequence `seq`.
    pub fn add(&self, doc: &str, seq: u64) {
        let mut pending = self.pending.lock().expect("changed lock");
        let was_empty = pending.0.is_empty();
        if !pending.0.contains(doc) {
            pending.0.insert(doc.to_owned());
        }
        pending.1 = pending.1.max(seq);
        drop(pending);
        if was_empty {
            self.ready.notify_one();
        }
    }

    /// Takes the collected documents (sorted) and the newest sequence.
    pub fn take(&self) -> (Vec<String>, u64) {
        let mut pending = self.pending.lock().expect("changed lock");
        let (docs, head) = std::mem::take(&mut *pending);
        let mut docs: Vec<String> = docs.into_iter().collect();
        docs.sort();
        (docs, head)
    }
}

struct Presence {
    agent_id: String,
    conversation: String,
    state: PresenceState,
    expires: Instant,
}

/// Connections and presence of every team.
#[derive(Default)]
pub struct Hub {
    next: AtomicU64,
    teams: Mutex<HashMap<String, HashMap<ConnId, Peer>>>,
    presence: Mutex<HashMap<String, Vec<Presence>>>,
}

impl Hub {
    /// Registers a connection; returns its id.
    pub fn register(&self, team: &str, peer: Peer) -> ConnId {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.teams
            .lock()
            .expect("hub lock")
            .entry(team.to_owned())
            .or_default()
            .insert(id, peer);
        id
    }

    /// Removes a connection.
    pub fn unregister(&self, team: &str, conn: ConnId) {
        let mut teams = self.teams.lock().expect("hub lock");
        if let Some(peers) = teams.get_mut(team) {
            peers.remove(&conn);
            if peers.is_empty() {
                teams.remove(team);
            }
        }
    }

    /// One connection of a team.
    pub fn peer(&self, team: &str, conn: ConnId) -> Option<Peer> {
        self.teams
            .lock()
            .expect("hub lock")
            .get(team)
            .and_then(|peers| peers.get(&conn).cloned())
    }

    /// Calls `f` for every other connection of a team, under the hub's lock
    /// (no copies: called for every stored change); `f` must not block.
    pub fn each_peer(&self, team: &str, except: ConnId, mut f: impl FnMut(ConnId, &Peer)) {
        if let Some(peers) = self.teams.lock().expect("hub lock").get(team) {
            for (id, peer) in peers {
                if *id != except {
                    f(*id, peer);
                }
            }
        }
    }

    /// Number of open connections.
    pub fn connections(&self) -> usize {
        self.teams
            .lock()
            .expect("hub lock")
            .values()
            .map(HashMap::len)
            .sum()
    }

    /// Closes every connection of an agent with `code`.
    pub fn close_agent(&self, agent_id: &str, code: ErrorCode, message: &str) -> usize {
        let teams = self.teams.lock().expect("hub lock");
        let mut closed = 0;
        for peer in teams.values().flat_map(HashMap::values) {
            if peer.agent_id == agent_id {
                peer.closer.close(code, message);
                closed += 1;
            }
        }
        closed
    }

    /// Records a presence and sends it to the rest of the team.
    pub fn announce(
        &self,
        team: &str,
        from: ConnId,
        agent_id: &str,
        conversation: &str,
        state: PresenceState,
    ) {
        {
            let mut all = self.presence.lock().expect("presence lock");
            let list = all.entry(team.to_owned()).or_default();
            list.retain(|p| !(p.agent_id == agent_id && p.conversation == conversation));
            if state != PresenceState::Idle {
                list.push(Presence {
                    agent_id: agent_id.to_owned(),
                    conversation: conversation.to_owned(),
                    state,
                    expires: Instant::now() + PRESENCE_TTL,
                });
                let mine = list.iter().filter(|p| p.agent_id == agent_id).count();
                if mine > MAX_PRESENCE_PER_AGENT {
                    let oldest = list
                        .iter()
                        .position(|p| p.agent_id == agent_id)
                        .expect("counted above");
                    list.remove(oldest);
                }
            }
        }
        let message = RelayMessage::Presence {
            agent_id: agent_id.to_owned(),
            conversation: conversation.to_owned(),
            state,
            ttl_ms: PRESENCE_TTL.as_millis() as u32,
        };
        self.each_peer(team, from, |_, peer| peer.deliver(message.clone()));
    }

    /// The team's current presence, for a client that just connected.
    pub fn current_presence(&self, team: &str) -> Vec<RelayMessage> {
        let now = Instant::now();
        self.presence
            .lock()
            .expect("presence lock")
            .get(team)
            .map(|list| {
                list.iter()
                    .filter(|p| p.expires > now)
                    .map(|p| RelayMessage::Presence {
                        agent_id: p.agent_id.clone(),
                        conversation: p.conversation.clone(),
                        state: p.state,
                        ttl_ms: (p.expires - now).as_millis() as u32,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Clears an agent's presence when its last connection leaves.
    pub fn leave(&self, team: &str, agent_id: &str) {
        let still_connected = self
            .teams
            .lock()
            .expect("hub lock")
            .get(team)
            .is_some_and(|peers| peers.values().any(|p| p.agent_id == agent_id));
        if still_connected {
            return;
        }
        let gone: Vec<String> = {
            let mut all = self.presence.lock().expect("presence lock");
            let Some(list) = all.get_mut(team) else {
                return;
            };
            let gone = list
                .iter()
                .filter(|p| p.agent_id == agent_id)
                .map(|p| p.conversation.clone())
                .collect();
            list.retain(|p| p.agent_id != agent_id);
            gone
        };
        for conversation in gone {
            self.announce(team, 0, agent_id, &conversation, PresenceState::Idle);
        }
    }

    /// Forgets expired presence.
    pub fn sweep_presence(&self) {
        let now = Instant::now();
        let mut all = self.presence.lock().expect("presence lock");
        for list in all.values_mut() {
            list.retain(|p| p.expires > now);
        }
        all.retain(|_, list| !list.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_that_does_not_drain_its_queue_is_told_to_go_by_bytes() {
        // Before: only the number of queued messages was bounded (4096),
        // so a stalled client could pin 4096 full-size frames in memory.
        let (tx, mut rx) = mpsc::channel(4096);
        let peer = Peer {
            agent_id: "ana".into(),
            tx,
            changed: Default::default(),
            queued: Default::default(),
            closer: Default::default(),
        };
        let big = || RelayMessage::Sync {
            doc: "conv/x".into(),
            data: vec![0; 10 * 1024 * 1024],
        };
        for _ in 0..10 {
            peer.deliver(big());
        }
        let mut messages = 0;
        while rx.try_recv().is_ok() {
            messages += 1;
        }
        assert_eq!(messages, MAX_QUEUED_BYTES / (10 * 1024 * 1024));
        assert_eq!(
            peer.closer.reason().map(|(code, _)| code),
            Some(ErrorCode::Timeout)
        );
    }

    #[test]
    fn one_agent_holds_a_bounded_number_of_presences() {
        // Before: every announced conversation id was kept, so a client
        // announcing random ids grew the relay's memory without limit.
        let hub = Hub::default();
        for i in 0..1000 {
            hub.announce("t", 1, "ana", &format!("{i:032x}"), PresenceState::Viewing);
        }
        hub.announce("t", 2, "ben", "b", PresenceState::Composing);
        let now = hub.current_presence("t");
        assert_eq!(now.len(), MAX_PRESENCE_PER_AGENT + 1);
        let newest = format!("{:032x}", 999);
        assert!(now.iter().any(|m| matches!(m,
            RelayMessage::Presence { conversation, .. } if *conversation == newest)));
        assert!(now.iter().any(|m| matches!(m,
            RelayMessage::Presence { agent_id, .. } if agent_id == "ben")));
    }
}
