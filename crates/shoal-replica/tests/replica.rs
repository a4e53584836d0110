//! The replica's operations, queries and maintenance against a real SQLite file.

mod common;

use common::*;
use shoal_core::{DeliveryState, DocId, DocKind, SendGuard, Status, StatusChange, Timestamp};
use shoal_replica::{InboxQuery, InboxView, Replica, ReplicaError};

#[test]
fn a_conversation_through_its_life() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut r = founder(dir.path(), &clock);
    let ben = r
        .add_agent(
            "Ben Okafor",
            "ben@northwind.example",
            shoal_core::AgentRole::Agent,
        )
        .unwrap();
    let (id, customer) = phone_call(
        &mut r,
        "maria@acme.example",
        "Double charge",
        "I was charged twice for invoice 1042.",
    );

    clock.advance(60_000);
    let reply = r
        .reply(
            &id,
            "Sorry Maria, the duplicate is refunded.",
            None,
            SendGuard::Force,
        )
        .unwrap();
    r.note(&id, "@ben please check the payment provider")
        .unwrap();
    r.assign(&id, Some(&ben)).unwrap();
    r.tag(&id, &["billing".into(), "refund".into()]).unwrap();
    r.set_status(
        &id,
        StatusChange {
            status: Status::Pending,
            until: None,
        },
    )
    .unwrap();

    let c = r.conversation(&id).unwrap();
    assert_eq!(c.entries.len(), 3);
    assert_eq!(
        c.entry(&reply).unwrap().delivery.as_ref().unwrap().state,
        DeliveryState::Queued,
        "no relay: stays queued"
    );
    assert_eq!(c.entries[2].mentions, vec![ben.clone()]);
    assert_eq!(c.assignee.as_ref(), Some(&ben));

    let pending = r.inbox(&InboxQuery::view(InboxView::Pending)).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].customer_name.as_deref(), Some("Maria Garcia"));
    assert_eq!(pending[0].tags, vec!["billing", "refund"]);
    assert!(r
        .inbox(&InboxQuery::view(InboxView::Open))
        .unwrap()
        .is_empty());

    // The customer calls again: the conversation reopens and is unread.
    clock.advance(3_600_000);
    r.add_customer_message(
        &id,
        "Thanks, but I still see two charges.",
        None,
        &Default::default(),
    )
    .unwrap();
    let open = r.inbox(&InboxQuery::view(InboxView::Open)).unwrap();
    assert_eq!(open.len(), 1);
    assert!(open[0].unread);
    let shown: Vec<_> = r
        .conversation(&id)
        .unwrap()
        .entries
        .iter()
        .map(|e| e.id.clone())
        .collect();
    r.mark_seen(&id, &shown).unwrap();
    assert!(!r.inbox(&InboxQuery::view(InboxView::Open)).unwrap()[0].unread);

    // Snoozed until tomorrow: hidden, then back by itself when the time comes.
    r.set_status(
        &id,
        StatusChange {
            status: Status::Snoozed,
            until: Some(Timestamp(clock_now(&r) + 86_400_000)),
        },
    )
    .unwrap();
    assert!(r
        .inbox(&InboxQuery::view(InboxView::Open))
        .unwrap()
        .is_empty());
    assert_eq!(
        r.inbox(&InboxQuery::view(InboxView::Snoozed))
            .unwrap()
            .len(),
        1
    );
    clock.advance(86_400_000);
    let open = r.inbox(&InboxQuery::view(InboxView::Open)).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].status, Status::Open);

    // The customer's history and search.
    let history = r
        .inbox(&InboxQuery {
            customer: Some(customer.clone()),
            ..InboxQuery::view(InboxView::All)
        })
        .unwrap();
    assert_eq!(history.len(), 1);
    let hits = r.search("duplicate refunded", false, 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].snippet.contains("duplicate"), "{:?}", hits[0]);
    assert_eq!(
        r.search("garc", true, 10).unwrap()[0].kind,
        DocKind::Customer
    );
    assert!(r
        .search("\"charged twice\"", false, 10)
        .unwrap()
        .iter()
        .any(|h| h.kind == DocKind::Conversation));
    assert!(r.search("nonexistentword", false, 10).unwrap().is_empty());
    assert!(
        r.search("AND OR NOT (", false, 10).is_ok(),
        "operators typed by people are words, not syntax"
    );
}

