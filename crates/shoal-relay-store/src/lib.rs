//! The relay's storage seam. The relay talks to storage only through
//! [`RelayStore`]; `shoal-relay-sqlite` implements it on one SQLite file, and
//! a PostgreSQL backend can implement it for relays that outgrow one file.
//!
//! Everything is scoped by team: no method returns another team's records,
//! so isolation does not depend on every caller filtering correctly.
//!
//! The methods are blocking; the async relay calls them off its reactor.

use serde::Serialize;

mod mail;
pub use mail::{
    IngestCursor, IngestRecord, MailStore, MailboxRecord, NewMailbox, OutboxItem, OutboxState,
    QuarantinedMail, SentMail, ServerConfig, TlsMode,
};

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (I/O, SQL, corruption).
    #[error("storage backend: {0}")]
    Backend(String),
    /// A referenced team does not exist.
    #[error("no team `{0}`")]
    UnknownTeam(String),
    /// A referenced agent does not exist.
    #[error("no agent `{0}`")]
    UnknownAgent(String),
    /// A unique value is taken (e.g. an e-mail address within a team).
    #[error("{0}")]
    Conflict(String),
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A team: one shared inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TeamRecord {
    /// Team id (32 hex digits), the same id as the team document's.
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time (ms since the epoch).
    pub created_at: i64,
}

/// An agent as the relay knows it (for authentication).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgentRecord {
    /// Agent id (32 hex digits).
    pub id: String,
    /// The agent's team.
    pub team_id: String,
    /// Name.
    pub name: String,
    /// E-mail, unique within the team (case-insensitive).
    pub email: String,
    /// `admin` or `agent`.
    pub role: String,
    /// Creation time.
    pub created_at: i64,
    /// When the agent's token was revoked.
    pub revoked_at: Option<i64>,
}

/// A new agent and its token.
#[derive(Clone, Debug)]
pub struct NewAgent {
    /// Agent id.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// `admin` or `agent`.
    pub role: String,
    /// Public part of the token, used to find it.
    pub token_id: String,
    /// Argon2id PHC string of the token's secret part; the secret itself is
    /// never stored.
    pub secret_hash: String,
}

/// What authentication needs to check a token.
#[derive(Clone, Debug)]
pub struct TokenRecord {
    /// The agent the token belongs to.
    pub agent: AgentRecord,
    /// Argon2id PHC string of the secret.
    pub secret_hash: String,
}

/// A document as stored: an optional compacted snapshot and the changes
/// stored since, oldest first.
#[derive(Clone, Debug, Default)]
pub struct StoredDoc {
    /// Automerge snapshot, if the document was ever compacted.
    pub snapshot: Option<Vec<u8>>,
    /// Encoded Automerge changes after the snapshot.
    pub changes: Vec<Vec<u8>>,
    /// Feed sequence of the newest change.
    pub last_seq: u64,
}

/// A change to store.
#[derive(Clone, Debug)]
pub struct NewChange {
    /// The change's hash (32 bytes); changes already stored are skipped.
    pub hash: Vec<u8>,
    /// The encoded change.
    pub bytes: Vec<u8>,
}

/// The changes of one document in an [`RelayStore::append_batch`].
#[derive(Clone, Debug)]
pub struct AppendItem {
    /// Team id.
    pub team_id: String,
    /// Document id.
    pub doc_id: String,
    /// Its new changes.
    pub changes: Vec<NewChange>,
}

/// One entry of the change feed: a document and its newest sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedEntry {
    /// Document id.
    pub doc_id: String,
    /// Feed sequence of the document's newest change.
    pub seq: u64,
}

/// Counts for `/metrics` and `agent list`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StoreStats {
    /// Teams.
    pub teams: u64,
    /// Agents (revoked included).
    pub agents: u64,
    /// Documents.
    pub documents: u64,
    /// Stored changes not yet folded into snapshots.
    pub changes: u64,
}

/// What one team stores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TeamUsage {
    /// Documents.
    pub documents: u64,
    /// Bytes of their snapshots and changes.
    pub bytes: u64,
}

/// A conversation waiting for its customer (pending), as the relay's
/// follow-through index keeps it: what its auto-close is computed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwaitingRecord {
    /// The conversation id (without `conv/`).
    pub conversation_id: String,
    /// Since when the customer has been silent (ms).
    pub silent_since: i64,
    /// The agent's follow-up date (ms), if any.
    pub follow_up_at: Option<i64>,
}

