//! Which changes deserve a desktop notification. Pure: the worker feeds it
//! what a conversation looked like before and after a change from the relay.
//!
//! "New customer message" is decided by entry ids: for a conversation seen
//! before, the customer messages whose ids were not known; for one known
//! only from the inbox table at startup, those newer than its last activity
//! then; for a conversation new to this replica, all of them. Changes made
//! by this app's commands never get here, and customer messages I logged
//! myself (on another device) never count.

use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};

/// What is known about a conversation before a change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Its assignee.
    pub assignee: Option<String>,
    /// Ids of its customer messages, once read; `None` when only the inbox
    /// row was known (then `last_activity` is the baseline).
    pub customer_entries: Option<HashSet<String>>,
    /// Newest activity when last seen (ms).
    pub last_activity: i64,
    /// My replies in trouble, as `kind:id` ([`ReplyTrouble::key`]).
    pub troubles: HashSet<String>,
    /// Ids of notes that mention me.
    pub mentions: HashSet<String>,
    /// Fields changed concurrently, as known then.
    pub conflicts: HashSet<String>,
}

/// A customer message as the rules need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerMessage {
    /// Entry id.
    pub id: String,
    /// Received at (ms).
    pub created_at: i64,
    /// Body.
    pub body: String,
    /// The agent who logged it by hand, if any.
    pub logged_by: Option<String>,
}

/// A conversation after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationFacts {
    /// Conversation id.
    pub id: String,
    /// Subject.
    pub subject: String,
    /// Customer name.
    pub customer_name: String,
    /// Assignee now.
    pub assignee: Option<String>,
    /// Every customer message.
    pub customer_messages: Vec<CustomerMessage>,
    /// Newest activity (ms).
    pub last_activity: i64,
    /// My replies that were held, failed, or will be held, with why.
    pub troubles: Vec<ReplyTrouble>,
    /// Who made the current assignment, when recorded.
    pub assigned_by: Option<String>,
    /// Colleagues' notes that mention me.
    pub mentions: Vec<Mention>,
    /// Fields agents changed concurrently.
    pub conflicts: Vec<FieldConflictFact>,
}

/// A field agents changed concurrently, as the notification needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldConflictFact {
    /// `assignee`, `status` or `priority`.
    pub field: String,
    /// I am one of the concurrent assignees, or the conversation is mine.
    pub involves_me: bool,
    /// The sentence ("Ana and Ben both took this while offline; Ana has it").
    pub text: String,
}

/// A colleague's note that mentions me.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    /// Entry id.
    pub id: String,
    /// The author's name.
    pub author_name: String,
    /// The note.
    pub body: String,
    /// When written (ms): the baseline for a conversation known only from
    /// its inbox row.
    pub created_at: i64,
}

/// What is wrong with a reply of mine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// The relay held it back (a collision).
    Held,
    /// It could not be delivered.
    Failed,
    /// Still queued, but something I had not seen came in: the relay will
    /// hold it (re-checked as soon as a sync brings news, offline too).
    AtRisk,
}

/// A reply of mine in trouble.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyTrouble {
    /// Entry id.
    pub id: String,
    /// What is wrong.
    pub kind: Trouble,
    /// Why, in words.
    pub reason: String,
}

impl ReplyTrouble {
    /// What [`Known::troubles`] remembers: the same reply failing after
    /// being held notifies again.
    pub fn key(&self) -> String {
        format!("{:?}:{}", self.kind, self.id)
    }
}

impl ConversationFacts {
    /// What to remember for the next change.
    pub fn known(&self) -> Known {
        Known {
            assignee: self.assignee.clone(),
            customer_entries: Some(
                self.customer_messages
                    .iter()
                    .map(|m| m.id.clone())
                    .collect(),
            ),
            last_activity: self.last_activity,
            troubles: self.troubles.iter().map(ReplyTrouble::key).collect(),
            mentions: self.mentions.iter().map(|m| m.id.clone()).collect(),
            conflicts: self.conflicts.iter().map(|c| c.field.clone()).collect(),
        }
    }
}

