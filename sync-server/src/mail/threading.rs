//! Where an incoming message belongs: the conversation of a message it
//! answers (In-Reply-To, then References, newest first — our own replies'
//! Message-IDs are recorded too), else, for a message that looks like an
//! answer (reply headers or a `Re:` subject), the customer's newest
//! conversation with the same subject; else a new conversation. The sender's
//! address finds the customer, or a new one is made.

use super::ingest::blocking;
use crate::server::Relay;
use anyhow::Result;
use shoal_core::{ConversationId, CustomerId};
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

/// Decides where `mail` goes in `team`.
pub async fn place(relay: &Relay, team: &str, mail: &IncomingMail) -> Result<Placement> {
    let from_address = mail
        .from
        .as_ref()
        .map(|a| a.email.trim().to_lowercase())
        .unwrap_or_default();
    let subject_key = shoal_mail::normalize_subject(&mail.subject);
    let mut ids: Vec<String> = mail.in_reply_to.iter().cloned().collect();
    ids.extend(mail.references.iter().rev().cloned());
    let store = relay.mail.clone();
    let (t, a) = (team.to_owned(), from_address.clone());
    let known_customer = if a.is_empty() {
        None
    } else {
        blocking(move || store.customer_by_address(&t, &a)).await?
    };
    let store = relay.mail.clone();
    let t = team.to_owned();
    let mut conversation = if ids.is_empty() {
        None
    } else {
        blocking(move || store.conversation_by_message_ids(&t, &ids)).await?
    };
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
