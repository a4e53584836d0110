use shoal_core::{CoreError, DocId};
use std::path::PathBuf;

/// Everything the replica can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    /// SQLite failed.
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A domain rule refused the operation.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// Reading or writing a file failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// There is no replica at this path.
    #[error("no Shoal replica at {0}; run `shoal init` first")]
    NotInitialized(PathBuf),
    /// A replica already exists at this path.
    #[error("a Shoal replica already exists at {0}")]
    AlreadyInitialized(PathBuf),
    /// The file's replica schema is newer than this build.
    #[error(
        "replica format {found} is newer than this build supports ({supported}); update Shoal"
    )]
    TooNew {
        /// Format found in the file.
        found: i64,
        /// Newest format this build knows.
        supported: i64,
    },
    /// Nothing matches a lookup.
    #[error("no {kind} matches `{query}`")]
    NotFound {
        /// What was looked up (conversation, customer, agent…).
        kind: &'static str,
        /// The query.
        query: String,
    },
    /// Several things match a lookup.
    #[error("`{query}` matches several {kind}s: {candidates}; be more specific")]
    Ambiguous {
        /// What was looked up.
        kind: &'static str,
        /// The query.
        query: String,
        /// Some of the matches.
        candidates: String,
    },
    /// Incoming Automerge bytes could not be decoded; nothing was stored.
    #[error("rejected bytes for {doc}: {reason}")]
    BadChange {
        /// Target document.
        doc: DocId,
        /// Why.
        reason: String,
    },
    /// A stored document could not be loaded.
    #[error("stored document {doc} cannot be loaded: {reason}")]
    Corrupt {
        /// The document.
        doc: DocId,
        /// Why.
        reason: String,
    },
    /// An export file line could not be used; nothing from it was stored.
    #[error("export line {line}: {reason}")]
    BadExport {
        /// 1-based line number.
        line: usize,
        /// Why.
        reason: String,
    },
    /// An e-mail address already identifies another customer.
    #[error("{email} already belongs to customer {customer}")]
    EmailTaken {
        /// The address.
        email: String,
        /// The customer it belongs to.
        customer: String,
    },
    /// An export of another team.
    #[error("this export belongs to team {export}, but this replica is team {replica}")]
    TeamMismatch {
        /// Team of the export.
        export: String,
        /// Team of the replica.
        replica: String,
    },
}
