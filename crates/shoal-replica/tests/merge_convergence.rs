//! Merge correctness: three replicas apply random operations and exchange
//! changes in random orders, partially and out of causal order; once every
//! change has reached everyone, all replicas hold identical documents and
//! identical derived query tables.

mod common;

use common::*;
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shoal_core::{
    AgentId, Channel, ConversationId, CustomerId, CustomerPatch, DocKind, Priority, SendGuard,
    Status, StatusChange, Timestamp,
};
use shoal_replica::{NewConversationInput, Replica, ReplicaError};

#[derive(Clone, Debug)]
enum Op {
    NewConversation {
        customer: usize,
    },
    CustomerMessage {
        conv: usize,
    },
    Reply {
        conv: usize,
    },
    Note {
        conv: usize,
        mention: usize,
    },
    Assign {
        conv: usize,
        agent: Option<usize>,
    },
    SetStatus {
        conv: usize,
        status: usize,
    },
    Tag {
        conv: usize,
        tag: usize,
    },
    Untag {
        conv: usize,
        tag: usize,
    },
    Priority {
        conv: usize,
        priority: usize,
    },
    Seen {
        conv: usize,
    },
    EditCustomer {
        customer: usize,
        name: usize,
    },
    SpliceNotes {
        customer: usize,
        at: usize,
        delete: usize,
        text: usize,
    },
    /// Deliver a random share of `from`'s changes to `to`, shuffled.
    Sync {
        from: usize,
        to: usize,
        seed: u64,
        share: u8,
    },
}

const TAGS: [&str; 4] = ["billing", "bug", "vip", "refund"];
const WORDS: [&str; 6] = ["alpha ", "beta ", "gamma ", "δέλτα ", "\n", "epsilon, "];
const NAMES: [&str; 3] = ["Maria Garcia", "María García", "M. Garcia"];

fn op() -> impl Strategy<Value = (usize, Op)> {
    let who = 0..3usize;
    let idx = 0..8usize;
    let any_op = prop_oneof![
        (0..3usize).prop_map(|customer| Op::NewConversation { customer }),
        idx.clone().prop_map(|conv| Op::CustomerMessage { conv }),
        idx.clone().prop_map(|conv| Op::Reply { conv }),
        (idx.clone(), 0..4usize).prop_map(|(conv, mention)| Op::Note { conv, mention }),
        (idx.clone(), proptest::option::of(0..3usize))
            .prop_map(|(conv, agent)| Op::Assign { conv, agent }),
        (idx.clone(), 0..4usize).prop_map(|(conv, status)| Op::SetStatus { conv, status }),
        (idx.clone(), 0..4usize).prop_map(|(conv, tag)| Op::Tag { conv, tag }),
        (idx.clone(), 0..4usize).prop_map(|(conv, tag)| Op::Untag { conv, tag }),
        (idx.clone(), 0..4usize).prop_map(|(conv, priority)| Op::Priority { conv, priority }),
        idx.clone().prop_map(|conv| Op::Seen { conv }),
        (0..3usize, 0..3usize).prop_map(|(customer, name)| Op::EditCustomer { customer, name }),
        (0..3usize, 0..64usize, 0..4usize, 0..6usize).prop_map(|(customer, at, delete, text)| {
            Op::SpliceNotes {
                customer,
                at,
                delete,
                text,
            }
        }),
        (0..3usize, 0..3usize, any::<u64>(), 0..=100u8).prop_map(|(from, to, seed, share)| {
            Op::Sync {
                from,
                to,
                seed,
                share,
            }
        }),
    ];
    (who, any_op)
}

fn nth<T: Clone>(items: &[T], i: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[i % items.len()].clone())
}

fn conversations(r: &Replica) -> Vec<ConversationId> {
    r.doc_ids(Some(DocKind::Conversation))
        .unwrap()
        .into_iter()
        .filter_map(|d| ConversationId::parse(d.key()).ok())
        .filter(|c| r.conversation(c).is_ok())
        .collect()
}

fn customers(r: &Replica) -> Vec<CustomerId> {
    r.doc_ids(Some(DocKind::Customer))
        .unwrap()
        .into_iter()
        .filter_map(|d| CustomerId::parse(d.key()).ok())
        .filter(|c| r.customer(c).is_ok())
        .collect()
}

