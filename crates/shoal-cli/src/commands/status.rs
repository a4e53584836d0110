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
    /// `local-only`: this build has no relay client yet.
    state: &'static str,
    /// Relay URL once one is configured.
    relay: Option<String>,
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
        sync: SyncView {
            state: "local-only",
            relay: None,
        },
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
    writeln!(out, "Sync     local only (no relay configured)")?;
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
