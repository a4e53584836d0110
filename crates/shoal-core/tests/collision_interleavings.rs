//! Random interleavings of two or three agents replying, looking, syncing and
//! deciding about held replies, a customer writing again, and the relay's
//! outbox (undo window, the collision rule, sending) — all in memory, on the
//! real documents and the real rule the relay runs (`outbox_verdict`).
//!
//! What must hold whatever the order:
//! - among the replies e-mailed for one customer message, any two by
//!   different agents were written one after the other (one had seen the
//!   other) unless someone chose "send anyway": no double answer by accident;
//! - each reply is e-mailed at most once, and none stays queued for ever;
//! - no reply text is lost, and every replica ends with the same document.
//!
//! `PROPTEST_CASES` sets the number of runs (64 by default here; the long
//! run in docs/collisions.md uses 5,000).

use proptest::prelude::*;
use shoal_core::automerge::ActorId;
use shoal_core::{
    outbox_verdict, AgentId, Channel, ConversationDoc, ConversationId, CoreError, Ctx, CustomerId,
    DeliveryState, Document, EmailHeaders, EntryId, EntryKind, NewConversation, Priority,
    SendGuard, Timestamp,
};
use std::collections::{BTreeMap, BTreeSet};

/// Outbox ticks between the relay first seeing a reply and sending it.
const UNDO_TICKS: u64 = 2;

#[derive(Clone, Debug)]
enum Op {
    /// Agent `a` looks at the conversation (everything in their replica).
    View(usize),
    /// Agent `a` replies, behind the send guard or sending anyway.
    Reply(usize, bool),
    /// Agent `a` syncs with the relay (both ways).
    Sync(usize),
    /// The customer writes again (with a Date header `skew` ms off).
    Customer(i64),
    /// One round of the relay's outbox.
    Tick,
    /// Agent `a` withdraws their newest queued reply.
    Unsend(usize),
    /// Agent `a` sends a held reply of theirs anyway (edited or not).
    Release(usize, bool),
    /// Agent `a` discards a held reply of theirs.
    Discard(usize),
}