/// Who I am and what I want.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Me {
    /// My agent id.
    pub agent_id: String,
    /// Notifications are on.
    pub enabled: bool,
    /// I take new work (unassigned conversations notify).
    pub available: bool,
}

/// A notification to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// First line.
    pub summary: String,
    /// Text.
    pub body: String,
    /// The conversation a click opens (none for a summary of several).
    pub conversation_id: Option<String>,
    /// How much it matters, 0 first: what a summary of one conversation
    /// leads with (a held reply before a new message).
    #[serde(skip)]
    pub rank: u8,
    /// For a summary: what it summarises (a click lists them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Notification>,
}

fn first_line(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() <= max {
        return line.to_owned();
    }
    let cut: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// The notification (at most one) that a remote change to a conversation
/// deserves.
pub fn decide(me: &Me, before: Option<&Known>, after: &ConversationFacts) -> Option<Notification> {
    if !me.enabled {
        return None;
    }
    // A reply of mine in trouble comes first: the customer is waiting on it.
    let trouble = after
        .troubles
        .iter()
        .find(|t| before.is_none_or(|k| !k.troubles.contains(&t.key())));
    if let Some(t) = trouble {
        let (what, rank) = match t.kind {
            Trouble::Held => ("Your reply was held", 0),
            Trouble::Failed => ("Your reply could not be delivered", 0),
            Trouble::AtRisk => ("Your reply will be held", 1),
        };
        return Some(Notification {
            summary: format!("{what}: {}", after.subject),
            body: first_line(&t.reason, 200),
            conversation_id: Some(after.id.clone()),
            rank,
            items: Vec::new(),
        });
    }
    // Notes that mention me, new since I last knew the conversation.
    let mention = after.mentions.iter().find(|m| match before {
        None => true,
        Some(k) if k.customer_entries.is_none() => m.created_at > k.last_activity,
        Some(k) => !k.mentions.contains(&m.id),
    });
    if let Some(m) = mention {
        return Some(Notification {
            summary: format!("{} mentioned you: {}", m.author_name, after.subject),
            body: first_line(&m.body, 140),
            conversation_id: Some(after.id.clone()),
            rank: 3,
            items: Vec::new(),
        });
    }
    let new: Vec<&CustomerMessage> = after
        .customer_messages
        .iter()
        .filter(|m| m.logged_by.as_deref() != Some(me.agent_id.as_str()))
        .filter(|m| match before {
            None => true,
            Some(Known {
                customer_entries: Some(ids),
                ..
            }) => !ids.contains(&m.id),
            Some(k) => m.created_at > k.last_activity,
        })
        .collect();
    let mine = after.assignee.as_deref() == Some(me.agent_id.as_str());
    if !new.is_empty() && (mine || (after.assignee.is_none() && me.available)) {
        let last = new.iter().max_by_key(|m| m.created_at).expect("not empty");
        let summary = if new.len() == 1 {
            format!("{}: {}", after.customer_name, after.subject)
        } else {
            format!("{} new messages: {}", new.len(), after.subject)
        };
        return Some(Notification {
            summary,
            body: first_line(&last.body, 140),
            conversation_id: Some(after.id.clone()),
            rank: 2,
            items: Vec::new(),
        });
    }
    // A conflicting change I am part of: both sides hear of it.
    let conflict = after
        .conflicts
        .iter()
        .find(|c| c.involves_me && before.is_some_and(|k| !k.conflicts.contains(&c.field)));
    if let Some(c) = conflict {
        return Some(Notification {
            summary: format!("Conflicting changes: {}", after.subject),
            body: c.text.clone(),
            conversation_id: Some(after.id.clone()),
            rank: 2,
            items: Vec::new(),
        });
    }
    let was_mine = before.is_some_and(|k| k.assignee.as_deref() == Some(me.agent_id.as_str()));
    let by_me = after.assigned_by.as_deref() == Some(me.agent_id.as_str());
    if mine && !was_mine && !by_me {
        return Some(Notification {
            summary: "Assigned to you".to_owned(),
            body: format!("{}: {}", after.customer_name, after.subject),
            conversation_id: Some(after.id.clone()),
            rank: 4,
            items: Vec::new(),
        });
    }
    None
}

/// The notification for a conversation of mine whose snooze ended: it is
/// back in my inbox. `None` with notifications off.
pub fn snooze_ended(me: &Me, conversation_id: &str, subject: &str) -> Option<Notification> {
    me.enabled.then(|| Notification {
        summary: format!("Snooze ended: {subject}"),
        body: "Back in your inbox".to_owned(),
        conversation_id: Some(conversation_id.to_owned()),
        rank: 5,
        items: Vec::new(),
    })
}

/// The reminder for a conversation of mine (or nobody's) waiting for the
/// customer's confirmation whose follow-up time has come. `None` with
/// notifications off.
pub fn follow_up_due(me: &Me, conversation_id: &str, subject: &str) -> Option<Notification> {
    me.enabled.then(|| Notification {
        summary: format!("Follow up: {subject}"),
        body: "The customer has not confirmed it is solved".to_owned(),
        conversation_id: Some(conversation_id.to_owned()),
        rank: 5,
        items: Vec::new(),
    })
}

/// Escapes the markup a notification server may interpret in a body
/// (freedesktop servers render `<a>`, `<b>`, `<img>`…): customer text is shown
/// as text, never as a link.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Limits notifications to `max` per `window_ms`, and to one per
/// conversation per `per_conversation_ms`; the rest are held and shown as
/// one summary when the windows allow ("5 new notifications"). After a long
/// offline stretch, [`Gate::digest`] holds everything for a moment and then
/// shows one digest instead of a storm.
#[derive(Debug)]
pub struct Gate {
    max: usize,
    window_ms: i64,
    per_conversation_ms: i64,
    sent: VecDeque<i64>,
    held: Vec<Notification>,
    last_by_conversation: HashMap<String, i64>,
    digest_until: Option<i64>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate::new(3, 10_000, 10_000)
    }
}

