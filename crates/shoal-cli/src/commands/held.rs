//! `shoal held`, `shoal release` and `shoal discard`: replies the relay's
//! outbox held back because they collided, and their author's decision.

use super::{open, print_json, read_text};
use crate::args::{DiscardArgs, HeldArgs, ReleaseArgs};
use crate::render::{first_line, short_id, when};
use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use shoal_replica::{HeldReply, Replica};
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// One held reply as `held --json` prints it.
#[derive(Serialize)]
struct HeldRow<'a> {
    conversation_id: &'a str,
    subject: &'a str,
    entry_id: &'a str,
    author: &'a str,
    body: &'a str,
    created_at: i64,
    reason: Option<&'a str>,
    collided_with: Option<&'a str>,
}

/// Runs `shoal held`.
pub fn list(home: &Path, args: HeldArgs, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let all = args.all && replica.is_admin()?;
    if args.all && !all {
        eprintln!("note: only admins see everyone's held replies; showing yours");
    }
    let held = replica.held_replies(all)?;
    if args.json {
        let rows: Vec<HeldRow<'_>> = held.iter().map(row).collect();
        return print_json(out, &rows);
    }
    if held.is_empty() {
        writeln!(out, "No held replies.")?;
        return Ok(());
    }
    let now = replica.now();
    for h in &held {
        let d = h.reply.delivery.as_ref();
        writeln!(
            out,
            "{}  in {} \"{}\", written {}{}\n  held: {}\n  {}",
            short_id(h.reply.id.as_str()),
            short_id(h.conversation_id.as_str()),
            h.subject,
            when(h.reply.created_at, now),
            if all {
                format!(" by {}", h.reply.author)
            } else {
                String::new()
            },
            d.and_then(|d| d.reason.as_deref()).unwrap_or("a collision"),
            first_line(&h.reply.body, 72)
        )?;
    }
    writeln!(
        out,
        "\nRead the conversation (`shoal show CONV`), then `shoal release REPLY [--edit]` \
         or `shoal discard REPLY`."
    )?;
    Ok(())
}

fn row(h: &HeldReply) -> HeldRow<'_> {
    let d = h.reply.delivery.as_ref();
    HeldRow {
        conversation_id: h.conversation_id.as_str(),
        subject: &h.subject,
        entry_id: h.reply.id.as_str(),
        author: &h.reply.author,
        body: &h.reply.body,
        created_at: h.reply.created_at.as_millis(),
        reason: d.and_then(|d| d.reason.as_deref()),
        collided_with: d.and_then(|d| d.collided_with.as_ref()).map(|e| e.as_str()),
    }
}

/// The held reply `query` names (an entry id or a unique prefix of 4+).
fn find(replica: &Replica, query: &str) -> Result<HeldReply> {
    let query = query.trim().to_ascii_lowercase();
    if query.len() < 4 {
        bail!("reply id `{query}` is too short: give at least 4 characters");
    }
    let mut matches: Vec<HeldReply> = replica
        .held_replies(true)?
        .into_iter()
        .filter(|h| h.reply.id.as_str().starts_with(&query))
        .collect();
    match matches.len() {
        0 => Err(anyhow!(
            "no held reply `{query}`; `shoal held` lists yours (sync first if the relay \
             held it a moment ago)"
        )),
        1 => Ok(matches.remove(0)),
        n => Err(anyhow!(
            "reply id `{query}` matches {n} held replies; give more characters"
        )),
    }
}

#[derive(Serialize)]
struct Decided<'a> {
    conversation_id: &'a str,
    entry_id: &'a str,
    delivery: &'a str,
}

/// Runs `shoal release`.
pub fn release(home: &Path, args: ReleaseArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let held = find(&replica, &args.reply)?;
    let body = if args.edit {
        Some(edit(&held.reply.body)?)
    } else if args.body.is_some() || args.body_file.is_some() {
        Some(read_text(args.body.as_deref(), args.body_file.as_deref())?)
    } else {
        None
    };
    replica
        .release(&held.conversation_id, &held.reply.id, body.as_deref())
        .context("cannot release the reply")?;
    let conv = short_id(held.conversation_id.as_str());
    if args.json {
        return print_json(
            out,
            &Decided {
                conversation_id: held.conversation_id.as_str(),
                entry_id: held.reply.id.as_str(),
                delivery: "queued",
            },
        );
    }
    writeln!(
        out,
        "Reply {} in {conv} queued again{}: sync to hand it to the relay, which sends it \
         after the undo window (`shoal unsend {conv}` withdraws it until then)",
        short_id(held.reply.id.as_str()),
        if body.is_some() { ", edited" } else { "" }
    )?;
    Ok(())
}

/// Runs `shoal discard`.
pub fn discard(home: &Path, args: DiscardArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let held = find(&replica, &args.reply)?;
    replica
        .discard(&held.conversation_id, &held.reply.id)
        .context("cannot discard the reply")?;
    if args.json {
        return print_json(
            out,
            &Decided {
                conversation_id: held.conversation_id.as_str(),
                entry_id: held.reply.id.as_str(),
                delivery: "cancelled",
            },
        );
    }
    writeln!(
        out,
        "Reply {} discarded: it will not be sent; its text stays in conversation {}",
        short_id(held.reply.id.as_str()),
        short_id(held.conversation_id.as_str())
    )?;
    Ok(())
}

/// Lets the user edit `text` in their editor; refuses an emptied text.
fn edit(text: &str) -> Result<String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_owned());
    let file = tempfile::Builder::new()
        .prefix("shoal-reply-")
        .suffix(".txt")
        .tempfile()
        .context("cannot create a file to edit the reply in")?;
    std::fs::write(file.path(), text).context("cannot write the reply to edit")?;
    // Like git, the editor setting may carry arguments (`code --wait`).
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status()
        .with_context(|| format!("cannot start the editor `{editor}`"))?;
    if !status.success() {
        bail!("the editor `{editor}` failed ({status}); nothing was changed");
    }
    let edited = std::fs::read_to_string(file.path()).context("cannot read the edited reply")?;
    if edited.trim().is_empty() {
        bail!("the edited reply is empty; nothing was changed (`shoal discard` drops it)");
    }
    Ok(edited)
}
