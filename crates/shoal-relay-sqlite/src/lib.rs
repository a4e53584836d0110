//! The relay's default storage: [`RelayStore`] on one SQLite file.
//!
//! The file runs in WAL mode with `synchronous=FULL`, so a change the relay
//! has acknowledged survives a crash or power loss. Every query filters by
//! team, so one team's records never show up in another team's answers.
//!
//! The change feed is SQLite's global `AUTOINCREMENT` row id of the
//! `changes` table: writers are serialised (`BEGIN IMMEDIATE`), so sequences
//! become visible in increasing order and a client paging the feed by its
//! last seen sequence never skips a document.

mod mail;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use shoal_relay_store::{
    AgentRecord, AppendItem, AwaitingRecord, FeedEntry, NewAgent, NewChange, RelayStore, Result,
    StoreError, StoreStats, StoredDoc, TeamRecord, TeamUsage, TokenRecord,
};

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 8;

/// Version 8: the follow-through index, pending conversations and since
/// when their customer has been silent (for the team's auto-close).
const SCHEMA_V8: &str = "
CREATE TABLE awaiting (
    team_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    silent_since    INTEGER NOT NULL,
    follow_up_at    INTEGER NULL,
    PRIMARY KEY (team_id, conversation_id)
);
CREATE TABLE awaiting_cursors (
    team_id TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL
);
";

/// How long a statement waits for another process's lock on the file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prefix of private documents, listed in the feed only for their agent.
const PRIVATE_PREFIX: &str = "agent/";

pub(crate) const SCHEMA_V1: &str = "
CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX teams_name ON teams (name COLLATE NOCASE);

CREATE TABLE agents (
    id          TEXT PRIMARY KEY,
    team_id     TEXT NOT NULL REFERENCES teams (id),
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER NULL,
    token_id    TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL
);
CREATE UNIQUE INDEX agents_team_email ON agents (team_id, email COLLATE NOCASE);
CREATE INDEX agents_revoked_at ON agents (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE docs (
    team_id      TEXT NOT NULL REFERENCES teams (id),
    doc_id       TEXT NOT NULL,
    snapshot     BLOB NULL,
    snapshot_seq INTEGER NOT NULL DEFAULT 0,
    last_seq     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (team_id, doc_id)
);
CREATE INDEX docs_feed ON docs (team_id, last_seq);

CREATE TABLE changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL,
    doc_id  TEXT NOT NULL,
    hash    BLOB NOT NULL,
    bytes   BLOB NOT NULL,
    UNIQUE (team_id, doc_id, hash),
    FOREIGN KEY (team_id, doc_id) REFERENCES docs (team_id, doc_id)
);
CREATE INDEX changes_doc_seq ON changes (team_id, doc_id, seq);
";

/// [`RelayStore`] on one SQLite file.
///
/// One connection behind a mutex serves reads and writes; SQLite
/// serialises writers anyway and the relay's queries are short.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Clamps a feed sequence into SQLite's integer range; no stored sequence
/// exceeds `i64::MAX`, so clamping keeps comparisons exact.
fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Reads a sequence column, rejecting negative values from a damaged file.
fn seq_from(v: i64) -> Result<u64> {
    u64::try_from(v)
        .map_err(|_| StoreError::Backend(format!("negative feed sequence {v} in store")))
}

const TEAM_COLUMNS: &str = "id, name, created_at";

fn team_from_row(row: &Row<'_>) -> rusqlite::Result<TeamRecord> {
    Ok(TeamRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        created_at: row.get(2)?,
    })
}

/// Agent columns, qualified so they can be joined with `teams` (`t`).
const AGENT_COLUMNS: &str = "a.id, a.team_id, a.name, a.email, a.role, a.created_at, a.revoked_at";

