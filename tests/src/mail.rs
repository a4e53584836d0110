//! Real mail servers on 127.0.0.1 for end-to-end tests: Debian's dovecot
//! (IMAP + LMTP, and SMTP submission with TLS and AUTH) and OpenSMTPD (plain
//! SMTP), each run as a plain foreground process (`dovecot -F -c CONFIG`,
//! `smtpd -d -f CONFIG`) from configs generated in a fresh temporary
//! directory, on loopback ports picked at run time.
//!
//! ```text
//!   SMTP client ───────────────────────────▶ smtpd :smtp_port ──LMTP──▶ dovecot :lmtp_port
//!                                             ▲ (relay)                        │
//!   SMTP client ─TLS+AUTH─▶ dovecot submission┘                                ▼ maildir
//!                           :smtps_port, :submission_port      <tmp>/mail/ADDRESS/Maildir
//!   IMAP client ◀──────────────────────────── dovecot :imap_port (STARTTLS), :imaps_port
//! ```
//!
//! smtpd accepts mail for the test domains (`shoal.test`, `example.test`, and
//! any other domain given to [`MailServers::add_user`]) and only for known
//! users; everything else is refused at `RCPT TO`, so nothing ever leaves the
//! machine. Users log in with their full address and a plaintext password
//! (see [`Credentials`]); IDLE works (dovecot's default), with new mail
//! noticed within about a second.
//!
//! # Ports and TLS
//! | port | protocol | TLS | auth |
//! |------|----------|-----|------|
//! | [`imap_port`](MailServers::imap_port) | IMAP | STARTTLS offered, not required | plaintext LOGIN allowed without TLS |
//! | [`imaps_port`](MailServers::imaps_port) | IMAP | implicit TLS | LOGIN |
//! | [`smtp_port`](MailServers::smtp_port) | SMTP | none (no STARTTLS) | none |
//! | [`smtps_port`](MailServers::smtps_port) | SMTP | implicit TLS | AUTH PLAIN/LOGIN required |
//! | [`submission_port`](MailServers::submission_port) | SMTP | STARTTLS offered | AUTH PLAIN/LOGIN required (dovecot also takes it without STARTTLS from 127.0.0.1: check [`smtp_logins`](MailServers::smtp_logins)) |
//! | [`lmtp_port`](MailServers::lmtp_port) | LMTP | none | none |
//!
//! SMTP AUTH takes the same login and password as IMAP. Every instance makes
//! a throwaway CA ([`MailServers::ca_cert_path`], what a client must trust)
//! and a server certificate signed by it for `localhost` and `127.0.0.1`
//! ([`TLS_HOSTNAME`]), with the `openssl` CLI; all TLS ports present it.
//!
//! # SMTP with TLS: dovecot's submission service, not smtpd
//! OpenSMTPD 6.8.0p2 as Debian 12 builds it (against OpenSSL 3) fails every
//! server-side TLS handshake, with RSA and ECDSA keys alike ("EVP lib",
//! "missing private key": its privilege-separated key signer sets its key
//! handle on a copy of the key under OpenSSL 3; OpenSMTPD issues #1171,
//! #1239, fixed in 7.x). So the SMTPS and submission ports belong to a second
//! dovecot instance running only its submission service
//! (`dovecot-submissiond`): it authenticates against the same passwd-file
//! and relays every accepted message, in the same session, to smtpd's plain
//! port, so recipients are accepted or refused exactly as on
//! [`MailServers::smtp_port`]. It counts as part of "SMTP":
//! [`MailServers::stop_smtp`] and [`MailServers::start_smtp`] stop and start
//! it with smtpd. Without `dovecot-submissiond` everything else works and
//! [`MailServers::smtps_port`] and [`MailServers::submission_port`] panic.
//!
//! # Requirements
//! - root: smtpd refuses to start otherwise, and dovecot needs it to switch to
//!   the mail uid;
//! - Debian's `dovecot-imapd dovecot-lmtpd opensmtpd openssl`, and
//!   `dovecot-submissiond` for SMTPS and submission (`scripts/setup.sh`
//!   installs them; tested with dovecot 2.3.19.1, OpenSMTPD 6.8.0p2 and
//!   OpenSSL 3.0 of Debian 12);
//! - no system OpenSMTPD running (see below).
//!
//! # One smtpd per machine at a time
//! OpenSMTPD 6.8 has its control socket (`/run/smtpd.sock`) and its spool
//! (`/var/spool/smtpd`) compiled in, and a second smtpd exits with "control
//! socket already listening". So each [`MailServers`] holds an exclusive
//! `flock` on [`SMTPD_LOCK`] for its whole life: [`MailServers::start`] waits
//! (up to ten minutes, then panics) until no other instance, in this process
//! or another, is alive. Tests using it therefore run one after the other, and
//! **a test must not hold two `MailServers` at once** (the second would wait
//! for the first). Dovecot is fully per instance (`base_dir`, `state_dir`,
//! `instance_name`, ports), so only smtpd needs this.
//!
//! smtpd runs with its queue in memory (`-B queue=ram`): nothing is left in
//! `/var/spool/smtpd` for a later instance to deliver to stale ports. The
//! price: [`MailServers::stop_smtp`] drops mail that smtpd has accepted but not
//! yet handed to dovecot (it does so within milliseconds).
//!
//! # Users and uids
//! Users live in a dovecot passwd-file with `{PLAIN}` passwords; the login is
//! the full address. All mail is stored under the uid and gid of the `dovecot`
//! system user (dovecot refuses uid 0 for mail): the maildir root
//! `<tmp>/mail` belongs to it, `first_valid_uid`/`last_valid_uid` pin it, and
//! smtpd's delivery agent (`mail.lmtp`) runs as a `vmail` entry of its own
//! userbase table with the same uid. The harness reads the maildirs as root.
//!
//! Servers are stopped (SIGTERM to their process group, SIGKILL after a few
//! seconds) and the directory removed on drop. A test process killed with
//! SIGKILL leaves its servers running; a leftover smtpd then makes the next
//! start fail with "control socket already listening" (`pgrep -a smtpd`).

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The support team's mailbox (the address Shoal's relay ingests).
pub const SUPPORT: &str = "support@shoal.test";
/// A customer.
pub const ALICE: &str = "alice@example.test";
/// Another customer.
pub const BOB: &str = "bob@example.test";
/// Users that [`MailServers::start`] creates.
pub const DEFAULT_USERS: [&str; 3] = [SUPPORT, ALICE, BOB];
/// The machine-wide lock file that serializes smtpd instances.
pub const SMTPD_LOCK: &str = "/run/shoal-e2e-smtpd.lock";
/// The DNS name in the servers' certificate (besides the IP address
/// 127.0.0.1): the name a TLS client connecting to 127.0.0.1 may verify.
pub const TLS_HOSTNAME: &str = "localhost";

