//! The desktop app under test, self-provisioned: [`Desktop::start`] brings up
//! a private X server (Xvfb), a private D-Bus session bus with a notification
//! daemon, an unlocked GNOME Keyring (Secret Service) and a `dbus-monitor`
//! recording notifications; [`Desktop::launch`] starts `tauri-driver` (which
//! starts WebKitWebDriver, which starts `shoal-desktop`) and opens a
//! WebDriver [`Session`] on the app's window.
//!
//! Nothing touches the test process's own environment: every child gets
//! `DISPLAY`, `DBUS_SESSION_BUS_ADDRESS`, `XDG_RUNTIME_DIR` (mode 0700),
//! `HOME` and the XDG directories of a private temporary directory, so the
//! keyring file, WebKit's storage and the app's settings all live there.
//!
//! Every process runs in its own process group and the whole group is
//! stopped on drop (SIGTERM, then SIGKILL): killing tauri-driver alone would
//! leave WebKitWebDriver and the app holding the test's pipes open.
//!
//! One app with WebKit costs about 450 MB and a core while it starts, so
//! desktops are serialized machine-wide with a file lock ([`DESKTOP_LOCK`]):
//! [`Desktop::start`] waits until no other desktop test holds it.
//!
//! # Requirements
//! Debian's `xvfb dbus-daemon dbus-bin notification-daemon gnome-keyring
//! libsecret-tools webkit2gtk-driver` (see docs/desktop-groundwork.md; the
//! harness's own tests also use `x11-utils` and `libglib2.0-bin`), and
//! `tauri-driver` (`cargo install tauri-driver --locked --version ^2`) on
//! `PATH`, in `$CARGO_HOME/bin` or in `~/.cargo/bin`.

use crate::webdriver::{driver_ready, Session};
use crate::Relay;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The machine-wide lock file that serializes desktop tests.
pub fn desktop_lock_path() -> PathBuf {
    std::env::temp_dir().join(DESKTOP_LOCK)
}

/// File name (in the temp directory) of the lock that serializes desktops.
pub const DESKTOP_LOCK: &str = "shoal-e2e-desktop.lock";

const XVFB: &str = "/usr/bin/Xvfb";
const DBUS_DAEMON: &str = "/usr/bin/dbus-daemon";
const DBUS_SEND: &str = "/usr/bin/dbus-send";
const DBUS_MONITOR: &str = "/usr/bin/dbus-monitor";
const NOTIFICATION_DAEMON: &str = "/usr/lib/notification-daemon/notification-daemon";
const GNOME_KEYRING: &str = "/usr/bin/gnome-keyring-daemon";
const SECRET_TOOL: &str = "/usr/bin/secret-tool";
const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";
const PACKAGES: &str = "xvfb dbus-daemon dbus-bin notification-daemon gnome-keyring \
                        libsecret-tools webkit2gtk-driver (docs/desktop-groundwork.md)";
const LOCK_TIMEOUT: Duration = Duration::from_secs(900);
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// The unlock password of the private keyring (it must not be empty, or no
/// keyring is created).
const KEYRING_PASSWORD: &str = "shoal-e2e";

/// A child process in its own process group, stopped with its group on drop.
pub struct Proc {
    name: String,
    child: Option<Child>,
}

impl Proc {
    /// Spawns `cmd` as the leader of a new process group.
    pub fn spawn(name: &str, mut cmd: Command) -> Proc {
        cmd.process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({cmd:?}): {e}"));
        Proc {
            name: name.to_owned(),
            child: Some(child),
        }
    }

    /// The process id (= process group id).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Whether the group leader is still running.
    pub fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("process running")
    }

    /// Stops the whole group: SIGTERM, then SIGKILL after 3 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pgid = child.id() as i32;
        // SAFETY: plain kill(2) on our own child's process group.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            let leader_done = !matches!(child.try_wait(), Ok(None));
            // SAFETY: signal 0 only checks whether the group still exists.
            let group_gone = unsafe { libc::kill(-pgid, 0) } != 0;
            if leader_done && group_gone {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for Proc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (pid {})", self.name, self.pid())
    }
}

