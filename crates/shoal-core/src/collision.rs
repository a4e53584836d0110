//! The outbox's collision rule: whether a queued reply may go to the customer.
//!
//! What an author had seen is recorded on the reply itself
//! ([`Entry::had_seen`]: every entry of the conversation when it was written
//! or released), so the rule reads only the document — never a clock — and
//! gives the same answer on every replica that holds the same changes.
//!
//! A reply `R` collides when something its author had not seen is
//! - a customer message (not machine-made): the customer wrote again, and
//!   `R` may answer a question that is no longer the one asked; or
//! - another agent's reply to the same customer message that had not seen
//!   `R` either (a race or two offline agents), and that is already sent or
//!   on its way. Of two such replies the outbox sends the one whose undo
//!   window ends first and holds the other: exactly one e-mail.
//!
//! Notes and the author's own entries never hold a reply (the send guard
//! shows notes before sending).

use crate::{AgentId, Conversation, DeliveryState, Entry, EntryId, EntryKind, Timestamp};

/// Why a reply is held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Collision {
    /// The customer wrote this message after the reply's author last looked.
    CustomerWroteAgain {
        /// The customer message.
        entry: EntryId,
        /// When it was written (for the words only).
        at: Timestamp,
    },
    /// Another agent answered the same customer message concurrently.
    ColleagueReplied {
        /// The other reply.
        entry: EntryId,
        /// Its author.
        author: AgentId,
        /// When it was written (for the words only).
        at: Timestamp,
    },
}

impl Collision {
    /// The entry the reply collided with.
    pub fn entry(&self) -> &EntryId {
        match self {
            Collision::CustomerWroteAgain { entry, .. }
            | Collision::ColleagueReplied { entry, .. } => entry,
        }
    }

    /// The reason shown to the reply's author; `name` turns an agent id into
    /// a name.
    pub fn describe(&self, name: impl Fn(&AgentId) -> String) -> String {
        match self {
            Collision::CustomerWroteAgain { at, .. } => format!(
                "the customer wrote again ({}) after you wrote this reply; read it, \
                 then send anyway, edit or discard",
                clock_time(*at)
            ),
            Collision::ColleagueReplied { author, at, .. } => format!(
                "{} replied to the same message ({}) while neither of you had seen \
                 the other's reply; theirs went out, yours is held",
                name(author),
                clock_time(*at)
            ),
        }
    }
}

/// `HH:MM UTC` of a timestamp (what a person recognises in a reason).
fn clock_time(t: Timestamp) -> String {
    let minutes = t.as_millis().div_euclid(60_000);
    let (h, m) = (
        minutes.div_euclid(60).rem_euclid(24),
        minutes.rem_euclid(60),
    );
    format!("{h:02}:{m:02} UTC")
}

/// Whether reply `reply` of `conv` may be sent now; `Some` names what it
/// collided with. `on_its_way` tells whether the outbox has started sending
/// a reply whose document does not say `sent` yet.
///
/// Replies written before Shoal recorded `had_seen` are not checked.
pub fn outbox_verdict(
    conv: &Conversation,
    reply: &EntryId,
    on_its_way: impl Fn(&EntryId) -> bool,
) -> Option<Collision> {
    let r = conv.entry(reply).filter(|e| e.kind == EntryKind::Reply)?;
    let had_seen = r.had_seen.as_ref()?;
    let author = AgentId::parse(&r.author).ok()?;
    let unseen: Vec<&Entry> = conv
        .entries
        .iter()
        .filter(|e| e.id != r.id && !had_seen.contains(&e.id) && !e.is_own(&author))
        .collect();
    let colleague = unseen.iter().find(|e| {
        e.kind == EntryKind::Reply
            && !e.automatic
            && e.answers == r.answers
            && !e.had_seen.as_ref().is_some_and(|s| s.contains(&r.id))
            && (e.delivery_state() == Some(DeliveryState::Sent) || on_its_way(&e.id))
    });
    if let Some(e) = colleague {
        return Some(Collision::ColleagueReplied {
            entry: e.id.clone(),
            author: AgentId::parse(&e.author).ok()?,
            at: e.created_at,
        });
    }
    unseen
        .iter()
        .find(|e| {
            e.kind == EntryKind::CustomerMessage
                && e.email.as_ref().is_none_or(|m| m.automatic.is_none())
        })
        .map(|e| Collision::CustomerWroteAgain {
            entry: e.id.clone(),
            at: e.created_at,
        })
}
