//! Incoming mail: one task per mailbox reads INBOX over IMAP (IDLE when the
//! server has it, polling otherwise), and turns each new message into a
//! customer message in a conversation.
//!
//! Exactly once, across crashes: the mailbox's UIDVALIDITY and highest UID
//! taken are stored; before a message changes any document, its import is
//! written to an intent log with the conversation, customer and Message-ID
//! chosen for it. On start, unfinished imports are checked against the
//! documents (is the customer there, does the conversation hold the
//! Message-ID?) and completed; a message whose import finished is never
//! taken again, also when it is seen under a new UIDVALIDITY.
//!
//! One message never stops a mailbox: a message that cannot be imported,
//! for any reason, is set aside in the quarantine with its reason and the
//! mail after it flows. An admin lists, retries or drops it
//! (`shoal-relay mail quarantine`); retries are picked up within
//! `--mail-poll-secs` (IDLE is re-issued that often).

use super::read_doc;
use super::threading;
use super::watchdog::{Patience, Watchdog};
use crate::server::Relay;
use anyhow::{anyhow, Context, Result};
use automerge::AutoCommit;
use futures_util::TryStreamExt;
use shoal_core::{
    AttachmentInfo, Channel, ConversationDoc, ConversationId, Ctx, CustomerDoc, CustomerId,
    Document, EmailDetails, EmailHeaders, NewConversation, NewCustomer, Priority, TeamDoc,
    Timestamp, MAX_BODY_BYTES,
};
use shoal_mail::{IncomingMail, Limits};
use shoal_relay_store::{IngestCursor, IngestRecord, MailboxRecord, QuarantinedMail, TlsMode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// How long one IDLE waits before re-issuing it (servers drop IDLE after 30
/// minutes; RFC 2177 recommends re-issuing before).
const IDLE_FOR: Duration = Duration::from_secs(25 * 60);

/// A mail connection, plain or TLS.
pub(crate) trait MailStream:
    AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug
{
}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> MailStream for T {}

type ImapSession = async_imap::Session<Box<dyn MailStream>>;

/// Reads one mailbox until the relay stops; reconnects with backoff.
pub async fn run(relay: Arc<Relay>, mailbox: MailboxRecord, password: String) {
    let mut delay = Duration::from_secs(1);
    let mut shutdown = relay.shutdown.subscribe();
    loop {
        let started = Instant::now();
        let result = tokio::select! {
            r = session(&relay, &mailbox, &password) => r,
            _ = shutdown.changed() => return,
        };
        if let Err(e) = result {
            tracing::warn!(mailbox = %mailbox.address, "reading mail failed: {e:#}; retrying in {} s", delay.as_secs());
        }
        if started.elapsed() > Duration::from_secs(60) {
            delay = Duration::from_secs(1);
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return,
        }
        delay = (delay * 2).min(Duration::from_secs(300));
    }
}

async fn connect(
    mailbox: &MailboxRecord,
    password: &str,
    patience: &Patience,
    limit: Duration,
) -> Result<ImapSession> {
    let imap = &mailbox.imap;
    let tcp = tokio::time::timeout(limit, TcpStream::connect((imap.host.as_str(), imap.port)))
        .await
        .map_err(|_| anyhow!("no answer within {} s", limit.as_secs()))
        .and_then(|r| r.map_err(anyhow::Error::from))
        .with_context(|| format!("connecting to {}:{}", imap.host, imap.port))?;
    // Under TLS, so that a silent server is noticed whatever the layer above.
    let tcp = Watchdog::new(tcp, patience.clone());
    let ca = imap.ca_file.as_deref();
    if imap.tls == TlsMode::None && !mailbox.insecure_plaintext {
        anyhow::bail!("{}", super::PLAINTEXT_REFUSED);
    }
    let client: async_imap::Client<Box<dyn MailStream>> = match imap.tls {
        TlsMode::None => greeted(Box::new(tcp)).await?,
        TlsMode::Tls => greeted(Box::new(super::tls::connect(tcp, &imap.host, ca).await?)).await?,
        TlsMode::Starttls => {
            let mut plain = greeted(Box::new(tcp) as Box<dyn MailStream>).await?;
            plain
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .context("STARTTLS (does the server offer it?)")?;
            let stream = plain.into_inner();
            // No greeting after STARTTLS: the session goes on encrypted.
            async_imap::Client::new(
                Box::new(super::tls::connect(stream, &imap.host, ca).await?) as Box<dyn MailStream>
            )
        }
    };
    client
        .login(&imap.user, password)
        .await
        .map_err(|(e, _)| anyhow!("IMAP login as {} refused: {e}", imap.user))
}

/// A client that has read the server's greeting.
async fn greeted(stream: Box<dyn MailStream>) -> Result<async_imap::Client<Box<dyn MailStream>>> {
    let mut client = async_imap::Client::new(stream);
    client
        .read_response()
        .await
        .context("reading the IMAP greeting")?
        .ok_or_else(|| anyhow!("the IMAP server closed the connection"))?;
    Ok(client)
}

async fn session(relay: &Arc<Relay>, mailbox: &MailboxRecord, password: &str) -> Result<()> {
    let patience = Patience::new(relay.mail_settings.timeout);
    let mut imap = connect(mailbox, password, &patience, relay.mail_settings.timeout).await?;
    let idle = !relay.mail_settings.no_idle
        && imap
            .capabilities()
            .await
            .map(|c| c.has_str("IDLE"))
            .unwrap_or(false);
    tracing::info!(mailbox = %mailbox.address, idle, "reading mail");
    let mut recovered = false;
    loop {
        let selected = imap.select("INBOX").await.context("SELECT INBOX")?;
        let uidvalidity = selected.uid_validity.unwrap_or(0);
        if !recovered {
            recover(relay, mailbox, &mut imap, uidvalidity).await?;
            recovered = true;
        }
        fetch_new(relay, mailbox, &mut imap, uidvalidity).await?;
        retry_requested(relay, mailbox, &mut imap, uidvalidity).await?;
        if idle {
            let mut handle = imap.idle();
            handle.init().await.context("IDLE")?;
            // Re-issued every poll interval, so that an admin's retry of a
            // quarantined message does not wait for the next mail.
            let (wait, _interrupt) =
                handle.wait_with_timeout(IDLE_FOR.min(relay.mail_settings.poll_every));
            // The server may rightly say nothing while idling.
            patience.pause();
            let waited = wait.await;
            patience.resume();
            waited.context("IDLE")?;
            imap = handle.done().await.context("ending IDLE")?;
        } else {
            tokio::time::sleep(relay.mail_settings.poll_every).await;
            imap.noop().await.context("NOOP")?;
        }
    }
}

/// Fetches and imports every message above the stored cursor.
async fn fetch_new(
    relay: &Arc<Relay>,
    mailbox: &MailboxRecord,
    imap: &mut ImapSession,
    uidvalidity: u32,
) -> Result<()> {
    let mail = relay.mail.clone();
    let id = mailbox.id.clone();
    let cursor = blocking(move || mail.ingest_cursor(&id)).await?;
    let last = match cursor {
        Some(c) if c.uidvalidity == uidvalidity => c.last_uid,
        Some(c) => {
            tracing::warn!(mailbox = %mailbox.address, old = c.uidvalidity, new = uidvalidity,
                "UIDVALIDITY changed: reading the whole INBOX again (imported messages are recognised by Message-ID)");
            0
        }
        None => 0,
    };
    let uids: Vec<u32> = {
        let found = imap
            .uid_search(format!("UID {}:*", last + 1))
            .await
            .context("UID SEARCH")?;
        let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > last).collect();
        uids.sort_unstable();
        uids
    };
    for uid in uids {
        let Some(raw) = fetch_one(imap, uid).await? else {
            continue;
        };
        if let Err(e) = import(relay, mailbox, uidvalidity, uid, &raw).await {
            quarantine(relay, mailbox, uidvalidity, uid, Some(&raw), &e).await?;
        }
        let mail = relay.mail.clone();
        let id = mailbox.id.clone();
        blocking(move || {
            mail.set_ingest_cursor(
                &id,
                IngestCursor {
                    uidvalidity,
                    last_uid: uid,
                },
            )
        })
        .await?;
    }
    Ok(())
}

