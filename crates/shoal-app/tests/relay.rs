//! The engine against a real `shoal-relay` process on 127.0.0.1, with the
//! real `shoal` CLI as another agent (binaries from the target directory:
//! `cargo build -p shoal-relay -p shoal-cli` first).

use shoal_app::{AppEvent, ChannelSink, Engine, ErrorKind};
use shoal_e2e::{Client, Relay};
use std::path::Path;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn engine(home: &Path) -> (Engine, Receiver<AppEvent>) {
    // No keyring in the test sandbox: the token stays in memory.
    std::env::set_var("SHOAL_KEYRING", "off");
    let (sink, rx) = ChannelSink::new();
    (Engine::open(home, Arc::new(sink)).unwrap(), rx)
}

fn wait_for(
    rx: &Receiver<AppEvent>,
    what: &str,
    secs: u64,
    f: impl Fn(&AppEvent) -> bool,
) -> AppEvent {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if let Ok(e) = rx.recv_timeout(left) {
            if f(&e) {
                return e;
            }
            seen.push(e);
        }
    }
    panic!("no {what} within {secs} s; saw {seen:#?}");
}

fn online(e: &AppEvent) -> bool {
    matches!(e, AppEvent::SyncStatus(s) if s.state == "online")
}

#[test]
fn join_sync_notify_and_presence() {
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let ben = Client::new();
    ben.login(
        &relay,
        &relay.agent(&team, "Ben Okafor", "ben@northwind.example"),
    );
    let ana_token = relay.agent(&team, "Ana Lopez", "ana@northwind.example");
    let cy_token = relay.agent(&team, "Cy Park", "cy@northwind.example");
    // History from before Ana joined: it arrives with her first sync, and
    // must not notify (a new agent is not told about every old message).
    ben.new_conversation("old@acme.example", "Old question", "From last week.");
    ben.sync();

    // A wrong token is refused with a clear error and creates nothing.
    let dir = tempfile::tempdir().unwrap();
    let ana_home = dir.path().join("ana");
    let (ana, ana_rx) = engine(&ana_home);
    let err = ana.join_team(&relay.url, "not-a-token").unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Auth | ErrorKind::Relay),
        "{err:?}"
    );
    assert!(!ana_home.join("replica.sqlite3").exists());

    let state = ana.join_team(&relay.url, &ana_token).unwrap();
    assert!(state.ready);
    assert_eq!(state.relay_url.as_deref(), Some(relay.url.as_str()));
    assert_eq!(state.sync.token_store, "memory");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut history_arrived = false;
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .expect("never online");
        let e = ana_rx.recv_timeout(left).expect("never online");
        assert!(
            !matches!(e, AppEvent::Notify(_)),
            "catch-up notified: {e:?}"
        );
        history_arrived |=
            matches!(&e, AppEvent::ReplicaChanged(c) if !c.local && !c.conversations.is_empty());
        if online(&e) {
            break;
        }
    }
    // The coalesced change events may trail the status by up to 50 ms.
    let quiet_until = Instant::now() + Duration::from_millis(500);
    while let Some(left) = quiet_until.checked_duration_since(Instant::now()) {
        if let Ok(e) = ana_rx.recv_timeout(left) {
            assert!(
                !matches!(e, AppEvent::Notify(_)),
                "catch-up notified: {e:?}"
            );
            history_arrived |= matches!(&e, AppEvent::ReplicaChanged(c) if !c.local && !c.conversations.is_empty());
        }
    }
    assert!(history_arrived, "the old conversation never arrived");
    // The team document arrived with the first sync.
    let deadline = Instant::now() + Duration::from_secs(10);
    while ana.team().unwrap().agents.len() < 3 {
        assert!(Instant::now() < deadline, "team never arrived");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ana.app_state().team_name.as_deref(), Some("Northwind"));

    // Ben (the CLI) opens a conversation: Ana's engine reports the change
    // and, being available, gets a notification for the unassigned message.
    let conv = ben.new_conversation("maria@acme.example", "Charged twice", "I see two charges.");
    ben.sync();
    let changed = wait_for(
        &ana_rx,
        "replica-changed for the new conversation",
        20,
        |e| matches!(e, AppEvent::ReplicaChanged(c) if c.conversations.contains(&conv) && !c.local),
    );
    let AppEvent::ReplicaChanged(changed) = changed else {
        unreachable!()
    };
    assert!(!changed.local);
    let n = wait_for(&ana_rx, "notification", 10, |e| {
        matches!(e, AppEvent::Notify(_))
    });
    let AppEvent::Notify(n) = n else {
        unreachable!()
    };
    assert_eq!(n.conversation_id.as_deref(), Some(conv.as_str()));
    assert!(n.summary.contains("Charged twice"), "{n:?}");
    assert_eq!(n.body, "I see two charges.");
    assert_eq!(
        ana.inbox("unassigned", 0, 10).unwrap().total,
        2,
        "the old question and the new one"
    );

    // Ana's own reply is pushed at once, and is no notification.
    ana.open_conversation(&conv).unwrap();
    ana.reply(&conv, "Refunded one of them.", false).unwrap();
    wait_for(
        &ana_rx,
        "online with nothing waiting",
        20,
        |e| matches!(e, AppEvent::SyncStatus(s) if s.state == "online" && s.waiting == 0),
    );
    ben.sync();
    let shown = ben.json(&["show", &conv]);
    let bodies: Vec<&str> = shown["conversation"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["body"].as_str().unwrap())
        .collect();
    assert!(bodies.contains(&"Refunded one of them."), "{bodies:?}");

    // Ben assigns it to Ana: "Assigned to you".
    let ana_id = state.agent_id.clone().unwrap();
    ben.ok(&["assign", &conv, "ana@northwind.example"]);
    ben.sync();
    let n = wait_for(
        &ana_rx,
        "assignment notification",
        20,
        |e| matches!(e, AppEvent::Notify(n) if n.summary == "Assigned to you"),
    );
    let AppEvent::Notify(n) = n else {
        unreachable!()
    };
    assert_eq!(n.conversation_id.as_deref(), Some(conv.as_str()));
    assert_eq!(
        ana.conversation(&conv).unwrap().assignee.as_deref(),
        Some(ana_id.as_str())
    );

    // A second engine (Cy) joins; Ana's presence shows up in Cy's events
    // with her name, then goes when she leaves.
    let cy_home = dir.path().join("cy");
    let (cy, cy_rx) = engine(&cy_home);
    cy.join_team(&relay.url, &cy_token).unwrap();
    wait_for(&cy_rx, "cy online", 20, online);
    ana.set_composing(&conv, true, false).unwrap();
    let p = wait_for(
        &cy_rx,
        "presence composing",
        10,
        |e| matches!(e, AppEvent::Presence(list) if list.iter().any(|p| p.state == "composing")),
    );
    let AppEvent::Presence(list) = p else {
        unreachable!()
    };
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].agent_id, ana_id);
    assert_eq!(list[0].agent_name, "Ana Lopez");
    assert_eq!(list[0].conversation_id, conv);
    assert_eq!(cy.presence(), list);
    // The announcement is refreshed: still there after the relay's 10 s ttl.
    std::thread::sleep(Duration::from_secs(12));
    assert_eq!(cy.presence().len(), 1, "refreshed every 3 s");
    // Ana never sees herself.
    assert!(ana.presence().is_empty());
    ana.leave_conversation();
    wait_for(
        &cy_rx,
        "presence cleared",
        10,
        |e| matches!(e, AppEvent::Presence(list) if list.is_empty()),
    );
}

