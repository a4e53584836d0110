//! The relay against peers that misbehave, over raw WebSockets: each gets an
//! error and a closed connection, and the relay keeps serving everyone else.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use shoal_e2e::{eventually, random_text, Client, Relay};
use shoal_protocol::{
    decode, encode, ClientMessage, ErrorCode, PresenceState, RelayMessage, MAX_FRAME_BYTES,
    PROTOCOL_VERSION,
};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(relay: &Relay) -> Ws {
    tokio_tungstenite::connect_async(format!("{}/v1/sync", relay.url))
        .await
        .expect("connect")
        .0
}

/// The next protocol message, or None once the relay closed the socket.
async fn next(ws: &mut Ws) -> Option<RelayMessage> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("relay answered")
        {
            Some(Ok(Message::Binary(b))) => {
                return Some(decode(&b, MAX_FRAME_BYTES).expect("relay frames decode"))
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

async fn expect_error_and_close(ws: &mut Ws, code: ErrorCode) {
    match next(ws).await {
        Some(RelayMessage::Error { code: got, .. }) => assert_eq!(got, code),
        other => panic!("expected error {code}, got {other:?}"),
    }
    assert!(
        next(ws).await.is_none(),
        "the relay closed the connection after {code}"
    );
}

/// Sends a frame that the relay refuses without closing the connection.
async fn refused(ws: &mut Ws, frame: Message, code: ErrorCode) {
    ws.send(frame).await.unwrap();
    match next(ws).await {
        Some(RelayMessage::Error { code: got, .. }) => assert_eq!(got, code),
        other => panic!("expected error {code}, got {other:?}"),
    }
}

async fn hello(ws: &mut Ws, token: &str) -> RelayMessage {
    let frame = encode(&ClientMessage::Hello {
        protocol: PROTOCOL_VERSION,
        token: token.into(),
        client: "test".into(),
        capabilities: Vec::new(),
    });
    ws.send(Message::Binary(frame.into())).await.unwrap();
    next(ws).await.expect("answer to hello")
}

#[test]
fn misbehaving_peers_get_an_error_and_others_keep_syncing() {
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let token = relay.agent(&team, "Ana", "ana@northwind.example");
    let ana = Client::new();
    ana.login(&relay, &token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // A healthy authenticated connection stays open throughout.
        let mut healthy = open(&relay).await;
        assert!(matches!(
            hello(&mut healthy, &token).await,
            RelayMessage::Welcome { .. }
        ));

        let mut bad = open(&relay).await;
        bad.send(Message::Binary(vec![0xff, 0x00, 0x13, 0x37].into()))
            .await
            .unwrap();
        expect_error_and_close(&mut bad, ErrorCode::Malformed).await;

        let mut text = open(&relay).await;
        text.send(Message::Text("hello?".into())).await.unwrap();
        expect_error_and_close(&mut text, ErrorCode::Malformed).await;

        let mut old = open(&relay).await;
        let frame = encode(&ClientMessage::Hello {
            protocol: PROTOCOL_VERSION + 7,
            token: token.clone(),
            client: "future".into(),
            capabilities: Vec::new(),
        });
        old.send(Message::Binary(frame.into())).await.unwrap();
        expect_error_and_close(&mut old, ErrorCode::UnsupportedVersion).await;

        for wrong in ["nonsense", "0123456789abcdef.00", &format!("{}x", token)] {
            let mut w = open(&relay).await;
            assert!(matches!(
                hello(&mut w, wrong).await,
                RelayMessage::Error {
                    code: ErrorCode::Unauthenticated,
                    ..
                }
            ));
            assert!(next(&mut w).await.is_none());
        }

        let mut skip_hello = open(&relay).await;
        skip_hello
            .send(Message::Binary(
                encode(&ClientMessage::ChangedSince { cursor: 0 }).into(),
            ))
            .await
            .unwrap();
        expect_error_and_close(&mut skip_hello, ErrorCode::Unauthenticated).await;

        let mut big = open(&relay).await;
        assert!(matches!(
            hello(&mut big, &token).await,
            RelayMessage::Welcome { .. }
        ));
        let oversized = ClientMessage::Sync {
            doc: "conv/0123".into(),
            data: vec![0u8; MAX_FRAME_BYTES + 1024],
            restart: true,
        };
        big.send(Message::Binary(encode(&oversized).into()))
            .await
            .unwrap();
        loop {
            match next(&mut big).await {
                Some(RelayMessage::Error { code, .. }) => {
                    assert_eq!(code, ErrorCode::FrameTooLarge);
                    break;
                }
                Some(RelayMessage::Presence { .. }) => continue,
                other => panic!("expected frame-too-large, got {other:?}"),
            }
        }
        assert!(next(&mut big).await.is_none());

        // Non-fatal: a garbage sync message and another team's document.
        let sync = |doc: &str, data: Vec<u8>| {
            Message::Binary(
                encode(&ClientMessage::Sync {
                    doc: doc.into(),
                    data,
                    restart: true,
                })
                .into(),
            )
        };
        refused(
            &mut healthy,
            sync("conv/0123abcd", vec![1, 2, 3]),
            ErrorCode::BadChange,
        )
        .await;
        refused(
            &mut healthy,
            sync("team/ffffffffffffffffffffffffffffffff", vec![]),
            ErrorCode::Forbidden,
        )
        .await;
        refused(
            &mut healthy,
            sync("agent/ffffffffffffffffffffffffffffffff", vec![]),
            ErrorCode::Forbidden,
        )
        .await;
        // Still served.
        healthy
            .send(Message::Binary(
                encode(&ClientMessage::ChangedSince { cursor: 0 }).into(),
            ))
            .await
            .unwrap();
        assert!(matches!(
            next(&mut healthy).await,
            Some(RelayMessage::Changed { .. })
        ));
    });
    // And a real client still syncs.
    ana.new_conversation("m@acme.example", "After the storm", "Hello");
    ana.sync();
    assert!(relay.http_get("/healthz").contains("200 OK"));
}

#[test]
fn presence_is_routed_within_the_team_and_expires() {
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let (ana, ben) = (Client::new(), Client::new());
    ana.login(
        &relay,
        &relay.agent(&team, "Ana Lima", "ana@northwind.example"),
    );
    ben.login(
        &relay,
        &relay.agent(&team, "Ben Okafor", "ben@northwind.example"),
    );
    let other_team = relay.team("Other");
    let eve = Client::new();
    eve.login(
        &relay,
        &relay.agent(&other_team, "Eve", "eve@other.example"),
    );
    let conv = ana.new_conversation("m@acme.example", "Presence", "Hello");
    ana.sync();
    ben.sync();
    // Ana composes for a few seconds.
    let mut composing = ana
        .cmd(&[
            "presence",
            "--conversation",
            &conv,
            "--state",
            "composing",
            "--hold",
            "4",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let seen = ben.json(&["presence"]);
    let list = seen["presence"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{seen}");
    assert_eq!(list[0]["conversation"], conv.as_str());
    assert_eq!(list[0]["state"], "composing");
    let text = ben.ok(&["presence"]);
    assert!(text.contains("Ana Lima is replying in"), "{text}");
    assert!(
        eve.json(&["presence"])["presence"]
            .as_array()
            .unwrap()
            .is_empty(),
        "another team sees nothing"
    );
    composing.wait().unwrap();
    // Ana left: her presence is gone.
    assert!(ben.json(&["presence"])["presence"]
        .as_array()
        .unwrap()
        .is_empty());
    let _ = PresenceState::Idle;
}

#[test]
fn a_client_killed_mid_sync_resumes_without_loss() {
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let (ana, ben) = (Client::new(), Client::new());
    ana.login(&relay, &relay.agent(&team, "Ana", "ana@northwind.example"));
    ben.login(&relay, &relay.agent(&team, "Ben", "ben@northwind.example"));
    ana.open_conversations(40, "c");
    let mut sync = ana.spawn_quiet(&["sync"]);
    std::thread::sleep(Duration::from_millis(120));
    let _ = sync.kill(); // SIGKILL
    let _ = sync.wait();
    assert!(
        ana.json(&["check"])["ok"].as_bool().unwrap(),
        "the killed client's replica is intact"
    );
    ana.sync();
    ben.sync();
    assert_eq!(ben.inbox().len(), 40);
    assert_eq!(ana.shared_views(), ben.shared_views());
    let status = ana.json(&["status"]);
    assert_eq!(status["sync"]["pending_documents"], 0, "{}", status["sync"]);
    assert_eq!(status["sync"]["state"], "online");
}

#[test]
fn changes_are_announced_to_idle_connections_in_few_messages() {
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let ana_token = relay.agent(&team, "Ana", "ana@northwind.example");
    let ben_token = relay.agent(&team, "Ben", "ben@northwind.example");
    let ana = Client::new();
    ana.login(&relay, &ana_token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Ben is connected and syncs nothing: he only hears what changed.
    let mut ben = rt.block_on(async {
        let mut ws = open(&relay).await;
        assert!(matches!(
            hello(&mut ws, &ben_token).await,
            RelayMessage::Welcome { .. }
        ));
        ws
    });
    ana.open_conversations(40, "burst");
    let report = ana.sync();
    assert!(report["bytes_sent"].as_u64().unwrap() > 1_000, "{report}");
    assert!(report["bytes_received"].as_u64().unwrap() > 0, "{report}");
    let expected: std::collections::BTreeSet<String> = ana
        .inbox()
        .iter()
        .map(|row| format!("conv/{}", row["conversation_id"].as_str().unwrap()))
        .collect();
    assert_eq!(expected.len(), 40);

    let (heard, notices) = rt.block_on(async {
        let mut heard = std::collections::BTreeSet::new();
        let mut notices = 0;
        while !expected.is_subset(&heard) {
            match next(&mut ben).await {
                Some(RelayMessage::Changed { docs, .. }) => {
                    notices += 1;
                    heard.extend(docs);
                }
                Some(_) => {}
                None => panic!("the relay closed Ben's connection"),
            }
        }
        (heard, notices)
    });
    assert!(expected.is_subset(&heard));
    // 40 conversations and 40 customers changed: one notice per 100 ms at
    // most, not one per document.
    assert!(
        notices <= 20,
        "{notices} notices for {} documents",
        heard.len()
    );
}

/// Connects as `token` and asks for `doc` from scratch again and again for
/// `spell`, without ever reading: each request makes the relay send the
/// whole document, so its writes to this socket soon block.
async fn stop_reading(relay: &Relay, token: &str, doc: &str, spell: Duration) -> Ws {
    use automerge::sync::SyncDoc;
    let mut ws = open(relay).await;
    assert!(matches!(
        hello(&mut ws, token).await,
        RelayMessage::Welcome { .. }
    ));
    let mut state = automerge::sync::State::new();
    let ask = automerge::AutoCommit::new()
        .sync()
        .generate_sync_message(&mut state)
        .expect("a first sync message")
        .encode();
    let frame = encode(&ClientMessage::Sync {
        doc: doc.into(),
        data: ask,
        restart: true,
    });
    let until = tokio::time::Instant::now() + spell;
    while tokio::time::Instant::now() < until {
        // Once the relay stops reading too, sends block: that is enough.
        let sent = tokio::time::timeout(
            Duration::from_millis(200),
            ws.send(Message::Binary(frame.clone().into())),
        )
        .await;
        if sent.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    ws
}

#[test]
fn a_client_that_stops_reading_holds_up_nobody_and_is_cut_off() {
    // Failed before the relay stopped writing under document locks: Ben's
    // reply waited for the stalled socket forever.
    let relay = Relay::start_with(&["--write-timeout-secs", "30"]);
    let team = relay.team("Northwind");
    let ana_token = relay.agent(&team, "Ana", "ana@northwind.example");
    let ben_token = relay.agent(&team, "Ben", "ben@northwind.example");
    let (ana, ben) = (Client::new(), Client::new());
    ana.login(&relay, &ana_token);
    ben.login(&relay, &ben_token);
    let conv = ana.new_conversation("m@acme.example", "A long story", &random_text(100_000, 7));
    ana.sync();
    ben.sync();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let stalled = rt.block_on(stop_reading(
        &relay,
        &ana_token,
        &format!("conv/{conv}"),
        Duration::from_secs(3),
    ));
    let connections = relay.metric("shoal_relay_connections");
    assert!(connections >= 1.0, "the stalled client is connected");

    // The team goes on with the very document the stalled client wants.
    ben.ok(&["reply", &conv, "--body", "Short answer.", "--force"]);
    ben.sync();
    ana.sync();
    let entries = ana.json(&["show", &conv, "--no-mark-seen"])["conversation"]["entries"]
        .as_array()
        .cloned()
        .unwrap();
    assert!(
        entries.iter().any(|e| e["body"] == "Short answer."),
        "Ana has Ben's reply"
    );
    assert_eq!(
        relay.metric("shoal_relay_slow_clients_cut_total"),
        0.0,
        "that happened while the stalled client was still connected"
    );

    // Then the stalled client is cut off, after the write timeout.
    assert!(
        shoal_e2e::eventually(Duration::from_secs(60), || {
            relay.metric("shoal_relay_slow_clients_cut_total") >= 1.0
        }),
        "the relay closed the stalled connection"
    );
    assert!(shoal_e2e::eventually(Duration::from_secs(5), || {
        relay.metric("shoal_relay_connections") < connections
    }));
    drop(stalled);
}

/// An Automerge compressed-change chunk whose data inflates to `size` zero
/// bytes (a "deflate bomb": a few kilobytes on the wire).
fn deflate_bomb(size: usize) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..size.div_ceil(block.len()) {
        e.write_all(&block).unwrap();
    }
    let data = e.finish().unwrap();
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut n = data.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        chunk.push(if n == 0 { b } else { b | 0x80 });
        if n == 0 {
            break;
        }
    }
    chunk.extend(data);
    chunk
}

#[test]
fn changes_that_expand_past_the_limit_are_refused_before_they_are_applied() {
    // Before: the relay handed the chunk to Automerge, which inflated all
    // of it (here 200 MiB from about 200 kB) on a runtime thread.
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let token = relay.agent(&team, "Ana", "ana@northwind.example");
    let ana = Client::new();
    ana.login(&relay, &token);
    ana.new_conversation("m@acme.example", "Before", "Hello");
    ana.sync();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut ws = open(&relay).await;
        let head = match hello(&mut ws, &token).await {
            RelayMessage::Welcome { head, .. } => head,
            other => panic!("{other:?}"),
        };
        let bomb = deflate_bomb(200 << 20);
        assert!(bomb.len() < 1 << 20, "{} bytes on the wire", bomb.len());
        let message = automerge::sync::Message {
            heads: Vec::new(),
            need: Vec::new(),
            have: Vec::new(),
            changes: bomb.into(),
            flags: None,
            version: automerge::sync::MessageVersion::V1,
        };
        let frame = encode(&ClientMessage::Sync {
            doc: "conv/0123456789abcdef0123456789abcdef".into(),
            data: message.encode(),
            restart: true,
        });
        ws.send(Message::Binary(frame.into())).await.unwrap();
        loop {
            match next(&mut ws).await {
                Some(RelayMessage::Error { code, message }) => {
                    assert_eq!(code, ErrorCode::LimitExceeded, "{message}");
                    assert!(message.contains("expand"), "{message}");
                    break;
                }
                Some(RelayMessage::Presence { .. }) => continue,
                other => panic!("expected limit-exceeded, got {other:?}"),
            }
        }
        // Not fatal, and nothing was stored.
        ws.send(Message::Binary(
            encode(&ClientMessage::ChangedSince { cursor: head }).into(),
        ))
        .await
        .unwrap();
        match next(&mut ws).await {
            Some(RelayMessage::Changed {
                docs, head: now, ..
            }) => {
                assert!(docs.is_empty(), "{docs:?}");
                assert_eq!(now, head);
            }
            other => panic!("{other:?}"),
        }
    });
    assert_eq!(relay.metric("shoal_relay_refused_over_limit_total"), 1.0);
    ana.new_conversation("m@acme.example", "After", "Still here");
    ana.sync();
}

#[test]
fn connections_waiting_to_log_in_are_capped() {
    // Before: any number of silent connections were held open, each
    // allowed a first frame of twice the frame limit.
    let relay = Relay::start_with(&["--max-pending-logins", "3"]);
    let team = relay.team("Northwind");
    let token = relay.agent(&team, "Ana", "ana@northwind.example");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut silent = Vec::new();
        for _ in 0..3 {
            silent.push(open(&relay).await);
        }
        // Give the relay a moment to take the three in.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut refused = open(&relay).await;
        expect_error_and_close(&mut refused, ErrorCode::Busy).await;
        // One leaves: a newcomer gets in and logs in.
        drop(silent.pop());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut newcomer = open(&relay).await;
        assert!(matches!(
            hello(&mut newcomer, &token).await,
            RelayMessage::Welcome { .. }
        ));
        // Logged-in connections do not count.
        let mut another = open(&relay).await;
        assert!(matches!(
            hello(&mut another, &token).await,
            RelayMessage::Welcome { .. }
        ));
    });
}

