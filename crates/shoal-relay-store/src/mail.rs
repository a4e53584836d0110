//! What the relay's email channel stores: mailboxes (passwords only sealed,
//! see the relay's `secrets`), how far each mailbox has been read, an intent
//! log that makes ingesting a message exactly-once, and the lookups threading
//! needs (Message-ID → conversation, address → customer, subject fallback).

use crate::{Result, StoreError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a mail connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143, submission 587).
    Starttls,
    /// No encryption: only for servers on loopback or a private network.
    None,
}

impl TlsMode {
    /// The mode as written in configs and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Tls => "tls",
            TlsMode::Starttls => "starttls",
            TlsMode::None => "none",
        }
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TlsMode {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "tls" | "ssl" => Ok(TlsMode::Tls),
            "starttls" => Ok(TlsMode::Starttls),
            "none" | "plain" => Ok(TlsMode::None),
            other => Err(StoreError::Conflict(format!(
                "unknown TLS mode `{other}` (use tls, starttls or none)"
            ))),
        }
    }
}

/// One mail server the relay talks to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerConfig {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Encryption.
    pub tls: TlsMode,
    /// Login.
    pub user: String,
    /// A PEM file of certificate authorities to trust besides the usual
    /// public ones (a private CA, or a test server's).
    pub ca_file: Option<String>,
}

/// A mailbox connected to a team: where customers write, and how the relay
/// reads and sends its mail. Passwords are not part of the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MailboxRecord {
    /// Id (random).
    pub id: String,
    /// The team whose inbox it feeds.
    pub team_id: String,
    /// The address customers write to, e.g. `support@northwind.example`.
    pub address: String,
    /// Name shown on replies after the agent's, e.g. `Northwind Support`.
    pub display_name: Option<String>,
    /// Incoming mail.
    pub imap: ServerConfig,
    /// Outgoing mail.
    pub smtp: ServerConfig,
    /// When it was added, Unix ms.
    pub created_at: i64,
    /// Whether the administrator allowed the IMAP password to be sent
    /// without TLS (`--insecure-plaintext`, for a trusted network).
    pub insecure_plaintext: bool,
}

/// A mailbox to add, with its passwords already sealed by the relay.
#[derive(Clone, Debug)]
pub struct NewMailbox {
    /// Id (random).
    pub id: String,
    /// The team.
    pub team_id: String,
    /// The address customers write to.
    pub address: String,
    /// Name shown on replies.
    pub display_name: Option<String>,
    /// Incoming mail.
    pub imap: ServerConfig,
    /// Outgoing mail.
    pub smtp: ServerConfig,
    /// The IMAP password, sealed.
    pub imap_secret: Vec<u8>,
    /// The SMTP password, sealed.
    pub smtp_secret: Vec<u8>,
    /// See [`MailboxRecord::insecure_plaintext`].
    pub insecure_plaintext: bool,
}

/// How far a mailbox's INBOX has been read: messages up to `last_uid` of
/// this `uidvalidity` are imported (or being imported, see [`IngestRecord`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IngestCursor {
    /// The folder's UIDVALIDITY when the UIDs were read.
    pub uidvalidity: u32,
    /// Highest UID taken.
    pub last_uid: u32,
}

/// One incoming message on its way into a conversation. Recorded (as
/// `done: false`) before the conversation changes, so that a relay killed in
/// between can tell on restart whether the entry made it, by its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestRecord {
    /// The mailbox.
    pub mailbox_id: String,
    /// UIDVALIDITY of the folder.
    pub uidvalidity: u32,
    /// The message's UID.
    pub uid: u32,
    /// Its Message-ID, normalized, when it has one.
    pub message_id: Option<String>,
    /// The conversation it goes to (new or existing).
    pub conversation_id: String,
    /// The entry it becomes.
    pub entry_id: String,
    /// The customer it is from.
    pub customer_id: String,
    /// Whether the conversation change is stored.
    pub done: bool,
}

/// Where a reply is in the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting for its undo window to pass, or for its next attempt.
    Waiting,
    /// Handed to the SMTP server; not yet confirmed (a crash here is the one
    /// window in which a reply can go out twice, see docs/email.md).
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up: permanent failure, or too many attempts.
    Failed,
    /// Withdrawn by its author, or no longer queued in its document.
    Cancelled,
    /// Held back because it collided, until its author releases or discards
    /// it in the document.
    Held,
}

