//! `SqliteStore` against real SQLite files in a temporary directory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;

use shoal_relay_sqlite::SqliteStore;
use shoal_relay_store::{AppendItem, AwaitingRecord, NewAgent, NewChange, RelayStore, StoreError};
use tempfile::TempDir;

const TEAM_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TEAM_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const T0: i64 = 1_700_000_000_000;

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("relay.db")
}

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path).expect("open store")
}

/// A fresh store with teams A ("Support") and B ("Sales").
fn store_with_teams() -> (TempDir, SqliteStore) {
    let dir = TempDir::new().unwrap();
    let store = open(&db_path(&dir));
    store.create_team(TEAM_A, "Support", T0).unwrap();
    store.create_team(TEAM_B, "Sales", T0 + 1).unwrap();
    (dir, store)
}

/// A change whose hash is derived from its bytes, as Automerge's would be.
fn change(bytes: &[u8]) -> NewChange {
    let mut hash = vec![0u8; 32];
    for (i, b) in bytes.iter().enumerate() {
        hash[i % 32] ^= b.wrapping_add(i as u8);
    }
    hash[31] = bytes.len() as u8;
    NewChange {
        hash,
        bytes: bytes.to_vec(),
    }
}

fn new_agent(id: &str, name: &str, email: &str) -> NewAgent {
    NewAgent {
        id: id.to_owned(),
        name: name.to_owned(),
        email: email.to_owned(),
        role: "agent".to_owned(),
        token_id: format!("tok-{id}"),
        secret_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$salt${id}"),
    }
}

fn feed(store: &SqliteStore, team: &str, cursor: u64, reader: &str) -> Vec<(String, u64)> {
    store
        .changed_since(team, cursor, reader, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|e| (e.doc_id, e.seq))
        .collect()
}

#[test]
fn teams_create_lookup_and_conflict() {
    let (_dir, store) = store_with_teams();

    let teams = store.teams().unwrap();
    let names: Vec<_> = teams.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Sales", "Support"], "ordered by name");

    let by_id = store.team(TEAM_A).unwrap().unwrap();
    assert_eq!(by_id.name, "Support");
    assert_eq!(by_id.created_at, T0);
    let by_name = store.team("support").unwrap().unwrap();
    assert_eq!(by_name.id, TEAM_A, "name lookup ignores case");
    assert!(store.team("nobody").unwrap().is_none());

    match store.create_team(TEAM_A, "Other", T0) {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected conflict, got {other:?}"),
    }

    // A name two teams share is ambiguous.
    store
        .create_team("cccccccccccccccccccccccccccccccc", "SALES", T0)
        .unwrap();
    assert!(store.team("Sales").unwrap().is_none());
    assert_eq!(store.team(TEAM_B).unwrap().unwrap().name, "Sales");
}

