//! Mailbox settings as given by an administrator: a TOML file (the
//! documented way, see docs/email.md) or `mailbox add` flags. Passwords come
//! from an environment variable, a file, or standard input — never from the
//! settings themselves, so the file can be shared and versioned.

use serde::Deserialize;
use shoal_relay_store::{ServerConfig, TlsMode};
use std::path::{Path, PathBuf};

/// Problems with mailbox settings.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A password source is missing or empty.
    #[error("{0}")]
    Password(String),
}

/// A mailbox settings file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxFile {
    /// Team id or name.
    pub team: String,
    /// The address customers write to.
    pub address: String,
    /// Name shown on replies after the agent's (default: the team's name).
    pub display_name: Option<String>,
    /// Incoming mail.
    pub imap: ServerFile,
    /// Outgoing mail.
    pub smtp: ServerFile,
    /// Allow the IMAP password over a connection without TLS.
    #[serde(default)]
    pub insecure_plaintext: bool,
}

/// One server in a settings file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    /// Host name.
    pub host: String,
    /// Port (default: by protocol and TLS mode).
    pub port: Option<u16>,
    /// `tls` (default), `starttls` or `none`.
    #[serde(default = "default_tls")]
    pub tls: TlsMode,
    /// Login (default: the mailbox address).
    pub user: Option<String>,
    /// Environment variable holding the password.
    pub password_env: Option<String>,
    /// File holding the password (trailing newline ignored).
    pub password_file: Option<PathBuf>,
    /// PEM file of extra certificate authorities to trust (a private CA).
    pub ca_file: Option<PathBuf>,
}

fn default_tls() -> TlsMode {
    TlsMode::Tls
}

/// Which protocol a port default is for.
#[derive(Clone, Copy)]
pub enum Protocol {
    /// IMAP.
    Imap,
    /// SMTP submission.
    Smtp,
}

/// The usual port of a protocol in a TLS mode.
pub fn default_port(protocol: Protocol, tls: TlsMode) -> u16 {
    match (protocol, tls) {
        (Protocol::Imap, TlsMode::Tls) => 993,
        (Protocol::Imap, _) => 143,
        (Protocol::Smtp, TlsMode::Tls) => 465,
        (Protocol::Smtp, TlsMode::Starttls) => 587,
        (Protocol::Smtp, TlsMode::None) => 25,
    }
}

/// Where a password comes from.
#[derive(Clone, Debug)]
pub enum PasswordSource {
    /// An environment variable.
    Env(String),
    /// A file.
    File(PathBuf),
    /// Standard input (one line).
    Stdin,
}

impl PasswordSource {
    /// Reads the password.
    pub fn read(&self) -> Result<String, ConfigError> {
        let value = match self {
            PasswordSource::Env(var) => std::env::var(var).map_err(|_| {
                ConfigError::Password(format!("the environment variable {var} is not set"))
            })?,
            PasswordSource::File(path) => std::fs::read_to_string(path).map_err(|e| {
                ConfigError::Password(format!("password file {}: {e}", path.display()))
            })?,
            PasswordSource::Stdin => {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| ConfigError::Password(format!("standard input: {e}")))?;
                line
            }
        };
        let value = value.trim_end_matches(['\r', '\n']).to_owned();
        if value.is_empty() {
            return Err(ConfigError::Password(format!(
                "the password from {self} is empty"
            )));
        }
        Ok(value)
    }
}

impl std::fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordSource::Env(v) => write!(f, "${v}"),
            PasswordSource::File(p) => write!(f, "{}", p.display()),
            PasswordSource::Stdin => f.write_str("standard input"),
        }
    }
}

impl ServerFile {
    /// The server settings, with defaults filled in.
    pub fn server(&self, protocol: Protocol, address: &str, path: &Path) -> ServerConfig {
        ServerConfig {
            host: self.host.clone(),
            port: self.port.unwrap_or(default_port(protocol, self.tls)),
            tls: self.tls,
            user: self.user.clone().unwrap_or_else(|| address.to_owned()),
            ca_file: self
                .ca_file
                .as_ref()
                .map(|f| relative_to(path, f).display().to_string()),
        }
    }

    /// Where its password comes from.
    pub fn password(&self, section: &str, path: &Path) -> Result<PasswordSource, ConfigError> {
        match (&self.password_env, &self.password_file) {
            (Some(var), None) => Ok(PasswordSource::Env(var.clone())),
            (None, Some(file)) => Ok(PasswordSource::File(relative_to(path, file))),
            _ => Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: format!("[{section}] needs exactly one of password_env or password_file"),
            }),
        }
    }
}

/// `file` as named in the settings file at `settings`: relative paths are
/// relative to the settings file, like people expect.
fn relative_to(settings: &Path, file: &Path) -> PathBuf {
    if file.is_relative() {
        settings.parent().unwrap_or(Path::new(".")).join(file)
    } else {
        file.to_owned()
    }
}

impl MailboxFile {
    /// Reads and checks a settings file.
    pub fn read(path: &Path) -> Result<MailboxFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file: MailboxFile = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if !file.address.contains('@') {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: format!("`{}` is not an e-mail address", file.address),
            });
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_file_with_defaults_and_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mailbox.toml");
        std::fs::write(
            &path,
            r#"
team = "Northwind Support"
address = "support@northwind.example"

[imap]
host = "imap.example"
password_file = "imap.pass"

[smtp]
host = "smtp.example"
tls = "starttls"
user = "relay@northwind.example"
password_env = "NORTHWIND_SMTP"
"#,
        )
        .unwrap();
        let f = MailboxFile::read(&path).unwrap();
        let imap = f.imap.server(Protocol::Imap, &f.address, &path);
        assert_eq!((imap.port, imap.tls), (993, TlsMode::Tls));
        assert_eq!(imap.user, "support@northwind.example");
        let smtp = f.smtp.server(Protocol::Smtp, &f.address, &path);
        assert_eq!(
            (smtp.port, smtp.user.as_str()),
            (587, "relay@northwind.example")
        );
        std::fs::write(dir.path().join("imap.pass"), "s3cret\n").unwrap();
        let source = f.imap.password("imap", &path).unwrap();
        assert_eq!(source.read().unwrap(), "s3cret");
        std::env::remove_var("NORTHWIND_SMTP");
        let err = f.smtp.password("smtp", &path).unwrap().read().unwrap_err();
        assert!(err.to_string().contains("NORTHWIND_SMTP"), "{err}");

        std::fs::write(&path, "team = \"x\"\naddress = \"y@z\"\n[imap]\nhost = \"h\"\nport = 1\npassword = \"plain\"\n").unwrap();
        let err = MailboxFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("password"), "{err}");
    }
}
