//! Where the relay token is kept: a Secret Service keyring (GNOME Keyring,
//! KWallet) when the session offers one, so it survives reboots; the kernel
//! keyring (keyutils) otherwise, until the next reboot; and only where
//! neither is usable, a file readable by the owner alone (0600) in the home
//! directory — which `shoal` then says plainly. The same service and user
//! as the desktop app's. `SHOAL_KEYRING=keyutils` skips Secret Service;
//! `SHOAL_KEYRING=off` forces the file (headless boxes, tests).

use anyhow::{bail, Context, Result};
use serde::Serialize;
use shoal_sync::keyrings::{self, Keyring};
use std::path::{Path, PathBuf};

const TOKEN_FILE: &str = "relay-token";

/// Where a token is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TokenStore {
    /// A Secret Service keyring: survives reboots.
    SecretService,
    /// The kernel keyring: until the next reboot.
    Keyutils,
    /// A 0600 file.
    File {
        /// Its path.
        path: PathBuf,
    },
}

impl std::fmt::Display for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenStore::SecretService => f.write_str("the Secret Service keyring"),
            TokenStore::Keyutils => f.write_str(
                "the kernel keyring (until the next reboot; no Secret Service keyring answered)",
            ),
            TokenStore::File { path } => write!(
                f,
                "the file {} (mode 0600; no OS keyring is available)",
                path.display()
            ),
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

/// Stores the token of `agent_id` in the best keyring that keeps it, else a
/// 0600 file; returns where it went.
pub fn save(home: &Path, agent_id: &str, token: &str) -> Result<TokenStore> {
    if let Some(keyring) = keyrings::save(agent_id, token) {
        // A token in a keyring makes an old fallback file stale.
        let _ = std::fs::remove_file(home.join(TOKEN_FILE));
        return Ok(keyring.into());
    }
    let path = home.join(TOKEN_FILE);
    write_private(&path, token).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(TokenStore::File { path })
}

/// The stored token of `agent_id` and where it was found.
pub fn load(home: &Path, agent_id: &str) -> Result<(String, TokenStore)> {
    if let Some((token, keyring)) = keyrings::load(agent_id) {
        return Ok((token, keyring.into()));
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