#[test]
fn agents_add_list_lookup_and_email_conflict() {
    let (_dir, store) = store_with_teams();
    let zoe = store
        .add_agent(TEAM_A, &new_agent("a1", "Zoe", "zoe@example.com"), T0)
        .unwrap();
    assert_eq!(zoe.team_id, TEAM_A);
    assert_eq!(zoe.revoked_at, None);
    store
        .add_agent(TEAM_A, &new_agent("a2", "Ana", "ana@example.com"), T0)
        .unwrap();
    store
        .add_agent(TEAM_B, &new_agent("b1", "Ben", "ben@example.com"), T0)
        .unwrap();
    // The same address may be used on another team.
    store
        .add_agent(TEAM_B, &new_agent("b2", "Zoe", "zoe@example.com"), T0)
        .unwrap();

    match store.add_agent(TEAM_A, &new_agent("a3", "Zoe 2", "ZOE@example.com"), T0) {
        Err(StoreError::Conflict(msg)) => {
            assert!(msg.contains("ZOE@example.com"), "{msg}");
            assert!(msg.contains("Support"), "{msg}");
        }
        other => panic!("expected conflict, got {other:?}"),
    }
    match store.add_agent(TEAM_A, &new_agent("a1", "Again", "again@example.com"), T0) {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected conflict on agent id, got {other:?}"),
    }
    match store.add_agent("nope", &new_agent("x1", "X", "x@example.com"), T0) {
        Err(StoreError::UnknownTeam(t)) => assert_eq!(t, "nope"),
        other => panic!("expected unknown team, got {other:?}"),
    }

    let all: Vec<_> = store
        .agents(None)
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    // Sales (Ben, Zoe) before Support (Ana, Zoe).
    assert_eq!(all, ["b1", "b2", "a2", "a1"]);
    let team_a: Vec<_> = store
        .agents(Some(TEAM_A))
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(team_a, ["a2", "a1"]);

    assert_eq!(store.agent("a1").unwrap(), Some(zoe.clone()));
    assert!(store.agent("zz").unwrap().is_none());

    let token = store.token("tok-a1").unwrap().unwrap();
    assert_eq!(token.agent, zoe);
    assert!(token.secret_hash.ends_with("$a1"));
    assert!(store.token("tok-none").unwrap().is_none());
}

#[test]
fn revocations_are_numbered_in_commit_order() {
    let (_dir, store) = store_with_teams();
    store
        .add_agent(TEAM_A, &new_agent("a1", "Ana", "ana@example.com"), T0)
        .unwrap();
    store
        .add_agent(TEAM_A, &new_agent("a2", "Bea", "bea@example.com"), T0)
        .unwrap();
    store
        .add_agent(TEAM_B, &new_agent("b1", "Ben", "ben@example.com"), T0)
        .unwrap();

    let revoked = store.revoke_agent("a1", T0 + 100).unwrap();
    assert_eq!(revoked.revoked_at, Some(T0 + 100));
    // Revoking again keeps the first time.
    let again = store.revoke_agent("a1", T0 + 500).unwrap();
    assert_eq!(again.revoked_at, Some(T0 + 100));
    store.revoke_agent("b1", T0 + 200).unwrap();

    match store.revoke_agent("ghost", T0) {
        Err(StoreError::UnknownAgent(id)) => assert_eq!(id, "ghost"),
        other => panic!("expected unknown agent, got {other:?}"),
    }

    let after = |n| -> Vec<(u64, String)> {
        store
            .revoked_after(n)
            .unwrap()
            .into_iter()
            .map(|(seq, a)| (seq, a.id))
            .collect()
    };
    assert_eq!(after(0), [(1, "a1".to_owned()), (2, "b1".to_owned())]);
    assert_eq!(after(1), [(2, "b1".to_owned())]);
    assert!(after(2).is_empty());
    // Numbers follow commits, not clocks: a revocation stamped earlier
    // than the last one still comes after it.
    store.revoke_agent("a2", T0 - 50_000).unwrap();
    assert_eq!(after(2), [(3, "a2".to_owned())]);

    // The token still resolves; the caller checks revoked_at.
    let token = store.token("tok-a1").unwrap().unwrap();
    assert_eq!(token.agent.revoked_at, Some(T0 + 100));
    assert_eq!(
        store.agent("a2").unwrap().unwrap().revoked_at,
        Some(T0 - 50_000)
    );
}

