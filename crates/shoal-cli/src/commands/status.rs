//! `shoal status` without arguments: who this replica is, where it lives,
//! how it syncs, and how much it holds.

use super::inbox::ViewCounts;
use super::{open, print_json};
use crate::render;
use anyhow::{anyhow, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Who the replica acts as.
#[derive(Serialize)]
struct IdentityView {
    team_id: String,
    team_name: String,
    agent_id: String,
    agent_name: String,
    agent_email: String,
}

/// How the replica syncs.
#[derive(Serialize)]
struct SyncView {
    /// `local-only` (no relay configured), `online` (the relay answered
    /// just now) or `offline` (it did not; see `error`).
    state: &'static str,
    /// Relay URL once one is configured.
    relay: Option<String>,
    /// Documents with local changes the relay has not confirmed.
    pending_documents: usize,
    /// Last feed position merged from the relay.
    cursor: u64,
    /// Where the token is kept.
    token_store: Option<crate::credentials::TokenStore>,
    /// Why the relay could not be reached.
    error: Option<String>,
}

/// Probes the relay (a hello, nothing else) to tell online from offline.
fn sync_view(home: &Path, replica: &shoal_replica::Replica) -> Result<SyncView> {
    let pending_documents = replica.dirty_docs()?.len();
    let cursor = replica.sync_cursor()?;
    let Some(relay) = replica.relay_url()? else {
        return Ok(SyncView {
            state: "local-only",
            relay: None,
            pending_documents,
            cursor,
            token_store: None,
            error: None,
        });
    };
    let (state, token_store, error) = match super::sync::relay_config(home, replica) {
        Err(e) => ("offline", None, Some(e.to_string())),
        Ok((cfg, store)) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let probe = rt.block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(3), shoal_sync::connect(&cfg))
                    .await
            });
            match probe {
                Ok(Ok((conn, _))) => {
                    rt.block_on(conn.close());
                    ("online", Some(store), None)
                }
                Ok(Err(e)) => ("offline", Some(store), Some(e.to_string())),
                Err(_) => (
                    "offline",
                    Some(store),
                    Some("the relay did not answer within 3 s".into()),
                ),
            }
        }
    };
    Ok(SyncView {
        state,
        relay: Some(relay),
        pending_documents,
        cursor,
        token_store,
        error,
    })
}

/// What `status --json` prints.
#[derive(Serialize)]
struct ReplicaStatus<'a> {
    identity: IdentityView,
    home: &'a Path,
    replica: PathBuf,
    sync: SyncView,
    counts: ViewCounts,
    /// Documents per kind (`team`, `conversation`, `customer`, `agent-private`).
    documents: BTreeMap<&'static str, i64>,
    /// Changes appended and not yet compacted into snapshots.
    pending_changes: i64,
    /// Size of the database file and its WAL, in bytes.
    file_bytes: u64,
}

/// Runs `shoal status` (no arguments).
pub fn run(home: &Path, json: bool, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let team = replica.team()?;
    let identity = replica.identity();
    let me = team
        .agent(&identity.agent_id)
        .ok_or_else(|| anyhow!("agent {} is missing from the team", identity.agent_id))?;
    let stats = replica.stats()?;
    let status = ReplicaStatus {
        identity: IdentityView {
            team_id: identity.team_id.to_string(),
            team_name: team.name.clone(),
            agent_id: identity.agent_id.to_string(),
            agent_name: me.name.clone(),
            agent_email: me.email.clone(),
        },
        home,
        replica: replica.path().to_owned(),
        sync: sync_view(home, &replica)?,
        counts: ViewCounts::new(&replica.inbox_counts()?),
        documents: stats
            .documents
            .iter()
            .map(|(kind, n)| (kind.as_str(), *n))
            .collect(),
        pending_changes: stats.pending_changes,
        file_bytes: stats.file_bytes,
    };
    if json {
        return print_json(out, &status);
    }
    let id = &status.identity;
    writeln!(out, "Team     {} ({})", id.team_name, id.team_id)?;
    writeln!(
        out,
        "You      {} <{}> ({})",
        id.agent_name, id.agent_email, id.agent_id
    )?;
    writeln!(out, "Home     {}", home.display())?;
    match (&status.sync.relay, &status.sync.error) {
        (None, _) => writeln!(out, "Sync     local only (no relay configured)")?,
        (Some(relay), None) => writeln!(
            out,
            "Sync     {} via {relay} · {} document(s) waiting to be sent",
            status.sync.state, status.sync.pending_documents
        )?,
        (Some(relay), Some(error)) => writeln!(
            out,
            "Sync     offline ({relay}: {error}) · {} document(s) waiting to be sent",
            status.sync.pending_documents
        )?,
    }
    writeln!(out, "Inbox    {}", status.counts.summary())?;
    let docs: Vec<String> = status
        .documents
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    writeln!(out, "Docs     {}", docs.join(" · "))?;
    writeln!(
        out,
        "Storage  {} · {} changes not yet compacted",
        render::size(status.file_bytes),
        status.pending_changes
    )?;
    Ok(())
}