impl Gate {
    /// At most `max` within `window_ms`, one per conversation within
    /// `per_conversation_ms`.
    pub fn new(max: usize, window_ms: i64, per_conversation_ms: i64) -> Self {
        Gate {
            max,
            window_ms,
            per_conversation_ms,
            sent: VecDeque::new(),
            held: Vec::new(),
            last_by_conversation: HashMap::new(),
            digest_until: None,
        }
    }

    fn expire(&mut self, now: i64) {
        while self.sent.front().is_some_and(|t| now - t >= self.window_ms) {
            self.sent.pop_front();
        }
        let per = self.per_conversation_ms;
        self.last_by_conversation.retain(|_, t| now - *t < per);
    }

    /// Whether `n`'s conversation had a notification within the window.
    fn recent(&self, n: &Notification) -> bool {
        n.conversation_id
            .as_ref()
            .is_some_and(|c| self.last_by_conversation.contains_key(c))
    }

    fn show(&mut self, now: i64, n: &Notification) {
        self.sent.push_back(now);
        if let (Some(c), true) = (&n.conversation_id, self.per_conversation_ms > 0) {
            self.last_by_conversation.insert(c.clone(), now);
        }
    }

    /// Holds everything offered until `until` (ms), then [`Gate::tick`]
    /// shows it as one digest: a catch-up after a long time offline.
    pub fn digest(&mut self, until: i64) {
        self.digest_until = Some(until);
    }

    /// Offers new notifications; returns those to show now.
    pub fn offer(&mut self, now: i64, items: Vec<Notification>) -> Vec<Notification> {
        self.expire(now);
        let mut out = Vec::new();
        for n in items {
            let digesting = self.digest_until.is_some_and(|u| now < u);
            if !digesting && !self.recent(&n) && self.held.is_empty() && self.sent.len() < self.max
            {
                self.show(now, &n);
                out.push(n);
            } else {
                self.held.push(n);
            }
        }
        out
    }