/// Sets a message that could not be imported aside, with why; the mailbox
/// goes on. Fails only when the quarantine itself cannot be written (then
/// the session restarts and the message is tried again).
async fn quarantine(
    relay: &Arc<Relay>,
    mailbox: &MailboxRecord,
    uidvalidity: u32,
    uid: u32,
    raw: Option<&[u8]>,
    error: &anyhow::Error,
) -> Result<()> {
    let parsed = raw.map(|r| shoal_mail::parse(r, &Limits::default()));
    let reason = format!("{error:#}");
    let item = QuarantinedMail {
        id: 0,
        mailbox_id: mailbox.id.clone(),
        uidvalidity,
        uid,
        message_id: parsed.as_ref().and_then(|p| p.message_id.clone()),
        from: parsed
            .as_ref()
            .and_then(|p| p.from.as_ref())
            .map(|a| a.email.clone())
            .unwrap_or_default(),
        subject: parsed.map(|p| p.subject).unwrap_or_default(),
        reason: reason.clone(),
        attempts: 0,
        quarantined_at: crate::now_ms(),
        retry: false,
    };
    let mail = relay.mail.clone();
    blocking(move || mail.quarantine_mail(&item))
        .await
        .context("setting a message that could not be imported aside")?;
    tracing::warn!(mailbox = %mailbox.address, uid,
        "could not import a message; it is set aside (shoal-relay mail quarantine list) and later mail goes on: {reason}");
    Ok(())
}

