//! Passing new changes of a document on to the team, and storing them.
//!
//! Order of events for a change: it is *forwarded* as a sync message to the
//! connections already syncing the document, then *stored* (group commit),
//! then *acknowledged* to its sender and *announced* (`changed`, with the
//! feed sequence) to the other connections. Forwarding before the commit
//! takes the fsync out of the propagation path and loses nothing: until the
//! ack, the sender keeps the change as unconfirmed and offers it again, and
//! receivers hold it too.

use crate::committer::Committer;
use crate::doc_cache::DocEntry;
use crate::hub::{ConnId, Hub};
use crate::metrics::Metrics;
use automerge::sync::{self, SyncDoc};
use automerge::ChangeHash;
use shoal_protocol::RelayMessage;
use shoal_relay_store::{AppendItem, NewChange, StoreError};
use std::time::Instant;

/// Whether `agent` may see document `doc` of its team: private documents
/// (`agent/<id>`) only by their own agent.
pub fn visible_to(doc: &str, agent: &str) -> bool {
    match doc.strip_prefix("agent/") {
        Some(owner) => owner == agent,
        None => true,
    }
}

/// The changes of `entry.doc` that are not ancestors of `before`.
pub fn new_changes(entry: &mut DocEntry, before: &[ChangeHash]) -> Vec<NewChange> {
    to_store(entry.doc.get_changes(before))
}

/// Changes as they are stored.
pub fn to_store(changes: Vec<automerge::Change>) -> Vec<NewChange> {
    changes
        .into_iter()
        .map(|mut c| NewChange {
            hash: c.hash().0.to_vec(),
            bytes: c.bytes().into_owned(),
        })
        .collect()
}

/// Sends what is new in `doc_id` to every other connection of the team that
/// is syncing it (has a sync state in `entry`) and may see it.
///
/// Connections in the same sync state get the same message: Automerge's
/// `generate_sync_message` depends only on the document and the state, so
/// it runs once per distinct state, not once per connection (with many
/// agents viewing one conversation, they are usually all in step).
pub fn forward(hub: &Hub, team: &str, doc_id: &str, entry: &mut DocEntry, origin: ConnId) {
    let syncing: Vec<ConnId> = entry
        .peers
        .keys()
        .copied()
        .filter(|c| *c != origin)
        .collect();
    // (state before, message, state after) per distinct state seen.
    let mut seen: Vec<(sync::State, Option<Vec<u8>>, sync::State)> = Vec::new();
    for conn in syncing {
        let Some(peer) = hub.peer(team, conn) else {
            continue;
        };
        if !visible_to(doc_id, &peer.agent_id) {
            continue;
        }
        let Some(state) = entry.peers.get_mut(&conn) else {
            continue;
        };
        let data = match seen.iter().find(|(before, _, _)| before == state) {
            Some((_, data, after)) => {
                *state = after.clone();
                data.clone()
            }
            None => {
                let before = state.clone();
                let data = entry
                    .doc
                    .sync()
                    .generate_sync_message(state)
                    .map(|m| m.encode());
                seen.push((before, data.clone(), state.clone()));
                data
            }
        };
        if let Some(data) = data {
            peer.deliver(RelayMessage::Sync {
                doc: doc_id.to_owned(),
                data,
            });
        }
    }
}

/// Tells every other connection of the team that may see `doc_id` and is
/// not syncing it that it changed (at feed sequence `seq`); the connection
/// sends the collected notices in one `changed` message (see `ChangedDocs`).
pub fn announce(hub: &Hub, team: &str, doc_id: &str, seq: u64, entry: &DocEntry, origin: ConnId) {
    hub.each_peer(team, origin, |conn, peer| {
        if visible_to(doc_id, &peer.agent_id) && !entry.peers.contains_key(&conn) {
            peer.changed.add(doc_id, seq);
        }
    });
}

/// Records a successful store of `count` changes at sequence `seq`.
pub fn stored(entry: &mut DocEntry, metrics: &Metrics, seq: u64, count: usize) {
    entry.last_seq = entry.last_seq.max(seq);
    entry.changes_since_snapshot += count;
    metrics.changes_stored(count);
}

/// The whole path for one document: forward, store, announce. Returns the
/// document's newest sequence, or `None` when there was nothing new.
#[allow(clippy::too_many_arguments)]
pub async fn publish(
    committer: &Committer,
    hub: &Hub,
    metrics: &Metrics,
    team: &str,
    doc_id: &str,
    entry: &mut DocEntry,
    before: &[ChangeHash],
    origin: ConnId,
    received: Instant,
) -> Result<Option<u64>, StoreError> {
    let changes = new_changes(entry, before);
    if changes.is_empty() {
        return Ok(None);
    }
    let count = changes.len();
    forward(hub, team, doc_id, entry, origin);
    let item = AppendItem {
        team_id: team.to_owned(),
        doc_id: doc_id.to_owned(),
        changes,
    };
    let seq = committer
        .append(vec![item])
        .await
        .pop()
        .unwrap_or_else(|| {
            Err(StoreError::Backend(
                "no result from the storage writer".into(),
            ))
        })?;
    stored(entry, metrics, seq, count);
    announce(hub, team, doc_id, seq, entry, origin);
    metrics.observe_propagation(received.elapsed());
    Ok(Some(seq))
}