const DOVECOT: &str = "/usr/sbin/dovecot";
const SMTPD: &str = "/usr/sbin/smtpd";
const SMTPCTL: &str = "/usr/sbin/smtpctl";
const OPENSSL: &str = "/usr/bin/openssl";
/// Dovecot's submission service (package `dovecot-submissiond`).
const SUBMISSION: &str = "/usr/lib/dovecot/submission";
const PACKAGES: &str =
    "dovecot-imapd dovecot-lmtpd dovecot-submissiond opensmtpd openssl (scripts/setup.sh)";
const BASE_DOMAINS: [&str; 2] = ["shoal.test", "example.test"];
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const LOCK_TIMEOUT: Duration = Duration::from_secs(600);
const START_ATTEMPTS: u32 = 3;

static INSTANCES: AtomicU32 = AtomicU32::new(0);

/// How a user logs in over IMAP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The mail address (lowercase).
    pub address: String,
    /// The IMAP login: the full address.
    pub login: String,
    /// The plaintext password.
    pub password: String,
}

/// A successful SMTP AUTH on the SMTPS or submission port (see
/// [`MailServers::smtp_logins`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpLogin {
    /// The login (the user's address).
    pub user: String,
    /// The SASL mechanism: `PLAIN` or `LOGIN`.
    pub method: String,
    /// Whether the session was TLS (SMTPS, or after STARTTLS).
    pub tls: bool,
}

/// Running dovecot (IMAP + LMTP), OpenSMTPD (plain SMTP) and dovecot's
/// submission service (SMTPS, submission) with their own users and
/// maildirs; see the [module docs](self).
pub struct MailServers {
    dir: tempfile::TempDir,
    id: String,
    mail_uid: u32,
    mail_gid: u32,
    imap_port: u16,
    imaps_port: u16,
    lmtp_port: u16,
    smtp_port: u16,
    smtps_port: u16,
    submission_port: u16,
    users: Mutex<Vec<Credentials>>,
    dovecot: Option<Server>,
    smtp: Mutex<Option<SmtpServers>>,
    smtp_starts: AtomicU32,
    /// Whether dovecot's submission service is installed.
    has_submission: bool,
    startup: Duration,
    ca_cert: PathBuf,
    // Declared last: released only after both servers are stopped in `drop`.
    _smtpd_lock: File,
}

impl MailServers {
    /// Starts both servers with [`DEFAULT_USERS`] (support@shoal.test,
    /// alice@example.test, bob@example.test). Blocks until both accept
    /// connections, and first until no other `MailServers` is alive (see the
    /// module docs). Panics with the servers' logs if they fail to start.
    pub fn start() -> MailServers {
        MailServers::with_users(&DEFAULT_USERS)
    }

    /// Like [`MailServers::start`] with the given users (addresses). Their
    /// domains are accepted by smtpd besides `shoal.test` and `example.test`.
    pub fn with_users(addresses: &[&str]) -> MailServers {
        preflight();
        let lock = lock_smtpd();
        let (mail_uid, mail_gid) = system_user("dovecot");
        let dir = tempfile::Builder::new()
            .prefix("shoal-e2e-mail-")
            .tempdir()
            .expect("create mail temp dir");
        // Dovecot's mail processes (uid `dovecot`) and smtpd's lookup process
        // must reach files below it.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))
            .expect("chmod mail temp dir");
        let id = format!(
            "{}-{}",
            std::process::id(),
            INSTANCES.fetch_add(1, Ordering::Relaxed)
        );
        let mut users = Vec::new();
        for address in addresses {
            let address = normalize_address(address);
            if !users.iter().any(|u: &Credentials| u.address == address) {
                users.push(credentials_for(&address));
            }
        }
        let mut servers = MailServers {
            dir,
            id,
            mail_uid,
            mail_gid,
            imap_port: 0,
            imaps_port: 0,
            lmtp_port: 0,
            smtp_port: 0,
            smtps_port: 0,
            submission_port: 0,
            users: Mutex::new(users),
            dovecot: None,
            smtp: Mutex::new(None),
            smtp_starts: AtomicU32::new(0),
            has_submission: Path::new(SUBMISSION).exists(),
            startup: Duration::ZERO,
            ca_cert: PathBuf::new(),
            _smtpd_lock: lock,
        };
        servers.ca_cert = servers.tls_dir().join("ca.pem");
        let maildir_root = servers.dir.path().join("mail");
        fs::create_dir(&maildir_root).expect("create maildir root");
        fs::set_permissions(&maildir_root, fs::Permissions::from_mode(0o700))
            .expect("chmod maildir root");
        chown(&maildir_root, Some(mail_uid), Some(mail_gid)).expect("chown maildir root");
        for user in servers.users() {
            servers.create_maildir(&user.address);
        }
        servers.write_user_tables();

        let started = Instant::now();
        make_tls_files(&servers.tls_dir());
        for attempt in 1..=START_ATTEMPTS {
            let [imap, imaps, lmtp, smtp, smtps, submission] = free_ports();
            servers.imap_port = imap;
            servers.imaps_port = imaps;
            servers.lmtp_port = lmtp;
            servers.smtp_port = smtp;
            servers.smtps_port = smtps;
            servers.submission_port = submission;
            servers.write_configs();
            let mut dovecot = servers.spawn_dovecot(attempt);
            let mut smtp_servers = servers.spawn_smtp();
            let token = servers.token();
            // Dovecot binds all its listeners before it serves any, so a
            // plain greeting also means the implicit-TLS ports listen.
            let dovecot_ready = wait_ready(&mut dovecot, imap, "* OK", &token, b"a LOGOUT\r\n")
                .and_then(|()| wait_ready(&mut dovecot, lmtp, "220", &token, b"QUIT\r\n"));
            let smtp_ready = servers.wait_smtp_ready(&mut smtp_servers);
            if dovecot_ready.is_ok() && smtp_ready.is_ok() {
                servers.dovecot = Some(dovecot);
                *servers.smtp.get_mut().unwrap() = Some(smtp_servers);
                servers.startup = started.elapsed();
                return servers;
            }
            let report = format!(
                "dovecot: {}\n--- dovecot log ({}) ---\n{}\nsmtp: {}\n{}",
                status_text(&dovecot_ready),
                dovecot.log.display(),
                dovecot.log_text(),
                status_text(&smtp_ready),
                smtp_servers.logs(),
            );
            dovecot.stop();
            smtp_servers.stop();
            // Another process may have taken a port between our probe and the
            // server's bind: pick new ports and try again.
            if attempt < START_ATTEMPTS && report.contains("Address already in use") {
                continue;
            }
            let hint = if report.contains("control socket already listening") {
                "\nhint: another smtpd runs on this machine (system service or a leftover of a \
                 killed test run: `pgrep -a smtpd`); only one can run at a time"
            } else {
                ""
            };
            panic!(
                "mail servers failed to start (imap {imap}, imaps {imaps}, lmtp {lmtp}, \
                 smtp {smtp}, smtps {smtps}, submission {submission}, \
                 attempt {attempt}):\n{report}{hint}"
            );
        }
        unreachable!("the last attempt returns or panics")
    }

