//! The email channel end to end: real dovecot and OpenSMTPD on 127.0.0.1, a
//! real relay reading the support mailbox, real clients syncing.

use serde_json::Value;
use shoal_e2e::mail::{
    connect_mailbox, customer_mail, relay_with_mailbox, MailServers, ALICE, BOB, DEFAULT_USERS,
    SUPPORT,
};
use shoal_e2e::{eventually, Client, Relay};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Syncs until `check` holds for the inbox rows.
fn synced_until(ana: &Client, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut rows = Vec::new();
    let ok = eventually(WAIT, || {
        ana.sync();
        rows = ana.inbox();
        check(&rows)
    });
    assert!(ok, "inbox never matched: {rows:#?}");
    rows
}

fn show(ana: &Client, conversation: &str) -> Value {
    ana.json(&["show", conversation])
}

#[test]
fn customer_mail_becomes_a_conversation_and_answers_thread_into_it() {
    let mail = MailServers::start();
    let (relay, ana) = relay_with_mailbox(&mail, &[]);
    // The password is nowhere in the relay's database files.
    let password = mail.credentials(SUPPORT).password;
    for entry in std::fs::read_dir(relay.data()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("relay.sqlite3") {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes
                    .windows(password.len())
                    .any(|w| w == password.as_bytes()),
                "{} holds the mailbox password",
                path.display()
            );
        }
    }
    let ben_token = relay.agent("Northwind", "Ben", "ben@northwind.example");
    let ben = Client::new();
    ben.login(&relay, &ben_token);

    mail.deliver(
        &customer_mail(
            "kettle-1@example.test",
            "Kettle arrived broken",
            "",
            "Hello,\r\nthe lid is cracked. Can you help?\r\nAlice",
        ),
        SUPPORT,
    );
    let rows = synced_until(&ana, |rows| rows.len() == 1);
    // Every agent's replica gets it.
    synced_until(&ben, |rows| {
        rows.len() == 1 && rows[0]["subject"] == "Kettle arrived broken"
    });
    let row = &rows[0];
    assert_eq!(row["subject"], "Kettle arrived broken");
    assert_eq!(row["customer_email"], ALICE);
    assert_eq!(row["customer_name"], "Alice Martin");
    assert_eq!(row["channel"], "email");
    let conversation = row["conversation_id"].as_str().unwrap().to_owned();
    let shown = show(&ana, &conversation);
    let entries = shown["conversation"]["entries"].as_array().unwrap();
    assert!(entries[0]["body"]
        .as_str()
        .unwrap()
        .contains("the lid is cracked"));

    // Closed; the customer answers by plain e-mail: same conversation, open.
    ana.ok(&["status", &conversation, "closed"]);
    ana.sync();
    mail.deliver(
        &customer_mail(
            "kettle-2@example.test",
            "Re: Kettle arrived broken",
            "In-Reply-To: <kettle-1@example.test>\r\nReferences: <kettle-1@example.test>\r\n",
            "Any news?\r\n\r\nOn Thu, 26 Nov 2026, Alice Martin wrote:\r\n> Hello,\r\n> the lid is cracked.",
        ),
        SUPPORT,
    );
    let rows = synced_until(&ana, |rows| rows.len() == 1 && rows[0]["status"] == "open");
    assert_eq!(rows[0]["conversation_id"], conversation.as_str());
    let shown = show(&ana, &conversation);
    let entries = shown["conversation"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[1]["body"].as_str().unwrap().trim(),
        "Any news?",
        "the quoted earlier message is trimmed for display"
    );

    // No reply headers, but a reply subject from the same customer: the
    // subject fallback threads it too. A new subject opens a new one.
    mail.deliver(
        &customer_mail(
            "kettle-3@example.test",
            "RE: kettle arrived broken",
            "",
            "Hello?",
        ),
        SUPPORT,
    );
    mail.deliver(
        &customer_mail(
            "toaster-1@example.test",
            "Toaster question",
            "",
            "Does it toast bagels?",
        ),
        SUPPORT,
    );
    let rows = synced_until(&ana, |rows| rows.len() == 2);
    let kettle = show(&ana, &conversation);
    assert_eq!(
        kettle["conversation"]["entries"].as_array().unwrap().len(),
        3
    );
    assert!(rows.iter().any(|r| r["subject"] == "Toaster question"));
}

