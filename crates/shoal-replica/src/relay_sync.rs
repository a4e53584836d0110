//! What the sync engine needs from the replica: which documents have local
//! changes the relay has not confirmed, the feed cursor, and Automerge sync
//! messages generated from and applied to stored documents (each applied
//! message is one transaction with its derived rows, like every write).

use crate::replica::{meta_get, meta_set, store_remote, Replica};
use crate::{doc_store, MergeOutcome, ReplicaError, Result};
use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, Change, ChangeHash};
use rusqlite::TransactionBehavior;
use shoal_core::DocId;

impl Replica {
    /// Documents with local changes not yet confirmed by the relay.
    pub fn dirty_docs(&self) -> Result<Vec<DocId>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT doc_id FROM sync_dirty ORDER BY doc_id")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ids
            .into_iter()
            .filter_map(|s| DocId::parse(&s).ok())
            .collect())
    }

    /// Marks a document confirmed when the relay's heads include all of ours.
    /// Returns whether it is clean now.
    pub fn mark_synced(&mut self, id: &DocId, relay_heads: &[ChangeHash]) -> Result<bool> {
        let ours = self.heads(id)?;
        if ours.iter().all(|h| relay_heads.contains(h)) {
            self.conn
                .prepare_cached("DELETE FROM sync_dirty WHERE doc_id = ?1")?
                .execute([id.to_string()])?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The last feed sequence fully merged from the relay (0 = none).
    pub fn sync_cursor(&self) -> Result<u64> {
        Ok(meta_get(&self.conn, "sync_cursor")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }

    /// Records the feed sequence merged so far.
    pub fn set_sync_cursor(&mut self, cursor: u64) -> Result<()> {
        meta_set(&self.conn, "sync_cursor", &cursor.to_string())
    }

    /// The relay this replica syncs with, if any.
    pub fn relay_url(&self) -> Result<Option<String>> {
        meta_get(&self.conn, "relay_url")
    }

    /// Sets the relay this replica syncs with.
    pub fn set_relay_url(&mut self, url: &str) -> Result<()> {
        meta_set(&self.conn, "relay_url", url)
    }

    /// The next sync message for `id` (an empty document when absent here).
    pub fn generate_sync_message(
        &self,
        id: &DocId,
        state: &mut sync::State,
    ) -> Result<Option<Vec<u8>>> {
        let mut doc = doc_store::load(&self.conn, id, self.actor())?.unwrap_or_default();
        let message = doc.sync().generate_sync_message(state).map(|m| m.encode());
        Ok(message)
    }

    /// Applies a sync message from the relay: new changes are stored with
    /// their derived rows in one transaction; a malformed message stores
    /// nothing.
    pub fn receive_sync_message(
        &mut self,
        id: &DocId,
        state: &mut sync::State,
        message: &[u8],
    ) -> Result<MergeOutcome> {
        let bad = |reason: String| ReplicaError::BadChange {
            doc: id.clone(),
            reason,
        };
        let message = sync::Message::decode(message).map_err(|e| bad(e.to_string()))?;
        let now = self.clock.now();
        let actor = self.actor().clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = doc_store::load(&tx, id, &actor)?;
        let created = existing.is_none();
        let mut doc = existing.unwrap_or_else(|| AutoCommit::new().with_actor(actor));
        let before = doc.get_heads();
        let carried: Vec<Vec<u8>> = message.changes.iter().map(<[u8]>::to_vec).collect();
        // A peer that asks for a change does not have it, whatever we
        // believe we sent: let it be sent again.
        for hash in &message.need {
            state.sent_hashes.remove(hash);
        }
        // A failed receive may have updated the sync state but leaves the
        // transaction uncommitted, so storage is untouched.
        doc.sync()
            .receive_sync_message(state, message)
            .map_err(|e| bad(e.to_string()))?;
        let mut new = doc_store::encoded_changes_since(&mut doc, &before);
        // Changes waiting for a dependency are not among the applied ones,
        // but must be kept: forgotten, they would hide which dependency to
        // ask for (the peer's bloom filter can wrongly believe we have it),
        // and the document would never settle.
        new.extend(carried.into_iter().filter(|bytes| {
            Change::try_from(bytes.as_slice())
                .is_ok_and(|c| doc.get_change_by_hash(&c.hash()).is_none())
        }));
        if new.is_empty() {
            return Ok(MergeOutcome::Unchanged);
        }
        store_remote(tx, self.compactor.as_ref(), id, created, &new, &doc, now)
    }
}