    /// How long making the certificates and starting the servers took (after
    /// the smtpd lock was taken).
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The IMAP port on 127.0.0.1: plaintext LOGIN/AUTHENTICATE PLAIN work
    /// without TLS; STARTTLS is offered (not required).
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    /// The IMAPS port on 127.0.0.1 (implicit TLS; see
    /// [`MailServers::ca_cert_path`]).
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// The SMTP port on 127.0.0.1 (no TLS, no auth). It stays the same across
    /// [`MailServers::stop_smtp`] and [`MailServers::start_smtp`].
    pub fn smtp_port(&self) -> u16 {
        self.smtp_port
    }

    /// The SMTPS port on 127.0.0.1: implicit TLS, and AUTH (PLAIN or LOGIN,
    /// with a user's IMAP login and password) required before `MAIL FROM`.
    /// Accepts the same recipients as [`MailServers::smtp_port`] (see the
    /// [module docs](self#smtp-with-tls-dovecots-submission-service-not-smtpd)).
    /// Stable across [`MailServers::stop_smtp`] and
    /// [`MailServers::start_smtp`]. Panics if `dovecot-submissiond` is not
    /// installed.
    pub fn smtps_port(&self) -> u16 {
        self.require_submission();
        self.smtps_port
    }

    /// The submission port on 127.0.0.1: STARTTLS offered, AUTH as on
    /// [`MailServers::smtps_port`] required. Dovecot counts a connection from
    /// 127.0.0.1 to 127.0.0.1 as secure and takes AUTH even without
    /// STARTTLS; [`MailServers::smtp_logins`] tells whether a client used
    /// it. Stable across [`MailServers::stop_smtp`] and
    /// [`MailServers::start_smtp`]. Panics if `dovecot-submissiond` is not
    /// installed.
    pub fn submission_port(&self) -> u16 {
        self.require_submission();
        self.submission_port
    }

    /// The PEM certificate of this instance's throwaway CA: the only trust
    /// anchor a TLS client needs for [`MailServers::imaps_port`],
    /// [`MailServers::smtps_port`], [`MailServers::submission_port`] and
    /// STARTTLS on [`MailServers::imap_port`]. The servers' certificate
    /// (`tls/server.pem` next to it, signed by this CA) names
    /// [`TLS_HOSTNAME`] and the IP address 127.0.0.1.
    pub fn ca_cert_path(&self) -> &Path {
        &self.ca_cert
    }

    /// Dovecot's LMTP port on 127.0.0.1 (what smtpd delivers to).
    pub fn lmtp_port(&self) -> u16 {
        self.lmtp_port
    }

