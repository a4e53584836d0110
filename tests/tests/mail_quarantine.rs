//! One odd e-mail never stops a team's mail: real dovecot and OpenSMTPD on
//! 127.0.0.1, a real relay reading the support mailbox, a real client.

use serde_json::Value;
use shoal_e2e::mail::{mail_from, relay_with_mailbox, MailServers, ALICE, SUPPORT};
use shoal_e2e::{eventually, Client, Relay};

use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// Syncs until a conversation with `subject` is in the inbox; returns it.
fn conversation(ana: &Client, subject: &str) -> Value {
    let mut found = None;
    let ok = eventually(WAIT, || {
        ana.sync();
        found = ana.inbox().into_iter().find(|r| r["subject"] == subject);
        found.is_some()
    });
    assert!(ok, "no conversation {subject:?}; inbox: {:#?}", ana.inbox());
    found.unwrap()
}

fn quarantine(relay: &Relay) -> Vec<Value> {
    let out = relay.admin(&["mail", "quarantine", "list", "--json"]);
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Before: a sender such as `cron@localhost` failed the customer's address
/// check, the import failed, and every later mail of the mailbox waited
/// behind it for ever.
#[test]
fn a_sender_no_reply_can_reach_is_kept_and_later_mail_flows() {
    let mail = MailServers::start();
    let (relay, ana) = relay_with_mailbox(&mail, &[]);
    mail.deliver(
        &mail_from(
            "Cron Daemon <cron@localhost>",
            "cron-1@localhost",
            "Backup failed",
            "",
            "Disk full.",
        ),
        SUPPORT,
    );
    mail.deliver(
        &mail_from(
            &format!("Alice Martin <{ALICE}>"),
            "alice-1@example.test",
            "Kettle broken",
            "",
            "Help.",
        ),
        SUPPORT,
    );
    conversation(&ana, "Kettle broken");
    let cron = conversation(&ana, "Backup failed");
    let id = cron["conversation_id"].as_str().unwrap();
    let shown = ana.json(&["show", id]);
    let entry = &shown["conversation"]["entries"][0];
    let warnings = entry["email"]["warnings"].to_string();
    assert!(warnings.contains("cron@localhost"), "{warnings}");
    assert_eq!(
        shown["customer"]["emails"].as_array().map(Vec::len),
        Some(0)
    );
    assert!(quarantine(&relay).is_empty());
}

#[test]
fn a_mail_that_cannot_be_imported_is_set_aside_listed_retried_and_dropped() {
    let mail = MailServers::start();
    let hook = ["--mail-poll-secs", "1", "--fault-ingest-subject", "POISON"];
    let (mut relay, ana) = relay_with_mailbox(&mail, &hook);
    let alice = format!("Alice Martin <{ALICE}>");
    mail.deliver(
        &mail_from(&alice, "p-1@example.test", "POISON one", "", "x"),
        SUPPORT,
    );
    mail.deliver(
        &mail_from(&alice, "ok-1@example.test", "After the poison", "", "y"),
        SUPPORT,
    );
    // The mail after it flows.
    conversation(&ana, "After the poison");
    let held = quarantine(&relay);
    assert_eq!(held.len(), 1, "{held:#?}");
    let q = &held[0];
    assert_eq!(q["subject"], "POISON one");
    assert_eq!(q["from"], ALICE);
    assert_eq!(q["message_id"], "p-1@example.test");
    assert!(q["reason"].as_str().unwrap().contains("fault hook"), "{q}");
    let first = q["id"].as_i64().unwrap().to_string();

    // A retry while the cause remains fails again and says so.
    relay.admin(&["mail", "quarantine", "retry", &first]);
    assert!(eventually(WAIT, || quarantine(&relay)[0]["attempts"] == 2));
    assert_eq!(quarantine(&relay)[0]["retry"], false);

    // A second one, dropped: never imported.
    mail.deliver(
        &mail_from(&alice, "p-2@example.test", "POISON two", "", "z"),
        SUPPORT,
    );
    assert!(eventually(WAIT, || quarantine(&relay).len() == 2));
    let second = quarantine(&relay)[1]["id"].as_i64().unwrap().to_string();
    relay.admin(&["mail", "quarantine", "drop", &second]);
    let unknown = relay.admin_output(&["mail", "quarantine", "drop", &second]);
    assert!(!unknown.status.success());

    // The cause fixed (here: the relay without the hook), a retry imports it.
    relay.kill();
    relay.restart_with(&["--mail-poll-secs", "1"]);
    relay.admin(&["mail", "quarantine", "retry", &first]);
    conversation(&ana, "POISON one");
    assert!(eventually(WAIT, || quarantine(&relay).is_empty()));
    std::thread::sleep(Duration::from_secs(2));
    ana.sync();
    let poisons = ana
        .inbox()
        .iter()
        .filter(|r| r["subject"].as_str().unwrap_or("").starts_with("POISON"))
        .count();
    assert_eq!(poisons, 1, "the dropped one stays unimported");
}