#[test]
fn a_relay_killed_while_importing_loses_and_duplicates_nothing() {
    let mail = MailServers::start();
    // Each import pauses 200 ms between recording its intent and changing
    // the documents (a test hook), so the kill lands inside that window.
    let (mut relay, ana) = relay_with_mailbox(&mail, &["--fault-ingest-pause-ms", "200"]);
    for i in 0..30 {
        mail.deliver(
            &customer_mail(
                &format!("bulk-{i}@example.test"),
                &format!("Question {i}"),
                "",
                "Hello",
            ),
            SUPPORT,
        );
    }
    // Before, this counted stored changes, which the team-document writer
    // also bumps at start: the kill could land before any import began.
    let imported = |relay: &Relay| relay.metric("shoal_relay_mail_imported_total") as usize;
    assert!(
        eventually(WAIT, || imported(&relay) >= 2),
        "the relay never started importing"
    );
    let before_kill = imported(&relay);
    relay.kill();
    assert!(
        (2..30).contains(&before_kill),
        "the kill landed after {before_kill} of 30 imports, not in the middle"
    );
    eprintln!("killed in the middle of importing: {before_kill} of 30 imported");
    relay.restart_with(&[]);
    let rows = synced_until(&ana, |rows| rows.len() >= 30);
    assert_eq!(rows.len(), 30, "every message exactly once");
    // Settled: nothing more arrives later.
    std::thread::sleep(Duration::from_secs(3));
    ana.sync();
    assert_eq!(ana.inbox().len(), 30);
}

/// Short undo window and retry delay, so the outbox acts within the test.
const FAST: [&str; 4] = ["--undo-send-secs", "1", "--mail-retry-secs", "1"];

/// The conversation of a first customer mail, synced to Ana.
fn first_conversation(mail: &MailServers, ana: &Client) -> String {
    mail.deliver(
        &customer_mail(
            "kettle-1@example.test",
            "Kettle arrived broken",
            "References: <order-77@shop.example>\r\n",
            "The lid is cracked.",
        ),
        SUPPORT,
    );
    let rows = synced_until(ana, |rows| rows.len() == 1);
    let id = rows[0]["conversation_id"].as_str().unwrap().to_owned();
    ana.ok(&["show", &id]);
    id
}

fn delivery_of(ana: &Client, conversation: &str, entry: usize) -> Value {
    show(ana, conversation)["conversation"]["entries"][entry]["delivery"].clone()
}

/// Syncs until the delivery of entry `entry` is in `state`; returns it.
fn delivery_becomes(ana: &Client, conversation: &str, entry: usize, state: &str) -> Value {
    let mut delivery = Value::Null;
    let reached = eventually(WAIT, || {
        ana.sync();
        delivery = delivery_of(ana, conversation, entry);
        delivery["state"] == state
    });
    assert!(reached, "delivery never became {state}: {delivery}");
    delivery
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

#[test]
fn a_reply_reaches_the_customer_threaded_and_its_state_flows_back() {
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &FAST);
    let conversation = first_conversation(&mail, &ana);
    let said = ana.ok(&[
        "reply",
        &conversation,
        "--body",
        "Sorry about that! A new lid is on its way.",
    ]);
    assert!(said.contains("shoal unsend"), "{said}");
    ana.sync();
    let received = mail.wait_for_messages(ALICE, 1, WAIT);
    let raw = String::from_utf8_lossy(&received[0]).into_owned();
    assert_eq!(header(&raw, "Subject"), Some("Re: Kettle arrived broken"));
    assert_eq!(header(&raw, "In-Reply-To"), Some("<kettle-1@example.test>"));
    let references = header(&raw, "References").unwrap();
    assert!(
        references.contains("<order-77@shop.example>")
            && references.contains("<kettle-1@example.test>"),
        "{references}"
    );
    let from = header(&raw, "From").unwrap();
    assert!(
        from.contains("Ana at Northwind") && from.contains(SUPPORT),
        "{from}"
    );
    assert!(raw.contains("text/plain") && raw.contains("text/html"));
    assert!(raw.contains("A new lid is on its way."));
    delivery_becomes(&ana, &conversation, 1, "sent");

    // The customer answers our reply, referencing only it: same conversation.
    let our_id = header(&raw, "Message-ID")
        .unwrap()
        .trim_matches(['<', '>'])
        .to_owned();
    mail.deliver(
        &customer_mail(
            "kettle-9@example.test",
            "Thanks",
            &format!("In-Reply-To: <{our_id}>\r\n"),
            "Great, thank you!",
        ),
        SUPPORT,
    );
    assert!(eventually(WAIT, || {
        ana.sync();
        show(&ana, &conversation)["conversation"]["entries"]
            .as_array()
            .unwrap()
            .len()
            == 3
    }));
    assert_eq!(ana.inbox().len(), 1);
    // Exactly once: nothing more reaches the customer.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(mail.messages(ALICE).len(), 1);
}

#[test]
fn a_withdrawn_reply_is_never_sent() {
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &["--undo-send-secs", "4"]);
    let conversation = first_conversation(&mail, &ana);
    ana.ok(&["reply", &conversation, "--body", "Oops, wrong customer"]);
    ana.sync();
    ana.ok(&["unsend", &conversation]);
    ana.sync();
    ana.ok(&["reply", &conversation, "--body", "The right answer"]);
    ana.sync();
    let received = mail.wait_for_messages(ALICE, 1, WAIT);
    std::thread::sleep(Duration::from_secs(6));
    let received_later = mail.messages(ALICE);
    assert_eq!(received_later.len(), 1, "only the second reply went out");
    assert!(String::from_utf8_lossy(&received[0]).contains("The right answer"));
    ana.sync();
    assert_eq!(delivery_of(&ana, &conversation, 1)["state"], "cancelled");
    // Too late for the second one.
    let late = ana.run(&["unsend", &conversation]);
    assert!(!late.status.success());
}

