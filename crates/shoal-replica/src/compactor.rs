//! Background compaction: folds each document's appended changes into its
//! snapshot on a thread with its own connection, so writers never wait for it.

use crate::{doc_store, sqlite_schema, Result};
use automerge::ActorId;
use rusqlite::Connection;
use shoal_core::DocId;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// A document is compacted once this many changes are appended to it.
pub const COMPACT_THRESHOLD: i64 = 32;

/// How often the compactor looks for work without being nudged.
const IDLE_PERIOD: Duration = Duration::from_secs(60);

enum Signal {
    Nudge,
    Stop,
}

/// Handle of the compaction thread; dropping it stops the thread after the
/// document in hand (work left over is picked up by the next session).
pub struct Compactor {
    signals: Sender<Signal>,
    thread: Option<JoinHandle<()>>,
}

impl Compactor {
    /// Starts the thread on its own connection to the replica at `path`.
    pub fn spawn(path: &Path, actor: ActorId) -> Result<Self> {
        let conn = Connection::open(path)?;
        sqlite_schema::configure(&conn)?;
        let (signals, inbox) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("shoal-compactor".into())
            .spawn(move || loop {
                match inbox.recv_timeout(IDLE_PERIOD) {
                    Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    Ok(Signal::Nudge) | Err(RecvTimeoutError::Timeout) => {
                        // One document per round so a Stop is seen promptly;
                        // errors (e.g. a busy database) are retried later.
                        while let Ok(1) = compact_due(&conn, &actor, COMPACT_THRESHOLD, 1) {
                            if let Ok(Signal::Stop) = inbox.try_recv() {
                                return;
                            }
                        }
                    }
                }
            })?;
        Ok(Self {
            signals,
            thread: Some(thread),
        })
    }

    /// Tells the thread that a document crossed the threshold.
    pub fn nudge(&self) {
        let _ = self.signals.send(Signal::Nudge);
    }
}

impl Drop for Compactor {
    fn drop(&mut self) {
        let _ = self.signals.send(Signal::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Compacts up to `limit` documents with at least `threshold` appended
/// changes, each in its own transaction; returns how many were compacted.
pub(crate) fn compact_due(
    conn: &Connection,
    actor: &ActorId,
    threshold: i64,
    limit: usize,
) -> Result<usize> {
    let due: Vec<String> = conn
        .prepare_cached("SELECT doc_id FROM docs WHERE pending_changes >= ?1 ORDER BY pending_changes DESC LIMIT ?2")?
        .query_map(rusqlite::params![threshold, limit.min(i64::MAX as usize) as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut done = 0;
    for raw in due {
        let Ok(id) = DocId::parse(&raw) else { continue };
        if immediate(conn, |c| doc_store::compact(c, &id, actor))? {
            done += 1;
        }
    }
    Ok(done)
}

/// Runs `f` in a write (IMMEDIATE) transaction on a shared connection:
/// committed on success, rolled back on error.
fn immediate<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(v) => {
            conn.execute_batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
