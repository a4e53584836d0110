//! The write paths the sync engine uses: documents cached between sync
//! messages, and batches of received messages committed together.

mod common;

use automerge::sync;
use common::*;
use shoal_core::DocId;
use shoal_replica::{InboxQuery, InboxView, Replica};
use std::sync::Arc;

#[test]
fn cached_documents_follow_writes_of_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut ana = founder(dir.path(), &clock);
    let (id, _) = phone_call(&mut ana, "maria@acme.example", "Invoice", "Where is it?");
    let doc = DocId::conversation(&id);
    let before = ana.heads(&doc).unwrap();

    // A second connection to the same file, as the CLI would be while the
    // app's sync engine holds documents in memory.
    let mut cli = Replica::open_with_clock(ana.path(), Arc::new(clock.clone())).unwrap();
    cli.note(&id, "Checked with billing").unwrap();
    let after = cli.heads(&doc).unwrap();
    assert_ne!(after, before);
    assert_eq!(ana.heads(&doc).unwrap(), after, "a stale cached copy");

    // What the engine would send carries the new heads too.
    let mut state = sync::State::new();
    let message = ana
        .generate_sync_message(&doc, &mut state)
        .unwrap()
        .unwrap();
    assert_eq!(sync::Message::decode(&message).unwrap().heads, after);

    // Compaction rewrites storage, not content: still the same heads.
    cli.compact_all().unwrap();
    assert_eq!(ana.heads(&doc).unwrap(), after);
    cli.note(&id, "Refund sent").unwrap();
    assert_eq!(ana.heads(&doc).unwrap(), cli.heads(&doc).unwrap());
}

/// Runs Automerge's sync protocol for `doc` from `from` to `to` until quiet.
fn exchange(from: &mut Replica, to: &mut Replica, doc: &DocId) {
    let (mut sf, mut st) = (sync::State::new(), sync::State::new());
    for _ in 0..20 {
        let forward = from.generate_sync_message(doc, &mut sf).unwrap();
        if let Some(m) = &forward {
            to.receive_sync_message(doc, &mut st, m).unwrap();
        }
        let back = to.generate_sync_message(doc, &mut st).unwrap();
        if let Some(m) = &back {
            from.receive_sync_message(doc, &mut sf, m).unwrap();
        }
        if forward.is_none() && back.is_none() {
            return;
        }
    }
    panic!("no agreement on {doc} after 20 rounds");
}

#[test]
fn a_bad_message_in_a_sync_batch_stores_nothing_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut team = team_of_three(dir.path(), &clock);
    let (id, customer) = phone_call(
        &mut team[0],
        "maria@acme.example",
        "Invoice",
        "Where is it?",
    );
    let (conv, cust) = (DocId::conversation(&id), DocId::customer(&customer));
    let mut ana = team.remove(0);
    let mut ben = team.remove(0);
    let ben_path = ben.path().to_owned();

    ben.begin_sync_batch().unwrap();
    exchange(&mut ana, &mut ben, &conv);
    let garbage = ben.receive_sync_message(&cust, &mut sync::State::new(), b"not a sync message");
    assert!(garbage.is_err());
    exchange(&mut ana, &mut ben, &cust);
    ben.commit_sync_batch().unwrap();
    drop(ben);

    // Everything else of the batch is stored, with its derived rows.
    let ben = Replica::open_with_clock(&ben_path, Arc::new(clock.clone())).unwrap();
    assert_eq!(ben.heads(&conv).unwrap(), ana.heads(&conv).unwrap());
    assert_eq!(ben.heads(&cust).unwrap(), ana.heads(&cust).unwrap());
    let inbox = ben.inbox(&InboxQuery::view(InboxView::All)).unwrap();
    assert!(inbox.iter().any(|row| row.subject == "Invoice"));
    assert!(ben.check().unwrap().is_empty());
}

/// Before: a change Automerge 0.12 panics on (found by the relay's fuzz
/// target) unwound through the sync session and ended the app's sync
/// thread. Now it is refused like any malformed message, nothing is
/// stored, and the replica goes on.
#[test]
fn a_change_automerge_panics_on_is_refused_and_stores_nothing() {
    const CRASH: [u8; 24] = [
        133, 111, 74, 131, 251, 99, 4, 20, 1, 14, 0, 0, 10, 74, 121, 0, 0, 0, 0, 0, 0, 0, 24, 10,
    ];
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut team = team_of_three(dir.path(), &clock);
    let (id, _) = phone_call(&mut team[0], "maria@acme.example", "Invoice", "Where?");
    let conv = DocId::conversation(&id);
    let mut ana = team.remove(0);
    let heads = ana.heads(&conv).unwrap();
    let message = sync::Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: vec![CRASH.to_vec()].into(),
        flags: None,
        version: sync::MessageVersion::V1,
    }
    .encode();
    let refused = ana.receive_sync_message(&conv, &mut sync::State::new(), &message);
    let err = refused.unwrap_err().to_string();
    assert!(err.contains("Automerge could not apply"), "{err}");
    assert_eq!(ana.heads(&conv).unwrap(), heads);
    assert!(ana.check().unwrap().is_empty());
    // And it still works.
    ana.note(&id, "Still here").unwrap();
}
