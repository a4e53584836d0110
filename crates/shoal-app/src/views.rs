//! What commands return: plain data with snake_case fields, times in Unix
//! milliseconds (the same shapes as `shoal … --json` where both exist).

use serde::{Deserialize, Serialize};
use shoal_core::{AgentId, Conversation, Customer, Entry, EntryKind, Team};
pub use shoal_replica::{InboxRow, SearchHit};
use std::collections::BTreeMap;

/// The sync indicator's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncStatusView {
    /// `local` (no relay), `offline`, `syncing` or `online`.
    pub state: String,
    /// Local changes the relay has not confirmed yet.
    pub waiting: usize,
    /// Documents still being exchanged with the relay.
    pub pending: usize,
    /// Why offline (or why sync stopped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When offline: the delay before the next attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_ms: Option<u64>,
    /// Where the relay token is kept: `secret-service`, `keyutils`,
    /// `memory` (this session only), or `none` (no relay or no token).
    pub token_store: String,
}

/// The app's overall state, for choosing between onboarding and the inbox.
#[derive(Clone, Debug, Serialize)]
pub struct AppState {
    /// A replica exists (otherwise show onboarding).
    pub ready: bool,
    /// The home directory.
    pub home: String,
    /// Team id.
    pub team_id: Option<String>,
    /// Team name (absent until the team document arrived after a join).
    pub team_name: Option<String>,
    /// My agent id.
    pub agent_id: Option<String>,
    /// My name.
    pub agent_name: Option<String>,
    /// My e-mail.
    pub agent_email: Option<String>,
    /// The relay, when the workspace syncs.
    pub relay_url: Option<String>,
    /// The replica has a relay but no token was found: call `sign_in`.
    pub needs_sign_in: bool,
    /// The sync indicator.
    pub sync: SyncStatusView,
}

/// One entry of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryView {
    /// Entry id.
    pub id: String,
    /// `customer`, `reply` or `note`.
    pub kind: String,
    /// Agent id (reply, note) or customer id.
    pub author_id: String,
    /// Display name of the author.
    pub author_name: String,
    /// Plain-text body.
    pub body: String,
    /// When written or received.
    pub created_at: i64,
    /// Replies: `queued`, `sent`, `held`, `failed`, `cancelled`, `draft`.
    pub delivery_state: Option<String>,
    /// Why held or failed.
    pub delivery_reason: Option<String>,
    /// Replies of mine still withdrawable: until when (`unsend`).
    pub unsend_until: Option<i64>,
    /// Agents mentioned in a note.
    pub mentions: Vec<String>,
    /// The agent who logged a customer message by hand.
    pub logged_by: Option<String>,
    /// Not yet shown to me (and not mine).
    pub unseen: bool,
    /// A held reply: the entry it collided with.
    pub collided_with: Option<String>,
    /// A held reply I may send anyway, edit or discard (mine, or as admin).
    pub can_decide: bool,
    /// The relay's automatic acknowledgement (not an agent's answer).
    pub automatic: bool,
}

/// `unsend_until` of a reply the relay has not seen yet: the latest time a
/// JavaScript `Date` holds, since it can be withdrawn until it arrives.
pub const NOT_YET_AT_THE_RELAY: i64 = 8_640_000_000_000_000;

/// A conversation with everything the thread view shows.
#[derive(Clone, Debug, Serialize)]
pub struct ConversationView {
    /// Conversation id.
    pub id: String,
    /// Subject.
    pub subject: String,
    /// `email`, `phone`, …
    pub channel: String,
    /// Status as it stands now (an ended snooze shows as `open`).
    pub status: String,
    /// End of the snooze.
    pub snooze_until: Option<i64>,
    /// Assigned agent id.
    pub assignee: Option<String>,
    /// Assigned agent's name.
    pub assignee_name: Option<String>,
    /// Priority.
    pub priority: String,
    /// Tags.
    pub tags: Vec<String>,
    /// When opened.
    pub created_at: i64,
    /// Customer id.
    pub customer_id: String,
    /// Customer name (absent until the customer document arrived).
    pub customer_name: Option<String>,
    /// Customer's primary e-mail.
    pub customer_email: Option<String>,
    /// Since when the customer has waited for an answer (ms), if they do.
    pub waiting_since: Option<i64>,
    /// When the answer is due by the team's hours and targets (ms).
    pub reply_due: Option<i64>,
    /// Pending for the customer's confirmation: when to follow up (ms).
    pub follow_up_at: Option<i64>,
    /// How it was closed (`confirmed`, `no-reply`), when it says.
    pub resolution: Option<String>,
    /// What I was writing here (kept across restarts), if anything.
    pub draft: Option<DraftView>,
    /// Entries, oldest first.
    pub entries: Vec<EntryView>,
    /// Fields agents changed concurrently (`field`, all `values`).
    pub conflicts: Vec<ConflictView>,
}

/// A saved composer draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DraftView {
    /// `reply` or `note`.
    pub mode: String,
    /// The text so far.
    pub body: String,
}

/// A concurrently changed field.
#[derive(Clone, Debug, Serialize)]
pub struct ConflictView {
    /// `assignee`, `status` or `priority`.
    pub field: String,
    /// Every concurrent value.
    pub values: Vec<String>,
}

/// A customer with notes and every conversation.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerView {
    /// Customer id.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail addresses, primary first.
    pub emails: Vec<String>,
    /// Company.
    pub company: Option<String>,
    /// Support tier.
    pub tier: Option<String>,
    /// Collaborative notes.
    pub notes: String,
    /// When added.
    pub created_at: i64,
    /// Their conversations, newest activity first.
    pub conversations: Vec<InboxRow>,
}

