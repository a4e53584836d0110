//! Recently used documents kept in memory for the sync engine, which touches
//! the same document several times per exchange (generate, receive, compare
//! heads). Loading costs a snapshot decode plus replaying appended changes;
//! checking that a cached copy is current costs one indexed query.
//!
//! A document's *version* is the id of its newest appended change (0 with
//! none). Change ids only grow (AUTOINCREMENT) and compaction folds changes
//! into the snapshot without changing the content, so an unchanged version
//! means unchanged content — also when another process wrote to the file.

use crate::{doc_store, Result};
use automerge::{ActorId, AutoCommit};
use rusqlite::{Connection, OptionalExtension};
use shoal_core::DocId;
use std::collections::HashMap;

/// How many documents stay in memory: enough for the documents of a busy
/// sync exchange (a conversation and its customer each count), while a
/// typical conversation document takes tens of KiB.
const CAPACITY: usize = 1024;

struct Entry {
    doc: AutoCommit,
    version: i64,
    last_used: u64,
}

/// A bounded map of loaded documents, least recently used evicted first.
#[derive(Default)]
pub(crate) struct DocCache {
    entries: HashMap<DocId, Entry>,
    clock: u64,
}

/// The stored version of a document, `None` when it is not stored.
pub(crate) fn version(conn: &Connection, id: &DocId) -> Result<Option<i64>> {
    let key = id.to_string();
    let exists = conn
        .prepare_cached("SELECT 1 FROM docs WHERE doc_id = ?1")?
        .query_row([&key], |_| Ok(()))
        .optional()?;
    if exists.is_none() {
        return Ok(None);
    }
    let last: Option<i64> = conn
        .prepare_cached("SELECT MAX(id) FROM doc_changes WHERE doc_id = ?1")?
        .query_row([&key], |r| r.get(0))?;
    Ok(Some(last.unwrap_or(0)))
}

impl DocCache {
    /// Takes the current document out of the cache, or loads it; `None`
    /// when it is not stored. Put it back with [`DocCache::keep`].
    pub(crate) fn take(
        &mut self,
        conn: &Connection,
        id: &DocId,
        actor: &ActorId,
    ) -> Result<Option<(AutoCommit, i64)>> {
        let Some(version) = version(conn, id)? else {
            self.entries.remove(id);
            return Ok(None);
        };
        if let Some(entry) = self.entries.remove(id) {
            if entry.version == version {
                return Ok(Some((entry.doc, version)));
            }
        }
        Ok(doc_store::load(conn, id, actor)?.map(|doc| (doc, version)))
    }

    /// Keeps `doc` as the content of `id` at `version`.
    pub(crate) fn keep(&mut self, id: &DocId, doc: AutoCommit, version: i64) {
        self.clock += 1;
        if self.entries.len() >= CAPACITY && !self.entries.contains_key(id) {
            if let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(
            id.clone(),
            Entry {
                doc,
                version,
                last_used: self.clock,
            },
        );
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Runs `f` on the current document (loading it if needed) and keeps it.
    pub(crate) fn with<R>(
        &mut self,
        conn: &Connection,
        id: &DocId,
        actor: &ActorId,
        f: impl FnOnce(&mut AutoCommit) -> R,
    ) -> Result<Option<R>> {
        let Some((mut doc, version)) = self.take(conn, id, actor)? else {
            return Ok(None);
        };
        let out = f(&mut doc);
        self.keep(id, doc, version);
        Ok(Some(out))
    }
}