#[test]
fn append_load_and_dedupe() {
    let (_dir, store) = store_with_teams();
    assert!(store.load_doc(TEAM_A, "conv/1").unwrap().is_none());
    assert_eq!(store.append_changes(TEAM_A, "conv/1", &[], T0).unwrap(), 0);
    assert!(
        store.load_doc(TEAM_A, "conv/1").unwrap().is_none(),
        "an empty append creates nothing"
    );

    let s1 = store
        .append_changes(TEAM_A, "conv/1", &[change(b"one"), change(b"two")], T0)
        .unwrap();
    assert!(s1 > 0);
    let doc = store.load_doc(TEAM_A, "conv/1").unwrap().unwrap();
    assert_eq!(doc.snapshot, None);
    assert_eq!(doc.changes, [b"one".to_vec(), b"two".to_vec()]);
    assert_eq!(doc.last_seq, s1);

    // Everything known: nothing stored, sequence unchanged.
    let s2 = store
        .append_changes(TEAM_A, "conv/1", &[change(b"two"), change(b"one")], T0)
        .unwrap();
    assert_eq!(s2, s1);
    // Mixed: only the new one is stored, duplicates within a batch too.
    let s3 = store
        .append_changes(
            TEAM_A,
            "conv/1",
            &[change(b"one"), change(b"three"), change(b"three")],
            T0,
        )
        .unwrap();
    assert!(s3 > s1);
    let doc = store.load_doc(TEAM_A, "conv/1").unwrap().unwrap();
    assert_eq!(
        doc.changes,
        [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
    assert_eq!(doc.last_seq, s3);
    assert_eq!(store.append_changes(TEAM_A, "conv/1", &[], T0).unwrap(), s3);

    match store.append_changes("nope", "conv/1", &[change(b"x")], T0) {
        Err(StoreError::UnknownTeam(_)) => {}
        other => panic!("expected unknown team, got {other:?}"),
    }
    match store.append_changes("nope", "conv/1", &[], T0) {
        Err(StoreError::UnknownTeam(_)) => {}
        other => panic!("expected unknown team, got {other:?}"),
    }

    let stats = store.stats().unwrap();
    assert_eq!(
        (stats.teams, stats.agents, stats.documents, stats.changes),
        (2, 0, 1, 3)
    );
}

fn item(team: &str, doc: &str, changes: &[&[u8]]) -> AppendItem {
    AppendItem {
        team_id: team.to_owned(),
        doc_id: doc.to_owned(),
        changes: changes.iter().map(|c| change(c)).collect(),
    }
}

#[test]
fn append_batch_commits_items_together_and_fails_them_alone() {
    let (dir, store) = store_with_teams();
    let results = store.append_batch(
        &[
            item(TEAM_A, "conv/1", &[b"a1", b"a2"]),
            item("nope", "conv/9", &[b"lost"]),
            item(TEAM_B, "conv/1", &[b"b1"]),
            item(TEAM_A, "conv/1", &[b"a2", b"a3"]),
            item(TEAM_A, "conv/2", &[]),
        ],
        T0,
    );
    assert_eq!(results.len(), 5);
    let s1 = *results[0].as_ref().unwrap();
    assert!(matches!(results[1], Err(StoreError::UnknownTeam(_))));
    let s3 = *results[2].as_ref().unwrap();
    let s4 = *results[3].as_ref().unwrap();
    assert_eq!(
        *results[4].as_ref().unwrap(),
        0,
        "empty item on an unknown doc"
    );
    assert!(
        s1 < s3 && s3 < s4,
        "sequences follow item order: {s1} {s3} {s4}"
    );

    // Durable and complete after reopening: the failed item left nothing.
    drop(store);
    let store = open(&db_path(&dir));
    let doc = store.load_doc(TEAM_A, "conv/1").unwrap().unwrap();
    assert_eq!(
        doc.changes,
        [b"a1".to_vec(), b"a2".to_vec(), b"a3".to_vec()],
        "the duplicate a2 stored once"
    );
    assert_eq!(doc.last_seq, s4);
    assert_eq!(feed(&store, TEAM_B, 0, "b1"), [("conv/1".to_owned(), s3)]);
    assert!(store.load_doc("nope", "conv/9").unwrap().is_none());
    assert_eq!(store.stats().unwrap().changes, 4);
}

#[test]
fn feed_order_paging_and_head() {
    let (_dir, store) = store_with_teams();
    assert_eq!(store.head(TEAM_A).unwrap(), 0);
    assert!(feed(&store, TEAM_A, 0, "a1").is_empty());

    let sa = store
        .append_changes(TEAM_A, "conv/a", &[change(b"a1")], T0)
        .unwrap();
    let sb = store
        .append_changes(TEAM_A, "conv/b", &[change(b"b1")], T0)
        .unwrap();
    let sc = store
        .append_changes(TEAM_A, "conv/c", &[change(b"c1")], T0)
        .unwrap();
    assert!(sa < sb && sb < sc);
    assert_eq!(
        feed(&store, TEAM_A, 0, "a1"),
        [
            ("conv/a".to_owned(), sa),
            ("conv/b".to_owned(), sb),
            ("conv/c".to_owned(), sc)
        ]
    );

    // Touching conv/a moves it to the end of the feed.
    let sa2 = store
        .append_changes(TEAM_A, "conv/a", &[change(b"a2")], T0)
        .unwrap();
    assert!(sa2 > sc);
    assert_eq!(store.head(TEAM_A).unwrap(), sa2);
    assert_eq!(
        feed(&store, TEAM_A, sb, "a1"),
        [("conv/c".to_owned(), sc), ("conv/a".to_owned(), sa2)]
    );
    assert!(feed(&store, TEAM_A, sa2, "a1").is_empty());

    // Page through with limit 2, using the last seq as the next cursor.
    for i in 0..5 {
        store
            .append_changes(TEAM_A, &format!("conv/p{i}"), &[change(&[i])], T0)
            .unwrap();
    }
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        let page = store.changed_since(TEAM_A, cursor, "a1", 2).unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        seen.extend(page.into_iter().map(|e| e.doc_id));
    }
    assert_eq!(
        seen,
        ["conv/b", "conv/c", "conv/a", "conv/p0", "conv/p1", "conv/p2", "conv/p3", "conv/p4"]
    );
    assert_eq!(cursor, store.head(TEAM_A).unwrap());
    assert!(store.changed_since(TEAM_A, 0, "a1", 0).unwrap().is_empty());
    // A cursor beyond any sequence is fine.
    assert!(feed(&store, TEAM_A, u64::MAX, "a1").is_empty());
}

#[test]
fn private_documents_only_for_their_agent() {
    let (_dir, store) = store_with_teams();
    store
        .append_changes(TEAM_A, "agent/a1", &[change(b"mine")], T0)
        .unwrap();
    store
        .append_changes(TEAM_A, "agent/a2", &[change(b"theirs")], T0)
        .unwrap();
    store
        .append_changes(TEAM_A, "agent/a1x", &[change(b"prefix")], T0)
        .unwrap();
    store
        .append_changes(TEAM_A, "conv/1", &[change(b"shared")], T0)
        .unwrap();
    store
        .append_changes(TEAM_A, "Agent/a2", &[change(b"not private")], T0)
        .unwrap();

    let ids = |reader| -> Vec<String> {
        feed(&store, TEAM_A, 0, reader)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    };
    assert_eq!(ids("a1"), ["agent/a1", "conv/1", "Agent/a2"]);
    assert_eq!(ids("a2"), ["agent/a2", "conv/1", "Agent/a2"]);
    assert_eq!(ids("a3"), ["conv/1", "Agent/a2"]);
    assert_eq!(ids(""), ["conv/1", "Agent/a2"]);
}

#[test]
fn compaction_keeps_load_and_feed() {
    let (_dir, store) = store_with_teams();
    let s1 = store
        .append_changes(TEAM_A, "conv/1", &[change(b"c1"), change(b"c2")], T0)
        .unwrap();
    let other = store
        .append_changes(TEAM_A, "conv/2", &[change(b"x1")], T0)
        .unwrap();
    let s3 = store
        .append_changes(TEAM_A, "conv/1", &[change(b"c3")], T0)
        .unwrap();
    let before_feed = feed(&store, TEAM_A, 0, "a1");

    store
        .compact_doc(TEAM_A, "conv/1", b"SNAP(c1,c2)", s1)
        .unwrap();
    let doc = store.load_doc(TEAM_A, "conv/1").unwrap().unwrap();
    assert_eq!(doc.snapshot.as_deref(), Some(&b"SNAP(c1,c2)"[..]));
    assert_eq!(doc.changes, [b"c3".to_vec()]);
    assert_eq!(doc.last_seq, s3, "compaction does not move the feed");
    assert_eq!(feed(&store, TEAM_A, 0, "a1"), before_feed);
    assert_eq!(store.head(TEAM_A).unwrap(), s3);
    assert_eq!(store.stats().unwrap().changes, 2, "c3 and x1 remain");

    // Other documents are untouched.
    let doc2 = store.load_doc(TEAM_A, "conv/2").unwrap().unwrap();
    assert_eq!(doc2.changes, [b"x1".to_vec()]);
    assert_eq!(doc2.last_seq, other);

    // Changes after a compaction still load after the snapshot.
    let s4 = store
        .append_changes(TEAM_A, "conv/1", &[change(b"c4")], T0)
        .unwrap();
    let doc = store.load_doc(TEAM_A, "conv/1").unwrap().unwrap();
    assert_eq!(doc.changes, [b"c3".to_vec(), b"c4".to_vec()]);
    assert_eq!(doc.last_seq, s4);

    // Compacting everything leaves only the snapshot.
    store
        .compact_doc(TEAM_A, "conv/1", b"SNAP(all)", s4)
        .unwrap();
    let doc = store.load_doc(TEAM_A, "conv/1").unwrap().unwrap();
    assert_eq!(doc.snapshot.as_deref(), Some(&b"SNAP(all)"[..]));
    assert!(doc.changes.is_empty());
    assert_eq!(doc.last_seq, s4);
    assert_eq!(
        feed(&store, TEAM_A, other, "a1"),
        [("conv/1".to_owned(), s4)]
    );

    // A stale snapshot (older than the stored one) is refused.
    match store.compact_doc(TEAM_A, "conv/1", b"old", s1) {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected conflict, got {other:?}"),
    }
    // A snapshot beyond the newest change would hide later changes.
    assert!(matches!(
        store.compact_doc(TEAM_A, "conv/1", b"future", s4 + 1000),
        Err(StoreError::Backend(_))
    ));
    assert!(matches!(
        store.compact_doc(TEAM_A, "conv/none", b"x", 0),
        Err(StoreError::Backend(_))
    ));
    assert!(matches!(
        store.compact_doc("nope", "conv/1", b"x", 0),
        Err(StoreError::UnknownTeam(_))
    ));
    let doc = store.load_doc(TEAM_A, "conv/1").unwrap().unwrap();
    assert_eq!(doc.snapshot.as_deref(), Some(&b"SNAP(all)"[..]));
}

#[test]
fn teams_are_isolated() {
    let (_dir, store) = store_with_teams();
    let a = store
        .append_changes(TEAM_A, "conv/same", &[change(b"from A")], T0)
        .unwrap();
    // The same change (same hash) on team B is a different change.
    let b = store
        .append_changes(
            TEAM_B,
            "conv/same",
            &[change(b"from A"), change(b"from B")],
            T0,
        )
        .unwrap();
    assert_ne!(a, b);
    store
        .append_changes(TEAM_B, "conv/only-b", &[change(b"b only")], T0)
        .unwrap();

    let doc_a = store.load_doc(TEAM_A, "conv/same").unwrap().unwrap();
    assert_eq!(doc_a.changes, [b"from A".to_vec()]);
    assert_eq!(doc_a.last_seq, a);
    let doc_b = store.load_doc(TEAM_B, "conv/same").unwrap().unwrap();
    assert_eq!(doc_b.changes, [b"from A".to_vec(), b"from B".to_vec()]);
    assert!(store.load_doc(TEAM_A, "conv/only-b").unwrap().is_none());

    assert_eq!(feed(&store, TEAM_A, 0, "x"), [("conv/same".to_owned(), a)]);
    assert_eq!(feed(&store, TEAM_B, 0, "x").len(), 2);
    assert_eq!(store.head(TEAM_A).unwrap(), a);
    assert!(store.head(TEAM_B).unwrap() > a);

    // Compacting team A's document leaves team B's alone.
    store
        .compact_doc(TEAM_A, "conv/same", b"SNAP-A", a)
        .unwrap();
    let doc_b = store.load_doc(TEAM_B, "conv/same").unwrap().unwrap();
    assert_eq!(doc_b.snapshot, None);
    assert_eq!(doc_b.changes.len(), 2);

    // Unknown teams see nothing.
    assert!(store.load_doc("nope", "conv/same").unwrap().is_none());
    assert!(feed(&store, "nope", 0, "x").is_empty());
    assert_eq!(store.head("nope").unwrap(), 0);
    assert!(store.agents(Some("nope")).unwrap().is_empty());
}

#[test]
fn everything_survives_reopen() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let (seq, revoked_at) = {
        let store = open(&path);
        store.create_team(TEAM_A, "Support", T0).unwrap();
        store
            .add_agent(TEAM_A, &new_agent("a1", "Ana", "ana@example.com"), T0)
            .unwrap();
        let seq = store
            .append_changes(TEAM_A, "conv/1", &[change(b"c1"), change(b"c2")], T0)
            .unwrap();
        store.compact_doc(TEAM_A, "conv/1", b"SNAP", seq).unwrap();
        let seq = store
            .append_changes(TEAM_A, "conv/1", &[change(b"c3")], T0)
            .unwrap();
        let revoked = store.revoke_agent("a1", T0 + 5).unwrap();
        (seq, revoked.revoked_at)
    };

    let store = open(&path);
    assert_eq!(store.team("Support").unwrap().unwrap().id, TEAM_A);
    let agent = store.agent("a1").unwrap().unwrap();
    assert_eq!(agent.revoked_at, revoked_at);
    assert!(store.token("tok-a1").unwrap().is_some());
    let doc = store.load_doc(TEAM_A, "conv/1").unwrap().unwrap();
    assert_eq!(doc.snapshot.as_deref(), Some(&b"SNAP"[..]));
    assert_eq!(doc.changes, [b"c3".to_vec()]);
    assert_eq!(doc.last_seq, seq);
    assert_eq!(store.head(TEAM_A).unwrap(), seq);

    // Sequences keep growing after reopening.
    let next = store
        .append_changes(TEAM_A, "conv/2", &[change(b"d1")], T0)
        .unwrap();
    assert!(next > seq);
    // Known changes are still recognised.
    assert_eq!(
        store
            .append_changes(TEAM_A, "conv/1", &[change(b"c3")], T0)
            .unwrap(),
        seq
    );
}

