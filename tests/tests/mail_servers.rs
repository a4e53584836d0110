//! The mail-server harness (`shoal_e2e::mail`) against real clients: lettre
//! over SMTP and async-imap over IMAP, as the relay will use them. The tests
//! serialize on the harness's smtpd lock, so they run one after the other.

use futures_util::TryStreamExt;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use shoal_e2e::mail::{MailServers, ALICE, BOB, SUPPORT};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

fn smtp(mail: &MailServers) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(mail.smtp_port())
        .timeout(Some(Duration::from_secs(10)))
        .build()
}

fn email(from: &str, to: &str, subject: &str, body: &str) -> Message {
    Message::builder()
        .from(from.parse::<Mailbox>().unwrap())
        .to(to.parse::<Mailbox>().unwrap())
        .subject(subject)
        .body(body.to_string())
        .unwrap()
}

fn text(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

fn start() -> MailServers {
    let t = Instant::now();
    let mail = MailServers::start();
    eprintln!(
        "mail servers up in {:?} ({:?} including the wait for the smtpd lock); \
         imap {} smtp {} lmtp {}",
        mail.startup_time(),
        t.elapsed(),
        mail.imap_port(),
        mail.smtp_port(),
        mail.lmtp_port()
    );
    mail
}

#[tokio::test]
async fn smtp_mail_reaches_the_support_inbox() {
    let mail = start();
    let smtp = smtp(&mail);
    smtp.send(email(
        "Alice <alice@example.test>",
        SUPPORT,
        "Printer on fire",
        "It is on fire again.\n",
    ))
    .await
    .expect("send over SMTP");

    let got = mail.wait_for_messages(SUPPORT, 1, WAIT);
    assert_eq!(got.len(), 1);
    let m = text(&got[0]);
    assert!(m.contains("Subject: Printer on fire\r\n"), "{m}");
    assert!(m.contains("It is on fire again.\r\n"), "{m}");
    assert!(m.contains("Delivered-To: support@shoal.test\r\n"), "{m}");
    assert!(m.contains("Return-Path: <alice@example.test>\r\n"), "{m}");
    assert!(mail.messages(ALICE).is_empty());
    assert!(mail.messages(BOB).is_empty());

    // Customers get mail too.
    smtp.send(email(SUPPORT, BOB, "Re: hello", "Hi Bob\n"))
        .await
        .expect("send to a customer");
    let got = mail.wait_for_messages(BOB, 1, WAIT);
    assert!(text(&got[0]).contains("Subject: Re: hello\r\n"));

    // Unknown users of a test domain and other domains are refused outright.
    for to in ["nobody@shoal.test", "someone@elsewhere.test"] {
        let err = smtp
            .send(email(ALICE, to, "lost", "x\n"))
            .await
            .expect_err("an unknown recipient must be refused");
        assert!(err.is_permanent(), "{to}: {err}");
    }
}

#[tokio::test]
async fn imap_reports_uidvalidity_and_fetches_by_uid() {
    let mail = start();
    let raw: &[u8] = b"From: Bob <bob@example.test>\r\n\
        To: support@shoal.test\r\n\
        Subject: Invoice 42\r\n\
        Message-ID: <invoice-42@example.test>\r\n\
        \r\n\
        Please pay.\r\n\
        .leading dot survives\r\n";
    mail.deliver(raw, SUPPORT);
    let creds = mail.credentials(SUPPORT);
    assert_eq!(creds.login, SUPPORT);

    let connect = || async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", mail.imap_port()))
            .await
            .expect("connect to IMAP");
        let mut client = async_imap::Client::new(tcp);
        let greeting = client
            .read_response()
            .await
            .expect("read greeting")
            .expect("a greeting");
        assert!(matches!(
            greeting.parsed(),
            async_imap::imap_proto::Response::Data {
                status: async_imap::imap_proto::Status::Ok,
                ..
            }
        ));
        client
    };

    // A wrong password is refused.
    assert!(connect().await.login(&creds.login, "wrong").await.is_err());

    let mut session = connect()
        .await
        .login(&creds.login, &creds.password)
        .await
        .map_err(|(e, _)| e)
        .expect("IMAP login");
    let caps = session.capabilities().await.expect("CAPABILITY");
    assert!(caps.has_str("IDLE"), "IDLE missing");

    let inbox = session.select("INBOX").await.expect("SELECT INBOX");
    let uidvalidity = inbox.uid_validity.expect("SELECT reports UIDVALIDITY");
    assert!(uidvalidity > 0);
    assert_eq!(inbox.exists, 1);

    let uids = session.uid_search("ALL").await.expect("UID SEARCH");
    assert_eq!(uids.len(), 1);
    let uid = *uids.iter().next().unwrap();
    let fetched: Vec<_> = session
        .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
        .await
        .expect("UID FETCH")
        .try_collect()
        .await
        .expect("UID FETCH responses");
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0].uid, Some(uid));
    let body = fetched[0].body().expect("BODY[]").to_vec();
    let m = text(&body);
    assert!(
        m.contains("Message-ID: <invoice-42@example.test>\r\n"),
        "{m}"
    );
    assert!(
        m.ends_with("Please pay.\r\n.leading dot survives\r\n"),
        "{m}"
    );
    // The harness's maildir view is byte for byte what IMAP serves.
    assert_eq!(mail.messages(SUPPORT), vec![body]);

    // A second SELECT reports the same UIDVALIDITY.
    drop(fetched);
    let again = session.select("INBOX").await.expect("SELECT again");
    assert_eq!(again.uid_validity, Some(uidvalidity));
    session.logout().await.expect("LOGOUT");
}

