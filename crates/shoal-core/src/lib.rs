//! Shoal's domain: the Automerge documents a support team edits, their typed
//! read views, and the workflow rules that guard every operation.
//!
//! This crate does no I/O. Time arrives as an argument ([`Ctx::now`]) so that
//! snooze and SLA logic can be tested without clocks, and storage lives in
//! `shoal-replica`.
//!
//! Documents (see `docs/architecture.md`):
//! - [`TeamDoc`]: team name, agents, tags, business hours, SLA targets;
//! - [`ConversationDoc`]: one customer thread with its entries;
//! - [`CustomerDoc`]: a customer's profile and collaborative notes;
//! - [`AgentPrivateDoc`]: one agent's templates and preferences.

mod agent_private;
pub mod authorship;
pub mod business_time;
mod collision;
mod conversation;
mod ctx;
mod customer;
mod doc_fields;
mod document;
mod error;
mod hydrated;
mod ids;
mod mentions;
pub mod report;
pub mod report_charts;
mod schema;
pub mod sla;
mod team;
mod template;
mod time;
mod workflow;

pub use agent_private::{AgentPrivate, AgentPrivateDoc};
pub use collision::{outbox_verdict, Collision};
pub use conversation::{
    AttachmentInfo, Conversation, ConversationDoc, Delivery, EmailDetails, EmailHeaders, Entry,
    EntryKind, FieldConflict, NewConversation, NewOutbound, SendGuard,
};
pub use ctx::Ctx;
pub use customer::{Customer, CustomerDoc, CustomerPatch, NewCustomer};
pub use doc_fields::MAX_BODY_BYTES;
pub use document::Document;
pub use error::CoreError;
pub use ids::{AgentId, ConversationId, CustomerId, DocId, DocKind, EntryId, IdError, TeamId};
pub use mentions::mention_handles;
pub use schema::{SchemaError, SCHEMA_VERSION};
pub use team::{
    hhmm, parse_hhmm, Acknowledgement, Agent, AgentAvailability, AgentRole, BusinessHours,
    SlaTarget, Team, TeamDoc, DEFAULT_ACKNOWLEDGEMENT,
};
pub use template::expand_template;
pub use time::Timestamp;
pub use workflow::{
    effective_status, Channel, DeliveryState, Priority, Resolution, Status, StatusChange,
};

/// Re-exported so callers name the same Automerge types this crate uses.
pub use automerge;

/// Result type of every fallible domain operation.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Whether `address` looks like an address mail can be sent to (one `@`, a
/// dotted domain, no spaces): what a customer's e-mail must be.
pub fn is_plausible_email(address: &str) -> bool {
    doc_fields::valid_email(address).is_ok()
}

/// How long a reply waits for the outbox, so that its author can withdraw it
/// (`shoal unsend`). The relay's outbox uses the same window by default.
pub const UNDO_SEND_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);
