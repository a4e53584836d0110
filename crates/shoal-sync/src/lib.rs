//! The client side of sync: one WebSocket to the relay per replica.
//!
//! On connect the engine asks which documents changed since the last feed
//! sequence it merged (the cursor) and runs Automerge's sync protocol for
//! those and for the documents this replica changed while offline, nothing
//! else: reconnecting costs what changed, not what exists. While connected
//! it pushes local changes as they are written and applies the relay's.
//! [`watch`] reconnects with jittered exponential backoff.

mod backoff;
mod connection;
mod error;
pub mod keyrings;
mod session;

pub use backoff::Backoff;
pub use connection::{connect, Connection, Welcome};
pub use error::SyncError;
pub use session::{
    presence, sync_once, watch, PresenceInfo, SyncControl, SyncEvent, SyncReport, SyncStatus,
};

/// Where and as whom to sync.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// The relay's base URL (`ws://host:port`, `wss://…`, or `http(s)://…`).
    pub url: String,
    /// The agent's token.
    pub token: String,
}

/// The client name sent in the hello.
pub const CLIENT_NAME: &str = concat!("shoal/", env!("CARGO_PKG_VERSION"));