#[test]
fn asking_about_documents_that_do_not_exist_costs_the_relay_no_memory() {
    // Before: every id asked about stayed loaded (empty) until eviction, so
    // a client asking about random ids grew the relay's memory at will.
    use automerge::sync::SyncDoc;
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let token = relay.agent(&team, "Ana", "ana@northwind.example");
    let loaded_before = relay.metric("shoal_relay_documents_loaded");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut ws = open(&relay).await;
        assert!(matches!(
            hello(&mut ws, &token).await,
            RelayMessage::Welcome { .. }
        ));
        let ask = automerge::AutoCommit::new()
            .sync()
            .generate_sync_message(&mut automerge::sync::State::new())
            .unwrap()
            .encode();
        for i in 0..500u32 {
            let frame = encode(&ClientMessage::Sync {
                doc: format!("conv/{i:032x}"),
                data: ask.clone(),
                restart: true,
            });
            ws.send(Message::Binary(frame.into())).await.unwrap();
        }
        // Every one is answered (an empty document's state).
        let mut answered = 0;
        while answered < 500 {
            match next(&mut ws).await {
                Some(RelayMessage::Sync { .. }) => answered += 1,
                Some(RelayMessage::Presence { .. }) => {}
                other => panic!("{other:?}"),
            }
        }
    });
    let loaded = relay.metric("shoal_relay_documents_loaded");
    assert!(
        loaded < loaded_before + 10.0,
        "{loaded} documents loaded (was {loaded_before})"
    );
}

