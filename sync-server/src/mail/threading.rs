//! Where an incoming message belongs: the conversation of a message it
//! answers (In-Reply-To, then References, newest first — our own replies'
//! Message-IDs are recorded too), else, for a message that looks like an
//! answer (reply headers or a `Re:` subject), the customer's newest
//! conversation with the same subject; else a new conversation. The sender's
//! address finds the customer, or a new one is made.
//!
//! Headers prove nothing about who wrote: anyone can name a customer's
//! Message-ID. A person's mail joins a conversation only when its sender is
//! that conversation's customer; mail from anyone else starts a
//! conversation of its own (with a warning naming the one it answers), so
//! nobody is ever shown as the customer who was not. Machine-made mail (a
//! bounce of our reply, an out-of-office answer) still joins: it is about
//! the conversation, and never passes for the customer's words.

use super::ingest::blocking;
use super::read_doc;
use crate::server::Relay;
use anyhow::Result;
use shoal_core::{ConversationDoc, ConversationId, CustomerDoc, CustomerId, Document};
use shoal_mail::IncomingMail;

/// The decision for one message.
#[derive(Clone, Debug)]
pub struct Placement {
    /// Its conversation.
    pub conversation: ConversationId,
    /// Whether that conversation is new.
    pub new_conversation: bool,
    /// Its customer (maybe new).
    pub customer: CustomerId,
    /// The sender's address, lowercased ("" when there is none).
    pub from_address: String,
    /// The normalized subject.
    pub subject_key: String,
}

/// Whether `mail` presents itself as an answer to an earlier message.
pub fn looks_like_reply(mail: &IncomingMail) -> bool {
    mail.in_reply_to.is_some()
        || !mail.references.is_empty()
        || shoal_mail::reply_subject(&mail.subject).trim() == mail.subject.trim()
}

/// The conversation `mail` names in In-Reply-To or References, if any.
pub async fn answered_conversation(
    relay: &Relay,
    team: &str,
    mail: &IncomingMail,
) -> Result<Option<String>> {
    let mut ids: Vec<String> = mail.in_reply_to.iter().cloned().collect();
    ids.extend(mail.references.iter().rev().cloned());
    if ids.is_empty() {
        return Ok(None);
    }
    let (store, t) = (relay.mail.clone(), team.to_owned());
    blocking(move || store.conversation_by_message_ids(&t, &ids)).await
}

/// Whether a mail from `address` (lowercase) is from the customer of
/// conversation `conv`: one of the customer's addresses, or the address the
/// relay already knows as that customer's.
async fn from_its_customer(
    relay: &Relay,
    team: &str,
    conv: &str,
    address: &str,
    known_customer: Option<&str>,
) -> Result<bool> {
    if address.is_empty() {
        return Ok(false);
    }
    let Some(doc) = read_doc(relay, team, &format!("conv/{conv}")).await? else {
        return Ok(false);
    };
    let customer = ConversationDoc::from_automerge(doc)?.view()?.customer_id;
    if known_customer == Some(customer.as_str()) {
        return Ok(true);
    }
    let Some(doc) = read_doc(relay, team, &format!("cust/{customer}")).await? else {
        return Ok(false);
    };
    let emails = CustomerDoc::from_automerge(doc)?.view()?.emails;
    Ok(emails
        .iter()
        .any(|e| e.trim().eq_ignore_ascii_case(address)))
}

/// Decides where `mail` goes in `team`.
pub async fn place(relay: &Relay, team: &str, mail: &IncomingMail) -> Result<Placement> {
    let from_address = mail
        .from
        .as_ref()
        .map(|a| a.email.trim().to_lowercase())
        .unwrap_or_default();
    let subject_key = shoal_mail::normalize_subject(&mail.subject);
    let lookup = || {
        let store = relay.mail.clone();
        let (t, a) = (team.to_owned(), from_address.clone());
        async move {
            if a.is_empty() {
                return Ok(None);
            }
            blocking(move || store.customer_by_address(&t, &a)).await
        }
    };
    let mut known_customer = lookup().await?;
    if known_customer.is_none() && !from_address.is_empty() {
        // An agent may have entered this customer moments ago.
        super::customers::catch_up(relay, team).await?;
        known_customer = lookup().await?;
    }
    let mut conversation = answered_conversation(relay, team, mail).await?;
    if let Some(c) = &conversation {
        if mail.auto.is_none()
            && !from_its_customer(relay, team, c, &from_address, known_customer.as_deref()).await?
        {
            conversation = None;
        }
    }
    if conversation.is_none() && looks_like_reply(mail) && !subject_key.is_empty() {
        if let Some(customer) = &known_customer {
            let store = relay.mail.clone();
            let (t, c, k) = (team.to_owned(), customer.clone(), subject_key.clone());
            conversation = blocking(move || store.conversation_by_subject(&t, &c, &k)).await?;
        }
    }
    let customer = match known_customer {
        Some(c) => CustomerId::parse(&c)?,
        None => CustomerId::random(),
    };
    Ok(match conversation {
        Some(c) => Placement {
            conversation: ConversationId::parse(&c)?,
            new_conversation: false,
            customer,
            from_address,
            subject_key,
        },
        None => Placement {
            conversation: ConversationId::random(),
            new_conversation: true,
            customer,
            from_address,
            subject_key,
        },
    })
}