    /// Call regularly: the summary of held notifications once the windows allow.
    pub fn tick(&mut self, now: i64) -> Option<Notification> {
        self.expire(now);
        let digest = match self.digest_until {
            Some(u) if now < u => return None,
            Some(_) => {
                self.digest_until = None;
                true
            }
            None => false,
        };
        if self.held.is_empty() || self.sent.len() >= self.max {
            return None;
        }
        // Not while a conversation in it had one a moment ago.
        if !digest && self.held.iter().any(|n| self.recent(n)) {
            return None;
        }
        if self.held.len() == 1 {
            let one = self.held.pop().expect("one held");
            self.show(now, &one);
            return Some(one);
        }
        let held = std::mem::take(&mut self.held);
        let conversations: HashSet<&str> = held
            .iter()
            .filter_map(|n| n.conversation_id.as_deref())
            .collect();
        let one_conversation =
            conversations.len() == 1 && held.iter().all(|n| n.conversation_id.is_some());
        let mut summary = if one_conversation {
            // One conversation: lead with what matters most there.
            let lead = held.iter().min_by_key(|n| n.rank).expect("several held");
            Notification {
                summary: lead.summary.clone(),
                body: format!("{} (and {} more)", lead.body, held.len() - 1),
                conversation_id: lead.conversation_id.clone(),
                rank: lead.rank,
                items: Vec::new(),
            }
        } else {
            Notification {
                summary: if digest {
                    format!("While you were away: {} updates", held.len())
                } else {
                    format!("{} new notifications", held.len())
                },
                body: format!(
                    "in {} conversation{}",
                    conversations.len(),
                    if conversations.len() == 1 { "" } else { "s" }
                ),
                conversation_id: None,
                rank: 9,
                items: Vec::new(),
            }
        };
        summary.items = held;
        self.show(now, &summary);
        Some(summary)
    }

