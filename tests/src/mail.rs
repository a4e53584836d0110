//! Real mail servers on 127.0.0.1 for end-to-end tests: Debian's dovecot
//! (IMAP + LMTP) and OpenSMTPD (SMTP), each run as a plain foreground process
//! (`dovecot -F -c CONFIG`, `smtpd -d -f CONFIG`) from configs generated in a
//! fresh temporary directory, on loopback ports picked at run time.
//!
//! ```text
//!   SMTP client ──▶ smtpd 127.0.0.1:smtp_port ──LMTP──▶ dovecot 127.0.0.1:lmtp_port
//!                                                        │ maildir  <tmp>/mail/ADDRESS/Maildir
//!   IMAP client ◀───────────────── dovecot 127.0.0.1:imap_port
//! ```
//!
//! smtpd accepts mail for the test domains (`shoal.test`, `example.test`, and
//! any other domain given to [`MailServers::add_user`]) and only for known
//! users; everything else is refused at `RCPT TO`, so nothing ever leaves the
//! machine. Users log in with their full address and a plaintext password
//! (see [`Credentials`]); IMAP has no TLS and allows plaintext auth; IDLE works
//! (dovecot's default), with new mail noticed within about a second.
//!
//! # Requirements
//! - root: smtpd refuses to start otherwise, and dovecot needs it to switch to
//!   the mail uid;
//! - Debian's `dovecot-imapd dovecot-lmtpd opensmtpd` (`scripts/setup.sh`
//!   installs them; tested with dovecot 2.3.19.1 and OpenSMTPD 6.8.0p2 of
//!   Debian 12);
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

const DOVECOT: &str = "/usr/sbin/dovecot";
const SMTPD: &str = "/usr/sbin/smtpd";
const SMTPCTL: &str = "/usr/sbin/smtpctl";
const PACKAGES: &str = "dovecot-imapd dovecot-lmtpd opensmtpd (scripts/setup.sh)";
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

