//! Where the relay token is kept: the OS keyring (the kernel keyring,
//! keyutils, on Linux), and only where none is usable, a file readable by
//! the owner alone (0600) in the home directory — which `shoal` then says
//! plainly. `SHOAL_KEYRING=off` forces the file (headless boxes without a
//! kernel keyring, tests).

use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

const SERVICE: &str = "shoal-relay-token";
const TOKEN_FILE: &str = "relay-token";

/// Where a token is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TokenStore {
    /// The OS keyring.
    Keyring,
    /// A 0600 file.
    File {
        /// Its path.
        path: PathBuf,
    },
}

impl std::fmt::Display for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenStore::Keyring => f.write_str("the OS keyring"),
            TokenStore::File { path } => write!(
                f,
                "the file {} (mode 0600; no OS keyring is available)",
                path.display()
            ),
        }
    }
}

fn keyring_allowed() -> bool {
    std::env::var("SHOAL_KEYRING").map_or(true, |v| v != "off")
}

/// The kernel keyring entry, built explicitly: the workspace also enables
/// keyring's Secret Service store (for the desktop), which would otherwise
/// become `Entry::new`'s default and change where `shoal` keeps tokens.
fn entry(agent_id: &str) -> Option<keyring::Entry> {
    if !keyring_allowed() {
        return None;
    }
    let credential =
        keyring::keyutils::KeyutilsCredential::new_with_target(None, SERVICE, agent_id).ok()?;
    Some(keyring::Entry::new_with_credential(Box::new(credential)))
}

/// Stores the token of `agent_id`; returns where it went.
pub fn save(home: &Path, agent_id: &str, token: &str) -> Result<TokenStore> {
    if let Some(e) = entry(agent_id) {
        if e.set_password(token).is_ok() && e.get_password().ok().as_deref() == Some(token) {
            // A token in the keyring makes an old fallback file stale.
            let _ = std::fs::remove_file(home.join(TOKEN_FILE));
            return Ok(TokenStore::Keyring);
        }
    }
    let path = home.join(TOKEN_FILE);
    write_private(&path, token).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(TokenStore::File { path })
}

/// The stored token of `agent_id` and where it was found.
pub fn load(home: &Path, agent_id: &str) -> Result<(String, TokenStore)> {
    if let Some(e) = entry(agent_id) {
        if let Ok(token) = e.get_password() {
            return Ok((token, TokenStore::Keyring));
        }
    }
    let path = home.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(token) => Ok((token.trim().to_owned(), TokenStore::File { path })),
        Err(_) => bail!("no relay token is stored for this replica; run `shoal login --relay URL --token TOKEN`"),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(text.as_bytes())?;
    file.sync_all()
}
