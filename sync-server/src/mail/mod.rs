//! The email channel: mailboxes connected to teams, incoming mail turned
//! into conversations. See docs/email.md.

mod acknowledge;
pub mod config;
mod customers;
pub mod ingest;
pub mod outbox;
pub mod secrets;
mod threading;
mod tls;
mod watchdog;

use crate::server::Relay;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A copy of a team's stored document, `None` when the team has no such
/// document.
pub(crate) async fn read_doc(
    relay: &Relay,
    team: &str,
    doc_id: &str,
) -> anyhow::Result<Option<automerge::AutoCommit>> {
    let entry = relay.cache.peek(team, doc_id).await?;
    let mut guard = entry.lock().await;
    Ok((!guard.doc.get_heads().is_empty()).then(|| guard.doc.clone()))
}

/// Why a mailbox without IMAP TLS is refused unless the administrator
/// allowed it explicitly.
pub const PLAINTEXT_REFUSED: &str = "IMAP without TLS would send the mailbox password in plain \
    text: use --imap-tls tls or starttls (tls = \"tls\" or \"starttls\" in a settings file), or, \
    for a server on a network you trust, --insecure-plaintext (insecure_plaintext = true)";

/// Timing of the email channel.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// How long a reply waits before it is sent (undo send).
    pub undo_window: Duration,
    /// Delay before the first retry of a failed send; doubles per failure.
    pub retry_base: Duration,
    /// How often a server without IMAP IDLE is asked for new mail.
    pub poll_every: Duration,
    /// Poll even when the server offers IDLE (for servers whose IDLE is
    /// unreliable).
    pub no_idle: bool,
    /// How long a mail server may stay silent mid-command (IMAP) or an
    /// SMTP transaction may take beyond its size allowance before the
    /// connection is given up and retried.
    pub timeout: Duration,
    /// Test hook: refuse to import mail whose subject contains this (to
    /// exercise the quarantine with a real relay and real mail servers).
    pub fault_ingest_subject: Option<String>,
    /// Test hook: a pause between recording the intent to import a message
    /// and changing the documents.
    pub fault_ingest_pause: Duration,
    /// Replies one agent may send per hour; more wait.
    pub rate_agent_per_hour: u32,
    /// Replies one team may send per hour; more wait.
    pub rate_team_per_hour: u32,
    /// Test hook: the outbox fails this many times to record that a reply
    /// went out (as a full disk would make it).
    pub fault_record_sent: u32,
    /// Test hook: the outbox's scan of this team fails every time.
    pub fault_scan_team: Option<String>,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            undo_window: shoal_core::UNDO_SEND_WINDOW,
            retry_base: Duration::from_secs(60),
            poll_every: Duration::from_secs(30),
            no_idle: false,
            timeout: Duration::from_secs(60),
            fault_ingest_subject: None,
            fault_ingest_pause: Duration::ZERO,
            rate_agent_per_hour: 200,
            rate_team_per_hour: 2000,
            fault_record_sent: 0,
            fault_scan_team: None,
        }
    }
}

/// How often the relay looks for mailboxes added or removed meanwhile.
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// Keeps one reading task per connected mailbox, starting and stopping them
/// as `shoal-relay mailbox add|remove` change the list.
pub async fn supervise(relay: Arc<Relay>, data: &Path) {
    let data = data.to_owned();
    let mut running: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
    let mut failed: HashMap<String, String> = HashMap::new();
    let mut shutdown = relay.shutdown.subscribe();
    loop {
        let store = relay.mail.clone();
        let mailboxes = match ingest::blocking(move || store.mailboxes(None)).await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!("cannot list mailboxes: {e:#}");
                Vec::new()
            }
        };
        running.retain(|id, task| {
            let keep = mailboxes.iter().any(|m| &m.id == id) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for mailbox in mailboxes {
            if running.contains_key(&mailbox.id) {
                continue;
            }
            let store = relay.mail.clone();
            let id = mailbox.id.clone();
            let sealed = ingest::blocking(move || store.mailbox_secrets(&id)).await;
            let password = sealed.and_then(|(imap, _smtp)| {
                Ok(secrets::SecretBox::open(&data, false)?.open_sealed(&imap)?)
            });
            match password {
                Ok(password) => {
                    failed.remove(&mailbox.id);
                    let task = tokio::spawn(ingest::run(relay.clone(), mailbox.clone(), password));
                    running.insert(mailbox.id.clone(), task);
                }
                Err(e) => {
                    let message = format!("{e:#}");
                    // Say it once, not every round.
                    if failed.get(&mailbox.id) != Some(&message) {
                        tracing::error!(mailbox = %mailbox.address, "cannot read mail: {message}");
                        failed.insert(mailbox.id.clone(), message);
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(WATCH_EVERY) => {}
            _ = shutdown.changed() => break,
        }
    }
    for (_, task) in running {
        task.abort();
    }
}
