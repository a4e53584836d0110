//! [`MailStore`] on the relay's SQLite file (schema version 2).

use crate::{backend, team_exists, SqliteStore};
use rusqlite::{params, Connection, OptionalExtension, Row};
use shoal_relay_store::{
    IngestCursor, IngestRecord, MailStore, MailboxRecord, NewMailbox, OutboxItem, QuarantinedMail,
    Result, SentMail, ServerConfig, StoreError,
};

pub(crate) const SCHEMA_V2: &str = "
CREATE TABLE mailboxes (
    id           TEXT PRIMARY KEY,
    team_id      TEXT NOT NULL REFERENCES teams (id),
    address      TEXT NOT NULL,
    display_name TEXT NULL,
    imap_host    TEXT NOT NULL,
    imap_port    INTEGER NOT NULL,
    imap_tls     TEXT NOT NULL,
    imap_user    TEXT NOT NULL,
    imap_secret  BLOB NOT NULL,
    smtp_host    TEXT NOT NULL,
    smtp_port    INTEGER NOT NULL,
    smtp_tls     TEXT NOT NULL,
    smtp_user    TEXT NOT NULL,
    smtp_secret  BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX mailboxes_address ON mailboxes (address COLLATE NOCASE);

CREATE TABLE mail_cursors (
    mailbox_id  TEXT PRIMARY KEY REFERENCES mailboxes (id) ON DELETE CASCADE,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL
);

-- The intent log of imports: written before the conversation changes.
CREATE TABLE mail_ingest (
    mailbox_id      TEXT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uidvalidity     INTEGER NOT NULL,
    uid             INTEGER NOT NULL,
    message_id      TEXT NULL,
    conversation_id TEXT NOT NULL,
    entry_id        TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    done            INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uidvalidity, uid)
);
CREATE INDEX mail_ingest_message ON mail_ingest (mailbox_id, message_id)
    WHERE message_id IS NOT NULL;
CREATE INDEX mail_ingest_open ON mail_ingest (mailbox_id) WHERE done = 0;