/// Imports the quarantined messages an admin asked to retry.
async fn retry_requested(
    relay: &Arc<Relay>,
    mailbox: &MailboxRecord,
    imap: &mut ImapSession,
    uidvalidity: u32,
) -> Result<()> {
    let (mail, id) = (relay.mail.clone(), mailbox.id.clone());
    let waiting = blocking(move || mail.quarantined_mail(Some(&id))).await?;
    for q in waiting.into_iter().filter(|q| q.retry) {
        let raw = if q.uidvalidity == uidvalidity {
            fetch_one(imap, q.uid).await?
        } else {
            None
        };
        let result = match &raw {
            Some(raw) => import(relay, mailbox, q.uidvalidity, q.uid, raw).await,
            None => Err(anyhow!(
                "the message is no longer in the mailbox (UID {} of UIDVALIDITY {})",
                q.uid,
                q.uidvalidity
            )),
        };
        match result {
            Ok(()) => {
                let mail = relay.mail.clone();
                blocking(move || mail.drop_quarantined(q.id)).await?;
                tracing::info!(mailbox = %mailbox.address, uid = q.uid, "imported a message from the quarantine");
            }
            Err(e) => quarantine(relay, mailbox, q.uidvalidity, q.uid, raw.as_deref(), &e).await?,
        }
    }
    Ok(())
}

async fn fetch_one(imap: &mut ImapSession, uid: u32) -> Result<Option<Vec<u8>>> {
    let fetched: Vec<_> = imap
        .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
        .await
        .context("UID FETCH")?
        .try_collect()
        .await
        .context("UID FETCH")?;
    Ok(fetched
        .iter()
        .find(|f| f.uid == Some(uid))
        .and_then(|f| f.body().map(<[u8]>::to_vec)))
}

/// Completes imports a crash interrupted.
async fn recover(
    relay: &Arc<Relay>,
    mailbox: &MailboxRecord,
    imap: &mut ImapSession,
    uidvalidity: u32,
) -> Result<()> {
    let mail = relay.mail.clone();
    let id = mailbox.id.clone();
    let open = blocking(move || mail.unfinished_ingests(&id)).await?;
    for record in open {
        let raw = if record.uidvalidity == uidvalidity {
            fetch_one(imap, record.uid).await?
        } else {
            None
        };
        match raw {
            Some(raw) => {
                let parsed = shoal_mail::parse(&raw, &Limits::default());
                if let Err(e) = apply(relay, mailbox, &record, &parsed).await {
                    let (v, u) = (record.uidvalidity, record.uid);
                    quarantine(relay, mailbox, v, u, Some(&raw), &e).await?;
                    continue;
                }
            }
            None => tracing::warn!(mailbox = %mailbox.address, uid = record.uid,
                "a message whose import was interrupted is no longer in the mailbox"),
        }
        finish(relay, &record).await?;
        tracing::info!(mailbox = %mailbox.address, uid = record.uid, "completed an interrupted import");
    }
    Ok(())
}

