//! Reconnect cost of a large team: a replica of a team with tens of
//! thousands of conversations reconnects after another agent changed a few
//! of them. What it costs should follow what changed, not what exists.
//!
//! The relay's store and the replica are seeded directly with the same
//! generated documents (syncing 50,000 documents first would only measure
//! that), the replica's feed cursor set to the relay's head, as after a sync.

use crate::measure::{ms, percentile};
use crate::relay_bench::{add_agent, connect, create_relay, Agent, RelayProcess};
use anyhow::{bail, Context, Result};
use automerge::sync;
use serde::Serialize;
use shoal_core::{
    Channel, ConversationDoc, ConversationId, Ctx, CustomerId, DocId, Document, NewConversation,
    Priority, Timestamp,
};
use shoal_relay_store::{AppendItem, NewChange, RelayStore};
use std::time::{Duration, Instant};

/// Figures of the reconnect benchmark.
#[derive(Serialize)]
pub(crate) struct Reconnect {
    conversations: usize,
    changed_per_round: usize,
    rounds: usize,
    seed_s: f64,
    /// Median over rounds: connect, hello, catch up, until the replica holds
    /// every change.
    sync_ms: f64,
    sync_ms_max: f64,
    /// Median over rounds, WebSocket payloads both ways.
    bytes: u64,
    bytes_max: u64,
    target_ms: f64,
    target_bytes: u64,
}

const DOCS_PER_CHUNK: usize = 1000;

/// A conversation document like a first customer e-mail: its id, saved
/// bytes and changes.
fn conversation(ctx: &Ctx, i: usize) -> Result<(DocId, Vec<u8>, Vec<NewChange>)> {
    let id = ConversationId::random();
    let new = NewConversation {
        id: id.clone(),
        subject: format!("Order #{} arrived damaged", 10_000 + i),
        channel: Channel::Email,
        customer: CustomerId::random(),
        body: format!(
            "Hello, my order #{} arrived today but the box was crushed and the lid of the \
             kettle is cracked. I have photos if you need them. Could you send a replacement \
             or refund it? I would prefer a replacement, since it was a gift. Thanks, Sam",
            10_000 + i
        ),
        received_at: ctx.now,
        headers: Default::default(),
        priority: Priority::Normal,
    };
    let (doc, _) = ConversationDoc::create(automerge::ActorId::random(), ctx, new)?;
    let mut am = doc.into_automerge();
    let changes = am
        .get_changes(&[])
        .into_iter()
        .map(|mut c| NewChange {
            hash: c.hash().0.to_vec(),
            bytes: c.bytes().into_owned(),
        })
        .collect();
    Ok((DocId::conversation(&id), am.save(), changes))
}