#[test]
fn replies_wait_while_the_smtp_server_is_down_then_go_out_once() {
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &FAST);
    let conversation = first_conversation(&mail, &ana);
    mail.stop_smtp();
    ana.ok(&[
        "reply",
        &conversation,
        "--body",
        "Answer while the server is down",
    ]);
    ana.sync();
    std::thread::sleep(Duration::from_secs(4));
    ana.sync();
    assert_eq!(delivery_of(&ana, &conversation, 1)["state"], "queued");
    mail.start_smtp();
    let received = mail.wait_for_messages(ALICE, 1, Duration::from_secs(30));
    assert!(String::from_utf8_lossy(&received[0]).contains("server is down"));
    delivery_becomes(&ana, &conversation, 1, "sent");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(mail.messages(ALICE).len(), 1);
}

#[test]
fn a_relay_killed_while_sending_sends_every_reply_exactly_once() {
    let mail = MailServers::start();
    let (mut relay, ana) = relay_with_mailbox(&mail, &FAST);
    for i in 0..10 {
        mail.deliver(
            &customer_mail(
                &format!("q-{i}@example.test"),
                &format!("Question {i}"),
                "",
                "Hi",
            ),
            SUPPORT,
        );
    }
    let rows = synced_until(&ana, |rows| rows.len() == 10);
    for row in &rows {
        let id = row["conversation_id"].as_str().unwrap();
        ana.ok(&["show", id]);
        ana.ok(&[
            "reply",
            id,
            "--body",
            &format!("Answer to {}", row["subject"]),
        ]);
    }
    ana.sync();
    assert!(
        eventually(WAIT, || !mail.messages(ALICE).is_empty()),
        "sending never started"
    );
    relay.kill();
    relay.restart();
    let received = mail.wait_for_messages(ALICE, 10, Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    let received = if mail.messages(ALICE).len() > received.len() {
        mail.messages(ALICE)
    } else {
        received
    };
    let mut ids: Vec<String> = received
        .iter()
        .map(|r| {
            header(&String::from_utf8_lossy(r), "Message-ID")
                .unwrap()
                .to_owned()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "every reply arrived");
    // The one documented window: killed after the SMTP server accepted a
    // reply and before the relay recorded it, the reply goes out again
    // after the restart, under the same Message-ID (so receivers drop it).
    // At most that one reply can be doubled by one kill.
    assert!(
        received.len() <= 11,
        "{} messages for 10 replies: more than the one in-flight reply doubled",
        received.len()
    );
}

fn entries(ana: &Client, conversation: &str) -> Vec<Value> {
    show(ana, conversation)["conversation"]["entries"]
        .as_array()
        .unwrap()
        .clone()
}

/// The conversation whose subject is `subject`.
fn by_subject(rows: &[Value], subject: &str) -> Option<(String, String)> {
    rows.iter().find(|r| r["subject"] == subject).map(|r| {
        (
            r["conversation_id"].as_str().unwrap().to_owned(),
            r["status"].as_str().unwrap().to_owned(),
        )
    })
}

#[test]
fn difficult_mail_is_kept_with_warnings_and_machine_mail_reopens_nothing() {
    use base64::Engine;
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &[]);
    let kettle = first_conversation(&mail, &ana);
    ana.ok(&["status", &kettle, "closed"]);
    ana.sync();

    // An out-of-office answer to our thread.
    mail.deliver(
        &customer_mail(
            "ooo-1@example.test",
            "Automatic reply: Kettle arrived broken",
            "In-Reply-To: <kettle-1@example.test>\r\nAuto-Submitted: auto-replied\r\n",
            "I am away until Monday.",
        ),
        SUPPORT,
    );
    // A bounce from a mail server.
    let bounce = format!(
        "From: Mail Delivery System <MAILER-DAEMON@example.test>\r\nTo: {SUPPORT}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-1@example.test>\r\n\
         Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Delivery failed.\r\n\
         --b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; example.test\r\n\r\n\
         Final-Recipient: rfc822; nobody@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b1--\r\n"
    );
    mail.deliver(bounce.as_bytes(), SUPPORT);
    // Broken MIME: a multipart whose boundary never appears.
    mail.deliver(
        format!(
            "From: Bob <bob@example.test>\r\nTo: {SUPPORT}\r\nSubject: Broken structure\r\n\
             Message-ID: <broken-1@example.test>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"nowhere\"\r\n\r\n\
             Hello, my order number is 5521.\r\n"
        )
        .as_bytes(),
        SUPPORT,
    );
    // An unknown charset.
    mail.deliver(
        format!(
            "From: Carla <carla@example.test>\r\nTo: {SUPPORT}\r\nSubject: Strange charset\r\n\
             Message-ID: <charset-1@example.test>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=\"x-unknown-42\"\r\n\r\nPlease call me back.\r\n"
        )
        .as_bytes(),
        SUPPORT,
    );
    // A 30 MB attachment (over the 25 MiB limit) beside a small one.
    let big = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 30 * 1024 * 1024]);
    let small = base64::engine::general_purpose::STANDARD.encode(b"order 5521, receipt");
    let mut wrapped = String::with_capacity(big.len() + big.len() / 76 * 2);
    for chunk in big.as_bytes().chunks(76) {
        wrapped.push_str(std::str::from_utf8(chunk).unwrap());
        wrapped.push_str("\r\n");
    }
    mail.deliver(
        format!(
            "From: Dana <dana@example.test>\r\nTo: {SUPPORT}\r\nSubject: Video of the problem\r\n\
             Message-ID: <video-1@example.test>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"m1\"\r\n\r\n\
             --m1\r\nContent-Type: text/plain\r\n\r\nSee the video.\r\n\
             --m1\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=\"kettle.mp4\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{wrapped}\
             --m1\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"receipt.csv\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{small}\r\n--m1--\r\n"
        )
        .as_bytes(),
        SUPPORT,
    );

    let rows = synced_until(&ana, |rows| rows.len() == 5);
    // The out-of-office joined the thread without reopening it.
    assert_eq!(
        by_subject(&rows, "Kettle arrived broken").unwrap().1,
        "closed"
    );
    let kettle_entries = entries(&ana, &kettle);
    assert_eq!(kettle_entries.len(), 2);
    assert_eq!(kettle_entries[1]["email"]["automatic"], "auto-reply");
    // The bounce is kept, closed: it needs no answer.
    let (bounce_id, status) = by_subject(&rows, "Undelivered Mail Returned to Sender").unwrap();
    assert_eq!(status, "closed");
    assert_eq!(entries(&ana, &bounce_id)[0]["email"]["automatic"], "bounce");
    // Broken and oddly encoded mail is kept, with what was wrong.
    let (broken, status) = by_subject(&rows, "Broken structure").unwrap();
    assert_eq!(status, "open");
    let e = &entries(&ana, &broken)[0];
    assert!(e["body"].as_str().unwrap().contains("5521"), "{e}");
    let (odd, _) = by_subject(&rows, "Strange charset").unwrap();
    let e = &entries(&ana, &odd)[0];
    assert!(e["body"].as_str().unwrap().contains("call me back"), "{e}");
    let warnings = e["email"]["warnings"].to_string();
    assert!(warnings.contains("x-unknown-42"), "{warnings}");
    // The big attachment is listed, not kept; the small one is kept.
    let (video, _) = by_subject(&rows, "Video of the problem").unwrap();
    let e = &entries(&ana, &video)[0];
    let attachments = e["email"]["attachments"].as_array().unwrap();
    let mp4 = attachments
        .iter()
        .find(|a| a["filename"] == "kettle.mp4")
        .unwrap();
    assert!(
        mp4["rejected"].is_string() && mp4["blob"].is_null(),
        "{mp4}"
    );
    assert!(mp4["size"].as_u64().unwrap() >= 30 * 1024 * 1024);
    let csv = attachments
        .iter()
        .find(|a| a["filename"] == "receipt.csv")
        .unwrap();
    assert!(csv["blob"].is_string(), "{csv}");
    // And people see it in `shoal show`.
    let text = ana.ok(&["show", &video]);
    assert!(
        text.contains("attachment: kettle.mp4 (video/mp4, 31.5 MB) — not kept"),
        "{text}"
    );
    assert!(text.contains("attachment: receipt.csv"), "{text}");
    let text = ana.ok(&["show", &odd]);
    assert!(
        text.contains("  ! ") && text.contains("x-unknown-42"),
        "{text}"
    );
    let text = ana.ok(&["show", &kettle]);
    assert!(text.contains("automatic (auto-reply)"), "{text}");
}

