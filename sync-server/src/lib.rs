//! `shoal-relay`: the team's sync relay.
//!
//! Clients connect over one WebSocket (`/v1/sync`), authenticate with an
//! agent token, and run Automerge's sync protocol per document. Every stored
//! change gets a per-team feed sequence, so a reconnecting client asks only
//! for the documents changed since the last sequence it merged. Documents
//! are loaded on demand and evicted when idle; presence is routed within the
//! team and never stored.
//!
//! Module map: [`admin`] (the CLI's team and agent management), [`auth`]
//! (tokens), `hub` (connections and presence), `doc_cache` (documents in
//! memory), `committer` (group commit of new changes), `fanout` (passing
//! changes on), `connection` (one client), `team_docs` (the relay-maintained
//! team documents), `follow_through` (closing conversations whose customer
//! stayed silent), [`metrics`], [`server`] (HTTP routes, background tasks,
//! shutdown).

pub mod admin;
pub mod auth;
mod committer;
mod connection;
mod doc_cache;
mod fanout;
mod follow_through;
mod guarded;
mod hub;
pub mod mail;
pub mod metrics;
pub mod quota;
pub mod server;
mod team_docs;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The relay's database file inside its data directory.
pub fn database_path(data: &std::path::Path) -> std::path::PathBuf {
    data.join("relay.sqlite3")
}