-- Threading: Message-IDs (incoming and outgoing) → conversation.
CREATE TABLE mail_threads (
    team_id         TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    PRIMARY KEY (team_id, message_id)
);
CREATE TABLE mail_customers (
    team_id     TEXT NOT NULL,
    address     TEXT NOT NULL COLLATE NOCASE,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (team_id, address)
);
-- Replies on their way out, keyed by entry id (the idempotency key).
CREATE TABLE outbox (
    entry_id        TEXT PRIMARY KEY,
    team_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    mailbox_id      TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state IN ('waiting', 'sending');
CREATE TABLE outbox_cursors (
    team_id TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL
);
CREATE TABLE mail_subjects (
    team_id         TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    subject_key     TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    PRIMARY KEY (team_id, customer_id, subject_key)
);
";

/// Schema 3: attachments of incoming mail, and per-server CA files.
pub(crate) const SCHEMA_V3: &str = "
ALTER TABLE mailboxes ADD COLUMN imap_ca_file TEXT NULL;
ALTER TABLE mailboxes ADD COLUMN smtp_ca_file TEXT NULL;

-- Attachments of incoming mail, by content hash.
CREATE TABLE mail_blobs (
    team_id      TEXT NOT NULL,
    hash         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (team_id, hash)
);
";

/// Schema 4: mail that could not be imported, set aside.
pub(crate) const SCHEMA_V4: &str = "
CREATE TABLE mail_quarantine (
    id             INTEGER PRIMARY KEY,
    mailbox_id     TEXT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uidvalidity    INTEGER NOT NULL,
    uid            INTEGER NOT NULL,
    message_id     TEXT NULL,
    from_address   TEXT NOT NULL,
    subject        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    quarantined_at INTEGER NOT NULL,
    retry          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (mailbox_id, uidvalidity, uid)
);
";

/// Schema 5: outbox rows keyed by team and entry, the agent each Automerge
/// actor writes for, revocations numbered in commit order, and the
/// mailboxes' permission to log in without TLS. Entry ids come from
/// clients, so two teams' ids may meet; keyed by entry alone, one team's
/// reply could hide another team's.
/// Version 6: the relay learns the addresses of customers agents entered
/// (not only of those whose mail it imported), following the change feed.
pub(crate) const SCHEMA_V6: &str = "
CREATE TABLE customer_index_cursors (
    team_id TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL
);
";

/// Version 7: when each customer address was last sent an automatic
/// acknowledgement (at most one per interval).
pub(crate) const SCHEMA_V7: &str = "
CREATE TABLE mail_acknowledgements (
    team_id TEXT NOT NULL,
    address TEXT NOT NULL COLLATE NOCASE,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (team_id, address)
);
";

pub(crate) const SCHEMA_V5: &str = "
CREATE TABLE outbox_v5 (
    team_id         TEXT NOT NULL,
    entry_id        TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    mailbox_id      TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NULL,
    PRIMARY KEY (team_id, entry_id)
);
INSERT INTO outbox_v5 (team_id, entry_id, conversation_id, mailbox_id, state, attempts,
        next_attempt_at, last_error)
    SELECT team_id, entry_id, conversation_id, mailbox_id, state, attempts, next_attempt_at,
        last_error
    FROM outbox ORDER BY rowid;
DROP TABLE outbox;
ALTER TABLE outbox_v5 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state IN ('waiting', 'sending');
-- Which agent each Automerge actor writes for: bound on first use, so no
-- connection can make changes in another agent's name.
CREATE TABLE actors (
    team_id  TEXT NOT NULL,
    actor    TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    bound_at INTEGER NOT NULL,
    PRIMARY KEY (team_id, actor)
);
-- Who sent what to whom: the audit log, and what the rate limits count.
CREATE TABLE mail_audit (
    team_id         TEXT NOT NULL,
    entry_id        TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    author          TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    sent_at         INTEGER NOT NULL,
    PRIMARY KEY (team_id, entry_id)
);
CREATE INDEX mail_audit_time ON mail_audit (team_id, sent_at);
-- Revocations numbered in commit order, so the relay misses none.
ALTER TABLE agents ADD COLUMN revoked_seq INTEGER NULL;
UPDATE agents SET revoked_seq = rowid WHERE revoked_at IS NOT NULL;
CREATE INDEX agents_revoked_seq ON agents (revoked_seq) WHERE revoked_seq IS NOT NULL;
-- Whether the IMAP password may be sent without TLS: no by default, also for
-- mailboxes connected before (they get a clear error until changed).
ALTER TABLE mailboxes ADD COLUMN insecure_plaintext INTEGER NOT NULL DEFAULT 0;
";

const QUARANTINE_COLUMNS: &str = "id, mailbox_id, uidvalidity, uid, message_id, from_address, \
    subject, reason, attempts, quarantined_at, retry";

fn quarantined_from_row(row: &Row<'_>) -> rusqlite::Result<QuarantinedMail> {
    Ok(QuarantinedMail {
        id: row.get(0)?,
        mailbox_id: row.get(1)?,
        uidvalidity: row.get(2)?,
        uid: row.get(3)?,
        message_id: row.get(4)?,
        from: row.get(5)?,
        subject: row.get(6)?,
        reason: row.get(7)?,
        attempts: row.get(8)?,
        quarantined_at: row.get(9)?,
        retry: row.get(10)?,
    })
}

const MAILBOX_COLUMNS: &str = "id, team_id, address, display_name, imap_host, imap_port, \
    imap_tls, imap_user, smtp_host, smtp_port, smtp_tls, smtp_user, created_at, imap_ca_file, \
    smtp_ca_file, insecure_plaintext";

fn mailbox_from_row(row: &Row<'_>) -> rusqlite::Result<MailboxRecord> {
    let tls = |i: usize| -> rusqlite::Result<shoal_relay_store::TlsMode> {
        let s: String = row.get(i)?;
        s.parse().map_err(|e: StoreError| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
        })
    };
    Ok(MailboxRecord {
        id: row.get(0)?,
        team_id: row.get(1)?,
        address: row.get(2)?,
        display_name: row.get(3)?,
        imap: ServerConfig {
            host: row.get(4)?,
            port: row.get(5)?,
            tls: tls(6)?,
            user: row.get(7)?,
            ca_file: row.get(13)?,
        },
        smtp: ServerConfig {
            host: row.get(8)?,
            port: row.get(9)?,
            tls: tls(10)?,
            user: row.get(11)?,
            ca_file: row.get(14)?,
        },
        created_at: row.get(12)?,
        insecure_plaintext: row.get(15)?,
    })
}

