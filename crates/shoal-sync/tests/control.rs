//! `watch`'s control channel against a real `shoal-relay` process:
//! presence is announced, kept alive past the relay's ttl, announced again
//! after a reconnect and withdrawn; `PushNow` pushes a local write.
//! (`cargo build -p shoal-relay` first.)

use shoal_core::{AgentId, ConversationId, TeamId};
use shoal_e2e::Relay;
use shoal_protocol::PresenceState;
use shoal_replica::{Replica, SystemClock};
use shoal_sync::{PresenceInfo, RelayConfig, SyncControl, SyncEvent, SyncStatus};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// What another agent sees right now.
fn seen_by(cfg: &RelayConfig) -> Vec<PresenceInfo> {
    rt().block_on(shoal_sync::presence(cfg, None, Duration::from_millis(500)))
        .unwrap()
}

fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn presence_is_held_refreshed_reannounced_and_withdrawn() {
    let mut relay = Relay::start();
    let team = relay.team("Northwind");
    let ana = RelayConfig {
        url: relay.url.clone(),
        token: relay.agent(&team, "Ana", "ana@northwind.example"),
    };
    let ben = RelayConfig {
        url: relay.url.clone(),
        token: relay.agent(&team, "Ben", "ben@northwind.example"),
    };
    let welcome = rt().block_on(shoal_sync::connect(&ana)).unwrap().1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.sqlite3");
    Replica::create_empty(
        &path,
        &TeamId::parse(&welcome.team_id).unwrap(),
        &AgentId::parse(&welcome.agent_id).unwrap(),
        Arc::new(SystemClock),
    )
    .unwrap();

    let (control, control_rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (events_tx, events) = mpsc::channel();
    let cfg = ana.clone();
    let sync_path = path.clone();
    let thread = std::thread::spawn(move || {
        let mut replica = Replica::open(&sync_path).unwrap();
        let mut on_event = move |e: SyncEvent| {
            let _ = events_tx.send(e);
        };
        rt().block_on(shoal_sync::watch(
            &mut replica,
            &cfg,
            &mut on_event,
            Some(control_rx),
            async {
                let _ = stop_rx.await;
            },
        ))
    });
    let wait_online = |what: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("{what}: never online"));
            if let Ok(SyncEvent::Status {
                status: SyncStatus::Online,
            }) = events.recv_timeout(left)
            {
                return;
            }
        }
    };
    wait_online("first connection");

    let conv = ConversationId::random().to_string();
    control
        .send(SyncControl::Presence(Some((
            conv.clone(),
            PresenceState::Composing,
        ))))
        .unwrap();
    let ana_is_composing = |list: &[PresenceInfo]| {
        list.iter().any(|p| {
            p.agent_id == welcome.agent_id
                && p.conversation == conv
                && p.state == PresenceState::Composing
        })
    };
    eventually("Ben sees Ana composing", 10, || {
        ana_is_composing(&seen_by(&ben))
    });
    // The relay forgets a presence after 10 s unless it is refreshed.
    std::thread::sleep(Duration::from_secs(11));
    assert!(ana_is_composing(&seen_by(&ben)), "refreshed past the ttl");

    // The relay restarts (and forgets everything): announced again after
    // the reconnect, without being asked again.
    relay.kill();
    relay.restart();
    wait_online("after the restart");
    eventually("Ben sees Ana again after the reconnect", 10, || {
        ana_is_composing(&seen_by(&ben))
    });

    // Withdrawn at once (no waiting for the ttl).
    control.send(SyncControl::Presence(None)).unwrap();
    eventually("Ana's presence is gone", 3, || seen_by(&ben).is_empty());

    // PushNow: a write through another handle is pushed; the relay's feed
    // (what Ben would get) has it.
    let mut other = Replica::open(&path).unwrap();
    other.set_template("hello", "Hi").unwrap();
    control.send(SyncControl::PushNow).unwrap();
    eventually("the write is confirmed", 10, || {
        other.dirty_docs().unwrap().is_empty()
    });

    stop.send(()).unwrap();
    thread.join().unwrap().unwrap();
}
