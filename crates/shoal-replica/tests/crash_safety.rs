//! Crash safety: a writer process is killed with SIGKILL in the middle of a
//! write loop (with background compaction running); the reopened replica
//! holds every change the writer acknowledged and is not corrupt.

mod common;

use common::*;
use shoal_core::{ConversationId, CustomerId};
use shoal_replica::Replica;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "SHOAL_CRASH_CHILD";

/// The writer: runs only when the parent test starts this binary with
/// `SHOAL_CRASH_CHILD=<replica path>`; prints `ack …` after each commit.
#[test]
fn crash_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let conv = ConversationId::parse(&std::env::var("SHOAL_CRASH_CONV").unwrap()).unwrap();
    let customer = CustomerId::parse(&std::env::var("SHOAL_CRASH_CUSTOMER").unwrap()).unwrap();
    let start: usize = std::env::var("SHOAL_CRASH_START").unwrap().parse().unwrap();
    let mut r = Replica::open(std::path::Path::new(&path)).unwrap();
    let mut out = std::io::stdout().lock();
    for i in start.. {
        r.note(&conv, &format!("crash-note-{i}")).unwrap();
        writeln!(out, "ack note {i}").unwrap();
        if i % 3 == 0 {
            let len = r.customer(&customer).unwrap().notes.chars().count();
            r.splice_customer_notes(&customer, len, 0, &format!("<{i}>"))
                .unwrap();
            writeln!(out, "ack splice {i}").unwrap();
        }
        if i % 10 == 0 {
            let (id, _) = phone_call(
                &mut r,
                &format!("crash{i}@acme.example"),
                &format!("crash-subject-{i}"),
                "Hello",
            );
            writeln!(out, "ack conversation {id}").unwrap();
        }
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_mid_write_loses_no_acknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let path = dir.path().join("ana.sqlite3");
    let (conv, customer) = {
        let mut r = founder(dir.path(), &clock);
        phone_call(&mut r, "maria@acme.example", "Crash test", "Hello")
    };
    let mut notes = Vec::new();
    let mut splices = Vec::new();
    let mut conversations = Vec::new();
    let mut next = 0usize;
    // Three kills at different depths; the later ones land while compaction
    // of the growing documents is under way.
    for kill_after in [5usize, 60, 150] {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_child_writer",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .env("SHOAL_CRASH_CONV", conv.as_str())
            .env("SHOAL_CRASH_CUSTOMER", customer.as_str())
            .env("SHOAL_CRASH_START", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acks = 0;
        while let Some(Ok(line)) = lines.next() {
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some("ack"), Some("note"), Some(i)) => {
                    notes.push(i.parse::<usize>().unwrap());
                    acks += 1;
                }
                (Some("ack"), Some("splice"), Some(i)) => splices.push(i.parse::<usize>().unwrap()),
                (Some("ack"), Some("conversation"), Some(id)) => {
                    conversations.push(ConversationId::parse(id).unwrap())
                }
                _ => continue,
            }
            if acks == kill_after {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
        // Acknowledgements already in the pipe when the kill landed count too.
        for line in lines.map_while(Result::ok) {
            if let Some(i) = line.strip_prefix("ack note ") {
                notes.push(i.parse().unwrap());
            } else if let Some(i) = line.strip_prefix("ack splice ") {
                splices.push(i.parse().unwrap());
            } else if let Some(id) = line.strip_prefix("ack conversation ") {
                conversations.push(ConversationId::parse(id).unwrap());
            }
        }
        child.wait().unwrap();
        next = notes.iter().max().map_or(0, |m| m + 1) + 1;

        let mut r = Replica::open(&path).unwrap();
        assert!(
            r.check().unwrap().is_empty(),
            "replica is intact after the kill"
        );
        let c = r.conversation(&conv).unwrap();
        for i in &notes {
            let body = format!("crash-note-{i}");
            assert!(
                c.entries.iter().any(|e| e.body == body),
                "acknowledged {body} is missing"
            );
        }
        let customer_notes = r.customer(&customer).unwrap().notes;
        for i in &splices {
            assert!(
                customer_notes.contains(&format!("<{i}>")),
                "acknowledged splice {i} is missing"
            );
        }
        for id in &conversations {
            r.conversation(id).unwrap();
        }
        // The derived tables agree with the documents.
        let dump = r.derived_dump().unwrap();
        r.reindex(&mut |_, _| {}).unwrap();
        assert_eq!(
            r.derived_dump().unwrap(),
            dump,
            "derived rows were written with their change"
        );
    }
    assert!(
        notes.len() >= 215,
        "the writer made progress: {} notes",
        notes.len()
    );
}