impl OutboxState {
    /// The state as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Waiting => "waiting",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Cancelled => "cancelled",
            OutboxState::Held => "held",
        }
    }
}

impl FromStr for OutboxState {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "waiting" => OutboxState::Waiting,
            "sending" => OutboxState::Sending,
            "sent" => OutboxState::Sent,
            "failed" => OutboxState::Failed,
            "cancelled" => OutboxState::Cancelled,
            "held" => OutboxState::Held,
            other => {
                return Err(StoreError::Backend(format!(
                    "unknown outbox state `{other}`"
                )))
            }
        })
    }
}

/// A reply the SMTP server accepted: who sent what to whom, for the audit
/// log and the rate limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentMail {
    /// Its team.
    pub team_id: String,
    /// The reply's entry id.
    pub entry_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// The agent who wrote it.
    pub author: String,
    /// The address it went to.
    pub recipient: String,
    /// Its Message-ID.
    pub message_id: String,
    /// When the SMTP server took it (Unix ms).
    pub sent_at: i64,
}

/// One reply in the outbox, keyed by its team and entry id (the
/// idempotency key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxItem {
    /// The reply's entry id.
    pub entry_id: String,
    /// Its team.
    pub team_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// The mailbox it goes out through.
    pub mailbox_id: String,
    /// Where it is.
    pub state: OutboxState,
    /// SMTP attempts so far.
    pub attempts: u32,
    /// Not before this time (Unix ms): the undo window, then backoff.
    pub next_attempt_at: i64,
    /// The server's answer to the last failed attempt.
    pub last_error: Option<String>,
}

/// A message ingest could not import, set aside so that the mail after it
/// flows: kept with its reason until an admin retries or drops it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuarantinedMail {
    /// Its number, for `shoal-relay mail quarantine retry|drop`.
    pub id: i64,
    /// The mailbox it came to.
    pub mailbox_id: String,
    /// The mailbox's UIDVALIDITY when it was read.
    pub uidvalidity: u32,
    /// Its UID.
    pub uid: u32,
    /// Its Message-ID, when it has one.
    pub message_id: Option<String>,
    /// Its sender, as written.
    pub from: String,
    /// Its subject.
    pub subject: String,
    /// Why it could not be imported (the last attempt's error).
    pub reason: String,
    /// Import attempts so far.
    pub attempts: u32,
    /// When it was first set aside (Unix ms).
    pub quarantined_at: i64,
    /// An admin asked for another attempt.
    pub retry: bool,
}

