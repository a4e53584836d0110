//! The conversation document: one customer thread, its workflow fields and
//! its entries (customer messages, agent replies, internal notes).

use crate::doc_fields::{
    change, commit, conflicting_strs, int_at, map_at_or_new, non_empty_body, required_obj,
    required_str, str_at, valid_tag,
};
use crate::document::impl_document;
use crate::hydrated::{hydrate, maps, strs, Node};
use crate::workflow::effective_status;
use crate::{
    schema, AgentId, Channel, ConversationId, CoreError, Ctx, CustomerId, DeliveryState, DocKind,
    EntryId, Priority, Resolution, Result, Status, StatusChange, Timestamp,
};
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, ROOT};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// Written by the customer (e-mail, or logged by an agent from a call).
    CustomerMessage,
    /// An agent's answer to the customer.
    Reply,
    /// Internal note, never shown to the customer.
    Note,
}

impl EntryKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::CustomerMessage => "customer-message",
            EntryKind::Reply => "reply",
            EntryKind::Note => "note",
        }
    }

    /// The kind stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [
            EntryKind::CustomerMessage,
            EntryKind::Reply,
            EntryKind::Note,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// E-mail threading headers of an entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailHeaders {
    /// `Message-ID`.
    pub message_id: Option<String>,
    /// `In-Reply-To`.
    pub in_reply_to: Option<String>,
    /// `References`, oldest first.
    pub references: Vec<String>,
}

impl EmailHeaders {
    fn is_empty(&self) -> bool {
        self.message_id.is_none() && self.in_reply_to.is_none() && self.references.is_empty()
    }
}

/// What the relay learned about a customer message that came by e-mail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailDetails {
    /// The sender as the mail's From header gave it (`Name <address>`, or
    /// what was there): who really wrote, whatever the conversation's
    /// customer is.
    pub from: Option<String>,
    /// The whole text when the entry's body shows it trimmed (the quoted
    /// earlier conversation cut off).
    pub full_body: Option<String>,
    /// The mail had an HTML part (shown as text).
    pub had_html: bool,
    /// Machine-made mail (`auto-reply`, `bounce`, `bulk`): it reopens
    /// nothing and gets no acknowledgement.
    pub automatic: Option<String>,
    /// Problems found while reading the mail; it is kept all the same.
    pub warnings: Vec<String>,
    /// Its attachments.
    pub attachments: Vec<AttachmentInfo>,
}

/// One attachment of an e-mail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    /// File name, when it has one.
    pub filename: Option<String>,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Where the relay keeps it (a content hash); none when not kept.
    pub blob: Option<String>,
    /// Why it was not kept (e.g. over the size limit).
    pub rejected: Option<String>,
}

/// Delivery of a reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Current state.
    pub state: DeliveryState,
    /// Why it is held or failed.
    pub reason: Option<String>,
    /// When the state last changed.
    pub updated_at: Timestamp,
    /// When the relay first saw the reply (the relay's clock): its undo
    /// window counts from here, so an offline reply can still be withdrawn
    /// after it arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<Timestamp>,
    /// The entry a held reply collided with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collided_with: Option<EntryId>,
    /// Who chose to send a held reply anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_by: Option<AgentId>,
}

/// One entry of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Stable id.
    pub id: EntryId,
    /// Customer message, reply or note.
    pub kind: EntryKind,
    /// Agent id for replies and notes, customer id for customer messages.
    pub author: String,
    /// The agent who logged a customer message by hand (e.g. a phone call).
    pub logged_by: Option<AgentId>,
    /// Plain-text body.
    pub body: String,
    /// When it was written (or received).
    pub created_at: Timestamp,
    /// The entry it answers.
    pub answers: Option<EntryId>,
    /// Agents mentioned in a note.
    pub mentions: Vec<AgentId>,
    /// For replies: every entry its author had seen (or was shown and sent
    /// anyway) when writing it — the basis of the outbox's collision rule.
    /// `None` for replies written before Shoal recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub had_seen: Option<Vec<EntryId>>,
    /// E-mail threading headers.
    pub headers: EmailHeaders,
    /// Delivery state, for replies only.
    pub delivery: Option<Delivery>,
    /// E-mail details, for customer messages that came by mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailDetails>,
    /// A reply the relay wrote by itself (the acknowledgement of a new
    /// conversation): it tells the customer when to expect an answer, and
    /// answers nothing, so no clock stops and no colleague's reply collides
    /// with it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub automatic: bool,
}

/// A field that two or more agents changed concurrently; Automerge picked
/// `current` deterministically and `values` lists every candidate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldConflict {
    /// `assignee`, `status` or `priority`.
    pub field: String,
    /// All concurrent values, sorted (empty string for "none").
    pub values: Vec<String>,
    /// Who made the concurrent changes, sorted (recorded with each change;
    /// empty for changes made before Shoal recorded it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<String>,
}

/// Read view of a conversation document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Conversation id.
    pub id: ConversationId,
    /// Subject line.
    pub subject: String,
    /// How the customer reached the team.
    pub channel: Channel,
    /// The customer.
    pub customer_id: CustomerId,
    /// Stored status (see [`Conversation::effective_status`]).
    pub status: Status,
    /// End of the snooze, when snoozed.
    pub snooze_until: Option<Timestamp>,
    /// While pending for the customer's confirmation: when to follow up if
    /// they have not answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_at: Option<Timestamp>,
    /// How it was closed, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// When its status last changed (none before Shoal recorded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_at: Option<Timestamp>,
    /// Assigned agent.
    pub assignee: Option<AgentId>,
    /// Who made the current assignment (none before Shoal recorded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_by: Option<AgentId>,
    /// Priority.
    pub priority: Priority,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// When the conversation was opened.
    pub created_at: Timestamp,
    /// Entries in time order; entries with the same time keep their order in
    /// the document's list, which Automerge makes the same on every replica.
    pub entries: Vec<Entry>,
    /// Per agent, the entries the agent's replicas have shown them. Merges
    /// as a union, so what one device showed counts on all of them.
    pub seen: BTreeMap<AgentId, BTreeSet<EntryId>>,
    /// Concurrent changes to single-valued fields.
    pub conflicts: Vec<FieldConflict>,
}

impl Entry {
    /// Whether `agent` wrote (or logged) this entry.
    pub fn is_own(&self, agent: &AgentId) -> bool {
        match self.kind {
            EntryKind::CustomerMessage => self.logged_by.as_ref() == Some(agent),
            EntryKind::Reply | EntryKind::Note => self.author == agent.as_str(),
        }
    }

    /// The delivery state of a reply.
    pub fn delivery_state(&self) -> Option<DeliveryState> {
        self.delivery.as_ref().map(|d| d.state)
    }
}

impl Conversation {
    /// Time of the newest entry (or creation).
    pub fn last_activity(&self) -> Timestamp {
        self.entries
            .iter()
            .map(|e| e.created_at)
            .max()
            .unwrap_or(self.created_at)
            .max(self.created_at)
    }

    /// The newest customer message.
    pub fn last_customer_message(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.kind == EntryKind::CustomerMessage)
    }

    /// The newest entry.
    pub fn last_entry(&self) -> Option<&Entry> {
        self.entries.last()
    }

    /// The entry with this id.
    pub fn entry(&self, id: &EntryId) -> Option<&Entry> {
        self.entries.iter().find(|e| &e.id == id)
    }

    /// Whether the conversation has shown `agent` this entry.
    pub fn has_seen(&self, agent: &AgentId, entry: &EntryId) -> bool {
        self.seen.get(agent).is_some_and(|s| s.contains(entry))
    }

    /// Whether `agent` has a customer message they have not been shown.
    pub fn unread_for(&self, agent: &AgentId) -> bool {
        self.entries.iter().any(|e| {
            e.kind == EntryKind::CustomerMessage && !e.is_own(agent) && !self.has_seen(agent, &e.id)
        })
    }

    /// What the send guard shows `agent` before a reply goes out: customer
    /// messages, other agents' replies and other agents' notes that no
    /// replica of `agent` has shown them. Only membership counts, never a
    /// time: an entry written long ago that synced a moment ago is unseen.
    pub fn unseen_by(&self, agent: &AgentId) -> Vec<&Entry> {
        self.entries
            .iter()
            // An acknowledgement says nothing an answer must take into account.
            .filter(|e| !e.automatic)
            .filter(|e| !self.has_seen(agent, &e.id))
            .filter(|e| !e.is_own(agent))
            .collect()
    }

    /// The status at `now`: an ended snooze is open again.
    pub fn effective_status(&self, now: Timestamp) -> Status {
        effective_status(self.status, self.snooze_until, now)
    }
}

/// What a new conversation starts with.
#[derive(Clone, Debug)]
pub struct NewConversation {
    /// Id of the new conversation.
    pub id: ConversationId,
    /// Subject line.
    pub subject: String,
    /// How the customer reached the team.
    pub channel: Channel,
    /// The customer.
    pub customer: CustomerId,
    /// The first customer message.
    pub body: String,
    /// When the first message was written (e.g. the e-mail's date).
    pub received_at: Timestamp,
    /// Threading headers of the first message.
    pub headers: EmailHeaders,
    /// Initial priority.
    pub priority: Priority,
}