/// A raw client's copy of one document, kept in step with the relay.
struct RawDoc {
    id: String,
    doc: automerge::AutoCommit,
    state: automerge::sync::State,
}

impl RawDoc {
    /// Fetches `id` from the relay.
    async fn fetch(ws: &mut Ws, id: &str) -> RawDoc {
        let mut raw = RawDoc {
            id: id.to_owned(),
            doc: automerge::AutoCommit::new(),
            state: automerge::sync::State::new(),
        };
        raw.push(ws, true).await;
        loop {
            match next(ws).await {
                Some(RelayMessage::Sync { doc, data }) if doc == id => {
                    use automerge::sync::SyncDoc;
                    let m = automerge::sync::Message::decode(&data).unwrap();
                    raw.doc
                        .sync()
                        .receive_sync_message(&mut raw.state, m)
                        .unwrap();
                    raw.push(ws, false).await;
                    let caught_up = raw.state.their_heads.as_ref() == Some(&raw.doc.get_heads());
                    if caught_up && !raw.doc.get_heads().is_empty() {
                        return raw;
                    }
                }
                Some(RelayMessage::Error { code, message }) => panic!("{code}: {message}"),
                Some(_) => {}
                None => panic!("closed"),
            }
        }
    }

    /// Sends what the relay lacks; false when there was nothing to send.
    async fn push(&mut self, ws: &mut Ws, restart: bool) -> bool {
        use automerge::sync::SyncDoc;
        let Some(m) = self.doc.sync().generate_sync_message(&mut self.state) else {
            return false;
        };
        let frame = encode(&ClientMessage::Sync {
            doc: self.id.clone(),
            data: m.encode(),
            restart,
        });
        ws.send(Message::Binary(frame.into())).await.unwrap();
        true
    }