fn agent_from_row(row: &Row<'_>) -> rusqlite::Result<AgentRecord> {
    Ok(AgentRecord {
        id: row.get(0)?,
        team_id: row.get(1)?,
        name: row.get(2)?,
        email: row.get(3)?,
        role: row.get(4)?,
        created_at: row.get(5)?,
        revoked_at: row.get(6)?,
    })
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file and its schema if
    /// missing. Refuses a file written by a newer version of the relay.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let mut conn = Connection::open(path).map_err(backend)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;

        // Check the version before anything writes to the file (switching
        // to WAL does), so a newer relay's file is left untouched.
        let version = user_version(&conn)?;
        if version > SCHEMA_VERSION {
            return Err(too_new(path, version));
        }

        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "{}: cannot use write-ahead logging (journal mode is `{mode}`)",
                path.display()
            )));
        }
        // FULL: WAL commits are fsynced, so acknowledged changes survive
        // power loss, not only a process crash.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(backend)?;

        migrate(&mut conn, path)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// The connection. A thread that panicked while holding it cannot have
    /// left a transaction open (rusqlite's `Transaction` rolls back on
    /// drop), but roll back defensively so the next caller starts clean.
    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK").map_err(backend)?;
        }
        Ok(conn)
    }
}

/// Stores one document's changes inside the caller's transaction; returns
/// the document's newest sequence.
fn append_in(
    conn: &Connection,
    team_id: &str,
    doc_id: &str,
    changes: &[NewChange],
    now: i64,
) -> Result<u64> {
    if !team_exists(conn, team_id)? {
        return Err(StoreError::UnknownTeam(team_id.to_owned()));
    }
    conn.prepare_cached(
        "INSERT OR IGNORE INTO docs (team_id, doc_id, snapshot, snapshot_seq, last_seq, \
                                     created_at)
         VALUES (?1, ?2, NULL, 0, 0, ?3)",
    )
    .and_then(|mut stmt| stmt.execute(params![team_id, doc_id, now]))
    .map_err(backend)?;

    let mut newest: Option<i64> = None;
    {
        let mut insert = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO changes (team_id, doc_id, hash, bytes)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(backend)?;
        for change in changes {
            let inserted = insert
                .execute(params![team_id, doc_id, change.hash, change.bytes])
                .map_err(backend)?;
            if inserted == 1 {
                // AUTOINCREMENT never reuses or lowers ids, so the last
                // inserted row is the doc's newest change.
                newest = Some(conn.last_insert_rowid());
            }
        }
    }
    if let Some(seq) = newest {
        // MAX guards against a damaged row; normally `seq` is larger.
        conn.prepare_cached(
            "UPDATE docs SET last_seq = MAX(last_seq, ?3) WHERE team_id = ?1 AND doc_id = ?2",
        )
        .and_then(|mut stmt| stmt.execute(params![team_id, doc_id, seq]))
        .map_err(backend)?;
    }
    doc_last_seq(conn, team_id, doc_id)?.ok_or_else(|| {
        StoreError::Backend(format!("document {doc_id} vanished while storing changes"))
    })
}

fn user_version(conn: &Connection) -> Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(backend)
}

fn too_new(path: &Path, version: i64) -> StoreError {
    StoreError::Backend(format!(
        "{}: schema version {version} is newer than this relay supports ({SCHEMA_VERSION}); \
         upgrade the relay",
        path.display()
    ))
}

/// Brings the schema to [`SCHEMA_VERSION`]. The version is re-read inside
/// the write transaction so two processes opening a new file at once do not
/// both create the schema.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let version = user_version(&tx)?;
    if version > SCHEMA_VERSION {
        return Err(too_new(path, version));
    }
    if version < 1 {
        tx.execute_batch(SCHEMA_V1).map_err(backend)?;
    }
    if version < 2 {
        tx.execute_batch(mail::SCHEMA_V2).map_err(backend)?;
    }
    if version < 3 {
        tx.execute_batch(mail::SCHEMA_V3).map_err(backend)?;
    }
    if version < 4 {
        tx.execute_batch(mail::SCHEMA_V4).map_err(backend)?;
    }
    if version < 5 {
        tx.execute_batch(mail::SCHEMA_V5).map_err(backend)?;
    }
    if version < 6 {
        tx.execute_batch(mail::SCHEMA_V6).map_err(backend)?;
    }
    if version < 7 {
        tx.execute_batch(mail::SCHEMA_V7).map_err(backend)?;
    }
    if version < 8 {
        tx.execute_batch(SCHEMA_V8).map_err(backend)?;
    }
    if version < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