/// What a conversation the team starts (an e-mail to a customer) holds.
#[derive(Clone, Debug)]
pub struct NewOutbound {
    /// Id of the new conversation.
    pub id: ConversationId,
    /// Subject line of the e-mail.
    pub subject: String,
    /// The customer it goes to.
    pub customer: CustomerId,
    /// The e-mail's text.
    pub body: String,
    /// Initial priority.
    pub priority: Priority,
}

/// A conversation document.
#[derive(Debug, Clone)]
pub struct ConversationDoc {
    doc: AutoCommit,
}

struct EntryData<'a> {
    id: &'a EntryId,
    kind: EntryKind,
    author: &'a str,
    logged_by: Option<&'a AgentId>,
    body: &'a str,
    created_at: Timestamp,
    answers: Option<&'a EntryId>,
    mentions: &'a [AgentId],
    had_seen: Option<&'a [EntryId]>,
    headers: &'a EmailHeaders,
    delivery: Option<DeliveryState>,
    email: Option<&'a EmailDetails>,
    automatic: bool,
}

impl ConversationDoc {
    /// Opens a conversation with its first customer message, typed in by the
    /// acting agent (a call, say, or an e-mail forwarded by hand), who is
    /// recorded as `logged_by`.
    pub fn create(actor: ActorId, ctx: &Ctx, new: NewConversation) -> Result<(Self, EntryId)> {
        Self::create_inner(actor, ctx, new, None)
    }

    /// Opens a conversation from an incoming e-mail. Machine-made mail
    /// (auto-replies, bounces, bulk) opens it closed: it needs no answer.
    pub fn create_from_email(
        actor: ActorId,
        ctx: &Ctx,
        new: NewConversation,
        email: &EmailDetails,
    ) -> Result<(Self, EntryId)> {
        Self::create_inner(actor, ctx, new, Some(email))
    }

    fn create_inner(
        actor: ActorId,
        ctx: &Ctx,
        new: NewConversation,
        email: Option<&EmailDetails>,
    ) -> Result<(Self, EntryId)> {
        let automatic = email.is_some_and(|e| e.automatic.is_some());
        let mut doc = start_doc(
            actor,
            &Opening {
                id: &new.id,
                subject: &new.subject,
                channel: new.channel,
                customer: &new.customer,
                status: if automatic {
                    Status::Closed
                } else {
                    Status::Open
                },
                assignee: None,
                priority: new.priority,
                created_at: new.received_at,
            },
        )?;
        let body = non_empty_body(&new.body)?;
        let entry = EntryId::random();
        // Whoever types a customer's words in is recorded: only the relay
        // writes e-mail as the customer's own (see `authorship`).
        let logged_by = email.is_none().then_some(&ctx.agent);
        push_entry(
            &mut doc,
            &EntryData {
                id: &entry,
                kind: EntryKind::CustomerMessage,
                author: new.customer.as_str(),
                logged_by,
                body,
                created_at: new.received_at,
                answers: None,
                mentions: &[],
                had_seen: None,
                headers: &new.headers,
                delivery: None,
                email,
                automatic: false,
            },
        )?;
        if logged_by.is_some() {
            // The agent who logged the message has obviously seen it.
            put_seen(&mut doc, &ctx.agent, std::slice::from_ref(&entry))?;
        }
        commit(&mut doc, ctx, "open conversation");
        Ok((Self { doc }, entry))
    }

    /// Opens a conversation the team starts: an e-mail to the customer,
    /// written by `ctx.agent` and queued like any reply (the outbox sends it
    /// as a new message, not as an answer), assigned to its author.
    pub fn create_outbound(actor: ActorId, ctx: &Ctx, new: NewOutbound) -> Result<(Self, EntryId)> {
        let mut doc = start_doc(
            actor,
            &Opening {
                id: &new.id,
                subject: &new.subject,
                channel: Channel::Email,
                customer: &new.customer,
                status: Status::Open,
                assignee: Some(&ctx.agent),
                priority: new.priority,
                created_at: ctx.now,
            },
        )?;
        let body = non_empty_body(&new.body)?;
        let entry = EntryId::random();
        push_entry(
            &mut doc,
            &EntryData {
                id: &entry,
                kind: EntryKind::Reply,
                author: ctx.agent.as_str(),
                logged_by: None,
                body,
                created_at: ctx.now,
                answers: None,
                mentions: &[],
                had_seen: Some(&[]),
                headers: &EmailHeaders::default(),
                delivery: Some(DeliveryState::Queued),
                email: None,
                automatic: false,
            },
        )?;
        put_seen(&mut doc, &ctx.agent, std::slice::from_ref(&entry))?;
        commit(&mut doc, ctx, "start conversation");
        Ok((Self { doc }, entry))
    }

    /// Adds a customer message. A message to a pending, snoozed or closed
    /// conversation reopens it: the customer is waiting again.
    pub fn add_customer_message(
        &mut self,
        ctx: &Ctx,
        body: &str,
        received_at: Timestamp,
        headers: &EmailHeaders,
    ) -> Result<EntryId> {
        self.push_customer_message(ctx, body, received_at, headers, None)
    }

    /// Adds a customer message that came by e-mail, with what the relay
    /// learned about it. Like [`ConversationDoc::add_customer_message`], it
    /// reopens the conversation — unless the mail is machine-made.
    pub fn add_email(
        &mut self,
        ctx: &Ctx,
        body: &str,
        received_at: Timestamp,
        headers: &EmailHeaders,
        email: &EmailDetails,
    ) -> Result<EntryId> {
        self.push_customer_message(ctx, body, received_at, headers, Some(email))
    }

    fn push_customer_message(
        &mut self,
        ctx: &Ctx,
        body: &str,
        received_at: Timestamp,
        headers: &EmailHeaders,
        email: Option<&EmailDetails>,
    ) -> Result<EntryId> {
        let body = non_empty_body(body)?;
        let what = if email.is_some() {
            "customer e-mail"
        } else {
            "customer message"
        };
        change(&mut self.doc, ctx, what, |doc| {
            let customer = required_str(doc, &ROOT, "customer_id")?;
            let entry = EntryId::random();
            let answers = last_entry_of(doc, &[EntryKind::Reply])?;
            push_entry(
                doc,
                &EntryData {
                    id: &entry,
                    kind: EntryKind::CustomerMessage,
                    author: &customer,
                    logged_by: None,
                    body,
                    created_at: received_at,
                    answers: answers.as_ref(),
                    mentions: &[],
                    had_seen: None,
                    headers,
                    delivery: None,
                    email,
                    automatic: false,
                },
            )?;
            let automatic = email.is_some_and(|e| e.automatic.is_some());
            let status: Status = required_str(doc, &ROOT, "status")?.parse()?;
            if status != Status::Open && !automatic {
                doc.put(ROOT, "status", Status::Open.as_str())?;
                doc.put(ROOT, "status_at", ctx.now.as_millis())?;
                doc.put(ROOT, "snooze_until", ScalarValue::Null)?;
                for awaited in ["follow_up_at", "resolution"] {
                    if doc.get(ROOT, awaited)?.is_some() {
                        doc.put(ROOT, awaited, ScalarValue::Null)?;
                    }
                }
            }
            Ok(entry)
        })
    }

    /// Adds an agent reply, queued for delivery. It answers `answers`, or the
    /// newest customer message. Replying to a closed conversation is refused:
    /// reopen it first, so nobody answers a finished case by accident.
    ///
    /// The send guard is checked here, in the same change that writes the
    /// reply, so nothing that syncs in between can slip past it: with
    /// [`SendGuard::Check`] a reply is refused while [`Conversation::unseen_by`]
    /// lists anything for its author. The reply records every entry of the
    /// conversation as what its author had seen (read, or shown and sent
    /// anyway) — the basis of the outbox's collision rule.
    pub fn add_reply(
        &mut self,
        ctx: &Ctx,
        body: &str,
        answers: Option<&EntryId>,
        guard: SendGuard,
    ) -> Result<EntryId> {
        let body = non_empty_body(body)?;
        change(&mut self.doc, ctx, "reply", |doc| {
            let status: Status = required_str(doc, &ROOT, "status")?.parse()?;
            if status == Status::Closed {
                return Err(CoreError::ConversationClosed);
            }
            let answers = match answers {
                Some(id) => {
                    find_entry(doc, id)?.ok_or_else(|| CoreError::UnknownEntry(id.clone()))?;
                    Some(id.clone())
                }
                None => last_entry_of(doc, &[EntryKind::CustomerMessage])?,
            };
            let view = read(doc)?;
            if guard == SendGuard::Check {
                let unseen: Vec<EntryId> = view
                    .unseen_by(&ctx.agent)
                    .into_iter()
                    .map(|e| e.id.clone())
                    .collect();
                if !unseen.is_empty() {
                    return Err(CoreError::Unseen(unseen));
                }
            }
            let entry = EntryId::random();
            let mut had_seen: Vec<EntryId> = view.entries.iter().map(|e| e.id.clone()).collect();
            push_entry(
                doc,
                &EntryData {
                    id: &entry,
                    kind: EntryKind::Reply,
                    author: ctx.agent.as_str(),
                    logged_by: None,
                    body,
                    created_at: ctx.now,
                    answers: answers.as_ref(),
                    mentions: &[],
                    had_seen: Some(&had_seen),
                    headers: &EmailHeaders::default(),
                    delivery: Some(DeliveryState::Queued),
                    email: None,
                    automatic: false,
                },
            )?;
            had_seen.push(entry.clone());
            put_seen(doc, &ctx.agent, &had_seen)?;
            Ok(entry)
        })
    }