    /// Sends the local changes; the relay's verdict: the sequence it stored
    /// them at, or the error it answered.
    async fn offer(&mut self, ws: &mut Ws) -> Result<u64, (ErrorCode, String)> {
        assert!(self.push(ws, false).await, "something to send");
        loop {
            match next(ws).await {
                Some(RelayMessage::Ack { doc, seq }) if doc == self.id => return Ok(seq),
                Some(RelayMessage::Error { code, message }) => return Err((code, message)),
                // The relay may first ask what it lacks: keep the exchange
                // going until the changes reach it.
                Some(RelayMessage::Sync { doc, data }) if doc == self.id => {
                    use automerge::sync::SyncDoc;
                    let m = automerge::sync::Message::decode(&data).unwrap();
                    self.doc
                        .sync()
                        .receive_sync_message(&mut self.state, m)
                        .unwrap();
                    self.push(ws, false).await;
                }
                Some(_) => {}
                None => panic!("closed"),
            }
        }
    }
}

/// A connection logged in with `token`, and its agent's id.
async fn logged_in(relay: &Relay, token: &str) -> (Ws, String) {
    let mut ws = open(relay).await;
    match hello(&mut ws, token).await {
        RelayMessage::Welcome { agent_id, .. } => (ws, agent_id),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_relay_refuses_changes_made_in_someone_elses_name() {
    // Before: any token could write anything into its team's documents.
    use shoal_core::{
        AgentId, BusinessHours, ConversationDoc, Ctx, Document, SendGuard, TeamDoc, Timestamp,
    };
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let ana_token = relay.agent(&team, "Ana", "ana@northwind.example");
    let ben_token = relay.agent(&team, "Ben", "ben@northwind.example");
    let cleo: Value = serde_json::from_str(&relay.admin(&[
        "agent",
        "add",
        "--team",
        &team,
        "--name",
        "Cleo",
        "--email",
        "cleo@northwind.example",
        "--role",
        "admin",
        "--json",
    ]))
    .unwrap();
    let cleo_token = cleo["token"].as_str().unwrap().to_owned();
    let ana = Client::new();
    let ana_id = ana.login(&relay, &ana_token)["agent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let conv = ana.new_conversation("m@acme.example", "Refund", "Charged twice");
    ana.sync();
    let doc_id = format!("conv/{conv}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (mut ben, ben_id) = logged_in(&relay, &ben_token).await;
        let at = |agent: &str| Ctx::new(AgentId::parse(agent).unwrap(), Timestamp(5_000));

        // 1. Ben's client writes with Ana's Automerge actor.
        let mut copy = RawDoc::fetch(&mut ben, &doc_id).await;
        let ana_actor = copy.doc.get_changes(&[])[0].actor_id().clone();
        let mut c = ConversationDoc::from_automerge(copy.doc.clone()).unwrap();
        c.automerge_mut().set_actor(ana_actor);
        c.add_note(&at(&ben_id), "Written with Ana's actor", &[])
            .unwrap();
        copy.doc = c.into_automerge();
        let (code, message) = copy.offer(&mut ben).await.unwrap_err();
        assert_eq!(code, ErrorCode::Forbidden, "{message}");
        assert!(message.contains("another agent's device"), "{message}");

        // 2. With his own actor, a reply in Ana's name.
        // A fresh connection: nothing of the refused exchange is in flight.
        ben = logged_in(&relay, &ben_token).await.0;
        let mut copy = RawDoc::fetch(&mut ben, &doc_id).await;
        let mut c = ConversationDoc::from_automerge(copy.doc.clone()).unwrap();
        c.automerge_mut().set_actor(automerge::ActorId::random());
        c.add_reply(
            &at(&ana_id),
            "Forged refund promise",
            None,
            SendGuard::Force,
        )
        .unwrap();
        copy.doc = c.into_automerge();
        let (code, message) = copy.offer(&mut ben).await.unwrap_err();
        assert_eq!(code, ErrorCode::Forbidden, "{message}");
        assert!(
            message.contains(&format!("must name {ben_id}")),
            "{message}"
        );

        // 3. A non-admin changes the team's business hours; an admin may.
        let night = BusinessHours {
            start_minute: 0,
            ..Default::default()
        };
        let team_doc = format!("team/{team}");
        // A fresh connection: nothing of the refused exchange is in flight.
        ben = logged_in(&relay, &ben_token).await.0;
        let mut copy = RawDoc::fetch(&mut ben, &team_doc).await;
        let mut t = TeamDoc::from_automerge(copy.doc.clone()).unwrap();
        t.automerge_mut().set_actor(automerge::ActorId::random());
        t.set_business_hours(&at(&ben_id), &night).unwrap();
        copy.doc = t.into_automerge();
        let (code, message) = copy.offer(&mut ben).await.unwrap_err();
        assert_eq!(code, ErrorCode::Forbidden, "{message}");
        assert!(message.contains("admin"), "{message}");
        // Nor a support tier that would raise his customers' priority.
        ben = logged_in(&relay, &ben_token).await.0;
        let mut copy = RawDoc::fetch(&mut ben, &team_doc).await;
        let mut t = TeamDoc::from_automerge(copy.doc.clone()).unwrap();
        t.automerge_mut().set_actor(automerge::ActorId::random());
        t.set_tier(&at(&ben_id), "vip", shoal_core::Priority::Urgent)
            .unwrap();
        copy.doc = t.into_automerge();
        let (code, message) = copy.offer(&mut ben).await.unwrap_err();
        assert_eq!(code, ErrorCode::Forbidden, "{message}");
        assert!(message.contains("tiers"), "{message}");
        let (mut cleo, cleo_id) = logged_in(&relay, &cleo_token).await;
        let mut copy = RawDoc::fetch(&mut cleo, &team_doc).await;
        let mut t = TeamDoc::from_automerge(copy.doc.clone()).unwrap();
        t.automerge_mut().set_actor(automerge::ActorId::random());
        t.set_business_hours(&at(&cleo_id), &night).unwrap();
        copy.doc = t.into_automerge();
        assert!(copy.offer(&mut cleo).await.is_ok(), "an admin may");

        // 4. Ben's own reply, in his name, with his own actor, is taken.
        // A fresh connection: nothing of the refused exchange is in flight.
        ben = logged_in(&relay, &ben_token).await.0;
        let mut copy = RawDoc::fetch(&mut ben, &doc_id).await;
        let mut c = ConversationDoc::from_automerge(copy.doc.clone()).unwrap();
        c.automerge_mut().set_actor(automerge::ActorId::random());
        c.add_note(&at(&ben_id), "Ben's own note", &[]).unwrap();
        copy.doc = c.into_automerge();
        assert!(copy.offer(&mut ben).await.is_ok());
    });
    // Nothing refused reached Ana; Ben's own note did.
    ana.sync();
    let shown = ana.json(&["show", &conv, "--no-mark-seen"]).to_string();
    assert!(shown.contains("Ben's own note"), "{shown}");
    for forged in ["Written with Ana's actor", "Forged refund promise"] {
        assert!(!shown.contains(forged), "{forged} reached Ana");
    }
    let settings = ana.json(&["team", "show"]);
    assert_eq!(settings["tiers"], serde_json::json!({}), "{settings}");
    assert_eq!(
        settings["business_hours"]["start_minute"], 0,
        "the admin's change"
    );
}

#[test]
fn a_revoked_agent_is_cut_off_even_while_a_write_to_it_blocks() {
    // Before: the 'revoked' close went through the connection's queue, and
    // the connection waited on its blocked write: a stalled client stayed
    // connected until the write timeout (here a minute).
    let relay = Relay::start_with(&["--write-timeout-secs", "60"]);
    let team = relay.team("Northwind");
    let ana_token = relay.agent(&team, "Ana", "ana@northwind.example");
    let ben_token = relay.agent(&team, "Ben", "ben@northwind.example");
    let ana = Client::new();
    ana.login(&relay, &ana_token);
    let conv = ana.new_conversation("m@acme.example", "A long story", &random_text(100_000, 11));
    ana.sync();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stalled = rt.block_on(stop_reading(
        &relay,
        &ben_token,
        &format!("conv/{conv}"),
        Duration::from_secs(3),
    ));
    assert_eq!(relay.metric("shoal_relay_connections"), 1.0);
    relay.admin(&["agent", "revoke", "ben@northwind.example"]);
    assert!(
        eventually(Duration::from_millis(1500), || {
            relay.metric("shoal_relay_connections") == 0.0
        }),
        "the stalled, revoked connection was closed at once"
    );
    assert_eq!(relay.metric("shoal_relay_slow_clients_cut_total"), 0.0);
    drop(stalled);
}

#[test]
fn an_entry_text_over_the_limit_is_refused_from_a_client() {
    // Clients refuse to write such a text (shoal_core::MAX_BODY_BYTES); before,
    // the relay took one from a client that wrote it anyway.
    use automerge::transaction::Transactable;
    use automerge::ReadDoc;
    use shoal_core::{AgentId, ConversationDoc, Ctx, Document, Timestamp};
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let token = relay.agent(&team, "Ana", "ana@northwind.example");
    let ana = Client::new();
    ana.login(&relay, &token);
    let conv = ana.new_conversation("m@acme.example", "Refund", "Charged twice");
    ana.sync();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (mut ws, ana_id) = logged_in(&relay, &token).await;
        let mut copy = RawDoc::fetch(&mut ws, &format!("conv/{conv}")).await;
        let mut c = ConversationDoc::from_automerge(copy.doc.clone()).unwrap();
        c.automerge_mut().set_actor(automerge::ActorId::random());
        let at = Ctx::new(AgentId::parse(&ana_id).unwrap(), Timestamp(5_000));
        c.add_note(&at, "short", &[]).unwrap();
        let mut doc = c.into_automerge();
        let (_, entries) = doc.get(automerge::ROOT, "entries").unwrap().unwrap();
        let last = doc.length(&entries) - 1;
        let (_, note) = doc.get(&entries, last).unwrap().unwrap();
        doc.put(&note, "body", "x".repeat(shoal_core::MAX_BODY_BYTES + 1))
            .unwrap();
        copy.doc = doc;
        let (code, message) = copy.offer(&mut ws).await.unwrap_err();
        assert_eq!(code, ErrorCode::LimitExceeded, "{message}");
    });
    ana.sync();
    let entries = ana.json(&["show", &conv, "--no-mark-seen"])["conversation"]["entries"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(entries, 1, "nothing of it was stored");
}

#[test]
fn a_client_that_never_finishes_its_request_headers_is_closed() {
    // Before: axum::serve ran hyper without a timer, so a connection that
    // sent half a request stayed open for ever (a slowloris).
    use std::io::{Read, Write};
    let relay = Relay::start_with(&["--header-timeout-secs", "1"]);
    let addr = relay.url.trim_start_matches("ws://").to_owned();
    let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
    tcp.write_all(b"GET /v1/sync HTTP/1.1\r\nHost: relay\r\n")
        .unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tcp.read_to_end(&mut answer);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "closed after {:?} ({read:?})",
        started.elapsed()
    );
    assert!(
        read.is_ok() || matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "{read:?}"
    );
    // Everyone else is served as before.
    assert!(relay.http_get("/healthz").contains("200 OK"));
}

