//! `shoal template set|list|remove`: personal templates, kept in the
//! agent's private document.

use super::{open, print_json, read_body};
use crate::args::{TemplateRemoveArgs, TemplateSetArgs};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// What `template set|remove --json` print.
#[derive(Serialize)]
struct Changed<'a> {
    name: &'a str,
}

/// Runs `shoal template set`.
pub fn set(home: &Path, args: TemplateSetArgs, out: &mut dyn Write) -> Result<()> {
    let body = read_body(&args.body)?;
    let mut replica = open(home)?;
    replica
        .set_template(&args.name, &body)
        .context("cannot save the template")?;
    let name = args.name.trim();
    if args.json {
        return print_json(out, &Changed { name });
    }
    writeln!(
        out,
        "Saved template {name}; use it with `shoal reply CONV --template {name}`"
    )?;
    Ok(())
}

/// What `template list --json` prints.
#[derive(Serialize)]
struct Templates {
    /// Template bodies by name.
    templates: BTreeMap<String, String>,
}

/// Runs `shoal template list`.
pub fn list(home: &Path, json: bool, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let templates = replica.agent_private()?.templates;
    if json {
        return print_json(out, &Templates { templates });
    }
    if templates.is_empty() {
        writeln!(
            out,
            "No templates yet; add one with `shoal template set NAME --body TEXT`."
        )?;
        return Ok(());
    }
    for (i, (name, body)) in templates.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{name}:")?;
        for line in body.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

/// Runs `shoal template remove`.
pub fn remove(home: &Path, args: TemplateRemoveArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let name = args.name.trim();
    if !replica.remove_template(name)? {
        bail!("you have no template named `{name}` (see `shoal template list`)");
    }
    if args.json {
        return print_json(out, &Changed { name });
    }
    writeln!(out, "Removed template {name}")?;
    Ok(())
}
