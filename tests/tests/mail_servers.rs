//! The mail-server harness (`shoal_e2e::mail`) against real clients: lettre
//! over SMTP and async-imap over IMAP, as the relay will use them, and
//! `openssl s_client` for the TLS ports. The tests serialize on the harness's
//! smtpd lock, so they run one after the other.

use base64::Engine as _;
use futures_util::TryStreamExt;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials as SmtpCredentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use shoal_e2e::mail::{MailServers, ALICE, BOB, SUPPORT, TLS_HOSTNAME};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
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
         imap {} imaps {} smtp {} smtps {} submission {} lmtp {}",
        mail.startup_time(),
        t.elapsed(),
        mail.imap_port(),
        mail.imaps_port(),
        mail.smtp_port(),
        mail.smtps_port(),
        mail.submission_port(),
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

/// A line-based session with a server, over plain TCP or through `openssl
/// s_client` (which does the TLS and verifies the certificate). Server lines
/// arrive through a reader thread, so every read has a timeout.
struct Session {
    what: String,
    input: Box<dyn Write>,
    lines: mpsc::Receiver<String>,
    child: Option<Child>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Session {
    fn plain(port: u16) -> Session {
        let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let reader = tcp.try_clone().unwrap();
        Session::new(format!("plain :{port}"), Box::new(tcp), reader, None)
    }

    /// `openssl s_client` to 127.0.0.1:`port` trusting only `ca` (if any),
    /// failing the handshake on any verification error; `extra` adds
    /// arguments (`-starttls imap`, `-verify_hostname localhost`, …).
    fn tls(port: u16, ca: Option<&Path>, extra: &[&str]) -> Session {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_client", "-quiet", "-nocommands", "-verify_return_error"])
            .arg("-connect")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra);
        match ca {
            // Only our CA: not the system's roots.
            Some(ca) => cmd
                .arg("-CAfile")
                .arg(ca)
                .args(["-no-CApath", "-no-CAstore"]),
            None => &mut cmd,
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run openssl s_client");
        let input = child.stdin.take().unwrap();
        let output = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut session = Session::new(
            format!("s_client :{port} {extra:?}"),
            Box::new(input),
            output,
            Some(child),
        );
        session.stderr = Some(stderr);
        session
    }

    fn new(
        what: String,
        input: Box<dyn Write>,
        output: impl Read + Send + 'static,
        child: Option<Child>,
    ) -> Session {
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines() {
                let Ok(line) = line else { break };
                if tx.send(line.trim_end_matches('\r').to_string()).is_err() {
                    break;
                }
            }
        });
        Session {
            what,
            input,
            lines,
            child,
            stderr: None,
        }
    }

    fn send(&mut self, line: &str) {
        self.input
            .write_all(format!("{line}\r\n").as_bytes())
            .and_then(|()| self.input.flush())
            .unwrap_or_else(|e| panic!("{}: send {line:?}: {e}", self.what));
    }

    /// The next line, or `None` once the server closed the connection.
    fn next_line(&mut self) -> Option<String> {
        match self.lines.recv_timeout(WAIT) {
            Ok(line) => Some(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{}: no reply in {WAIT:?}", self.what),
        }
    }

    fn line(&mut self) -> String {
        if let Some(line) = self.next_line() {
            return line;
        }
        let stderr = match (self.child.as_mut(), self.stderr.take()) {
            (Some(child), Some(stderr)) => {
                let _ = child.wait();
                stderr.join().unwrap()
            }
            _ => String::new(),
        };
        panic!("{}: connection closed\n{stderr}", self.what)
    }

    /// Lines up to and including the first one starting with `prefix` (an
    /// IMAP tag), joined.
    fn until_all(&mut self, prefix: &str) -> String {
        let mut all = String::new();
        loop {
            let line = self.line();
            all.push_str(&line);
            all.push('\n');
            if line.starts_with(prefix) {
                return all;
            }
        }
    }

    /// The first line starting with `prefix` (an IMAP tag: the tagged
    /// reply), skipping untagged ones.
    fn until(&mut self, prefix: &str) -> String {
        loop {
            let line = self.line();
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// One SMTP reply (all its lines), checked to start with `code`.
    fn reply(&mut self, code: &str) -> String {
        let mut all = String::new();
        loop {
            let line = self.line();
            all.push_str(&line);
            all.push('\n');
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        assert!(
            all.starts_with(code),
            "{}: expected {code}, got {all:?}",
            self.what
        );
        all
    }

    fn smtp(&mut self, command: &str, code: &str) -> String {
        self.send(command);
        self.reply(code)
    }

    /// Waits for the server to close the connection and, for s_client, its
    /// exit; returns whether it succeeded and its stderr.
    fn close(mut self) -> (bool, String) {
        while self.next_line().is_some() {}
        let Some(mut child) = self.child.take() else {
            return (true, String::new());
        };
        drop(self.input);
        let status = child.wait().expect("wait for s_client");
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (status.success(), stderr)
    }
}

fn auth_plain(login: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("\0{login}\0{password}"))
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A lettre transport over TLS (rustls, which verifies with webpki)
/// trusting the harness's CA, authenticated as `login`.
fn smtp_tls(
    mail: &MailServers,
    port: u16,
    tls: fn(TlsParameters) -> Tls,
    server_name: &str,
    trust_ca: bool,
    login: &str,
    password: &str,
) -> AsyncSmtpTransport<Tokio1Executor> {
    let mut params = TlsParameters::builder(server_name.to_string());
    if trust_ca {
        let pem = std::fs::read(mail.ca_cert_path()).expect("read the CA");
        params = params.add_root_certificate(Certificate::from_pem(&pem).expect("CA PEM"));
    }
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .tls(tls(params.build_rustls().expect("TLS parameters")))
        .credentials(SmtpCredentials::new(login.into(), password.into()))
        .timeout(Some(Duration::from_secs(10)))
        .build()
}

#[tokio::test]
async fn tls_ports_verify_against_the_ca_and_require_auth_for_smtp() {
    let mail = start();
    let ca = mail.ca_cert_path().to_path_buf();
    let pem = std::fs::read_to_string(&ca).expect("read the CA");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let support = mail.credentials(SUPPORT);
    let login = format!("a LOGIN \"{}\" \"{}\"", support.login, support.password);

    // IMAPS: the certificate verifies against the CA, for the IP address and
    // for the host name; LOGIN works.
    for name_check in [
        ["-verify_ip", "127.0.0.1"],
        ["-verify_hostname", TLS_HOSTNAME],
    ] {
        let mut imaps = Session::tls(mail.imaps_port(), Some(&ca), &name_check);
        assert!(imaps.line().starts_with("* OK"));
        if name_check[0] == "-verify_ip" {
            // (Dovecot answers a failed login within about 0.5 s.)
            imaps.send("w LOGIN \"support@shoal.test\" \"wrong\"");
            assert!(imaps.until("w ").starts_with("w NO"));
        }
        imaps.send(&login);
        let reply = imaps.until("a ");
        assert!(reply.starts_with("a OK"), "{reply}");
        imaps.send("b SELECT INBOX");
        assert!(imaps.until("b ").starts_with("b OK"));
        imaps.send("z LOGOUT");
        imaps.until("z OK");
        let (ok, stderr) = imaps.close();
        assert!(ok && !stderr.contains("verify error"), "{stderr}");
    }
    // Without the CA (the system's roots only) the handshake fails.
    let mut untrusted = Session::tls(mail.imaps_port(), None, &["-verify_ip", "127.0.0.1"]);
    assert_eq!(untrusted.next_line(), None);
    let (ok, stderr) = untrusted.close();
    assert!(!ok && stderr.contains("verify error"), "{stderr}");

    // Plain IMAP offers STARTTLS (and still allows LOGIN without it)...
    let mut imap = Session::plain(mail.imap_port());
    let greeting = imap.line();
    assert!(greeting.contains("STARTTLS"), "{greeting}");
    imap.send("c CAPABILITY");
    let caps = imap.until_all("c ");
    assert!(
        caps.contains(" STARTTLS") && !caps.contains("LOGINDISABLED"),
        "{caps}"
    );
    imap.send(&login);
    let reply = imap.until("a ");
    assert!(reply.starts_with("a OK"), "{reply}");
    imap.send("z LOGOUT");
    imap.close();
    // ... and STARTTLS works and verifies.
    let mut starttls = Session::tls(
        mail.imap_port(),
        Some(&ca),
        &["-starttls", "imap", "-verify_ip", "127.0.0.1"],
    );
    starttls.send(&login);
    let reply = starttls.until("a ");
    assert!(reply.starts_with("a OK"), "{reply}");
    starttls.send("z LOGOUT");
    starttls.until("z OK");
    let (ok, stderr) = starttls.close();
    assert!(ok && !stderr.contains("verify error"), "{stderr}");

    // The plain SMTP port is unchanged: no STARTTLS, no AUTH.
    let mut plain = Session::plain(mail.smtp_port());
    plain.reply("220");
    let ehlo = plain.smtp("EHLO client.test", "250");
    assert!(
        !ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    plain.smtp("QUIT", "221");
    plain.close();

    // SMTPS: AUTH required before MAIL FROM, wrong passwords refused, then
    // mail delivered.
    let mut smtps = Session::tls(mail.smtps_port(), Some(&ca), &["-verify_ip", "127.0.0.1"]);
    smtps.reply("220");
    let ehlo = smtps.smtp("EHLO client.test", "250");
    assert!(ehlo.contains("AUTH PLAIN LOGIN"), "{ehlo}");
    smtps.smtp("MAIL FROM:<support@shoal.test>", "530");
    smtps.smtp(
        &format!("AUTH PLAIN {}", auth_plain(&support.login, "wrong")),
        "535",
    );
    smtps.smtp(
        &format!(
            "AUTH PLAIN {}",
            auth_plain(&support.login, &support.password)
        ),
        "235",
    );
    smtps.smtp("MAIL FROM:<alice@example.test>", "250");
    smtps.smtp("RCPT TO:<someone@elsewhere.test>", "550");
    smtps.smtp("RCPT TO:<support@shoal.test>", "250");
    smtps.smtp("DATA", "354");
    for line in [
        "From: Alice <alice@example.test>",
        "To: support@shoal.test",
        "Subject: over smtps",
        "",
        "sent with AUTH over implicit TLS",
        ".",
    ] {
        smtps.send(line);
    }
    smtps.reply("250");
    smtps.smtp("QUIT", "221");
    let (ok, stderr) = smtps.close();
    assert!(ok && !stderr.contains("verify error"), "{stderr}");
    let got = mail.wait_for_messages(SUPPORT, 1, WAIT);
    assert!(text(&got[0]).contains("Subject: over smtps\r\n"));

    // Submission: STARTTLS offered, AUTH required. Dovecot takes a client
    // on 127.0.0.1 for secure and accepts AUTH without STARTTLS too;
    // smtp_logins tells such logins apart.
    let mut sub = Session::plain(mail.submission_port());
    sub.reply("220");
    let ehlo = sub.smtp("EHLO client.test", "250");
    assert!(ehlo.contains("STARTTLS"), "{ehlo}");
    sub.smtp("MAIL FROM:<support@shoal.test>", "530");
    sub.smtp(
        &format!(
            "AUTH PLAIN {}",
            auth_plain(&support.login, &support.password)
        ),
        "235",
    );
    sub.smtp("QUIT", "221");
    sub.close();
    // Then with STARTTLS and AUTH LOGIN.
    let mut sub = Session::tls(
        mail.submission_port(),
        Some(&ca),
        &["-starttls", "smtp", "-verify_hostname", TLS_HOSTNAME],
    );
    let ehlo = sub.smtp("EHLO client.test", "250");
    assert!(ehlo.contains("AUTH PLAIN LOGIN"), "{ehlo}");
    sub.smtp("AUTH LOGIN", "334");
    sub.smtp(&b64(&support.login), "334");
    sub.smtp(&b64(&support.password), "235");
    sub.smtp("MAIL FROM:<support@shoal.test>", "250");
    sub.smtp("RCPT TO:<bob@example.test>", "250");
    sub.smtp("DATA", "354");
    for line in ["Subject: over submission", "", "hello Bob", "."] {
        sub.send(line);
    }
    sub.reply("250");
    sub.smtp("QUIT", "221");
    let (ok, stderr) = sub.close();
    assert!(ok && !stderr.contains("verify error"), "{stderr}");
    let got = mail.wait_for_messages(BOB, 1, WAIT);
    assert!(text(&got[0]).contains("Subject: over submission\r\n"));

    // lettre over rustls, as the relay sends: implicit TLS by host name,
    // STARTTLS by IP address; the CA is the only trust needed.
    let password = support.password.as_str();
    smtp_tls(
        &mail,
        mail.smtps_port(),
        Tls::Wrapper,
        TLS_HOSTNAME,
        true,
        SUPPORT,
        password,
    )
    .send(email(SUPPORT, ALICE, "lettre smtps", "1\n"))
    .await
    .expect("lettre over SMTPS");
    smtp_tls(
        &mail,
        mail.submission_port(),
        Tls::Required,
        "127.0.0.1",
        true,
        SUPPORT,
        password,
    )
    .send(email(SUPPORT, ALICE, "lettre submission", "2\n"))
    .await
    .expect("lettre over submission");
    let got = mail.wait_for_messages(ALICE, 2, WAIT);
    assert!(text(&got[0]).contains("Subject: lettre smtps\r\n"));
    assert!(text(&got[1]).contains("Subject: lettre submission\r\n"));
    // Without the CA rustls refuses the certificate; a wrong password is a
    // permanent error.
    let err = smtp_tls(
        &mail,
        mail.smtps_port(),
        Tls::Wrapper,
        TLS_HOSTNAME,
        false,
        SUPPORT,
        password,
    )
    .send(email(SUPPORT, ALICE, "untrusted", "x\n"))
    .await
    .expect_err("an unknown CA must be refused");
    eprintln!("without the CA: {err:?}");
    let err = smtp_tls(
        &mail,
        mail.smtps_port(),
        Tls::Wrapper,
        TLS_HOSTNAME,
        true,
        SUPPORT,
        "wrong",
    )
    .send(email(SUPPORT, ALICE, "wrong password", "x\n"))
    .await
    .expect_err("a wrong password must be refused");
    assert!(err.is_permanent(), "{err}");

    // A restart brings back all three smtpd ports.
    let ports = [mail.smtp_port(), mail.smtps_port(), mail.submission_port()];
    mail.stop_smtp();
    for port in ports {
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "{port}");
    }
    mail.start_smtp();
    assert_eq!(
        [mail.smtp_port(), mail.smtps_port(), mail.submission_port()],
        ports
    );
    smtp_tls(
        &mail,
        mail.smtps_port(),
        Tls::Wrapper,
        TLS_HOSTNAME,
        true,
        SUPPORT,
        password,
    )
    .send(email(SUPPORT, ALICE, "after restart", "3\n"))
    .await
    .expect("lettre over SMTPS after a restart");
    let got = mail.wait_for_messages(ALICE, 3, WAIT);
    assert!(text(&got[2]).contains("Subject: after restart\r\n"));
    assert_eq!(mail.messages(SUPPORT).len(), 1);

    // Every login but the one without STARTTLS was over TLS.
    let logins = mail.smtp_logins();
    let summary: Vec<(&str, &str, bool)> = logins
        .iter()
        .map(|l| (l.user.as_str(), l.method.as_str(), l.tls))
        .collect();
    assert_eq!(
        summary,
        [
            (SUPPORT, "PLAIN", true),
            (SUPPORT, "PLAIN", false),
            (SUPPORT, "LOGIN", true),
            (SUPPORT, "PLAIN", true),
            (SUPPORT, "PLAIN", true),
            (SUPPORT, "PLAIN", true),
        ]
    );
}