    /// Adds the relay's acknowledgement of the customer message `answers`:
    /// an automatic reply, queued and accepted at once (nobody will withdraw
    /// it), for the outbox to send.
    pub fn add_acknowledgement(
        &mut self,
        ctx: &Ctx,
        body: &str,
        answers: &EntryId,
    ) -> Result<EntryId> {
        let body = non_empty_body(body)?;
        change(&mut self.doc, ctx, "acknowledge", |doc| {
            let found = find_entry(doc, answers)?;
            if found.is_none() {
                return Err(CoreError::UnknownEntry(answers.clone()));
            }
            let entry = EntryId::random();
            push_entry(
                doc,
                &EntryData {
                    id: &entry,
                    kind: EntryKind::Reply,
                    author: ctx.agent.as_str(),
                    logged_by: None,
                    body,
                    created_at: ctx.now,
                    answers: Some(answers),
                    mentions: &[],
                    had_seen: None,
                    headers: &EmailHeaders::default(),
                    delivery: Some(DeliveryState::Queued),
                    email: None,
                    automatic: true,
                },
            )?;
            let m = find_entry(doc, &entry)?.ok_or(CoreError::MissingField("entries"))?;
            let delivery = Delivery {
                accepted_at: Some(ctx.now),
                ..queued(ctx.now)
            };
            write_delivery(doc, &m, &delivery)?;
            Ok(entry)
        })
    }

    /// Adds an internal note mentioning `mentions`.
    pub fn add_note(&mut self, ctx: &Ctx, body: &str, mentions: &[AgentId]) -> Result<EntryId> {
        let body = non_empty_body(body)?;
        change(&mut self.doc, ctx, "note", |doc| {
            let entry = EntryId::random();
            push_entry(
                doc,
                &EntryData {
                    id: &entry,
                    kind: EntryKind::Note,
                    author: ctx.agent.as_str(),
                    logged_by: None,
                    body,
                    created_at: ctx.now,
                    answers: None,
                    mentions,
                    had_seen: None,
                    headers: &EmailHeaders::default(),
                    delivery: None,
                    email: None,
                    automatic: false,
                },
            )?;
            Ok(entry)
        })
    }

    /// Assigns the conversation to `agent`, or unassigns it with `None`,
    /// recording who did it (so nobody is notified of their own assignment,
    /// whichever device made it).
    pub fn assign(&mut self, ctx: &Ctx, agent: Option<&AgentId>) -> Result<()> {
        change(&mut self.doc, ctx, "assign", |doc| {
            match agent {
                Some(a) => doc.put(ROOT, "assignee", a.as_str())?,
                None => doc.put(ROOT, "assignee", ScalarValue::Null)?,
            }
            doc.put(ROOT, "assigned_by", ctx.agent.as_str())?;
            Ok(())
        })
    }

    /// Changes the status (see [`StatusChange::validate`] for the rules).
    pub fn set_status(&mut self, ctx: &Ctx, to: StatusChange) -> Result<()> {
        to.validate(ctx.now)?;
        change(&mut self.doc, ctx, "set status", |doc| {
            put_status(doc, ctx, to.status, to.until, None, None)
        })
    }

    /// Sets the conversation pending until the customer confirms it is
    /// solved, with a follow-up at `follow_up_at` if they have not answered
    /// by then (their answer reopens it, as any customer message does).
    pub fn await_confirmation(&mut self, ctx: &Ctx, follow_up_at: Timestamp) -> Result<()> {
        if follow_up_at <= ctx.now {
            return Err(CoreError::InvalidValue {
                field: "follow-up time (must be in the future)",
                value: follow_up_at.as_millis().to_string(),
            });
        }
        change(&mut self.doc, ctx, "await confirmation", |doc| {
            put_status(doc, ctx, Status::Pending, None, Some(follow_up_at), None)
        })
    }

    /// Closes the conversation recording how it ended (for reports).
    pub fn close_as(&mut self, ctx: &Ctx, resolution: Resolution) -> Result<()> {
        change(&mut self.doc, ctx, "close", |doc| {
            put_status(doc, ctx, Status::Closed, None, None, Some(resolution))
        })
    }

    /// Sets the priority.
    pub fn set_priority(&mut self, ctx: &Ctx, priority: Priority) -> Result<()> {
        change(&mut self.doc, ctx, "set priority", |doc| {
            doc.put(ROOT, "priority", priority.as_str())?;
            doc.put(ROOT, "priority_by", ctx.agent.as_str())?;
            Ok(())
        })
    }

    /// Adds tags; tags already present are left alone.
    pub fn tag(&mut self, ctx: &Ctx, tags: &[String]) -> Result<()> {
        let tags = tags
            .iter()
            .map(|t| valid_tag(t))
            .collect::<Result<Vec<_>>>()?;
        change(&mut self.doc, ctx, "tag", |doc| {
            let obj = required_obj(doc, &ROOT, "tags")?;
            for t in &tags {
                if doc.get(&obj, t.as_str())?.is_none() {
                    doc.put(&obj, t.as_str(), true)?;
                }
            }
            Ok(())
        })
    }

    /// Removes tags; absent tags are ignored.
    pub fn untag(&mut self, ctx: &Ctx, tags: &[String]) -> Result<()> {
        let tags = tags
            .iter()
            .map(|t| valid_tag(t))
            .collect::<Result<Vec<_>>>()?;
        change(&mut self.doc, ctx, "untag", |doc| {
            let obj = required_obj(doc, &ROOT, "tags")?;
            for t in &tags {
                if doc.get(&obj, t.as_str())?.is_some() {
                    doc.delete(&obj, t.as_str())?;
                }
            }
            Ok(())
        })
    }

    /// Records that the acting agent has been shown `shown` (the entries a
    /// screen or `shoal show` displayed). Ids not in the conversation are
    /// ignored; nothing is written when every one is already recorded.
    pub fn mark_seen(&mut self, ctx: &Ctx, shown: &[EntryId]) -> Result<()> {
        let view = self.view()?;
        let new: Vec<EntryId> = shown
            .iter()
            .filter(|id| view.entry(id).is_some() && !view.has_seen(&ctx.agent, id))
            .cloned()
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        change(&mut self.doc, ctx, "seen", |doc| {
            put_seen(doc, &ctx.agent, &new)
        })
    }

    /// Moves the conversation to another customer.
    pub fn set_customer(&mut self, ctx: &Ctx, customer: &CustomerId) -> Result<()> {
        change(&mut self.doc, ctx, "set customer", |doc| {
            doc.put(ROOT, "customer_id", customer.as_str())?;
            Ok(())
        })
    }

    /// Renames the conversation.
    pub fn set_subject(&mut self, ctx: &Ctx, subject: &str) -> Result<()> {
        let subject = subject.trim();
        if subject.is_empty() {
            return Err(CoreError::EmptyField("subject"));
        }
        change(&mut self.doc, ctx, "set subject", |doc| {
            doc.put(ROOT, "subject", subject)?;
            Ok(())
        })
    }

    /// Withdraws a reply its author sent a moment ago (undo send): allowed
    /// while it is still queued. Whether the undo window has passed is for
    /// the caller to check; the outbox re-reads the state right before
    /// sending, so a withdrawal that reaches it in time always wins.
    pub fn unsend(&mut self, ctx: &Ctx, entry: &EntryId) -> Result<()> {
        self.update_reply(ctx, "unsend", entry, |reply, ctx| {
            if reply.author != ctx.agent.as_str() {
                return Err(CoreError::NotTheAuthor);
            }
            let delivery = reply
                .delivery
                .clone()
                .ok_or_else(|| CoreError::NotAReply(reply.id.clone()))?;
            if delivery.state != DeliveryState::Queued {
                return Err(CoreError::NotWithdrawable(delivery.state.to_string()));
            }
            Ok(Delivery {
                state: DeliveryState::Cancelled,
                reason: None,
                updated_at: ctx.now,
                ..delivery
            })
        })
    }