fn clock_now(r: &Replica) -> i64 {
    r.now().as_millis()
}

#[test]
fn refused_operations_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut r = founder(dir.path(), &clock);
    let (id, _) = phone_call(&mut r, "maria@acme.example", "Question", "Hello");
    r.set_status(
        &id,
        StatusChange {
            status: Status::Closed,
            until: None,
        },
    )
    .unwrap();
    let before = r.derived_dump().unwrap();
    let heads = r.heads(&DocId::conversation(&id)).unwrap();
    assert!(matches!(
        r.reply(&id, "too late", None, SendGuard::Force),
        Err(ReplicaError::Core(
            shoal_core::CoreError::ConversationClosed
        ))
    ));
    assert!(r.note(&id, "  ").is_err());
    assert!(r.tag(&id, &["not a tag".into()]).is_err());
    let stranger = shoal_core::AgentId::random();
    assert!(matches!(
        r.assign(&id, Some(&stranger)),
        Err(ReplicaError::NotFound { .. })
    ));
    assert_eq!(r.heads(&DocId::conversation(&id)).unwrap(), heads);
    assert_eq!(r.derived_dump().unwrap(), before);
    let unknown = shoal_core::ConversationId::random();
    assert!(matches!(
        r.reply(&unknown, "hi", None, SendGuard::Force),
        Err(ReplicaError::NotFound { .. })
    ));
}

#[test]
fn ids_resolve_by_unique_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut r = founder(dir.path(), &clock);
    let (id, customer) = phone_call(&mut r, "maria@acme.example", "Question", "Hello");
    assert_eq!(r.resolve_conversation(&id.as_str()[..6]).unwrap(), id);
    assert_eq!(r.resolve_conversation(id.as_str()).unwrap(), id);
    assert!(matches!(
        r.resolve_conversation("zz"),
        Err(ReplicaError::NotFound { .. })
    ));
    assert_eq!(r.resolve_customer("MARIA@acme.example").unwrap(), customer);
    assert_eq!(r.resolve_customer("maria garcia").unwrap(), customer);
    assert_eq!(r.resolve_agent("me").unwrap(), r.identity().agent_id);
}

#[test]
fn reindex_rebuilds_identical_tables() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut r = founder(dir.path(), &clock);
    for i in 0..5 {
        let (id, customer) = phone_call(
            &mut r,
            &format!("c{i}@acme.example"),
            &format!("Subject {i}"),
            "Body text",
        );
        r.reply(&id, &format!("Reply number {i}"), None, SendGuard::Force)
            .unwrap();
        r.tag(&id, &[format!("t{i}")]).unwrap();
        r.set_customer_notes(&customer, &format!("Notes for customer {i}"))
            .unwrap();
    }
    let before = r.derived_dump().unwrap();
    assert_eq!(before.inbox.len(), 5);
    let mut seen = Vec::new();
    r.reindex(&mut |done, total| seen.push((done, total)))
        .unwrap();
    assert_eq!(r.derived_dump().unwrap(), before);
    assert_eq!(seen.last().map(|p| p.0), seen.last().map(|p| p.1));
}

