//! Relay benchmarks against a real `shoal-relay` process on 127.0.0.1:
//! propagation latency with many connected clients, and the relay's memory
//! with many idle connections. Clients speak the protocol directly (one
//! WebSocket each) so that one bench process can play many agents.

use crate::measure::{ms, percentile};
use anyhow::{bail, Context, Result};
use automerge::sync::{self, SyncDoc};
use automerge::AutoCommit;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use shoal_core::{
    Channel, ConversationDoc, ConversationId, Ctx, CustomerId, Document, NewConversation, Priority,
    Timestamp,
};
use shoal_protocol::{
    decode, encode, ClientMessage, RelayMessage, MAX_FRAME_BYTES, PROTOCOL_VERSION,
};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A relay process with a temporary data directory.
pub(crate) struct RelayProcess {
    child: Child,
    pub(crate) data: PathBuf,
    pub(crate) addr: String,
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn relay_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name("shoal-relay");
    if !path.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p shoal-relay`",
            path.display()
        );
    }
    Ok(path)
}

fn admin(data: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(relay_binary()?)
        .arg("--data")
        .arg(data)
        .args(args)
        .output()?;
    if !out.status.success() {
        bail!(
            "shoal-relay {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// A new relay data directory (`name` tells runs apart) with one team;
/// returns the directory and the team id.
pub(crate) fn create_relay(name: &str) -> Result<(PathBuf, String)> {
    let data =
        std::env::temp_dir().join(format!("shoal-relay-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    admin(&data, &["init"])?;
    let team: serde_json::Value =
        serde_json::from_str(&admin(&data, &["team", "create", "Bench", "--json"])?)?;
    let team = team["id"].as_str().context("team id")?.to_owned();
    Ok((data, team))
}

/// Adds agent number `n` to `team`; returns its token and agent id.
pub(crate) fn add_agent(data: &Path, team: &str, n: usize) -> Result<(String, String)> {
    let email = format!("agent{n}@bench.example");
    let v: serde_json::Value = serde_json::from_str(&admin(
        data,
        &[
            "agent",
            "add",
            "--team",
            team,
            "--name",
            &format!("Agent {n}"),
            "--email",
            &email,
            "--json",
        ],
    )?)?;
    Ok((
        v["token"].as_str().context("token")?.to_owned(),
        v["agent"]["id"].as_str().context("agent id")?.to_owned(),
    ))
}

impl RelayProcess {
    /// Serves the relay of `data` on a free loopback port.
    pub(crate) fn serve(data: PathBuf) -> Result<RelayProcess> {
        let mut child = Command::new(relay_binary()?)
            .arg("--data")
            .arg(&data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("SHOAL_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("relay stdout")?).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .context("relay banner")?
            .to_owned();
        Ok(RelayProcess { child, data, addr })
    }

    fn start() -> Result<(RelayProcess, String)> {
        let (data, team) = create_relay("main")?;
        Ok((RelayProcess::serve(data)?, team))
    }

    pub(crate) fn token(&self, team: &str, n: usize) -> Result<String> {
        Ok(add_agent(&self.data, team, n)?.0)
    }

    pub(crate) fn rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    }
}

pub(crate) async fn connect(addr: &str, token: &str) -> Result<Ws> {
    Ok(connect_as(addr, token).await?.0)
}

/// [`connect`], with the id of the agent the token belongs to: what it
/// writes must name that agent (the relay refuses anything else).
pub(crate) async fn connect_as(addr: &str, token: &str) -> Result<(Ws, String)> {
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/v1/sync"), None, true)
            .await?;
    let hello = ClientMessage::Hello {
        protocol: PROTOCOL_VERSION,
        token: token.into(),
        client: "bench".into(),
        capabilities: Vec::new(),
    };
    ws.send(Message::Binary(encode(&hello).into())).await?;
    match recv(&mut ws).await? {
        RelayMessage::Welcome { agent_id, .. } => Ok((ws, agent_id)),
        other => bail!("expected welcome, got {other:?}"),
    }
}

pub(crate) async fn recv(ws: &mut Ws) -> Result<RelayMessage> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => return Ok(decode(&b, MAX_FRAME_BYTES)?),
            Some(Ok(_)) => continue,
            Some(Err(e)) => bail!("connection: {e}"),
            None => bail!("the relay closed the connection"),
        }
    }
}

/// A simulated agent syncing one document.
pub(crate) struct Agent {
    pub(crate) ws: Ws,
    pub(crate) doc: AutoCommit,
    pub(crate) state: sync::State,
    pub(crate) restart: bool,
}

impl Agent {
    pub(crate) async fn offer(&mut self, doc_id: &str) -> Result<()> {
        if let Some(m) = self.doc.sync().generate_sync_message(&mut self.state) {
            let msg = ClientMessage::Sync {
                doc: doc_id.into(),
                data: m.encode(),
                restart: std::mem::take(&mut self.restart),
            };
            self.ws.send(Message::Binary(encode(&msg).into())).await?;
        }
        Ok(())
    }

    /// Exchanges sync messages until this agent and the relay agree.
    pub(crate) async fn settle(&mut self, doc_id: &str) -> Result<()> {
        self.offer(doc_id).await?;
        loop {
            let ours = self.doc.get_heads();
            if self.state.their_heads.as_ref() == Some(&ours) {
                return Ok(());
            }
            if let RelayMessage::Sync { data, .. } =
                tokio::time::timeout(Duration::from_secs(10), recv(&mut self.ws)).await??
            {
                self.doc
                    .sync()
                    .receive_sync_message(&mut self.state, sync::Message::decode(&data)?)?;
                self.offer(doc_id).await?;
            }
        }
    }
}

/// Figures of the propagation benchmark.
#[derive(Serialize)]
struct Propagation {
    clients: usize,
    changes: usize,
    samples: usize,
    /// Send → the frame carrying the change arrives at a reader.
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Send → the change applied in the reader's document.
    applied_p50_ms: f64,
    applied_p99_ms: f64,
    target_p50_ms: f64,
    target_p99_ms: f64,
}

/// Figures of the idle-clients benchmark.
#[derive(Serialize)]
struct IdleMemory {
    clients: usize,
    relay_rss_before_mib: Option<f64>,
    relay_rss_mib: Option<f64>,
    target_mib: f64,
}

/// Figures of the offline-convergence benchmark.
#[derive(Serialize)]
struct Convergence {
    conversations: usize,
    edits_per_agent: usize,
    /// Both agents reconnect and sync until both hold everything.
    converge_ms: f64,
    identical: bool,
    target_ms: f64,
}

#[derive(Serialize)]
struct Figures {
    benchmark: &'static str,
    build: &'static str,
    propagation: Propagation,
    convergence: Option<Convergence>,
    typing: Option<crate::typing_bench::Typing>,
    reconnect: Option<crate::reconnect_bench::Reconnect>,
    idle_memory: IdleMemory,
}

/// What to run, and how big.
pub struct RelayOptions {
    /// Connected clients during the propagation measurement.
    pub clients: usize,
    /// Changes sent by the writing client.
    pub changes: usize,
    /// Conversations in the offline-convergence measurement (0 skips it).
    pub conversations: usize,
    /// Offline edits per agent there.
    pub edits: usize,
    /// Agent counts of the typing ladder (empty skips it).
    pub typing: Vec<usize>,
    /// Seconds per typing step.
    pub typing_seconds: u64,
    /// Conversations of the reconnect measurement's team (0 skips it).
    pub team_conversations: usize,
    /// Conversations another agent changes before each reconnect.
    pub changed: usize,
    /// Reconnects measured.
    pub reconnects: usize,
    /// Idle connections for the memory measurement.
    pub idle_clients: usize,
}

/// Runs the relay benchmarks and writes their figures.
pub fn run(o: &RelayOptions, out: &Path) -> Result<()> {
    raise_fd_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (relay, team) = RelayProcess::start()?;
    let writer_token = relay.token(&team, 0)?;
    let reader_token = relay.token(&team, 1)?;
    let propagation = rt.block_on(propagation(
        &relay.addr,
        &writer_token,
        &reader_token,
        o.clients,
        o.changes,
    ))?;
    let convergence = if o.conversations > 0 {
        Some(convergence(&rt, &relay, &team, o.conversations, o.edits)?)
    } else {
        None
    };
    let typing = if o.typing.is_empty() {
        None
    } else {
        let tokens = [relay.token(&team, 30)?, relay.token(&team, 31)?];
        Some(crate::typing_bench::run(
            &rt,
            &relay,
            &tokens,
            &o.typing,
            o.typing_seconds,
        )?)
    };
    let before = relay.rss_mib();
    let idle_memory = rt.block_on(idle(&relay, &reader_token, o.idle_clients, before))?;
    drop(relay);
    let reconnect = if o.team_conversations > 0 {
        Some(crate::reconnect_bench::run(
            &rt,
            o.team_conversations,
            o.changed,
            o.reconnects,
        )?)
    } else {
        None
    };
    let figures = Figures {
        benchmark: "relay",
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        propagation,
        convergence,
        typing,
        reconnect,
        idle_memory,
    };
    print(&figures);
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(out, serde_json::to_string_pretty(&figures)? + "\n")?;
    eprintln!("figures written to {}", out.display());
    Ok(())
}

fn print(figures: &Figures) {
    println!("\nrelay benchmark ({} build)", figures.build);
    let p = &figures.propagation;
    println!("propagation A → relay → {} other clients, {} changes: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (targets p50 < 5 ms, p99 < 20 ms); applied in the reader: p50 {:.2} ms, p99 {:.2} ms", p.clients - 1, p.changes, p.p50_ms, p.p99_ms, p.max_ms, p.applied_p50_ms, p.applied_p99_ms);
    if let Some(c) = &figures.convergence {
        println!(
            "two agents × {} offline edits over {} conversations: converged in {:.0} ms after reconnecting (target < 1000 ms), identical: {}",
            c.edits_per_agent, c.conversations, c.converge_ms, c.identical
        );
    }
    if let Some(t) = &figures.typing {
        t.print();
    }
    if let Some(r) = &figures.reconnect {
        r.print();
    }
    let m = &figures.idle_memory;
    println!(
        "relay RSS with {} idle clients: {} MiB (before connecting: {} MiB; target < 300 MB)",
        m.clients,
        m.relay_rss_mib.map_or("n/a".into(), |v| format!("{v:.0}")),
        m.relay_rss_before_mib
            .map_or("n/a".into(), |v| format!("{v:.0}"))
    );
}

async fn propagation(
    addr: &str,
    writer_token: &str,
    reader_token: &str,
    clients: usize,
    changes: usize,
) -> Result<Propagation> {
    let now = Timestamp(1_780_000_000_000);
    let (writer_ws, writer_id) = connect_as(addr, writer_token).await?;
    let ctx = Ctx::new(shoal_core::AgentId::parse(&writer_id)?, now);
    let id = ConversationId::random();
    let new = NewConversation {
        id: id.clone(),
        subject: "Propagation".into(),
        channel: Channel::Email,
        customer: CustomerId::random(),
        body: "Hello".into(),
        received_at: now,
        headers: Default::default(),
        priority: Priority::Normal,
    };
    let (doc, _) = ConversationDoc::create(automerge::ActorId::random(), &ctx, new)?;
    let doc_id = format!("conv/{id}");
    let mut writer = Agent {
        ws: writer_ws,
        doc: doc.into_automerge(),
        state: sync::State::new(),
        restart: true,
    };
    writer.settle(&doc_id).await?;
    let mut readers = Vec::new();
    for _ in 1..clients {
        let mut r = Agent {
            ws: connect(addr, reader_token).await?,
            doc: AutoCommit::new(),
            state: sync::State::new(),
            restart: true,
        };
        r.settle(&doc_id).await?;
        readers.push(r);
    }
    // Each reader measures arrivals on its own task; the writer stamps sends.
    // Each reader stamps a change twice: when the frame carrying it arrived
    // (the relay's propagation), and once applied to its document (the 49
    // simulated readers share this machine's cores, so applying queues up
    // behind the other readers; a real client applies on its own machine).
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant, Instant)>();
    let mut tasks = Vec::new();
    for mut r in readers {
        let tx = tx.clone();
        let doc_id = doc_id.clone();
        tasks.push(tokio::spawn(async move {
            let mut received = 0;
            while received < changes {
                let Ok(Ok(message)) =
                    tokio::time::timeout(Duration::from_secs(30), recv(&mut r.ws)).await
                else {
                    break;
                };
                let arrived = Instant::now();
                if let RelayMessage::Sync { data, .. } = message {
                    // Applying (~0.25 ms for one note with Automerge) runs
                    // off the reactor threads, so that 49 simulated clients
                    // sharing two cores do not delay each other's reads:
                    // each real client applies on its own machine.
                    let (mut doc, mut state) =
                        (std::mem::take(&mut r.doc), std::mem::take(&mut r.state));
                    let applied = tokio::task::spawn_blocking(move || {
                        let before = doc.get_heads();
                        let m = sync::Message::decode(&data).ok()?;
                        doc.sync().receive_sync_message(&mut state, m).ok()?;
                        let new = doc.get_changes(&before).len();
                        Some((doc, state, new))
                    })
                    .await;
                    let Ok(Some((doc, state, new))) = applied else {
                        break;
                    };
                    (r.doc, r.state) = (doc, state);
                    let applied = Instant::now();
                    for _ in 0..new {
                        received += 1;
                        let _ = tx.send((received, arrived, applied));
                    }
                    let _ = r.offer(&doc_id).await;
                }
            }
        }));
    }
    drop(tx);
    let mut sent_at = Vec::with_capacity(changes);
    let mut writer_doc = ConversationDoc::from_automerge(std::mem::take(&mut writer.doc))?;
    for i in 0..changes {
        writer_doc.add_note(&ctx, &format!("note {i}"), &[])?;
        writer.doc = writer_doc.into_automerge();
        sent_at.push(Instant::now());
        writer.offer(&doc_id).await?;
        // Drain the relay's answers (ack, sync) so the writer stays in sync.
        while let Ok(Ok(m)) =
            tokio::time::timeout(Duration::from_millis(2), recv(&mut writer.ws)).await
        {
            if let RelayMessage::Sync { data, .. } = m {
                writer
                    .doc
                    .sync()
                    .receive_sync_message(&mut writer.state, sync::Message::decode(&data)?)?;
            }
        }
        writer_doc = ConversationDoc::from_automerge(std::mem::take(&mut writer.doc))?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (mut latencies, mut applied_latencies) = (Vec::new(), Vec::new());
    while let Some((n, arrived, applied)) = rx.recv().await {
        if let Some(sent) = sent_at.get(n - 1) {
            latencies.push(arrived.saturating_duration_since(*sent));
            applied_latencies.push(applied.saturating_duration_since(*sent));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(Propagation {
        clients,
        changes,
        samples: latencies.len(),
        p50_ms: ms(percentile(&latencies, 50.0)),
        p99_ms: ms(percentile(&latencies, 99.0)),
        max_ms: ms(percentile(&latencies, 100.0)),
        applied_p50_ms: ms(percentile(&applied_latencies, 50.0)),
        applied_p99_ms: ms(percentile(&applied_latencies, 99.0)),
        target_p50_ms: 5.0,
        target_p99_ms: 20.0,
    })
}

async fn idle(
    relay: &RelayProcess,
    token: &str,
    n: usize,
    before: Option<f64>,
) -> Result<IdleMemory> {
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        sockets.push(connect(&relay.addr, token).await?);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = relay.rss_mib();
    drop(sockets);
    Ok(IdleMemory {
        clients: n,
        relay_rss_before_mib: before,
        relay_rss_mib: rss,
        target_mib: 300.0,
    })
}

/// A replica that joined the relay's team through `token`.
fn joined_replica(
    rt: &tokio::runtime::Runtime,
    relay: &RelayProcess,
    token: &str,
    name: &str,
) -> Result<(shoal_replica::Replica, shoal_sync::RelayConfig)> {
    let cfg = shoal_sync::RelayConfig {
        url: format!("ws://{}", relay.addr),
        token: token.to_owned(),
    };
    let (conn, welcome) = rt.block_on(shoal_sync::connect(&cfg))?;
    rt.block_on(conn.close());
    let path = relay.data.join(format!("{name}.sqlite3"));
    let replica = shoal_replica::Replica::create_empty(
        &path,
        &shoal_core::TeamId::parse(&welcome.team_id)?,
        &shoal_core::AgentId::parse(&welcome.agent_id)?,
        std::sync::Arc::new(shoal_replica::SystemClock),
    )?;
    Ok((replica, cfg))
}

fn views(r: &shoal_replica::Replica) -> Result<Vec<String>> {
    let mut out = Vec::new();
    r.export(&mut out, shoal_replica::ExportOptions { views_only: true })?;
    Ok(String::from_utf8(out)?
        .lines()
        .skip(1)
        .filter(|l| !l.contains("\"kind\":\"agent-private\""))
        .map(str::to_owned)
        .collect())
}

/// Two agents share `conversations` conversations, each makes `edits`
/// changes offline (notes, tags, priorities), then both reconnect: how long
/// until both hold everything.
fn convergence(
    rt: &tokio::runtime::Runtime,
    relay: &RelayProcess,
    team: &str,
    conversations: usize,
    edits: usize,
) -> Result<Convergence> {
    let timeout = Duration::from_secs(60);
    let (mut a, cfg_a) = joined_replica(rt, relay, &relay.token(team, 2)?, "a")?;
    let (mut b, cfg_b) = joined_replica(rt, relay, &relay.token(team, 3)?, "b")?;
    let mut ids = Vec::with_capacity(conversations);
    for i in 0..conversations {
        let customer = a.find_or_create_customer(&format!("c{i}@bench.example"), None)?;
        let (id, _) = a.new_conversation(shoal_replica::NewConversationInput {
            subject: format!("Conversation {i}"),
            channel: Channel::Email,
            customer,
            body: "Hello, I need help.".into(),
            priority: Some(Priority::Normal),
            received_at: None,
            headers: Default::default(),
        })?;
        ids.push(id);
    }
    rt.block_on(shoal_sync::sync_once(&mut a, &cfg_a, timeout))?;
    rt.block_on(shoal_sync::sync_once(&mut b, &cfg_b, timeout))?;
    eprintln!("  both agents hold {conversations} conversations; editing offline");
    // Offline: each agent edits conversations in its own deterministic order.
    for (agent, r) in [&mut a, &mut b].into_iter().enumerate() {
        for i in 0..edits {
            let id = &ids[(i * 7919 + agent * 31) % ids.len()];
            match i % 3 {
                0 => drop(r.note(id, &format!("agent {agent} note {i}"))?),
                1 => r.tag(id, &[format!("t{}", (i + agent) % 10)])?,
                _ => r.set_priority(id, Priority::ALL[(i + agent) % 4])?,
            }
        }
    }
    let started = Instant::now();
    let mut phases = Vec::new();
    for (r, cfg) in [(&mut a, &cfg_a), (&mut b, &cfg_b)] {
        let t = Instant::now();
        rt.block_on(shoal_sync::sync_once(r, cfg, timeout))?;
        phases.push(ms(t.elapsed()));
    }
    let t = Instant::now();
    rt.block_on(shoal_sync::sync_once(&mut a, &cfg_a, timeout))?;
    phases.push(ms(t.elapsed()));
    let converge = started.elapsed();
    eprintln!(
        "  phases (ms): A pushes {:.0}, B pushes and pulls {:.0}, A pulls {:.0}",
        phases[0], phases[1], phases[2]
    );
    Ok(Convergence {
        conversations,
        edits_per_agent: edits,
        converge_ms: ms(converge),
        identical: views(&a)? == views(&b)?,
        target_ms: 1000.0,
    })
}

/// Many sockets need many file descriptors: raise the soft limit to the hard
/// one (the relay child inherits it).
fn raise_fd_limit() {
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