    /// Sets the delivery state of a reply (the outbox's job).
    pub fn set_delivery(
        &mut self,
        ctx: &Ctx,
        entry: &EntryId,
        state: DeliveryState,
        reason: Option<&str>,
    ) -> Result<()> {
        self.update_reply(ctx, "delivery", entry, |reply, ctx| {
            Ok(Delivery {
                state,
                reason: reason.map(str::to_owned),
                updated_at: ctx.now,
                ..reply
                    .delivery
                    .clone()
                    .unwrap_or_else(|| queued(reply.created_at))
            })
        })
    }

    /// Records when the relay first saw a queued reply (its undo window
    /// starts then). Later calls change nothing.
    pub fn accept_reply(&mut self, ctx: &Ctx, entry: &EntryId) -> Result<()> {
        let view = self.view()?;
        let reply = view
            .entry(entry)
            .ok_or_else(|| CoreError::UnknownEntry(entry.clone()))?;
        if reply
            .delivery
            .as_ref()
            .is_none_or(|d| d.accepted_at.is_some())
        {
            return Ok(());
        }
        self.update_reply(ctx, "accept reply", entry, |reply, ctx| {
            Ok(Delivery {
                accepted_at: Some(ctx.now),
                ..reply
                    .delivery
                    .clone()
                    .unwrap_or_else(|| queued(reply.created_at))
            })
        })
    }

    /// Holds a queued reply back because it collided (the outbox's job):
    /// `reason` says with what, in words for its author.
    pub fn hold_reply(
        &mut self,
        ctx: &Ctx,
        entry: &EntryId,
        reason: &str,
        collided_with: Option<&EntryId>,
    ) -> Result<()> {
        self.update_reply(ctx, "hold reply", entry, |reply, ctx| {
            let delivery = reply
                .delivery
                .clone()
                .ok_or_else(|| CoreError::NotAReply(reply.id.clone()))?;
            if delivery.state != DeliveryState::Queued {
                return Err(CoreError::WrongDeliveryState {
                    wanted: DeliveryState::Queued,
                    found: delivery.state,
                });
            }
            Ok(Delivery {
                state: DeliveryState::Held,
                reason: Some(reason.to_owned()),
                updated_at: ctx.now,
                collided_with: collided_with.cloned(),
                ..delivery
            })
        })
    }

    /// Sends a held reply anyway, optionally with a new text: it is queued
    /// again with a fresh undo window, and records that the acting agent
    /// has now seen everything in the conversation (what the held reply was
    /// shown next to). Its author may do this, and an admin (`as_admin`).
    pub fn release_reply(
        &mut self,
        ctx: &Ctx,
        entry: &EntryId,
        new_body: Option<&str>,
        as_admin: bool,
    ) -> Result<()> {
        let new_body = new_body.map(non_empty_body).transpose()?;
        change(&mut self.doc, ctx, "release reply", |doc| {
            let view = read(doc)?;
            held_reply(&view, entry, ctx, as_admin)?;
            let all: Vec<EntryId> = view.entries.iter().map(|e| e.id.clone()).collect();
            let obj =
                find_entry(doc, entry)?.ok_or_else(|| CoreError::UnknownEntry(entry.clone()))?;
            if let Some(body) = new_body {
                doc.put(&obj, "body", body)?;
            }
            put_id_list(doc, &obj, "had_seen", &all)?;
            write_delivery(
                doc,
                &obj,
                &Delivery {
                    state: DeliveryState::Queued,
                    reason: None,
                    updated_at: ctx.now,
                    accepted_at: None,
                    collided_with: None,
                    released_by: Some(ctx.agent.clone()),
                },
            )?;
            put_seen(doc, &ctx.agent, &all)
        })
    }

    /// Discards a held reply: it is never sent, and its text stays in the
    /// conversation. Its author may do this, and an admin (`as_admin`).
    pub fn discard_reply(&mut self, ctx: &Ctx, entry: &EntryId, as_admin: bool) -> Result<()> {
        change(&mut self.doc, ctx, "discard reply", |doc| {
            let view = read(doc)?;
            let delivery = held_reply(&view, entry, ctx, as_admin)?;
            let obj =
                find_entry(doc, entry)?.ok_or_else(|| CoreError::UnknownEntry(entry.clone()))?;
            let why = delivery.reason.as_deref().unwrap_or("a collision");
            write_delivery(
                doc,
                &obj,
                &Delivery {
                    state: DeliveryState::Cancelled,
                    reason: Some(format!("discarded after it was held: {why}")),
                    updated_at: ctx.now,
                    ..delivery
                },
            )
        })
    }

    /// Rewrites the delivery of reply `entry` with what `f` makes of it.
    fn update_reply(
        &mut self,
        ctx: &Ctx,
        what: &str,
        entry: &EntryId,
        f: impl FnOnce(&Entry, &Ctx) -> Result<Delivery>,
    ) -> Result<()> {
        change(&mut self.doc, ctx, what, |doc| {
            let view = read(doc)?;
            let reply = view
                .entry(entry)
                .ok_or_else(|| CoreError::UnknownEntry(entry.clone()))?;
            if reply.kind != EntryKind::Reply {
                return Err(CoreError::NotAReply(entry.clone()));
            }
            let delivery = f(reply, ctx)?;
            let obj =
                find_entry(doc, entry)?.ok_or_else(|| CoreError::UnknownEntry(entry.clone()))?;
            write_delivery(doc, &obj, &delivery)
        })
    }
}

/// The delivery of reply `entry`, when it is held and `ctx.agent` may decide
/// about it.
fn held_reply(view: &Conversation, entry: &EntryId, ctx: &Ctx, as_admin: bool) -> Result<Delivery> {
    let reply = view
        .entry(entry)
        .ok_or_else(|| CoreError::UnknownEntry(entry.clone()))?;
    let delivery = reply
        .delivery
        .clone()
        .ok_or_else(|| CoreError::NotAReply(entry.clone()))?;
    if delivery.state != DeliveryState::Held {
        return Err(CoreError::WrongDeliveryState {
            wanted: DeliveryState::Held,
            found: delivery.state,
        });
    }
    if reply.author != ctx.agent.as_str() && !as_admin {
        return Err(CoreError::NotTheAuthor);
    }
    Ok(delivery)
}

/// A fresh delivery record of a queued reply.
fn queued(at: Timestamp) -> Delivery {
    Delivery {
        state: DeliveryState::Queued,
        reason: None,
        updated_at: at,
        accepted_at: None,
        collided_with: None,
        released_by: None,
    }
}

/// Whether a reply is sent behind the send guard or despite it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendGuard {
    /// Refuse while the author has unseen entries ([`CoreError::Unseen`]).
    Check,
    /// Send anyway: the author was shown what they had not seen.
    Force,
}

/// Adds `ids` to the set of entries `agent` has been shown.
fn put_seen(doc: &mut AutoCommit, agent: &AgentId, ids: &[EntryId]) -> Result<()> {
    // Documents from before the seen sets have no `seen_by` yet.
    let all = map_at_or_new(doc, &ROOT, "seen_by")?;
    let mine = map_at_or_new(doc, &all, agent.as_str())?;
    for id in ids {
        if doc.get(&mine, id.as_str())?.is_none() {
            doc.put(&mine, id.as_str(), true)?;
        }
    }
    Ok(())
}

fn put_id_list(doc: &mut AutoCommit, obj: &ObjId, key: &str, ids: &[EntryId]) -> Result<()> {
    let list = doc.put_object(obj, key, ObjType::List)?;
    for (i, id) in ids.iter().enumerate() {
        doc.insert(&list, i, id.as_str())?;
    }
    Ok(())
}

fn write_delivery(doc: &mut AutoCommit, entry: &ObjId, d: &Delivery) -> Result<()> {
    let obj = doc.put_object(entry, "delivery", ObjType::Map)?;
    doc.put(&obj, "state", d.state.as_str())?;
    match &d.reason {
        Some(r) => doc.put(&obj, "reason", r.as_str())?,
        None => doc.put(&obj, "reason", ScalarValue::Null)?,
    }
    doc.put(&obj, "updated_at", d.updated_at.as_millis())?;
    if let Some(at) = d.accepted_at {
        doc.put(&obj, "accepted_at", at.as_millis())?;
    }
    if let Some(id) = &d.collided_with {
        doc.put(&obj, "collided_with", id.as_str())?;
    }
    if let Some(agent) = &d.released_by {
        doc.put(&obj, "released_by", agent.as_str())?;
    }
    Ok(())
}

/// Writes a status with its companions: a snooze end, a follow-up time and
/// a resolution apply only with their status and are cleared otherwise.
/// The fields every new conversation document starts with.
struct Opening<'a> {
    id: &'a ConversationId,
    subject: &'a str,
    channel: Channel,
    customer: &'a CustomerId,
    status: Status,
    assignee: Option<&'a AgentId>,
    priority: Priority,
    created_at: Timestamp,
}

