//! Export and import: every document as one JSON line, for backups, for
//! moving a workspace, and for comparing replicas.
//!
//! Format (JSON Lines): a header line
//! `{"format":"shoal-export","version":1,"team_id":…,"exported_at":…,"documents":N}`
//! then one line per document, the team document first, the rest by id:
//! `{"doc_id":…,"kind":…,"heads":[…],"view":{…},"automerge":"<base64>"}`.
//! `view` is the typed read view (for people and diffs); `automerge` holds the
//! full history and is what import merges. Views-only exports cannot be
//! imported.

use crate::replica::Replica;
use crate::{doc_store, Clock, MergeOutcome, ReplicaError, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};
use shoal_core::{
    AgentId, AgentPrivateDoc, ConversationDoc, CustomerDoc, DocId, DocKind, Document, TeamDoc,
    TeamId,
};
use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::sync::Arc;

/// The `format` field of an export header.
pub const EXPORT_FORMAT: &str = "shoal-export";
/// The `version` field of an export header.
pub const EXPORT_VERSION: u32 = 1;
/// Documents merged per transaction during import.
const IMPORT_BATCH: usize = 500;

/// What to put in an export.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExportOptions {
    /// Leave out the Automerge bytes: smaller, readable, not importable.
    pub views_only: bool,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Document lines read.
    pub documents: usize,
    /// New to this replica.
    pub created: usize,
    /// Merged new changes into an existing document.
    pub updated: usize,
    /// Already known.
    pub unchanged: usize,
    /// Other agents' private documents, which never leave their owner.
    pub skipped: usize,
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    team_id: String,
    exported_at: i64,
    documents: usize,
}

#[derive(Serialize, Deserialize)]
struct DocLine {
    doc_id: String,
    kind: DocKind,
    heads: Vec<String>,
    view: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    automerge: Option<String>,
}

fn view_json(id: &DocId, doc: &automerge::AutoCommit) -> Result<serde_json::Value> {
    let json = match id.kind() {
        DocKind::Team => serde_json::to_value(TeamDoc::view_of(doc)?),
        DocKind::Conversation => serde_json::to_value(ConversationDoc::view_of(doc)?),
        DocKind::Customer => serde_json::to_value(CustomerDoc::view_of(doc)?),
        DocKind::AgentPrivate => serde_json::to_value(AgentPrivateDoc::view_of(doc)?),
    };
    json.map_err(|e| ReplicaError::Io(e.into()))
}

fn io(e: serde_json::Error) -> ReplicaError {
    ReplicaError::Io(e.into())
}