/// A running dovecot (IMAP + LMTP) and OpenSMTPD (SMTP) pair with its own
/// users and maildirs; see the [module docs](self).
pub struct MailServers {
    dir: tempfile::TempDir,
    id: String,
    mail_uid: u32,
    mail_gid: u32,
    imap_port: u16,
    lmtp_port: u16,
    smtp_port: u16,
    users: Mutex<Vec<Credentials>>,
    dovecot: Option<Server>,
    smtpd: Mutex<Option<Server>>,
    smtpd_starts: AtomicU32,
    startup: Duration,
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
            lmtp_port: 0,
            smtp_port: 0,
            users: Mutex::new(users),
            dovecot: None,
            smtpd: Mutex::new(None),
            smtpd_starts: AtomicU32::new(0),
            startup: Duration::ZERO,
            _smtpd_lock: lock,
        };
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
        for attempt in 1..=START_ATTEMPTS {
            let [imap, lmtp, smtp] = free_ports();
            servers.imap_port = imap;
            servers.lmtp_port = lmtp;
            servers.smtp_port = smtp;
            servers.write_configs();
            let mut dovecot = servers.spawn_dovecot(attempt);
            let mut smtpd = servers.spawn_smtpd();
            let token = servers.token();
            let dovecot_ready = wait_ready(&mut dovecot, imap, "* OK", &token, b"a LOGOUT\r\n")
                .and_then(|()| wait_ready(&mut dovecot, lmtp, "220", &token, b"QUIT\r\n"));
            let smtpd_ready = wait_ready(&mut smtpd, smtp, "220", &token, b"QUIT\r\n");
            if dovecot_ready.is_ok() && smtpd_ready.is_ok() {
                servers.dovecot = Some(dovecot);
                *servers.smtpd.get_mut().unwrap() = Some(smtpd);
                servers.startup = started.elapsed();
                return servers;
            }
            let report = format!(
                "dovecot: {}\n--- dovecot log ({}) ---\n{}\nsmtpd: {}\n--- smtpd log ({}) ---\n{}",
                status_text(&dovecot_ready),
                dovecot.log.display(),
                dovecot.log_text(),
                status_text(&smtpd_ready),
                smtpd.log.display(),
                smtpd.log_text(),
            );
            dovecot.stop();
            smtpd.stop();
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
                "mail servers failed to start (imap {imap}, lmtp {lmtp}, smtp {smtp}, \
                 attempt {attempt}):\n{report}{hint}"
            );
        }
        unreachable!("the last attempt returns or panics")
    }

    /// How long starting both servers took (after the smtpd lock was taken).
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The IMAP port on 127.0.0.1 (no TLS, plaintext LOGIN/AUTHENTICATE PLAIN).
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    /// The SMTP port on 127.0.0.1 (no TLS, no auth). It stays the same across
    /// [`MailServers::stop_smtp`] and [`MailServers::start_smtp`].
    pub fn smtp_port(&self) -> u16 {
        self.smtp_port
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
        if self.smtpd_slot().is_some() {
            for table in ["testdomains", "vusers"] {
                let out = Command::new(SMTPCTL)
                    .args(["update", "table", table])
                    .output()
                    .expect("run smtpctl");
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

    /// Stops smtpd (the SMTP port then refuses connections) and waits until
    /// its port is closed. Does nothing if it is already stopped.
    pub fn stop_smtp(&self) {
        let Some(smtpd) = self.smtpd_slot().take() else {
            return;
        };
        smtpd.stop();
        let deadline = Instant::now() + READY_TIMEOUT;
        while TcpStream::connect_timeout(&loopback(self.smtp_port), Duration::from_millis(200))
            .is_ok()
        {
            assert!(
                Instant::now() < deadline,
                "SMTP port {} still accepts connections after smtpd stopped",
                self.smtp_port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts smtpd again on the same port and waits until it accepts
    /// connections. Does nothing if it is running. Panics with its log if it
    /// fails to start.
    pub fn start_smtp(&self) {
        let mut slot = self.smtpd_slot();
        if slot.is_some() {
            return;
        }
        self.write_configs();
        let mut smtpd = self.spawn_smtpd();
        if let Err(e) = wait_ready(
            &mut smtpd,
            self.smtp_port,
            "220",
            &self.token(),
            b"QUIT\r\n",
        ) {
            let log = smtpd.log_text();
            let path = smtpd.log.clone();
            smtpd.stop();
            panic!(
                "smtpd failed to restart on port {}: {e}\n--- smtpd log ({}) ---\n{log}",
                self.smtp_port,
                path.display()
            );
        }
        *slot = Some(smtpd);
    }

    /// Whether smtpd is running (between [`MailServers::stop_smtp`] and
    /// [`MailServers::start_smtp`] it is not).
    pub fn smtp_running(&self) -> bool {
        self.smtpd_slot().is_some()
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
                     --- smtpd log ---\n{}\n--- dovecot log ---\n{}",
                    messages.len(),
                    self.smtpd_log(),
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
        let mut out = String::new();
        for n in 1..=self.smtpd_starts.load(Ordering::Relaxed) {
            let path = self.dir.path().join(format!("smtpd.{n}.log"));
            out.push_str(&format!("[{}]\n", path.display()));
            out.push_str(&read_lossy(&path));
        }
        out
    }

    /// The running smtpd, if any (usable even after a panic elsewhere).
    fn smtpd_slot(&self) -> MutexGuard<'_, Option<Server>> {
        self.smtpd.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A string unique to this instance, in every server's greeting.
    fn token(&self) -> String {
        format!("shoal-e2e-{}", self.id)
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
        let (uid, gid) = (self.mail_uid, self.mail_gid);
        let (imap, lmtp, smtp) = (self.imap_port, self.lmtp_port, self.smtp_port);
        // Nested blocks each on their own lines: dovecot's parser wants that.
        let dovecot = format!(
            "# Generated by shoal-e2e (tests/src/mail.rs); read with dovecot -F -c.
instance_name = shoal-e2e-{id}
base_dir = {dir}/run
state_dir = {dir}/state
listen = 127.0.0.1
protocols = imap lmtp
login_greeting = {token} ready.
log_path = /dev/stderr
# Dovecot 2.3 (Debian 12) spelling; 2.4 renamed it auth_allow_cleartext.
disable_plaintext_auth = no
ssl = no
auth_mechanisms = plain login
# Tests may try wrong passwords: answer failures at once and keep no
# per-IP penalty (it would delay later logins from 127.0.0.1 by 2-15 s).
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
# IDLE: notice new mail within a second even without inotify.
mailbox_idle_check_interval = 1 secs
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
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
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
        let smtpd = format!(
            "# Generated by shoal-e2e (tests/src/mail.rs); read with smtpd -d -f.
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

    fn spawn_smtpd(&self) -> Server {
        let n = self.smtpd_starts.fetch_add(1, Ordering::Relaxed) + 1;
        let mut cmd = Command::new(SMTPD);
        cmd.args(["-d", "-B", "queue=ram", "-f"])
            .arg(self.dir.path().join("smtpd.conf"));
        Server::spawn("smtpd", cmd, self.dir.path().join(format!("smtpd.{n}.log")))
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        if let Some(smtpd) = self.smtpd_slot().take() {
            smtpd.stop();
        }
        if let Some(dovecot) = self.dovecot.take() {
            dovecot.stop();
        }
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
    for bin in [DOVECOT, SMTPD, SMTPCTL] {
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

/// Three distinct free ports on 127.0.0.1 (held together while picking).
fn free_ports() -> [u16; 3] {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port"))
        .collect();
    let port = |i: usize| listeners[i].local_addr().unwrap().port();
    [port(0), port(1), port(2)]
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