/// A relay whose mailbox talks TLS to the servers, trusting the test CA.
fn setup_tls(mail: &MailServers, imap: (&str, u16), smtp: (&str, u16)) -> (Relay, Client) {
    setup_tls_trusting(mail, imap, smtp, true)
}

fn setup_tls_trusting(
    mail: &MailServers,
    imap: (&str, u16),
    smtp: (&str, u16),
    trust_test_ca: bool,
) -> (Relay, Client) {
    let relay = Relay::start_with(&FAST);
    let team = relay.team("Northwind");
    let token = relay.agent(&team, "Ana", "ana@northwind.example");
    let creds = mail.credentials(SUPPORT);
    let password = relay.data().join("mail.pass");
    std::fs::write(&password, &creds.password).unwrap();
    let ca = mail.ca_cert_path().to_str().unwrap().to_owned();
    let (imap_port, smtp_port) = (imap.1.to_string(), smtp.1.to_string());
    let mut args = vec![
        "mailbox",
        "add",
        "--team",
        "Northwind",
        "--address",
        SUPPORT,
        "--imap-host",
        "localhost",
        "--imap-port",
        &imap_port,
        "--imap-tls",
        imap.0,
        "--imap-user",
        &creds.login,
        "--smtp-host",
        "localhost",
        "--smtp-port",
        &smtp_port,
        "--smtp-tls",
        smtp.0,
        "--password-file",
        password.to_str().unwrap(),
    ];
    if trust_test_ca {
        args.extend(["--imap-ca-file", &ca, "--smtp-ca-file", &ca]);
    }
    relay.admin(&args);
    let ana = Client::new();
    ana.login(&relay, &token);
    (relay, ana)
}