impl Replica {
    /// Writes every document to `out`; returns how many were written.
    pub fn export(&self, out: &mut dyn Write, opts: ExportOptions) -> Result<usize> {
        let team = DocId::team(&self.identity().team_id);
        let mut ids = doc_store::doc_ids(&self.conn, None)?;
        // The team first, so an importer knows the agents before anything else.
        ids.sort_by_key(|id| (id != &team, id.clone()));
        let header = Header {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            team_id: self.identity().team_id.to_string(),
            exported_at: self.now().as_millis(),
            documents: ids.len(),
        };
        serde_json::to_writer(&mut *out, &header).map_err(io)?;
        out.write_all(b"\n")?;
        for id in &ids {
            let Some(mut doc) = doc_store::load(&self.conn, id, self.actor())? else {
                continue;
            };
            let mut heads: Vec<String> = doc.get_heads().iter().map(|h| h.to_string()).collect();
            heads.sort();
            let line = DocLine {
                doc_id: id.to_string(),
                kind: id.kind(),
                heads,
                view: view_json(id, &doc)?,
                automerge: (!opts.views_only)
                    .then(|| base64::engine::general_purpose::STANDARD.encode(doc.save())),
            };
            serde_json::to_writer(&mut *out, &line).map_err(io)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(ids.len())
    }

    /// Merges an export into this replica. Every line is checked before
    /// anything of its batch is stored; a bad line stops the import with its
    /// line number, keeping what earlier batches merged (merging is
    /// idempotent, so the import can simply be run again once fixed).
    pub fn import(
        &mut self,
        input: &mut dyn BufRead,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport> {
        let mut lines = input.lines().enumerate();
        let first = match lines.next() {
            Some((_, line)) => line?,
            None => String::new(),
        };
        let header = parse_header(&first)?;
        if header.team_id != self.identity().team_id.as_str() {
            return Err(ReplicaError::TeamMismatch {
                export: header.team_id,
                replica: self.identity().team_id.to_string(),
            });
        }
        let me = self.identity().agent_id.clone();
        let mut report = ImportReport::default();
        let mut batch: Vec<(DocId, Vec<u8>)> = Vec::new();
        for (index, line) in lines {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let (id, bytes) = parse_doc_line(index + 1, &line)?;
            report.documents += 1;
            if id.kind() == DocKind::AgentPrivate && id.key() != me.as_str() {
                report.skipped += 1;
                continue;
            }
            batch.push((id, bytes));
            if batch.len() == IMPORT_BATCH {
                self.import_batch(std::mem::take(&mut batch), &mut report)?;
                progress(report.documents, header.documents);
            }
        }
        self.import_batch(batch, &mut report)?;
        progress(report.documents, header.documents);
        Ok(report)
    }

    fn import_batch(
        &mut self,
        batch: Vec<(DocId, Vec<u8>)>,
        report: &mut ImportReport,
    ) -> Result<()> {
        for outcome in self.merge_documents(batch, IMPORT_BATCH, &mut |_| {})? {
            match outcome {
                MergeOutcome::Created => report.created += 1,
                MergeOutcome::Updated => report.updated += 1,
                MergeOutcome::Unchanged => report.unchanged += 1,
            }
        }
        Ok(())
    }

    /// Creates a replica from an export, for the agent `agent` (id, e-mail or
    /// name) of the exported team: restoring a backup or joining a team
    /// without a relay. The new replica has a device actor of its own.
    pub fn init_from_export(
        path: &Path,
        input: &mut dyn BufRead,
        agent: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<(Replica, ImportReport)> {
        let mut first = String::new();
        input.read_line(&mut first)?;
        let mut team_line = String::new();
        input.read_line(&mut team_line)?;
        let header = parse_header(first.trim_end())?;
        let (team_id, team_bytes) = parse_doc_line(2, &team_line)?;
        if team_id.kind() != DocKind::Team || team_id.key() != header.team_id {
            return Err(ReplicaError::BadExport {
                line: 2,
                reason: "the team document must come first".into(),
            });
        }
        let team = TeamDoc::view_of(&doc_store::decode(&team_bytes).map_err(|e| {
            ReplicaError::BadExport {
                line: 2,
                reason: e.to_string(),
            }
        })?)?;
        let agent_id: AgentId = team
            .find_agent(agent)
            .map(|a| a.id.clone())
            .ok_or_else(|| ReplicaError::NotFound {
                kind: "agent",
                query: format!(
                    "{agent} (agents: {})",
                    team.agents
                        .iter()
                        .map(|a| a.email.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        let team_id = TeamId::parse(&header.team_id).map_err(|e| ReplicaError::BadExport {
            line: 1,
            reason: e.to_string(),
        })?;
        let mut replica = Replica::create_empty(path, &team_id, &agent_id, clock)?;
        let rest = std::io::Cursor::new(format!("{first}{team_line}")).chain(input);
        let mut rest = std::io::BufReader::new(rest);
        let report = replica.import(&mut rest, &mut |_, _| {})?;
        Ok((replica, report))
    }
}

fn parse_header(first: &str) -> Result<Header> {
    let bad = |reason: &str| ReplicaError::BadExport {
        line: 1,
        reason: reason.to_owned(),
    };
    if first.trim().is_empty() {
        return Err(bad("empty file"));
    }
    let header: Header =
        serde_json::from_str(first).map_err(|e| bad(&format!("not a Shoal export header: {e}")))?;
    if header.format != EXPORT_FORMAT {
        return Err(bad(&format!(
            "format `{}` is not `{EXPORT_FORMAT}`",
            header.format
        )));
    }
    if header.version > EXPORT_VERSION {
        return Err(bad(&format!(
            "export version {} is newer than this build supports ({EXPORT_VERSION})",
            header.version
        )));
    }
    Ok(header)
}

fn parse_doc_line(line: usize, text: &str) -> Result<(DocId, Vec<u8>)> {
    let bad = |reason: String| ReplicaError::BadExport { line, reason };
    let doc: DocLine =
        serde_json::from_str(text).map_err(|e| bad(format!("malformed document line: {e}")))?;
    let id = DocId::parse(&doc.doc_id).map_err(|e| bad(e.to_string()))?;
    let b64 = doc.automerge.ok_or_else(|| {
        bad("this is a views-only export (no Automerge history); it cannot be imported".into())
    })?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| bad(format!("bad base64: {e}")))?;
    Ok((id, bytes))
}