/// A notification the app sent, as recorded by `dbus-monitor`.
#[derive(Clone, Debug)]
pub struct Notification {
    /// The `summary` argument of `Notify`.
    pub summary: String,
    /// The `body` argument.
    pub body: String,
    /// The id the notification daemon returned (once the reply is logged).
    pub id: Option<u32>,
    /// The whole `Notify` call as dbus-monitor printed it.
    pub raw: String,
}

/// A private display, session bus, notification daemon and keyring.
pub struct Desktop {
    // Stopped in this order by Drop (the monitor first, the X server last).
    monitor: Proc,
    keyring: Proc,
    notifyd: Proc,
    bus: Proc,
    xvfb: Proc,
    env: Vec<(String, String)>,
    /// `:N`.
    pub display: String,
    /// The private session bus.
    pub bus_address: String,
    dir: tempfile::TempDir,
    launches: std::cell::Cell<u32>,
    _lock: File,
}

fn require(paths: &[&str]) {
    for p in paths {
        assert!(Path::new(p).exists(), "{p} is missing: install {PACKAGES}");
    }
}

fn lock_desktop() -> File {
    let path = desktop_lock_path();
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let deadline = Instant::now() + LOCK_TIMEOUT;
    loop {
        match file.try_lock() {
            Ok(()) => return file,
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => panic!("lock {}: {e}", path.display()),
        }
        assert!(
            Instant::now() < deadline,
            "another desktop test held {} for {LOCK_TIMEOUT:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts Xvfb on a free display (`-displayfd`); returns it and `:N`.
fn start_xvfb(log: &Path) -> (Proc, String) {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills two descriptors; close-on-exec so that other
    // children spawned meanwhile do not inherit them.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (read_fd, write_fd) = (fds[0], fds[1]);
    let mut cmd = Command::new(XVFB);
    cmd.args([
        "-displayfd",
        "3",
        "-screen",
        "0",
        "1280x800x24",
        "-nolisten",
        "tcp",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(File::create(log).expect("xvfb log"));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if write_fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0);
            } else if libc::dup2(write_fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let proc = Proc::spawn("Xvfb", cmd);
    // SAFETY: the parent's copy of the write end; Xvfb keeps its own.
    unsafe { libc::close(write_fd) };
    // SAFETY: read_fd is ours alone from here on.
    let mut reader = unsafe {
        use std::os::fd::FromRawFd;
        File::from_raw_fd(read_fd)
    };
    let mut out = String::new();
    let _ = reader.read_to_string(&mut out);
    let n = out.trim();
    assert!(
        !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()),
        "Xvfb did not report a display ({out:?}); its log: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    (proc, format!(":{n}"))
}

impl Desktop {
    /// Takes the desktop lock and starts the display, bus and daemons.
    pub fn start() -> Desktop {
        require(&[
            XVFB,
            DBUS_DAEMON,
            DBUS_SEND,
            DBUS_MONITOR,
            NOTIFICATION_DAEMON,
            GNOME_KEYRING,
            SECRET_TOOL,
            WEBKIT_DRIVER,
        ]);
        let lock = lock_desktop();
        let dir = tempfile::Builder::new()
            .prefix("shoal-desktop-")
            .tempdir()
            .expect("temp dir");
        let run = dir.path().join("run");
        let home = dir.path().join("home");
        let logs = dir.path().join("logs");
        for d in [&run, &home, &logs] {
            std::fs::create_dir_all(d).expect("create dir");
        }
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700))
            .expect("chmod XDG_RUNTIME_DIR");

        let (xvfb, display) = start_xvfb(&logs.join("xvfb.log"));

        let bus_path = run.join("bus");
        let mut cmd = Command::new(DBUS_DAEMON);
        cmd.args(["--session", "--nofork", "--print-address"])
            .arg(format!("--address=unix:path={}", bus_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(logs.join("dbus.log")).expect("dbus log"));
        let mut bus = Proc::spawn("dbus-daemon", cmd);
        let mut line = String::new();
        BufReader::new(bus.child_mut().stdout.take().expect("dbus stdout"))
            .read_line(&mut line)
            .expect("read the bus address");
        let bus_address = line.trim().to_owned();
        assert!(
            bus_address.starts_with("unix:"),
            "dbus-daemon printed {line:?}"
        );

        let h = |p: &str| home.join(p).display().to_string();
        let env: Vec<(String, String)> = vec![
            ("DISPLAY".into(), display.clone()),
            ("DBUS_SESSION_BUS_ADDRESS".into(), bus_address.clone()),
            ("XDG_RUNTIME_DIR".into(), run.display().to_string()),
            ("HOME".into(), home.display().to_string()),
            ("XDG_DATA_HOME".into(), h(".local/share")),
            ("XDG_CONFIG_HOME".into(), h(".config")),
            ("XDG_CACHE_HOME".into(), h(".cache")),
            // No accessibility bus: its launcher outlives everything else.
            ("NO_AT_BRIDGE".into(), "1".into()),
        ];
        let mk = |program: &str, log: &str| {
            let mut c = Command::new(program);
            c.envs(env.iter().map(|(k, v)| (k, v)));
            for k in [
                "WAYLAND_DISPLAY",
                "SHOAL_HOME",
                "SHOAL_JOIN_RELAY",
                "SHOAL_JOIN_TOKEN",
                "SHOAL_KEYRING",
            ] {
                c.env_remove(k);
            }
            c.stdin(Stdio::null())
                .stdout(File::create(logs.join(log)).expect("log file"))
                .stderr(File::create(logs.join(format!("{log}.err"))).expect("log file"));
            c
        };

        let notifyd = Proc::spawn(
            "notification-daemon",
            mk(NOTIFICATION_DAEMON, "notification-daemon.log"),
        );

        let mut cmd = mk(GNOME_KEYRING, "gnome-keyring.log");
        cmd.args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped());
        let mut keyring = Proc::spawn("gnome-keyring-daemon", cmd);
        {
            // The password on stdin, then EOF.
            let mut stdin = keyring.child_mut().stdin.take().expect("keyring stdin");
            stdin
                .write_all(KEYRING_PASSWORD.as_bytes())
                .expect("write keyring password");
        }

        let monitor_log = logs.join("dbus-monitor.log");
        let mut cmd = mk(DBUS_MONITOR, "dbus-monitor.log");
        cmd.args([
            "type='method_call',interface='org.freedesktop.Notifications'",
            "type='signal',interface='org.freedesktop.Notifications'",
            "type='method_return'",
        ]);
        let monitor = Proc::spawn("dbus-monitor", cmd);

        let desktop = Desktop {
            monitor,
            keyring,
            notifyd,
            bus,
            xvfb,
            env,
            display,
            bus_address,
            dir,
            launches: std::cell::Cell::new(0),
            _lock: lock,
        };
        for name in ["org.freedesktop.Notifications", "org.freedesktop.secrets"] {
            assert!(
                crate::eventually(READY_TIMEOUT, || desktop.bus_has_owner(name)),
                "nobody owns {name} on the private bus; logs in {}",
                desktop.logs().display()
            );
        }
        // dbus-monitor prints its own NameAcquired first: then it listens.
        assert!(
            crate::eventually(READY_TIMEOUT, || std::fs::metadata(&monitor_log)
                .map(|m| m.len() > 0)
                .unwrap_or(false)),
            "dbus-monitor did not start"
        );
        desktop
    }

    /// The environment every child gets.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// `program` with the private environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Where the daemons' (and apps') logs go.
    pub fn logs(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    /// The private `HOME` (XDG data, config and cache live under it).
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Whether `name` has an owner on the private bus.
    pub fn bus_has_owner(&self, name: &str) -> bool {
        let mut c = self.command(DBUS_SEND);
        c.args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
        ])
        .arg(format!("string:{name}"));
        let out = crate::output(&mut c);
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    /// `secret-tool lookup ATTR VALUE…` on the private keyring.
    pub fn secret_lookup(&self, attrs: &[(&str, &str)]) -> Option<String> {
        let mut c = self.command(SECRET_TOOL);
        c.arg("lookup");
        for (k, v) in attrs {
            c.args([k, v]);
        }
        let out = crate::output(&mut c);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `secret-tool store` (for testing the harness itself).
    pub fn secret_store(&self, label: &str, attrs: &[(&str, &str)], secret: &str) {
        let mut c = self.command(SECRET_TOOL);
        c.arg("store").arg(format!("--label={label}"));
        for (k, v) in attrs {
            c.args([k, v]);
        }
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run secret-tool");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(secret.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "secret-tool store: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `dbus-send --session ARGS` on the private bus.
    pub fn dbus_send(&self, args: &[&str]) -> String {
        let mut c = self.command(DBUS_SEND);
        c.arg("--session").args(args);
        crate::ok(c)
    }

    /// Every `Notify` call seen on the bus, with the id from its reply.
    pub fn notifications(&self) -> Vec<Notification> {
        let log = std::fs::read_to_string(self.logs().join("dbus-monitor.log")).unwrap_or_default();
        parse_notifications(&log)
    }

    /// Simulates a click on notification `id`: the daemon's `ActionInvoked`
    /// signal with the `default` action.
    pub fn click_notification(&self, id: u32) {
        self.dbus_send(&[
            "--type=signal",
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications.ActionInvoked",
            &format!("uint32:{id}"),
            "string:default",
        ]);
    }

    /// Starts tauri-driver (with `SHOAL_HOME=home` for the app it will
    /// launch, its output appended to `log`) on free ports and waits until
    /// WebKitWebDriver answers `/status`; returns the process group and the
    /// driver's base URL.
    pub fn driver(&self, home: &Path, log: &Path, extra_env: &[(&str, &str)]) -> (Proc, String) {
        let driver = find_tauri_driver();
        let mut last = String::new();
        for _attempt in 0..3 {
            let (port, native) = (free_port(), free_port());
            let mut c = self.command(&driver);
            c.args(["--port", &port.to_string()])
                .args(["--native-port", &native.to_string()])
                .args(["--native-driver", WEBKIT_DRIVER])
                .env("SHOAL_HOME", home)
                .env("SHOAL_LOG", "info")
                .env_remove("SHOAL_JOIN_RELAY")
                .env_remove("SHOAL_JOIN_TOKEN")
                .env_remove("SHOAL_KEYRING")
                .env_remove("WAYLAND_DISPLAY")
                .envs(extra_env.iter().copied())
                .stdin(Stdio::null())
                .stdout(log_append(log))
                .stderr(log_append(log));
            let mut proc = Proc::spawn("tauri-driver", c);
            let native_base = format!("http://127.0.0.1:{native}");
            let ready = crate::eventually(READY_TIMEOUT, || {
                driver_ready(&native_base)
                    && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            });
            if ready {
                return (proc, format!("http://127.0.0.1:{port}"));
            }
            last = format!("running: {}", proc.running());
        }
        panic!(
            "tauri-driver did not become ready ({last}); its log {}:\n{}",
            log.display(),
            tail(&std::fs::read_to_string(log).unwrap_or_default(), 40)
        );
    }

    /// Starts tauri-driver and the app with `SHOAL_HOME=home`, and opens a
    /// WebDriver session on its window.
    pub fn launch(&self, home: &Path) -> App<'_> {
        self.launch_with_env(home, &[])
    }

    /// [`Desktop::launch`] with extra environment variables for the app.
    pub fn launch_with_env(&self, home: &Path, extra_env: &[(&str, &str)]) -> App<'_> {
        let app_bin = crate::bin("shoal-desktop");
        let n = self.launches.get() + 1;
        self.launches.set(n);
        let log = self.logs().join(format!("app-{n}.log"));
        let started = Instant::now();
        let mut last_err = String::new();
        for _attempt in 0..2 {
            let (proc, base) = self.driver(home, &log, extra_env);
            match Session::new(&base, &app_bin) {
                Ok(session) => {
                    let app = App {
                        desktop: self,
                        session: Some(session),
                        driver: proc,
                        home: home.to_path_buf(),
                        log,
                    };
                    eprintln!(
                        "desktop: app {n} up in {:?} (log {})",
                        started.elapsed(),
                        app.log.display()
                    );
                    return app;
                }
                Err(e) => last_err = format!("new session: {e}"),
            }
        }
        panic!(
            "could not start {} through tauri-driver: {last_err}\napp log {}:\n{}",
            app_bin.display(),
            log.display(),
            tail(&std::fs::read_to_string(&log).unwrap_or_default(), 40)
        );
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        self.monitor.stop();
        self.keyring.stop();
        self.notifyd.stop();
        self.bus.stop();
        self.xvfb.stop();
        if std::thread::panicking() {
            // Keep the logs of a failed test where its message says.
            let keep = crate::webdriver::target_dir()
                .join("e2e-failures")
                .join(format!(
                    "{}-logs",
                    std::thread::current()
                        .name()
                        .unwrap_or("test")
                        .replace("::", "-")
                ));
            let _ = std::fs::create_dir_all(&keep);
            if let Ok(entries) = std::fs::read_dir(self.logs()) {
                for e in entries.flatten() {
                    let _ = std::fs::copy(e.path(), keep.join(e.file_name()));
                }
            }
            eprintln!("desktop: logs kept in {}", keep.display());
        }
    }
}

fn log_append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open log")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A free TCP port on 127.0.0.1 (free when asked: another process may take
/// it before use, which [`Desktop::launch`] survives by retrying).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `tauri-driver` on PATH, in `$CARGO_HOME/bin` or `~/.cargo/bin`.
pub fn find_tauri_driver() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(c) = std::env::var_os("CARGO_HOME") {
        candidates.push(PathBuf::from(c).join("bin"));
    }
    if let Some(h) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(h).join(".cargo/bin"));
    }
    candidates
        .into_iter()
        .map(|d| d.join("tauri-driver"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "tauri-driver is missing: `cargo install tauri-driver --locked --version ^2` \
                 (looked on PATH, in $CARGO_HOME/bin and ~/.cargo/bin)"
            )
        })
}

