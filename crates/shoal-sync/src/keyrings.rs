//! The agent's relay token in the OS keyrings, for every client (the CLI and
//! the desktop app): a Secret Service keyring (GNOME Keyring, KWallet) first,
//! which survives reboots, the kernel keyring (keyutils) next, which lasts
//! until the next reboot. What a client does where neither answers is its
//! own (the CLI writes a 0600 file, the app keeps it in memory).
//!
//! `SHOAL_KEYRING=keyutils` skips Secret Service; `SHOAL_KEYRING=off` skips
//! both (tests, headless boxes). Service `shoal-relay-token`, user = the
//! agent id. Entries are built explicitly rather than with `Entry::new`,
//! whose default store depends on the crate's features.

use keyring::keyutils::KeyutilsCredential;
use keyring::secret_service::SsCredential;
use keyring::Entry;

const SERVICE: &str = "shoal-relay-token";

/// Which keyring holds a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyring {
    /// A Secret Service keyring: survives reboots.
    SecretService,
    /// The kernel keyring: until the next reboot.
    Keyutils,
}

impl Keyring {
    /// Its name as clients show it (`secret-service`, `keyutils`).
    pub fn as_str(self) -> &'static str {
        match self {
            Keyring::SecretService => "secret-service",
            Keyring::Keyutils => "keyutils",
        }
    }
}

/// The keyring entries to try, best first.
fn entries(agent_id: &str) -> Vec<(Keyring, Entry)> {
    let mode = std::env::var("SHOAL_KEYRING").unwrap_or_default();
    let mut out = Vec::new();
    if mode == "off" {
        return out;
    }
    if mode != "keyutils" {
        if let Ok(c) = SsCredential::new_with_target(None, SERVICE, agent_id) {
            out.push((
                Keyring::SecretService,
                Entry::new_with_credential(Box::new(c)),
            ));
        }
    }
    if let Ok(c) = KeyutilsCredential::new_with_target(None, SERVICE, agent_id) {
        out.push((Keyring::Keyutils, Entry::new_with_credential(Box::new(c))));
    }
    out
}

/// Keeps `token` in the best keyring that stores it and reads it back;
/// `None` when none does.
pub fn save(agent_id: &str, token: &str) -> Option<Keyring> {
    for (keyring, entry) in entries(agent_id) {
        match entry.set_password(token) {
            Ok(()) if entry.get_password().ok().as_deref() == Some(token) => return Some(keyring),
            Ok(()) => tracing::warn!(keyring = keyring.as_str(), "token stored but not read back"),
            Err(e) => tracing::info!(keyring = keyring.as_str(), "keyring unusable: {e}"),
        }
    }
    None
}

/// The stored token of `agent_id`, from the first keyring that has one.
pub fn load(agent_id: &str) -> Option<(String, Keyring)> {
    entries(agent_id)
        .into_iter()
        .find_map(|(keyring, entry)| entry.get_password().ok().map(|t| (t, keyring)))
}
