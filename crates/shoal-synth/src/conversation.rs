//! The conversation stream: structure, timing, status and tags of each
//! conversation, generated one at a time.

use std::iter::FusedIterator;

use rand::Rng;

use crate::message::{customer_message, note_message, reply_message, CustomerMessage, Quote};
use crate::text::{expand, log_uniform, pick, stream_rng, Ctx, Scratch, Stream};
use crate::vocabulary::{self as v, Topic};
use crate::{team, SynthConfig, SynthConversation, SynthEntry, SynthEntryKind, SynthTeam, DAY_MS};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// Longest conversation in typical configurations; when the average length
/// exceeds half of this, twice the average is the cap instead.
const MAX_ENTRIES: usize = 40;

/// Share of entries after the first that are internal notes (the first entry
/// is always the customer's, so overall about 10% are notes).
const NOTE_SHARE: f64 = 0.11;

/// The stream of conversations of a [`SynthConfig`], built lazily one at a
/// time so a large team never sits in memory as a whole. Holds the team
/// (agents and customers) and one entry count per conversation.
///
/// Every conversation is generated from its own random stream, so skipping
/// ahead with [`Iterator::nth`] is cheap and yields the same items as
/// iterating.
pub struct Conversations {
    cfg: SynthConfig,
    team: SynthTeam,
    counts: Vec<usize>,
    next: usize,
    scratch: Scratch,
}

/// Streams `cfg.conversations` conversations holding exactly `cfg.messages`
/// entries in total (at least one each: if `cfg.messages` is smaller than
/// `cfg.conversations`, every conversation has a single entry). Indices in
/// the conversations refer to [`team`]`(cfg)`, which this regenerates.
pub fn conversations(cfg: &SynthConfig) -> Conversations {
    Conversations {
        cfg: *cfg,
        team: team(cfg),
        counts: entry_counts(cfg.seed, cfg.conversations, cfg.messages),
        next: 0,
        scratch: Scratch::default(),
    }
}

impl Iterator for Conversations {
    type Item = SynthConversation;

