//! Mailbox passwords at rest. The relay stores them sealed with
//! XChaCha20-Poly1305 under a key kept in its own file (`mail.key` in the
//! data directory, mode 0600, or wherever `SHOAL_MAIL_KEY_FILE` points), so
//! a copy of the database alone reveals no password. Back the key up
//! separately; without it the passwords must be entered again.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::io::Write;
use std::path::{Path, PathBuf};

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// Format tag in front of every sealed value, for future key rotation.
const VERSION: u8 = 1;

/// Problems with the key or a sealed value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The key file cannot be read or written.
    #[error("mail key {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file is not a key.
    #[error("mail key {0}: not a {KEY_BYTES}-byte key")]
    BadKey(PathBuf),
    /// A sealed value does not open with this key.
    #[error(
        "a stored mailbox password does not open with this key (a different mail.key?); \
         remove and add the mailbox again"
    )]
    WrongKey,
}

/// The sealing key.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

/// Where the key lives for the data directory `data`.
pub fn key_path(data: &Path) -> PathBuf {
    std::env::var_os("SHOAL_MAIL_KEY_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| data.join("mail.key"))
}

impl SecretBox {
    /// Opens the key of `data`, creating it (0600) when `create` and absent.
    pub fn open(data: &Path, create: bool) -> Result<SecretBox, SecretError> {
        let path = key_path(data);
        let io = |source| SecretError::Io {
            path: path.clone(),
            source,
        };
        let key = match std::fs::read(&path) {
            Ok(key) => key,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let key: [u8; KEY_BYTES] = rand::random();
                write_private(&path, &key).map_err(io)?;
                key.to_vec()
            }
            Err(e) => return Err(io(e)),
        };
        let cipher =
            XChaCha20Poly1305::new_from_slice(&key).map_err(|_| SecretError::BadKey(path))?;
        Ok(SecretBox { cipher })
    }

    /// Seals a password.
    pub fn seal(&self, plain: &str) -> Vec<u8> {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .expect("XChaCha20-Poly1305 encryption does not fail for small inputs");
        let mut out = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a sealed password.
    pub fn open_sealed(&self, sealed: &[u8]) -> Result<String, SecretError> {
        if sealed.len() < 1 + NONCE_BYTES || sealed[0] != VERSION {
            return Err(SecretError::WrongKey);
        }
        let (nonce, body) = sealed[1..].split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), body)
            .map_err(|_| SecretError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SecretError::WrongKey)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_passwords_open_only_with_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let a = SecretBox::open(dir.path(), true).unwrap();
        let sealed = a.seal("app-password 123");
        assert!(!sealed
            .windows(b"app-password".len())
            .any(|w| w == b"app-password"));
        assert_eq!(a.open_sealed(&sealed).unwrap(), "app-password 123");
        // Same key file again: still opens; a new key does not.
        let again = SecretBox::open(dir.path(), false).unwrap();
        assert_eq!(again.open_sealed(&sealed).unwrap(), "app-password 123");
        let other_dir = tempfile::tempdir().unwrap();
        let b = SecretBox::open(other_dir.path(), true).unwrap();
        assert!(matches!(b.open_sealed(&sealed), Err(SecretError::WrongKey)));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(a.open_sealed(&tampered).is_err());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("mail.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Without `create`, a missing key is an error, not a new key.
        let empty = tempfile::tempdir().unwrap();
        assert!(SecretBox::open(empty.path(), false).is_err());
    }
}