/// The relay's storage.
pub trait RelayStore: Send + Sync + 'static {
    /// Creates a team with the given id (callers generate it) and name.
    fn create_team(&self, id: &str, name: &str, now: i64) -> Result<TeamRecord>;
    /// A team by id, or by exact name when exactly one team has it.
    fn team(&self, id_or_name: &str) -> Result<Option<TeamRecord>>;
    /// Every team, by name.
    fn teams(&self) -> Result<Vec<TeamRecord>>;

    /// Adds an agent with its token to a team.
    fn add_agent(&self, team_id: &str, agent: &NewAgent, now: i64) -> Result<AgentRecord>;
    /// Agents of one team, or of all teams, by team then name.
    fn agents(&self, team_id: Option<&str>) -> Result<Vec<AgentRecord>>;
    /// An agent by id.
    fn agent(&self, agent_id: &str) -> Result<Option<AgentRecord>>;
    /// Revokes an agent's token; returns the agent (already revoked ones unchanged).
    fn revoke_agent(&self, agent_id: &str, now: i64) -> Result<AgentRecord>;
    /// Agents revoked after revocation number `after`, with their numbers,
    /// in order. Each revocation gets the next number when it commits, so a
    /// reader that keeps the last number it saw misses none, however late
    /// or out of clock order a revocation lands.
    fn revoked_after(&self, after: u64) -> Result<Vec<(u64, AgentRecord)>>;
    /// The token with this public id.
    fn token(&self, token_id: &str) -> Result<Option<TokenRecord>>;

    /// A document of a team, or `None` if the team has no such document.
    fn load_doc(&self, team_id: &str, doc_id: &str) -> Result<Option<StoredDoc>>;
    /// Stores changes of a document (creating it if new), skipping changes
    /// already stored, atomically; each stored change gets the next feed
    /// sequence. Returns the document's newest sequence afterwards.
    fn append_changes(
        &self,
        team_id: &str,
        doc_id: &str,
        changes: &[NewChange],
        now: i64,
    ) -> Result<u64>;
    /// Stores the changes of several documents, each item as
    /// [`RelayStore::append_changes`] would, in as few durable commits as
    /// the backend allows (one, for SQLite): group commit for the many small
    /// changes of many connections. A failing item fails alone; the results
    /// are in the order of `items`.
    fn append_batch(&self, items: &[AppendItem], now: i64) -> Vec<Result<u64>> {
        items
            .iter()
            .map(|i| self.append_changes(&i.team_id, &i.doc_id, &i.changes, now))
            .collect()
    }
    /// Replaces the stored changes up to `up_to_seq` by a snapshot.
    fn compact_doc(
        &self,
        team_id: &str,
        doc_id: &str,
        snapshot: &[u8],
        up_to_seq: u64,
    ) -> Result<()>;
    /// Documents of a team whose newest change is after `cursor`, oldest
    /// first, at most `limit`. Private documents (`agent/<id>`) are listed
    /// only for their own agent `reader`.
    fn changed_since(
        &self,
        team_id: &str,
        cursor: u64,
        reader: &str,
        limit: usize,
    ) -> Result<Vec<FeedEntry>>;
    /// The team's newest feed sequence (0 when empty).
    fn head(&self, team_id: &str) -> Result<u64>;
    /// Counts.
    fn stats(&self) -> Result<StoreStats>;

    /// What a team stores: its documents and their bytes (snapshots and
    /// changes).
    fn team_usage(&self, team_id: &str) -> Result<TeamUsage>;

    /// Binds an Automerge actor (hex) to an agent of a team, unless it is
    /// bound already; returns the agent it is bound to (the first to use
    /// it). Agent id `relay` stands for the relay's own actors.
    fn bind_actor(&self, team_id: &str, actor: &str, agent_id: &str, now: i64) -> Result<String>;

    /// The feed sequence up to which a team's conversations were read into
    /// the follow-through index.
    fn awaiting_cursor(&self, team_id: &str) -> Result<u64>;
    /// Updates the follow-through index from conversations read from the
    /// feed: `Some` adds or replaces a pending conversation, `None` removes
    /// one that no longer waits; records the feed position (a cursor never
    /// moves back), all in one transaction.
    fn record_awaiting(
        &self,
        team_id: &str,
        changes: &[(String, Option<AwaitingRecord>)],
        seq: u64,
    ) -> Result<()>;
    /// A team's conversations waiting for their customer, oldest silence
    /// first.
    fn awaiting(&self, team_id: &str) -> Result<Vec<AwaitingRecord>>;
}
