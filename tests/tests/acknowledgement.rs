//! The automatic acknowledgement end to end: real dovecot and OpenSMTPD, a
//! real relay, a client setting it up as an admin. It goes once to a
//! customer starting a conversation, says when to expect the answer, never
//! goes to machines or the team's own address, stops no clock and stands in
//! no agent's way.

use serde_json::Value;
use shoal_e2e::mail::{
    connect_mailbox, customer_mail, mail_from, MailServers, ALICE, BOB, SUPPORT,
};
use shoal_e2e::{eventually, Client, Relay};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const PROMISE: &str = "you will hear from us by";

/// A relay with Northwind, its support mailbox, and Ana as an admin on a
/// client; the team works round the clock and acknowledges new mail.
fn set_up(mail: &MailServers, serve: &[&str]) -> (Relay, Client) {
    let relay = Relay::start_with(serve);
    let team = relay.team("Northwind");
    let token = relay.agent_as(&team, "Ana", "ana@northwind.example", "admin");
    connect_mailbox(&relay, mail, "Northwind", SUPPORT);
    let ana = Client::new();
    ana.login(&relay, &token);
    ana.ok(&[
        "team", "hours", "--days", "mon-sun", "--from", "00:00", "--to", "24:00",
    ]);
    ana.ok(&["team", "ack", SUPPORT]);
    ana.sync();
    (relay, ana)
}

fn inbox_len(ana: &Client, n: usize) -> Vec<Value> {
    let mut rows = Vec::new();
    assert!(
        eventually(WAIT, || {
            ana.sync();
            rows = ana.json(&["inbox", "--view", "all"])["conversations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            rows.len() == n
        }),
        "inbox never had {n} rows: {rows:#?}"
    );
    rows
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

fn acknowledgements(mail: &MailServers, address: &str) -> usize {
    mail.messages(address)
        .iter()
        .filter(|m| {
            String::from_utf8_lossy(m)
                .replace("=\r\n", "")
                .contains(PROMISE)
        })
        .count()
}

#[test]
fn new_conversations_are_acknowledged_once_and_never_to_machines_or_the_team() {
    let mail = MailServers::start();
    let (_relay, ana) = set_up(&mail, &["--undo-send-secs", "1", "--mail-retry-secs", "1"]);

    // Alice starts a conversation: the acknowledgement answers it, threaded,
    // saying when the answer is due and when the team works.
    mail.deliver(
        &customer_mail("fire-1@example.test", "Printer on fire", "", "Help!"),
        SUPPORT,
    );
    let got = mail.wait_for_messages(ALICE, 1, WAIT);
    let raw = String::from_utf8_lossy(&got[0]).replace("=\r\n", "");
    assert!(raw.contains(PROMISE), "{raw}");
    assert!(raw.contains("Hello Alice,"), "{raw}");
    assert!(
        raw.contains("every day, 00:00–24:00 (UTC)")
            || raw.contains("every day, 00:00=E2=80=9324:00 (UTC)"),
        "{raw}"
    );
    assert_eq!(header(&raw, "In-Reply-To"), Some("<fire-1@example.test>"));
    assert_eq!(header(&raw, "Subject"), Some("Re: Printer on fire"));

    // In the conversation it is an automatic reply, sent; the clock runs on.
    let rows = inbox_len(&ana, 1);
    assert!(rows[0]["reply_due"].is_i64(), "{:?}", rows[0]);
    let conv = rows[0]["conversation_id"].as_str().unwrap().to_owned();
    let mut ack = Value::Null;
    assert!(
        eventually(WAIT, || {
            ana.sync();
            ack = ana.json(&["show", &conv])["conversation"]["entries"][1].clone();
            ack["delivery"]["state"] == "sent"
        }),
        "{ack}"
    );
    assert_eq!(ack["automatic"], true, "{ack}");
    assert_eq!(ack["author"], "relay");

    // Alice again, about something else, within the interval: no second one.
    mail.deliver(
        &customer_mail(
            "fire-2@example.test",
            "Also: invoice",
            "",
            "And my invoice?",
        ),
        SUPPORT,
    );
    // An auto-reply from Bob, a bounce, and mail from the team's own address.
    mail.deliver(
        &mail_from(
            BOB,
            "ooo-1@example.test",
            "Out of office",
            "Auto-Submitted: auto-replied\r\n",
            "Away.",
        ),
        SUPPORT,
    );
    mail.deliver(
        &mail_from(
            "MAILER-DAEMON@example.test",
            "bounce-1@example.test",
            "Undelivered Mail Returned to Sender",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n",
            "--b\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n--b--",
        ),
        SUPPORT,
    );
    mail.deliver(
        &mail_from(SUPPORT, "self-1@shoal.test", "Note to self", "", "Loop?"),
        SUPPORT,
    );
    let rows = inbox_len(&ana, 5);
    // None of the four has an acknowledgement in it, sent or not.
    for row in rows
        .iter()
        .filter(|r| r["conversation_id"] != conv.as_str())
    {
        let id = row["conversation_id"].as_str().unwrap();
        let shown = ana.json(&["show", id, "--no-mark-seen"]);
        let entries = shown["conversation"]["entries"].as_array().unwrap();
        assert!(
            entries.iter().all(|e| e["automatic"] != true),
            "{}: {entries:#?}",
            row["subject"]
        );
    }
    // Give the outbox time to (wrongly) send any of them.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        acknowledgements(&mail, ALICE),
        1,
        "one per customer per interval"
    );
    assert_eq!(mail.messages(BOB).len(), 0, "never to an auto-reply");
    assert_eq!(
        acknowledgements(&mail, SUPPORT),
        0,
        "never to the team itself"
    );

    // Ana's answer is not held by the acknowledgement she never opened.
    ana.ok(&["show", &conv]);
    ana.ok(&["reply", &conv, "--body", "The fire brigade is on its way."]);
    ana.sync();
    mail.wait_for_messages(ALICE, 2, WAIT);
    let mut state = Value::Null;
    assert!(
        eventually(WAIT, || {
            ana.sync();
            state = ana.json(&["show", &conv])["conversation"]["entries"][2]["delivery"]["state"]
                .clone();
            state == "sent"
        }),
        "{state}"
    );
}

/// An agent who answers while the acknowledgement waits for its turn makes
/// it pointless: it is withdrawn, and the customer gets only the answer.
#[test]
fn an_answer_before_the_acknowledgement_leaves_goes_alone() {
    let mail = MailServers::start();
    let (_relay, ana) = set_up(&mail, &["--undo-send-secs", "8", "--mail-retry-secs", "1"]);
    mail.deliver(
        &customer_mail("quick-1@example.test", "Quick one", "", "Is it open today?"),
        SUPPORT,
    );
    let rows = inbox_len(&ana, 1);
    let conv = rows[0]["conversation_id"].as_str().unwrap().to_owned();
    ana.ok(&["show", &conv]);
    ana.ok(&["reply", &conv, "--body", "Yes, until six."]);
    ana.sync();
    let got = mail.wait_for_messages(ALICE, 1, WAIT);
    assert!(String::from_utf8_lossy(&got[0]).contains("until six"));
    let mut ack = Value::Null;
    assert!(
        eventually(WAIT, || {
            ana.sync();
            ack = ana.json(&["show", &conv])["conversation"]["entries"][1].clone();
            ack["delivery"]["state"] == "cancelled"
        }),
        "{ack}"
    );
    assert!(
        ack["delivery"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("answered first"),
        "{ack}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(mail.messages(ALICE).len(), 1, "only the answer");
}
