//! `shoal reindex`, `shoal compact`, `shoal check`.

use super::{open, print_json};
use anyhow::{bail, Result};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// What `reindex --json` and `compact --json` print.
#[derive(Serialize)]
struct Done {
    documents: usize,
}

/// Runs `shoal reindex`.
pub fn reindex(home: &Path, json: bool, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let live = std::io::stderr().is_terminal();
    let n = replica.reindex(&mut |done, total| {
        if live {
            eprint!("\rreindexed {done}/{total} documents");
        }
    })?;
    if live {
        eprintln!();
    }
    if json {
        return print_json(out, &Done { documents: n });
    }
    writeln!(
        out,
        "Rebuilt the inbox and search tables from {n} documents"
    )?;
    Ok(())
}

/// Runs `shoal compact`.
pub fn compact(home: &Path, json: bool, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let n = replica.compact_all()?;
    // Fold the WAL back too, so the file size reflects the compaction.
    replica.checkpoint()?;
    if json {
        return print_json(out, &Done { documents: n });
    }
    writeln!(out, "Compacted {n} documents")?;
    Ok(())
}

/// What `check --json` prints.
#[derive(Serialize)]
struct Checked {
    ok: bool,
    problems: Vec<String>,
}

/// Runs `shoal check`; fails (exit 1) if there are problems.
pub fn check(home: &Path, json: bool, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let problems = replica.check()?;
    let n = problems.len();
    if json {
        print_json(
            out,
            &Checked {
                ok: problems.is_empty(),
                problems,
            },
        )?;
    } else if problems.is_empty() {
        writeln!(out, "ok: the database and every document are readable")?;
    } else {
        for p in &problems {
            writeln!(out, "problem: {p}")?;
        }
    }
    if n > 0 {
        bail!(
            "{n} problem{} found; `shoal export` what still loads before repairing",
            if n == 1 { "" } else { "s" }
        );
    }
    Ok(())
}
