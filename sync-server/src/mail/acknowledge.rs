//! The automatic acknowledgement: a new conversation arriving at a mailbox
//! whose team turned it on gets a short answer saying when to expect a real
//! one (docs/workflow.md). It is an entry of the conversation (the team sees
//! what the customer was told) that the outbox sends like a reply, exactly
//! once. Never to machine-made mail (auto-replies, bounces, lists), never to
//! the team's own addresses, and at most one per customer address per the
//! team's interval.

use super::ingest::blocking;
use super::read_doc;
use crate::server::Relay;
use anyhow::Result;
use shoal_core::sla::{self, ReplyClock, Waiting};
use shoal_core::{CustomerDoc, CustomerId, Document, Priority, TeamDoc, Timestamp};
use shoal_mail::IncomingMail;
use shoal_relay_store::MailboxRecord;

/// The acknowledgement text for a new conversation of `customer` started
/// by `mail` (received at `received`), if one is to be sent. Deciding
/// records it (before the conversation is written: a crash in between loses
/// one acknowledgement rather than sending two).
pub(crate) async fn text_for(
    relay: &Relay,
    mailbox: &MailboxRecord,
    mail: &IncomingMail,
    customer: &CustomerId,
    received: Timestamp,
    priority: Priority,
) -> Result<Option<String>> {
    let team_id = &mailbox.team_id;
    let Some(team) = read_doc(relay, team_id, &format!("team/{team_id}")).await? else {
        return Ok(None);
    };
    let team = TeamDoc::view_of(&team)?;
    let Some(ack) = team.acknowledgements.get(&mailbox.address.to_lowercase()) else {
        return Ok(None);
    };
    if mail.auto.is_some() {
        return Ok(None);
    }
    let Some(address) = mail.from.as_ref().map(|a| a.email.trim().to_lowercase()) else {
        return Ok(None);
    };
    if !shoal_core::is_plausible_email(&address)
        || team
            .agents
            .iter()
            .any(|a| a.email.eq_ignore_ascii_case(&address))
    {
        return Ok(None);
    }
    let (store, t) = (relay.mail.clone(), team_id.clone());
    let own = blocking(move || store.mailboxes(Some(&t))).await?;
    if own.iter().any(|m| m.address.eq_ignore_ascii_case(&address)) {
        return Ok(None);
    }
    let interval = i64::from(ack.every_hours) * 3_600_000;
    let (store, t, a) = (relay.mail.clone(), team_id.clone(), address.clone());
    let now = crate::now_ms();
    if !blocking(move || store.acknowledge_unless_recent(&t, &a, now, interval)).await? {
        tracing::info!(team = %team_id, "no acknowledgement: this customer had one recently");
        return Ok(None);
    }
    let customer = match read_doc(relay, team_id, &format!("cust/{customer}")).await? {
        Some(doc) => CustomerDoc::view_of(&doc).ok(),
        None => None,
    };
    let due = ReplyClock::of(&team).due(
        Waiting {
            since: received,
            first_response: true,
        },
        priority,
    );
    Ok(Some(sla::acknowledgement_text(
        &ack.text,
        &team,
        customer.as_ref(),
        due,
    )))
}
