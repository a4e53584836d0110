//! Shoal's local replica: every document of the team as Automerge bytes in
//! one SQLite file, plus query tables derived from them.
//!
//! Storage (see `docs/architecture.md`):
//! - `docs` and `doc_changes` hold each document as a compacted snapshot and
//!   the incremental changes appended since; a background [`Compactor`]
//!   folds changes into snapshots.
//! - `inbox`, `inbox_tags`, `inbox_read`, `customers`, `customer_emails` and
//!   the FTS5 table `search_index` are derived: written in the same
//!   transaction as the change that affects them, and rebuilt from the
//!   documents by [`Replica::reindex`].
//!
//! Opening a replica reads only its identity; queries read the derived
//! tables, and a document is loaded only when it is shown or changed.

mod clock;
mod compactor;
mod derived;
mod doc_cache;
mod doc_store;
mod drafts;
mod error;
mod export;
mod queries;
mod relay_sync;
mod replica;
mod search;
mod sqlite_schema;

pub use clock::{Clock, ManualClock, SystemClock};
pub use compactor::{Compactor, COMPACT_THRESHOLD};
pub use derived::DerivedDump;
pub use drafts::Draft;
pub use error::ReplicaError;
pub use export::{ExportOptions, ImportReport, EXPORT_FORMAT, EXPORT_VERSION};
pub use queries::{
    ConversationActivity, CustomerRow, InboxQuery, InboxRow, InboxSort, InboxView, SnoozeEnding,
    DUE_SOON_MS,
};
pub use replica::{
    ChangeRecord, HeldReply, Identity, InitOptions, MergeOutcome, NewConversationInput, Replica,
    ReplicaStats,
};
pub use search::SearchHit;

/// Re-exported so the sync engine names the same sync state type.
pub use automerge::sync::State as SyncState;
pub use automerge::ChangeHash;

/// Result type of replica operations.
pub type Result<T, E = ReplicaError> = std::result::Result<T, E>;