/// Parses dbus-monitor's text output into the `Notify` calls, each with the
/// id from the matching method return (same serial, back to the caller).
pub fn parse_notifications(log: &str) -> Vec<Notification> {
    // Split into messages: a message starts at an unindented line.
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in log.lines() {
        let header = ["method call ", "method return ", "signal ", "error "]
            .iter()
            .any(|p| line.starts_with(p));
        if header || blocks.is_empty() {
            blocks.push(vec![line]);
        } else {
            blocks.last_mut().unwrap().push(line);
        }
    }
    let field = |header: &str, key: &str| -> Option<String> {
        header
            .split([' ', ';'])
            .find_map(|w| w.strip_prefix(key))
            .map(str::to_owned)
    };
    let mut out = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let head = b[0];
        if !(head.starts_with("method call ") && head.contains("member=Notify")) {
            continue;
        }
        // Top-level arguments are indented by exactly three spaces.
        let mut args: Vec<String> = Vec::new();
        for line in &b[1..] {
            let starts_arg = line.len() > 3
                && line.starts_with("   ")
                && line.as_bytes()[3].is_ascii_lowercase();
            if starts_arg {
                args.push(line[3..].to_owned());
            } else if let Some(last) = args.last_mut() {
                last.push('\n');
                last.push_str(line);
            }
        }
        let string_arg = |n: usize| -> String {
            args.get(n)
                .and_then(|a| a.strip_prefix("string \""))
                .map(|s| s.strip_suffix('"').unwrap_or(s).to_owned())
                .unwrap_or_default()
        };
        let sender = field(head, "sender=");
        let serial = field(head, "serial=");
        let id = blocks[i + 1..].iter().find_map(|r| {
            let h = r[0];
            let matches = h.starts_with("method return ")
                && field(h, "reply_serial=") == serial
                && field(h, "destination=") == sender;
            if !matches {
                return None;
            }
            r.get(1)
                .and_then(|l| l.trim().strip_prefix("uint32 "))
                .and_then(|n| n.trim().parse().ok())
        });
        out.push(Notification {
            summary: string_arg(3),
            body: string_arg(4),
            id,
            raw: b.join("\n"),
        });
    }
    out
}