#[tokio::test]
async fn sending_fails_while_smtp_is_down_and_works_after_restart() {
    let mail = start();
    let port = mail.smtp_port();
    let smtp = smtp(&mail);
    smtp.send(email(ALICE, SUPPORT, "first", "1\n"))
        .await
        .expect("send before the stop");
    mail.wait_for_messages(SUPPORT, 1, WAIT);

    let t = Instant::now();
    mail.stop_smtp();
    eprintln!("smtpd stopped in {:?}", t.elapsed());
    assert!(!mail.smtp_running());
    let err = smtp
        .send(email(ALICE, SUPPORT, "while down", "2\n"))
        .await
        .expect_err("sending must fail while smtpd is stopped");
    eprintln!("send while down: {err}");

    let t = Instant::now();
    mail.start_smtp();
    eprintln!("smtpd restarted in {:?}", t.elapsed());
    assert_eq!(mail.smtp_port(), port);
    smtp.send(email(ALICE, SUPPORT, "after restart", "3\n"))
        .await
        .expect("send after the restart");

    let got = mail.wait_for_messages(SUPPORT, 2, WAIT);
    let subjects: Vec<String> = got
        .iter()
        .map(|m| {
            text(m)
                .lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(subjects, ["first", "after restart"]);
}

#[tokio::test]
async fn users_added_while_running_get_mail() {
    let mail = start();
    let (login, password) = mail.add_user("carol@other.test");
    assert_eq!(login, "carol@other.test");
    assert!(!password.is_empty());
    smtp(&mail)
        .send(email(ALICE, "carol@other.test", "welcome", "hi\n"))
        .await
        .expect("send to a user added at run time");
    let got = mail.wait_for_messages("carol@other.test", 1, WAIT);
    assert!(text(&got[0]).contains("Subject: welcome\r\n"));

    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", mail.imap_port()))
        .await
        .unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap().unwrap();
    let mut session = client
        .login(&login, &password)
        .await
        .map_err(|(e, _)| e)
        .expect("new user logs in");
    assert_eq!(session.select("INBOX").await.unwrap().exists, 1);
    session.logout().await.unwrap();
}