/// Seeds a relay and a replica with `conversations`, then measures
/// `rounds` reconnects, each after another agent changed `changed` of them.
pub(crate) fn run(
    rt: &tokio::runtime::Runtime,
    conversations: usize,
    changed: usize,
    rounds: usize,
) -> Result<Reconnect> {
    if changed * rounds > conversations {
        bail!("{rounds} rounds of {changed} changed conversations need that many conversations");
    }
    let (data, team) = create_relay("reconnect")?;
    let (token_a, agent_a) = add_agent(&data, &team, 20)?;
    let (token_b, agent_b) = add_agent(&data, &team, 21)?;
    let seeding = Instant::now();
    let ctx = Ctx::new(
        shoal_core::AgentId::parse("seed")?,
        Timestamp(1_780_000_000_000),
    );
    let store = shoal_relay_sqlite::SqliteStore::open(&data.join("relay.sqlite3"))?;
    let mut replica = shoal_replica::Replica::create_empty(
        &data.join("a.sqlite3"),
        &shoal_core::TeamId::parse(&team)?,
        &shoal_core::AgentId::parse(&agent_a)?,
        std::sync::Arc::new(shoal_replica::SystemClock),
    )?;
    let mut to_change: Vec<(DocId, Vec<u8>)> = Vec::new();
    let mut done = 0;
    while done < conversations {
        let n = DOCS_PER_CHUNK.min(conversations - done);
        let mut items = Vec::with_capacity(n);
        let mut docs = Vec::with_capacity(n);
        for i in done..done + n {
            let (id, saved, changes) = conversation(&ctx, i)?;
            items.push(AppendItem {
                team_id: team.clone(),
                doc_id: id.to_string(),
                changes,
            });
            if to_change.len() < changed * rounds {
                to_change.push((id.clone(), saved.clone()));
            }
            docs.push((id, saved));
        }
        for result in store.append_batch(&items, 0) {
            result?;
        }
        replica.merge_documents(docs, DOCS_PER_CHUNK, &mut |_| {})?;
        done += n;
        eprint!("\r  seeding the relay and a replica: {done}/{conversations} conversations");
    }
    eprintln!();
    replica.set_sync_cursor(store.head(&team)?)?;
    drop(store);
    let seed_s = seeding.elapsed().as_secs_f64();
    let relay = RelayProcess::serve(data)?;
    let cfg = shoal_sync::RelayConfig {
        url: format!("ws://{}", relay.addr),
        token: token_a,
    };
    let timeout = Duration::from_secs(60);
    // The relay adds the agents to the team document on first connect.
    rt.block_on(shoal_sync::sync_once(&mut replica, &cfg, timeout))?;

    let ctx_b = Ctx::new(shoal_core::AgentId::parse(&agent_b)?, ctx.now);
    let mut times = Vec::new();
    let mut bytes = Vec::new();
    for round in to_change.chunks(changed).take(rounds) {
        rt.block_on(async {
            let mut b = Agent {
                ws: connect(&relay.addr, &token_b).await?,
                doc: automerge::AutoCommit::new(),
                state: sync::State::new(),
                restart: true,
            };
            for (id, saved) in round {
                let mut doc = ConversationDoc::from_automerge(automerge::AutoCommit::load(saved)?)?;
                doc.add_note(&ctx_b, "Replacement sent, tracking in the next mail.", &[])?;
                b.doc = doc.into_automerge();
                b.state = sync::State::new();
                b.restart = true;
                b.settle(&id.to_string()).await?;
            }
            anyhow::Ok(())
        })?;
        let started = Instant::now();
        let report = rt.block_on(shoal_sync::sync_once(&mut replica, &cfg, timeout))?;
        times.push(started.elapsed());
        if report.updated < round.len() {
            bail!(
                "the reconnect brought {} updated documents, expected {}",
                report.updated,
                round.len()
            );
        }
        for (id, _) in round {
            let notes = replica
                .conversation(&ConversationId::parse(id.key())?)
                .context("changed conversation")?
                .entries
                .len();
            if notes < 2 {
                bail!("{id} lacks the note added by the other agent");
            }
        }
        bytes.push(report.bytes_sent + report.bytes_received);
    }
    bytes.sort_unstable();
    Ok(Reconnect {
        conversations,
        changed_per_round: changed,
        rounds,
        seed_s,
        sync_ms: ms(percentile(&times, 50.0)),
        sync_ms_max: ms(times.iter().copied().max().unwrap_or_default()),
        bytes: bytes[bytes.len() / 2],
        bytes_max: *bytes.last().unwrap_or(&0),
        target_ms: 200.0,
        target_bytes: 100_000,
    })
}

impl Reconnect {
    pub(crate) fn print(&self) {
        println!(
            "reconnect of a {}-conversation replica after {} changed (median of {}): {:.0} ms, {:.1} KB (max {:.0} ms, {:.1} KB; targets < {} ms, < {} KB); seeding took {:.0} s",
            self.conversations,
            self.changed_per_round,
            self.rounds,
            self.sync_ms,
            self.bytes as f64 / 1e3,
            self.sync_ms_max,
            self.bytes_max as f64 / 1e3,
            self.target_ms,
            self.target_bytes / 1000,
            self.seed_s
        );
    }
}
