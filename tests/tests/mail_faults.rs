//! The network failing in the middle of an IMAP or SMTP command: real
//! dovecot and OpenSMTPD behind a [`FaultProxy`] that cuts or stalls the
//! relay's connection at a chosen byte. Each test names the windows its
//! faults hit (the proxy's log of fired faults) and checks that every mail
//! is imported exactly once and every reply sent exactly once.

use serde_json::Value;
use shoal_e2e::mail::{connect_mailbox_at, customer_mail, MailServers, ALICE, SUPPORT};
use shoal_e2e::tcp_fault::{Action, Fault, FaultProxy};
use shoal_e2e::{eventually, Client, Relay};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

/// A relay whose team has Ana on a fresh client, with the support mailbox
/// reached at `(imap, smtp)` ports.
fn relay_via(mail: &MailServers, ports: (u16, u16), serve: &[&str]) -> (Relay, Client) {
    let relay = Relay::start_with(serve);
    let team = relay.team("Northwind");
    let token = relay.agent(&team, "Ana", "ana@northwind.example");
    connect_mailbox_at(&relay, mail, "Northwind", SUPPORT, ports);
    let ana = Client::new();
    ana.login(&relay, &token);
    (relay, ana)
}

fn quarantine(relay: &Relay) -> Vec<Value> {
    let out = relay.admin(&["mail", "quarantine", "list", "--json"]);
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Each conversation of the inbox with its entries' bodies.
fn conversations(ana: &Client) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for row in ana.inbox() {
        let id = row["conversation_id"].as_str().unwrap();
        let shown = ana.json(&["show", id]);
        out.push(
            shown["conversation"]["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["body"].as_str().unwrap_or_default().to_owned())
                .collect(),
        );
    }
    out.sort();
    out
}

/// A body of about 6 KB, so that a cut at byte 1500 of the answer lands
/// inside the message's literal.
fn long_body(i: usize) -> String {
    (0..120)
        .map(|line| format!("Order {i}, line {line}: the parcel never arrived."))
        .collect::<Vec<_>>()
        .join("\n")
}

fn deliver_three(mail: &MailServers) {
    for i in 0..3 {
        mail.deliver(
            &customer_mail(
                &format!("parcel-{i}@example.test"),
                &format!("Parcel {i}"),
                "",
                &long_body(i),
            ),
            SUPPORT,
        );
    }
}

/// Every mail once, each in its own conversation of one entry, nothing
/// set aside.
fn assert_imported_once(relay: &Relay, ana: &Client) {
    let mut seen = Vec::new();
    assert!(
        eventually(WAIT, || {
            ana.sync();
            seen = conversations(ana);
            seen.len() == 3
        }),
        "not every mail arrived: {seen:?}"
    );
    // Later rounds would show a duplicate: give them time.
    std::thread::sleep(Duration::from_secs(3));
    ana.sync();
    let seen = conversations(ana);
    assert_eq!(seen.len(), 3, "one conversation per mail");
    for (i, entries) in seen.iter().enumerate() {
        assert_eq!(entries.len(), 1, "mail {i} imported once: {entries:?}");
        assert!(
            entries[0].contains(&format!("Order {i}, line 119")),
            "mail {i} whole"
        );
    }
    assert!(quarantine(relay).is_empty(), "{:?}", quarantine(relay));
}

/// The IMAP connection is cut three times while the relay fetches a
/// message: before any byte of the answer, inside the answer's first line,
/// and inside the message's body. Each mail is imported exactly once.
#[test]
fn imap_cut_mid_fetch_imports_every_mail_exactly_once() {
    let mail = MailServers::start();
    deliver_three(&mail);
    let imap = FaultProxy::start(mail.imap_port());
    imap.inject([
        Fault::new(b"UID FETCH", Action::CutAfterReply(0)),
        Fault::new(b"UID FETCH", Action::CutAfterReply(30)),
        Fault::new(b"UID FETCH", Action::CutAfterReply(1500)),
    ]);
    let (relay, ana) = relay_via(&mail, (imap.port(), mail.smtp_port()), &[]);
    assert_imported_once(&relay, &ana);
    assert_eq!(imap.fired().len(), 3, "every cut landed inside a FETCH");
    assert!(
        imap.connections() >= 4,
        "the relay reconnected after each cut"
    );
}

/// Before: the relay waited forever for an IMAP server that stopped
/// answering mid-FETCH, and the mailbox's mail stopped. Now a server
/// silent for `--mail-timeout-secs` is dropped and the relay reconnects.
#[test]
fn imap_stalled_mid_fetch_is_dropped_and_mail_goes_on() {
    let mail = MailServers::start();
    deliver_three(&mail);
    let imap = FaultProxy::start(mail.imap_port());
    imap.inject([Fault::new(b"UID FETCH", Action::StallAfterReply(1500))]);
    let (relay, ana) = relay_via(
        &mail,
        (imap.port(), mail.smtp_port()),
        &["--mail-timeout-secs", "3"],
    );
    assert_imported_once(&relay, &ana);
    assert_eq!(imap.fired().len(), 1, "the stall landed inside a FETCH");
}

fn first_conversation(mail: &MailServers, ana: &Client) -> String {
    mail.deliver(
        &customer_mail(
            "refund-1@example.test",
            "Refund?",
            "",
            "Where is my refund?",
        ),
        SUPPORT,
    );
    let mut rows = Vec::new();
    assert!(eventually(WAIT, || {
        ana.sync();
        rows = ana.inbox();
        rows.len() == 1
    }));
    let id = rows[0]["conversation_id"].as_str().unwrap().to_owned();
    ana.ok(&["show", &id]);
    id
}

/// Replies sent through `smtp` (a proxy) reach Alice exactly once once
/// every fault queued on it has fired.
fn reply_goes_out_once(mail: &MailServers, relay: &Relay, ana: &Client, smtp: &FaultProxy) {
    let conversation = first_conversation(mail, ana);
    ana.ok(&[
        "reply",
        &conversation,
        "--body",
        "Your refund of 42 euros left today.",
    ]);
    ana.sync();
    let received = mail.wait_for_messages(ALICE, 1, Duration::from_secs(60));
    assert!(String::from_utf8_lossy(&received[0]).contains("42 euros"));
    let mut delivery = Value::Null;
    assert!(
        eventually(WAIT, || {
            ana.sync();
            delivery = ana.json(&["show", &conversation])["conversation"]["entries"][1]["delivery"]
                .clone();
            delivery["state"] == "sent"
        }),
        "{delivery}"
    );
    assert_eq!(smtp.pending(), 0, "every fault fired before the reply went");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(mail.messages(ALICE).len(), 1, "sent exactly once");
    let audit: Value =
        serde_json::from_str(&relay.admin(&["mail", "audit", "--team", "Northwind", "--json"]))
            .unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
}

/// The SMTP connection is cut three times while the relay sends a reply:
/// after `DATA` (its answer lost), inside the message (after the text part,
/// before the HTML part) and right before the final dot. The server drops
/// each unfinished message; the relay retries; the customer gets one copy.
#[test]
fn smtp_cut_mid_data_sends_the_reply_exactly_once() {
    let mail = MailServers::start();
    let smtp = FaultProxy::start(mail.smtp_port());
    smtp.inject([
        Fault::new(b"DATA\r\n", Action::CutAfterReply(0)),
        Fault::new(b"text/html", Action::CutBefore),
        Fault::new(b"\r\n.\r\n", Action::CutBefore),
    ]);
    let (relay, ana) = relay_via(
        &mail,
        (mail.imap_port(), smtp.port()),
        &["--undo-send-secs", "1", "--mail-retry-secs", "1"],
    );
    reply_goes_out_once(&mail, &relay, &ana, &smtp);
    assert_eq!(smtp.fired().len(), 3);
}

/// Before: the outbox waited forever for an SMTP server that stopped
/// reading mid-message (lettre's timeout covers only connecting), and no
/// team's replies went out any more. Now the attempt times out after
/// `--mail-timeout-secs` and is retried.
#[test]
fn smtp_stalled_mid_data_times_out_and_the_reply_goes_once() {
    let mail = MailServers::start();
    let smtp = FaultProxy::start(mail.smtp_port());
    smtp.inject([Fault::new(b"\r\n.\r\n", Action::StallBefore)]);
    let (relay, ana) = relay_via(
        &mail,
        (mail.imap_port(), smtp.port()),
        &[
            "--undo-send-secs",
            "1",
            "--mail-retry-secs",
            "1",
            "--mail-timeout-secs",
            "3",
        ],
    );
    reply_goes_out_once(&mail, &relay, &ana, &smtp);
    assert_eq!(smtp.fired().len(), 1);
}

/// The one window SMTP cannot close (RFC 1047): the server has the whole
/// message and the connection breaks before its "250 OK" arrives. The relay
/// cannot tell this from a message that never arrived, and losing a reply is
/// worse than a duplicate, so it sends again, with the same Message-ID, by
/// which the customer's mail system shows one message. This test pins that
/// behaviour: two copies, one Message-ID, one `sent` in the audit.
#[test]
fn smtp_cut_after_the_final_dot_resends_with_the_same_message_id() {
    let mail = MailServers::start();
    let smtp = FaultProxy::start(mail.smtp_port());
    smtp.inject([Fault::new(b"\r\n.\r\n", Action::CutAfterReply(0))]);
    let (relay, ana) = relay_via(
        &mail,
        (mail.imap_port(), smtp.port()),
        &["--undo-send-secs", "1", "--mail-retry-secs", "1"],
    );
    let conversation = first_conversation(&mail, &ana);
    ana.ok(&["reply", &conversation, "--body", "Refund sent."]);
    ana.sync();
    let received = mail.wait_for_messages(ALICE, 2, Duration::from_secs(60));
    let ids: Vec<String> = received
        .iter()
        .map(|raw| {
            String::from_utf8_lossy(raw)
                .lines()
                .find_map(|l| l.strip_prefix("Message-ID: ").map(str::to_owned))
                .expect("a Message-ID")
        })
        .collect();
    assert_eq!(ids[0], ids[1], "the copies share their Message-ID");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(mail.messages(ALICE).len(), 2, "no third copy");
    let audit: Value =
        serde_json::from_str(&relay.admin(&["mail", "audit", "--team", "Northwind", "--json"]))
            .unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(smtp.fired().len(), 1);
}