async fn finish(relay: &Arc<Relay>, record: &IngestRecord) -> Result<()> {
    let mail = relay.mail.clone();
    let (id, v, u) = (record.mailbox_id.clone(), record.uidvalidity, record.uid);
    blocking(move || mail.finish_ingest(&id, v, u)).await
}

/// Imports one message: decides where it goes, logs the intent, changes the
/// documents, marks it done.
pub(crate) async fn import(
    relay: &Arc<Relay>,
    mailbox: &MailboxRecord,
    uidvalidity: u32,
    uid: u32,
    raw: &[u8],
) -> Result<()> {
    let parsed = shoal_mail::parse(raw, &Limits::default());
    if let Some(marker) = &relay.mail_settings.fault_ingest_subject {
        if parsed.subject.contains(marker.as_str()) {
            return Err(anyhow!(
                "refused by the fault hook (--fault-ingest-subject {marker:?}, for tests)"
            ));
        }
    }
    // Every imported message gets a Message-ID: the recovery check and
    // threading of answers rely on it.
    let message_id = parsed
        .message_id
        .clone()
        .unwrap_or_else(|| format!("{uidvalidity}.{uid}.{}@shoal.invalid", mailbox.id));
    let mail = relay.mail.clone();
    let (id, mid) = (mailbox.id.clone(), message_id.clone());
    if let Some(done) =
        blocking(move || mail.find_ingest(&id, uidvalidity, uid, Some(&mid))).await?
    {
        if !done.done {
            // Interrupted earlier under another UID: complete it now.
            apply(relay, mailbox, &done, &parsed).await?;
            finish(relay, &done).await?;
        }
        return Ok(());
    }
    let placement = threading::place(relay, &mailbox.team_id, &parsed).await?;
    let record = IngestRecord {
        mailbox_id: mailbox.id.clone(),
        uidvalidity,
        uid,
        message_id: Some(message_id),
        conversation_id: placement.conversation.to_string(),
        entry_id: String::new(),
        customer_id: placement.customer.to_string(),
        done: false,
    };
    let mail = relay.mail.clone();
    let (r, from, key) = (
        record.clone(),
        placement.from_address.clone(),
        placement.subject_key.clone(),
    );
    blocking(move || mail.begin_ingest(&r, &from, &key)).await?;
    // Test hook: widen the window between the intent and the documents, so
    // a crash test's kill lands inside it.
    let pause = relay.mail_settings.fault_ingest_pause;
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
    apply(relay, mailbox, &record, &parsed).await?;
    finish(relay, &record).await?;
    relay.metrics.mail_imported();
    tracing::info!(mailbox = %mailbox.address, uid, conversation = %record.conversation_id,
        new = placement.new_conversation, "imported a message");
    Ok(())
}