fn round_trip(mail: &MailServers, ana: &Client) {
    let conversation = first_conversation(mail, ana);
    ana.ok(&["reply", &conversation, "--body", "Answered over TLS."]);
    ana.sync();
    let received = mail.wait_for_messages(ALICE, 1, WAIT);
    assert!(String::from_utf8_lossy(&received[0]).contains("Answered over TLS."));
    delivery_becomes(ana, &conversation, 1, "sent");
}

#[test]
fn imaps_and_smtp_starttls_with_a_private_ca() {
    let mail = MailServers::start();
    let (_relay, ana) = setup_tls(
        &mail,
        ("tls", mail.imaps_port()),
        ("starttls", mail.submission_port()),
    );
    round_trip(&mail, &ana);
    // The submission port would take AUTH in the clear from loopback: make
    // sure the relay did upgrade first.
    let logins = mail.smtp_logins();
    assert!(
        !logins.is_empty() && logins.iter().all(|l| l.tls),
        "{logins:?}"
    );
}

#[test]
fn imap_starttls_and_smtps_with_a_private_ca() {
    let mail = MailServers::start();
    let (_relay, ana) = setup_tls(
        &mail,
        ("starttls", mail.imap_port()),
        ("tls", mail.smtps_port()),
    );
    round_trip(&mail, &ana);
}

#[test]
fn a_server_whose_certificate_does_not_verify_gets_nothing() {
    let mail = MailServers::start();
    let (_relay, ana) = setup_tls_trusting(
        &mail,
        ("tls", mail.imaps_port()),
        ("tls", mail.smtps_port()),
        false,
    );
    mail.deliver(
        &customer_mail("secret-1@example.test", "Secret", "", "Hello"),
        SUPPORT,
    );
    std::thread::sleep(Duration::from_secs(5));
    ana.sync();
    assert!(
        ana.inbox().is_empty(),
        "the relay read mail from a server it cannot verify"
    );
}

#[test]
fn mail_is_polled_when_idle_is_not_used() {
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &["--mail-no-idle", "--mail-poll-secs", "1"]);
    first_conversation(&mail, &ana);
    mail.deliver(
        &customer_mail("poll-2@example.test", "Second question", "", "Hello again"),
        SUPPORT,
    );
    synced_until(&ana, |rows| rows.len() == 2);
}

#[test]
fn a_refused_recipient_fails_the_reply_with_the_server_reason() {
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &FAST);
    // The sender's address has no mailbox: the server refuses the reply.
    mail.deliver(
        format!(
            "From: Ghost <ghost@example.test>\r\nTo: {SUPPORT}\r\nSubject: Boo\r\n\
             Message-ID: <ghost-1@example.test>\r\n\r\nHello from nowhere\r\n"
        )
        .as_bytes(),
        SUPPORT,
    );
    let rows = synced_until(&ana, |rows| rows.len() == 1);
    let id = rows[0]["conversation_id"].as_str().unwrap().to_owned();
    ana.ok(&["show", &id]);
    ana.ok(&["reply", &id, "--body", "Who are you?"]);
    ana.sync();
    let delivery = delivery_becomes(&ana, &id, 1, "failed");
    let reason = delivery["reason"].as_str().unwrap();
    assert!(
        reason.contains("ghost@example.test") || reason.contains("5"),
        "{reason}"
    );
}

/// Before: a reply the mail library refused to write (here: an address
/// Shoal accepts but RFC 5322 does not, two dots in a row) stayed `queued`
/// for ever, retried twice a second.
#[test]
fn a_reply_the_mail_library_refuses_fails_with_the_reason() {
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &FAST);
    let id = ana.new_conversation("jo..doe@example.test", "Dots", "Hello");
    ana.ok(&["show", &id]);
    ana.ok(&["reply", &id, "--body", "Hi Jo"]);
    ana.sync();
    let delivery = delivery_becomes(&ana, &id, 1, "failed");
    let reason = delivery["reason"].as_str().unwrap();
    assert!(reason.contains("jo..doe@example.test"), "{reason}");
}