/// What the email channel stores.
pub trait MailStore: Send + Sync + 'static {
    /// Adds a mailbox; its address must be unique across the relay.
    fn add_mailbox(&self, mailbox: &NewMailbox, now: i64) -> Result<MailboxRecord>;
    /// Mailboxes, of one team or all.
    fn mailboxes(&self, team_id: Option<&str>) -> Result<Vec<MailboxRecord>>;
    /// A mailbox's sealed IMAP and SMTP passwords.
    fn mailbox_secrets(&self, mailbox_id: &str) -> Result<(Vec<u8>, Vec<u8>)>;
    /// Removes a mailbox (by id or address) and its reading state.
    fn remove_mailbox(&self, id_or_address: &str) -> Result<MailboxRecord>;

    /// How far the mailbox has been read, if at all.
    fn ingest_cursor(&self, mailbox_id: &str) -> Result<Option<IngestCursor>>;
    /// Records how far the mailbox has been read.
    fn set_ingest_cursor(&self, mailbox_id: &str, cursor: IngestCursor) -> Result<()>;
    /// The record of an earlier import of this message (same UID, or same
    /// Message-ID in this mailbox), if any.
    fn find_ingest(
        &self,
        mailbox_id: &str,
        uidvalidity: u32,
        uid: u32,
        message_id: Option<&str>,
    ) -> Result<Option<IngestRecord>>;
    /// Records an import about to happen (`done: false`) and the threading
    /// facts it establishes (its Message-ID, the customer's address, the
    /// subject key), in one transaction.
    fn begin_ingest(
        &self,
        record: &IngestRecord,
        from_address: &str,
        subject_key: &str,
    ) -> Result<()>;
    /// Marks an import done.
    fn finish_ingest(&self, mailbox_id: &str, uidvalidity: u32, uid: u32) -> Result<()>;
    /// Imports begun and not marked done (after a crash).
    fn unfinished_ingests(&self, mailbox_id: &str) -> Result<Vec<IngestRecord>>;

    /// Sets a message aside that could not be imported (or records another
    /// failed attempt of one already set aside: attempts + 1, the new
    /// reason, no retry pending), and forgets its unfinished import, so a
    /// later attempt starts afresh. `id`, `attempts` and `retry` of `mail`
    /// are ignored.
    fn quarantine_mail(&self, mail: &QuarantinedMail) -> Result<()>;
    /// Messages set aside, of one mailbox or all, oldest first.
    fn quarantined_mail(&self, mailbox_id: Option<&str>) -> Result<Vec<QuarantinedMail>>;
    /// Asks for another import attempt of a message set aside; false when
    /// there is no such message.
    fn retry_quarantined(&self, id: i64) -> Result<bool>;
    /// Forgets a message set aside (it stays in the mailbox, unimported);
    /// false when there is no such message.
    fn drop_quarantined(&self, id: i64) -> Result<bool>;

    /// The conversation a message with any of these Message-IDs belongs to.
    fn conversation_by_message_ids(
        &self,
        team_id: &str,
        message_ids: &[String],
    ) -> Result<Option<String>>;
    /// Records that `message_id` (e.g. of an outgoing reply) belongs to a
    /// conversation.
    fn record_message_id(
        &self,
        team_id: &str,
        message_id: &str,
        conversation_id: &str,
    ) -> Result<()>;
    /// Records that `address` is sent an acknowledgement at `now`, unless
    /// it was sent one less than `interval_ms` before; `false` then. One
    /// transaction, so concurrent imports send at most one.
    fn acknowledge_unless_recent(
        &self,
        team_id: &str,
        address: &str,
        now: i64,
        interval_ms: i64,
    ) -> Result<bool>;
    /// The feed sequence up to which a team's customer documents were read
    /// for their addresses.
    fn customer_index_cursor(&self, team_id: &str) -> Result<u64>;
    /// Records each customer's addresses (lowercased; an address another
    /// customer had moves to this one) and the feed position they were read
    /// up to, in one transaction.
    fn index_customer_addresses(
        &self,
        team_id: &str,
        customers: &[(String, Vec<String>)],
        seq: u64,
    ) -> Result<()>;
    /// The feed sequence up to which a team's conversations were scanned
    /// for queued replies.
    fn outbox_cursor(&self, team_id: &str) -> Result<u64>;
    /// Records the outbox scan position.
    fn set_outbox_cursor(&self, team_id: &str, seq: u64) -> Result<()>;
    /// Adds a reply to the outbox unless it is there; returns the stored item.
    fn outbox_add(&self, item: &OutboxItem) -> Result<OutboxItem>;
    /// Items due by `now` (waiting or sending, attempt time passed).
    fn outbox_due(&self, now: i64) -> Result<Vec<OutboxItem>>;
    /// Stores an item's new state.
    fn outbox_update(&self, item: &OutboxItem) -> Result<()>;
    /// One item of a team.
    fn outbox_item(&self, team_id: &str, entry_id: &str) -> Result<Option<OutboxItem>>;
    /// Records a sent reply in the audit log (once per team and entry).
    fn record_sent_mail(&self, sent: &SentMail) -> Result<()>;
    /// Replies a team (or one of its agents) sent at or after `since`.
    fn sent_mail_count(&self, team_id: &str, author: Option<&str>, since: i64) -> Result<u64>;
    /// The audit log, newest first: a team's, or every team's.
    fn sent_mail(&self, team_id: Option<&str>, limit: usize) -> Result<Vec<SentMail>>;

    /// Keeps an attachment's bytes under its content hash (once per team).
    fn put_blob(&self, team_id: &str, hash: &str, content_type: &str, data: &[u8]) -> Result<()>;
    /// An attachment's content type and bytes.
    fn blob(&self, team_id: &str, hash: &str) -> Result<Option<(String, Vec<u8>)>>;

    /// The customer who writes from `address` (case-insensitive).
    fn customer_by_address(&self, team_id: &str, address: &str) -> Result<Option<String>>;
    /// The newest conversation of `customer_id` whose normalized subject is
    /// `subject_key` (the threading fallback).
    fn conversation_by_subject(
        &self,
        team_id: &str,
        customer_id: &str,
        subject_key: &str,
    ) -> Result<Option<String>>;
}