#[test]
fn compaction_keeps_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut r = founder(dir.path(), &clock);
    let (id, customer) = phone_call(&mut r, "maria@acme.example", "Question", "Hello");
    // Stay below the background compactor's threshold so that only
    // compact_all folds these changes and its count is deterministic.
    let changes = shoal_replica::COMPACT_THRESHOLD as usize - 2;
    for i in 0..changes {
        r.note(&id, &format!("note {i}")).unwrap();
        r.splice_customer_notes(&customer, 0, 0, "x").unwrap();
    }
    let view = r.conversation(&id).unwrap();
    let dump = r.derived_dump().unwrap();
    let compacted = r.compact_all().unwrap();
    assert!(
        compacted >= 2,
        "both documents had {changes} appended changes"
    );
    assert_eq!(r.stats().unwrap().pending_changes, 0);
    assert_eq!(r.conversation(&id).unwrap(), view);
    assert_eq!(r.customer(&customer).unwrap().notes, "x".repeat(changes));
    assert_eq!(r.derived_dump().unwrap(), dump);
    assert!(r.check().unwrap().is_empty());
}

#[test]
fn export_import_round_trip_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut team = team_of_three(dir.path(), &clock);
    let (id, customer) = phone_call(
        &mut team[0],
        "maria@acme.example",
        "Question",
        "Hello there",
    );
    team[0]
        .set_customer_notes(&customer, "Prefers phone calls")
        .unwrap();
    let mut export = Vec::new();
    team[0].export(&mut export, Default::default()).unwrap();

    let report = team[1]
        .import(&mut export.as_slice(), &mut |_, _| {})
        .unwrap();
    assert_eq!(
        report.created, 2,
        "the conversation and the customer are new to Ben"
    );
    assert_eq!(report.skipped, 1, "Ana's private document stays Ana's");
    assert_eq!(shared_views(&team[1]), shared_views(&team[0]));
    assert_eq!(
        team[1].derived_dump().unwrap(),
        team[0].derived_dump().unwrap()
    );
    // Importing again changes nothing.
    let again = team[1]
        .import(&mut export.as_slice(), &mut |_, _| {})
        .unwrap();
    assert_eq!((again.created, again.updated), (0, 0));

    // Another team's export is refused.
    let other_dir = tempfile::tempdir().unwrap();
    let other = founder(other_dir.path(), &clock);
    let mut foreign = Vec::new();
    other.export(&mut foreign, Default::default()).unwrap();
    assert!(matches!(
        team[1].import(&mut foreign.as_slice(), &mut |_, _| {}),
        Err(ReplicaError::TeamMismatch { .. })
    ));

    // A damaged line is reported with its number and nothing of it is stored.
    let text = String::from_utf8(export.clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = lines[2].replace("\"automerge\":\"", "\"automerge\":\"AAAA");
    let damaged = lines.join("\n");
    let fresh_dir = tempfile::tempdir().unwrap();
    let err = Replica::init_from_export(
        &fresh_dir.path().join("x.sqlite3"),
        &mut damaged.as_bytes(),
        "cleo@northwind.example",
        std::sync::Arc::new(clock.clone()),
    );
    assert!(
        matches!(
            err,
            Err(ReplicaError::BadChange { .. } | ReplicaError::BadExport { .. })
        ),
        "{:?}",
        err.err()
    );

    // Views-only exports cannot be imported.
    let mut views = Vec::new();
    team[0]
        .export(
            &mut views,
            shoal_replica::ExportOptions { views_only: true },
        )
        .unwrap();
    assert!(matches!(
        team[2].import(&mut views.as_slice(), &mut |_, _| {}),
        Err(ReplicaError::BadExport { line: 2, .. })
    ));
    let _ = id;
}

#[test]
fn garbage_changes_are_rejected_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut team = team_of_three(dir.path(), &clock);
    let (id, _) = phone_call(&mut team[0], "maria@acme.example", "Question", "Hello");
    let doc = DocId::conversation(&id);
    let mut good = team[0].changes_since(&doc, &[]).unwrap();
    let before = team[1].derived_dump().unwrap();
    for garbage in [vec![], vec![0u8; 10], b"\x85\x6f\x4a\x83garbage".to_vec()] {
        let batch = vec![good[0].clone(), garbage];
        assert!(matches!(
            team[1].apply_changes(&doc, &batch),
            Err(ReplicaError::BadChange { .. })
        ));
    }
    // A flipped byte breaks the checksum.
    let mut flipped = good[0].clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0xff;
    assert!(team[1].apply_changes(&doc, &[flipped]).is_err());
    assert_eq!(team[1].derived_dump().unwrap(), before);
    assert!(team[1]
        .doc_ids(Some(DocKind::Conversation))
        .unwrap()
        .is_empty());
    // The genuine change still applies afterwards.
    assert_eq!(
        team[1].apply_changes(&doc, &[good.remove(0)]).unwrap(),
        shoal_replica::MergeOutcome::Created
    );
}