/// An agent of the team.
#[derive(Clone, Debug, Serialize)]
pub struct AgentView {
    /// Agent id.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// `admin` or `agent`.
    pub role: String,
    /// `available`, `busy` or `away`.
    pub availability: String,
    /// This is me.
    pub me: bool,
}

/// The team.
#[derive(Clone, Debug, Serialize)]
pub struct TeamView {
    /// Team id.
    pub id: String,
    /// Name (empty until the team document arrived after a join).
    pub name: String,
    /// Agents, by name.
    pub agents: Vec<AgentView>,
    /// The tag vocabulary.
    pub tags: Vec<String>,
    /// My agent id.
    pub me: String,
}

/// A personal template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TemplateView {
    /// Name.
    pub name: String,
    /// Body with `{{placeholders}}`.
    pub body: String,
}

/// Someone else viewing or replying somewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceView {
    /// Agent id.
    pub agent_id: String,
    /// Agent name from the team document (the id if unknown).
    pub agent_name: String,
    /// Conversation id.
    pub conversation_id: String,
    /// `viewing` or `composing`.
    pub state: String,
}

/// What `inbox` returns.
#[derive(Clone, Debug, Serialize)]
pub struct InboxPage {
    /// The page.
    pub rows: Vec<InboxRow>,
    /// Conversations in the whole view.
    pub total: i64,
}

/// What `reply` and `note` return.
#[derive(Clone, Debug, Serialize)]
pub struct EntryCreated {
    /// The new entry.
    pub entry_id: String,
}

/// Display names of agents by id.
pub(crate) fn agent_names(team: Option<&Team>) -> BTreeMap<String, String> {
    team.map(|t| {
        t.agents
            .iter()
            .map(|a| (a.id.to_string(), a.name.clone()))
            .collect()
    })
    .unwrap_or_default()
}

/// The short kind name used by the UI's `data-kind`.
pub(crate) fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::CustomerMessage => "customer",
        EntryKind::Reply => "reply",
        EntryKind::Note => "note",
    }
}

pub(crate) fn entry_view(
    e: &Entry,
    conv: &Conversation,
    me: &AgentId,
    names: &BTreeMap<String, String>,
    customer: Option<&Customer>,
) -> EntryView {
    let author_name = match e.kind {
        EntryKind::CustomerMessage => customer
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "Customer".to_owned()),
        _ if e.automatic => "Automatic acknowledgement".to_owned(),
        _ => names
            .get(&e.author)
            .cloned()
            .unwrap_or_else(|| e.author.clone()),
    };
    let delivery_state = e.delivery.as_ref().map(|d| d.state.to_string());
    // The undo window starts when the relay first sees the reply; until
    // then there is no deadline.
    let unsend_until = (e.kind == EntryKind::Reply
        && e.author == me.as_str()
        && delivery_state.as_deref() == Some("queued"))
    .then(|| {
        e.delivery
            .as_ref()
            .and_then(|d| d.accepted_at)
            .map_or(NOT_YET_AT_THE_RELAY, |at| {
                at.as_millis() + shoal_core::UNDO_SEND_WINDOW.as_millis() as i64
            })
    });
    EntryView {
        id: e.id.to_string(),
        kind: kind_name(e.kind).to_owned(),
        author_id: e.author.clone(),
        author_name,
        body: e.body.clone(),
        created_at: e.created_at.as_millis(),
        delivery_state,
        delivery_reason: e.delivery.as_ref().and_then(|d| d.reason.clone()),
        unsend_until,
        mentions: e.mentions.iter().map(|m| m.to_string()).collect(),
        logged_by: e.logged_by.as_ref().map(|a| a.to_string()),
        unseen: !e.automatic && !e.is_own(me) && !conv.has_seen(me, &e.id),
        collided_with: e
            .delivery
            .as_ref()
            .and_then(|d| d.collided_with.as_ref())
            .map(|id| id.to_string()),
        can_decide: e.delivery_state() == Some(shoal_core::DeliveryState::Held)
            && e.author == me.as_str(),
        automatic: e.automatic,
    }
}

/// One chart of the Reports view: an SVG picture with its numbers in words.
#[derive(Clone, Debug, Serialize)]
pub struct ChartView {
    /// A stable name (`response-times`, `volume-by-tag`, …; see `report_charts::charts`).
    pub name: String,
    /// The SVG document.
    pub svg: String,
}

/// The Reports view: the team's weeks and their charts.
#[derive(Clone, Debug, Serialize)]
pub struct ReportView {
    /// The numbers (see `shoal_core::report`).
    pub report: shoal_core::report::Report,
    /// The charts.
    pub charts: Vec<ChartView>,
}

/// `new_customer` / `edit_customer`: a customer's details.
#[derive(Clone, Debug, Deserialize)]
pub struct CustomerInput {
    /// Display name.
    pub name: String,
    /// E-mail addresses, primary first.
    pub emails: Vec<String>,
    /// Company, if any.
    pub company: Option<String>,
    /// Support tier, if any.
    pub tier: Option<String>,
}

impl CustomerInput {
    /// Trimmed, empty values as none; a name is required.
    pub fn cleaned(self) -> Result<CustomerInput, crate::AppError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            return Err(crate::AppError::invalid("the customer needs a name"));
        }
        let opt = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(CustomerInput {
            name,
            emails: self
                .emails
                .iter()
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty())
                .collect(),
            company: opt(self.company),
            tier: opt(self.tier),
        })
    }
}

/// `log_call`: a call written down as a new conversation.
#[derive(Clone, Debug, Deserialize)]
pub struct CallInput {
    /// An e-mail address (a customer not known yet is added), or a known
    /// customer's id or name.
    pub customer: String,
    /// The name of a customer this call adds.
    pub name: Option<String>,
    /// Subject.
    pub subject: String,
    /// What they said.
    pub body: String,
}
