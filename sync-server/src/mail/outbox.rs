//! Outgoing mail: agents' replies, synced to the relay as `queued`, are sent
//! over SMTP once their undo window has passed, exactly once.
//!
//! The outbox follows each team's change feed (a cursor of its own), so a
//! reply is found even if the relay was down when it arrived. Each reply is
//! an outbox row keyed by its team and entry id (the idempotency key), and its
//! Message-ID is derived from that key. Per attempt: the row is marked
//! `sending` (committed) → the SMTP transaction → the row is marked `sent`
//! (committed) → the document says `sent`. The one unavoidable window is a
//! crash after the SMTP server accepted the message and before `sent` is
//! committed: the reply is sent again after the restart, with the same
//! Message-ID, which receiving systems use to drop duplicates.
//!
//! Transient failures (4xx, connection problems) are retried with growing
//! delays; permanent ones (5xx) and running out of attempts mark the reply
//! `failed` with the server's reason, in the document, for its author.
//!
//! The undo window counts from when the relay first sees a reply (recorded
//! in the document as `accepted_at`), so a reply written offline an hour ago
//! can still be withdrawn after it arrives. Right before sending, the
//! collision rule (`shoal_core::outbox_verdict`) decides: a reply whose
//! author had not seen a customer message, or a colleague's concurrent reply
//! to the same message that is sent or on its way, is `held` with a reason
//! instead, until its author (or an admin) releases or discards it.

use super::ingest::{blocking, change_doc};
use super::read_doc;
use super::secrets::SecretBox;
use crate::server::Relay;
use anyhow::Result;
use lettre::address::Envelope;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use shoal_core::{
    outbox_verdict, AgentId, Conversation, ConversationDoc, Ctx, CustomerDoc, DeliveryState,
    Document, EntryId, EntryKind, TeamDoc, Timestamp,
};
use shoal_mail::{Address, OutgoingReply};
use shoal_relay_store::{MailboxRecord, OutboxItem, OutboxState, SentMail, TlsMode};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Attempts before a reply is given up.
const MAX_ATTEMPTS: u32 = 12;

/// Delay before attempt `n + 1` after `n` failures: the base (1 minute by
/// default), doubling, at most 2 hours (about a day in all).
fn retry_delay(base: Duration, failures: u32) -> Duration {
    (base * (1u32 << failures.min(7))).min(Duration::from_secs(2 * 3600))
}