fn op(agents: usize) -> impl Strategy<Value = Op> {
    let a = 0..agents;
    prop_oneof![
        2 => a.clone().prop_map(Op::View),
        3 => (a.clone(), any::<bool>()).prop_map(|(a, f)| Op::Reply(a, f)),
        4 => a.clone().prop_map(Op::Sync),
        1 => (-3_600_000i64..3_600_000).prop_map(Op::Customer),
        4 => Just(Op::Tick),
        1 => a.clone().prop_map(Op::Unsend),
        1 => (a.clone(), any::<bool>()).prop_map(|(a, e)| Op::Release(a, e)),
        1 => a.prop_map(Op::Discard),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Row {
    Waiting { due: u64 },
    Sent,
    Held,
    Done,
}

/// One e-mail the outbox sent, with what the reply said about itself then.
struct Mail {
    entry: EntryId,
    author: String,
    answers: Option<EntryId>,
    had_seen: BTreeSet<EntryId>,
    released: bool,
}

struct World {
    relay: ConversationDoc,
    agents: Vec<ConversationDoc>,
    names: Vec<AgentId>,
    tick: u64,
    outbox: BTreeMap<EntryId, Row>,
    mails: Vec<Mail>,
    /// Every reply written, with its author and latest text.
    written: BTreeMap<EntryId, (String, String)>,
}

impl World {
    fn new(agents: usize) -> World {
        let relay_ctx = Ctx::new(AgentId::parse("relay").unwrap(), Timestamp(0));
        let (mut relay, _) = ConversationDoc::create(
            ActorId::random(),
            &relay_ctx,
            NewConversation {
                id: ConversationId::random(),
                subject: "Charged twice".into(),
                channel: Channel::Email,
                customer: CustomerId::parse("maria").unwrap(),
                body: "I see two charges.".into(),
                received_at: Timestamp(0),
                headers: EmailHeaders::default(),
                priority: Priority::Normal,
            },
        )
        .unwrap();
        let names: Vec<AgentId> = ["ana", "ben", "cleo"][..agents]
            .iter()
            .map(|n| AgentId::parse(n).unwrap())
            .collect();
        let docs = (0..agents)
            .map(|_| {
                ConversationDoc::from_automerge(
                    relay.automerge_mut().fork().with_actor(ActorId::random()),
                )
                .unwrap()
            })
            .collect();
        World {
            relay,
            agents: docs,
            names,
            tick: 0,
            outbox: BTreeMap::new(),
            mails: Vec::new(),
            written: BTreeMap::new(),
        }
    }

    fn ctx(&self, a: usize) -> Ctx {
        // Clocks disagree on purpose: agent `a` runs `a` hours behind.
        let skew = a as i64 * 3_600_000;
        Ctx::new(
            self.names[a].clone(),
            Timestamp(1_000_000_000 + self.tick as i64 * 1_000 - skew),
        )
    }

    fn relay_ctx(&self) -> Ctx {
        Ctx::new(
            AgentId::parse("relay").unwrap(),
            Timestamp(1_000_000_000 + self.tick as i64 * 1_000),
        )
    }

    fn sync(&mut self, a: usize) {
        let doc = &mut self.agents[a];
        self.relay
            .automerge_mut()
            .merge(doc.automerge_mut())
            .unwrap();
        doc.automerge_mut()
            .merge(self.relay.automerge_mut())
            .unwrap();
    }

    fn my_replies(&self, a: usize, state: DeliveryState) -> Vec<EntryId> {
        let me = self.names[a].as_str();
        self.agents[a]
            .view()
            .unwrap()
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::Reply && e.author == me)
            .filter(|e| e.delivery_state() == Some(state))
            .map(|e| e.id.clone())
            .collect()
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::View(a) => {
                let ctx = self.ctx(a);
                let doc = &mut self.agents[a];
                let shown: Vec<EntryId> = doc
                    .view()
                    .unwrap()
                    .entries
                    .iter()
                    .map(|e| e.id.clone())
                    .collect();
                doc.mark_seen(&ctx, &shown).unwrap();
            }
            Op::Reply(a, force) => {
                let ctx = self.ctx(a);
                let guard = if force {
                    SendGuard::Force
                } else {
                    SendGuard::Check
                };
                let body = format!("reply {} by {}", self.written.len(), self.names[a]);
                match self.agents[a].add_reply(&ctx, &body, None, guard) {
                    Ok(id) => {
                        self.written.insert(id, (self.names[a].to_string(), body));
                    }
                    Err(CoreError::Unseen(ids)) => assert!(!force && !ids.is_empty()),
                    Err(e) => panic!("reply refused: {e}"),
                }
            }
            Op::Sync(a) => self.sync(a),
            Op::Customer(skew) => {
                let ctx = self.relay_ctx();
                let at = Timestamp(ctx.now.as_millis() + skew);
                self.relay
                    .add_customer_message(&ctx, "Any news?", at, &EmailHeaders::default())
                    .unwrap();
            }
            Op::Tick => self.outbox_round(),
            Op::Unsend(a) => {
                if let Some(id) = self.my_replies(a, DeliveryState::Queued).pop() {
                    let ctx = self.ctx(a);
                    self.agents[a].unsend(&ctx, &id).unwrap();
                }
            }
            Op::Release(a, edit) => {
                if let Some(id) = self.my_replies(a, DeliveryState::Held).pop() {
                    let ctx = self.ctx(a);
                    let text = edit.then(|| format!("edited {id}"));
                    self.agents[a]
                        .release_reply(&ctx, &id, text.as_deref(), false)
                        .unwrap();
                    if let Some(t) = text {
                        self.written.get_mut(&id).unwrap().1 = t;
                    }
                }
            }
            Op::Discard(a) => {
                if let Some(id) = self.my_replies(a, DeliveryState::Held).pop() {
                    let ctx = self.ctx(a);
                    self.agents[a].discard_reply(&ctx, &id, false).unwrap();
                }
            }
        }
    }

    /// One round of the relay's outbox, as `sync-server/src/mail/outbox.rs`
    /// runs it: find queued replies (first sight starts the undo window;
    /// a released one starts a fresh one), then decide each due reply.
    fn outbox_round(&mut self) {
        self.tick += 1;
        let view = self.relay.view().unwrap();
        for e in view.entries.iter().filter(|e| e.kind == EntryKind::Reply) {
            if e.delivery_state() == Some(DeliveryState::Cancelled)
                && self.outbox.get(&e.id) == Some(&Row::Sent)
            {
                // Withdrawn on a replica that did not know it had gone out.
                let ctx = self.relay_ctx();
                let why = Some("withdrawn after it had been sent");
                self.relay
                    .set_delivery(&ctx, &e.id, DeliveryState::Sent, why)
                    .unwrap();
                continue;
            }
            if e.delivery_state() != Some(DeliveryState::Queued) {
                continue;
            }
            let due = self.tick + UNDO_TICKS;
            match self.outbox.get(&e.id) {
                None | Some(Row::Held) => {
                    self.outbox.insert(e.id.clone(), Row::Waiting { due });
                }
                _ => {}
            }
            let ctx = self.relay_ctx();
            self.relay.accept_reply(&ctx, &e.id).unwrap();
        }
        let mut due: Vec<(u64, EntryId)> = self
            .outbox
            .iter()
            .filter_map(|(id, row)| match row {
                Row::Waiting { due } if *due <= self.tick => Some((*due, id.clone())),
                _ => None,
            })
            .collect();
        due.sort();
        for (_, id) in due {
            let view = self.relay.view().unwrap();
            let reply = view.entry(&id).unwrap();
            match reply.delivery_state() {
                Some(DeliveryState::Queued) => {}
                Some(DeliveryState::Held) => {
                    self.outbox.insert(id, Row::Held);
                    continue;
                }
                _ => {
                    self.outbox.insert(id, Row::Done);
                    continue;
                }
            }
            let on_its_way = |e: &EntryId| self.outbox.get(e) == Some(&Row::Sent);
            let ctx = self.relay_ctx();
            if let Some(collision) = outbox_verdict(&view, &id, on_its_way) {
                self.relay
                    .hold_reply(
                        &ctx,
                        &id,
                        &collision.describe(|a| a.to_string()),
                        Some(collision.entry()),
                    )
                    .unwrap();
                self.outbox.insert(id, Row::Held);
            } else {
                self.mails.push(Mail {
                    entry: id.clone(),
                    author: reply.author.clone(),
                    answers: reply.answers.clone(),
                    had_seen: reply
                        .had_seen
                        .clone()
                        .unwrap_or_default()
                        .into_iter()
                        .collect(),
                    released: reply.delivery.as_ref().unwrap().released_by.is_some(),
                });
                self.relay
                    .set_delivery(&ctx, &id, DeliveryState::Sent, None)
                    .unwrap();
                self.outbox.insert(id, Row::Sent);
            }
        }
    }

    /// Everyone syncs, and the outbox runs until nothing is waiting.
    fn settle(&mut self) {
        for _ in 0..3 {
            for a in 0..self.agents.len() {
                self.sync(a);
            }
            for _ in 0..=UNDO_TICKS + 1 {
                self.outbox_round();
            }
        }
        for a in 0..self.agents.len() {
            self.sync(a);
        }
    }
}