    /// The temporary directory holding configs, logs and maildirs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// All users, in creation order.
    pub fn users(&self) -> Vec<Credentials> {
        self.users
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The credentials of `address`; panics if there is no such user.
    pub fn credentials(&self, address: &str) -> Credentials {
        let address = normalize_address(address);
        self.users()
            .into_iter()
            .find(|u| u.address == address)
            .unwrap_or_else(|| panic!("no mail user {address}"))
    }

    /// Adds a user while the servers run (or returns the existing one's
    /// credentials) and returns `(login, password)`. Dovecot re-reads its
    /// passwd-file by itself; smtpd's tables are reloaded with `smtpctl update
    /// table` (or read at the next [`MailServers::start_smtp`]).
    pub fn add_user(&self, address: &str) -> (String, String) {
        let address = normalize_address(address);
        {
            let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(u) = users.iter().find(|u| u.address == address) {
                return (u.login.clone(), u.password.clone());
            }
            users.push(credentials_for(&address));
        }
        self.create_maildir(&address);
        self.write_user_tables();
        if self.smtp_slot().is_some() {
            for table in ["testdomains", "vusers"] {
                let out = crate::output(Command::new(SMTPCTL).args(["update", "table", table]));
                assert!(
                    out.status.success(),
                    "smtpctl update table {table} failed: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        let c = self.credentials(&address);
        (c.login, c.password)
    }

    /// Stops smtpd and dovecot's submission service (the SMTP, SMTPS and
    /// submission ports then refuse connections) and waits until those ports
    /// are closed. Does nothing if they are already stopped.
    pub fn stop_smtp(&self) {
        let Some(smtp) = self.smtp_slot().take() else {
            return;
        };
        smtp.stop();
        let deadline = Instant::now() + READY_TIMEOUT;
        for port in self.smtp_ports() {
            while TcpStream::connect_timeout(&loopback(port), Duration::from_millis(200)).is_ok() {
                assert!(
                    Instant::now() < deadline,
                    "port {port} still accepts connections after SMTP stopped"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Starts smtpd and dovecot's submission service again on the same ports
    /// (SMTP, SMTPS, submission) and waits until they accept connections.
    /// Does nothing if they are running. Panics with their logs if they fail
    /// to start.
    pub fn start_smtp(&self) {
        let mut slot = self.smtp_slot();
        if slot.is_some() {
            return;
        }
        self.write_configs();
        let mut smtp = self.spawn_smtp();
        if let Err(e) = self.wait_smtp_ready(&mut smtp) {
            let logs = smtp.logs();
            smtp.stop();
            panic!(
                "SMTP failed to restart on ports {:?}: {e}\n{logs}",
                self.smtp_ports()
            );
        }
        *slot = Some(smtp);
    }

    /// Whether SMTP (smtpd and the submission service) is running (between
    /// [`MailServers::stop_smtp`] and [`MailServers::start_smtp`] it is not).
    pub fn smtp_running(&self) -> bool {
        self.smtp_slot().is_some()
    }

    /// Puts the raw RFC 822 message `raw` straight into `to`'s INBOX over
    /// dovecot's LMTP (envelope sender `<>`), bypassing smtpd: it works while
    /// SMTP is stopped, and the message is in the maildir when this returns.
    /// Bare LF line endings are sent as CRLF. Panics if dovecot refuses it.
    pub fn deliver(&self, raw: &[u8], to: &str) {
        let to = normalize_address(to);
        if let Err(e) = lmtp_deliver(self.lmtp_port, raw, &to) {
            panic!(
                "LMTP delivery to {to} failed: {e}\n--- dovecot log ---\n{}",
                self.dovecot_log()
            );
        }
    }

    /// The maildir (`…/Maildir`) of `address`.
    pub fn maildir(&self, address: &str) -> PathBuf {
        self.home(&normalize_address(address)).join("Maildir")
    }

    /// The raw RFC 822 messages in `address`'s INBOX, oldest first, read from
    /// its maildir (`new/` and `cur/`). Dovecot stores LF line endings; they
    /// are turned back into CRLF, so each message equals what IMAP `BODY[]`
    /// returns (including the `Return-Path`, `Delivered-To` and `Received`
    /// headers dovecot adds).
    pub fn messages(&self, address: &str) -> Vec<Vec<u8>> {
        let maildir = self.maildir(address);
        // An IMAP session may move a file from new/ to cur/ while we read:
        // read again until a pass sees every file it listed.
        'again: loop {
            let mut found: Vec<((u64, u64, String), Vec<u8>)> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for sub in ["new", "cur"] {
                let entries = match fs::read_dir(maildir.join(sub)) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => panic!("read {}: {e}", maildir.join(sub).display()),
                };
                for entry in entries {
                    let entry = entry.expect("read maildir entry");
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with('.') {
                        continue;
                    }
                    let base = name.split(':').next().unwrap_or(&name).to_string();
                    if !seen.insert(base.clone()) {
                        continue;
                    }
                    match fs::read(entry.path()) {
                        Ok(bytes) => found.push((maildir_order(&base), to_crlf(&bytes))),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue 'again,
                        Err(e) => panic!("read {}: {e}", entry.path().display()),
                    }
                }
            }
            found.sort_by(|a, b| a.0.cmp(&b.0));
            return found.into_iter().map(|(_, m)| m).collect();
        }
    }

    /// Waits until `address`'s INBOX holds at least `n` messages and returns
    /// them (see [`MailServers::messages`]); panics with the servers' logs
    /// after `timeout`. Blocks the calling thread.
    pub fn wait_for_messages(&self, address: &str, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages(address);
            if messages.len() >= n {
                return messages;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{address} has {} message(s) after {timeout:?}, expected {n}\n\
                     --- SMTP logs ---\n{}\n--- dovecot log ---\n{}",
                    messages.len(),
                    self.smtp_log(),
                    self.dovecot_log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Dovecot's log so far.
    pub fn dovecot_log(&self) -> String {
        read_lossy(&self.dir.path().join("dovecot.log"))
    }

    /// smtpd's log so far, across restarts.
    pub fn smtpd_log(&self) -> String {
        self.logs_of("smtpd")
    }

    /// The log of dovecot's submission service (SMTPS and submission ports)
    /// so far, across restarts.
    pub fn submission_log(&self) -> String {
        self.logs_of("submission")
    }

    /// The successful SMTP AUTH logins so far (SMTPS and submission ports,
    /// across restarts), oldest first, read from the submission service's
    /// log. Dovecot counts a connection from 127.0.0.1 to 127.0.0.1 as
    /// secure and so accepts AUTH on the submission port even without
    /// STARTTLS: a test that wants a client to have used STARTTLS checks
    /// [`SmtpLogin::tls`] here.
    pub fn smtp_logins(&self) -> Vec<SmtpLogin> {
        self.submission_log()
            .lines()
            .filter_map(|line| {
                let rest = line.split_once("submission-login: Info: Login: ")?.1;
                let fields: Vec<&str> = rest.split(", ").collect();
                let field = |name: &str| {
                    fields
                        .iter()
                        .find_map(|f| f.strip_prefix(name))
                        .unwrap_or_default()
                };
                Some(SmtpLogin {
                    user: field("user=<").trim_end_matches('>').to_string(),
                    method: field("method=").to_string(),
                    tls: fields.contains(&"TLS"),
                })
            })
            .collect()
    }

    /// smtpd's and the submission service's logs.
    fn smtp_log(&self) -> String {
        format!(
            "--- smtpd ---\n{}\n--- submission ---\n{}",
            self.smtpd_log(),
            self.submission_log()
        )
    }

    fn logs_of(&self, name: &str) -> String {
        let mut out = String::new();
        for n in 1..=self.smtp_starts.load(Ordering::Relaxed) {
            let path = self.dir.path().join(format!("{name}.{n}.log"));
            if path.exists() {
                out.push_str(&format!("[{}]\n", path.display()));
                out.push_str(&read_lossy(&path));
            }
        }
        out
    }

    /// The running SMTP servers, if any (usable even after a panic
    /// elsewhere).
    fn smtp_slot(&self) -> MutexGuard<'_, Option<SmtpServers>> {
        self.smtp.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn require_submission(&self) {
        assert!(
            self.has_submission,
            "{SUBMISSION} is missing: SMTPS and submission need dovecot's submission \
             service; install {PACKAGES}"
        );
    }

    /// A string unique to this instance, in every server's greeting.
    fn token(&self) -> String {
        format!("shoal-e2e-{}", self.id)
    }

    /// Where the CA and the server certificate live.
    fn tls_dir(&self) -> PathBuf {
        self.dir.path().join("tls")
    }

    /// The SMTP side's TCP ports: plain SMTP (smtpd), and SMTPS and
    /// submission (dovecot's submission service, if installed).
    fn smtp_ports(&self) -> Vec<u16> {
        let mut ports = vec![self.smtp_port];
        if self.has_submission {
            ports.extend([self.smtps_port, self.submission_port]);
        }
        ports
    }

    /// Waits for the plain greetings of smtpd and of the submission port
    /// (it greets before STARTTLS). Dovecot binds all its listeners before
    /// serving any, so the SMTPS port then listens too.
    fn wait_smtp_ready(&self, smtp: &mut SmtpServers) -> Result<(), String> {
        let token = self.token();
        wait_ready(&mut smtp.smtpd, self.smtp_port, "220", &token, b"QUIT\r\n")?;
        if let Some(submission) = smtp.submission.as_mut() {
            wait_ready(submission, self.submission_port, "220", &token, b"QUIT\r\n")?;
        }
        Ok(())
    }

    fn home(&self, address: &str) -> PathBuf {
        self.dir.path().join("mail").join(address)
    }

    fn create_maildir(&self, address: &str) {
        let home = self.home(address);
        let maildir = home.join("Maildir");
        for dir in [
            home.clone(),
            maildir.clone(),
            maildir.join("cur"),
            maildir.join("new"),
            maildir.join("tmp"),
        ] {
            match fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => panic!("create {}: {e}", dir.display()),
            }
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod maildir");
            chown(&dir, Some(self.mail_uid), Some(self.mail_gid)).expect("chown maildir");
        }
    }

    /// Dovecot's passwd-file and smtpd's domain, virtual-user and userbase
    /// tables, each replaced atomically.
    fn write_user_tables(&self) {
        let users = self.users();
        let dir = self.dir.path();
        let mut passwd = String::new();
        let mut virtual_users = String::new();
        let mut domains: Vec<String> = BASE_DOMAINS.iter().map(|d| d.to_string()).collect();
        for u in &users {
            passwd.push_str(&format!(
                "{}:{{PLAIN}}{}:{}:{}::{}::\n",
                u.login,
                u.password,
                self.mail_uid,
                self.mail_gid,
                self.home(&u.address).display()
            ));
            virtual_users.push_str(&format!("{} vmail\n", u.address));
            let domain = u.address.split('@').nth(1).unwrap().to_string();
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
        write_atomic(&dir.join("users"), &passwd);
        write_atomic(&dir.join("smtpd-vusers"), &virtual_users);
        write_atomic(&dir.join("smtpd-domains"), &(domains.join("\n") + "\n"));
        write_atomic(
            &dir.join("smtpd-userbase"),
            &format!(
                "vmail {}:{}:{}\n",
                self.mail_uid,
                self.mail_gid,
                dir.join("mail").display()
            ),
        );
    }

    fn write_configs(&self) {
        let dir = self.dir.path().display().to_string();
        let (id, token) = (&self.id, self.token());
        let (imap, imaps, lmtp) = (self.imap_port, self.imaps_port, self.lmtp_port);
        let (smtp, smtps, submission) = (self.smtp_port, self.smtps_port, self.submission_port);
        let common = self.dovecot_common();
        // Nested blocks each on their own lines: dovecot's parser wants that.
        let dovecot = format!(
            "# Generated by shoal-e2e (tests/src/mail.rs); read with dovecot -F -c.
instance_name = shoal-e2e-{id}
base_dir = {dir}/run
state_dir = {dir}/state
protocols = imap lmtp
# Dovecot 2.3 (Debian 12) spelling; 2.4 renamed it auth_allow_cleartext.
# Plaintext LOGIN stays allowed on the plain IMAP port (which offers
# STARTTLS, as ssl = yes).
disable_plaintext_auth = no
ssl = yes
{common}
# IDLE: notice new mail within a second even without inotify.
mailbox_idle_check_interval = 1 secs
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
"
        );
        write_atomic(&self.dir.path().join("dovecot.conf"), &dovecot);
        // The SMTP side's TLS (see the module docs): an instance of its own,
        // stopped and started with smtpd.
        let submission = format!(
            "# Generated by shoal-e2e (tests/src/mail.rs); read with dovecot -F -c.
instance_name = shoal-e2e-{id}-submission
base_dir = {dir}/run-submission
state_dir = {dir}/state-submission
protocols = submission
hostname = {token}.submission.shoal.test
# Submission always requires AUTH before MAIL FROM. These would also
# require TLS for it, but dovecot counts connections from 127.0.0.1 to
# 127.0.0.1 as secure, so on the submission port AUTH works without
# STARTTLS too (MailServers::smtp_logins tells).
disable_plaintext_auth = yes
ssl = required
{common}
# Every accepted message goes on to smtpd's plain port, recipient by
# recipient within the client's session, so smtpd decides who is known.
submission_relay_host = 127.0.0.1
submission_relay_port = {smtp}
submission_relay_ssl = no
service submission-login {{
  inet_listener submission {{
    address = 127.0.0.1
    port = {submission}
  }}
  inet_listener submissions {{
    address = 127.0.0.1
    port = {smtps}
    ssl = yes
  }}
}}
"
        );
        write_atomic(&self.dir.path().join("submission.conf"), &submission);
        let smtpd = format!(
            "# Generated by shoal-e2e (tests/src/mail.rs); read with smtpd -d -f.
# No TLS here (see the module docs): dovecot's submission service has the
# SMTPS and submission ports and relays to this one.
table testdomains file:{dir}/smtpd-domains
table vusers file:{dir}/smtpd-vusers
table vbase file:{dir}/smtpd-userbase
listen on 127.0.0.1 port {smtp} hostname \"{token}.smtpd.shoal.test\"
action \"dovecot\" lmtp \"127.0.0.1:{lmtp}\" rcpt-to virtual <vusers> userbase <vbase>
match from any for domain <testdomains> action \"dovecot\"
"
        );
        write_atomic(&self.dir.path().join("smtpd.conf"), &smtpd);
    }

    /// The settings both dovecot instances share: logging, TLS files,
    /// users, uids.
    fn dovecot_common(&self) -> String {
        let dir = self.dir.path().display().to_string();
        let tls = self.tls_dir().display().to_string();
        let token = self.token();
        let (uid, gid) = (self.mail_uid, self.mail_gid);
        format!(
            "listen = 127.0.0.1
login_greeting = {token} ready.
log_path = /dev/stderr
ssl_cert = <{tls}/server.pem
ssl_key = <{tls}/server.key
auth_mechanisms = plain login
# Tests may try wrong passwords: answer failures at once and keep no
# per-IP penalty (it would delay later logins from 127.0.0.1 by 2-15 s).
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/users
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}"
        )
    }

    fn spawn_dovecot(&self, attempt: u32) -> Server {
        let dir = self.dir.path();
        // A failed attempt's master.pid names a dead process: dovecot
        // ignores it.
        let mut cmd = Command::new(DOVECOT);
        cmd.arg("-F").arg("-c").arg(dir.join("dovecot.conf"));
        let log = dir.join("dovecot.log");
        if attempt > 1 {
            let _ = fs::remove_file(&log);
        }
        Server::spawn("dovecot", cmd, log)
    }

    /// Starts smtpd and (if installed) dovecot's submission service; each
    /// start logs to files of its own (`smtpd.N.log`, `submission.N.log`).
    fn spawn_smtp(&self) -> SmtpServers {
        let dir = self.dir.path();
        let n = self.smtp_starts.fetch_add(1, Ordering::Relaxed) + 1;
        let mut cmd = Command::new(SMTPD);
        cmd.args(["-d", "-B", "queue=ram", "-f"])
            .arg(dir.join("smtpd.conf"));
        let smtpd = Server::spawn("smtpd", cmd, dir.join(format!("smtpd.{n}.log")));
        let submission = self.has_submission.then(|| {
            let mut cmd = Command::new(DOVECOT);
            cmd.arg("-F").arg("-c").arg(dir.join("submission.conf"));
            Server::spawn(
                "dovecot submission",
                cmd,
                dir.join(format!("submission.{n}.log")),
            )
        });
        SmtpServers { smtpd, submission }
    }
}

/// A plain-text mail from `from` to [`SUPPORT`] with `extra` headers (each
/// ending in CRLF), dated 26 November 2026.
pub fn mail_from(from: &str, message_id: &str, subject: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\n\
         Message-ID: <{message_id}>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// [`mail_from`] Alice Martin, the customer of the tests.
pub fn customer_mail(message_id: &str, subject: &str, extra: &str, body: &str) -> Vec<u8> {
    mail_from(
        &format!("Alice Martin <{ALICE}>"),
        message_id,
        subject,
        extra,
        body,
    )
}

/// A relay (with `serve` options) whose team Northwind has Ana, signed in
/// on a fresh client, and [`SUPPORT`] connected.
pub fn relay_with_mailbox(mail: &MailServers, serve: &[&str]) -> (crate::Relay, crate::Client) {
    let relay = crate::Relay::start_with(serve);
    let team = relay.team("Northwind");
    let token = relay.agent(&team, "Ana", "ana@northwind.example");
    connect_support_mailbox(&relay, mail, "Northwind");
    let ana = crate::Client::new();
    ana.login(&relay, &token);
    (relay, ana)
}

/// Connects [`SUPPORT`] to `team` on `relay`: IMAP and SMTP in plain text
/// on loopback, the password handed over in a file.
pub fn connect_support_mailbox(relay: &crate::Relay, mail: &MailServers, team: &str) {
    connect_mailbox(relay, mail, team, SUPPORT);
}

/// [`connect_support_mailbox`] for any user of `mail`.
pub fn connect_mailbox(relay: &crate::Relay, mail: &MailServers, team: &str, address: &str) {
    connect_mailbox_at(
        relay,
        mail,
        team,
        address,
        (mail.imap_port(), mail.smtp_port()),
    );
}

/// [`connect_mailbox`] with the relay told to reach IMAP and SMTP on other
/// loopback ports (`(imap, smtp)`), e.g. a [`crate::tcp_fault::FaultProxy`]'s.
pub fn connect_mailbox_at(
    relay: &crate::Relay,
    mail: &MailServers,
    team: &str,
    address: &str,
    (imap_port, smtp_port): (u16, u16),
) {
    let creds = mail.credentials(address);
    let password = relay.data().join(format!("{address}.pass"));
    std::fs::write(&password, format!("{}\n", creds.password)).unwrap();
    relay.admin(&[
        "mailbox",
        "add",
        "--team",
        team,
        "--address",
        address,
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        &imap_port.to_string(),
        "--imap-tls",
        "none",
        "--imap-user",
        &creds.login,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &smtp_port.to_string(),
        "--smtp-tls",
        "none",
        "--password-file",
        password.to_str().unwrap(),
        "--insecure-plaintext",
    ]);
}

impl Drop for MailServers {
    fn drop(&mut self) {
        if let Some(smtp) = self.smtp_slot().take() {
            smtp.stop();
        }
        if let Some(dovecot) = self.dovecot.take() {
            dovecot.stop();
        }
    }
}

/// The SMTP side: smtpd (plain SMTP) and dovecot's submission service
/// (SMTPS, submission; `None` if not installed), stopped and started
/// together.
struct SmtpServers {
    smtpd: Server,
    submission: Option<Server>,
}

impl SmtpServers {
    fn stop(self) {
        if let Some(submission) = self.submission {
            submission.stop();
        }
        self.smtpd.stop();
    }

    fn logs(&self) -> String {
        let mut out = format!(
            "--- smtpd log ({}) ---\n{}",
            self.smtpd.log.display(),
            self.smtpd.log_text()
        );
        if let Some(submission) = &self.submission {
            out.push_str(&format!(
                "\n--- submission log ({}) ---\n{}",
                submission.log.display(),
                submission.log_text()
            ));
        }
        out
    }
}

/// One server process, leader of its own process group, logging to a file.
struct Server {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Server {
    fn spawn(name: &'static str, mut cmd: Command, log: PathBuf) -> Server {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open server log");
        let err = out.try_clone().expect("clone log handle");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Server { name, child, log }
    }

    fn log_text(&self) -> String {
        read_lossy(&self.log)
    }

    /// SIGTERM to the whole group, SIGKILL after [`STOP_TIMEOUT`]; then kills
    /// whatever is left of the group before reaping the leader (while the
    /// leader is a zombie its pid cannot name another group).
    fn stop(mut self) {
        let pgid = self.child.id() as libc::pid_t;
        let deadline = Instant::now() + STOP_TIMEOUT;
        // SAFETY: plain syscalls on the group we created.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let mut killed = false;
        loop {
            if exited_unreaped(pgid) {
                break;
            }
            if !killed && Instant::now() >= deadline {
                eprintln!("{} did not stop on SIGTERM; sending SIGKILL", self.name);
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
                killed = true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Whether `pid` (our child) has exited, without reaping it.
fn exited_unreaped(pid: libc::pid_t) -> bool {
    // SAFETY: waitid with WNOWAIT only inspects our own child.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT | libc::WNOHANG,
        );
        r == 0 && info.si_pid() == pid || r == -1
    }
}

/// Polls until `port` greets with a line starting with `greeting` and
/// containing this instance's `token` (so a stranger on a recycled port is
/// not mistaken for our server), then says `quit`.
fn wait_ready(
    server: &mut Server,
    port: u16,
    greeting: &str,
    token: &str,
    quit: &[u8],
) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut last = String::from("no connection yet");
    loop {
        if let Some(status) = server.child.try_wait().expect("poll server") {
            return Err(format!("{} exited with {status}", server.name));
        }
        if let Ok(stream) = TcpStream::connect_timeout(&loopback(port), Duration::from_millis(200))
        {
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .expect("set read timeout");
            let mut line = String::new();
            let _ = BufReader::new(&stream).read_line(&mut line);
            if line.starts_with(greeting) && line.contains(token) {
                let _ = (&stream).write_all(quit);
                return Ok(());
            }
            last = format!("port {port} greeted with {line:?}");
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} not ready on port {port} within {READY_TIMEOUT:?} ({last})",
                server.name
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Checks what the servers need, with messages that say how to fix it.
fn preflight() {
    // SAFETY: geteuid has no preconditions.
    assert!(
        unsafe { libc::geteuid() } == 0,
        "MailServers needs root: OpenSMTPD refuses to run otherwise"
    );
    for bin in [DOVECOT, SMTPD, SMTPCTL, OPENSSL] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install {PACKAGES}"
        );
    }
}

/// Takes the machine-wide smtpd lock (see the module docs).
fn lock_smtpd() -> File {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(SMTPD_LOCK)
        .unwrap_or_else(|e| panic!("open {SMTPD_LOCK}: {e}"));
    let deadline = Instant::now() + LOCK_TIMEOUT;
    loop {
        match file.try_lock() {
            Ok(()) => return file,
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => panic!("lock {SMTPD_LOCK}: {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "another MailServers (this process or another) held {SMTPD_LOCK} for \
             {LOCK_TIMEOUT:?}; does one test start two at once?"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The uid and gid of a system user.
fn system_user(name: &str) -> (u32, u32) {
    let cname = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwnam_r writes into pwd and buf, both alive for the call.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let rc = libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        assert!(
            rc == 0 && !result.is_null(),
            "no system user {name:?}: install {PACKAGES}"
        );
        (pwd.pw_uid, pwd.pw_gid)
    }
}

/// `N` distinct free ports on 127.0.0.1 (held together while picking).
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

/// The extensions of the throwaway CA and the server certificate, in an
/// `openssl` config of our own (the system's `openssl.cnf` would add its
/// defaults). webpki (rustls) wants a real CA — `CA:TRUE` and `keyCertSign`,
/// not the leaf itself as trust anchor — and a leaf that is no CA, names the
/// server in subjectAltName (the CN is ignored) and allows `serverAuth`.
const OPENSSL_CNF: &str = "# Generated by shoal-e2e (tests/src/mail.rs).
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
";

/// Makes `dir` with a throwaway CA (`ca.pem`, `ca.key`) and a certificate
/// for [`TLS_HOSTNAME`] and 127.0.0.1 signed by it (`server.pem`,
/// `server.key`): ECDSA P-256 keys, valid for a week; three `openssl` runs,
/// some 30 ms.
fn make_tls_files(dir: &Path) {
    fs::create_dir(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let cnf = dir.join("openssl.cnf");
    fs::write(&cnf, OPENSSL_CNF).unwrap_or_else(|e| panic!("write {}: {e}", cnf.display()));
    let subject_ca = "/O=shoal-e2e/CN=Shoal e2e throwaway CA";
    let subject_server = format!("/O=shoal-e2e/CN={TLS_HOSTNAME}");
    #[rustfmt::skip]
    let steps: [(&str, &[&str]); 3] = [
        ("CA", &[
            "req", "-config", "openssl.cnf", "-x509", "-sha256", "-days", "7",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc",
            "-keyout", "ca.key", "-out", "ca.pem",
            "-subj", subject_ca, "-extensions", "ca_ext",
        ]),
        ("server key", &[
            "req", "-config", "openssl.cnf", "-new",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc",
            "-keyout", "server.key", "-out", "server.csr", "-subj", &subject_server,
        ]),
        // A fresh CA per instance: a fixed serial is unique under it.
        ("server certificate", &[
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", "2", "-sha256", "-days", "7",
            "-extfile", "openssl.cnf", "-extensions", "server_ext", "-out", "server.pem",
        ]),
    ];
    for (what, args) in steps {
        run_openssl(dir, what, args);
    }
    for key in ["ca.key", "server.key"] {
        fs::set_permissions(dir.join(key), fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("chmod {key}: {e}"));
    }
}

/// Runs `openssl ARGS` in `dir` with no system config.
fn run_openssl(dir: &Path, what: &str, args: &[&str]) {
    if !Path::new(OPENSSL).exists() {
        panic!("{OPENSSL} is missing (install {PACKAGES})");
    }
    let out = crate::output(
        Command::new(OPENSSL)
            .args(args)
            .current_dir(dir)
            .env("OPENSSL_CONF", "/dev/null"),
    );
    assert!(
        out.status.success(),
        "openssl failed to make the {what} in {}: {}\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

fn normalize_address(address: &str) -> String {
    let address = address.trim().to_ascii_lowercase();
    let valid = address.split('@').count() == 2
        && address.split('@').all(|part| !part.is_empty())
        && address
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@.-_+".contains(c));
    assert!(valid, "not a usable test mail address: {address:?}");
    address
}

fn credentials_for(address: &str) -> Credentials {
    let local = address.split('@').next().unwrap();
    Credentials {
        address: address.to_string(),
        login: address.to_string(),
        password: format!("{local}-secret"),
    }
}

fn write_atomic(path: &Path, contents: &str) {
    let tmp = path.with_extension("tmp~");
    fs::write(&tmp, contents).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    fs::rename(&tmp, path).unwrap_or_else(|e| panic!("rename to {}: {e}", path.display()));
}

fn read_lossy(path: &Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn status_text(r: &Result<(), String>) -> &str {
    match r {
        Ok(()) => "ready",
        Err(e) => e,
    }
}

/// Sort key of a maildir file name `SECS.M<USECS>P<PID>….host`: delivery
/// time, then the name.
fn maildir_order(name: &str) -> (u64, u64, String) {
    let mut parts = name.split('.');
    let secs = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    let usecs = parts
        .next()
        .and_then(|s| s.strip_prefix('M'))
        .map(|s| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (secs, usecs, name.to_string())
}

/// Bare LF → CRLF (existing CRLF kept).
fn to_crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// One LMTP transaction: `raw` from `<>` to `to`.
fn lmtp_deliver(port: u16, raw: &[u8], to: &str) -> Result<(), String> {
    let stream = TcpStream::connect(loopback(port)).map_err(|e| format!("connect: {e}"))?;
    let timeout = Some(Duration::from_secs(10));
    stream
        .set_read_timeout(timeout)
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(timeout)
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut writer = stream;
    let mut step = |send: &[u8], want: &str| -> Result<(), String> {
        if !send.is_empty() {
            writer
                .write_all(send)
                .map_err(|e| format!("send {:?}: {e}", String::from_utf8_lossy(send)))?;
        }
        let reply = read_reply(&mut reader)?;
        if reply.starts_with(want) {
            Ok(())
        } else {
            let sent = String::from_utf8_lossy(&send[..send.len().min(80)]).into_owned();
            Err(format!("after {sent:?} got {reply:?}, expected {want}"))
        }
    };
    step(b"", "220")?;
    step(b"LHLO shoal-e2e\r\n", "250")?;
    step(b"MAIL FROM:<>\r\n", "250")?;
    step(format!("RCPT TO:<{to}>\r\n").as_bytes(), "250")?;
    step(b"DATA\r\n", "354")?;
    let mut data = Vec::with_capacity(raw.len() + 16);
    for line in to_crlf(raw).split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            data.push(b'.');
        }
        data.extend_from_slice(line);
    }
    if !data.ends_with(b"\r\n") {
        data.extend_from_slice(b"\r\n");
    }
    data.extend_from_slice(b".\r\n");
    step(&data, "250")?;
    step(b"QUIT\r\n", "221")
}

/// One (possibly multi-line) SMTP/LMTP reply.
fn read_reply(reader: &mut impl BufRead) -> Result<String, String> {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| format!("read reply: {e}"))?;
        if n == 0 {
            return Err(format!("connection closed (reply so far {reply:?})"));
        }
        reply.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_order() {
        assert_eq!(to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert!(maildir_order("1700000000.M9999P1.vm") < maildir_order("1700000000.M10000P1.vm"));
        assert!(maildir_order("1700000000.M999999P1.vm") < maildir_order("1700000001.M1P1.vm"));
    }
}