/// Runs the outbox until the relay stops.
pub async fn run(relay: Arc<Relay>, data: PathBuf) {
    let mut shutdown = relay.shutdown.subscribe();
    let mut outbox = Outbox {
        unrecorded: HashMap::new(),
        record_faults: relay.mail_settings.fault_record_sent,
    };
    loop {
        if let Err(e) = outbox.round(&relay, &data).await {
            tracing::warn!("outbox: {e:#}");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// What the outbox remembers between rounds.
struct Outbox {
    /// Replies the SMTP server accepted whose `sent` could not be recorded
    /// yet (storage failing): recording is retried, sending never is.
    unrecorded: HashMap<(String, String), (OutboxItem, SentMail)>,
    /// Test hook: recordings of `sent` still to fail.
    record_faults: u32,
}

impl Outbox {
    async fn round(&mut self, relay: &Arc<Relay>, data: &Path) -> Result<()> {
        self.record_unrecorded(relay).await;
        let mail = relay.mail.clone();
        let mailboxes = blocking(move || mail.mailboxes(None)).await?;
        for mailbox in &mailboxes {
            // One mailbox per team sends (the first connected).
            if mailboxes
                .iter()
                .find(|m| m.team_id == mailbox.team_id)
                .map(|m| &m.id)
                == Some(&mailbox.id)
            {
                // One team's failure must not stop the other teams' mail.
                if let Err(e) = scan(relay, mailbox).await {
                    tracing::warn!(team = %mailbox.team_id, "outbox cannot scan: {e:#}");
                }
                if let Err(e) = super::customers::catch_up(relay, &mailbox.team_id).await {
                    tracing::warn!(team = %mailbox.team_id, "cannot index customer addresses: {e:#}");
                }
            }
        }
        let mail = relay.mail.clone();
        let now = crate::now_ms();
        let due = blocking(move || mail.outbox_due(now)).await?;
        for item in due {
            let Some(mailbox) = mailboxes.iter().find(|m| m.id == item.mailbox_id) else {
                continue;
            };
            if self.unrecorded.contains_key(&key(&item)) {
                continue;
            }
            if let Err(e) = self.send(relay, data, mailbox, item.clone()).await {
                tracing::warn!(entry = %item.entry_id, "outbox: {e:#}");
            }
        }
        Ok(())
    }

    /// Records `sent` for a reply the SMTP server accepted: the row, then
    /// the document. Kept for the next round when storage fails.
    async fn record_sent(
        &mut self,
        relay: &Relay,
        item: &OutboxItem,
        sent: &SentMail,
    ) -> Result<()> {
        let recorded = if self.record_faults > 0 {
            self.record_faults -= 1;
            Err(anyhow::anyhow!("test hook: recording `sent` fails"))
        } else {
            let (mail, audit) = (relay.mail.clone(), sent.clone());
            match blocking(move || mail.record_sent_mail(&audit)).await {
                Ok(()) => match update(relay, item).await {
                    Ok(()) => set_delivery(relay, item, DeliveryState::Sent, None).await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            }
        };
        match recorded {
            Ok(()) => {
                self.unrecorded.remove(&key(item));
                Ok(())
            }
            Err(e) => {
                self.unrecorded
                    .insert(key(item), (item.clone(), sent.clone()));
                Err(e.context(
                    "the reply went out but recording it failed; retrying the record, not the send",
                ))
            }
        }
    }

    async fn record_unrecorded(&mut self, relay: &Relay) {
        let pending: Vec<(OutboxItem, SentMail)> = self.unrecorded.values().cloned().collect();
        for (item, sent) in pending {
            if let Err(e) = self.record_sent(relay, &item, &sent).await {
                tracing::warn!(entry = %item.entry_id, "outbox: {e:#}");
            }
        }
    }
}
/// Follows the team's feed: every queued reply of a changed conversation
/// gets an outbox row (once).
async fn scan(relay: &Arc<Relay>, mailbox: &MailboxRecord) -> Result<()> {
    let team = mailbox.team_id.clone();
    if relay.mail_settings.fault_scan_team.as_deref() == Some(team.as_str()) {
        anyhow::bail!("test hook: scanning team {team} fails");
    }
    let (mail, store, t) = (relay.mail.clone(), relay.store.clone(), team.clone());
    let (cursor, changed) = blocking(move || {
        let cursor = mail.outbox_cursor(&t)?;
        Ok((cursor, store.changed_since(&t, cursor, "relay", 1000)?))
    })
    .await?;
    let mut reached = cursor;
    for entry in changed {
        reached = reached.max(entry.seq);
        let Some(conv) = entry.doc_id.strip_prefix("conv/") else {
            continue;
        };
        let view = match read_conversation(relay, &team, &entry.doc_id).await {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(doc = %entry.doc_id, "outbox cannot read: {e:#}");
                continue;
            }
        };
        for reply in view.entries.iter().filter(|e| e.kind == EntryKind::Reply) {
            let Some(delivery) = &reply.delivery else {
                continue;
            };
            if delivery.state == DeliveryState::Cancelled {
                // Withdrawn by a replica that did not know it had gone out.
                let (mail, t, id) = (relay.mail.clone(), team.clone(), reply.id.to_string());
                if let Some(item) = blocking(move || mail.outbox_item(&t, &id)).await? {
                    if item.state == OutboxState::Sent {
                        let reason = "withdrawn after it had been sent";
                        set_delivery(relay, &item, DeliveryState::Sent, Some(reason)).await?;
                    }
                }
                continue;
            }
            if delivery.state != DeliveryState::Queued {
                continue;
            }
            let window = relay.mail_settings.undo_window.as_millis() as i64;
            let now = crate::now_ms();
            let item = OutboxItem {
                entry_id: reply.id.to_string(),
                team_id: team.clone(),
                conversation_id: conv.to_owned(),
                mailbox_id: mailbox.id.clone(),
                state: OutboxState::Waiting,
                attempts: 0,
                next_attempt_at: now + window,
                last_error: None,
            };
            let mail = relay.mail.clone();
            let mut stored = blocking(move || mail.outbox_add(&item)).await?;
            match stored.state {
                OutboxState::Sent => {
                    // Sent, but the document did not learn it (a crash between).
                    set_delivery(relay, &stored, DeliveryState::Sent, None).await?;
                    continue;
                }
                OutboxState::Held => {
                    // Released by its author: a fresh undo window, then the
                    // collision rule again (with what they have now seen).
                    stored.state = OutboxState::Waiting;
                    stored.next_attempt_at = now + window;
                    stored.last_error = None;
                    update(relay, &stored).await?;
                }
                _ => {}
            }
            if delivery.accepted_at.is_none() {
                accept(relay, &stored).await?;
            }
        }
    }
    if reached > cursor {
        let (mail, t) = (relay.mail.clone(), team.clone());
        blocking(move || mail.set_outbox_cursor(&t, reached)).await?;
    }
    Ok(())
}

async fn read_conversation(
    relay: &Relay,
    team: &str,
    doc_id: &str,
) -> Result<Option<Conversation>> {
    match read_doc(relay, team, doc_id).await? {
        Some(doc) => Ok(Some(ConversationDoc::from_automerge(doc)?.view()?)),
        None => Ok(None),
    }
}

async fn set_delivery(
    relay: &Relay,
    item: &OutboxItem,
    state: DeliveryState,
    reason: Option<&str>,
) -> Result<()> {
    let ctx = Ctx::new(AgentId::parse("relay")?, Timestamp(crate::now_ms()));
    let entry = EntryId::parse(&item.entry_id)?;
    change_conversation(relay, item, |conv| {
        conv.set_delivery(&ctx, &entry, state, reason)
    })
    .await
}

/// Records in the document when the relay first saw the reply.
async fn accept(relay: &Relay, item: &OutboxItem) -> Result<()> {
    let ctx = Ctx::new(AgentId::parse("relay")?, Timestamp(crate::now_ms()));
    let entry = EntryId::parse(&item.entry_id)?;
    change_conversation(relay, item, |conv| conv.accept_reply(&ctx, &entry)).await
}

/// Holds the reply back in the document, with why.
async fn hold(relay: &Relay, item: &OutboxItem, reason: &str, with: &EntryId) -> Result<()> {
    let ctx = Ctx::new(AgentId::parse("relay")?, Timestamp(crate::now_ms()));
    let entry = EntryId::parse(&item.entry_id)?;
    change_conversation(relay, item, |conv| {
        conv.hold_reply(&ctx, &entry, reason, Some(with))
    })
    .await
}

async fn change_conversation(
    relay: &Relay,
    item: &OutboxItem,
    f: impl FnOnce(&mut ConversationDoc) -> shoal_core::Result<()> + Send,
) -> Result<()> {
    change_doc(
        relay,
        &item.team_id,
        &format!("conv/{}", item.conversation_id),
        |doc| {
            let mut conv = ConversationDoc::from_automerge(std::mem::take(doc))?;
            let result = f(&mut conv);
            *doc = conv.into_automerge();
            Ok(result?)
        },
    )
    .await
}

async fn update(relay: &Relay, item: &OutboxItem) -> Result<()> {
    let (mail, item) = (relay.mail.clone(), item.clone());
    blocking(move || mail.outbox_update(&item)).await
}

/// What to send for one reply, or why not.
enum Prepared {
    /// The reply, its Message-ID, the message as written, and its author.
    Send(Box<(OutgoingReply, String, Vec<u8>, String)>),
    /// No longer queued (withdrawn, held, already handled elsewhere).
    Skip(OutboxState),
    /// Cannot be sent; the reason goes to its author.
    Refuse(String),
    /// Collided: held until its author decides (the reason, and with what).
    Hold(String, EntryId),
}

/// Reads the reply as it is now (after the undo window) and writes it as mail.
async fn prepare(relay: &Relay, mailbox: &MailboxRecord, item: &OutboxItem) -> Result<Prepared> {
    let team = &item.team_id;
    let Some(conv) =
        read_conversation(relay, team, &format!("conv/{}", item.conversation_id)).await?
    else {
        return Ok(Prepared::Refuse("the conversation is gone".into()));
    };
    let entry_id = EntryId::parse(&item.entry_id)?;
    let Some(reply) = conv.entry(&entry_id) else {
        return Ok(Prepared::Refuse("the reply is gone".into()));
    };
    match reply.delivery_state() {
        Some(DeliveryState::Queued) => {}
        Some(DeliveryState::Sent) => return Ok(Prepared::Skip(OutboxState::Sent)),
        Some(DeliveryState::Held) => return Ok(Prepared::Skip(OutboxState::Held)),
        _ => return Ok(Prepared::Skip(OutboxState::Cancelled)),
    }
    if reply.automatic
        && conv.entries.iter().any(|e| {
            e.kind == EntryKind::Reply
                && !e.automatic
                && matches!(
                    e.delivery_state(),
                    Some(DeliveryState::Queued | DeliveryState::Sent) | None
                )
        })
    {
        // An agent answered before the acknowledgement went: it has no point.
        set_delivery(
            relay,
            item,
            DeliveryState::Cancelled,
            Some("not sent: an agent answered first"),
        )
        .await?;
        return Ok(Prepared::Skip(OutboxState::Cancelled));
    }
    let on_its_way = replies_on_their_way(relay, team, &conv, &entry_id).await?;
    if let Some(collision) = outbox_verdict(&conv, &entry_id, |e| on_its_way.contains(e)) {
        let names = agent_names(relay, team).await?;
        let reason = collision.describe(|a| {
            names
                .iter()
                .find(|(id, _)| id == a)
                .map_or_else(|| a.to_string(), |(_, n)| n.clone())
        });
        return Ok(Prepared::Hold(reason, collision.entry().clone()));
    }
    // The customer message it answers: its author is who the reply was
    // written for, its headers thread the reply.
    let answered = reply
        .answers
        .as_ref()
        .and_then(|a| conv.entry(a))
        .or_else(|| conv.last_customer_message());
    if let Some(a) = answered {
        if a.kind == EntryKind::CustomerMessage && a.author != conv.customer_id.as_str() {
            return Ok(Prepared::Refuse(
                "the conversation's customer changed after this reply was written; \
                 check the reply and send it again"
                    .into(),
            ));
        }
    }
    let customer = read_doc(relay, team, &format!("cust/{}", conv.customer_id)).await?;
    let Some(customer) = customer else {
        return Ok(Prepared::Refuse("the customer is unknown".into()));
    };
    let customer = CustomerDoc::from_automerge(customer)?.view()?;
    let Some(to) = customer.emails.first() else {
        return Ok(Prepared::Refuse(format!(
            "{} has no e-mail address",
            customer.name
        )));
    };
    let agent_name = match read_doc(relay, team, &format!("team/{team}")).await? {
        Some(doc) => TeamDoc::from_automerge(doc)?
            .view()?
            .agent(&AgentId::parse(&reply.author)?)
            .map(|a| a.name.clone()),
        None => None,
    };
    let team_name = mailbox.display_name.clone().unwrap_or_default();
    let from_name = match agent_name {
        Some(agent) if !team_name.is_empty() => format!("{agent} at {team_name}"),
        Some(agent) => agent,
        None => team_name,
    };
    let domain = mailbox
        .address
        .rsplit('@')
        .next()
        .unwrap_or("shoal.invalid");
    let message_id = shoal_mail::reply_message_id(&item.entry_id, domain);
    let (in_reply_to, references) = match answered {
        Some(a) => {
            let mut refs = a.headers.references.clone();
            if let Some(id) = &a.headers.message_id {
                refs.push(id.clone());
            }
            (a.headers.message_id.clone(), refs)
        }
        None => (None, Vec::new()),
    };
    let reply_mail = OutgoingReply {
        from: Address {
            name: (!from_name.is_empty()).then_some(from_name),
            email: mailbox.address.clone(),
        },
        to: Address {
            name: Some(customer.name.clone()),
            email: to.clone(),
        },
        cc: Vec::new(),
        // The team's first message of a conversation it started is not an
        // answer: its subject stands as written.
        subject: if answered.is_none() && conv.entries.first().map(|e| &e.id) == Some(&entry_id) {
            conv.subject.clone()
        } else {
            shoal_mail::reply_subject(&conv.subject)
        },
        body_text: reply.body.clone(),
        message_id: message_id.clone(),
        in_reply_to,
        references,
        date_ms: reply.created_at.as_millis(),
    };
    // A message the mail library refuses to write is refused for good: the
    // same reply would be refused on every attempt.
    let raw = match shoal_mail::build_reply(&reply_mail) {
        Ok(raw) => raw,
        Err(e) => {
            return Ok(Prepared::Refuse(format!(
                "the reply cannot be written as mail: {e}"
            )))
        }
    };
    Ok(Prepared::Send(Box::new((
        reply_mail,
        message_id,
        raw,
        reply.author.clone(),
    ))))
}

/// The other queued replies of `conv` that the outbox has started sending
/// (their documents do not say `sent` yet).
async fn replies_on_their_way(
    relay: &Relay,
    team: &str,
    conv: &Conversation,
    except: &EntryId,
) -> Result<HashSet<EntryId>> {
    let mut out = HashSet::new();
    for e in conv.entries.iter().filter(|e| {
        e.kind == EntryKind::Reply
            && &e.id != except
            && e.delivery_state() == Some(DeliveryState::Queued)
    }) {
        let (mail, t, id) = (relay.mail.clone(), team.to_owned(), e.id.to_string());
        if let Some(item) = blocking(move || mail.outbox_item(&t, &id)).await? {
            if matches!(item.state, OutboxState::Sending | OutboxState::Sent) {
                out.insert(e.id.clone());
            }
        }
    }
    Ok(out)
}

/// The team's agents, id and name.
async fn agent_names(relay: &Relay, team: &str) -> Result<Vec<(AgentId, String)>> {
    Ok(
        match read_doc(relay, team, &format!("team/{team}")).await? {
            Some(doc) => TeamDoc::from_automerge(doc)?
                .view()?
                .agents
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect(),
            None => Vec::new(),
        },
    )
}

impl Outbox {
    async fn send(
        &mut self,
        relay: &Arc<Relay>,
        data: &Path,
        mailbox: &MailboxRecord,
        mut item: OutboxItem,
    ) -> Result<()> {
        if item.attempts >= MAX_ATTEMPTS {
            // Attempts that never finished (the relay stopped mid-send).
            let reason = format!("gave up after {} interrupted attempts", item.attempts);
            item.state = OutboxState::Failed;
            item.last_error = Some(reason.clone());
            update(relay, &item).await?;
            return set_delivery(relay, &item, DeliveryState::Failed, Some(&reason)).await;
        }
        let (reply, message_id, raw, author) = match prepare(relay, mailbox, &item).await? {
            Prepared::Send(p) => *p,
            Prepared::Skip(state) => {
                item.state = state;
                return update(relay, &item).await;
            }
            Prepared::Refuse(reason) => {
                item.state = OutboxState::Failed;
                item.last_error = Some(reason.clone());
                update(relay, &item).await?;
                return set_delivery(relay, &item, DeliveryState::Failed, Some(&reason)).await;
            }
            Prepared::Hold(reason, with) => {
                // The document first: a crash between leaves the row waiting,
                // and the next attempt finds the reply held and skips it.
                hold(relay, &item, &reason, &with).await?;
                item.state = OutboxState::Held;
                item.last_error = Some(reason.clone());
                tracing::info!(entry = %item.entry_id, collided_with = %with, "reply held: {reason}");
                return update(relay, &item).await;
            }
        };
        if let Some(reason) = rate_limited(relay, &item, &author).await? {
            // Not an attempt: it waits, and its author can see why.
            item.next_attempt_at = crate::now_ms() + RATE_RECHECK.as_millis() as i64;
            let news = item.last_error.as_deref() != Some(reason.as_str());
            item.last_error = Some(reason.clone());
            update(relay, &item).await?;
            if news {
                tracing::warn!(entry = %item.entry_id, "reply waits: {reason}");
                set_delivery(relay, &item, DeliveryState::Queued, Some(&reason)).await?;
            }
            return Ok(());
        }
        // The customer's answer may reference only our reply: thread it.
        let (mail, t, m, c) = (
            relay.mail.clone(),
            item.team_id.clone(),
            message_id.clone(),
            item.conversation_id.clone(),
        );
        blocking(move || mail.record_message_id(&t, &m, &c)).await?;
        item.state = OutboxState::Sending;
        item.attempts += 1;
        // Should this attempt be cut short (a crash), the next one waits for
        // the backoff too: a reply that crashes the relay is not retried in a loop.
        item.next_attempt_at = crate::now_ms()
            + retry_delay(relay.mail_settings.retry_base, item.attempts - 1).as_millis() as i64;
        update(relay, &item).await?;
        let result = smtp_send(relay, data, mailbox, &reply, &raw).await;
        match result {
            Ok(()) => {
                item.state = OutboxState::Sent;
                item.last_error = None;
                tracing::info!(entry = %item.entry_id, to = %reply.to.email, "reply sent");
                let sent = SentMail {
                    team_id: item.team_id.clone(),
                    entry_id: item.entry_id.clone(),
                    conversation_id: item.conversation_id.clone(),
                    author,
                    recipient: reply.to.email.clone(),
                    message_id,
                    sent_at: crate::now_ms(),
                };
                self.record_sent(relay, &item, &sent).await?;
            }
            Err(SendError::Permanent(reason)) => {
                item.state = OutboxState::Failed;
                item.last_error = Some(reason.clone());
                update(relay, &item).await?;
                set_delivery(relay, &item, DeliveryState::Failed, Some(&reason)).await?;
                tracing::warn!(entry = %item.entry_id, "reply refused: {reason}");
            }
            Err(SendError::Transient(reason)) => {
                item.last_error = Some(reason.clone());
                if item.attempts >= MAX_ATTEMPTS {
                    item.state = OutboxState::Failed;
                    let reason = format!("gave up after {} attempts: {reason}", item.attempts);
                    update(relay, &item).await?;
                    set_delivery(relay, &item, DeliveryState::Failed, Some(&reason)).await?;
                } else {
                    item.state = OutboxState::Waiting;
                    let delay = retry_delay(relay.mail_settings.retry_base, item.attempts - 1);
                    item.next_attempt_at = crate::now_ms() + delay.as_millis() as i64;
                    update(relay, &item).await?;
                    tracing::info!(entry = %item.entry_id, attempt = item.attempts,
                    "sending failed ({reason}); retrying in {} s", delay.as_secs());
                }
            }
        }
        Ok(())
    }
}

/// The author of the relay's own entries (acknowledgements).
const RELAY_AUTHOR: &str = "relay";

/// How often a reply held back by a rate limit is looked at again.
const RATE_RECHECK: Duration = Duration::from_secs(60);

/// Why a reply must wait for the rate limits (replies per agent and per
/// team in the past hour), if it must.
async fn rate_limited(relay: &Relay, item: &OutboxItem, author: &str) -> Result<Option<String>> {
    let since = crate::now_ms() - 3_600_000;
    let settings = &relay.mail_settings;
    let mut limits = vec![(None, settings.rate_team_per_hour)];
    // The relay's own acknowledgements count for the team only.
    if author != RELAY_AUTHOR {
        limits.insert(0, (Some(author), settings.rate_agent_per_hour));
    }
    for (who, limit) in limits {
        let (mail, t, a) = (
            relay.mail.clone(),
            item.team_id.clone(),
            who.map(str::to_owned),
        );
        let sent = blocking(move || mail.sent_mail_count(&t, a.as_deref(), since)).await?;
        if sent >= u64::from(limit) {
            let whose = if who.is_some() {
                "its author"
            } else {
                "the team"
            };
            return Ok(Some(format!(
                "waiting: {whose} sent {sent} replies in the past hour, the relay's limit; \
                 it goes out as the hour moves on"
            )));
        }
    }
    Ok(None)
}

/// The longest one SMTP transaction may take: the configured timeout plus
/// a second per 32 KiB of message, for slow links.
fn send_limit(timeout: Duration, bytes: usize) -> Duration {
    timeout + Duration::from_secs((bytes / (32 * 1024)) as u64)
}

fn key(item: &OutboxItem) -> (String, String) {
    (item.team_id.clone(), item.entry_id.clone())
}

enum SendError {
    Transient(String),
    Permanent(String),
}

async fn smtp_send(
    relay: &Relay,
    data: &Path,
    mailbox: &MailboxRecord,
    reply: &OutgoingReply,
    raw: &[u8],
) -> Result<(), SendError> {
    let smtp = &mailbox.smtp;
    let transient = |e: String| SendError::Transient(e);
    let tls = |host: &str| -> Result<TlsParameters, SendError> {
        let mut params = TlsParameters::builder(host.to_owned());
        if let Some(file) = &smtp.ca_file {
            let pem = std::fs::read(file)
                .map_err(|e| transient(format!("reading CA file {file}: {e}")))?;
            let cert = lettre::transport::smtp::client::Certificate::from_pem(&pem)
                .map_err(|e| transient(format!("CA file {file}: {e}")))?;
            params = params.add_root_certificate(cert);
        }
        params
            .build_rustls()
            .map_err(|e| transient(format!("TLS settings: {e}")))
    };
    let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(60)));
    let mut builder = match smtp.tls {
        TlsMode::None => builder,
        TlsMode::Tls => builder.tls(Tls::Wrapper(tls(&smtp.host)?)),
        TlsMode::Starttls => builder.tls(Tls::Required(tls(&smtp.host)?)),
    };
    // Plain connections are for trusted relays on loopback or a private
    // network; credentials go only over TLS.
    if smtp.tls != TlsMode::None {
        let (mail, id) = (relay.mail.clone(), mailbox.id.clone());
        let (_, sealed) = blocking(move || mail.mailbox_secrets(&id))
            .await
            .map_err(|e| transient(e.to_string()))?;
        let password = SecretBox::open(data, false)
            .map_err(|e| transient(e.to_string()))?
            .open_sealed(&sealed)
            .map_err(|e| transient(e.to_string()))?;
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            smtp.user.clone(),
            password,
        ));
    }
    let transport = builder.build();
    let from = mailbox
        .address
        .parse()
        .map_err(|e| SendError::Permanent(format!("the mailbox address: {e}")))?;
    let to = reply
        .to
        .email
        .parse()
        .map_err(|e| SendError::Permanent(format!("the customer's address: {e}")))?;
    let envelope =
        Envelope::new(Some(from), vec![to]).map_err(|e| SendError::Permanent(e.to_string()))?;
    // lettre's own timeout covers only connecting: a server that stops
    // answering mid-transaction would otherwise hold the outbox forever.
    let limit = send_limit(relay.mail_settings.timeout, raw.len());
    match tokio::time::timeout(limit, transport.send_raw(&envelope, raw)).await {
        Err(_) => Err(transient(format!(
            "the SMTP server did not finish the transaction within {} s",
            limit.as_secs()
        ))),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
        Ok(Err(e)) => Err(transient(e.to_string())),
    }
}