#[test]
fn concurrent_appends_get_unique_sequences() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 25;
    let (_dir, store) = store_with_teams();
    let store = Arc::new(store);

    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let doc = format!("conv/{t}");
                (0..ROUNDS)
                    .map(|r| {
                        let bytes = format!("thread {t} round {r}").into_bytes();
                        store
                            .append_changes(TEAM_A, &doc, &[change(&bytes)], T0)
                            .unwrap()
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut all = Vec::new();
    for handle in handles {
        let seqs = handle.join().unwrap();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "per-doc increasing");
        all.extend(seqs);
    }
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(unique.len(), THREADS * ROUNDS, "every sequence is unique");

    let listed = feed(&store, TEAM_A, 0, "x");
    assert_eq!(listed.len(), THREADS);
    let docs: HashSet<_> = listed.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(docs.len(), THREADS);
    assert_eq!(store.head(TEAM_A).unwrap(), *all.iter().max().unwrap());
    for t in 0..THREADS {
        let doc = store
            .load_doc(TEAM_A, &format!("conv/{t}"))
            .unwrap()
            .unwrap();
        assert_eq!(doc.changes.len(), ROUNDS);
    }
    assert_eq!(store.stats().unwrap().changes, (THREADS * ROUNDS) as u64);
}

#[test]
fn two_handles_on_one_file_share_the_feed() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let first = open(&path);
    let second = open(&path);
    first.create_team(TEAM_A, "Support", T0).unwrap();
    let s1 = first
        .append_changes(TEAM_A, "conv/1", &[change(b"one")], T0)
        .unwrap();
    let s2 = second
        .append_changes(TEAM_A, "conv/2", &[change(b"two")], T0)
        .unwrap();
    assert!(s2 > s1);
    assert_eq!(first.head(TEAM_A).unwrap(), s2);
    assert_eq!(feed(&second, TEAM_A, 0, "x").len(), 2);
}