#[test]
fn a_reply_is_not_sent_when_the_customer_changed_meanwhile() {
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &["--undo-send-secs", "4"]);
    let conversation = first_conversation(&mail, &ana);
    ana.ok(&[
        "customer",
        "new",
        "--name",
        "Bob Stone",
        "--email",
        "bob@example.test",
    ]);
    ana.ok(&["reply", &conversation, "--body", "Your order details: …"]);
    ana.sync();
    // Within the undo window, someone notices it is Bob's conversation.
    ana.ok(&["customer", "link", &conversation, "bob@example.test"]);
    ana.sync();
    let delivery = delivery_becomes(&ana, &conversation, 1, "failed");
    assert!(delivery["reason"]
        .as_str()
        .unwrap()
        .contains("customer changed"));
    assert!(mail.messages(ALICE).is_empty() && mail.messages("bob@example.test").is_empty());
}

/// Before: when recording `sent` failed after the SMTP server took the
/// reply, the row stayed `sending` and the reply went out again every round
/// (twice a second). The hook fails the record four times.
#[test]
fn a_reply_whose_sending_cannot_be_recorded_goes_out_once() {
    let mail = MailServers::start();
    let mut serve = FAST.to_vec();
    serve.extend(["--fault-record-sent", "4"]);
    let (_relay, ana) = relay_with_mailbox(&mail, &serve);
    let conversation = first_conversation(&mail, &ana);
    ana.ok(&["reply", &conversation, "--body", "Once and only once"]);
    ana.sync();
    mail.wait_for_messages(ALICE, 1, WAIT);
    delivery_becomes(&ana, &conversation, 1, "sent");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(mail.messages(ALICE).len(), 1, "sent exactly once");
}

/// Before: one team's outbox failure ended the whole round, so no team's
/// mail went out. Team A's scan fails (hook); team B's reply still goes.
#[test]
fn one_teams_outbox_failure_does_not_stop_another_teams_mail() {
    const HELP: &str = "help@shoal.test";
    let mut users = DEFAULT_USERS.to_vec();
    users.push(HELP);
    let mail = MailServers::with_users(&users);
    // Team ids are known only once created: start, create, restart with the hook.
    let mut relay = Relay::start_with(&FAST);
    let northwind = relay.team("Northwind");
    let contoso = relay.team("Contoso");
    let ana_token = relay.agent(&northwind, "Ana", "ana@northwind.example");
    let bea_token = relay.agent(&contoso, "Bea", "bea@contoso.example");
    shoal_e2e::mail::connect_support_mailbox(&relay, &mail, "Northwind");
    connect_mailbox(&relay, &mail, "Contoso", HELP);
    let mut serve = FAST.to_vec();
    serve.extend(["--fault-scan-team", northwind.as_str()]);
    relay.terminate();
    relay.restart_with(&serve);
    let (ana, bea) = (Client::new(), Client::new());
    ana.login(&relay, &ana_token);
    bea.login(&relay, &bea_token);
    let theirs = ana.new_conversation(ALICE, "Order 1", "Hello");
    ana.ok(&["show", &theirs]);
    ana.ok(&["reply", &theirs, "--body", "From Northwind"]);
    ana.sync();
    let ours = bea.new_conversation(BOB, "Order 2", "Hello");
    bea.ok(&["show", &ours]);
    bea.ok(&["reply", &ours, "--body", "From Contoso"]);
    bea.sync();
    let received = mail.wait_for_messages(BOB, 1, WAIT);
    assert!(String::from_utf8_lossy(&received[0]).contains("From Contoso"));
    delivery_becomes(&bea, &ours, 1, "sent");
    assert!(
        mail.messages(ALICE).is_empty(),
        "the failing team's reply waits"
    );
}

/// Before: `--imap-tls none` sent the mailbox password in the clear, with
/// no warning.
#[test]
fn imap_without_tls_is_refused_unless_plaintext_is_allowed_explicitly() {
    let mail = MailServers::start();
    let relay = Relay::start();
    relay.team("Northwind");
    let password = relay.data().join("mail.pass");
    std::fs::write(&password, "secret").unwrap();
    let port = mail.imap_port().to_string();
    let args = [
        "mailbox",
        "add",
        "--team",
        "Northwind",
        "--address",
        SUPPORT,
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        &port,
        "--imap-tls",
        "none",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-tls",
        "none",
        "--password-file",
        password.to_str().unwrap(),
    ];
    let refused = relay.admin_output(&args);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("plain text") && said.contains("--insecure-plaintext"),
        "{said}"
    );
    assert!(relay.admin(&["mailbox", "list", "--json"]).trim() == "[]");
    // The explicit flag is the administrator's decision.
    let mut allowed = args.to_vec();
    allowed.push("--insecure-plaintext");
    relay.admin(&allowed);
    let list: Value = serde_json::from_str(&relay.admin(&["mailbox", "list", "--json"])).unwrap();
    assert_eq!(list[0]["insecure_plaintext"], true);
}