/// The next message that is not presence (snapshots may come any time).
async fn next_not_presence(ws: &mut Ws) -> Option<RelayMessage> {
    loop {
        match next(ws).await {
            Some(RelayMessage::Presence { .. }) => continue,
            other => return other,
        }
    }
}

/// Protocol growth without lock-out: a client of the first release (its
/// hello has no capabilities) is welcomed and served as before, and learns
/// what this relay understands; a newer client's message of a type this
/// relay does not know gets the non-fatal `unsupported-message`, and the
/// connection goes on; a version out of range is still refused.
#[test]
fn neighbouring_releases_keep_working_with_what_both_understand() {
    // Frames as those releases write them (CBOR maps, fields by name).
    let first_release_hello = |protocol: u16, token: &str| {
        encode(&serde_json::json!({
            "type": "hello", "protocol": protocol, "token": token, "client": "shoal 0.1",
        }))
    };
    let relay = Relay::start();
    let team = relay.team("Northwind");
    let token = relay.agent(&team, "Ana", "ana@northwind.example");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut old = open(&relay).await;
        let hello = first_release_hello(1, &token);
        old.send(Message::Binary(hello.into())).await.unwrap();
        match next(&mut old).await {
            Some(RelayMessage::Welcome { capabilities, .. }) => {
                assert!(capabilities.iter().any(|c| c == "unsupported-message"))
            }
            other => panic!("expected welcome, got {other:?}"),
        }
        let ask = encode(&ClientMessage::ChangedSince { cursor: 0 });
        old.send(Message::Binary(ask.clone().into())).await.unwrap();
        assert!(matches!(
            next_not_presence(&mut old).await,
            Some(RelayMessage::Changed { .. })
        ));

        // A newer client tries a message this relay does not know.
        let future = encode(&serde_json::json!({
            "type": "fetch-attachment", "hash": "9f86d081884c7d659a2feaa0c55ad015",
        }));
        old.send(Message::Binary(future.into())).await.unwrap();
        match next_not_presence(&mut old).await {
            Some(RelayMessage::Error { code, message }) => {
                assert_eq!(code, ErrorCode::UnsupportedMessage);
                assert!(!code.is_fatal());
                assert!(message.contains("fetch-attachment"), "{message}");
            }
            other => panic!("expected unsupported-message, got {other:?}"),
        }
        old.send(Message::Binary(ask.into())).await.unwrap();
        assert!(
            matches!(
                next_not_presence(&mut old).await,
                Some(RelayMessage::Changed { .. })
            ),
            "the connection goes on"
        );

        let mut too_old = open(&relay).await;
        let hello = first_release_hello(0, &token);
        too_old.send(Message::Binary(hello.into())).await.unwrap();
        expect_error_and_close(&mut too_old, ErrorCode::UnsupportedVersion).await;
    });
}
