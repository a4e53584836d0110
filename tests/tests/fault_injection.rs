//! Faults injected into a real relay and real clients: SIGKILL at random
//! points over many runs, and a disk that fills up under the relay. Each
//! checks that nothing acknowledged is lost and nothing is doubled.
//!
//! `SHOAL_FAULT_RUNS` sets the number of kill runs (3 in CI; the longer
//! run in docs/security.md used 30) and `SHOAL_FAULT_SEED` replays one.

use shoal_e2e::{eventually, output, Client, Dice, Relay};
use std::process::Command;
use std::time::{Duration, Instant};

/// Ana and Ben of team Northwind, each signed in on a fresh client.
fn ana_and_ben(relay: &Relay) -> (Client, Client) {
    let team = relay.team("Northwind");
    let ana_token = relay.agent(&team, "Ana", "ana@northwind.example");
    let ben_token = relay.agent(&team, "Ben", "ben@northwind.example");
    let (ana, ben) = (Client::new(), Client::new());
    ana.login(relay, &ana_token);
    ben.login(relay, &ben_token);
    (ana, ben)
}

fn note_bodies(c: &Client, conv: &str) -> Vec<String> {
    c.json(&["show", conv, "--no-mark-seen"])["conversation"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "note")
        .map(|e| e["body"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn kills_at_random_points_lose_nothing_and_double_nothing() {
    let runs: u64 = std::env::var("SHOAL_FAULT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("SHOAL_FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("fault runs: {runs}, seed {seed} (SHOAL_FAULT_SEED replays it)");
    let mut dice = Dice(seed);
    let mut relay = Relay::start();
    let (ana, ben) = ana_and_ben(&relay);
    let conv = ana.new_conversation("m@acme.example", "Long thread", "Hello");
    ana.sync();
    let mut written = Vec::new();
    let (mut relay_kills, mut client_kills) = (0, 0);
    for run in 0..runs {
        // Ana writes offline, then syncs; something dies at a random moment.
        for i in 0..5 {
            let body = format!("run {run} note {i}");
            ana.ok(&["note", &conv, "--body", &body]);
            written.push(body);
        }
        let mut sync = ana.spawn_quiet(&["sync"]);
        std::thread::sleep(Duration::from_millis(dice.below(400)));
        if dice.below(2) == 0 {
            relay.kill();
            relay_kills += 1;
            let _ = sync.wait();
            relay.restart();
        } else {
            // SAFETY: plain SIGKILL to a child we spawned.
            unsafe {
                libc::kill(sync.id() as i32, libc::SIGKILL);
            }
            let _ = sync.wait();
            client_kills += 1;
            let check = ana.json(&["check"]);
            assert_eq!(check["ok"], true, "Ana's replica after the kill: {check}");
        }
        // Whatever was cut short, the next sync completes it.
        ana.sync();
        ben.sync();
        let mut seen = note_bodies(&ben, &conv);
        assert_eq!(
            seen.len(),
            written.len(),
            "run {run} (seed {seed}): every note once"
        );
        seen.sort();
        let mut expected = written.clone();
        expected.sort();
        assert_eq!(seen, expected, "run {run} (seed {seed})");
    }
    eprintln!("{runs} runs: relay killed {relay_kills} times, client {client_kills} times; nothing lost or doubled");
}

/// A tmpfs of `size` mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let out = output(Command::new("mount").args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
            dir.path().to_str().unwrap(),
        ]));
        assert!(
            out.status.success(),
            "mounting a tmpfs needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir }
    }

    /// Fills the disk to the last byte.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.dir.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let mut small = vec![0u8; 512];
        while f.write_all(&small).is_ok() {}
        small.truncate(1);
        while f.write_all(&small).is_ok() {}
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_full_disk_under_the_relay_loses_nothing_acknowledged() {
    let disk = SmallDisk::mount("16m");
    let data = disk.dir.path().join("relay");
    let relay = Relay::start_in(&data);
    let (ana, ben) = ana_and_ben(&relay);
    let conv = ana.new_conversation("m@acme.example", "Before the disk filled", "Hello");
    ana.sync();

    let filler = disk.fill();
    ana.ok(&["note", &conv, "--body", "Written while the disk is full"]);
    let refused = ana.run(&["sync"]);
    assert!(
        !refused.status.success(),
        "the relay could not store the note, so the sync cannot succeed"
    );
    let said = String::from_utf8_lossy(&refused.stderr);
    eprintln!("with the disk full, Ana's sync said: {said}");
    // The relay keeps running and serving what it has.
    assert!(relay.http_get("/healthz").contains("200 OK"));
    ben.sync();
    assert_eq!(note_bodies(&ben, &conv), Vec::<String>::new());

    std::fs::remove_file(filler).unwrap();
    // Space again: the note Ana kept as unconfirmed goes through.
    let started = Instant::now();
    assert!(
        eventually(Duration::from_secs(30), || ana
            .run(&["sync"])
            .status
            .success()),
        "Ana's sync succeeds once there is space"
    );
    eprintln!("synced {:?} after space came back", started.elapsed());
    ben.sync();
    assert_eq!(
        note_bodies(&ben, &conv),
        vec!["Written while the disk is full".to_owned()]
    );
    assert_eq!(ana.shared_views(), ben.shared_views());
}