/// A new conversation document with `o`'s fields and no entry yet; refuses
/// an empty subject.
fn start_doc(actor: ActorId, o: &Opening<'_>) -> Result<AutoCommit> {
    let subject = o.subject.trim();
    if subject.is_empty() {
        return Err(CoreError::EmptyField("subject"));
    }
    let mut doc = AutoCommit::new().with_actor(actor);
    schema::stamp(&mut doc, DocKind::Conversation)?;
    doc.put(ROOT, "id", o.id.as_str())?;
    doc.put(ROOT, "subject", subject)?;
    doc.put(ROOT, "channel", o.channel.as_str())?;
    doc.put(ROOT, "customer_id", o.customer.as_str())?;
    doc.put(ROOT, "status", o.status.as_str())?;
    doc.put(ROOT, "snooze_until", ScalarValue::Null)?;
    match o.assignee {
        Some(a) => {
            doc.put(ROOT, "assignee", a.as_str())?;
            doc.put(ROOT, "assigned_by", a.as_str())?;
        }
        None => doc.put(ROOT, "assignee", ScalarValue::Null)?,
    }
    doc.put(ROOT, "priority", o.priority.as_str())?;
    doc.put(ROOT, "created_at", o.created_at.as_millis())?;
    doc.put_object(ROOT, "tags", ObjType::Map)?;
    doc.put_object(ROOT, "seen_by", ObjType::Map)?;
    doc.put_object(ROOT, "entries", ObjType::List)?;
    Ok(doc)
}

fn put_status(
    doc: &mut AutoCommit,
    ctx: &Ctx,
    status: Status,
    until: Option<Timestamp>,
    follow_up_at: Option<Timestamp>,
    resolution: Option<Resolution>,
) -> Result<()> {
    doc.put(ROOT, "status", status.as_str())?;
    doc.put(ROOT, "status_by", ctx.agent.as_str())?;
    doc.put(ROOT, "status_at", ctx.now.as_millis())?;
    let millis = |t: Option<Timestamp>| t.map_or(ScalarValue::Null, |t| t.as_millis().into());
    doc.put(ROOT, "snooze_until", millis(until))?;
    // Absent in documents written before follow-ups existed: only written
    // when there is something to say or clear.
    if follow_up_at.is_some() || doc.get(ROOT, "follow_up_at")?.is_some() {
        doc.put(ROOT, "follow_up_at", millis(follow_up_at))?;
    }
    match resolution {
        Some(r) => doc.put(ROOT, "resolution", r.as_str())?,
        None if doc.get(ROOT, "resolution")?.is_some() => {
            doc.put(ROOT, "resolution", ScalarValue::Null)?
        }
        None => {}
    }
    Ok(())
}

fn push_entry(doc: &mut AutoCommit, e: &EntryData<'_>) -> Result<()> {
    let list = required_obj(doc, &ROOT, "entries")?;
    let m = doc.insert_object(&list, doc.length(&list), ObjType::Map)?;
    doc.put(&m, "id", e.id.as_str())?;
    doc.put(&m, "kind", e.kind.as_str())?;
    doc.put(&m, "author", e.author)?;
    if let Some(agent) = e.logged_by {
        doc.put(&m, "logged_by", agent.as_str())?;
    }
    doc.put(&m, "body", e.body)?;
    doc.put(&m, "created_at", e.created_at.as_millis())?;
    if let Some(a) = e.answers {
        doc.put(&m, "answers", a.as_str())?;
    }
    if let Some(ids) = e.had_seen {
        put_id_list(doc, &m, "had_seen", ids)?;
    }
    if !e.mentions.is_empty() {
        let l = doc.put_object(&m, "mentions", ObjType::List)?;
        for (i, a) in e.mentions.iter().enumerate() {
            doc.insert(&l, i, a.as_str())?;
        }
    }
    if !e.headers.is_empty() {
        let h = doc.put_object(&m, "headers", ObjType::Map)?;
        if let Some(id) = &e.headers.message_id {
            doc.put(&h, "message_id", id.as_str())?;
        }
        if let Some(id) = &e.headers.in_reply_to {
            doc.put(&h, "in_reply_to", id.as_str())?;
        }
        let r = doc.put_object(&h, "references", ObjType::List)?;
        for (i, id) in e.headers.references.iter().enumerate() {
            doc.insert(&r, i, id.as_str())?;
        }
    }
    if let Some(state) = e.delivery {
        write_delivery(
            doc,
            &m,
            &Delivery {
                state,
                ..queued(e.created_at)
            },
        )?;
    }
    if let Some(email) = e.email {
        write_email(doc, &m, email)?;
    }
    if e.automatic {
        doc.put(&m, "automatic", true)?;
    }
    Ok(())
}

fn write_email(doc: &mut AutoCommit, entry: &ObjId, email: &EmailDetails) -> Result<()> {
    let m = doc.put_object(entry, "email", ObjType::Map)?;
    if let Some(from) = &email.from {
        doc.put(&m, "from", from.as_str())?;
    }
    if let Some(full) = &email.full_body {
        doc.put(&m, "full_body", full.as_str())?;
    }
    doc.put(&m, "had_html", email.had_html)?;
    if let Some(kind) = &email.automatic {
        doc.put(&m, "automatic", kind.as_str())?;
    }
    let w = doc.put_object(&m, "warnings", ObjType::List)?;
    for (i, warning) in email.warnings.iter().enumerate() {
        doc.insert(&w, i, warning.as_str())?;
    }
    let list = doc.put_object(&m, "attachments", ObjType::List)?;
    for (i, a) in email.attachments.iter().enumerate() {
        let o = doc.insert_object(&list, i, ObjType::Map)?;
        if let Some(name) = &a.filename {
            doc.put(&o, "filename", name.as_str())?;
        }
        doc.put(&o, "content_type", a.content_type.as_str())?;
        doc.put(&o, "size", a.size as i64)?;
        if let Some(blob) = &a.blob {
            doc.put(&o, "blob", blob.as_str())?;
        }
        if let Some(reason) = &a.rejected {
            doc.put(&o, "rejected", reason.as_str())?;
        }
    }
    Ok(())
}

