//! The relay token: Secret Service first, the kernel keyring (keyutils)
//! next, and never a file: with no keyring the token lives in memory for
//! this session only. `SHOAL_KEYRING=off` skips both keyrings (tests);
//! `SHOAL_KEYRING=keyutils` skips Secret Service.

use keyring::{keyutils::KeyutilsCredential, secret_service::SsCredential, Entry};
use serde::Serialize;

const SERVICE: &str = "shoal-relay-token";

/// Where a token is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenStore {
    /// A Secret Service keyring (GNOME Keyring, KWallet).
    SecretService,
    /// The kernel keyring.
    Keyutils,
    /// Nowhere: this process's memory, for this session.
    Memory,
}

impl TokenStore {
    /// The name shown in the sync indicator.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStore::SecretService => "secret-service",
            TokenStore::Keyutils => "keyutils",
            TokenStore::Memory => "memory",
        }
    }
}

fn mode() -> String {
    std::env::var("SHOAL_KEYRING").unwrap_or_default()
}

/// The keyring entries to try, best first.
fn entries(agent_id: &str) -> Vec<(TokenStore, Entry)> {
    let mode = mode();
    let mut out = Vec::new();
    if mode == "off" {
        return out;
    }
    if mode != "keyutils" {
        if let Ok(c) = SsCredential::new_with_target(None, SERVICE, agent_id) {
            out.push((
                TokenStore::SecretService,
                Entry::new_with_credential(Box::new(c)),
            ));
        }
    }
    if let Ok(c) = KeyutilsCredential::new_with_target(None, SERVICE, agent_id) {
        out.push((
            TokenStore::Keyutils,
            Entry::new_with_credential(Box::new(c)),
        ));
    }
    out
}

/// Keeps `token` in the best keyring that stores it and reads it back;
/// `Memory` when none does (the caller keeps it).
pub fn save(agent_id: &str, token: &str) -> TokenStore {
    for (store, entry) in entries(agent_id) {
        match entry.set_password(token) {
            Ok(()) if entry.get_password().ok().as_deref() == Some(token) => return store,
            Ok(()) => tracing::warn!(store = store.as_str(), "token stored but not read back"),
            Err(e) => tracing::info!(store = store.as_str(), "keyring unusable: {e}"),
        }
    }
    TokenStore::Memory
}

/// The stored token of `agent_id`, from the first keyring that has one.
pub fn load(agent_id: &str) -> Option<(String, TokenStore)> {
    entries(agent_id)
        .into_iter()
        .find_map(|(store, entry)| entry.get_password().ok().map(|t| (t, store)))
}
