//! What the sync engine needs from the replica: which documents have local
//! changes the relay has not confirmed, the feed cursor, and Automerge sync
//! messages generated from and applied to stored documents (each applied
//! message is one transaction with its derived rows, like every write).
//!
//! Writes here commit with `synchronous=NORMAL` instead of `FULL`: in WAL
//! mode a killed process still loses nothing, and a power cut can only drop
//! the newest commits, in order — changes the relay still holds and a cursor
//! or confirmation that is then older, so the next sync fetches or pushes
//! them again. Local edits keep `FULL`, whose fsync also covers everything
//! committed before them. This removes an fsync per synced document.
//!
//! A sync batch (`begin_sync_batch` … `commit_sync_batch`) goes further:
//! the messages that arrived together are applied in one transaction, each
//! in its own savepoint, so a bad message still stores nothing of its own.

use crate::replica::{meta_get, meta_set, store_remote, Replica};
use crate::{doc_store, MergeOutcome, ReplicaError, Result};
use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, Change, ChangeHash};
use rusqlite::{Connection, TransactionBehavior};
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
            self.relaxed(|conn| {
                conn.prepare_cached("DELETE FROM sync_dirty WHERE doc_id = ?1")?
                    .execute([id.to_string()])?;
                Ok(())
            })?;
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
        self.relaxed(|conn| meta_set(conn, "sync_cursor", &cursor.to_string()))
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
        let generate =
            |doc: &mut AutoCommit| doc.sync().generate_sync_message(state).map(|m| m.encode());
        let mut cache = self.doc_cache.borrow_mut();
        match cache.with(&self.conn, id, self.actor(), generate)? {
            Some(message) => Ok(message),
            None => Ok(AutoCommit::new()
                .sync()
                .generate_sync_message(state)
                .map(|m| m.encode())),
        }
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
        if self.in_batch {
            return self.receive_sync_message_in(id, state, message);
        }
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = self.receive_sync_message_in(id, state, message);
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        result
    }

    /// Starts a sync batch: the sync writes that follow share one
    /// transaction until [`Replica::commit_sync_batch`]. Other writes must
    /// wait until then.
    pub fn begin_sync_batch(&mut self) -> Result<()> {
        if self.in_batch {
            return Ok(());
        }
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            self.conn.pragma_update(None, "synchronous", "FULL")?;
            return Err(e.into());
        }
        self.in_batch = true;
        Ok(())
    }

    /// Commits the open sync batch, if any. On failure nothing of the batch
    /// is stored (the next sync fetches it again).
    pub fn commit_sync_batch(&mut self) -> Result<()> {
        if !self.in_batch {
            return Ok(());
        }
        self.in_batch = false;
        let committed = self.conn.execute_batch("COMMIT");
        if committed.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
            // Cached documents may hold what was just rolled back.
            self.doc_cache.get_mut().clear();
        }
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(committed?)
    }

    /// Runs `f` with commits that do not wait for the disk (see the module
    /// doc); inside a batch, as part of it.
    fn relaxed<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if self.in_batch {
            return f(&self.conn);
        }
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = f(&self.conn);
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        result
    }

    fn receive_sync_message_in(
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
        let tx = if self.in_batch {
            Write::Savepoint(self.conn.savepoint()?)
        } else {
            Write::Transaction(
                self.conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?,
            )
        };
        let existing = self.doc_cache.get_mut().take(&tx, id, &actor)?;
        let created = existing.is_none();
        let (mut doc, version) =
            existing.unwrap_or_else(|| (AutoCommit::new().with_actor(actor), 0));
        let before = doc.get_heads();
        let carried: Vec<Vec<u8>> = message.changes.iter().map(<[u8]>::to_vec).collect();
        // A peer that asks for a change does not have it, whatever we
        // believe we sent: let it be sent again.
        for hash in &message.need {
            state.sent_hashes.remove(hash);
        }
        // A failed receive may have updated the sync state but leaves the
        // transaction uncommitted, so storage is untouched. Automerge 0.12
        // panics on some malformed changes instead of refusing them: that is
        // a refusal too (the document, taken from the cache, is dropped).
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            doc.sync().receive_sync_message(state, message)
        }))
        .map_err(|_| bad("Automerge could not apply this change (malformed input)".into()))?
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
            if !created {
                self.doc_cache.get_mut().keep(id, doc, version);
            }
            return Ok(MergeOutcome::Unchanged);
        }
        let stored = store_remote(&tx, id, created, &new, &doc, now)?;
        tx.commit()?;
        stored.nudge(self.compactor.as_ref());
        self.doc_cache.get_mut().keep(id, doc, stored.version);
        Ok(stored.outcome)
    }
}

/// The write scope of one received message: its own transaction, or a
/// savepoint inside a sync batch. Dropped uncommitted, it rolls back.
enum Write<'c> {
    Transaction(rusqlite::Transaction<'c>),
    Savepoint(rusqlite::Savepoint<'c>),
}

impl Write<'_> {
    fn commit(self) -> Result<()> {
        match self {
            Write::Transaction(tx) => tx.commit()?,
            Write::Savepoint(sp) => sp.commit()?,
        }
        Ok(())
    }
}

impl std::ops::Deref for Write<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Write::Transaction(tx) => tx,
            Write::Savepoint(sp) => sp,
        }
    }
}