/// The running app: tauri-driver, WebKitWebDriver and `shoal-desktop` (one
/// process group), and the WebDriver session on its window. Dereferences to
/// the [`Session`].
pub struct App<'d> {
    desktop: &'d Desktop,
    session: Option<Session>,
    driver: Proc,
    /// The app's `SHOAL_HOME`.
    pub home: PathBuf,
    log: PathBuf,
}

impl std::ops::Deref for App<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        self.session.as_ref().expect("session open")
    }
}

/// How long the UI gets for anything that needs no network.
pub const UI: Duration = Duration::from_secs(10);
/// How long sync-dependent changes get to show up.
pub const SYNC: Duration = Duration::from_secs(30);

/// `[data-testid="ID"]`.
pub fn tid(id: &str) -> String {
    Session::testid(id)
}

/// The inbox row of conversation `id`.
pub fn row(id: &str) -> String {
    format!("[data-testid=\"inbox-row\"][data-conversation-id=\"{id}\"]")
}

/// The open conversation view of `id`.
pub fn conversation(id: &str) -> String {
    format!("[data-testid=\"conversation\"][data-conversation-id=\"{id}\"]")
}

impl App<'_> {
    /// What the app (and the drivers) wrote to stdout/stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The desktop it runs on.
    pub fn desktop(&self) -> &Desktop {
        self.desktop
    }

    /// Closes the window (WebDriver `DELETE`) and stops the process group.
    pub fn quit(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        drop(self.session.take());
        self.driver.stop();
    }

    /// Joins a team through the onboarding screen and waits until the inbox
    /// shows and the app is online.
    #[track_caller]
    pub fn join(&self, relay: &Relay, token: &str) {
        self.wait_for(&tid("onboarding"), UI);
        self.type_into(&tid("join-relay"), &relay.url, UI);
        self.type_into(&tid("join-token"), token, UI);
        self.click(&tid("join-submit"), UI);
        self.wait_for(&tid("inbox-list"), SYNC);
        self.wait_attr(&tid("sync-indicator"), "data-state", "online", SYNC);
    }

    /// Clicks the row of `id` and waits until its conversation is open.
    #[track_caller]
    pub fn open(&self, id: &str) {
        self.click(&row(id), SYNC);
        self.wait_for(&conversation(id), UI);
    }

    /// An attribute of the open conversation (`data-status`, …).
    pub fn conversation_attr(&self, attr: &str) -> Option<String> {
        self.find(&tid("conversation"))
            .ok()
            .flatten()
            .and_then(|e| e.attr(attr).ok().flatten())
    }
}

