//! The email channel's storage on a real SQLite file.

use shoal_relay_sqlite::SqliteStore;
use shoal_relay_store::{
    IngestCursor, IngestRecord, MailStore, NewMailbox, QuarantinedMail, RelayStore, ServerConfig,
    StoreError, TlsMode,
};
use tempfile::TempDir;

const TEAM_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TEAM_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const T0: i64 = 1_700_000_000_000;

fn server(host: &str, port: u16) -> ServerConfig {
    ServerConfig {
        host: host.into(),
        port,
        tls: TlsMode::Tls,
        user: "support@northwind.example".into(),
        ca_file: Some("/etc/shoal/ca.pem".into()),
    }
}

fn new_mailbox(id: &str, team: &str, address: &str) -> NewMailbox {
    NewMailbox {
        id: id.into(),
        team_id: team.into(),
        address: address.into(),
        display_name: Some("Northwind Support".into()),
        imap: server("imap.example", 993),
        smtp: server("smtp.example", 465),
        imap_secret: b"sealed-imap".to_vec(),
        smtp_secret: b"sealed-smtp".to_vec(),
        insecure_plaintext: false,
    }
}

fn store() -> (TempDir, SqliteStore) {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&dir.path().join("relay.db")).unwrap();
    store.create_team(TEAM_A, "Support", T0).unwrap();
    store.create_team(TEAM_B, "Sales", T0).unwrap();
    (dir, store)
}

fn record(uid: u32, message_id: Option<&str>, conv: &str) -> IngestRecord {
    IngestRecord {
        mailbox_id: "mb1".into(),
        uidvalidity: 7,
        uid,
        message_id: message_id.map(str::to_owned),
        conversation_id: conv.into(),
        entry_id: format!("entry-{uid}"),
        customer_id: "cust-1".into(),
        done: false,
    }
}

#[test]
fn mailboxes_are_added_listed_and_removed() {
    let (dir, store) = store();
    let added = store
        .add_mailbox(&new_mailbox("mb1", TEAM_A, "support@northwind.example"), T0)
        .unwrap();
    assert_eq!(added.imap.port, 993);
    assert_eq!(added.smtp.tls, TlsMode::Tls);
    match store.add_mailbox(&new_mailbox("mb2", TEAM_B, "SUPPORT@northwind.example"), T0) {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a second team took the same address: {other:?}"),
    }
    match store.add_mailbox(&new_mailbox("mb3", "nope", "x@y.example"), T0) {
        Err(StoreError::UnknownTeam(_)) => {}
        other => panic!("expected unknown team, got {other:?}"),
    }
    store
        .add_mailbox(&new_mailbox("mb4", TEAM_B, "sales@northwind.example"), T0)
        .unwrap();
    assert_eq!(store.mailboxes(None).unwrap().len(), 2);
    assert_eq!(
        store.mailboxes(Some(TEAM_A)).unwrap(),
        std::slice::from_ref(&added)
    );
    assert_eq!(
        store.mailbox_secrets("mb1").unwrap(),
        (b"sealed-imap".to_vec(), b"sealed-smtp".to_vec())
    );

    store
        .set_ingest_cursor(
            "mb1",
            IngestCursor {
                uidvalidity: 7,
                last_uid: 3,
            },
        )
        .unwrap();
    store
        .begin_ingest(&record(3, Some("a@x"), "conv-1"), "maria@acme.example", "k")
        .unwrap();
    // Survives reopening; removal by address takes its reading state along.
    drop(store);
    let store = SqliteStore::open(&dir.path().join("relay.db")).unwrap();
    assert!(store.ingest_cursor("mb1").unwrap().is_some());
    assert_eq!(
        store
            .remove_mailbox("Support@Northwind.example")
            .unwrap()
            .id,
        "mb1"
    );
    assert!(store.ingest_cursor("mb1").unwrap().is_none());
    assert!(store.find_ingest("mb1", 7, 3, None).unwrap().is_none());
    assert_eq!(store.mailboxes(None).unwrap().len(), 1);
}

