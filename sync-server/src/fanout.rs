//! Storing new changes of a document and passing them on: the one path
//! every change takes, whether a client sent it or the relay made it.

use crate::doc_cache::DocEntry;
use crate::hub::{ConnId, Hub, Outgoing};
use crate::metrics::Metrics;
use automerge::sync::SyncDoc;
use automerge::ChangeHash;
use shoal_protocol::RelayMessage;
use shoal_relay_store::{NewChange, RelayStore, StoreError};
use std::sync::Arc;
use std::time::Instant;

/// Whether `agent` may see document `doc` of its team: private documents
/// (`agent/<id>`) only by their own agent.
pub fn visible_to(doc: &str, agent: &str) -> bool {
    match doc.strip_prefix("agent/") {
        Some(owner) => owner == agent,
        None => true,
    }
}

/// Stores the changes of `entry.doc` that are not ancestors of `before`,
/// then offers them to every other connection of the team that may see the
/// document: directly as a sync message to connections already syncing it,
/// as a `changed` notice to the rest. Returns the document's newest
/// sequence, or `None` when there was nothing new.
#[allow(clippy::too_many_arguments)]
pub async fn publish(
    store: &Arc<dyn RelayStore>,
    hub: &Hub,
    metrics: &Metrics,
    team: &str,
    doc_id: &str,
    entry: &mut DocEntry,
    before: &[ChangeHash],
    origin: ConnId,
    received: Instant,
) -> Result<Option<u64>, StoreError> {
    let new: Vec<NewChange> = entry
        .doc
        .get_changes(before)
        .into_iter()
        .map(|mut c| NewChange {
            hash: c.hash().0.to_vec(),
            bytes: c.bytes().into_owned(),
        })
        .collect();
    if new.is_empty() {
        return Ok(None);
    }
    let count = new.len();
    let (s, t, d) = (store.clone(), team.to_owned(), doc_id.to_owned());
    let seq = tokio::task::spawn_blocking(move || s.append_changes(&t, &d, &new, crate::now_ms()))
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))??;
    entry.last_seq = seq;
    entry.changes_since_snapshot += count;
    metrics.changes_stored(count);
    for (conn, peer) in hub.peers(team, origin) {
        if !visible_to(doc_id, &peer.agent_id) {
            continue;
        }
        let message = match entry.peers.get_mut(&conn) {
            Some(state) => match entry.doc.sync().generate_sync_message(state) {
                Some(m) => RelayMessage::Sync {
                    doc: doc_id.to_owned(),
                    data: m.encode(),
                },
                None => continue,
            },
            None => RelayMessage::Changed {
                docs: vec![doc_id.to_owned()],
                head: seq,
                more: false,
            },
        };
        if peer.tx.try_send(Outgoing::Message(message)).is_err() {
            // A client that cannot keep up is disconnected; it resyncs from
            // its cursor when it reconnects.
            let _ = peer.tx.try_send(Outgoing::Close(
                shoal_protocol::ErrorCode::Internal,
                "too slow".into(),
            ));
        }
    }
    metrics.observe_propagation(received.elapsed());
    Ok(Some(seq))
}
