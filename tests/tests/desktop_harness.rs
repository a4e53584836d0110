//! Tests of the desktop harness itself (no app needed): the private display,
//! bus, notification daemon, keyring, dbus-monitor and tauri-driver +
//! WebKitWebDriver all come up, work, and go away on drop.

use shoal_e2e::desktop::{parse_notifications, Desktop};
use std::time::Duration;

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid as i32, 0) == 0 };
    exists
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
}

/// Live processes whose process group is `pgid` (field 5 of /proc/PID/stat).
fn group_members(pgid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // After the ")" that ends the command name: state, ppid, pgrp.
            let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
            let fields: Vec<&str> = rest.split(' ').collect();
            fields.get(2) == Some(&pgid.to_string().as_str()) && fields.first() != Some(&"Z")
        })
        .collect()
}

#[test]
fn display_bus_daemons_and_driver_come_up_and_go_away() {
    let desktop = Desktop::start();

    // The display answers.
    let out = desktop
        .command("xdpyinfo")
        .output()
        .expect("run xdpyinfo (x11-utils)");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1280x800 pixels"),
        "xdpyinfo on {}: {}",
        desktop.display,
        String::from_utf8_lossy(&out.stderr)
    );

    // The keyring stores and finds a secret, and only on the private bus.
    desktop.secret_store(
        "harness",
        &[("service", "shoal-e2e-harness"), ("username", "u1")],
        "s3cret-value",
    );
    assert_eq!(
        desktop
            .secret_lookup(&[("service", "shoal-e2e-harness"), ("username", "u1")])
            .as_deref(),
        Some("s3cret-value")
    );
    assert_eq!(
        desktop.secret_lookup(&[("service", "shoal-e2e-harness"), ("username", "nobody")]),
        None
    );

    // A notification goes through the daemon and the monitor records it
    // with the id the daemon returned.
    let out = desktop
        .command("gdbus")
        .args([
            "call",
            "--session",
            "--dest",
            "org.freedesktop.Notifications",
            "--object-path",
            "/org/freedesktop/Notifications",
            "--method",
            "org.freedesktop.Notifications.Notify",
            "harness",
            "0",
            "",
            "Harness subject",
            "Harness body",
            "['default', 'Open']",
            "{}",
            "5000",
        ])
        .output()
        .expect("run gdbus (libglib2.0-bin)");
    let reply = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "Notify: {reply} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let returned: u32 = reply
        .trim()
        .trim_start_matches("(uint32 ")
        .trim_end_matches(",)")
        .parse()
        .unwrap_or_else(|_| panic!("Notify returned {reply:?}"));
    assert!(shoal_e2e::eventually(Duration::from_secs(5), || {
        desktop
            .notifications()
            .iter()
            .any(|n| n.summary == "Harness subject" && n.id == Some(returned))
    }));
    let n = desktop
        .notifications()
        .into_iter()
        .find(|n| n.summary == "Harness subject")
        .unwrap();
    assert_eq!(n.body, "Harness body");
    desktop.click_notification(returned);
    assert!(shoal_e2e::eventually(Duration::from_secs(5), || {
        std::fs::read_to_string(desktop.logs().join("dbus-monitor.log"))
            .unwrap_or_default()
            .contains("member=ActionInvoked")
    }));

    // tauri-driver starts WebKitWebDriver, and stopping its group stops both.
    let home = tempfile::tempdir().unwrap();
    let log = desktop.logs().join("driver-only.log");
    let (mut driver, base) = desktop.driver(home.path(), &log, &[]);
    let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "tauri-driver listens on {base}"
    );
    let pgid = driver.pid();
    let members = || -> Vec<u32> { group_members(pgid) };
    let before = members();
    assert!(
        before.len() >= 2,
        "tauri-driver and WebKitWebDriver share a group: {before:?}"
    );
    driver.stop();
    assert!(
        shoal_e2e::eventually(Duration::from_secs(5), || members()
            .into_iter()
            .all(|p| !alive(p))),
        "the driver's group is gone"
    );

    let pids: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|pid: &u32| {
            std::fs::read_to_string(format!("/proc/{pid}/environ"))
                .map(|env| env.contains(&desktop.bus_address))
                .unwrap_or(false)
        })
        .collect();
    assert!(
        !pids.is_empty(),
        "the daemons carry the private bus address"
    );
    drop(desktop);
    assert!(
        shoal_e2e::eventually(Duration::from_secs(5), || pids.iter().all(|p| !alive(*p))),
        "every process on the private bus stopped: {:?}",
        pids.iter().filter(|p| alive(**p)).collect::<Vec<_>>()
    );
}

#[test]
fn notify_calls_are_parsed_with_their_returned_ids() {
    let log = r#"signal time=1.0 sender=org.freedesktop.DBus -> destination=:1.4 serial=2 path=/org/freedesktop/DBus; interface=org.freedesktop.DBus; member=NameAcquired
   string ":1.4"
method call time=2.0 sender=:1.11 -> destination=org.freedesktop.Notifications serial=7 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string "Shoal"
   uint32 0
   string ""
   string "New message"
   string "Charged twice
second line"
   array [
      string "default"
      string "Open"
   ]
   array [
      dict entry(
         string "urgency"
         variant             byte 1
      )
   ]
   int32 -1
method return time=2.1 sender=:1.3 -> destination=:1.12 serial=9 reply_serial=7
   uint32 99
method return time=2.2 sender=:1.3 -> destination=:1.11 serial=10 reply_serial=7
   uint32 4
method call time=3.0 sender=:1.11 -> destination=org.freedesktop.Notifications serial=8 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string "Shoal"
   uint32 0
   string ""
   string "Unanswered"
   string "b"
   array [
   ]
   array [
   ]
   int32 -1
"#;
    let n = parse_notifications(log);
    assert_eq!(n.len(), 2);
    assert_eq!(n[0].summary, "New message");
    assert_eq!(n[0].body, "Charged twice\nsecond line");
    assert_eq!(n[0].id, Some(4), "the reply to the caller, not to :1.12");
    assert_eq!(n[1].summary, "Unanswered");
    assert_eq!(n[1].id, None, "no reply logged yet");
}

#[test]
fn token_leaks_are_found_in_utf8_and_utf16_files() {
    use shoal_e2e::desktop::files_containing;
    let dir = tempfile::tempdir().unwrap();
    let token = "8c894dbaafe5c2e9.d42218ff0a5d";
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("clean.txt"), "nothing here").unwrap();
    assert!(files_containing(dir.path(), token).is_empty());
    std::fs::write(
        dir.path().join("a/plain.json"),
        format!("{{\"t\":\"{token}\"}}"),
    )
    .unwrap();
    let utf16: Vec<u8> = token.encode_utf16().flat_map(u16::to_le_bytes).collect();
    std::fs::write(dir.path().join("a/b/localstorage.sqlite3"), utf16).unwrap();
    let mut hits = files_containing(dir.path(), token);
    hits.sort();
    assert_eq!(
        hits,
        vec![
            dir.path().join("a/b/localstorage.sqlite3"),
            dir.path().join("a/plain.json")
        ]
    );
}