/// Domain refusals (closed conversation, snooze in the past…) are legitimate
/// outcomes of random operations; anything else is a bug.
fn allow_refusal<T>(result: Result<T, ReplicaError>) {
    match result {
        Ok(_) | Err(ReplicaError::Core(_)) => {}
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// Delivers a shuffled share of the changes `to` lacks, one change at a time,
/// so dependencies often arrive after the changes that need them.
fn partial_sync(replicas: &mut [Replica], from: usize, to: usize, seed: u64, share: u8) {
    if from == to {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut parcels = Vec::new();
    for doc in replicas[from].doc_ids(None).unwrap() {
        if doc.kind() == DocKind::AgentPrivate {
            continue;
        }
        let heads = replicas[to].heads(&doc).unwrap();
        for change in replicas[from].changes_since(&doc, &heads).unwrap() {
            parcels.push((doc.clone(), change));
        }
    }
    parcels.shuffle(&mut rng);
    for (doc, change) in parcels {
        if rng.random_range(0..100u8) < share {
            replicas[to].apply_changes(&doc, &[change]).unwrap();
        }
    }
}

fn apply(replicas: &mut [Replica], agents: &[AgentId], who: usize, op: Op) {
    let r = &mut replicas[who];
    let convs = conversations(r);
    let custs = customers(r);
    match op {
        Op::NewConversation { customer } => {
            let customer = match nth(&custs, customer) {
                Some(c) if customer < custs.len() => c,
                _ => r
                    .find_or_create_customer(
                        &format!("c{who}-{customer}@acme.example"),
                        Some("Maria Garcia"),
                    )
                    .unwrap(),
            };
            r.new_conversation(NewConversationInput {
                subject: format!("Question from replica {who}"),
                channel: Channel::Email,
                customer,
                body: "Hello, my invoice looks wrong.".into(),
                priority: Some(Priority::Normal),
                received_at: None,
                headers: Default::default(),
            })
            .unwrap();
        }
        Op::CustomerMessage { conv } => {
            if let Some(c) = nth(&convs, conv) {
                allow_refusal(r.add_customer_message(
                    &c,
                    "Any news on this?",
                    None,
                    &Default::default(),
                ));
            }
        }
        Op::Reply { conv } => {
            if let Some(c) = nth(&convs, conv) {
                // Behind the guard when the agent looked last, else sent anyway.
                let guard = if r
                    .conversation(&c)
                    .is_ok_and(|v| v.unseen_by(&r.identity().agent_id).is_empty())
                {
                    SendGuard::Check
                } else {
                    SendGuard::Force
                };
                allow_refusal(r.reply(&c, &format!("Reply from agent {who}"), None, guard));
            }
        }
        Op::Note { conv, mention } => {
            if let Some(c) = nth(&convs, conv) {
                let handle = ["@ana", "@ben", "@cleo", "no mention"][mention];
                allow_refusal(r.note(&c, &format!("{handle} internal note")));
            }
        }
        Op::Assign { conv, agent } => {
            if let Some(c) = nth(&convs, conv) {
                allow_refusal(r.assign(&c, agent.map(|a| &agents[a])));
            }
        }
        Op::SetStatus { conv, status } => {
            if let Some(c) = nth(&convs, conv) {
                let now = r.now().as_millis();
                let change = match status {
                    0 => StatusChange {
                        status: Status::Open,
                        until: None,
                    },
                    1 => StatusChange {
                        status: Status::Pending,
                        until: None,
                    },
                    2 => StatusChange {
                        status: Status::Snoozed,
                        until: Some(Timestamp(now + 3_600_000)),
                    },
                    _ => StatusChange {
                        status: Status::Closed,
                        until: None,
                    },
                };
                allow_refusal(r.set_status(&c, change));
            }
        }
        Op::Tag { conv, tag } => {
            if let Some(c) = nth(&convs, conv) {
                allow_refusal(r.tag(&c, &[TAGS[tag].into()]));
            }
        }
        Op::Untag { conv, tag } => {
            if let Some(c) = nth(&convs, conv) {
                allow_refusal(r.untag(&c, &[TAGS[tag].into()]));
            }
        }
        Op::Priority { conv, priority } => {
            if let Some(c) = nth(&convs, conv) {
                allow_refusal(r.set_priority(&c, Priority::ALL[priority]));
            }
        }
        Op::Seen { conv } => {
            if let Some(c) = nth(&convs, conv) {
                if let Ok(shown) = r.conversation(&c) {
                    let ids: Vec<_> = shown.entries.iter().map(|e| e.id.clone()).collect();
                    allow_refusal(r.mark_seen(&c, &ids));
                }
            }
        }
        Op::EditCustomer { customer, name } => {
            if let Some(c) = nth(&custs, customer) {
                allow_refusal(r.edit_customer(
                    &c,
                    &CustomerPatch {
                        name: Some(NAMES[name].into()),
                        ..Default::default()
                    },
                ));
            }
        }
        Op::SpliceNotes {
            customer,
            at,
            delete,
            text,
        } => {
            if let Some(c) = nth(&custs, customer) {
                let len = r.customer(&c).unwrap().notes.chars().count();
                let pos = at.min(len);
                let delete = delete.min(len - pos);
                allow_refusal(r.splice_customer_notes(&c, pos, delete, WORDS[text]));
            }
        }
        Op::Sync {
            from,
            to,
            seed,
            share,
        } => partial_sync(replicas, from, to, seed, share),
    }
}

fn converge(replicas: &mut [Replica]) {
    // Two full rounds: after the first, everyone has everything someone else
    // had; the second carries what arrived in the first.
    for _ in 0..2 {
        for from in 0..replicas.len() {
            for to in 0..replicas.len() {
                partial_sync(replicas, from, to, (from * 3 + to) as u64, 100);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 200, .. ProptestConfig::default() })]

    #[test]
    fn replicas_converge_to_identical_documents_and_tables(ops in prop::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let clock = clock();
        let mut replicas = team_of_three(dir.path(), &clock);
        let agents: Vec<AgentId> = replicas.iter().map(|r| r.identity().agent_id.clone()).collect();
        for (who, op) in ops {
            clock.advance(1_000);
            apply(&mut replicas, &agents, who, op);
        }
        converge(&mut replicas);
        let views: Vec<Vec<String>> = replicas.iter().map(shared_views).collect();
        prop_assert_eq!(&views[0], &views[1]);
        prop_assert_eq!(&views[0], &views[2]);
        for doc in replicas[0].doc_ids(None).unwrap() {
            if doc.kind() != DocKind::AgentPrivate {
                prop_assert_eq!(replicas[0].heads(&doc).unwrap(), replicas[1].heads(&doc).unwrap());
                prop_assert_eq!(replicas[0].heads(&doc).unwrap(), replicas[2].heads(&doc).unwrap());
            }
        }
        let dumps: Vec<_> = replicas.iter().map(|r| r.derived_dump().unwrap()).collect();
        prop_assert_eq!(&dumps[0], &dumps[1]);
        prop_assert_eq!(&dumps[0], &dumps[2]);
        // The derived tables are exactly what a rebuild from the documents gives.
        let rebuilt = { replicas[1].reindex(&mut |_, _| {}).unwrap(); replicas[1].derived_dump().unwrap() };
        prop_assert_eq!(&dumps[0], &rebuilt);
        for r in &replicas {
            prop_assert!(r.check().unwrap().is_empty());
        }
    }
}

#[test]
fn concurrent_note_edits_from_three_agents_all_survive() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut replicas = team_of_three(dir.path(), &clock);
    let (_, customer) = phone_call(&mut replicas[0], "maria@acme.example", "Hello", "Hi");
    replicas[0]
        .set_customer_notes(&customer, "Plan: pro.\nRenews: March.")
        .unwrap();
    converge(&mut replicas);
    // Offline, each edits a different place of the same notes.
    replicas[0]
        .set_customer_notes(&customer, "VIP customer.\nPlan: pro.\nRenews: March.")
        .unwrap();
    replicas[1]
        .set_customer_notes(&customer, "Plan: pro (annual).\nRenews: March.")
        .unwrap();
    let len = replicas[2]
        .customer(&customer)
        .unwrap()
        .notes
        .chars()
        .count();
    replicas[2]
        .splice_customer_notes(&customer, len, 0, "\nPrefers phone.")
        .unwrap();
    converge(&mut replicas);
    let expected = "VIP customer.\nPlan: pro (annual).\nRenews: March.\nPrefers phone.";
    for r in &replicas {
        assert_eq!(r.customer(&customer).unwrap().notes, expected);
    }
    let hits = replicas[1].search("annual phone", false, 5).unwrap();
    assert_eq!(
        hits.len(),
        1,
        "the merged notes are indexed on every replica"
    );
}
