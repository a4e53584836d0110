//! A deterministic generator of realistic synthetic support teams: agents,
//! customers with profile notes, and conversations of customer messages,
//! agent replies and internal notes.
//!
//! It feeds `shoal init --demo` (a small, current-looking inbox, see
//! [`SynthConfig::demo`]) and the benchmarks (a large team, see
//! [`SynthConfig::benchmark`]).
//!
//! - **Deterministic:** the same configuration always yields byte-identical
//!   output. Every conversation draws from its own ChaCha8 stream derived from
//!   the seed and its index, and no clock or OS randomness is used.
//! - **Streaming:** [`conversations`] builds one conversation at a time; only
//!   the team and one entry count per conversation are held in memory.
//! - **Searchable:** text is assembled from a sizeable vocabulary of support
//!   topics, so full-text search sees both common and rare terms, and
//!   [`search_queries`] returns queries known to match.
//!
//! All text is ASCII, so byte lengths are character lengths.

mod conversation;
mod documents;
mod message;
mod queries;
mod team;
mod text;
mod vocabulary;

#[cfg(test)]
mod tests;

pub use conversation::{conversations, Conversations};
pub use documents::{conversation_document, customer_document, documents, team_document, SynthIds};
pub use queries::search_queries;
pub use team::team;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// What to generate. Equal configurations generate identical teams and
/// conversations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynthConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of conversations [`conversations`] yields.
    pub conversations: usize,
    /// Total entries (messages, replies and notes) across all conversations;
    /// at least one per conversation is always generated.
    pub messages: usize,
    /// Number of customers (at least one is always generated).
    pub customers: usize,
    /// Number of agents. With none, conversations hold only customer
    /// messages.
    pub agents: usize,
    /// Start of the activity window, in milliseconds since the Unix epoch.
    pub start_ms: i64,
    /// Length of the activity window in days; every entry falls inside it.
    pub span_days: u32,
}

impl SynthConfig {
    /// The benchmark team: 50,000 conversations holding 500,000 entries,
    /// 10,000 customers and 8 agents, over 300 days from 2026-01-01.
    pub fn benchmark() -> Self {
        SynthConfig {
            seed: 42,
            conversations: 50_000,
            messages: 500_000,
            customers: 10_000,
            agents: 8,
            start_ms: 1_767_225_600_000,
            span_days: 300,
        }
    }

    /// The demo workspace: 24 conversations, 110 entries, 14 customers and 4
    /// agents, active during the 10 days before `now_ms` so the inbox looks
    /// current (older threads closed, recent ones open or pending).
    pub fn demo(now_ms: i64) -> Self {
        SynthConfig {
            seed: 7,
            conversations: 24,
            messages: 110,
            customers: 14,
            agents: 4,
            start_ms: now_ms - 10 * DAY_MS,
            span_days: 10,
        }
    }

    /// This configuration with conversations, messages and customers
    /// multiplied by `factor` (each at least 1, messages at least
    /// conversations); seed, agents and time window unchanged.
    pub fn scaled(&self, factor: f64) -> Self {
        // A negative or NaN factor casts to 0 and is lifted to 1.
        let scale = |n: usize| ((n as f64 * factor).round() as usize).max(1);
        let conversations = scale(self.conversations);
        SynthConfig {
            conversations,
            messages: scale(self.messages).max(conversations),
            customers: scale(self.customers),
            ..*self
        }
    }
}

/// A support agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthAgent {
    /// Full name, e.g. "Dana Okafor".
    pub name: String,
    /// `firstname@<team domain>`, e.g. `dana@northwind.example`.
    pub email: String,
}

impl SynthAgent {
    /// First name, as used in reply sign-offs.
    pub fn first_name(&self) -> &str {
        self.name.split(' ').next().unwrap_or(&self.name)
    }

    /// The handle notes `@mention` this agent by: the local part of the
    /// email, i.e. the lowercase first name.
    pub fn handle(&self) -> &str {
        self.email.split('@').next().unwrap_or(&self.email)
    }
}

/// A customer of the team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthCustomer {
    /// Full name.
    pub name: String,
    /// One or two addresses at fake `.example` domains, unique across the team.
    pub emails: Vec<String>,
    /// Company name (about 60% of customers have one).
    pub company: Option<String>,
    /// `"free"`, `"pro"` or `"enterprise"`, if known.
    pub tier: Option<String>,
    /// The team's profile notes about this customer (100 to 800 bytes).
    pub notes: String,
}

impl SynthCustomer {
    /// First name, as agents greet the customer.
    pub fn first_name(&self) -> &str {
        self.name.split(' ').next().unwrap_or(&self.name)
    }
}

/// What an entry of a conversation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynthEntryKind {
    /// A message from the customer.
    Customer,
    /// An agent's reply to the customer.
    Reply,
    /// An internal note between agents.
    Note,
}

/// One message, reply or note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthEntry {
    /// Who wrote it, and for whom.
    pub kind: SynthEntryKind,
    /// Index into [`SynthTeam::agents`] of the author; `Some` exactly for
    /// replies and notes.
    pub agent: Option<usize>,
    /// Plain text body. Customer messages are 150 to 1,500 bytes, replies 250
    /// to 1,200, notes 40 to 300.
    pub body: String,
    /// When it was written, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// One customer thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthConversation {
    /// Subject line.
    pub subject: String,
    /// Index into [`SynthTeam::customers`].
    pub customer: usize,
    /// `"email"` (most), `"chat"` or `"phone"`.
    pub channel: &'static str,
    /// `"open"`, `"pending"`, `"snoozed"` or `"closed"`.
    pub status: &'static str,
    /// End of the snooze, after the last entry; `Some` exactly when snoozed.
    pub snooze_until_ms: Option<i64>,
    /// Index into [`SynthTeam::agents`] of the assigned agent (about 70% are
    /// assigned).
    pub assignee: Option<usize>,
    /// `"low"`, `"normal"`, `"high"` or `"urgent"`.
    pub priority: &'static str,
    /// Zero to three distinct tags from a fixed list (billing, bug,
    /// feature-request, refund, login, integration, shipping, urgent, vip,
    /// api).
    pub tags: Vec<String>,
    /// Entries in non-decreasing time order, starting with a customer message.
    pub entries: Vec<SynthEntry>,
}

/// A support team: who answers, and who writes in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthTeam {
    /// Team name, e.g. "Northwind Support".
    pub name: String,
    /// The agents.
    pub agents: Vec<SynthAgent>,
    /// The customers.
    pub customers: Vec<SynthCustomer>,
}

impl SynthTeam {
    /// The company behind the team, e.g. "Northwind" for "Northwind Support".
    pub fn brand(&self) -> &str {
        self.name.strip_suffix(" Support").unwrap_or(&self.name)
    }
}

/// Bytes of text in a conversation: its subject plus every entry body.
/// Customer profile text is counted separately by [`customer_text_bytes`];
/// `team` is not consulted, since a conversation only refers to it by index.
pub fn raw_text_bytes(_team: &SynthTeam, conv: &SynthConversation) -> usize {
    conv.subject.len() + conv.entries.iter().map(|e| e.body.len()).sum::<usize>()
}

/// Bytes of text in a customer profile: name, emails, company and notes.
pub fn customer_text_bytes(c: &SynthCustomer) -> usize {
    c.name.len()
        + c.emails.iter().map(String::len).sum::<usize>()
        + c.company.as_ref().map_or(0, String::len)
        + c.notes.len()
}