#[test]
fn ingest_intents_and_threading_lookups() {
    let (_dir, store) = store();
    store
        .add_mailbox(&new_mailbox("mb1", TEAM_A, "support@northwind.example"), T0)
        .unwrap();
    assert_eq!(store.ingest_cursor("mb1").unwrap(), None);
    let first = record(1, Some("m1@acme.example"), "conv-1");
    store
        .begin_ingest(&first, "Maria@Acme.example", "damaged kettle")
        .unwrap();
    match store.begin_ingest(&first, "maria@acme.example", "damaged kettle") {
        Err(_) => {}
        Ok(()) => panic!("the same UID was recorded twice"),
    }
    // Found by UID, and by Message-ID under another UIDVALIDITY.
    assert_eq!(
        store.find_ingest("mb1", 7, 1, None).unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store
            .find_ingest("mb1", 8, 99, Some("m1@acme.example"))
            .unwrap()
            .map(|r| r.uid),
        Some(1)
    );
    assert!(store
        .find_ingest("mb1", 7, 2, Some("other@x"))
        .unwrap()
        .is_none());
    assert_eq!(
        store.unfinished_ingests("mb1").unwrap(),
        std::slice::from_ref(&first)
    );
    store.finish_ingest("mb1", 7, 1).unwrap();
    assert!(store.unfinished_ingests("mb1").unwrap().is_empty());
    assert!(store.find_ingest("mb1", 7, 1, None).unwrap().unwrap().done);

    // Threading facts, scoped by team.
    assert_eq!(
        store
            .conversation_by_message_ids(TEAM_A, &["zzz".into(), "m1@acme.example".into()])
            .unwrap()
            .as_deref(),
        Some("conv-1")
    );
    assert!(store
        .conversation_by_message_ids(TEAM_B, &["m1@acme.example".into()])
        .unwrap()
        .is_none());
    store
        .record_message_id(TEAM_A, "reply-1@northwind.example", "conv-1")
        .unwrap();
    assert_eq!(
        store
            .conversation_by_message_ids(TEAM_A, &["reply-1@northwind.example".into()])
            .unwrap()
            .as_deref(),
        Some("conv-1")
    );
    assert_eq!(
        store
            .customer_by_address(TEAM_A, "maria@ACME.example")
            .unwrap()
            .as_deref(),
        Some("cust-1")
    );
    assert!(store
        .customer_by_address(TEAM_B, "maria@acme.example")
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .conversation_by_subject(TEAM_A, "cust-1", "damaged kettle")
            .unwrap()
            .as_deref(),
        Some("conv-1")
    );
    // A newer conversation with the same subject takes over the fallback.
    store
        .begin_ingest(
            &record(2, None, "conv-2"),
            "maria@acme.example",
            "damaged kettle",
        )
        .unwrap();
    assert_eq!(
        store
            .conversation_by_subject(TEAM_A, "cust-1", "damaged kettle")
            .unwrap()
            .as_deref(),
        Some("conv-2")
    );
}

#[test]
fn quarantine_sets_mail_aside_counts_attempts_and_forgets_the_intent() {
    let (_dir, store) = store();
    store
        .add_mailbox(&new_mailbox("mb1", TEAM_A, "support@a.example"), T0)
        .unwrap();
    store
        .add_mailbox(&new_mailbox("mb2", TEAM_B, "sales@b.example"), T0)
        .unwrap();
    // An import that began and failed: its intent goes with the quarantine.
    store
        .begin_ingest(&record(5, Some("m5@x"), "conv-5"), "", "")
        .unwrap();
    let aside = |mailbox: &str, uid: u32, reason: &str| QuarantinedMail {
        id: 0,
        mailbox_id: mailbox.into(),
        uidvalidity: 7,
        uid,
        message_id: Some(format!("m{uid}@x")),
        from: "alice@example.test".into(),
        subject: format!("subject {uid}"),
        reason: reason.into(),
        attempts: 0,
        quarantined_at: T0,
        retry: false,
    };
    store
        .quarantine_mail(&aside("mb1", 5, "document refused"))
        .unwrap();
    store
        .quarantine_mail(&aside("mb2", 9, "other team"))
        .unwrap();
    assert!(store.unfinished_ingests("mb1").unwrap().is_empty());
    assert!(store
        .find_ingest("mb1", 7, 5, Some("m5@x"))
        .unwrap()
        .is_none());

    let mine = store.quarantined_mail(Some("mb1")).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].uid, mine[0].attempts, mine[0].retry),
        (5, 1, false)
    );
    assert_eq!(mine[0].reason, "document refused");
    assert_eq!(store.quarantined_mail(None).unwrap().len(), 2);

    // A retry is requested, then fails again: one more attempt, new reason.
    assert!(store.retry_quarantined(mine[0].id).unwrap());
    assert!(store.quarantined_mail(Some("mb1")).unwrap()[0].retry);
    store
        .quarantine_mail(&aside("mb1", 5, "still refused"))
        .unwrap();
    let again = &store.quarantined_mail(Some("mb1")).unwrap()[0];
    assert_eq!(
        (again.id, again.attempts, again.retry),
        (mine[0].id, 2, false)
    );
    assert_eq!(again.reason, "still refused");
    assert_eq!(again.subject, "subject 5");

    assert!(store.drop_quarantined(again.id).unwrap());
    assert!(!store.drop_quarantined(again.id).unwrap());
    assert!(!store.retry_quarantined(again.id).unwrap());
    assert!(store.quarantined_mail(Some("mb1")).unwrap().is_empty());
    // Removing a mailbox removes what it set aside.
    store.remove_mailbox("mb2").unwrap();
    assert!(store.quarantined_mail(None).unwrap().is_empty());
}