const INGEST_COLUMNS: &str =
    "mailbox_id, uidvalidity, uid, message_id, conversation_id, entry_id, customer_id, done";

fn ingest_from_row(row: &Row<'_>) -> rusqlite::Result<IngestRecord> {
    Ok(IngestRecord {
        mailbox_id: row.get(0)?,
        uidvalidity: row.get(1)?,
        uid: row.get(2)?,
        message_id: row.get(3)?,
        conversation_id: row.get(4)?,
        entry_id: row.get(5)?,
        customer_id: row.get(6)?,
        done: row.get(7)?,
    })
}

const OUTBOX_COLUMNS: &str =
    "entry_id, team_id, conversation_id, mailbox_id, state, attempts, next_attempt_at, last_error";

fn outbox_from_row(row: &Row<'_>) -> rusqlite::Result<OutboxItem> {
    let state: String = row.get(4)?;
    Ok(OutboxItem {
        entry_id: row.get(0)?,
        team_id: row.get(1)?,
        conversation_id: row.get(2)?,
        mailbox_id: row.get(3)?,
        state: state.parse().map_err(|e: StoreError| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, e.into())
        })?,
        attempts: row.get(5)?,
        next_attempt_at: row.get(6)?,
        last_error: row.get(7)?,
    })
}

fn outbox_item(conn: &Connection, team_id: &str, entry_id: &str) -> Result<Option<OutboxItem>> {
    conn.prepare_cached(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE team_id = ?1 AND entry_id = ?2"
    ))
    .and_then(|mut stmt| {
        stmt.query_row([team_id, entry_id], outbox_from_row)
            .optional()
    })
    .map_err(backend)
}

fn mailbox(conn: &Connection, id_or_address: &str) -> Result<Option<MailboxRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {MAILBOX_COLUMNS} FROM mailboxes WHERE id = ?1 OR address = ?1 COLLATE NOCASE"
    ))
    .and_then(|mut stmt| stmt.query_row([id_or_address], mailbox_from_row).optional())
    .map_err(backend)
}

