//! A real relay and real `shoal` clients, each in its own process.

use serde_json::Value;
use shoal_e2e::{eventually, Client, Relay};
use std::io::BufRead;
use std::time::Duration;

fn team_of_three(relay: &Relay) -> (String, Vec<Client>) {
    let team = relay.team("Northwind Support");
    let clients: Vec<Client> = [
        ("Ana Lima", "ana"),
        ("Ben Okafor", "ben"),
        ("Cleo Park", "cleo"),
    ]
    .iter()
    .map(|(name, handle)| {
        let token = relay.agent(&team, name, &format!("{handle}@northwind.example"));
        let c = Client::new();
        c.login(relay, &token);
        c
    })
    .collect();
    // Everyone learns the full agent list.
    for c in &clients {
        c.sync();
    }
    (team, clients)
}

#[test]
fn changes_reach_every_agent_and_offline_edits_converge() {
    let relay = Relay::start();
    let (_, clients) = team_of_three(&relay);
    let [ana, ben, cleo] = [&clients[0], &clients[1], &clients[2]];
    let team_agents = ana.json(&["agent", "list"])["agents"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        team_agents, 3,
        "the relay wrote every agent into the team document"
    );

    let conv = ana.new_conversation("maria@acme.example", "Charged twice", "I see two charges.");
    ana.sync();
    ben.sync();
    cleo.sync();
    assert_eq!(ben.inbox().len(), 1);
    assert_eq!(cleo.inbox()[0]["subject"], "Charged twice");

    // Offline: Ben replies and Cleo notes and tags, to the same conversation;
    // Ana opens another one.
    ben.ok(&[
        "reply",
        &conv,
        "--body",
        "Refunded the duplicate.",
        "--force",
    ]);
    cleo.ok(&["note", &conv, "--body", "@ben thanks"]);
    cleo.ok(&["tag", &conv, "billing"]);
    let other = ana.new_conversation("bob@stone.example", "Login", "Cannot log in.");
    for c in [ben, cleo, ana, ben, cleo] {
        c.sync();
    }
    let views: Vec<Vec<String>> = clients.iter().map(Client::shared_views).collect();
    assert_eq!(views[0], views[1]);
    assert_eq!(views[0], views[2]);
    let shown = ana.json(&["show", &conv, "--no-mark-seen"]);
    let entries = shown["conversation"]["entries"].as_array().unwrap();
    assert_eq!(
        entries.len(),
        3,
        "message, reply and note all survived: {shown}"
    );
    assert_eq!(shown["conversation"]["tags"][0], "billing");
    assert!(ben
        .inbox()
        .iter()
        .any(|r| r["conversation_id"] == other.as_str()));

    // A new agent gets everything.
    let team = relay.admin(&["team", "list", "--json"]);
    let team_id = serde_json::from_str::<Value>(&team).unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dana = Client::new();
    dana.login(
        &relay,
        &relay.agent(&team_id, "Dana Wu", "dana@northwind.example"),
    );
    dana.sync();
    assert_eq!(dana.inbox().len(), 2);
    let dana_views = dana.shared_views();
    ana.sync();
    assert_eq!(ana.shared_views(), dana_views);
}