    /// Notifications waiting for a window.
    pub fn held(&self) -> usize {
        self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(available: bool) -> Me {
        Me {
            agent_id: "me".into(),
            enabled: true,
            available,
        }
    }

    fn msg(id: &str, at: i64) -> CustomerMessage {
        CustomerMessage {
            id: id.into(),
            created_at: at,
            body: format!("body {id}"),
            logged_by: None,
        }
    }

    fn conv(assignee: Option<&str>, msgs: Vec<CustomerMessage>) -> ConversationFacts {
        ConversationFacts {
            id: "c1".into(),
            subject: "Refund".into(),
            customer_name: "Dana".into(),
            assignee: assignee.map(Into::into),
            last_activity: msgs.iter().map(|m| m.created_at).max().unwrap_or(0),
            customer_messages: msgs,
            troubles: Vec::new(),
            assigned_by: None,
            mentions: Vec::new(),
            conflicts: Vec::new(),
        }
    }

    fn known(assignee: Option<&str>, ids: &[&str]) -> Known {
        Known {
            assignee: assignee.map(Into::into),
            customer_entries: Some(ids.iter().map(|s| s.to_string()).collect()),
            last_activity: 0,
            troubles: HashSet::new(),
            mentions: HashSet::new(),
            conflicts: HashSet::new(),
        }
    }

    #[test]
    fn rules_table() {
        struct Case {
            name: &'static str,
            me: Me,
            before: Option<Known>,
            after: ConversationFacts,
            expect: Option<&'static str>,
        }
        let off = Me {
            enabled: false,
            ..me(true)
        };
        let mut mine_logged = msg("m2", 20);
        mine_logged.logged_by = Some("me".into());
        let mut held = conv(Some("ben"), vec![msg("m1", 10)]);
        held.troubles = vec![ReplyTrouble {
            id: "r1".into(),
            kind: Trouble::Held,
            reason: "Ben replied to the same message".into(),
        }];
        let mut held_known = known(Some("ben"), &["m1"]);
        held_known.troubles.insert(held.troubles[0].key());
        let mut failed = held.clone();
        failed.troubles[0].kind = Trouble::Failed;
        let mut at_risk = held.clone();
        at_risk.troubles[0].kind = Trouble::AtRisk;
        let mut both_took = conv(Some("ben"), vec![msg("m1", 10)]);
        both_took.conflicts = vec![FieldConflictFact {
            field: "assignee".into(),
            involves_me: true,
            text: "Ben and you both took this while offline; Ben has it".into(),
        }];
        let mut others_conflict = both_took.clone();
        others_conflict.conflicts[0].involves_me = false;
        let mut by_myself = conv(Some("me"), vec![msg("m1", 10)]);
        by_myself.assigned_by = Some("me".into());
        let mut mentioned = conv(Some("ben"), vec![msg("m1", 10)]);
        mentioned.mentions = vec![Mention {
            id: "n1".into(),
            author_name: "Ben".into(),
            body: "@me can you check <a href=x>this</a>?".into(),
            created_at: 20,
        }];
        let mut mention_known = known(Some("ben"), &["m1"]);
        mention_known.mentions.insert("n1".into());
        let cases = vec![
            Case {
                name: "new message, assigned to me",
                me: me(false),
                before: Some(known(Some("me"), &["m1"])),
                after: conv(Some("me"), vec![msg("m1", 10), msg("m2", 20)]),
                expect: Some("Dana: Refund"),
            },
            Case {
                name: "new message, unassigned, available",
                me: me(true),
                before: Some(known(None, &["m1"])),
                after: conv(None, vec![msg("m1", 10), msg("m2", 20)]),
                expect: Some("Dana: Refund"),
            },
            Case {
                name: "new message, unassigned, not available",
                me: me(false),
                before: Some(known(None, &["m1"])),
                after: conv(None, vec![msg("m1", 10), msg("m2", 20)]),
                expect: None,
            },
            Case {
                name: "new message, assigned to someone else",
                me: me(true),
                before: Some(known(Some("ben"), &["m1"])),
                after: conv(Some("ben"), vec![msg("m1", 10), msg("m2", 20)]),
                expect: None,
            },
            Case {
                name: "no new message (a note or a status change)",
                me: me(true),
                before: Some(known(Some("me"), &["m1"])),
                after: conv(Some("me"), vec![msg("m1", 10)]),
                expect: None,
            },
            Case {
                name: "a message merged in out of time order still counts",
                me: me(true),
                before: Some(known(Some("me"), &["m2"])),
                after: conv(Some("me"), vec![msg("m1", 5), msg("m2", 20)]),
                expect: Some("Dana: Refund"),
            },
            Case {
                name: "two new messages make one notification",
                me: me(true),
                before: Some(known(Some("me"), &[])),
                after: conv(Some("me"), vec![msg("m1", 10), msg("m2", 20)]),
                expect: Some("2 new messages: Refund"),
            },
            Case {
                name: "assigned to me by someone else",
                me: me(false),
                before: Some(known(Some("ben"), &["m1"])),
                after: conv(Some("me"), vec![msg("m1", 10)]),
                expect: Some("Assigned to you"),
            },
            Case {
                name: "already mine: no assignment notice",
                me: me(false),
                before: Some(known(Some("me"), &["m1"])),
                after: conv(Some("me"), vec![msg("m1", 10)]),
                expect: None,
            },
            Case {
                name: "a new conversation, unassigned, available",
                me: me(true),
                before: None,
                after: conv(None, vec![msg("m1", 10)]),
                expect: Some("Dana: Refund"),
            },
            Case {
                name: "baseline from the inbox row: only newer messages",
                me: me(true),
                before: Some(Known {
                    assignee: None,
                    customer_entries: None,
                    last_activity: 10,
                    troubles: HashSet::new(),
                    mentions: HashSet::new(),
                    conflicts: HashSet::new(),
                }),
                after: conv(None, vec![msg("m1", 10)]),
                expect: None,
            },
            Case {
                name: "baseline from the inbox row: a newer message",
                me: me(true),
                before: Some(Known {
                    assignee: None,
                    customer_entries: None,
                    last_activity: 10,
                    troubles: HashSet::new(),
                    mentions: HashSet::new(),
                    conflicts: HashSet::new(),
                }),
                after: conv(None, vec![msg("m1", 10), msg("m2", 11)]),
                expect: Some("Dana: Refund"),
            },
            Case {
                name: "a message I logged myself on another device",
                me: me(true),
                before: Some(known(Some("me"), &["m1"])),
                after: conv(Some("me"), vec![msg("m1", 10), mine_logged]),
                expect: None,
            },
            Case {
                name: "assigned to me by myself (another device)",
                me: me(false),
                before: Some(known(Some("ben"), &["m1"])),
                after: by_myself,
                expect: None,
            },
            Case {
                name: "a colleague mentions me in a note",
                me: me(false),
                before: Some(known(Some("ben"), &["m1"])),
                after: mentioned.clone(),
                expect: Some("Ben mentioned you: Refund"),
            },
            Case {
                name: "a mention already notified",
                me: me(false),
                before: Some(mention_known),
                after: mentioned,
                expect: None,
            },
            Case {
                name: "a colleague and I both took it offline",
                me: me(false),
                before: Some(known(Some("me"), &["m1"])),
                after: both_took,
                expect: Some("Conflicting changes: Refund"),
            },
            Case {
                name: "a conflict between others",
                me: me(false),
                before: Some(known(Some("ben"), &["m1"])),
                after: others_conflict,
                expect: None,
            },
            Case {
                name: "a reply of mine was held",
                me: me(false),
                before: Some(known(Some("ben"), &["m1"])),
                after: held.clone(),
                expect: Some("Your reply was held: Refund"),
            },
            Case {
                name: "a held reply already notified",
                me: me(false),
                before: Some(held_known.clone()),
                after: held,
                expect: None,
            },
            Case {
                name: "held, then released, then failed: notified again",
                me: me(false),
                before: Some(held_known),
                after: failed,
                expect: Some("Your reply could not be delivered: Refund"),
            },
            Case {
                name: "a sync brought news my queued reply had not seen",
                me: me(false),
                before: Some(known(Some("ben"), &["m1"])),
                after: at_risk,
                expect: Some("Your reply will be held: Refund"),
            },
            Case {
                name: "notifications off",
                me: off,
                before: Some(known(Some("me"), &["m1"])),
                after: conv(Some("me"), vec![msg("m1", 10), msg("m2", 20)]),
                expect: None,
            },
        ];
        for c in cases {
            let got = decide(&c.me, c.before.as_ref(), &c.after);
            assert_eq!(
                got.as_ref().map(|n| n.summary.as_str()),
                c.expect,
                "{}",
                c.name
            );
            if let Some(n) = got {
                assert_eq!(n.conversation_id.as_deref(), Some("c1"), "{}", c.name);
            }
        }
    }

    #[test]
    fn a_snooze_ending_notifies_unless_notifications_are_off() {
        let n = snooze_ended(&me(false), "c1", "Refund").unwrap();
        assert_eq!(n.summary, "Snooze ended: Refund");
        assert_eq!(n.conversation_id.as_deref(), Some("c1"));
        let off = Me {
            enabled: false,
            ..me(true)
        };
        assert_eq!(snooze_ended(&off, "c1", "Refund"), None);
    }

    #[test]
    fn markup_in_customer_text_stays_text() {
        assert_eq!(
            escape_markup("<a href=\"https://evil.example\">Refund</a> & 'more'"),
            "&lt;a href=&quot;https://evil.example&quot;&gt;Refund&lt;/a&gt; &amp; &#39;more&#39;"
        );
        assert_eq!(escape_markup("plain — text"), "plain — text");
    }

    fn n(i: usize) -> Notification {
        Notification {
            summary: format!("n{i}"),
            body: String::new(),
            conversation_id: Some(format!("c{}", i % 2)),
            rank: 5,
            items: Vec::new(),
        }
    }

    #[test]
    fn gate_coalesces_a_burst_into_one_summary() {
        let mut gate = Gate::new(3, 10_000, 0);
        let shown = gate.offer(0, (0..8).map(n).collect());
        assert_eq!(shown.len(), 3, "the first three go out");
        assert_eq!(gate.held(), 5);
        assert_eq!(gate.tick(5_000), None, "window still full");
        let summary = gate.tick(10_000).expect("summary once the window frees");
        assert_eq!(summary.summary, "5 new notifications");
        assert_eq!(summary.body, "in 2 conversations");
        assert_eq!(summary.conversation_id, None);
        assert_eq!(gate.held(), 0);
        assert_eq!(gate.tick(20_000), None);
    }

    #[test]
    fn gate_passes_a_trickle() {
        let mut gate = Gate::new(3, 10_000, 0);
        for i in 0..10 {
            let shown = gate.offer(i as i64 * 4_000, vec![n(i)]);
            assert_eq!(shown, vec![n(i)], "one every 4 s never waits");
        }
        // A single held notification goes out as itself, not as a summary.
        let mut gate = Gate::new(1, 10_000, 0);
        assert_eq!(gate.offer(0, vec![n(0), n(1)]).len(), 1);
        assert_eq!(gate.tick(10_000), Some(n(1)));
    }

    fn in_conv(conv: &str, summary: &str) -> Notification {
        Notification {
            summary: summary.into(),
            body: String::new(),
            conversation_id: Some(conv.into()),
            rank: 5,
            items: Vec::new(),
        }
    }

    #[test]
    fn gate_shows_one_per_conversation_per_window() {
        let mut gate = Gate::new(3, 10_000, 30_000);
        let shown = gate.offer(
            0,
            vec![in_conv("c1", "a"), in_conv("c1", "b"), in_conv("c2", "c")],
        );
        let summaries: Vec<&str> = shown.iter().map(|n| n.summary.as_str()).collect();
        assert_eq!(
            summaries,
            ["a"],
            "c1's second waits, and what follows waits behind it"
        );
        assert_eq!(gate.tick(20_000), None, "still inside c1's window");
        let later = gate.tick(30_000).expect("the window passed");
        assert_eq!(later.summary, "2 new notifications");
        assert_eq!(later.body, "in 2 conversations");
        // A lone held one for a quiet conversation goes out as itself.
        let mut gate = Gate::new(3, 10_000, 30_000);
        gate.offer(0, vec![in_conv("c1", "a")]);
        assert!(gate.offer(5_000, vec![in_conv("c1", "b")]).is_empty());
        assert_eq!(gate.tick(29_999), None);
        assert_eq!(gate.tick(30_000).unwrap().summary, "b");
        // Several for one conversation lead with the one that matters most.
        let mut gate = Gate::new(3, 10_000, 30_000);
        gate.offer(0, vec![in_conv("c1", "new message")]);
        let mut held = in_conv("c1", "Your reply was held");
        held.rank = 0;
        gate.offer(1_000, vec![in_conv("c1", "will be held"), held]);
        let lead = gate.tick(30_000).unwrap();
        assert_eq!(lead.summary, "Your reply was held");
        assert_eq!(lead.body, " (and 1 more)");
        assert_eq!(lead.conversation_id.as_deref(), Some("c1"));
    }

    #[test]
    fn gate_digests_a_catch_up() {
        let mut gate = Gate::new(3, 10_000, 30_000);
        gate.digest(15_000);
        let shown = gate.offer(1_000, (0..12).map(n).collect());
        assert!(shown.is_empty(), "nothing while catching up");
        assert_eq!(gate.tick(14_000), None);
        let digest = gate.tick(15_000).unwrap();
        assert_eq!(digest.summary, "While you were away: 12 updates");
        assert_eq!(digest.items.len(), 12, "a click lists what it summarises");
        assert_eq!(digest.body, "in 2 conversations");
        assert_eq!(gate.held(), 0);
        // Afterwards, business as usual.
        assert_eq!(gate.offer(16_000, vec![in_conv("c9", "x")]).len(), 1);
    }
}