#[test]
fn opening_an_uninitialised_home_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let err = Replica::open(&dir.path().join("missing.sqlite3"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("shoal init"), "{err}");
    let clock = clock();
    let _r = founder(dir.path(), &clock);
    let again = Replica::init(
        &dir.path().join("ana.sqlite3"),
        &shoal_replica::InitOptions {
            team_name: "x".into(),
            agent_name: "y".into(),
            agent_email: "y@x.example".into(),
        },
    );
    assert!(matches!(again, Err(ReplicaError::AlreadyInitialized(_))));
}

#[test]
fn one_agent_on_two_devices_keeps_both_devices_templates() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut laptop = founder(dir.path(), &clock);
    let mut export = Vec::new();
    laptop.export(&mut export, Default::default()).unwrap();
    // Restoring the same agent on a second device, before either has templates.
    let (mut desktop, _) = Replica::init_from_export(
        &dir.path().join("desktop.sqlite3"),
        &mut export.as_slice(),
        "ana@northwind.example",
        std::sync::Arc::new(clock.clone()),
    )
    .unwrap();
    laptop
        .set_template("refund", "Refunded, {customer.first_name}.")
        .unwrap();
    desktop
        .set_template("thanks", "Thanks for writing in!")
        .unwrap();
    let doc = DocId::agent_private(&laptop.identity().agent_id);
    let changes = desktop
        .changes_since(&doc, &laptop.heads(&doc).unwrap())
        .unwrap();
    laptop.apply_changes(&doc, &changes).unwrap();
    let names: Vec<String> = laptop
        .agent_private()
        .unwrap()
        .templates
        .into_keys()
        .collect();
    assert_eq!(names, vec!["refund", "thanks"]);
}

#[test]
fn a_refused_init_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite3");
    let opts = shoal_replica::InitOptions {
        team_name: "N".into(),
        agent_name: "Ana".into(),
        agent_email: "not-an-email".into(),
    };
    assert!(Replica::init(&path, &opts).is_err());
    assert!(!path.exists());
}

#[test]
fn customers_are_listed_and_addresses_stay_unique() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut r = founder(dir.path(), &clock);
    let (_, maria) = phone_call(&mut r, "maria@acme.example", "Q1", "Hello");
    phone_call(&mut r, "maria@acme.example", "Q2", "Hello again");
    let bob = r
        .new_customer(shoal_core::NewCustomer {
            name: "Bob Stone".into(),
            emails: vec!["bob@stone.example".into()],
            ..Default::default()
        })
        .unwrap();
    let list = r.customers(10, 0).unwrap();
    assert_eq!(
        list.iter()
            .map(|c| (c.name.as_str(), c.conversations))
            .collect::<Vec<_>>(),
        vec![("Bob Stone", 0), ("Maria Garcia", 2)]
    );
    let taken = shoal_core::NewCustomer {
        name: "Impostor".into(),
        emails: vec!["MARIA@acme.example".into()],
        ..Default::default()
    };
    assert!(
        r.new_customer(taken).is_err(),
        "an address identifies one customer"
    );
    let steal = shoal_core::CustomerPatch {
        add_emails: vec!["maria@acme.example".into()],
        ..Default::default()
    };
    assert!(r.edit_customer(&bob, &steal).is_err());
    r.append_customer_notes(&maria, "Prefers phone.").unwrap();
    r.append_customer_notes(&maria, "VIP since 2024.").unwrap();
    assert_eq!(
        r.customer(&maria).unwrap().notes,
        "Prefers phone.\nVIP since 2024."
    );
}

