//! Documents at rest: a compacted snapshot per document plus the changes
//! appended since. Every function takes the connection (or transaction) it
//! works in, so callers decide what is atomic.

use crate::{ReplicaError, Result};
use automerge::{ActorId, AutoCommit, Change, ChangeHash, LoadOptions, OnPartialLoad};
use rusqlite::{params, Connection, OptionalExtension};
use shoal_core::{DocId, DocKind, Timestamp};

fn corrupt(doc: &DocId) -> impl Fn(automerge::AutomergeError) -> ReplicaError + '_ {
    move |e| ReplicaError::Corrupt {
        doc: doc.clone(),
        reason: e.to_string(),
    }
}

/// Strictly decodes a whole document or a run of changes: a partial decode is
/// an error, never a silent truncation.
pub(crate) fn decode(bytes: &[u8]) -> std::result::Result<AutoCommit, automerge::AutomergeError> {
    AutoCommit::load_with_options(
        bytes,
        LoadOptions::new().on_partial_load(OnPartialLoad::Error),
    )
}

/// Loads a document with `actor` as its local actor, or `None` if absent.
pub(crate) fn load(conn: &Connection, id: &DocId, actor: &ActorId) -> Result<Option<AutoCommit>> {
    let key = id.to_string();
    let snapshot: Option<Vec<u8>> = conn
        .prepare_cached("SELECT snapshot FROM docs WHERE doc_id = ?1")?
        .query_row([&key], |r| r.get(0))
        .optional()?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    let mut doc = if snapshot.is_empty() {
        AutoCommit::new()
    } else {
        decode(&snapshot).map_err(corrupt(id))?
    };
    let mut stmt =
        conn.prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY id")?;
    let mut rows = stmt.query([&key])?;
    let mut changes = Vec::new();
    while let Some(row) = rows.next()? {
        let bytes: Vec<u8> = row.get(0)?;
        changes.push(
            Change::try_from(bytes.as_slice()).map_err(|e| ReplicaError::Corrupt {
                doc: id.clone(),
                reason: e.to_string(),
            })?,
        );
    }
    // One batch: applying changes together is far cheaper than one by one,
    // and changes whose dependencies have not arrived wait in Automerge's queue.
    if !changes.is_empty() {
        doc.apply_changes(changes).map_err(corrupt(id))?;
    }
    doc.set_actor(actor.clone());
    Ok(Some(doc))
}

/// Whether the document is stored.
pub(crate) fn exists(conn: &Connection, id: &DocId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM docs WHERE doc_id = ?1")?
        .query_row([id.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Stores a new document from its saved bytes.
pub(crate) fn insert(conn: &Connection, id: &DocId, snapshot: &[u8], now: Timestamp) -> Result<()> {
    conn.prepare_cached("INSERT INTO docs (doc_id, kind, snapshot, pending_changes, updated_at) VALUES (?1, ?2, ?3, 0, ?4)")?
        .execute(params![id.to_string(), id.kind().as_str(), snapshot, now.as_millis()])?;
    Ok(())
}

/// Appends encoded changes to a stored document; returns how many changes
/// now wait for compaction.
pub(crate) fn append(
    conn: &Connection,
    id: &DocId,
    changes: &[Vec<u8>],
    local: bool,
    now: Timestamp,
) -> Result<i64> {
    let key = id.to_string();
    let mut insert =
        conn.prepare_cached("INSERT INTO doc_changes (doc_id, bytes, local) VALUES (?1, ?2, ?3)")?;
    for c in changes {
        insert.execute(params![key, c, local])?;
    }
    let pending = conn
        .prepare_cached(
            "UPDATE docs SET pending_changes = pending_changes + ?2, updated_at = ?3 WHERE doc_id = ?1 RETURNING pending_changes",
        )?
        .query_row(params![key, changes.len() as i64, now.as_millis()], |r| r.get(0))?;
    Ok(pending)
}

/// The changes of `doc` that are not ancestors of `heads`, encoded.
pub(crate) fn encoded_changes_since(doc: &mut AutoCommit, heads: &[ChangeHash]) -> Vec<Vec<u8>> {
    doc.get_changes(heads)
        .into_iter()
        .map(|mut c: Change| c.bytes().into_owned())
        .collect()
}

/// Folds a document's appended changes into its snapshot. Skipped (returns
/// false) while changes wait for missing dependencies, because a snapshot
/// would drop them.
pub(crate) fn compact(conn: &Connection, id: &DocId, actor: &ActorId) -> Result<bool> {
    let key = id.to_string();
    let last: Option<i64> = conn
        .prepare_cached("SELECT MAX(id) FROM doc_changes WHERE doc_id = ?1")?
        .query_row([&key], |r| r.get(0))?;
    let Some(last) = last else {
        return Ok(false);
    };
    let Some(mut doc) = load(conn, id, actor)? else {
        return Ok(false);
    };
    if !doc.get_missing_deps(&[]).is_empty() {
        return Ok(false);
    }
    let snapshot = doc.save();
    conn.prepare_cached("UPDATE docs SET snapshot = ?2, pending_changes = 0 WHERE doc_id = ?1")?
        .execute(params![key, snapshot])?;
    conn.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1 AND id <= ?2")?
        .execute(params![key, last])?;
    Ok(true)
}

/// Ids of stored documents (of one kind, or all), in id order.
pub(crate) fn doc_ids(conn: &Connection, kind: Option<DocKind>) -> Result<Vec<DocId>> {
    let mut stmt = conn
        .prepare_cached("SELECT doc_id FROM docs WHERE ?1 IS NULL OR kind = ?1 ORDER BY doc_id")?;
    let ids = stmt
        .query_map([kind.map(DocKind::as_str)], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.into_iter()
        .map(|s| DocId::parse(&s).map_err(|e| ReplicaError::Core(e.into())))
        .collect()
}

/// Records that a document has local changes the relay has not confirmed.
pub(crate) fn mark_dirty(conn: &Connection, id: &DocId) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO sync_dirty (doc_id) VALUES (?1)")?
        .execute([id.to_string()])?;
    Ok(())
}
