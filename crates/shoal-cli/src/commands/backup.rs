//! `shoal export` and `shoal import`.

use super::{open, open_input, print_json};
use crate::args::{ExportArgs, ImportArgs};
use anyhow::{Context, Result};
use shoal_replica::{ExportOptions, ImportReport, Replica};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Runs `shoal export`.
pub fn export(home: &Path, args: ExportArgs, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let opts = ExportOptions {
        views_only: args.views_only,
    };
    match &args.out {
        None => {
            let mut w = BufWriter::new(out);
            replica.export(&mut w, opts)?;
            w.flush()?;
        }
        Some(path) => {
            let n = export_to_file(&replica, path, opts)
                .with_context(|| format!("cannot export to {}", path.display()))?;
            eprintln!("exported {n} documents to {}", path.display());
        }
    }
    Ok(())
}

/// Writes the export to `FILE.tmp` and renames it, so a failure never leaves
/// a half file under the real name.
fn export_to_file(replica: &Replica, path: &Path, opts: ExportOptions) -> Result<usize> {
    let tmp = tmp_path(path);
    let result = (|| -> Result<usize> {
        let file =
            create_private(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = BufWriter::new(file);
        let n = replica.export(&mut w, opts)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(n)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `FILE.tmp` next to `FILE`.
fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Creates (truncating) a file readable only by its owner: an export holds
/// every conversation of the team.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Runs `shoal import`.
pub fn import(home: &Path, args: ImportArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let mut input = open_input(&args.file)?;
    let live = std::io::stderr().is_terminal();
    let mut last = (0, 0);
    let report = replica
        .import(&mut input, &mut |done, total| {
            last = (done, total);
            if live {
                eprint!("\rimported {done}/{total} documents");
            }
        })
        .with_context(|| format!("cannot import {}", args.file.display()));
    if live {
        // End the progress line whatever happened.
        eprintln!();
    }
    let report = report?;
    if !live {
        eprintln!("imported {}/{} documents", last.0, last.1);
    }
    if args.json {
        return print_json(out, &report);
    }
    writeln!(out, "{} documents: {}", report.documents, describe(&report))?;
    Ok(())
}

/// `3 new, 1 updated, 10 unchanged, 1 skipped (…)`.
pub fn describe(report: &ImportReport) -> String {
    let mut text = format!(
        "{} new, {} updated, {} unchanged",
        report.created, report.updated, report.unchanged
    );
    if report.skipped > 0 {
        text.push_str(&format!(
            ", {} skipped (other agents' private documents)",
            report.skipped
        ));
    }
    text
}