#[test]
fn newer_schema_is_refused() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    drop(open(&path));
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    match SqliteStore::open(&path) {
        Err(StoreError::Backend(msg)) => {
            assert!(msg.contains("99"), "{msg}");
            assert!(msg.contains("newer"), "{msg}");
        }
        Err(other) => panic!("expected a backend error, got {other:?}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

#[test]
fn garbage_file_is_an_error() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::Backend(_))
    ));
}

#[test]
fn store_is_send_and_sync() {
    fn assert_store<T: RelayStore>() {}
    assert_store::<SqliteStore>();
}

#[test]
fn an_actor_is_bound_to_the_first_agent_that_uses_it_per_team() {
    let (_dir, store) = store_with_teams();
    assert_eq!(store.bind_actor("team-a", "abcd", "ana", 1).unwrap(), "ana");
    assert_eq!(store.bind_actor("team-a", "abcd", "ben", 2).unwrap(), "ana");
    assert_eq!(store.bind_actor("team-a", "abcd", "ana", 3).unwrap(), "ana");
    // Another team's binding is its own.
    assert_eq!(
        store.bind_actor("team-b", "abcd", "cleo", 4).unwrap(),
        "cleo"
    );
}

#[test]
fn the_follow_through_index_adds_replaces_removes_and_keeps_teams_apart() {
    let (dir, store) = store_with_teams();
    let record = |id: &str, since: i64, follow_up: Option<i64>| AwaitingRecord {
        conversation_id: id.into(),
        silent_since: since,
        follow_up_at: follow_up,
    };
    assert_eq!(store.awaiting_cursor(TEAM_A).unwrap(), 0);
    store
        .record_awaiting(
            TEAM_A,
            &[
                ("c2".into(), Some(record("c2", T0 + 5, None))),
                ("c1".into(), Some(record("c1", T0, Some(T0 + 99)))),
            ],
            7,
        )
        .unwrap();
    assert_eq!(
        store.awaiting(TEAM_A).unwrap(),
        [record("c1", T0, Some(T0 + 99)), record("c2", T0 + 5, None)],
        "oldest silence first"
    );
    assert!(store.awaiting(TEAM_B).unwrap().is_empty());
    assert_eq!(store.awaiting_cursor(TEAM_B).unwrap(), 0);
    // c1 answered (removed), c2 nudged (replaced); an older position never
    // moves the cursor back.
    store
        .record_awaiting(
            TEAM_A,
            &[
                ("c1".into(), None),
                ("c2".into(), Some(record("c2", T0 + 50, None))),
            ],
            3,
        )
        .unwrap();
    assert_eq!(store.awaiting_cursor(TEAM_A).unwrap(), 7);
    drop(store);
    let store = open(&db_path(&dir));
    assert_eq!(
        store.awaiting(TEAM_A).unwrap(),
        [record("c2", T0 + 50, None)]
    );
}