/// Brings the documents to hold the message: the customer (if new), and the
/// conversation (created, or the message appended). Each step checks first,
/// so running it again after a crash changes nothing twice.
async fn apply(
    relay: &Arc<Relay>,
    mailbox: &MailboxRecord,
    record: &IngestRecord,
    mail: &IncomingMail,
) -> Result<()> {
    let team = &mailbox.team_id;
    let ctx = Ctx::new(
        shoal_core::AgentId::parse("relay")?,
        Timestamp(crate::now_ms()),
    );
    let received = Timestamp(mail.date_ms.unwrap_or(ctx.now.as_millis()));
    let customer = CustomerId::parse(&record.customer_id)?;
    let conversation = ConversationId::parse(&record.conversation_id)?;
    let message_id = record.message_id.clone();
    let headers = EmailHeaders {
        message_id: message_id.clone(),
        in_reply_to: mail.in_reply_to.clone(),
        references: mail.references.clone(),
    };
    let from = mail.from.clone();
    let actor = relay.actor.clone();
    change_doc(relay, team, &format!("cust/{customer}"), |doc| {
        if !doc.get_heads().is_empty() {
            return Ok(());
        }
        let (address, name) = match &from {
            Some(a) => (
                a.email.clone(),
                a.name.clone().filter(|n| !n.trim().is_empty()),
            ),
            None => (String::new(), None),
        };
        // An address no reply could go to (`cron@localhost`) is kept as
        // the customer's name instead; the entry says why (a warning).
        let usable = shoal_core::is_plausible_email(&address);
        let name = name.unwrap_or_else(|| {
            let local = address.split('@').next().filter(|s| !s.is_empty());
            match (usable, local) {
                (true, Some(l)) => l.to_owned(),
                (false, _) if !address.is_empty() => address.clone(),
                _ => "Unknown sender".to_owned(),
            }
        });
        let address = if usable { address } else { String::new() };
        let (created, _) = CustomerDoc::create(
            actor.clone(),
            &ctx,
            NewCustomer {
                id: Some(customer.clone()),
                name,
                emails: if address.is_empty() {
                    Vec::new()
                } else {
                    vec![address]
                },
                ..Default::default()
            },
        )?;
        doc.merge(&mut created.into_automerge())?;
        Ok(())
    })
    .await?;
    let mut details = store_attachments(relay, team, mail).await?;
    if let Some(a) = mail
        .from
        .as_ref()
        .filter(|a| !shoal_core::is_plausible_email(&a.email))
    {
        details.warnings.push(format!(
            "the sender's address `{}` is not one a reply can go to; the customer is kept without an e-mail address",
            a.email
        ));
    }
    if mail.auto.is_none() {
        if let Some(answered) = threading::answered_conversation(relay, team, mail).await? {
            if answered != record.conversation_id {
                details.warnings.push(format!(
                    "this message answers conversation {answered}, but its sender is not that \
                     conversation's customer: it starts a conversation of its own"
                ));
            }
        }
    }
    let body = entry_text(&mail.body);
    let subject = if mail.subject.trim().is_empty() {
        "(no subject)".to_owned()
    } else {
        mail.subject.clone()
    };
    let priority = tier_priority(relay, team, &customer).await?;
    let conv_doc = format!("conv/{conversation}");
    // Only a conversation this mail starts is acknowledged: after a crash
    // the conversation exists, and nothing is sent twice.
    let ack = match read_doc(relay, team, &conv_doc).await? {
        None => {
            super::acknowledge::text_for(relay, mailbox, mail, &customer, received, priority)
                .await?
        }
        Some(_) => None,
    };
    change_doc(relay, team, &conv_doc, |doc| {
        if doc.get_heads().is_empty() {
            let (mut created, first) = ConversationDoc::create_from_email(
                actor.clone(),
                &ctx,
                NewConversation {
                    id: conversation.clone(),
                    subject,
                    channel: Channel::Email,
                    customer: customer.clone(),
                    body,
                    received_at: received,
                    headers,
                    priority,
                },
                &details,
            )?;
            if let Some(text) = &ack {
                created.add_acknowledgement(&ctx, text, &first)?;
            }
            doc.merge(&mut created.into_automerge())?;
            return Ok(());
        }
        let mut conv = ConversationDoc::from_automerge(std::mem::take(doc))?;
        let present = conv
            .view()?
            .entries
            .iter()
            .any(|e| e.headers.message_id == message_id);
        if !present {
            conv.add_email(&ctx, &body, received, &headers, &details)?;
        }
        *doc = conv.into_automerge();
        Ok(())
    })
    .await
}

/// The priority a new conversation of `customer` starts with: their support
/// tier's, as the team defines it, else normal.
async fn tier_priority(relay: &Relay, team: &str, customer: &CustomerId) -> Result<Priority> {
    let tier = match read_doc(relay, team, &format!("cust/{customer}")).await? {
        Some(doc) => CustomerDoc::view_of(&doc).ok().and_then(|c| c.tier),
        None => None,
    };
    if tier.is_none() {
        return Ok(Priority::Normal);
    }
    Ok(
        match read_doc(relay, team, &format!("team/{team}")).await? {
            Some(doc) => TeamDoc::view_of(&doc)
                .map(|t| t.tier_priority(tier.as_deref()))
                .unwrap_or(Priority::Normal),
            None => Priority::Normal,
        },
    )
}