fn read_entry(e: Node<'_>) -> Option<Entry> {
    let headers = e
        .map("headers")
        .map(|h| EmailHeaders {
            message_id: h.str("message_id"),
            in_reply_to: h.str("in_reply_to"),
            references: h.list("references").map(strs).unwrap_or_default(),
        })
        .unwrap_or_default();
    let delivery = e.map("delivery").and_then(|del| {
        Some(Delivery {
            state: del.str("state")?.parse().ok()?,
            reason: del.str("reason"),
            updated_at: Timestamp(del.int("updated_at").unwrap_or(0)),
            accepted_at: del.int("accepted_at").map(Timestamp),
            collided_with: del
                .str("collided_with")
                .and_then(|a| EntryId::parse(&a).ok()),
            released_by: del.str("released_by").and_then(|a| AgentId::parse(&a).ok()),
        })
    });
    let email = e.map("email").map(|m| EmailDetails {
        from: m.str("from"),
        full_body: m.str("full_body"),
        had_html: m.bool("had_html").unwrap_or(false),
        automatic: m.str("automatic"),
        warnings: m.list("warnings").map(strs).unwrap_or_default(),
        attachments: m
            .list("attachments")
            .map(|l| {
                maps(l)
                    .map(|a| AttachmentInfo {
                        filename: a.str("filename"),
                        content_type: a.str("content_type").unwrap_or_default(),
                        size: a.int("size").unwrap_or(0).max(0) as u64,
                        blob: a.str("blob"),
                        rejected: a.str("rejected"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    });
    Some(Entry {
        id: EntryId::parse(&e.str("id")?).ok()?,
        kind: EntryKind::parse(&e.str("kind")?)?,
        author: e.str("author")?,
        logged_by: e.str("logged_by").and_then(|a| AgentId::parse(&a).ok()),
        body: e.str("body").unwrap_or_default(),
        created_at: Timestamp(e.int("created_at")?),
        answers: e.str("answers").and_then(|a| EntryId::parse(&a).ok()),
        mentions: e
            .list("mentions")
            .map(|l| {
                strs(l)
                    .iter()
                    .filter_map(|a| AgentId::parse(a).ok())
                    .collect()
            })
            .unwrap_or_default(),
        had_seen: e.list("had_seen").map(|l| {
            strs(l)
                .iter()
                .filter_map(|a| EntryId::parse(a).ok())
                .collect()
        }),
        headers,
        delivery,
        email,
        automatic: e.bool("automatic").unwrap_or(false),
    })
}

fn find_entry(doc: &AutoCommit, id: &EntryId) -> Result<Option<ObjId>> {
    let list = required_obj(doc, &ROOT, "entries")?;
    Ok((0..doc.length(&list)).find_map(|i| {
        let (_, obj) = doc.get(&list, i).ok()??;
        (str_at(doc, &obj, "id").as_deref() == Some(id.as_str())).then_some(obj)
    }))
}

/// The newest entry (by time, then id) of one of `kinds`.
fn last_entry_of(doc: &AutoCommit, kinds: &[EntryKind]) -> Result<Option<EntryId>> {
    let list = required_obj(doc, &ROOT, "entries")?;
    Ok((0..doc.length(&list))
        .filter_map(|i| {
            let (_, obj) = doc.get(&list, i).ok()??;
            let kind = EntryKind::parse(&str_at(doc, &obj, "kind")?)?;
            kinds.contains(&kind).then_some(())?;
            Some((int_at(doc, &obj, "created_at")?, str_at(doc, &obj, "id")?))
        })
        .max()
        .and_then(|(_, id)| EntryId::parse(&id).ok()))
}

impl_document!(ConversationDoc, Conversation, DocKind::Conversation);

fn read(doc: &AutoCommit) -> Result<Conversation> {
    let hydrated = hydrate(doc)?;
    let d = Node::root(&hydrated)?;
    let mut entries: Vec<Entry> = maps(
        d.list("entries")
            .ok_or(CoreError::MissingField("entries"))?,
    )
    .filter_map(read_entry)
    .collect();
    entries.sort_by_key(|e| e.created_at);
    let tags = d.map("tags").map(|t| t.keys()).unwrap_or_default();
    let mut seen: BTreeMap<AgentId, BTreeSet<EntryId>> = d
        .map("seen_by")
        .map(|s| {
            s.keys()
                .into_iter()
                .filter_map(|k| {
                    let ids = s.map(&k)?.keys();
                    Some((
                        AgentId::parse(&k).ok()?,
                        ids.iter().filter_map(|i| EntryId::parse(i).ok()).collect(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    // Documents written before the seen sets kept, per agent, the time of
    // the newest entry seen. Read once as the set it stood for; the next
    // `mark_seen` writes the set.
    if let Some(legacy) = d.map("seen") {
        for k in legacy.keys() {
            let (Ok(agent), Some(at)) = (AgentId::parse(&k), legacy.int(&k)) else {
                continue;
            };
            let set = seen.entry(agent).or_default();
            set.extend(
                entries
                    .iter()
                    .filter(|e| e.created_at <= Timestamp(at))
                    .map(|e| e.id.clone()),
            );
        }
    }

    // Hydration flags conflicted keys; only those need the candidates read.
    let conflicts = ["assignee", "status", "priority"]
        .into_iter()
        .filter(|field| d.conflicted(field))
        .filter_map(|field| {
            let values = conflicting_strs(doc, &ROOT, field);
            let by_key = if field == "assignee" {
                "assigned_by".to_owned()
            } else {
                format!("{field}_by")
            };
            let mut by = conflicting_strs(doc, &ROOT, &by_key);
            by.retain(|b| !b.is_empty());
            by.dedup();
            (values.len() > 1).then(|| FieldConflict {
                field: field.to_owned(),
                values,
                by,
            })
        })
        .collect();
    Ok(Conversation {
        id: ConversationId::parse(&d.required_str("id")?)?,
        subject: d.required_str("subject")?,
        channel: d
            .str("channel")
            .and_then(|c| c.parse().ok())
            .unwrap_or(Channel::Other),
        customer_id: CustomerId::parse(&d.required_str("customer_id")?)?,
        status: d.required_str("status")?.parse()?,
        snooze_until: d.int("snooze_until").map(Timestamp),
        follow_up_at: d.int("follow_up_at").map(Timestamp),
        resolution: d.str("resolution").and_then(|r| r.parse().ok()),
        status_at: d.int("status_at").map(Timestamp),
        assignee: d.str("assignee").and_then(|a| AgentId::parse(&a).ok()),
        assigned_by: d.str("assigned_by").and_then(|a| AgentId::parse(&a).ok()),
        priority: d
            .str("priority")
            .and_then(|p| p.parse().ok())
            .unwrap_or(Priority::Normal),
        tags,
        created_at: Timestamp(d.int("created_at").unwrap_or(0)),
        entries,
        seen,
        conflicts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{outbox_verdict, Collision, Document};

    fn agent(s: &str) -> AgentId {
        AgentId::parse(s).unwrap()
    }

    fn at(agent_name: &str, t: i64) -> Ctx {
        Ctx::new(agent(agent_name), Timestamp(t))
    }

    fn new_conv() -> ConversationDoc {
        let new = NewConversation {
            id: ConversationId::random(),
            subject: "Refund for order 1042".into(),
            channel: Channel::Email,
            customer: CustomerId::parse("cust1").unwrap(),
            body: "Hello, I was charged twice.".into(),
            received_at: Timestamp(1_000),
            headers: EmailHeaders {
                message_id: Some("<m1@example.com>".into()),
                ..Default::default()
            },
            priority: Priority::Normal,
        };
        ConversationDoc::create(ActorId::random(), &at("relay", 1_000), new)
            .unwrap()
            .0
    }

    #[test]
    fn email_details_round_trip_and_machine_mail_reopens_nothing() {
        let details = EmailDetails {
            from: Some("Alice Martin <alice@example.test>".into()),
            full_body: Some("Any news?\n> earlier".into()),
            had_html: true,
            automatic: None,
            warnings: vec!["unknown charset x-42".into()],
            attachments: vec![AttachmentInfo {
                filename: Some("photo.jpg".into()),
                content_type: "image/jpeg".into(),
                size: 31_457_280,
                blob: None,
                rejected: Some("over the 25 MiB limit".into()),
            }],
        };
        let mut c = new_conv();
        let relay = at("relay", 3_000);
        c.set_status(
            &relay,
            StatusChange {
                status: Status::Closed,
                until: None,
            },
        )
        .unwrap();
        let auto = EmailDetails {
            automatic: Some("auto-reply".into()),
            ..Default::default()
        };
        c.add_email(
            &relay,
            "I am out of office",
            Timestamp(3_100),
            &Default::default(),
            &auto,
        )
        .unwrap();
        assert_eq!(
            c.view().unwrap().status,
            Status::Closed,
            "auto-replies reopen nothing"
        );
        let id = c
            .add_email(
                &relay,
                "Any news?",
                Timestamp(3_200),
                &Default::default(),
                &details,
            )
            .unwrap();
        let v = c.view().unwrap();
        assert_eq!(v.status, Status::Open, "the customer is waiting again");
        assert_eq!(v.entry(&id).unwrap().email.as_ref(), Some(&details));
        assert_eq!(v.entries[0].email, None);

        let new = NewConversation {
            id: ConversationId::random(),
            subject: "Undelivered Mail Returned to Sender".into(),
            channel: Channel::Email,
            customer: CustomerId::parse("daemon").unwrap(),
            body: "This is the mail system".into(),
            received_at: Timestamp(4_000),
            headers: Default::default(),
            priority: Priority::Normal,
        };
        let bounce = EmailDetails {
            automatic: Some("bounce".into()),
            ..Default::default()
        };
        let (b, _) =
            ConversationDoc::create_from_email(ActorId::random(), &relay, new, &bounce).unwrap();
        let v = b.view().unwrap();
        assert_eq!(v.status, Status::Closed, "machine mail needs no answer");
        assert_eq!(v.entries[0].email.as_ref(), Some(&bounce));
    }

    #[test]
    fn reply_note_assign_tag() {
        let mut c = new_conv();
        let first = c.view().unwrap().entries[0].id.clone();
        let reply = c
            .add_reply(
                &at("ana", 2_000),
                "  Sorry! Refunded.  ",
                None,
                SendGuard::Force,
            )
            .unwrap();
        c.add_note(&at("ana", 2_100), "@ben FYI", &[agent("ben")])
            .unwrap();
        c.assign(&at("ana", 2_200), Some(&agent("ana"))).unwrap();
        c.tag(&at("ana", 2_300), &["Billing".into(), "refund".into()])
            .unwrap();
        c.untag(&at("ana", 2_400), &["refund".into()]).unwrap();
        let v = c.view().unwrap();
        assert_eq!(v.entries.len(), 3);
        let r = v.entry(&reply).unwrap();
        assert_eq!(r.body, "Sorry! Refunded.");
        assert_eq!(r.answers.as_ref(), Some(&first));
        assert_eq!(r.delivery.as_ref().unwrap().state, DeliveryState::Queued);
        assert_eq!(v.entries[2].mentions, vec![agent("ben")]);
        assert_eq!(v.assignee, Some(agent("ana")));
        assert_eq!(v.assigned_by, Some(agent("ana")));
        assert_eq!(v.tags, vec!["billing"]);
        assert!(!v.unread_for(&agent("ana")));
        assert!(v.unread_for(&agent("ben")));
        assert_eq!(
            v.entries[0].headers.message_id.as_deref(),
            Some("<m1@example.com>")
        );
    }

    fn ids(entries: &[&Entry]) -> Vec<String> {
        entries.iter().map(|e| e.body.clone()).collect()
    }

    fn fork(c: &mut ConversationDoc) -> ConversationDoc {
        ConversationDoc::from_automerge(c.automerge_mut().fork().with_actor(ActorId::random()))
            .unwrap()
    }

    fn merge(into: &mut ConversationDoc, from: &mut ConversationDoc) {
        into.automerge_mut().merge(from.automerge_mut()).unwrap();
    }

    fn shown(c: &ConversationDoc) -> Vec<EntryId> {
        c.view()
            .unwrap()
            .entries
            .iter()
            .map(|e| e.id.clone())
            .collect()
    }

    #[test]
    fn send_guard_counts_what_was_shown_never_a_clock() {
        let mut c = new_conv();
        assert_eq!(
            c.view().unwrap().unseen_by(&agent("ana")).len(),
            1,
            "never opened"
        );
        let shown_to_ana = shown(&c);
        c.mark_seen(&at("ana", 1_500), &shown_to_ana).unwrap();
        assert!(c.view().unwrap().unseen_by(&agent("ana")).is_empty());

        // Ben wrote a reply and a note offline *before* Ana looked (by the
        // clock), and they sync only now: still unseen by Ana.
        let mut ben = fork(&mut c);
        ben.add_reply(&at("ben", 1_200), "Ben answers", None, SendGuard::Force)
            .unwrap();
        ben.add_note(&at("ben", 1_300), "internal", &[]).unwrap();
        merge(&mut c, &mut ben);
        // A customer mail whose Date header lies in the past.
        c.add_customer_message(
            &at("relay", 3_000),
            "thanks",
            Timestamp(10),
            &EmailHeaders::default(),
        )
        .unwrap();
        let v = c.view().unwrap();
        let mut unseen = ids(&v.unseen_by(&agent("ana")));
        unseen.sort();
        assert_eq!(unseen, vec!["Ben answers", "internal", "thanks"]);
        assert!(v.unread_for(&agent("ana")));

        // The guard is checked inside the write: refused, and nothing written.
        let heads = c.automerge_mut().get_heads();
        match c.add_reply(&at("ana", 4_000), "mine", None, SendGuard::Check) {
            Err(CoreError::Unseen(ids)) => assert_eq!(ids.len(), 3),
            other => panic!("expected the send guard, got {other:?}"),
        }
        assert_eq!(c.automerge_mut().get_heads(), heads);

        // Shown on one device counts everywhere (sets merge as a union).
        let mut other_device = fork(&mut c);
        let all = shown(&other_device);
        other_device.mark_seen(&at("ana", 4_100), &all).unwrap();
        merge(&mut c, &mut other_device);
        let v = c.view().unwrap();
        assert!(v.unseen_by(&agent("ana")).is_empty());
        assert!(!v.unread_for(&agent("ana")));
        let reply = c
            .add_reply(&at("ana", 4_200), "mine", None, SendGuard::Check)
            .unwrap();
        let v = c.view().unwrap();
        let r = v.entry(&reply).unwrap();
        assert_eq!(
            r.had_seen.as_ref().unwrap().len(),
            4,
            "it records all it was written after"
        );
        // Ben has not seen Ana's reply nor the customer's thanks.
        assert_eq!(ids(&v.unseen_by(&agent("ben"))), vec!["thanks", "mine"]);
        // Marking unknown ids changes nothing.
        let heads = c.automerge_mut().get_heads();
        c.mark_seen(&at("ana", 5_000), &[EntryId::random()])
            .unwrap();
        assert_eq!(c.automerge_mut().get_heads(), heads);
    }

    #[test]
    fn concurrent_replies_to_one_message_send_one_and_hold_the_other() {
        let mut relay = new_conv();
        let first = relay.view().unwrap().entries[0].id.clone();
        let mut ana = fork(&mut relay);
        let mut ben = fork(&mut relay);
        // Both offline, both answer the customer's message.
        let a = ana
            .add_reply(&at("ana", 2_000), "Refunded.", None, SendGuard::Force)
            .unwrap();
        let b = ben
            .add_reply(
                &at("ben", 1_000),
                "Looking into it.",
                None,
                SendGuard::Force,
            )
            .unwrap();
        merge(&mut relay, &mut ana);
        merge(&mut relay, &mut ben);
        let v = relay.view().unwrap();
        // Neither is sent yet: whichever goes first goes.
        assert_eq!(outbox_verdict(&v, &a, |_| false), None);
        assert_eq!(outbox_verdict(&v, &b, |_| false), None);
        // Once Ana's is on its way, Ben's collides — whatever the clocks say.
        let verdict = outbox_verdict(&v, &b, |e| e == &a).unwrap();
        assert_eq!(verdict.entry(), &a);
        relay
            .set_delivery(&at("relay", 3_000), &a, DeliveryState::Sent, None)
            .unwrap();
        let v = relay.view().unwrap();
        let verdict = outbox_verdict(&v, &b, |_| false).unwrap();
        assert!(
            matches!(verdict, Collision::ColleagueReplied { ref author, .. } if author == &agent("ana"))
        );
        assert!(verdict
            .describe(|a| a.to_string())
            .starts_with("ana replied"));
        relay
            .hold_reply(
                &at("relay", 3_100),
                &b,
                &verdict.describe(|a| a.to_string()),
                Some(&a),
            )
            .unwrap();
        let held = relay
            .view()
            .unwrap()
            .entry(&b)
            .unwrap()
            .delivery
            .clone()
            .unwrap();
        assert_eq!(
            (held.state, held.collided_with.as_ref()),
            (DeliveryState::Held, Some(&a))
        );
        // Only Ben (or an admin) decides; sending anyway releases it with
        // Ana's reply now counted as seen.
        assert!(matches!(
            relay.release_reply(&at("ana", 3_200), &b, None, false),
            Err(CoreError::NotTheAuthor)
        ));
        relay
            .release_reply(
                &at("ben", 3_300),
                &b,
                Some("Ana beat me to it: refunded."),
                false,
            )
            .unwrap();
        let v = relay.view().unwrap();
        let r = v.entry(&b).unwrap();
        assert_eq!(r.body, "Ana beat me to it: refunded.");
        assert_eq!(r.delivery.as_ref().unwrap().state, DeliveryState::Queued);
        assert_eq!(r.delivery.as_ref().unwrap().released_by, Some(agent("ben")));
        assert_eq!(r.answers.as_ref(), Some(&first));
        assert_eq!(outbox_verdict(&v, &b, |_| false), None);

        // A reply answering a *different* customer message does not collide.
        let mut c = new_conv();
        let mut ana = fork(&mut c);
        let a = ana
            .add_reply(&at("ana", 2_000), "A", None, SendGuard::Force)
            .unwrap();
        ana.set_delivery(&at("relay", 2_100), &a, DeliveryState::Sent, None)
            .unwrap();
        c.add_customer_message(
            &at("relay", 2_200),
            "second question",
            Timestamp(2_200),
            &EmailHeaders::default(),
        )
        .unwrap();
        let b = c
            .add_reply(&at("ben", 2_300), "B", None, SendGuard::Force)
            .unwrap();
        merge(&mut c, &mut ana);
        let v = c.view().unwrap();
        assert_eq!(outbox_verdict(&v, &b, |_| true), None, "{:?}", v.entries);
    }

    #[test]
    fn a_customer_message_the_author_had_not_seen_holds_the_reply() {
        let mut relay = new_conv();
        let mut ana = fork(&mut relay);
        let a = ana
            .add_reply(&at("ana", 5_000), "Refunded.", None, SendGuard::Force)
            .unwrap();
        // The customer wrote again while Ana was offline — with an older date.
        relay
            .add_customer_message(
                &at("relay", 2_000),
                "Also the lid",
                Timestamp(1_500),
                &EmailHeaders::default(),
            )
            .unwrap();
        // Machine-made mail does not count.
        let auto = EmailDetails {
            automatic: Some("auto-reply".into()),
            ..Default::default()
        };
        relay
            .add_email(
                &at("relay", 2_100),
                "Out of office",
                Timestamp(2_100),
                &Default::default(),
                &auto,
            )
            .unwrap();
        merge(&mut relay, &mut ana);
        let v = relay.view().unwrap();
        let verdict = outbox_verdict(&v, &a, |_| false).unwrap();
        assert_eq!(v.entry(verdict.entry()).unwrap().body, "Also the lid");
        relay
            .hold_reply(&at("relay", 6_000), &a, "customer", None)
            .unwrap();
        assert!(matches!(
            relay.hold_reply(&at("relay", 6_000), &a, "again", None),
            Err(CoreError::WrongDeliveryState { .. })
        ));
        relay.discard_reply(&at("ana", 7_000), &a, false).unwrap();
        let v = relay.view().unwrap();
        let r = v.entry(&a).unwrap();
        assert_eq!(r.body, "Refunded.", "no reply text is lost");
        assert_eq!(r.delivery.as_ref().unwrap().state, DeliveryState::Cancelled);
        assert!(r
            .delivery
            .as_ref()
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("customer"));
        // An admin may discard or release someone else's held reply.
        let b = relay
            .add_reply(&at("ben", 8_000), "B", None, SendGuard::Force)
            .unwrap();
        relay
            .hold_reply(&at("relay", 8_100), &b, "x", None)
            .unwrap();
        relay
            .release_reply(&at("ana", 8_200), &b, None, true)
            .unwrap();
    }

    #[test]
    fn the_relay_records_when_it_first_saw_a_reply() {
        let mut c = new_conv();
        let a = c
            .add_reply(&at("ana", 1_000), "Hi", None, SendGuard::Force)
            .unwrap();
        c.accept_reply(&at("relay", 9_000), &a).unwrap();
        let heads = c.automerge_mut().get_heads();
        c.accept_reply(&at("relay", 9_500), &a).unwrap();
        assert_eq!(
            c.automerge_mut().get_heads(),
            heads,
            "only the first time counts"
        );
        let d = c
            .view()
            .unwrap()
            .entry(&a)
            .unwrap()
            .delivery
            .clone()
            .unwrap();
        assert_eq!(d.accepted_at, Some(Timestamp(9_000)));
        c.unsend(&at("ana", 9_600), &a).unwrap();
        let d = c
            .view()
            .unwrap()
            .entry(&a)
            .unwrap()
            .delivery
            .clone()
            .unwrap();
        assert_eq!(
            (d.state, d.accepted_at),
            (DeliveryState::Cancelled, Some(Timestamp(9_000)))
        );
    }

    #[test]
    fn awaiting_confirmation_then_the_customer_answers_or_confirms() {
        let mut c = new_conv();
        let at = |ms| Ctx::new(AgentId::parse("ana").unwrap(), Timestamp(ms));
        assert!(c.await_confirmation(&at(5_000), Timestamp(4_000)).is_err());
        c.await_confirmation(&at(5_000), Timestamp(90_000)).unwrap();
        let v = c.view().unwrap();
        assert_eq!(v.status, Status::Pending);
        assert_eq!(v.follow_up_at, Some(Timestamp(90_000)));
        // The customer answers: open again, nothing awaited any more.
        c.add_customer_message(
            &at(6_000),
            "Still broken",
            Timestamp(6_000),
            &EmailHeaders::default(),
        )
        .unwrap();
        let v = c.view().unwrap();
        assert_eq!((v.status, v.follow_up_at), (Status::Open, None));
        c.close_as(&at(7_000), Resolution::Confirmed).unwrap();
        let v = c.view().unwrap();
        assert_eq!(
            (v.status, v.resolution),
            (Status::Closed, Some(Resolution::Confirmed))
        );
        // A plain reopen forgets how it was closed.
        c.set_status(
            &at(8_000),
            StatusChange {
                status: Status::Open,
                until: None,
            },
        )
        .unwrap();
        assert_eq!(c.view().unwrap().resolution, None);
    }

    #[test]
    fn customer_message_reopens() {
        let mut c = new_conv();
        let snooze = StatusChange {
            status: Status::Snoozed,
            until: Some(Timestamp(9_000)),
        };
        c.set_status(&at("ana", 2_000), snooze).unwrap();
        assert_eq!(
            c.view().unwrap().effective_status(Timestamp(5_000)),
            Status::Snoozed
        );
        assert_eq!(
            c.view().unwrap().effective_status(Timestamp(9_000)),
            Status::Open
        );
        c.add_customer_message(
            &at("relay", 3_000),
            "Any news?",
            Timestamp(3_000),
            &EmailHeaders::default(),
        )
        .unwrap();
        let v = c.view().unwrap();
        assert_eq!(v.status, Status::Open);
        assert_eq!(v.snooze_until, None);
    }

    #[test]
    fn closed_conversations_refuse_replies_and_errors_leave_no_change() {
        let mut c = new_conv();
        c.set_status(
            &at("ana", 2_000),
            StatusChange {
                status: Status::Closed,
                until: None,
            },
        )
        .unwrap();
        let heads = c.automerge_mut().get_heads();
        assert!(matches!(
            c.add_reply(&at("ana", 3_000), "late", None, SendGuard::Force),
            Err(CoreError::ConversationClosed)
        ));
        assert!(matches!(
            c.add_note(&at("ana", 3_000), "   ", &[]),
            Err(CoreError::EmptyBody)
        ));
        assert!(matches!(
            c.add_reply(
                &at("ana", 3_000),
                "x",
                Some(&EntryId::random()),
                SendGuard::Force
            ),
            Err(CoreError::ConversationClosed)
        ));
        assert!(matches!(
            c.set_status(
                &at("ana", 3_000),
                StatusChange {
                    status: Status::Snoozed,
                    until: Some(Timestamp(10))
                }
            ),
            Err(CoreError::SnoozeInPast { .. })
        ));
        assert_eq!(c.automerge_mut().get_heads(), heads);
        c.set_status(
            &at("ana", 4_000),
            StatusChange {
                status: Status::Open,
                until: None,
            },
        )
        .unwrap();
        assert!(matches!(
            c.add_reply(
                &at("ana", 5_000),
                "x",
                Some(&EntryId::random()),
                SendGuard::Force
            ),
            Err(CoreError::UnknownEntry(_))
        ));
    }

    #[test]
    fn a_status_conflict_names_who_changed_it() {
        let mut a = new_conv();
        let mut b = fork(&mut a);
        let close = StatusChange {
            status: Status::Closed,
            until: None,
        };
        let pending = StatusChange {
            status: Status::Pending,
            until: None,
        };
        a.set_status(&at("ana", 2_000), close).unwrap();
        b.set_status(&at("ben", 2_000), pending).unwrap();
        merge(&mut a, &mut b);
        let c = &a.view().unwrap().conflicts;
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "status");
        assert_eq!(c[0].values, vec!["closed", "pending"]);
        assert_eq!(c[0].by, vec!["ana", "ben"]);
    }

    #[test]
    fn concurrent_assignments_are_reported_as_conflicts() {
        let mut a = new_conv();
        let mut b =
            ConversationDoc::from_automerge(a.automerge_mut().fork().with_actor(ActorId::random()))
                .unwrap();
        a.assign(&at("ana", 2_000), Some(&agent("ana"))).unwrap();
        b.assign(&at("ben", 2_000), Some(&agent("ben"))).unwrap();
        a.automerge_mut().merge(b.automerge_mut()).unwrap();
        b.automerge_mut().merge(a.automerge_mut()).unwrap();
        let (va, vb) = (a.view().unwrap(), b.view().unwrap());
        assert_eq!(va, vb);
        assert_eq!(
            va.conflicts,
            vec![FieldConflict {
                field: "assignee".into(),
                values: vec!["ana".into(), "ben".into()],
                by: vec!["ana".into(), "ben".into()],
            }]
        );
    }

    #[test]
    fn delivery_state_only_on_replies() {
        let mut c = new_conv();
        let first = c.view().unwrap().entries[0].id.clone();
        let reply = c
            .add_reply(&at("ana", 2_000), "Hi", None, SendGuard::Force)
            .unwrap();
        c.set_delivery(
            &at("relay", 3_000),
            &reply,
            DeliveryState::Failed,
            Some("550 no such user"),
        )
        .unwrap();
        let v = c.view().unwrap();
        let d = v.entry(&reply).unwrap().delivery.clone().unwrap();
        assert_eq!(
            (d.state, d.reason.as_deref()),
            (DeliveryState::Failed, Some("550 no such user"))
        );
        assert!(matches!(
            c.set_delivery(&at("relay", 3_000), &first, DeliveryState::Sent, None),
            Err(CoreError::NotAReply(_))
        ));
    }

    #[test]
    fn a_conversation_the_team_starts_opens_with_its_queued_email() {
        let new = NewOutbound {
            id: ConversationId::random(),
            subject: " Your order ".into(),
            customer: CustomerId::parse("c1").unwrap(),
            body: "It ships today.".into(),
            priority: Priority::High,
        };
        let ctx = at("ana", 1_000);
        let (c, first) =
            ConversationDoc::create_outbound(ActorId::random(), &ctx, new.clone()).unwrap();
        let v = c.view().unwrap();
        assert_eq!(v.subject, "Your order");
        assert_eq!(v.channel, Channel::Email);
        assert_eq!(v.assignee.as_ref().map(|a| a.as_str()), Some("ana"));
        assert_eq!(v.entries.len(), 1);
        let e = &v.entries[0];
        assert_eq!((e.kind, &e.id), (EntryKind::Reply, &first));
        assert_eq!(e.delivery_state(), Some(DeliveryState::Queued));
        assert_eq!(e.answers, None);
        // Nothing unseen, nobody else: the outbox's collision rule lets it go,
        // and no customer waits for an answer yet.
        assert_eq!(outbox_verdict(&v, &first, |_| false), None);
        assert!(v.unseen_by(&AgentId::parse("ana").unwrap()).is_empty());
        assert_eq!(crate::sla::waiting(&v), None);
        let empty = NewOutbound {
            body: "  ".into(),
            ..new
        };
        assert!(ConversationDoc::create_outbound(ActorId::random(), &ctx, empty).is_err());
    }
}