fn team_exists(conn: &Connection, team_id: &str) -> Result<bool> {
    conn.prepare_cached("SELECT 1 FROM teams WHERE id = ?1")
        .and_then(|mut stmt| stmt.exists([team_id]))
        .map_err(backend)
}

fn team_by_id(conn: &Connection, id: &str) -> Result<Option<TeamRecord>> {
    conn.prepare_cached(&format!("SELECT {TEAM_COLUMNS} FROM teams WHERE id = ?1"))
        .and_then(|mut stmt| stmt.query_row([id], team_from_row).optional())
        .map_err(backend)
}

fn agent_by_id(conn: &Connection, id: &str) -> Result<Option<AgentRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents a WHERE a.id = ?1"
    ))
    .and_then(|mut stmt| stmt.query_row([id], agent_from_row).optional())
    .map_err(backend)
}

/// The document's `last_seq`, or `None` if the team has no such document.
fn doc_last_seq(conn: &Connection, team_id: &str, doc_id: &str) -> Result<Option<u64>> {
    let seq: Option<i64> = conn
        .prepare_cached("SELECT last_seq FROM docs WHERE team_id = ?1 AND doc_id = ?2")
        .and_then(|mut stmt| {
            stmt.query_row([team_id, doc_id], |row| row.get(0))
                .optional()
        })
        .map_err(backend)?;
    seq.map(seq_from).transpose()
}