#[test]
fn missing_token_then_sign_in() {
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let token = relay.agent(&team, "Ana Lopez", "ana@northwind.example");
    let other = relay.agent(&team, "Ben Okafor", "ben@northwind.example");
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("ana");
    {
        let (ana, rx) = engine(&home);
        ana.join_team(&relay.url, &token).unwrap();
        wait_for(&rx, "online", 20, online);
    }
    // Restarted with the token kept only in memory: it is gone.
    let (ana, rx) = engine(&home);
    let state = ana.app_state();
    assert!(state.ready && state.needs_sign_in, "{state:?}");
    assert_eq!(state.sync.state, "offline");
    // Someone else's token is refused.
    let err = ana.sign_in(&other).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    ana.sign_in(&token).unwrap();
    wait_for(&rx, "online after sign-in", 20, online);
    assert!(!ana.app_state().needs_sign_in);
}

/// Availability lives in the team document: Ana turns "off" in her app,
/// Ben (the CLI) sees it, and new unassigned conversations no longer notify
/// her until she is available again.
#[test]
fn availability_is_shared_and_quiets_unassigned_work() {
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let ben = Client::new();
    ben.login(
        &relay,
        &relay.agent(&team, "Ben Okafor", "ben@northwind.example"),
    );
    let ana_token = relay.agent(&team, "Ana Lopez", "ana@northwind.example");
    let dir = tempfile::tempdir().unwrap();
    let (ana, ana_rx) = engine(&dir.path().join("ana"));
    ana.join_team(&relay.url, &ana_token).unwrap();
    wait_for(&ana_rx, "online", 20, online);
    let deadline = Instant::now() + Duration::from_secs(10);
    while ana.team().unwrap().agents.len() < 2 {
        assert!(Instant::now() < deadline, "team never arrived");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ana.set_availability("sleeping").is_err());
    let team_view = ana.set_availability("off").unwrap();
    let me = team_view.agents.iter().find(|a| a.me).unwrap();
    assert_eq!(me.availability, "off");
    let shared = shoal_e2e::eventually(Duration::from_secs(10), || {
        ben.sync();
        ben.json(&["agent", "list"])["agents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["email"] == "ana@northwind.example" && a["availability"] == "off")
    });
    assert!(shared, "Ben never saw Ana off");

    let quiet = ben.new_conversation("maria@acme.example", "Charged twice", "Two charges.");
    ben.sync();
    wait_for(
        &ana_rx,
        "the conversation",
        20,
        |e| matches!(e, AppEvent::ReplicaChanged(c) if c.conversations.contains(&quiet)),
    );
    let until = Instant::now() + Duration::from_secs(2);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if let Ok(e) = ana_rx.recv_timeout(left) {
            assert!(
                !matches!(e, AppEvent::Notify(_)),
                "notified while off: {e:?}"
            );
        }
    }

    ana.set_availability("available").unwrap();
    let loud = ben.new_conversation("tom@acme.example", "Login fails", "Cannot log in.");
    ben.sync();
    let n = wait_for(&ana_rx, "a notification", 20, |e| {
        matches!(e, AppEvent::Notify(_))
    });
    let AppEvent::Notify(n) = n else {
        unreachable!()
    };
    assert_eq!(n.conversation_id.as_deref(), Some(loud.as_str()));

    // The team's settings she sees but may not change (no admin).
    let settings = ana.team_settings().unwrap();
    assert!(!settings.can_edit);
    let err = ana
        .change_team_settings(shoal_app::TeamSettingsChange::AutoClose { days: Some(2) })
        .unwrap_err();
    assert!(err.message.contains("only an admin"), "{}", err.message);

    // Her own working hours, a one-hour window twelve hours from now: she
    // counts as off although she said available, for Ben too.
    let hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 3600
        + 12)
        % 24;
    let window = shoal_app::team_settings::HoursView {
        time_zone: "UTC".into(),
        days: (1..=7).collect(),
        from: format!("{hour:02}:00"),
        to: format!("{:02}:00", hour + 1),
        description: String::new(),
    };
    ana.change_team_settings(shoal_app::TeamSettingsChange::MyWorkingHours {
        hours: Some(window),
    })
    .unwrap();
    let me = ana
        .team()
        .unwrap()
        .agents
        .into_iter()
        .find(|a| a.me)
        .unwrap();
    assert_eq!(me.availability, "off", "outside her working hours");
    let shared = shoal_e2e::eventually(Duration::from_secs(10), || {
        ben.sync();
        ben.json(&["agent", "list"])["agents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["email"] == "ana@northwind.example" && a["available_now"] == "off")
    });
    assert!(shared, "Ben never saw Ana's working hours");
    let after_hours = ben.new_conversation("eva@acme.example", "Invoice", "Where is it?");
    ben.sync();
    wait_for(
        &ana_rx,
        "the conversation",
        20,
        |e| matches!(e, AppEvent::ReplicaChanged(c) if c.conversations.contains(&after_hours)),
    );
    let until = Instant::now() + Duration::from_secs(2);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if let Ok(e) = ana_rx.recv_timeout(left) {
            assert!(
                !matches!(e, AppEvent::Notify(_)),
                "notified outside her hours: {e:?}"
            );
        }
    }
}