fn mailbox_team(conn: &Connection, mailbox_id: &str) -> Result<String> {
    conn.prepare_cached("SELECT team_id FROM mailboxes WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([mailbox_id], |r| r.get(0)).optional())
        .map_err(backend)?
        .ok_or_else(|| StoreError::Conflict(format!("no mailbox `{mailbox_id}`")))
}

impl MailStore for SqliteStore {
    fn add_mailbox(&self, m: &NewMailbox, now: i64) -> Result<MailboxRecord> {
        let conn = self.conn()?;
        if !team_exists(&conn, &m.team_id)? {
            return Err(StoreError::UnknownTeam(m.team_id.clone()));
        }
        if mailbox(&conn, &m.address)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "the mailbox {} is already connected",
                m.address
            )));
        }
        conn.prepare_cached(
            "INSERT INTO mailboxes (id, team_id, address, display_name, imap_host, imap_port, \
             imap_tls, imap_user, imap_secret, smtp_host, smtp_port, smtp_tls, smtp_user, \
             smtp_secret, created_at, imap_ca_file, smtp_ca_file, insecure_plaintext) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                m.id,
                m.team_id,
                m.address,
                m.display_name,
                m.imap.host,
                m.imap.port,
                m.imap.tls.as_str(),
                m.imap.user,
                m.imap_secret,
                m.smtp.host,
                m.smtp.port,
                m.smtp.tls.as_str(),
                m.smtp.user,
                m.smtp_secret,
                now,
                m.imap.ca_file,
                m.smtp.ca_file,
                m.insecure_plaintext
            ])
        })
        .map_err(backend)?;
        mailbox(&conn, &m.id)?.ok_or_else(|| StoreError::Backend("mailbox vanished".into()))
    }

    fn mailboxes(&self, team_id: Option<&str>) -> Result<Vec<MailboxRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {MAILBOX_COLUMNS} FROM mailboxes \
                 WHERE ?1 IS NULL OR team_id = ?1 ORDER BY address"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map([team_id], mailbox_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(backend)?;
        Ok(rows)
    }

    fn mailbox_secrets(&self, mailbox_id: &str) -> Result<(Vec<u8>, Vec<u8>)> {
        let conn = self.conn()?;
        conn.prepare_cached("SELECT imap_secret, smtp_secret FROM mailboxes WHERE id = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([mailbox_id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(backend)?
            .ok_or_else(|| StoreError::Conflict(format!("no mailbox `{mailbox_id}`")))
    }

    fn remove_mailbox(&self, id_or_address: &str) -> Result<MailboxRecord> {
        let conn = self.conn()?;
        let found = mailbox(&conn, id_or_address)?
            .ok_or_else(|| StoreError::Conflict(format!("no mailbox `{id_or_address}`")))?;
        conn.prepare_cached("DELETE FROM mailboxes WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute([&found.id]))
            .map_err(backend)?;
        Ok(found)
    }

    fn ingest_cursor(&self, mailbox_id: &str) -> Result<Option<IngestCursor>> {
        let conn = self.conn()?;
        conn.prepare_cached("SELECT uidvalidity, last_uid FROM mail_cursors WHERE mailbox_id = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([mailbox_id], |r| {
                    Ok(IngestCursor {
                        uidvalidity: r.get(0)?,
                        last_uid: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(backend)
    }

    fn set_ingest_cursor(&self, mailbox_id: &str, cursor: IngestCursor) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT INTO mail_cursors (mailbox_id, uidvalidity, last_uid) VALUES (?1, ?2, ?3) \
             ON CONFLICT (mailbox_id) DO UPDATE SET uidvalidity = ?2, last_uid = ?3",
        )
        .and_then(|mut stmt| stmt.execute(params![mailbox_id, cursor.uidvalidity, cursor.last_uid]))
        .map_err(backend)?;
        Ok(())
    }

    fn find_ingest(
        &self,
        mailbox_id: &str,
        uidvalidity: u32,
        uid: u32,
        message_id: Option<&str>,
    ) -> Result<Option<IngestRecord>> {
        let conn = self.conn()?;
        conn.prepare_cached(&format!(
            "SELECT {INGEST_COLUMNS} FROM mail_ingest WHERE mailbox_id = ?1 \
             AND ((uidvalidity = ?2 AND uid = ?3) OR (?4 IS NOT NULL AND message_id = ?4)) \
             LIMIT 1"
        ))
        .and_then(|mut stmt| {
            stmt.query_row(
                params![mailbox_id, uidvalidity, uid, message_id],
                ingest_from_row,
            )
            .optional()
        })
        .map_err(backend)
    }

    fn begin_ingest(&self, r: &IngestRecord, from_address: &str, subject_key: &str) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(backend)?;
        let team = mailbox_team(&tx, &r.mailbox_id)?;
        tx.prepare_cached(&format!(
            "INSERT INTO mail_ingest ({INGEST_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                r.mailbox_id,
                r.uidvalidity,
                r.uid,
                r.message_id,
                r.conversation_id,
                r.entry_id,
                r.customer_id,
                r.done
            ])
        })
        .map_err(backend)?;
        if let Some(message_id) = &r.message_id {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO mail_threads (team_id, message_id, conversation_id) \
                 VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![team, message_id, r.conversation_id]))
            .map_err(backend)?;
        }
        if !from_address.is_empty() {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO mail_customers (team_id, address, customer_id) \
                 VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![team, from_address, r.customer_id]))
            .map_err(backend)?;
        }
        if !subject_key.is_empty() {
            tx.prepare_cached(
                "INSERT INTO mail_subjects (team_id, customer_id, subject_key, conversation_id) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (team_id, customer_id, subject_key) \
                 DO UPDATE SET conversation_id = ?4",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![team, r.customer_id, subject_key, r.conversation_id])
            })
            .map_err(backend)?;
        }
        tx.commit().map_err(backend)
    }

    fn finish_ingest(&self, mailbox_id: &str, uidvalidity: u32, uid: u32) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "UPDATE mail_ingest SET done = 1 WHERE mailbox_id = ?1 AND uidvalidity = ?2 AND uid = ?3",
        )
        .and_then(|mut stmt| stmt.execute(params![mailbox_id, uidvalidity, uid]))
        .map_err(backend)?;
        Ok(())
    }

    fn unfinished_ingests(&self, mailbox_id: &str) -> Result<Vec<IngestRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {INGEST_COLUMNS} FROM mail_ingest WHERE mailbox_id = ?1 AND done = 0 \
                 ORDER BY uidvalidity, uid"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map([mailbox_id], ingest_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(backend)?;
        Ok(rows)
    }

    fn quarantine_mail(&self, m: &QuarantinedMail) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(backend)?;
        tx.prepare_cached(&format!(
            "INSERT INTO mail_quarantine ({QUARANTINE_COLUMNS}) \
             VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, 0) \
             ON CONFLICT (mailbox_id, uidvalidity, uid) DO UPDATE \
             SET reason = ?7, attempts = attempts + 1, retry = 0"
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                m.mailbox_id,
                m.uidvalidity,
                m.uid,
                m.message_id,
                m.from,
                m.subject,
                m.reason,
                m.quarantined_at
            ])
        })
        .map_err(backend)?;
        tx.prepare_cached(
            "DELETE FROM mail_ingest WHERE mailbox_id = ?1 AND uidvalidity = ?2 AND uid = ?3 \
             AND done = 0",
        )
        .and_then(|mut stmt| stmt.execute(params![m.mailbox_id, m.uidvalidity, m.uid]))
        .map_err(backend)?;
        tx.commit().map_err(backend)
    }

    fn quarantined_mail(&self, mailbox_id: Option<&str>) -> Result<Vec<QuarantinedMail>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {QUARANTINE_COLUMNS} FROM mail_quarantine \
                 WHERE ?1 IS NULL OR mailbox_id = ?1 ORDER BY id"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map([mailbox_id], quarantined_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(backend)?;
        Ok(rows)
    }

    fn retry_quarantined(&self, id: i64) -> Result<bool> {
        let conn = self.conn()?;
        let n = conn
            .prepare_cached("UPDATE mail_quarantine SET retry = 1 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute([id]))
            .map_err(backend)?;
        Ok(n > 0)
    }

    fn drop_quarantined(&self, id: i64) -> Result<bool> {
        let conn = self.conn()?;
        let n = conn
            .prepare_cached("DELETE FROM mail_quarantine WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute([id]))
            .map_err(backend)?;
        Ok(n > 0)
    }

    fn conversation_by_message_ids(
        &self,
        team_id: &str,
        message_ids: &[String],
    ) -> Result<Option<String>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT conversation_id FROM mail_threads WHERE team_id = ?1 AND message_id = ?2",
            )
            .map_err(backend)?;
        for id in message_ids {
            let found: Option<String> = stmt
                .query_row(params![team_id, id], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    fn record_message_id(
        &self,
        team_id: &str,
        message_id: &str,
        conversation_id: &str,
    ) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT OR IGNORE INTO mail_threads (team_id, message_id, conversation_id) \
             VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut stmt| stmt.execute(params![team_id, message_id, conversation_id]))
        .map_err(backend)?;
        Ok(())
    }

    fn acknowledge_unless_recent(
        &self,
        team_id: &str,
        address: &str,
        now: i64,
        interval_ms: i64,
    ) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend)?;
        let last: Option<i64> = tx
            .prepare_cached(
                "SELECT sent_at FROM mail_acknowledgements WHERE team_id = ?1 AND address = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![team_id, address], |r| r.get(0))
                    .optional()
            })
            .map_err(backend)?;
        if last.is_some_and(|t| now - t < interval_ms) {
            return Ok(false);
        }
        tx.prepare_cached(
            "INSERT OR REPLACE INTO mail_acknowledgements (team_id, address, sent_at) \
             VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut stmt| stmt.execute(params![team_id, address.to_lowercase(), now]))
        .map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(true)
    }

    fn customer_index_cursor(&self, team_id: &str) -> Result<u64> {
        let conn = self.conn()?;
        conn.prepare_cached("SELECT seq FROM customer_index_cursors WHERE team_id = ?1")
            .and_then(|mut stmt| stmt.query_row([team_id], |r| r.get::<_, i64>(0)).optional())
            .map(|v| v.unwrap_or(0) as u64)
            .map_err(backend)
    }

    fn index_customer_addresses(
        &self,
        team_id: &str,
        customers: &[(String, Vec<String>)],
        seq: u64,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(backend)?;
        for (customer, addresses) in customers {
            for address in addresses {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO mail_customers (team_id, address, customer_id) \
                     VALUES (?1, ?2, ?3)",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![team_id, address.trim().to_lowercase(), customer])
                })
                .map_err(backend)?;
            }
        }
        tx.prepare_cached(
            "INSERT INTO customer_index_cursors (team_id, seq) VALUES (?1, ?2) \
             ON CONFLICT (team_id) DO UPDATE SET seq = excluded.seq",
        )
        .and_then(|mut stmt| stmt.execute(params![team_id, seq as i64]))
        .map_err(backend)?;
        tx.commit().map_err(backend)
    }

    fn outbox_cursor(&self, team_id: &str) -> Result<u64> {
        let conn = self.conn()?;
        let seq: Option<i64> = conn
            .prepare_cached("SELECT seq FROM outbox_cursors WHERE team_id = ?1")
            .and_then(|mut stmt| stmt.query_row([team_id], |r| r.get(0)).optional())
            .map_err(backend)?;
        Ok(seq.unwrap_or(0).max(0) as u64)
    }

    fn set_outbox_cursor(&self, team_id: &str, seq: u64) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT INTO outbox_cursors (team_id, seq) VALUES (?1, ?2) \
             ON CONFLICT (team_id) DO UPDATE SET seq = MAX(seq, ?2)",
        )
        .and_then(|mut stmt| stmt.execute(params![team_id, seq as i64]))
        .map_err(backend)?;
        Ok(())
    }

    fn outbox_add(&self, item: &OutboxItem) -> Result<OutboxItem> {
        let conn = self.conn()?;
        conn.prepare_cached(&format!(
            "INSERT OR IGNORE INTO outbox ({OUTBOX_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                item.entry_id,
                item.team_id,
                item.conversation_id,
                item.mailbox_id,
                item.state.as_str(),
                item.attempts,
                item.next_attempt_at,
                item.last_error
            ])
        })
        .map_err(backend)?;
        outbox_item(&conn, &item.team_id, &item.entry_id)?
            .ok_or_else(|| StoreError::Backend("outbox item vanished".into()))
    }

    fn outbox_due(&self, now: i64) -> Result<Vec<OutboxItem>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox \
                 WHERE state IN ('waiting', 'sending') AND next_attempt_at <= ?1 \
                 ORDER BY next_attempt_at, rowid"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map([now], outbox_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(backend)?;
        Ok(rows)
    }

    fn outbox_update(&self, item: &OutboxItem) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_at = ?4, last_error = ?5 \
             WHERE entry_id = ?1 AND team_id = ?6",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                item.entry_id,
                item.state.as_str(),
                item.attempts,
                item.next_attempt_at,
                item.last_error,
                item.team_id
            ])
        })
        .map_err(backend)?;
        Ok(())
    }

    fn outbox_item(&self, team_id: &str, entry_id: &str) -> Result<Option<OutboxItem>> {
        outbox_item(&*self.conn()?, team_id, entry_id)
    }

    fn record_sent_mail(&self, m: &SentMail) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT OR IGNORE INTO mail_audit (team_id, entry_id, conversation_id, author, \
             recipient, message_id, sent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                m.team_id,
                m.entry_id,
                m.conversation_id,
                m.author,
                m.recipient,
                m.message_id,
                m.sent_at
            ])
        })
        .map_err(backend)?;
        Ok(())
    }

    fn sent_mail_count(&self, team_id: &str, author: Option<&str>, since: i64) -> Result<u64> {
        let conn = self.conn()?;
        let n: i64 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM mail_audit \
                 WHERE team_id = ?1 AND sent_at >= ?2 AND (?3 IS NULL OR author = ?3)",
            )
            .and_then(|mut stmt| stmt.query_row(params![team_id, since, author], |r| r.get(0)))
            .map_err(backend)?;
        Ok(n.max(0) as u64)
    }

    fn sent_mail(&self, team_id: Option<&str>, limit: usize) -> Result<Vec<SentMail>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT team_id, entry_id, conversation_id, author, recipient, message_id, \
                 sent_at FROM mail_audit WHERE ?1 IS NULL OR team_id = ?1 \
                 ORDER BY sent_at DESC, rowid DESC LIMIT ?2",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![team_id, limit as i64], |r| {
                Ok(SentMail {
                    team_id: r.get(0)?,
                    entry_id: r.get(1)?,
                    conversation_id: r.get(2)?,
                    author: r.get(3)?,
                    recipient: r.get(4)?,
                    message_id: r.get(5)?,
                    sent_at: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(backend)?;
        Ok(rows)
    }

    fn put_blob(&self, team_id: &str, hash: &str, content_type: &str, data: &[u8]) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT OR IGNORE INTO mail_blobs (team_id, hash, content_type, data) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut stmt| stmt.execute(params![team_id, hash, content_type, data]))
        .map_err(backend)?;
        Ok(())
    }

    fn blob(&self, team_id: &str, hash: &str) -> Result<Option<(String, Vec<u8>)>> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "SELECT content_type, data FROM mail_blobs WHERE team_id = ?1 AND hash = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row([team_id, hash], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(backend)
    }

    fn customer_by_address(&self, team_id: &str, address: &str) -> Result<Option<String>> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "SELECT customer_id FROM mail_customers WHERE team_id = ?1 AND address = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![team_id, address], |r| r.get(0))
                .optional()
        })
        .map_err(backend)
    }

    fn conversation_by_subject(
        &self,
        team_id: &str,
        customer_id: &str,
        subject_key: &str,
    ) -> Result<Option<String>> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "SELECT conversation_id FROM mail_subjects \
             WHERE team_id = ?1 AND customer_id = ?2 AND subject_key = ?3",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![team_id, customer_id, subject_key], |r| r.get(0))
                .optional()
        })
        .map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_relay_store::{OutboxState, RelayStore, TlsMode};

    #[test]
    fn a_schema_2_database_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(crate::SCHEMA_V1).unwrap();
            conn.execute_batch(SCHEMA_V2).unwrap();
            conn.execute_batch(
                "INSERT INTO teams VALUES ('t1', 'Support', 0);
                 INSERT INTO mailboxes (id, team_id, address, imap_host, imap_port, imap_tls,
                     imap_user, imap_secret, smtp_host, smtp_port, smtp_tls, smtp_user,
                     smtp_secret, created_at)
                 VALUES ('m1', 't1', 'a@b.example', 'imap', 993, 'tls', 'u', x'00', 'smtp',
                     465, 'tls', 'u', x'00', 0);
                 INSERT INTO outbox VALUES ('e1', 't1', 'c1', 'm1', 'waiting', 0, 5, NULL);",
            )
            .unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let mailboxes = store.mailboxes(None).unwrap();
        assert_eq!(mailboxes.len(), 1);
        assert_eq!(mailboxes[0].imap.tls, TlsMode::Tls);
        assert_eq!(mailboxes[0].imap.ca_file, None);
        assert!(
            !mailboxes[0].insecure_plaintext,
            "logging in without TLS needs a new, explicit decision"
        );
        store.put_blob("t1", "h", "text/plain", b"x").unwrap();
        assert_eq!(store.teams().unwrap().len(), 1);
        let item = store.outbox_item("t1", "e1").unwrap().expect("kept");
        assert_eq!(
            (item.state, item.next_attempt_at),
            (OutboxState::Waiting, 5)
        );
        assert_eq!(store.outbox_due(10).unwrap(), vec![item]);
    }

    #[test]
    fn two_teams_replies_with_the_same_entry_id_stay_apart() {
        // Entry ids come from clients: a team that copies another team's id
        // must neither hide that team's reply nor take over its row.
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("relay.db")).unwrap();
        let item = |team: &str| OutboxItem {
            entry_id: "same".into(),
            team_id: team.into(),
            conversation_id: format!("conv-of-{team}"),
            mailbox_id: format!("mb-{team}"),
            state: OutboxState::Waiting,
            attempts: 0,
            next_attempt_at: 1,
            last_error: None,
        };
        let a = store.outbox_add(&item("a")).unwrap();
        let mut b = store.outbox_add(&item("b")).unwrap();
        assert_eq!(a, item("a"));
        assert_eq!(b, item("b"));
        b.state = OutboxState::Sent;
        store.outbox_update(&b).unwrap();
        assert_eq!(store.outbox_item("a", "same").unwrap(), Some(item("a")));
        assert_eq!(store.outbox_item("b", "same").unwrap(), Some(b));
        assert_eq!(store.outbox_due(10).unwrap(), vec![item("a")]);
    }
}