impl RelayStore for SqliteStore {
    fn create_team(&self, id: &str, name: &str, now: i64) -> Result<TeamRecord> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        if team_exists(&tx, id)? {
            return Err(StoreError::Conflict(format!(
                "a team with id {id} already exists"
            )));
        }
        tx.execute(
            "INSERT INTO teams (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![id, name, now],
        )
        .map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(TeamRecord {
            id: id.to_owned(),
            name: name.to_owned(),
            created_at: now,
        })
    }

    fn team(&self, id_or_name: &str) -> Result<Option<TeamRecord>> {
        let conn = self.conn()?;
        if let Some(team) = team_by_id(&conn, id_or_name)? {
            return Ok(Some(team));
        }
        // A name shared by several teams is ambiguous: answer none rather
        // than guess.
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {TEAM_COLUMNS} FROM teams WHERE name = ?1 COLLATE NOCASE LIMIT 2"
            ))
            .map_err(backend)?;
        let mut found = stmt
            .query_map([id_or_name], team_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(backend)?;
        Ok(if found.len() == 1 { found.pop() } else { None })
    }

    fn teams(&self) -> Result<Vec<TeamRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {TEAM_COLUMNS} FROM teams ORDER BY name COLLATE NOCASE, name, id"
            ))
            .map_err(backend)?;
        let teams = stmt
            .query_map([], team_from_row)
            .and_then(|rows| rows.collect())
            .map_err(backend)?;
        Ok(teams)
    }

    fn add_agent(&self, team_id: &str, agent: &NewAgent, now: i64) -> Result<AgentRecord> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let team =
            team_by_id(&tx, team_id)?.ok_or_else(|| StoreError::UnknownTeam(team_id.to_owned()))?;
        // Check each unique value first so the caller learns which one is
        // taken; the constraints remain the backstop.
        let email_taken = tx
            .prepare_cached("SELECT 1 FROM agents WHERE team_id = ?1 AND email = ?2 COLLATE NOCASE")
            .and_then(|mut stmt| stmt.exists([team_id, &agent.email]))
            .map_err(backend)?;
        if email_taken {
            return Err(StoreError::Conflict(format!(
                "an agent with e-mail {} is already on team {}",
                agent.email, team.name
            )));
        }
        if agent_by_id(&tx, &agent.id)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "an agent with id {} already exists",
                agent.id
            )));
        }
        let token_taken = tx
            .prepare_cached("SELECT 1 FROM agents WHERE token_id = ?1")
            .and_then(|mut stmt| stmt.exists([&agent.token_id]))
            .map_err(backend)?;
        if token_taken {
            return Err(StoreError::Conflict(format!(
                "a token with id {} already exists",
                agent.token_id
            )));
        }
        tx.execute(
            "INSERT INTO agents (id, team_id, name, email, role, created_at, revoked_at, \
                                 token_id, secret_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8)",
            params![
                agent.id,
                team_id,
                agent.name,
                agent.email,
                agent.role,
                now,
                agent.token_id,
                agent.secret_hash
            ],
        )
        .map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(AgentRecord {
            id: agent.id.clone(),
            team_id: team_id.to_owned(),
            name: agent.name.clone(),
            email: agent.email.clone(),
            role: agent.role.clone(),
            created_at: now,
            revoked_at: None,
        })
    }

    fn agents(&self, team_id: Option<&str>) -> Result<Vec<AgentRecord>> {
        let conn = self.conn()?;
        // `?1 IS NULL` selects every team; the same statement serves both.
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {AGENT_COLUMNS} FROM agents a JOIN teams t ON t.id = a.team_id
                 WHERE ?1 IS NULL OR a.team_id = ?1
                 ORDER BY t.name COLLATE NOCASE, t.name, t.id,
                          a.name COLLATE NOCASE, a.name, a.id"
            ))
            .map_err(backend)?;
        let agents = stmt
            .query_map([team_id], agent_from_row)
            .and_then(|rows| rows.collect())
            .map_err(backend)?;
        Ok(agents)
    }

    fn agent(&self, agent_id: &str) -> Result<Option<AgentRecord>> {
        let conn = self.conn()?;
        agent_by_id(&conn, agent_id)
    }

    fn revoke_agent(&self, agent_id: &str, now: i64) -> Result<AgentRecord> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        // Keep the first revocation time: revoking twice changes nothing.
        // The number is taken inside the write transaction: numbers follow
        // commit order.
        tx.execute(
            "UPDATE agents SET revoked_at = ?2, \
             revoked_seq = (SELECT COALESCE(MAX(revoked_seq), 0) + 1 FROM agents) \
             WHERE id = ?1 AND revoked_at IS NULL",
            params![agent_id, now],
        )
        .map_err(backend)?;
        let agent = agent_by_id(&tx, agent_id)?
            .ok_or_else(|| StoreError::UnknownAgent(agent_id.to_owned()))?;
        tx.commit().map_err(backend)?;
        Ok(agent)
    }

    fn revoked_after(&self, after: u64) -> Result<Vec<(u64, AgentRecord)>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {AGENT_COLUMNS}, a.revoked_seq FROM agents a
                 WHERE a.revoked_seq > ?1 ORDER BY a.revoked_seq"
            ))
            .map_err(backend)?;
        let agents = stmt
            .query_map([after as i64], |row| {
                let seq: i64 = row.get(7)?;
                Ok((seq.max(0) as u64, agent_from_row(row)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(backend)?;
        Ok(agents)
    }

    fn token(&self, token_id: &str) -> Result<Option<TokenRecord>> {
        let conn = self.conn()?;
        conn.prepare_cached(&format!(
            "SELECT {AGENT_COLUMNS}, a.secret_hash FROM agents a WHERE a.token_id = ?1"
        ))
        .and_then(|mut stmt| {
            stmt.query_row([token_id], |row| {
                Ok(TokenRecord {
                    agent: agent_from_row(row)?,
                    secret_hash: row.get(7)?,
                })
            })
            .optional()
        })
        .map_err(backend)
    }

    fn load_doc(&self, team_id: &str, doc_id: &str) -> Result<Option<StoredDoc>> {
        let mut conn = self.conn()?;
        // One read transaction: another process compacting between the two
        // queries must not make us pair an old snapshot with pruned changes.
        let tx = conn.transaction().map_err(backend)?;
        let doc: Option<(Option<Vec<u8>>, i64, i64)> = tx
            .prepare_cached(
                "SELECT snapshot, snapshot_seq, last_seq FROM docs
                 WHERE team_id = ?1 AND doc_id = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row([team_id, doc_id], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()
            })
            .map_err(backend)?;
        let Some((snapshot, snapshot_seq, last_seq)) = doc else {
            return Ok(None);
        };
        let mut stmt = tx
            .prepare_cached(
                "SELECT bytes FROM changes
                 WHERE team_id = ?1 AND doc_id = ?2 AND seq > ?3
                 ORDER BY seq",
            )
            .map_err(backend)?;
        let changes = stmt
            .query_map(params![team_id, doc_id, snapshot_seq], |row| row.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<Vec<u8>>>>())
            .map_err(backend)?;
        drop(stmt);
        tx.commit().map_err(backend)?;
        Ok(Some(StoredDoc {
            snapshot,
            changes,
            last_seq: seq_from(last_seq)?,
        }))
    }

    fn append_changes(
        &self,
        team_id: &str,
        doc_id: &str,
        changes: &[NewChange],
        now: i64,
    ) -> Result<u64> {
        let mut conn = self.conn()?;
        if changes.is_empty() {
            // Nothing to store: answer without taking the write lock and
            // without creating an empty document.
            if !team_exists(&conn, team_id)? {
                return Err(StoreError::UnknownTeam(team_id.to_owned()));
            }
            return Ok(doc_last_seq(&conn, team_id, doc_id)?.unwrap_or(0));
        }
        // IMMEDIATE takes the write lock up front: sequences are allocated
        // and committed in the same order, which the feed relies on.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let last_seq = append_in(&tx, team_id, doc_id, changes, now)?;
        tx.commit().map_err(backend)?;
        Ok(last_seq)
    }

    fn append_batch(&self, items: &[AppendItem], now: i64) -> Vec<Result<u64>> {
        let all_fail = |e: &StoreError| {
            items
                .iter()
                .map(|_| Err(StoreError::Backend(e.to_string())))
                .collect()
        };
        let mut conn = match self.conn() {
            Ok(c) => c,
            Err(e) => return all_fail(&e),
        };
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return all_fail(&backend(e)),
        };
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            if item.changes.is_empty() {
                results.push(match team_exists(&tx, &item.team_id) {
                    Ok(true) => {
                        doc_last_seq(&tx, &item.team_id, &item.doc_id).map(|s| s.unwrap_or(0))
                    }
                    Ok(false) => Err(StoreError::UnknownTeam(item.team_id.clone())),
                    Err(e) => Err(e),
                });
                continue;
            }
            // A savepoint per item, so that a failing item rolls back alone
            // (dropping an uncommitted savepoint rolls it back).
            let one = tx.savepoint().map_err(backend).and_then(|sp| {
                let seq = append_in(&sp, &item.team_id, &item.doc_id, &item.changes, now)?;
                sp.commit().map_err(backend)?;
                Ok(seq)
            });
            results.push(one);
        }
        match tx.commit() {
            Ok(()) => results,
            Err(e) => all_fail(&backend(e)),
        }
    }

    fn compact_doc(
        &self,
        team_id: &str,
        doc_id: &str,
        snapshot: &[u8],
        up_to_seq: u64,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        if !team_exists(&tx, team_id)? {
            return Err(StoreError::UnknownTeam(team_id.to_owned()));
        }
        let current: Option<(i64, i64)> = tx
            .prepare_cached(
                "SELECT snapshot_seq, last_seq FROM docs WHERE team_id = ?1 AND doc_id = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row([team_id, doc_id], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(backend)?;
        let Some((snapshot_seq, last_seq)) = current else {
            return Err(StoreError::Backend(format!(
                "cannot compact document {doc_id} of team {team_id}: no such document"
            )));
        };
        let (snapshot_seq, last_seq) = (seq_from(snapshot_seq)?, seq_from(last_seq)?);
        // A snapshot_seq beyond the newest change would hide changes
        // stored later from load_doc.
        if up_to_seq > last_seq {
            return Err(StoreError::Backend(format!(
                "cannot compact document {doc_id} up to {up_to_seq}: its newest change is {last_seq}"
            )));
        }
        // An older snapshot than the stored one would lose the changes the
        // stored one already replaced (two compactions racing).
        if up_to_seq < snapshot_seq {
            return Err(StoreError::Conflict(format!(
                "document {doc_id} is already compacted up to {snapshot_seq}; \
                 a snapshot up to {up_to_seq} is stale"
            )));
        }
        let up_to = seq_param(up_to_seq);
        tx.prepare_cached(
            "UPDATE docs SET snapshot = ?3, snapshot_seq = ?4 WHERE team_id = ?1 AND doc_id = ?2",
        )
        .and_then(|mut stmt| stmt.execute(params![team_id, doc_id, snapshot, up_to]))
        .map_err(backend)?;
        tx.prepare_cached("DELETE FROM changes WHERE team_id = ?1 AND doc_id = ?2 AND seq <= ?3")
            .and_then(|mut stmt| stmt.execute(params![team_id, doc_id, up_to]))
            .map_err(backend)?;
        tx.commit().map_err(backend)
    }

    fn changed_since(
        &self,
        team_id: &str,
        cursor: u64,
        reader: &str,
        limit: usize,
    ) -> Result<Vec<FeedEntry>> {
        let conn = self.conn()?;
        // A sequence belongs to one change of one document, so `last_seq`
        // is unique within a team and orders the feed without a tiebreak
        // (the scan stays on the `docs_feed` index).
        // `substr` rather than LIKE: LIKE is case-insensitive, and only the
        // exact lowercase prefix marks a private document.
        let mut stmt = conn
            .prepare_cached(
                "SELECT doc_id, last_seq FROM docs
                 WHERE team_id = ?1 AND last_seq > ?2
                   AND (substr(doc_id, 1, ?3) <> ?4 OR doc_id = ?4 || ?5)
                 ORDER BY last_seq
                 LIMIT ?6",
            )
            .map_err(backend)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let prefix_len = PRIVATE_PREFIX.chars().count() as i64;
        let rows = stmt
            .query_map(
                params![
                    team_id,
                    seq_param(cursor),
                    prefix_len,
                    PRIVATE_PREFIX,
                    reader,
                    limit
                ],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
            )
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(backend)?;
        rows.into_iter()
            .map(|(doc_id, seq)| {
                Ok(FeedEntry {
                    doc_id,
                    seq: seq_from(seq)?,
                })
            })
            .collect()
    }

    fn head(&self, team_id: &str) -> Result<u64> {
        let conn = self.conn()?;
        // MAX over the (team_id, last_seq) index is a single seek.
        let seq: Option<i64> = conn
            .prepare_cached("SELECT MAX(last_seq) FROM docs WHERE team_id = ?1")
            .and_then(|mut stmt| stmt.query_row([team_id], |row| row.get(0)))
            .map_err(backend)?;
        seq.map(seq_from).transpose().map(Option::unwrap_or_default)
    }

    fn stats(&self) -> Result<StoreStats> {
        let conn = self.conn()?;
        let counts: (i64, i64, i64, i64) = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM teams), (SELECT COUNT(*) FROM agents),
                        (SELECT COUNT(*) FROM docs), (SELECT COUNT(*) FROM changes)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .map_err(backend)?;
        // COUNT(*) is never negative.
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(StoreStats {
            teams: count(counts.0),
            agents: count(counts.1),
            documents: count(counts.2),
            changes: count(counts.3),
        })
    }

    fn team_usage(&self, team_id: &str) -> Result<TeamUsage> {
        let conn = self.conn()?;
        let (documents, snapshots): (i64, i64) = conn
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(snapshot)), 0) FROM docs WHERE team_id = ?1",
            )
            .and_then(|mut stmt| stmt.query_row([team_id], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(backend)?;
        let changes: i64 = conn
            .prepare_cached(
                "SELECT COALESCE(SUM(LENGTH(bytes)), 0) FROM changes WHERE team_id = ?1",
            )
            .and_then(|mut stmt| stmt.query_row([team_id], |r| r.get(0)))
            .map_err(backend)?;
        Ok(TeamUsage {
            documents: documents.max(0) as u64,
            bytes: (snapshots.max(0) + changes.max(0)) as u64,
        })
    }

    fn bind_actor(&self, team_id: &str, actor: &str, agent_id: &str, now: i64) -> Result<String> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT OR IGNORE INTO actors (team_id, actor, agent_id, bound_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut stmt| stmt.execute(params![team_id, actor, agent_id, now]))
        .map_err(backend)?;
        conn.prepare_cached("SELECT agent_id FROM actors WHERE team_id = ?1 AND actor = ?2")
            .and_then(|mut stmt| stmt.query_row([team_id, actor], |r| r.get(0)))
            .map_err(backend)
    }

    fn awaiting_cursor(&self, team_id: &str) -> Result<u64> {
        let conn = self.conn()?;
        conn.prepare_cached("SELECT seq FROM awaiting_cursors WHERE team_id = ?1")
            .and_then(|mut stmt| stmt.query_row([team_id], |r| r.get::<_, i64>(0)).optional())
            .map(|v| v.unwrap_or(0).max(0) as u64)
            .map_err(backend)
    }

    fn record_awaiting(
        &self,
        team_id: &str,
        changes: &[(String, Option<AwaitingRecord>)],
        seq: u64,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(backend)?;
        for (conversation, record) in changes {
            match record {
                Some(r) => tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO awaiting \
                         (team_id, conversation_id, silent_since, follow_up_at) \
                         VALUES (?1, ?2, ?3, ?4)",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute(params![
                            team_id,
                            conversation,
                            r.silent_since,
                            r.follow_up_at
                        ])
                    }),
                None => tx
                    .prepare_cached(
                        "DELETE FROM awaiting WHERE team_id = ?1 AND conversation_id = ?2",
                    )
                    .and_then(|mut stmt| stmt.execute(params![team_id, conversation])),
            }
            .map_err(backend)?;
        }
        tx.prepare_cached(
            "INSERT INTO awaiting_cursors (team_id, seq) VALUES (?1, ?2) \
             ON CONFLICT (team_id) DO UPDATE SET seq = max(seq, excluded.seq)",
        )
        .and_then(|mut stmt| stmt.execute(params![team_id, seq as i64]))
        .map_err(backend)?;
        tx.commit().map_err(backend)
    }

    fn awaiting(&self, team_id: &str) -> Result<Vec<AwaitingRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT conversation_id, silent_since, follow_up_at FROM awaiting \
                 WHERE team_id = ?1 ORDER BY silent_since, conversation_id",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([team_id], |r| {
                Ok(AwaitingRecord {
                    conversation_id: r.get(0)?,
                    silent_since: r.get(1)?,
                    follow_up_at: r.get(2)?,
                })
            })
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend)
    }
}
