//! Harness for Shoal's end-to-end tests: starts the real `shoal-relay` and
//! runs the real `shoal` client, each in its own process and home, talking
//! over real sockets on 127.0.0.1. The binaries come from the workspace's
//! target directory (`cargo build --workspace --bins` builds them; the test
//! script does so before running tests).

pub mod desktop;
pub mod mail;
pub mod tcp_fault;
pub mod webdriver;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A workspace binary next to the test executable's directory.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/<test> → target/debug/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

/// A running relay with its own data directory.
pub struct Relay {
    child: Option<Child>,
    data: PathBuf,
    /// The temporary directory holding `data`, when the harness made it.
    _temp: Option<tempfile::TempDir>,
    /// `ws://127.0.0.1:PORT`.
    pub url: String,
    addr: String,
    serve_args: Vec<String>,
}

fn relay_cmd(data: &Path) -> Command {
    let mut c = Command::new(bin("shoal-relay"));
    c.arg("--data").arg(data).env("SHOAL_LOG", "warn");
    c
}

/// The longest any one command of a test may run: a hung process fails
/// its test with a message instead of stalling the suite.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);

/// Runs a command to completion within [`COMMAND_TIMEOUT`]; past it the
/// process is killed and the test fails, naming the command.
pub fn output(c: &mut Command) -> Output {
    let child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {c:?}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(COMMAND_TIMEOUT) {
        Ok(out) => out.unwrap_or_else(|e| panic!("waiting for {c:?}: {e}")),
        Err(_) => {
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
            panic!("{c:?} did not finish within {COMMAND_TIMEOUT:?}");
        }
    }
}

