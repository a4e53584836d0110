//! The relay token: Secret Service first, the kernel keyring (keyutils)
//! next, and never a file: with no keyring the token lives in memory for
//! this session only. `SHOAL_KEYRING=off` skips both keyrings (tests);
//! `SHOAL_KEYRING=keyutils` skips Secret Service.

use serde::Serialize;
use shoal_sync::keyrings::{self, Keyring};

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

impl From<Keyring> for TokenStore {
    fn from(k: Keyring) -> Self {
        match k {
            Keyring::SecretService => TokenStore::SecretService,
            Keyring::Keyutils => TokenStore::Keyutils,
        }
    }
}

/// Keeps `token` in the best keyring that stores it and reads it back;
/// `Memory` when none does (the caller keeps it).
pub fn save(agent_id: &str, token: &str) -> TokenStore {
    keyrings::save(agent_id, token).map_or(TokenStore::Memory, TokenStore::from)
}

/// The stored token of `agent_id`, from the first keyring that has one.
pub fn load(agent_id: &str) -> Option<(String, TokenStore)> {
    keyrings::load(agent_id).map(|(t, k)| (t, k.into()))
}