/// Changes one of a team's documents as the relay and publishes the change:
/// forwarded, stored (group commit), announced. A failure leaves storage
/// untouched and drops the document from memory.
pub(crate) async fn change_doc(
    relay: &Relay,
    team: &str,
    doc_id: &str,
    f: impl FnOnce(&mut AutoCommit) -> Result<()>,
) -> Result<()> {
    let entry = relay.cache.get(team, doc_id).await?;
    let mut guard = entry.lock().await;
    let before = guard.doc.get_heads();
    guard.doc.set_actor(relay.actor.clone());
    let changed = f(&mut guard.doc);
    let published = match changed {
        Ok(()) => crate::fanout::publish(
            &relay.committer,
            &relay.hub,
            &relay.metrics,
            team,
            doc_id,
            &mut guard,
            &before,
            0,
            Instant::now(),
        )
        .await
        .map(|_| ())
        .map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    if published.is_err() {
        drop(guard);
        relay.cache.evict(team, doc_id);
    }
    published.with_context(|| format!("changing {doc_id}"))
}

/// Runs blocking storage work off the reactor.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, shoal_relay_store::StoreError> + Send + 'static,
) -> Result<T> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

/// Keeps bytes under their SHA-256 (hex), once per team.
async fn put_blob(relay: &Relay, team: &str, content_type: &str, data: &[u8]) -> Result<String> {
    use sha2::{Digest, Sha256};
    let hash: String = Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (store, t, h, ct, d) = (
        relay.mail.clone(),
        team.to_owned(),
        hash.clone(),
        content_type.to_owned(),
        data.to_vec(),
    );
    blocking(move || store.put_blob(&t, &h, &ct, &d)).await?;
    Ok(hash)
}

/// Longest start of a too-long mail shown in its entry.
const PREVIEW_BYTES: usize = 64 * 1024;

/// The text an entry shows for a mail body: all of it, or for one over the
/// entry limit its start (the whole text is an attachment then).
fn entry_text(body: &str) -> String {
    if body.trim().is_empty() {
        return "(no text)".to_owned();
    }
    if body.len() <= MAX_BODY_BYTES {
        return body.to_owned();
    }
    let mut end = PREVIEW_BYTES;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n\n[… continued in message.txt]", &body[..end])
}

fn human_bytes(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} kB", n.div_ceil(1024))
    }
}

/// What the documents record about the mail; attachments within the limits
/// are kept in the relay's store under their SHA-256.
async fn store_attachments(
    relay: &Arc<Relay>,
    team: &str,
    mail: &IncomingMail,
) -> Result<EmailDetails> {
    let mut attachments = Vec::with_capacity(mail.attachments.len() + 1);
    for a in &mail.attachments {
        let blob = match &a.data {
            Some(data) => Some(put_blob(relay, team, &a.content_type, data).await?),
            None => None,
        };
        attachments.push(AttachmentInfo {
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size as u64,
            blob,
            rejected: a.rejected.clone(),
        });
    }
    let mut warnings = mail.warnings.clone();
    let mut full_body = (mail.full_body.trim() != mail.body.trim()).then(|| mail.full_body.clone());
    if mail.full_body.len() > MAX_BODY_BYTES || mail.body.len() > MAX_BODY_BYTES {
        // Too long for an entry: the whole text is kept as a file, and the
        // entry shows its start (see `entry_text`).
        let text = mail.full_body.as_bytes();
        let blob = put_blob(relay, team, "text/plain; charset=utf-8", text).await?;
        attachments.push(AttachmentInfo {
            filename: Some("message.txt".into()),
            content_type: "text/plain".into(),
            size: text.len() as u64,
            blob: Some(blob),
            rejected: None,
        });
        warnings.push(format!(
            "the message is {} long: only its start is shown; the whole text is kept as message.txt",
            human_bytes(text.len())
        ));
        full_body = None;
    }
    Ok(EmailDetails {
        from: mail.from.as_ref().map(|a| match &a.name {
            Some(name) => format!("{name} <{}>", a.email),
            None => a.email.clone(),
        }),
        full_body,
        had_html: mail.had_html,
        automatic: mail.auto.map(|k| {
            match k {
                shoal_mail::AutoKind::AutoReply => "auto-reply",
                shoal_mail::AutoKind::Bounce => "bounce",
                shoal_mail::AutoKind::Bulk => "bulk",
            }
            .to_owned()
        }),
        warnings,
        attachments,
    })
}