/// Runs a command, panicking with its output if it fails.
pub fn ok(mut c: Command) -> String {
    let out = output(&mut c);
    assert!(
        out.status.success(),
        "{:?} failed: {}\n{}",
        c,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

impl Relay {
    /// Initialises a data directory and starts serving on a free port.
    pub fn start() -> Relay {
        Self::start_with(&[])
    }

    /// [`Relay::start`] with extra `serve` options.
    pub fn start_with(serve_args: &[&str]) -> Relay {
        let temp = tempfile::tempdir().expect("temp dir");
        Self::start_at(temp.path().to_owned(), Some(temp), serve_args)
    }

    /// [`Relay::start`] with its data directory at `data` (a small disk,
    /// say), created there.
    pub fn start_in(data: &Path) -> Relay {
        Self::start_at(data.to_owned(), None, &[])
    }

    fn start_at(data: PathBuf, temp: Option<tempfile::TempDir>, serve_args: &[&str]) -> Relay {
        let mut init = relay_cmd(&data);
        init.arg("init");
        ok(init);
        let mut relay = Relay {
            child: None,
            data,
            _temp: temp,
            url: String::new(),
            addr: "127.0.0.1:0".into(),
            serve_args: serve_args.iter().map(|a| a.to_string()).collect(),
        };
        relay.spawn();
        relay
    }

    fn spawn(&mut self) {
        let mut c = relay_cmd(&self.data);
        c.args(["serve", "--listen", &self.addr])
            .args(&self.serve_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = c.spawn().expect("start shoal-relay");
        let stdout = child.stdout.take().expect("relay stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(read) => read.expect("read relay banner"),
            Err(_) => {
                let _ = child.kill();
                panic!("the relay printed no banner within 30 s");
            }
        };
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected relay banner {line:?}"))
            .to_owned();
        self.url = format!("ws://{addr}");
        self.addr = addr;
        self.child = Some(child);
    }

    /// The data directory.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// `shoal-relay` with this data directory.
    pub fn admin(&self, args: &[&str]) -> String {
        let mut c = relay_cmd(&self.data);
        c.args(args);
        ok(c)
    }

    /// `shoal-relay` with this data directory, whatever its exit status.
    pub fn admin_output(&self, args: &[&str]) -> Output {
        let mut c = relay_cmd(&self.data);
        c.args(args);
        output(&mut c)
    }

    /// Creates a team; returns its id.
    pub fn team(&self, name: &str) -> String {
        let out = self.admin(&["team", "create", name, "--json"]);
        let v: Value = serde_json::from_str(&out).expect("team json");
        v["id"].as_str().expect("team id").to_owned()
    }

    /// Adds an agent; returns its token.
    pub fn agent(&self, team: &str, name: &str, email: &str) -> String {
        self.agent_as(team, name, email, "agent")
    }

    /// Adds an agent with `role` (`agent` or `admin`); returns its token.
    pub fn agent_as(&self, team: &str, name: &str, email: &str, role: &str) -> String {
        let out = self.admin(&[
            "agent", "add", "--team", team, "--name", name, "--email", email, "--role", role,
            "--json",
        ]);
        let v: Value = serde_json::from_str(&out).expect("agent json");
        v["token"].as_str().expect("token").to_owned()
    }

    /// Kills the relay with SIGKILL (no chance to clean up), checking that
    /// it was still running and that the kill is what ended it: a crash
    /// test whose relay had already gone would prove nothing.
    pub fn kill(&mut self) {
        use std::os::unix::process::ExitStatusExt;
        let mut c = self.child.take().expect("the relay is running");
        if let Ok(Some(status)) = c.try_wait() {
            panic!("the relay had already exited ({status}) before the kill");
        }
        c.kill().expect("SIGKILL the relay");
        let status = c.wait().expect("reap the relay");
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
    }

    fn stop_quietly(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the relay with SIGTERM and waits for it.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("relay running");
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        c.wait().expect("relay exit")
    }

    /// Starts the relay again on the same data and port, with other `serve`
    /// options.
    pub fn restart_with(&mut self, serve_args: &[&str]) {
        self.serve_args = serve_args.iter().map(|a| a.to_string()).collect();
        self.restart();
    }

    /// Starts the relay again on the same data and port.
    pub fn restart(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.spawn_checked();
            if self.child.is_some() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(self.child.is_some(), "relay did not restart");
    }

    fn spawn_checked(&mut self) {
        // The port may linger for a moment after a kill.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.spawn()));
        if result.is_err() {
            self.child = None;
        }
    }

    /// `GET path` on the relay's HTTP side.
    pub fn http_get(&self, path: &str) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&self.addr).expect("connect to relay");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    }

    /// The value of one unlabelled metric from `/metrics` (0 if absent).
    pub fn metric(&self, name: &str) -> f64 {
        let text = self.http_get("/metrics");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop_quietly();
    }
}

/// A `shoal` client with its own home.
pub struct Client {
    home: tempfile::TempDir,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client with an empty home.
    pub fn new() -> Client {
        Client {
            home: tempfile::tempdir().expect("temp home"),
        }
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `shoal` with this home (and the token kept in a file: CI has no keyring).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin("shoal"));
        c.arg("--home")
            .arg(self.home.path())
            .args(args)
            .env("SHOAL_KEYRING", "off");
        c
    }

    /// Runs `shoal`, returning its output whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        output(&mut self.cmd(args))
    }

    /// Runs `shoal` and returns stdout, panicking on failure.
    pub fn ok(&self, args: &[&str]) -> String {
        ok(self.cmd(args))
    }

    /// Runs `shoal ... --json` and parses the output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).expect("json output")
    }

    /// Logs in to a relay (joining its team when the home is empty).
    pub fn login(&self, relay: &Relay, token: &str) -> Value {
        self.json(&["login", "--relay", &relay.url, "--token", token])
    }

    /// Syncs once.
    /// `shoal sync`; its report. An exchange that had to be started over
    /// after a silence (the client's retransmission timer) means a message
    /// was lost or ignored: it fails the test here.
    pub fn sync(&self) -> Value {
        let report = self.json(&["sync"]);
        assert_eq!(report["restarts"], 0, "a sync had to restart: {report}");
        report
    }

    /// The shared documents' views (team, conversations, customers), one
    /// line per document, for comparing replicas.
    pub fn shared_views(&self) -> Vec<String> {
        self.ok(&["export", "--views-only"])
            .lines()
            .skip(1)
            .filter(|l| !l.contains("\"kind\":\"agent-private\""))
            .map(str::to_owned)
            .collect()
    }

    /// Opens a conversation; returns its id.
    pub fn new_conversation(&self, customer: &str, subject: &str, body: &str) -> String {
        let v = self.json(&[
            "new",
            "--customer",
            customer,
            "--subject",
            subject,
            "--body",
            body,
        ]);
        v["conversation_id"]
            .as_str()
            .expect("conversation id")
            .to_owned()
    }

    /// Opens `n` conversations with customers `{prefix}{i}@acme.example`.
    pub fn open_conversations(&self, n: usize, prefix: &str) {
        for i in 0..n {
            self.new_conversation(
                &format!("{prefix}{i}@acme.example"),
                &format!("Question {prefix}{i}"),
                "Hello",
            );
        }
    }

    /// Starts `shoal ARGS` in the background with its output discarded.
    pub fn spawn_quiet(&self, args: &[&str]) -> std::process::Child {
        self.cmd(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start shoal")
    }

    /// Inbox rows (all views).
    pub fn inbox(&self) -> Vec<Value> {
        self.json(&["inbox", "--view", "all", "--limit", "1000"])["conversations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// A small deterministic generator (xorshift): tests that draw from it
/// replay exactly from their seed.
pub struct Dice(pub u64);

impl Dice {
    /// The next number.
    pub fn roll(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.roll() % n
    }
}

/// `n` random printable characters from `seed`: text that compression
/// cannot shrink much, for documents that must be large on the wire.
pub fn random_text(n: usize, seed: u64) -> String {
    let mut dice = Dice(seed | 1);
    (0..n)
        .map(|_| (b'!' + dice.below(94) as u8) as char)
        .collect()
}

/// Polls `check` until it is true or `timeout` passes.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}
