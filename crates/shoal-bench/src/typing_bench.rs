//! Typing load: many agents typing into customer notes at once, each
//! keystroke a change. Agents work in pairs on one customer's notes (both
//! viewing and typing, 6 characters a second each); each measures how long
//! its partner's keystrokes take to arrive. Every other connection of the
//! team gets coalesced `changed` notices for those customers and, like a
//! client not viewing them, does not fetch them meanwhile.
//!
//! Steps up the number of agents until the p99 propagation exceeds the
//! target or keystrokes go missing; the figure is the largest count held.

use crate::measure::{ms, percentile};
use crate::relay_bench::{connect, recv, Agent, RelayProcess};
use anyhow::{Context, Result};
use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, ChangeHash, ReadDoc};
use serde::Serialize;
use shoal_core::{Ctx, CustomerDoc, DocId, Document, NewCustomer, Timestamp};
use shoal_protocol::RelayMessage;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Characters each agent types per second.
const CHARS_PER_SECOND: u64 = 6;
/// The p99 propagation a step must stay under to count as held.
const TARGET_P99_MS: f64 = 100.0;
/// Share of keystrokes that must arrive for a step to count as held.
const MIN_DELIVERED: f64 = 0.99;

/// One step of the ladder.
#[derive(Serialize)]
pub(crate) struct TypingStep {
    agents: usize,
    keystrokes: usize,
    /// Keystrokes that reached the partner (within the step plus 2 s).
    delivered: usize,
    /// Keystroke → the frame carrying it arrives at the partner.
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Keystroke → applied in the partner's document.
    applied_p99_ms: f64,
    relay_rss_mib: Option<f64>,
    held: bool,
}

/// Figures of the typing benchmark.
#[derive(Serialize)]
pub(crate) struct Typing {
    seconds_per_step: u64,
    chars_per_second: u64,
    steps: Vec<TypingStep>,
    /// The most agents held with p99 < 100 ms and every keystroke delivered.
    largest_held: usize,
    target_agents: usize,
    target_p99_ms: f64,
}

/// When each keystroke was typed, by change hash.
type Sent = Arc<Mutex<HashMap<ChangeHash, Instant>>>;
/// (arrived, applied) latencies.
type Latencies = Arc<Mutex<Vec<(Duration, Duration)>>>;

/// Runs the ladder against `relay`; `tokens` are used round-robin.
pub(crate) fn run(
    rt: &tokio::runtime::Runtime,
    relay: &RelayProcess,
    tokens: &[String],
    ladder: &[usize],
    seconds: u64,
) -> Result<Typing> {
    let mut steps = Vec::new();
    for &agents in ladder {
        let agents = agents.max(2) & !1;
        eprintln!("  typing: {agents} agents for {seconds} s");
        let step = rt.block_on(step(relay, tokens, agents, seconds))?;
        let held = step.held;
        steps.push(step);
        if !held {
            break;
        }
    }
    let largest_held = steps
        .iter()
        .filter(|s| s.held)
        .map(|s| s.agents)
        .max()
        .unwrap_or(0);
    Ok(Typing {
        seconds_per_step: seconds,
        chars_per_second: CHARS_PER_SECOND,
        steps,
        largest_held,
        target_agents: 200,
        target_p99_ms: TARGET_P99_MS,
    })
}

async fn step(
    relay: &RelayProcess,
    tokens: &[String],
    agents: usize,
    seconds: u64,
) -> Result<TypingStep> {
    let now = Timestamp(1_780_000_000_000);
    let ctx = Ctx::new(shoal_core::AgentId::parse("typist")?, now);
    // Pairs: the first creates the customer, the second fetches it.
    let mut pairs = Vec::new();
    for p in 0..agents / 2 {
        let (doc, id) = CustomerDoc::create(
            automerge::ActorId::random(),
            &ctx,
            NewCustomer {
                name: format!("Customer {p}"),
                emails: vec![format!("c{p}@typing.example")],
                ..Default::default()
            },
        )?;
        let doc_id = DocId::customer(&id).to_string();
        let mut first = Agent {
            ws: connect(&relay.addr, &tokens[(2 * p) % tokens.len()]).await?,
            doc: doc.into_automerge(),
            state: sync::State::new(),
            restart: true,
        };
        first.settle(&doc_id).await?;
        let mut second = Agent {
            ws: connect(&relay.addr, &tokens[(2 * p + 1) % tokens.len()]).await?,
            doc: AutoCommit::new(),
            state: sync::State::new(),
            restart: true,
        };
        second.settle(&doc_id).await?;
        second.doc.set_actor(automerge::ActorId::random());
        pairs.push((doc_id, first, second));
    }
    let sent: Sent = Arc::default();
    let latencies: Latencies = Arc::default();
    let typed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(200);
    let until = start + Duration::from_secs(seconds);
    let drain = until + Duration::from_secs(2);
    let mut tasks = Vec::new();
    let interval = Duration::from_micros(1_000_000 / CHARS_PER_SECOND);
    for (i, (doc_id, a, b)) in pairs.into_iter().enumerate() {
        for (j, agent) in [a, b].into_iter().enumerate() {
            // Spread the agents' keystrokes over the interval.
            let phase = interval.mul_f64(((2 * i + j) % agents) as f64 / agents as f64);
            tasks.push(tokio::spawn(typist(
                agent,
                doc_id.clone(),
                ctx.clone(),
                (start + phase, until, drain),
                interval,
                (sent.clone(), latencies.clone(), typed.clone()),
            )));
        }
    }
    let rss_at = until - Duration::from_secs(seconds / 2);
    tokio::time::sleep_until(rss_at.into()).await;
    let relay_rss_mib = relay.rss_mib();
    for t in tasks {
        t.await.context("typist task")??;
    }
    let lat = latencies.lock().expect("latencies").clone();
    let arrived: Vec<Duration> = lat.iter().map(|l| l.0).collect();
    let applied: Vec<Duration> = lat.iter().map(|l| l.1).collect();
    let keystrokes = typed.load(std::sync::atomic::Ordering::Relaxed);
    let p99 = ms(percentile(&arrived, 99.0));
    let delivered = arrived.len();
    Ok(TypingStep {
        agents,
        keystrokes,
        delivered,
        p50_ms: ms(percentile(&arrived, 50.0)),
        p99_ms: p99,
        max_ms: ms(percentile(&arrived, 100.0)),
        applied_p99_ms: ms(percentile(&applied, 99.0)),
        relay_rss_mib,
        held: p99 < TARGET_P99_MS && delivered as f64 >= keystrokes as f64 * MIN_DELIVERED,
    })
}

