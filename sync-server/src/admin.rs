//! Team, agent and mailbox management for the `shoal-relay` CLI. These write the
//! relay's tables only; a running relay notices new agents and writes them
//! into the team document within seconds, and closes revoked agents'
//! connections.

use crate::mail::secrets::SecretBox;
use crate::{auth, database_path, now_ms};
use anyhow::{bail, Context, Result};
use shoal_core::{AgentId, TeamId};
use shoal_relay_sqlite::SqliteStore;
use shoal_relay_store::{
    AgentRecord, MailStore, MailboxRecord, NewAgent, NewMailbox, RelayStore, ServerConfig,
    TeamRecord, TlsMode,
};
use std::path::Path;

/// Creates the data directory and an empty database.
pub fn init(data: &Path) -> Result<()> {
    let db = database_path(data);
    if db.exists() {
        bail!(
            "{} already holds a relay ({})",
            data.display(),
            db.display()
        );
    }
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700))?;
    }
    SqliteStore::open(&db).with_context(|| format!("cannot create {}", db.display()))?;
    Ok(())
}

/// Opens the store of an initialised data directory.
pub fn open(data: &Path) -> Result<SqliteStore> {
    let db = database_path(data);
    if !db.exists() {
        bail!(
            "no relay data in {}; run `shoal-relay init --data {}` first",
            data.display(),
            data.display()
        );
    }
    Ok(SqliteStore::open(&db)?)
}

/// Creates a team.
pub fn create_team(store: &dyn RelayStore, name: &str) -> Result<TeamRecord> {
    let name = name.trim();
    if name.is_empty() {
        bail!("the team name must not be empty");
    }
    Ok(store.create_team(TeamId::random().as_str(), name, now_ms())?)
}

/// Finds a team by id or name.
pub fn find_team(store: &dyn RelayStore, query: &str) -> Result<TeamRecord> {
    match store.team(query)? {
        Some(t) => Ok(t),
        None => bail!("no team `{query}` (see `shoal-relay team list`)"),
    }
}

/// Adds an agent; returns it with its token, which is shown only now.
pub fn add_agent(
    store: &dyn RelayStore,
    team: &str,
    name: &str,
    email: &str,
    role: &str,
) -> Result<(AgentRecord, String)> {
    let team = find_team(store, team)?;
    let name = name.trim();
    if name.is_empty() {
        bail!("the agent name must not be empty");
    }
    let email = email.trim();
    if !email.contains('@') || email.contains(char::is_whitespace) {
        bail!("`{email}` is not an e-mail address");
    }
    if !matches!(role, "admin" | "agent") {
        bail!("role must be admin or agent, not `{role}`");
    }
    let token = auth::issue();
    let agent = NewAgent {
        id: AgentId::random().to_string(),
        name: name.to_owned(),
        email: email.to_owned(),
        role: role.to_owned(),
        token_id: token.token_id,
        secret_hash: token.secret_hash,
    };
    let record = store.add_agent(&team.id, &agent, now_ms())?;
    Ok((record, token.token))
}

/// Finds an agent by id, or by e-mail (within a team when given).
pub fn find_agent(store: &dyn RelayStore, query: &str, team: Option<&str>) -> Result<AgentRecord> {
    if let Some(agent) = store.agent(query)? {
        return Ok(agent);
    }
    let team_id = match team {
        Some(t) => Some(find_team(store, t)?.id),
        None => None,
    };
    let matches: Vec<AgentRecord> = store
        .agents(team_id.as_deref())?
        .into_iter()
        .filter(|a| a.email.eq_ignore_ascii_case(query))
        .collect();
    match matches.len() {
        0 => bail!("no agent `{query}`"),
        1 => Ok(matches.into_iter().next().expect("one match")),
        _ => bail!("`{query}` is an agent of several teams; pass --team"),
    }
}

/// A mailbox to connect, with its passwords in the clear (sealed before
/// they are stored).
pub struct MailboxInput {
    /// Team id or name.
    pub team: String,
    /// The address customers write to.
    pub address: String,
    /// Name shown on replies after the agent's.
    pub display_name: Option<String>,
    /// Incoming mail.
    pub imap: ServerConfig,
    /// Outgoing mail.
    pub smtp: ServerConfig,
    /// IMAP password.
    pub imap_password: String,
    /// SMTP password.
    pub smtp_password: String,
    /// Allow the IMAP password over a connection without TLS.
    pub insecure_plaintext: bool,
}

/// Connects a mailbox to a team. Its passwords are sealed with the relay's
/// mail key (created on first use, see `mail::secrets`).
pub fn add_mailbox(store: &SqliteStore, data: &Path, input: MailboxInput) -> Result<MailboxRecord> {
    let team = find_team(store, &input.team)?;
    let address = input.address.trim();
    if !address.contains('@') || address.contains(char::is_whitespace) {
        bail!("`{address}` is not an e-mail address");
    }
    for (what, server) in [("IMAP", &input.imap), ("SMTP", &input.smtp)] {
        if server.host.trim().is_empty() {
            bail!("the {what} host must not be empty");
        }
        if server.port == 0 {
            bail!("the {what} port must not be 0");
        }
    }
    if input.imap.tls == TlsMode::None && !input.insecure_plaintext {
        bail!("{}", crate::mail::PLAINTEXT_REFUSED);
    }
    let secrets = SecretBox::open(data, true)?;
    let mailbox = NewMailbox {
        id: uuid_like(),
        team_id: team.id,
        address: address.to_owned(),
        display_name: input.display_name.or(Some(team.name)),
        imap: input.imap,
        smtp: input.smtp,
        imap_secret: secrets.seal(&input.imap_password),
        smtp_secret: secrets.seal(&input.smtp_password),
        insecure_plaintext: input.insecure_plaintext,
    };
    Ok(store.add_mailbox(&mailbox, now_ms())?)
}

/// A random 128-bit id in hex.
fn uuid_like() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