/// Before: a mail naming a customer's Message-ID joined that customer's
/// conversation as the customer's own words, whoever sent it.
#[test]
fn mail_from_someone_else_never_passes_for_the_customer() {
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &FAST);
    let conversation = first_conversation(&mail, &ana);
    mail.deliver(
        &shoal_e2e::mail::mail_from(
            &format!("Bob Stone <{BOB}>"),
            "bob-1@example.test",
            "Re: Kettle arrived broken",
            "In-Reply-To: <kettle-1@example.test>\r\n",
            "Please send the refund to my account instead.",
        ),
        SUPPORT,
    );
    let rows = synced_until(&ana, |rows| rows.len() == 2);
    let alices = entries(&ana, &conversation);
    assert_eq!(alices.len(), 1, "Alice's conversation is unchanged");
    assert_eq!(
        alices[0]["email"]["from"],
        format!("Alice Martin <{ALICE}>")
    );
    let other = rows
        .iter()
        .map(|r| r["conversation_id"].as_str().unwrap())
        .find(|id| *id != conversation)
        .unwrap()
        .to_owned();
    let shown = show(&ana, &other);
    let entry = &shown["conversation"]["entries"][0];
    assert_eq!(entry["email"]["from"], format!("Bob Stone <{BOB}>"));
    let warnings = entry["email"]["warnings"].to_string();
    assert!(
        warnings.contains(&conversation) && warnings.contains("not that conversation's customer"),
        "{warnings}"
    );
    assert_eq!(shown["customer"]["emails"][0], BOB, "{shown}");

    // The customer's own answer still threads.
    mail.deliver(
        &customer_mail(
            "kettle-2@example.test",
            "Re: Kettle arrived broken",
            "In-Reply-To: <kettle-1@example.test>\r\n",
            "Any news?",
        ),
        SUPPORT,
    );
    assert!(eventually(WAIT, || {
        ana.sync();
        entries(&ana, &conversation).len() == 2
    }));
    assert_eq!(ana.inbox().len(), 2);
}

/// Before: the whole megabyte went into the entry, and so into every
/// agent's replica and every sync of the conversation.
#[test]
fn a_very_long_mail_shows_its_start_and_keeps_the_whole_text() {
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &[]);
    let line = "All work and no play makes Jack a dull boy. ";
    let body: String = line.repeat(1_000_000 / line.len());
    mail.deliver(
        &customer_mail("long-1@example.test", "A long story", "", &body),
        SUPPORT,
    );
    let rows = synced_until(&ana, |rows| rows.len() == 1);
    let id = rows[0]["conversation_id"].as_str().unwrap();
    let entry = &show(&ana, id)["conversation"]["entries"][0];
    let shown = entry["body"].as_str().unwrap();
    assert!(shown.len() <= 70 * 1024, "{} bytes shown", shown.len());
    assert!(shown.starts_with(line) && shown.ends_with("continued in message.txt]"));
    let warnings = entry["email"]["warnings"].to_string();
    assert!(warnings.contains("message.txt"), "{warnings}");
    let kept = entry["email"]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["filename"] == "message.txt")
        .expect("the whole text is an attachment")
        .clone();
    assert!(kept["blob"].is_string(), "{kept}");
    assert!(
        kept["size"].as_u64().unwrap() >= body.len() as u64 - 100,
        "{kept}"
    );
}

/// Before: the relay sent any number of replies, and kept no record of who
/// sent what to whom beyond the documents.
#[test]
fn replies_past_the_hourly_limit_wait_and_every_sent_one_is_audited() {
    let mail = MailServers::start();
    let mut serve = FAST.to_vec();
    serve.extend(["--mail-rate-agent-per-hour", "2"]);
    let (relay, ana) = relay_with_mailbox(&mail, &serve);
    let mut conversations = Vec::new();
    for i in 0..3 {
        let id = ana.new_conversation(ALICE, &format!("Order {i}"), "Hello");
        ana.ok(&["reply", &id, "--body", &format!("Answer {i}")]);
        conversations.push(id);
    }
    ana.sync();
    mail.wait_for_messages(ALICE, 2, WAIT);
    // The third waits, and says why.
    let waiting = eventually(WAIT, || {
        ana.sync();
        conversations.iter().any(|c| {
            delivery_of(&ana, c, 1)["reason"]
                .as_str()
                .is_some_and(|r| r.contains("in the past hour"))
        })
    });
    assert!(waiting, "a reply says it waits for the limit");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        mail.messages(ALICE).len(),
        2,
        "no more than the limit went out"
    );
    let audit: Value =
        serde_json::from_str(&relay.admin(&["mail", "audit", "--team", "Northwind", "--json"]))
            .unwrap();
    let audit = audit.as_array().unwrap();
    assert_eq!(audit.len(), 2, "{audit:?}");
    for sent in audit {
        assert_eq!(sent["recipient"], ALICE);
        assert!(conversations.iter().any(|c| *c == sent["conversation_id"]));
        assert!(sent["author"].is_string() && sent["message_id"].is_string());
    }
    let text = relay.admin(&["mail", "audit"]);
    assert!(
        text.contains("ana@northwind.example") && text.contains(ALICE),
        "{text}"
    );
}