/// One agent: types a character every `interval` from `first` until
/// `until`, applies its partner's keystrokes until `drain`.
async fn typist(
    mut agent: Agent,
    doc_id: String,
    ctx: Ctx,
    (first, until, drain): (Instant, Instant, Instant),
    interval: Duration,
    (sent, latencies, typed): (Sent, Latencies, Arc<std::sync::atomic::AtomicUsize>),
) -> Result<()> {
    let mut ticks = tokio::time::interval_at(first.into(), interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let notes = notes(&agent.doc)?;
    let mut position = agent.doc.length(&notes);
    loop {
        tokio::select! {
            at = ticks.tick(), if Instant::now() < until => {
                let mut doc = CustomerDoc::from_automerge(std::mem::take(&mut agent.doc))?;
                doc.splice_notes(&ctx, position, 0, "x")?;
                position += 1;
                agent.doc = doc.into_automerge();
                // A local change depends on all heads: it is the only head.
                let head = agent.doc.get_heads()[0];
                sent.lock().expect("sent").insert(head, at.into_std());
                typed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                agent.offer(&doc_id).await?;
            }
            message = recv(&mut agent.ws) => {
                let arrived = Instant::now();
                if let RelayMessage::Sync { data, .. } = message? {
                    let before = agent.doc.get_heads();
                    let message = sync::Message::decode(&data)?;
                    agent.doc.sync().receive_sync_message(&mut agent.state, message)?;
                    let applied = Instant::now();
                    // What this frame brought (changes or a document chunk).
                    let carried: Vec<ChangeHash> = agent
                        .doc
                        .get_changes(&before)
                        .iter()
                        .map(|c| c.hash())
                        .collect();
                    {
                        let mut sent = sent.lock().expect("sent");
                        let mut lat = latencies.lock().expect("latencies");
                        for hash in carried {
                            if let Some(typed_at) = sent.remove(&hash) {
                                lat.push((arrived - typed_at, applied - typed_at));
                            }
                        }
                    }
                    // Keep typing at the end (the text is ASCII: units are characters).
                    position = agent.doc.length(&notes);
                    agent.offer(&doc_id).await?;
                }
            }
            _ = tokio::time::sleep_until(drain.into()) => return Ok(()),
        }
    }
}

/// The notes text object of a customer document.
fn notes(doc: &AutoCommit) -> Result<automerge::ObjId> {
    match doc.get(automerge::ROOT, "notes")? {
        Some((automerge::Value::Object(_), id)) => Ok(id),
        _ => anyhow::bail!("customer document without notes"),
    }
}

impl Typing {
    pub(crate) fn print(&self) {
        println!(
            "typing load ({} chars/s per agent, {} s per step; targets p99 < {} ms with ≥ {} agents):",
            self.chars_per_second, self.seconds_per_step, self.target_p99_ms, self.target_agents
        );
        for s in &self.steps {
            println!(
                "  {:>4} agents: {:>6} keystrokes, {:>6} delivered, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, applied p99 {:.1} ms, relay RSS {} MiB{}",
                s.agents,
                s.keystrokes,
                s.delivered,
                s.p50_ms,
                s.p99_ms,
                s.max_ms,
                s.applied_p99_ms,
                s.relay_rss_mib.map_or("n/a".into(), |v| format!("{v:.0}")),
                if s.held { "" } else { "  ← not held" }
            );
        }
        println!("  largest number of agents held: {}", self.largest_held);
    }
}