fn check(world: &World) -> Result<(), TestCaseError> {
    // Each reply at most once.
    let mut sent = BTreeSet::new();
    for m in &world.mails {
        prop_assert!(sent.insert(m.entry.clone()), "{} e-mailed twice", m.entry);
    }
    // No double answer by accident.
    for (i, a) in world.mails.iter().enumerate() {
        for b in &world.mails[i + 1..] {
            if a.author == b.author || a.answers != b.answers || a.released || b.released {
                continue;
            }
            prop_assert!(
                a.had_seen.contains(&b.entry) || b.had_seen.contains(&a.entry),
                "{} and {} both answered {:?} without seeing each other",
                a.entry,
                b.entry,
                a.answers
            );
        }
    }
    // Same document everywhere; nothing lost; nothing stuck.
    let relay = world.relay.view().unwrap();
    for doc in &world.agents {
        prop_assert_eq!(&doc.view().unwrap(), &relay);
    }
    for (id, (author, body)) in &world.written {
        let e = relay.entry(id);
        prop_assert!(e.is_some(), "reply {} was lost", id);
        let e = e.unwrap();
        prop_assert_eq!(&e.author, author);
        prop_assert_eq!(&e.body, body);
        let state = e.delivery_state().unwrap();
        prop_assert!(
            matches!(
                state,
                DeliveryState::Sent | DeliveryState::Held | DeliveryState::Cancelled
            ),
            "reply {} is still {}",
            id,
            state
        );
        prop_assert_eq!(state == DeliveryState::Sent, sent.contains(id));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_accidental_double_answer_nothing_lost(
        (agents, ops) in (2usize..=3).prop_flat_map(|n| (Just(n), prop::collection::vec(op(n), 1..40)))
    ) {
        let mut world = World::new(agents);
        for op in &ops {
            world.apply(op);
        }
        world.settle();
        check(&world)?;
    }
}

/// The scenario of the issue, spelled out: both offline, both answer; the
/// one the relay sees first goes out, the other is held with a reason.
#[test]
fn two_offline_answers_one_email_one_held() {
    let mut w = World::new(2);
    w.apply(&Op::View(0));
    w.apply(&Op::View(1));
    w.apply(&Op::Reply(0, false));
    w.apply(&Op::Reply(1, false));
    w.apply(&Op::Sync(1));
    w.apply(&Op::Tick);
    w.apply(&Op::Sync(0));
    w.settle();
    check(&w).unwrap();
    assert_eq!(w.mails.len(), 1);
    assert_eq!(w.mails[0].author, "ben", "Ben's reached the relay first");
    let held = w.my_replies(0, DeliveryState::Held);
    assert_eq!(held.len(), 1, "Ana's is held, in her replica");
    let reason = w.agents[0]
        .view()
        .unwrap()
        .entry(&held[0])
        .unwrap()
        .delivery
        .clone()
        .unwrap();
    assert!(reason.reason.unwrap().starts_with("ben replied"));
    // Ana sends hers anyway: two e-mails, by choice.
    w.apply(&Op::Release(0, true));
    w.settle();
    check(&w).unwrap();
    assert_eq!(w.mails.len(), 2);
}