#[test]
fn one_view_count_matches_its_rows_and_the_counts_of_all_views() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut r = founder(dir.path(), &clock);
    let me = r.identity().agent_id.clone();
    for i in 0..5 {
        let (id, _) = phone_call(
            &mut r,
            &format!("c{i}@acme.example"),
            "Help",
            "Please help.",
        );
        match i {
            0 => r.assign(&id, Some(&me)).unwrap(),
            1 => r
                .set_status(
                    &id,
                    StatusChange {
                        status: Status::Pending,
                        until: None,
                    },
                )
                .unwrap(),
            2 => r
                .set_status(
                    &id,
                    StatusChange {
                        status: Status::Closed,
                        until: None,
                    },
                )
                .unwrap(),
            _ => {}
        }
    }
    let all = r.inbox_counts().unwrap();
    for (view, n) in all {
        assert_eq!(r.inbox_count(view).unwrap(), n, "{view}");
        let q = InboxQuery {
            limit: 100,
            ..InboxQuery::view(view)
        };
        assert_eq!(r.inbox(&q).unwrap().len() as i64, n, "{view}");
    }
    assert_eq!(r.inbox_count(InboxView::Mine).unwrap(), 1);
    assert_eq!(r.inbox_count(InboxView::Unassigned).unwrap(), 2);
    assert_eq!(r.inbox_count(InboxView::All).unwrap(), 5);

    // A filtered query's total counts every page of it, not the whole view.
    let ids: Vec<_> = r
        .inbox(&InboxQuery {
            limit: 100,
            ..InboxQuery::view(InboxView::All)
        })
        .unwrap()
        .into_iter()
        .map(|row| row.conversation_id)
        .collect();
    for id in &ids[..3] {
        let id = shoal_core::ConversationId::parse(id).unwrap();
        r.tag(&id, &["billing".into()]).unwrap();
    }
    let billing = InboxQuery {
        tag: Some("billing".into()),
        limit: 1,
        ..InboxQuery::view(InboxView::All)
    };
    assert_eq!(r.inbox(&billing).unwrap().len(), 1, "one page of one");
    assert_eq!(r.inbox_total(&billing).unwrap(), 3);
    assert_eq!(r.inbox_total(&InboxQuery::view(InboxView::All)).unwrap(), 5);

    // Mentions: conversations whose notes @mention me, whatever their status.
    assert_eq!(r.inbox_count(InboxView::Mentions).unwrap(), 0);
    let first_name = r.team().unwrap().agents[0].first_name().to_lowercase();
    let closed = shoal_core::ConversationId::parse(&ids[0]).unwrap();
    r.note(&closed, &format!("@{first_name} can you check?"))
        .unwrap();
    r.note(
        &shoal_core::ConversationId::parse(&ids[1]).unwrap(),
        "no mention here",
    )
    .unwrap();
    let mentions = r
        .inbox(&InboxQuery {
            limit: 100,
            ..InboxQuery::view(InboxView::Mentions)
        })
        .unwrap();
    assert_eq!(mentions.len(), 1);
    assert_eq!(mentions[0].conversation_id, ids[0]);
    assert_eq!(r.inbox_count(InboxView::Mentions).unwrap(), 1);

    // The light activity list agrees with the full rows.
    let mut activity = r.conversation_activity().unwrap();
    activity.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
    let q = InboxQuery {
        limit: 100,
        ..InboxQuery::view(InboxView::All)
    };
    let mut rows = r.inbox(&q).unwrap();
    rows.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
    assert_eq!(activity.len(), rows.len());
    for (a, row) in activity.iter().zip(&rows) {
        assert_eq!(a.conversation_id, row.conversation_id);
        assert_eq!(a.assignee, row.assignee);
        assert_eq!(a.last_activity, row.last_activity.as_millis());
    }
    assert_eq!(activity.iter().filter(|a| a.assignee.is_some()).count(), 1);
}