    fn next(&mut self) -> Option<SynthConversation> {
        let index = self.next;
        let &count = self.counts.get(index)?;
        self.next += 1;
        Some(build(
            &self.cfg,
            &self.team,
            index,
            count,
            &mut self.scratch,
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.counts.len() - self.next;
        (left, Some(left))
    }

    fn nth(&mut self, n: usize) -> Option<SynthConversation> {
        self.next = self.next.saturating_add(n).min(self.counts.len());
        self.next()
    }
}

impl ExactSizeIterator for Conversations {}

impl FusedIterator for Conversations {}

/// How many entries each of `conversations` conversations gets, summing to
/// exactly `messages` (or `conversations` if that is larger). Lengths are
/// skewed like real threads: many short ones, a long tail.
pub(crate) fn entry_counts(seed: u64, conversations: usize, messages: usize) -> Vec<usize> {
    let n = conversations;
    if n == 0 {
        return Vec::new();
    }
    let total = messages.max(n);
    let mean = total as f64 / n as f64;
    let cap = ((2.0 * mean).ceil() as usize).max(MAX_ENTRIES);
    let hi = ((4.0 * mean).round() as u64).clamp(2, cap as u64);
    let mut rng = stream_rng(seed, Stream::MessageCounts);
    // Drawn in thousandths so rescaling to the exact mean does not bunch
    // lengths on a few values.
    let raw: Vec<u64> = (0..n)
        .map(|_| log_uniform(&mut rng, 1_000, hi * 1_000))
        .collect();
    let ratio = total as f64 / raw.iter().sum::<u64>() as f64;
    let mut counts: Vec<usize> = raw
        .iter()
        .map(|&r| ((r as f64 * ratio).round() as usize).clamp(1, cap))
        .collect();
    // Fix the rounding error one step at a time on random conversations.
    let mut sum: usize = counts.iter().sum();
    let mut misses = 0;
    while sum != total && misses < 64 * n {
        let c = &mut counts[rng.random_range(0..n)];
        if sum < total && *c < cap {
            *c += 1;
            sum += 1;
        } else if sum > total && *c > 1 {
            *c -= 1;
            sum -= 1;
        } else {
            misses += 1;
        }
    }
    // Unreachable in practice; guarantees the exact total regardless.
    for c in &mut counts {
        if sum < total {
            let step = (cap - *c).min(total - sum);
            *c += step;
            sum += step;
        } else if sum > total {
            let step = (*c - 1).min(sum - total);
            *c -= step;
            sum -= step;
        }
    }
    counts
}

/// One planned entry before its text is written.
struct Slot {
    kind: SynthEntryKind,
    /// Milliseconds after the conversation starts.
    offset: i64,
    agent: Option<usize>,
    /// Colleague a note `@mentions`.
    mention: Option<usize>,
}

fn build(
    cfg: &SynthConfig,
    team: &SynthTeam,
    index: usize,
    count: usize,
    scratch: &mut Scratch,
) -> SynthConversation {
    use SynthEntryKind::{Customer, Note, Reply};

    let rng = &mut stream_rng(cfg.seed, Stream::Conversation(index));
    let topic = pick_topic(rng);
    let aside = rng
        .random_bool(0.12)
        .then(|| pick_topic(rng))
        .filter(|t| !std::ptr::eq(*t, topic));
    let customer = pick_customer(rng, team.customers.len());
    let cust = &team.customers[customer];
    let tier = cust.tier.as_deref();
    let channel = match rng.random_range(0..100) {
        0..78 => "email",
        78..91 => "chat",
        _ => "phone",
    };
    // Enterprise customers skew towards higher priorities.
    let bump = if tier == Some("enterprise") { 8 } else { 0 };
    let priority = match rng.random_range(0..100) + bump {
        0..15 => "low",
        15..76 => "normal",
        76..95 => "high",
        _ => "urgent",
    };
    let agents = team.agents.len();
    let assignee = (agents > 0 && rng.random_bool(0.7)).then(|| rng.random_range(0..agents));
    // Unassigned conversations still have someone answering them.
    let handler = match assignee {
        Some(a) => a,
        None if agents > 0 => rng.random_range(0..agents),
        None => 0,
    };

    let slots = plan(rng, count, agents, handler);
    let span = i64::from(cfg.span_days) * DAY_MS;
    let end_ms = cfg.start_ms + span;
    let length = slots.last().map_or(0, |s| s.offset);
    // Spread conversations evenly over the span in index order, moving long
    // threads earlier so they end before the span does.
    let spot = (index as f64 + rng.random::<f64>()) / cfg.conversations as f64;
    let start = (cfg.start_ms + (spot * span as f64) as i64)
        .min(end_ms - length)
        .max(cfg.start_ms);
    let room = end_ms - start;
    let at = |offset: i64| {
        if length <= room {
            start + offset
        } else {
            // A thread longer than the whole span is compressed to fit.
            start + (i128::from(offset) * i128::from(room) / i128::from(length)) as i64
        }
    };

    let base = Ctx {
        brand: team.brand(),
        first: cust.first_name(),
        full: &cust.name,
        company: cust.company.as_deref(),
        agent: "",
        mention: None,
    };

    let mut subject = String::new();
    if priority == "urgent" && rng.random_bool(0.5) {
        subject.push_str("Urgent: ");
    }
    expand(&mut subject, pick(rng, topic.subjects), &base, rng);

    scratch.start_conversation();
    let mut entries: Vec<SynthEntry> = Vec::with_capacity(slots.len());
    let mut last_reply: Option<usize> = None;
    let mut last_public = Customer;
    for (j, slot) in slots.iter().enumerate() {
        let body = match slot.kind {
            Customer => {
                let addressed = last_reply.and_then(|r| entries[r].agent).unwrap_or(handler);
                let quote = match last_reply {
                    Some(r) if channel == "email" && last_public == Reply => {
                        rng.random_bool(0.45).then(|| {
                            let e = &entries[r];
                            let a = &team.agents[e.agent.unwrap_or(handler)];
                            Quote {
                                body: &e.body,
                                author: &a.name,
                                email: &a.email,
                                at_ms: e.at_ms,
                            }
                        })
                    }
                    _ => None,
                };
                let c = Ctx {
                    agent: team
                        .agents
                        .get(addressed)
                        .map_or("there", |a| a.first_name()),
                    ..base
                };
                let m = CustomerMessage {
                    topic,
                    aside: aside.filter(|_| j == 0),
                    opening: j == 0,
                    channel,
                    quote,
                };
                customer_message(rng, scratch, &c, &m)
            }
            Reply => {
                let agent = &team.agents[slot.agent.unwrap_or(handler)];
                let c = Ctx {
                    agent: agent.first_name(),
                    ..base
                };
                reply_message(rng, scratch, &c, topic, last_reply.is_none(), &team.name)
            }
            Note => {
                let agent = &team.agents[slot.agent.unwrap_or(handler)];
                let c = Ctx {
                    agent: agent.first_name(),
                    mention: slot.mention.map(|m| team.agents[m].handle()),
                    ..base
                };
                note_message(rng, scratch, &c, topic)
            }
        };
        match slot.kind {
            Reply => {
                last_reply = Some(entries.len());
                last_public = Reply;
            }
            Customer => last_public = Customer,
            Note => {}
        }
        entries.push(SynthEntry {
            kind: slot.kind,
            agent: slot.agent,
            body,
            at_ms: at(slot.offset),
        });
    }

    let last_at = entries.last().map_or(start, |e| e.at_ms);
    let recent = end_ms - last_at <= 7 * DAY_MS;
    let awaiting_us = last_public == Customer;
    let roll = rng.random_range(0..100);
    let status = match (recent, awaiting_us) {
        (false, _) if roll < 95 => "closed",
        (false, true) => "open",
        (false, false) => "pending",
        (true, true) => match roll {
            0..75 => "open",
            75..83 => "snoozed",
            _ => "closed",
        },
        (true, false) => match roll {
            0..55 => "pending",
            55..90 => "closed",
            _ => "snoozed",
        },
    };
    // Snoozes end in the future of both the thread and the dataset's "now".
    let snooze_until = (status == "snoozed").then(|| {
        last_at.max(end_ms) + log_uniform(rng, 2 * HOUR_MS as u64, 6 * DAY_MS as u64) as i64
    });

    SynthConversation {
        subject,
        customer,
        channel,
        status,
        snooze_until_ms: snooze_until,
        assignee,
        priority,
        tags: tags(rng, topic, aside, priority, tier),
        entries,
    }
}

/// The kinds, relative times and authors of a conversation's entries: a
/// customer message first, then mostly alternating replies and follow-ups
/// with occasional internal notes.
fn plan<R: Rng + ?Sized>(rng: &mut R, count: usize, agents: usize, handler: usize) -> Vec<Slot> {
    use SynthEntryKind::{Customer, Note, Reply};

    let mut slots = Vec::with_capacity(count);
    slots.push(Slot {
        kind: Customer,
        offset: 0,
        agent: None,
        mention: None,
    });
    let (mut offset, mut prev, mut last_public) = (0, Customer, Customer);
    for _ in 1..count {
        let kind = if agents == 0 {
            Customer
        } else if rng.random_bool(NOTE_SHARE) {
            Note
        } else if last_public == Customer {
            if rng.random_bool(0.88) {
                Reply
            } else {
                Customer
            }
        } else if rng.random_bool(0.8) {
            Customer
        } else {
            Reply
        };
        // Replies answer within minutes to a day; customers take longer.
        let (lo, hi) = match (prev, kind) {
            (_, Note) => (MINUTE_MS, 3 * HOUR_MS),
            (Customer, Reply) => (3 * MINUTE_MS, 22 * HOUR_MS),
            (_, Reply) => (5 * MINUTE_MS, 6 * HOUR_MS),
            (Customer, Customer) => (HOUR_MS, 2 * DAY_MS),
            (_, Customer) => (10 * MINUTE_MS, 3 * DAY_MS),
        };
        offset += log_uniform(rng, lo as u64, hi as u64) as i64;
        let agent = match kind {
            Customer => None,
            Reply if rng.random_bool(0.85) => Some(handler),
            Note if rng.random_bool(0.6) => Some(handler),
            _ => Some(rng.random_range(0..agents)),
        };
        let mention = match agent {
            Some(author) if kind == Note && agents > 1 && rng.random_bool(0.45) => {
                Some((author + rng.random_range(1..agents)) % agents)
            }
            _ => None,
        };
        slots.push(Slot {
            kind,
            offset,
            agent,
            mention,
        });
        prev = kind;
        if kind != Note {
            last_public = kind;
        }
    }
    slots
}

fn pick_topic<R: Rng + ?Sized>(rng: &mut R) -> &'static Topic {
    let total: u32 = v::TOPICS.iter().map(|t| t.weight).sum();
    let mut roll = rng.random_range(0..total);
    for topic in v::TOPICS {
        if roll < topic.weight {
            return topic;
        }
        roll -= topic.weight;
    }
    unreachable!("roll is below the total weight")
}

/// A few regular customers write in far more often than the rest.
fn pick_customer<R: Rng + ?Sized>(rng: &mut R, customers: usize) -> usize {
    let regulars = (customers / 10).max(3).min(customers);
    if rng.random_bool(0.3) {
        rng.random_range(0..regulars)
    } else {
        rng.random_range(0..customers)
    }
}

/// Zero to three distinct tags: the topic's own first, then ones implied by
/// priority, tier or a second topic, then random ones.
fn tags<R: Rng + ?Sized>(
    rng: &mut R,
    topic: &Topic,
    aside: Option<&Topic>,
    priority: &str,
    tier: Option<&str>,
) -> Vec<String> {
    let wanted = match rng.random_range(0..100) {
        0..22 => 0,
        22..72 => 1,
        72..93 => 2,
        _ => 3,
    };
    let implied = [
        topic.tag,
        (priority == "urgent").then_some("urgent"),
        (tier == Some("enterprise")).then_some("vip"),
        aside.and_then(|a| a.tag),
    ];
    let mut tags: Vec<&str> = Vec::with_capacity(wanted);
    for tag in implied.into_iter().flatten() {
        if tags.len() < wanted && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    while tags.len() < wanted {
        let tag = pick(rng, v::TAGS);
        // "urgent" and "vip" only where they are true.
        if !tags.contains(&tag) && tag != "urgent" && tag != "vip" {
            tags.push(tag);
        }
    }
    tags.into_iter().map(String::from).collect()
}
