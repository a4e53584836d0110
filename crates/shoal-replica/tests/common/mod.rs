//! Shared set-up for the replica's integration tests.
#![allow(dead_code)]

use shoal_core::{
    AgentRole, Channel, ConversationId, CustomerId, EmailHeaders, Priority, Timestamp,
};
use shoal_replica::{InitOptions, ManualClock, NewConversationInput, Replica};
use std::path::Path;
use std::sync::Arc;

/// 2026-03-02 09:00 UTC, a Monday.
pub const T0: i64 = 1_772_442_000_000;

pub fn clock() -> ManualClock {
    ManualClock::new(Timestamp(T0))
}

/// A founder's workspace.
pub fn founder(dir: &Path, clock: &ManualClock) -> Replica {
    Replica::init_with_clock(
        &dir.join("ana.sqlite3"),
        &InitOptions {
            team_name: "Northwind Support".into(),
            agent_name: "Ana Lima".into(),
            agent_email: "ana@northwind.example".into(),
        },
        Arc::new(clock.clone()),
    )
    .unwrap()
}

/// Ana's workspace plus Ben's and Cleo's replicas, joined through an export.
pub fn team_of_three(dir: &Path, clock: &ManualClock) -> Vec<Replica> {
    let mut ana = founder(dir, clock);
    ana.add_agent("Ben Okafor", "ben@northwind.example", AgentRole::Agent)
        .unwrap();
    ana.add_agent("Cleo Park", "cleo@northwind.example", AgentRole::Agent)
        .unwrap();
    let mut export = Vec::new();
    ana.export(&mut export, Default::default()).unwrap();
    let mut replicas = vec![ana];
    for who in ["ben", "cleo"] {
        let (r, _) = Replica::init_from_export(
            &dir.join(format!("{who}.sqlite3")),
            &mut export.as_slice(),
            &format!("{who}@northwind.example"),
            Arc::new(clock.clone()),
        )
        .unwrap();
        replicas.push(r);
    }
    replicas
}

/// Opens a phone conversation with a new customer.
pub fn phone_call(
    r: &mut Replica,
    email: &str,
    subject: &str,
    body: &str,
) -> (ConversationId, CustomerId) {
    let customer = r
        .find_or_create_customer(email, Some("Maria Garcia"))
        .unwrap();
    let (id, _) = r
        .new_conversation(NewConversationInput {
            subject: subject.into(),
            channel: Channel::Phone,
            customer: customer.clone(),
            body: body.into(),
            priority: Some(Priority::Normal),
            received_at: None,
            headers: EmailHeaders::default(),
        })
        .unwrap();
    (id, customer)
}

/// Sends every change `from` has and `to` lacks, document by document.
pub fn sync_one_way(from: &Replica, to: &mut Replica) {
    for doc in from.doc_ids(None).unwrap() {
        if doc.kind() == shoal_core::DocKind::AgentPrivate {
            continue;
        }
        let changes = from.changes_since(&doc, &to.heads(&doc).unwrap()).unwrap();
        if !changes.is_empty() {
            to.apply_changes(&doc, &changes).unwrap();
        }
    }
}

/// The views of all shared documents (the team, conversations, customers)
/// as an export without history, one line per document.
pub fn shared_views(r: &Replica) -> Vec<String> {
    let mut out = Vec::new();
    r.export(&mut out, shoal_replica::ExportOptions { views_only: true })
        .unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.contains("\"kind\":\"agent-private\""))
        .map(str::to_owned)
        .collect()
}