impl Drop for App<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "desktop: app log {} (last lines):\n{}",
                self.log.display(),
                tail(&self.log(), 30)
            );
        }
        self.stop();
    }
}

/// An agent added on the relay.
#[derive(Clone, Debug)]
pub struct RelayAgent {
    /// The agent id (the keyring's user name for its token).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its token (printed once by `shoal-relay agent add`).
    pub token: String,
}

/// `shoal-relay agent add`, keeping the agent id as well as the token.
pub fn add_agent(relay: &Relay, team: &str, name: &str, email: &str) -> RelayAgent {
    let out = relay.admin(&[
        "agent", "add", "--team", team, "--name", name, "--email", email, "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("agent json");
    RelayAgent {
        id: v["agent"]["id"].as_str().expect("agent id").to_owned(),
        name: name.to_owned(),
        token: v["token"].as_str().expect("token").to_owned(),
    }
}

/// Files under `dir` (recursively) whose bytes contain `needle`, as UTF-8
/// or as UTF-16LE (how WebKit's storage keeps strings).
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let needles = [needle.as_bytes().to_vec(), utf16];
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                if let Ok(bytes) = std::fs::read(&p) {
                    let found = needles
                        .iter()
                        .any(|n| bytes.windows(n.len()).any(|w| w == n.as_slice()));
                    if found {
                        hits.push(p);
                    }
                }
            }
        }
    }
    hits
}
