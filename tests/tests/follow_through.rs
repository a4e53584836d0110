//! The team's auto-close against a real relay: a pending conversation whose
//! customer stays silent is closed by the relay as "no reply"; one with a
//! later follow-up date, or that is no longer pending, is left alone; and
//! nothing closes while the team has auto-close off.
//!
//! The relay's test hook `--fault-clock-ahead-hours` lets its follow-through
//! see the clock ahead (the business days pass without waiting for them);
//! the close itself is stamped with the real time.

use shoal_e2e::{eventually, Client, Relay};
use std::time::Duration;

fn status(ana: &Client, conv: &str) -> (String, String) {
    let shown = ana.json(&["show", conv, "--no-mark-seen"]);
    let c = &shown["conversation"];
    (
        c["status"].as_str().unwrap_or_default().to_owned(),
        c["resolution"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn silent_pending_conversations_close_as_no_reply_on_the_relay() {
    let relay = Relay::start_with(&[
        "--follow-through-secs",
        "1",
        "--fault-clock-ahead-hours",
        "200",
    ]);
    let team = relay.team("Northwind");
    let token = relay.agent_as(&team, "Ana", "ana@northwind.example", "admin");
    let ana = Client::new();
    ana.login(&relay, &token);
    // Every hour of every day is business time: one business day ends by
    // tomorrow midnight, well inside the 200 hours the relay looks ahead.
    ana.ok(&[
        "team",
        "hours",
        "--time-zone",
        "UTC",
        "--days",
        "mon-sun",
        "--from",
        "00:00",
        "--to",
        "24:00",
    ]);

    let silent = ana.new_conversation("vera@acme.example", "Kettle", "It broke");
    ana.ok(&["reply", &silent, "--body", "Descale it, please."]);
    ana.ok(&["status", &silent, "pending"]);
    let later = ana.new_conversation("omar@acme.example", "Lid", "Loose lid");
    ana.ok(&["status", &later, "pending", "--follow-up", "30d"]);
    let reopened = ana.new_conversation("lea@acme.example", "Cord", "Short cord");
    ana.ok(&["status", &reopened, "pending"]);
    ana.ok(&["status", &reopened, "open"]);
    ana.sync();

    // Auto-close off: rounds pass (one a second), nothing closes.
    std::thread::sleep(Duration::from_secs(3));
    ana.sync();
    assert_eq!(status(&ana, &silent).0, "pending", "auto-close is off");

    ana.ok(&["team", "auto-close", "1"]);
    ana.sync();
    assert!(
        eventually(Duration::from_secs(30), || {
            ana.sync();
            status(&ana, &silent).0 == "closed"
        }),
        "the silent conversation was not closed"
    );
    assert_eq!(status(&ana, &silent), ("closed".into(), "no-reply".into()));
    // Give the relay a few more rounds to do anything wrong.
    std::thread::sleep(Duration::from_secs(3));
    ana.sync();
    assert_eq!(
        status(&ana, &later).0,
        "pending",
        "not before its follow-up date"
    );
    assert_eq!(status(&ana, &reopened).0, "open");
    let report = ana.json(&["report", "--weeks", "1"]);
    assert_eq!(report["weeks"][0]["closed_no_reply"], 1, "{report}");
}