#[test]
fn reconnecting_syncs_only_what_changed() {
    let relay = Relay::start();
    let (_, clients) = team_of_three(&relay);
    let (ana, ben) = (&clients[0], &clients[1]);
    for i in 0..12 {
        ana.new_conversation(
            &format!("c{i}@acme.example"),
            &format!("Question {i}"),
            "Hello",
        );
    }
    ana.sync();
    let first = ben.sync();
    assert!(
        first["documents"].as_u64().unwrap() >= 24,
        "12 conversations and 12 customers: {first}"
    );
    let quiet = ben.sync();
    assert_eq!(
        quiet["documents"], 0,
        "nothing changed, nothing synced: {quiet}"
    );
    let conv = ana.inbox()[0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ana.ok(&["tag", &conv, "vip"]);
    ana.sync();
    let again = ben.sync();
    assert_eq!(
        again["documents"], 1,
        "only the changed conversation: {again}"
    );
    assert_eq!(again["updated"], 1);
}

#[test]
fn live_changes_arrive_while_watching() {
    let relay = Relay::start();
    let (_, clients) = team_of_three(&relay);
    let (ana, ben) = (&clients[0], &clients[1]);
    let mut watch = ben
        .cmd(&["sync", "--watch", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = std::io::BufReader::new(watch.stdout.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Wait until Ben is online.
    let online = rx.iter().take(20).any(|l| l.contains("\"online\""));
    assert!(online, "watch reached online");
    let conv = ana.new_conversation("maria@acme.example", "Live one", "Hello there");
    ana.sync();
    let got = rx
        .recv_timeout(Duration::from_secs(10))
        .into_iter()
        .chain(rx.try_iter())
        .any(|l| l.contains(&conv))
        || {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            let mut seen = false;
            while !seen && std::time::Instant::now() < deadline {
                if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
                    seen = l.contains(&conv);
                }
            }
            seen
        };
    assert!(got, "Ben's watching client received the new conversation");
    assert!(eventually(Duration::from_secs(5), || ben
        .inbox()
        .iter()
        .any(|r| r["conversation_id"] == conv.as_str())));
    // Ben's own change goes out while watching, without `shoal sync`.
    ben.ok(&["tag", &conv, "urgent"]);
    assert!(eventually(Duration::from_secs(10), || {
        ana.sync();
        ana.json(&["show", &conv, "--no-mark-seen"])["conversation"]["tags"][0] == "urgent"
    }));
    let _ = watch.kill();
    let _ = watch.wait();
}

#[test]
fn a_revoked_token_is_cut_off() {
    let relay = Relay::start();
    let (_, clients) = team_of_three(&relay);
    let ben = &clients[1];
    let mut watch = ben
        .cmd(&["sync", "--watch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The watcher is online (else the test would pass without a cut-off).
    assert!(
        eventually(Duration::from_secs(10), || {
            relay.metric("shoal_relay_connections") == 1.0
        }),
        "Ben's watcher connected"
    );
    assert!(matches!(watch.try_wait(), Ok(None)));
    relay.admin(&["agent", "revoke", "ben@northwind.example"]);
    // Cut off live, within the promised second (and a half of slack for a
    // loaded machine): the relay closes the connection.
    assert!(
        eventually(Duration::from_millis(1500), || {
            relay.metric("shoal_relay_connections") == 0.0
        }),
        "the relay closed Ben's connection within a second or so"
    );
    let exited = eventually(Duration::from_secs(10), || {
        matches!(watch.try_wait(), Ok(Some(_)))
    });
    assert!(exited, "the watching client was disconnected and gave up");
    let status = watch.wait().unwrap();
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut watch.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("revoked"), "{err}");
    let again = ben.run(&["sync"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("revoked"));
}

#[test]
fn teams_are_isolated() {
    let relay = Relay::start();
    let (_, a_clients) = team_of_three(&relay);
    let secret = a_clients[0].new_conversation(
        "vip@bigcorp.example",
        "Confidential merger",
        "Top secret details",
    );
    a_clients[0].sync();
    let team_b = relay.team("Other Co");
    let eve = Client::new();
    eve.login(&relay, &relay.agent(&team_b, "Eve", "eve@other.example"));
    eve.sync();
    assert!(eve.inbox().is_empty());
    let views = eve.shared_views().join("\n");
    assert!(!views.contains("Confidential"), "{views}");
    assert!(!views.contains("Northwind"));
    // Even knowing a document id of team A gives nothing: ids are per team.
    let hits = eve.json(&["search", "secret"]);
    assert!(hits["hits"].as_array().unwrap().is_empty());
    let _ = secret;
}

#[test]
fn relay_killed_mid_sync_loses_nothing() {
    // Every commit waits 3 s (a test hook), so there is a window in
    // which the relay holds Ana's changes but has stored none: the kill is
    // made to land there, and the test checks that it did. (Before, it
    // followed a fixed 150 ms sleep and never checked where it landed.)
    let mut relay = Relay::start_with(&["--fault-store-pause-ms", "3000"]);
    let (_, clients) = team_of_three(&relay);
    let (ana, ben) = (&clients[0], &clients[1]);
    ana.open_conversations(30, "k");
    let (stored, received) = (
        relay.metric("shoal_relay_changes_stored_total"),
        relay.metric("shoal_relay_bytes_in_total"),
    );
    let mut sync = ana.spawn_quiet(&["sync"]);
    assert!(
        eventually(Duration::from_secs(20), || {
            relay.metric("shoal_relay_bytes_in_total") > received + 2_000.0
        }),
        "Ana's changes reached the relay"
    );
    let unstored = relay.metric("shoal_relay_changes_stored_total") == stored;
    let syncing = matches!(sync.try_wait(), Ok(None));
    relay.kill();
    assert!(
        unstored && syncing,
        "the kill landed outside its window (nothing stored yet: {unstored}, sync running: {syncing})"
    );
    let status = sync.wait().unwrap();
    assert!(!status.success(), "Ana's sync noticed the relay was gone");
    relay.restart_with(&[]);
    ana.sync();
    ben.sync();
    assert_eq!(ben.inbox().len(), 30);
    assert_eq!(ana.shared_views(), ben.shared_views());
    // The relay restarts cleanly after SIGTERM too.
    assert!(relay.terminate().success());
    relay.restart();
    ben.sync();
}

#[test]
fn health_and_metrics_endpoints() {
    let relay = Relay::start();
    let (_, clients) = team_of_three(&relay);
    clients[0].new_conversation("m@acme.example", "Metrics", "Hello");
    clients[0].sync();
    assert!(relay.http_get("/healthz").contains("200 OK"));
    let metrics = relay.http_get("/metrics");
    for name in [
        "shoal_relay_connections ",
        "shoal_relay_documents_loaded",
        "shoal_relay_bytes_in_total",
        "shoal_relay_propagation_seconds_bucket",
    ] {
        assert!(metrics.contains(name), "{name} missing from\n{metrics}");
    }
}

#[test]
fn idle_documents_leave_the_relays_memory() {
    let relay = Relay::start_with(&["--evict-after-secs", "1"]);
    let team = relay.team("Northwind");
    let ana = Client::new();
    ana.login(&relay, &relay.agent(&team, "Ana", "ana@northwind.example"));
    for i in 0..5 {
        ana.new_conversation(&format!("c{i}@acme.example"), &format!("Q{i}"), "Hello");
    }
    ana.sync();
    let loaded = |relay: &Relay| -> u64 {
        let metrics = relay.http_get("/metrics");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("shoal_relay_documents_loaded "))
            .and_then(|v| v.trim().parse().ok())
            .expect("documents_loaded gauge")
    };
    assert!(loaded(&relay) >= 10, "the synced documents were loaded");
    assert!(
        eventually(Duration::from_secs(10), || loaded(&relay) == 0),
        "idle documents were evicted"
    );
    // Evicted documents load again on demand, with nothing lost.
    let ben = Client::new();
    ben.login(&relay, &relay.agent(&team, "Ben", "ben@northwind.example"));
    assert_eq!(ben.inbox().len(), 5);
    ana.sync(); // learns that Ben joined
    assert_eq!(ben.shared_views(), ana.shared_views());
}

#[test]
fn both_agents_editing_the_same_conversations_offline_converge() {
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let (ana, ben) = (Client::new(), Client::new());
    ana.login(&relay, &relay.agent(&team, "Ana", "ana@northwind.example"));
    ben.login(&relay, &relay.agent(&team, "Ben", "ben@northwind.example"));
    ana.open_conversations(6, "s");
    ana.sync();
    ben.sync();
    let ids: Vec<String> = ana
        .inbox()
        .iter()
        .map(|r| r["conversation_id"].as_str().unwrap().to_owned())
        .collect();
    // Both work offline on the same conversations.
    for (i, id) in ids.iter().cycle().take(24).enumerate() {
        ana.ok(&["note", id, "--body", &format!("Ana's note {i}")]);
        ben.ok(&["tag", id, &format!("t{}", i % 5)]);
        ben.ok(&["note", id, "--body", &format!("Ben's note {i}")]);
    }
    ana.sync();
    ben.sync();
    ana.sync();
    assert_eq!(ana.shared_views(), ben.shared_views());
    let shown = ben.json(&["show", &ids[0], "--no-mark-seen"]);
    assert_eq!(
        shown["conversation"]["entries"].as_array().unwrap().len(),
        1 + 8,
        "{shown}"
    );
}

#[test]
fn a_document_larger_than_a_frame_syncs_in_parts_both_ways() {
    // Before: a document whose sync message exceeded the frame limit could
    // not be sent (the relay closed the connection: frame-too-large) nor
    // downloaded, so its writer could not sync at all and nobody else could
    // ever have it. The relay runs with a 256 KiB frame limit, so a
    // 1.6 MB conversation is "larger than a frame" without a 16 MiB test.
    let relay = Relay::start_with(&["--max-frame-bytes", "262144"]);
    let (_, clients) = team_of_three(&relay);
    let (ana, ben) = (&clients[0], &clients[1]);
    let conv = ana.new_conversation("m@acme.example", "Logs attached", "See below");
    let file = ana.home().join("note.txt");
    for i in 0..8 {
        // Printable and random: compression cannot make it fit a frame.
        let text = shoal_e2e::random_text(200_000, i + 1);
        std::fs::write(&file, format!("part {i}: {text}")).unwrap();
        ana.ok(&["note", &conv, "--body-file", file.to_str().unwrap()]);
    }
    let pushed = ana.sync();
    assert!(
        pushed["bytes_sent"].as_u64().unwrap() > 1_000_000,
        "{pushed}"
    );
    let pulled = ben.sync();
    assert!(
        pulled["bytes_received"].as_u64().unwrap() > 1_000_000,
        "{pulled}"
    );
    let entries = ben.json(&["show", &conv, "--no-mark-seen"])["conversation"]["entries"]
        .as_array()
        .cloned()
        .unwrap();
    assert_eq!(entries.len(), 9);
    assert!(entries[8]["body"].as_str().unwrap().starts_with("part 7: "));
    assert_eq!(ana.shared_views(), ben.shared_views());
}

#[test]
fn a_hostile_client_of_another_team_gets_nothing_of_team_a() {
    // The other isolation test uses an honest client of team B; this one
    // asks the relay for team A's documents by their ids, raw.
    use automerge::sync::SyncDoc;
    use futures_util::{SinkExt, StreamExt};
    use shoal_protocol::{decode, encode, ClientMessage, ErrorCode, RelayMessage};
    use tokio_tungstenite::tungstenite::Message;
    let relay = Relay::start();
    let (team_a, a_clients) = team_of_three(&relay);
    let conv = a_clients[0].new_conversation("vip@bigcorp.example", "Merger", "Top secret");
    a_clients[0].sync();
    let ana_id = a_clients[0].json(&["status"])["identity"]["agent_id"]
        .as_str()
        .expect("Ana's agent id")
        .to_owned();
    let team_b = relay.team("Other Co");
    let eve_token = relay.agent(&team_b, "Eve", "eve@other.example");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/v1/sync", relay.url))
            .await
            .unwrap();
        let send = |m: ClientMessage| Message::Binary(encode(&m).into());
        let next = async |ws: &mut tokio_tungstenite::WebSocketStream<_>| loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
                .await
                .expect("the relay answers");
            match frame {
                Some(Ok(Message::Binary(b))) => {
                    let m: RelayMessage = decode(&b, shoal_protocol::MAX_FRAME_BYTES).unwrap();
                    if !matches!(m, RelayMessage::Presence { .. }) {
                        return m;
                    }
                }
                Some(Ok(_)) => continue,
                other => panic!("connection ended: {other:?}"),
            }
        };
        ws.send(send(ClientMessage::Hello {
            protocol: shoal_protocol::PROTOCOL_VERSION,
            token: eve_token.clone(),
            client: "hostile".into(),
            capabilities: Vec::new(),
        }))
        .await
        .unwrap();
        assert!(matches!(next(&mut ws).await, RelayMessage::Welcome { .. }));
        // Team A's conversation, by its id: an empty document of team B.
        let ask = automerge::AutoCommit::new()
            .sync()
            .generate_sync_message(&mut automerge::sync::State::new())
            .unwrap()
            .encode();
        ws.send(send(ClientMessage::Sync {
            doc: format!("conv/{conv}"),
            data: ask.clone(),
            restart: true,
        }))
        .await
        .unwrap();
        match next(&mut ws).await {
            RelayMessage::Sync { data, .. } => {
                let m = automerge::sync::Message::decode(&data).unwrap();
                assert!(m.heads.is_empty(), "{m:?}");
                let mut copy = automerge::AutoCommit::new();
                copy.sync()
                    .receive_sync_message(&mut automerge::sync::State::new(), m)
                    .unwrap();
                assert!(copy.get_heads().is_empty(), "nothing of team A came");
            }
            other => panic!("{other:?}"),
        }
        // Team A's team document and an agent's private document: refused.
        for doc in [format!("team/{team_a}"), format!("agent/{ana_id}")] {
            ws.send(send(ClientMessage::Sync {
                doc: doc.clone(),
                data: ask.clone(),
                restart: true,
            }))
            .await
            .unwrap();
            match next(&mut ws).await {
                RelayMessage::Error { code, .. } => assert_eq!(code, ErrorCode::Forbidden, "{doc}"),
                other => panic!("{doc}: {other:?}"),
            }
        }
        // The feed lists none of team A's documents.
        ws.send(send(ClientMessage::ChangedSince { cursor: 0 }))
            .await
            .unwrap();
        match next(&mut ws).await {
            RelayMessage::Changed { docs, .. } => {
                assert!(docs.iter().all(|d| !d.contains(&conv)), "{docs:?}")
            }
            other => panic!("{other:?}"),
        }
    });
    // And asking changed nothing for team A.
    a_clients[1].sync();
    let shown = a_clients[1].json(&["show", &conv, "--no-mark-seen"]);
    assert_eq!(shown["conversation"]["subject"], "Merger");
}

#[test]
fn a_team_over_its_document_quota_is_refused_and_other_teams_go_on() {
    // Before: a team's clients could make the relay store any number of
    // documents, filling the disk every team shares.
    let relay = Relay::start_with(&["--team-max-documents", "8"]);
    let (team, clients) = team_of_three(&relay);
    let (ana, ben) = (&clients[0], &clients[1]);
    for i in 0..10 {
        ana.new_conversation("m@acme.example", &format!("Question {i}"), "Hello");
    }
    let out = ana.run(&["sync", "--json"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("quota of 8 documents"), "{said}");
    let stored = relay.metric(&format!("shoal_relay_team_documents{{team=\"{team}\"}}"));
    assert!((1.0..=8.0).contains(&stored), "{stored} documents stored");
    ben.sync();
    let got = ben.inbox().len();
    assert!(got < 10, "Ben got {got} conversations: some were refused");

    // Another team is not held back by this one's quota.
    let other = relay.team("Other Co");
    let eve = Client::new();
    eve.login(&relay, &relay.agent(&other, "Eve", "eve@other.example"));
    eve.new_conversation("x@other.example", "Hello", "Hi");
    eve.sync();
    assert_eq!(eve.inbox().len(), 1);
}

/// Availability is the team's to see: Ben says he is off, Ana's replica
/// shows it after a sync, and nobody can say it for someone else (the CLI
/// sets only one's own; the relay refuses others', see relay_protocol).
#[test]
fn availability_set_by_an_agent_reaches_the_team() {
    let relay = Relay::start();
    let (_team, clients) = team_of_three(&relay);
    let (ana, ben) = (&clients[0], &clients[1]);
    let said = ben.ok(&["agent", "availability", "off"]);
    assert!(said.contains("You are off"), "{said}");
    ben.sync();
    let mut agents = Value::Null;
    assert!(
        eventually(Duration::from_secs(10), || {
            ana.sync();
            agents = ana.json(&["agent", "list"])["agents"].clone();
            agents
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["email"] == "ben@northwind.example" && a["availability"] == "off")
        }),
        "{agents:#}"
    );
    let bad = ben.run(&["agent", "availability", "sleeping"]);
    assert!(!bad.status.success());
}