/// A customer's support tier sets the priority their mail starts at, and
/// the reply clock says when the answer is due: the relay files the mail,
/// the client's inbox shows the clock (`inbox --sort due --json`).
#[test]
fn a_premium_customers_mail_starts_at_the_tiers_priority_with_its_due_time() {
    let mail = MailServers::start();
    let relay = Relay::start_with(&FAST);
    let team = relay.team("Northwind");
    let token = relay.agent_as(&team, "Ana", "ana@northwind.example", "admin");
    connect_mailbox(&relay, &mail, "Northwind", SUPPORT);
    let ana = Client::new();
    ana.login(&relay, &token);
    // Round the clock, so the due time does not depend on when this runs.
    ana.ok(&[
        "team", "hours", "--days", "mon-sun", "--from", "00:00", "--to", "24:00",
    ]);
    ana.ok(&["team", "tier", "set", "premium", "--priority", "urgent"]);
    let refused = ana.run(&[
        "customer", "new", "--name", "Bob", "--email", BOB, "--tier", "gold",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("premium"));
    let alice: Value = serde_json::from_str(&ana.ok(&[
        "customer",
        "new",
        "--name",
        "Alice Martin",
        "--email",
        ALICE,
        "--tier",
        "premium",
        "--json",
    ]))
    .unwrap();
    ana.sync();
    mail.deliver(
        &customer_mail("outage-1@example.test", "Everything is down", "", "Help!"),
        SUPPORT,
    );
    let rows = synced_until(&ana, |rows| rows.len() == 1);
    // Before: the relay knew only addresses of mail it had imported, and
    // made a second Alice, without her tier.
    assert_eq!(
        rows[0]["customer_id"], alice["customer_id"],
        "{:?}",
        rows[0]
    );
    assert_eq!(
        ana.json(&["customer", "list"])["customers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(rows[0]["priority"], "urgent", "{:?}", rows[0]);
    let page = ana.json(&["inbox", "--sort", "due"]);
    assert_eq!(page["sort"], "due");
    let row = &page["conversations"][0];
    let (since, due) = (
        row["waiting_since"].as_i64().unwrap(),
        row["reply_due"].as_i64().unwrap(),
    );
    assert_eq!(due - since, 60 * 60_000, "urgent: one hour: {row}");
    assert_eq!(row["first_response"], true);
}

/// The team writes first: `shoal write` starts a conversation whose first
/// message is the agent's e-mail. It reaches the customer once, as a new
/// message (no "Re:", no In-Reply-To), and the customer's answer threads
/// into the same conversation.
#[test]
fn the_team_writes_first_and_the_answer_threads_in() {
    let mail = MailServers::start();
    let (_relay, ana) = relay_with_mailbox(&mail, &FAST);
    let started = ana.json(&[
        "write",
        "--to",
        ALICE,
        "--customer-name",
        "Alice Martin",
        "--subject",
        "Your replacement kettle",
        "--body",
        "Hello Alice, your replacement ships on Monday.",
    ]);
    let conversation = started["conversation_id"].as_str().unwrap().to_owned();
    let shown = show(&ana, &conversation)["conversation"].clone();
    assert_eq!(shown["channel"], "email");
    assert_eq!(shown["entries"][0]["kind"], "reply");
    assert_eq!(shown["entries"][0]["delivery"]["state"], "queued");
    ana.sync();
    let received = mail.wait_for_messages(ALICE, 1, WAIT);
    let raw = String::from_utf8_lossy(&received[0]).into_owned();
    assert_eq!(header(&raw, "Subject"), Some("Your replacement kettle"));
    assert_eq!(header(&raw, "In-Reply-To"), None);
    assert!(raw.contains("your replacement ships on Monday"));
    delivery_becomes(&ana, &conversation, 0, "sent");

    let our_id = header(&raw, "Message-ID")
        .unwrap()
        .trim_matches(['<', '>'])
        .to_owned();
    mail.deliver(
        &customer_mail(
            "kettle-reply@example.test",
            "Re: Your replacement kettle",
            &format!("In-Reply-To: <{our_id}>\r\n"),
            "Wonderful, thanks!",
        ),
        SUPPORT,
    );
    assert!(eventually(WAIT, || {
        ana.sync();
        show(&ana, &conversation)["conversation"]["entries"]
            .as_array()
            .unwrap()
            .len()
            == 2
    }));
    assert_eq!(ana.inbox().len(), 1, "one conversation, not two");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(mail.messages(ALICE).len(), 1, "sent exactly once");
    // A second address-less customer cannot be written to.
    let refused = ana.run(&["write", "--to", "nobody", "--subject", "Hi", "--body", "Hi"]);
    assert!(!refused.status.success());
}
