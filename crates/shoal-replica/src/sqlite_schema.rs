//! The SQLite schema of a replica file and its upgrades.

use crate::{ReplicaError, Result};
use rusqlite::Connection;

/// Version of the replica file format, kept in `PRAGMA user_version`.
pub(crate) const FORMAT_VERSION: i64 = 6;

const SCHEMA_V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Source of truth: each document is a compacted snapshot plus the changes
-- appended since (folded in by the compactor).
CREATE TABLE docs (
    doc_id          TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    snapshot        BLOB NOT NULL,
    pending_changes INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX docs_pending ON docs(pending_changes) WHERE pending_changes > 0;

CREATE TABLE doc_changes (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES docs(doc_id),
    bytes  BLOB NOT NULL,
    local  INTEGER NOT NULL
);
CREATE INDEX doc_changes_doc ON doc_changes(doc_id, id);

-- Derived from conversation documents.
CREATE TABLE inbox (
    conv_id          TEXT PRIMARY KEY,
    subject          TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    channel          TEXT NOT NULL,
    status           TEXT NOT NULL,
    snooze_until     INTEGER,
    assignee         TEXT,
    priority         TEXT NOT NULL,
    tags             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    last_activity    INTEGER NOT NULL,
    last_customer_at INTEGER,
    entry_count      INTEGER NOT NULL,
    preview          TEXT NOT NULL,
    has_conflict     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX inbox_activity ON inbox(last_activity DESC);
CREATE INDEX inbox_status ON inbox(status, last_activity DESC);
CREATE INDEX inbox_assignee ON inbox(assignee, status, last_activity DESC);
CREATE INDEX inbox_customer ON inbox(customer_id, last_activity DESC);

CREATE TABLE inbox_tags (
    tag     TEXT NOT NULL,
    conv_id TEXT NOT NULL,
    PRIMARY KEY (tag, conv_id)
) WITHOUT ROWID;
CREATE INDEX inbox_tags_conv ON inbox_tags(conv_id);

CREATE TABLE inbox_seen (
    conv_id  TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    seen_at  INTEGER NOT NULL,
    PRIMARY KEY (conv_id, agent_id)
) WITHOUT ROWID;

-- Derived from customer documents.
CREATE TABLE customers (
    customer_id   TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    primary_email TEXT,
    company       TEXT,
    tier          TEXT,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE customer_emails (
    email       TEXT NOT NULL COLLATE NOCASE,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (email, customer_id)
) WITHOUT ROWID;
CREATE INDEX customer_emails_customer ON customer_emails(customer_id);

-- Full-text index over conversations (subject; bodies) and customers (name,
-- emails, company; notes). Contentless: the text lives in the documents, so
-- the file does not hold it twice.
CREATE VIRTUAL TABLE search_index USING fts5(
    title, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE search_docs (
    rowid  INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE
);

-- The indexed body text, deflate-compressed, for cutting snippets without
-- loading documents (about 0.3 of the raw text). Keyed like search_docs;
-- a rowid table, since WITHOUT ROWID wastes pages on rows this large.
CREATE TABLE search_text (
    rowid INTEGER PRIMARY KEY,
    body  BLOB NOT NULL
);

-- Documents with local changes the relay has not confirmed yet.
CREATE TABLE sync_dirty (
    doc_id TEXT PRIMARY KEY
) WITHOUT ROWID;
"#;

/// Version 2: "read" is whether an agent was shown every customer message
/// (a set of entries, see `Conversation::unread_for`), no longer a time
/// compared with the newest message's date. Rows carried over keep what the
/// times said; the next change of each conversation rewrites its rows.
const UPGRADE_V2: &str = r#"
CREATE TABLE inbox_read (
    conv_id  TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    PRIMARY KEY (conv_id, agent_id)
) WITHOUT ROWID;
INSERT INTO inbox_read (conv_id, agent_id)
    SELECT s.conv_id, s.agent_id FROM inbox_seen s JOIN inbox i ON i.conv_id = s.conv_id
    WHERE i.last_customer_at IS NULL OR s.seen_at >= i.last_customer_at;
DROP TABLE inbox_seen;

-- Replies the outbox held back (a collision), until their author decides.
CREATE TABLE held_replies (
    entry_id TEXT PRIMARY KEY,
    conv_id  TEXT NOT NULL,
    author   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX held_replies_conv ON held_replies(conv_id);

-- What the agent is writing in a conversation's composer (this device only).
CREATE TABLE drafts (
    conv_id    TEXT PRIMARY KEY,
    mode       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// Version 3: the reply clock. Each conversation row says since when its
/// customer waits and when an answer is due (computed from the team's hours
/// and targets, kept in `team_clock`). Rows carried over have no clock yet:
/// the upgrade asks for a rebuild of the derived tables (see [`check`]).
const UPGRADE_V3: &str = r#"
ALTER TABLE inbox ADD COLUMN waiting_since INTEGER;
ALTER TABLE inbox ADD COLUMN first_response INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbox ADD COLUMN reply_due INTEGER;
CREATE INDEX inbox_due ON inbox(reply_due) WHERE reply_due IS NOT NULL;

-- The team document's hours, holidays and targets (JSON), as the due times
-- in `inbox` were computed from them.
CREATE TABLE team_clock (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    settings TEXT NOT NULL
);
"#;

/// Version 4: follow-through. A conversation pending for the customer's
/// confirmation has a follow-up time; a closed one may say how it ended.
const UPGRADE_V4: &str = r#"
ALTER TABLE inbox ADD COLUMN follow_up_at INTEGER;
ALTER TABLE inbox ADD COLUMN resolution TEXT;
CREATE INDEX inbox_follow_up ON inbox(follow_up_at) WHERE follow_up_at IS NOT NULL;
"#;

/// Version 5: what team reports need of each conversation (instants only,
/// so the team's current hours and targets apply when a report is made).
const UPGRADE_V5: &str = r#"
CREATE TABLE report_timelines (
    conv_id  TEXT PRIMARY KEY,
    timeline TEXT NOT NULL
) WITHOUT ROWID;
"#;

/// Version 6: who is @mentioned in each conversation's notes (the
/// "mentions me" view).
const UPGRADE_V6: &str = r#"
CREATE TABLE inbox_mentions (
    agent_id TEXT NOT NULL,
    conv_id  TEXT NOT NULL,
    PRIMARY KEY (agent_id, conv_id)
) WITHOUT ROWID;
CREATE INDEX inbox_mentions_conv ON inbox_mentions(conv_id);
"#;

/// `UPGRADES[n]` upgrades a file from version `n + 1` to `n + 2`.
const UPGRADES: &[&str] = &[UPGRADE_V2, UPGRADE_V3, UPGRADE_V4, UPGRADE_V5, UPGRADE_V6];

/// The first version whose derived rows a file of an older version lacks:
/// upgrading from below it rebuilds the derived tables.
const REBUILD_BELOW: i64 = 6;

/// Applies connection settings every connection needs.
pub(crate) fn configure(conn: &Connection) -> Result<()> {
    // WAL lets readers (the UI, the compactor) run beside the writer; FULL
    // makes an acknowledged change survive power loss, not just a crash.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

/// Creates the schema in an empty database.
pub(crate) fn create(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA_V1)?;
    for upgrade in UPGRADES {
        conn.execute_batch(upgrade)?;
    }
    conn.pragma_update(None, "user_version", FORMAT_VERSION)?;
    Ok(())
}

/// Checks the format of an existing database and upgrades older ones in
/// one transaction. `true` when the derived tables must be rebuilt.
pub(crate) fn check(conn: &Connection) -> Result<bool> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > FORMAT_VERSION {
        return Err(ReplicaError::TooNew {
            found,
            supported: FORMAT_VERSION,
        });
    }
    let pending = UPGRADES
        .get((found.max(1) - 1) as usize..)
        .unwrap_or_default();
    if !pending.is_empty() {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for upgrade in pending {
            conn.execute_batch(upgrade)?;
        }
        conn.pragma_update(None, "user_version", FORMAT_VERSION)?;
        conn.execute_batch("COMMIT")?;
    }
    Ok(!pending.is_empty() && found < REBUILD_BELOW)
}
