//! Commands on one conversation: new, show, reply (with the send guard),
//! note, assign, status, priority, tag/untag.

use super::{
    agent_name, customer_if_present, open, print_json, read_body, read_text, resolve_conversation,
    Refusal, EXIT_SEND_GUARD,
};
use crate::args::{
    NewArgs, NoteArgs, PriorityArgs, ReplyArgs, ShowArgs, TagArgs, UnsendArgs, WriteArgs,
};
use crate::render::{self, short_id, when};
use crate::time_input;
use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use shoal_core::{
    expand_template, mention_handles, AgentId, Conversation, CoreError, Customer, DeliveryState,
    Entry, EntryId, EntryKind, Priority, SendGuard, Status, StatusChange, Team, Timestamp,
};
use shoal_replica::{NewConversationInput, Replica, ReplicaError};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// What `new --json` prints.
#[derive(Serialize)]
struct Opened {
    conversation_id: String,
    entry_id: String,
    customer_id: String,
}

/// Runs `shoal write`.
pub fn write(home: &Path, args: WriteArgs, out: &mut dyn Write) -> Result<()> {
    let body = read_body(&args.body)?;
    let mut replica = open(home)?;
    let to = args.to.trim();
    if !shoal_core::is_plausible_email(to) {
        bail!("`{to}` is not an e-mail address");
    }
    let customer = replica
        .find_or_create_customer(to, args.customer_name.as_deref())
        .context("cannot find or add the customer")?;
    let (id, entry) = replica
        .start_conversation(&customer, &args.subject, &body)
        .context("cannot start the conversation")?;
    if args.json {
        return print_json(
            out,
            &Opened {
                conversation_id: id.to_string(),
                entry_id: entry.to_string(),
                customer_id: customer.to_string(),
            },
        );
    }
    writeln!(
        out,
        "Started {} to {to}; the relay sends it once this replica syncs and the undo \
         window has passed (`shoal unsend {}` withdraws it until then).",
        short_id(id.as_str()),
        short_id(id.as_str())
    )?;
    Ok(())
}

/// Runs `shoal new`.
pub fn new(home: &Path, args: NewArgs, out: &mut dyn Write) -> Result<()> {
    let body = read_body(&args.body)?;
    let now = chrono::Local::now();
    let received_at = args
        .at
        .as_deref()
        .map(|s| time_input::parse_until(s, &now))
        .transpose()?
        .map(|t| Timestamp(t.timestamp_millis()));
    if let Some(at) = received_at {
        if at.as_millis() > now.timestamp_millis() {
            bail!(
                "--at {} is in the future: it says when the customer wrote or called",
                args.at.as_deref().unwrap_or_default()
            );
        }
    }
    let mut replica = open(home)?;
    if let (Some(name), Some(existing)) = (
        args.customer_name.as_deref(),
        replica.customer_by_email(&args.customer)?,
    ) {
        let current = replica.customer(&existing)?.name;
        if current != name.trim() {
            eprintln!(
                "note: {} is already customer {current}; --customer-name ignored \
                 (rename with `shoal customer edit {} --name …`)",
                args.customer, args.customer
            );
        }
    }
    let customer = replica
        .find_or_create_customer(&args.customer, args.customer_name.as_deref())
        .with_context(|| format!("cannot find or create the customer {}", args.customer))?;
    let (id, entry) = replica
        .new_conversation(NewConversationInput {
            subject: args.subject,
            channel: args.channel,
            customer: customer.clone(),
            body,
            priority: args.priority,
            received_at,
            headers: Default::default(),
        })
        .context("cannot open the conversation")?;
    if args.json {
        return print_json(
            out,
            &Opened {
                conversation_id: id.to_string(),
                entry_id: entry.to_string(),
                customer_id: customer.to_string(),
            },
        );
    }
    let who = customer_if_present(&replica, &customer)?
        .map(|c| customer_label(&c))
        .unwrap_or_else(|| args.customer.clone());
    writeln!(out, "Opened conversation {id} with {who}")?;
    Ok(())
}

/// What `show --json` prints.
#[derive(Serialize)]
struct Shown<'a> {
    conversation: &'a Conversation,
    /// The status as it stands now (an ended snooze reads as open).
    effective_status: Status,
    customer: Option<&'a Customer>,
    /// Names of the team's agents by id, to name authors and assignees.
    agents: BTreeMap<String, String>,
}

/// Runs `shoal show`.
pub fn show(home: &Path, args: ShowArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let id = resolve_conversation(&replica, &args.conversation)?;
    let conv = replica.conversation(&id)?;
    let customer = customer_if_present(&replica, &conv.customer_id)?;
    let team = replica.team()?;
    let now = replica.now();
    if args.json {
        let shown = Shown {
            conversation: &conv,
            effective_status: conv.effective_status(now),
            customer: customer.as_ref(),
            agents: team
                .agents
                .iter()
                .map(|a| (a.id.to_string(), a.name.clone()))
                .collect(),
        };
        print_json(out, &shown)?;
    } else {
        let has_relay = replica.relay_url()?.is_some();
        write_conversation(out, &conv, customer.as_ref(), &team, now, has_relay)?;
    }
    out.flush()?;
    if !args.no_mark_seen {
        mark_seen_as_shown(&mut replica, &conv)?;
    }
    Ok(())
}

/// Records what was shown as seen: exactly those entries, so one that
/// arrived meanwhile (a sync in another process) stays unseen for the send
/// guard.
fn mark_seen_as_shown(replica: &mut Replica, shown: &Conversation) -> Result<()> {
    let ids: Vec<EntryId> = shown.entries.iter().map(|e| e.id.clone()).collect();
    replica
        .mark_seen(&shown.id, &ids)
        .context("cannot record that you have seen the conversation")
}

fn write_conversation(
    out: &mut dyn Write,
    conv: &Conversation,
    customer: Option<&Customer>,
    team: &Team,
    now: Timestamp,
    has_relay: bool,
) -> Result<()> {
    writeln!(out, "{}", render::one_line(&conv.subject))?;
    writeln!(out, "  id        {}", conv.id)?;
    let mut status = conv.effective_status(now).to_string();
    if let (Status::Snoozed, Some(until)) = (conv.effective_status(now), conv.snooze_until) {
        status.push_str(&format!(" until {}", when(until, now)));
    }
    if let (Status::Pending, Some(at)) = (conv.status, conv.follow_up_at) {
        status.push_str(&format!(
            ", waiting for the customer to confirm; follow up {}",
            when(at, now)
        ));
    }
    if let (Status::Closed, Some(r)) = (conv.status, conv.resolution) {
        status.push_str(&format!(
            " ({})",
            match r {
                shoal_core::Resolution::Confirmed => "the customer confirmed",
                shoal_core::Resolution::NoReply => "no reply to the follow-up",
            }
        ));
    }
    writeln!(out, "  status    {status}")?;
    writeln!(out, "  priority  {}", conv.priority)?;
    let assignee = conv
        .assignee
        .as_ref()
        .map_or_else(|| "nobody".to_owned(), |a| agent_name(team, a.as_str()));
    writeln!(out, "  assignee  {assignee}")?;
    if !conv.tags.is_empty() {
        writeln!(out, "  tags      {}", conv.tags.join(", "))?;
    }
    let who = customer.map_or_else(
        || format!("{} (profile not available)", conv.customer_id),
        customer_label,
    );
    writeln!(out, "  customer  {who}")?;
    writeln!(out, "  channel   {}", conv.channel)?;
    writeln!(out, "  opened    {}", when(conv.created_at, now))?;
    for conflict in &conv.conflicts {
        let values: Vec<String> = conflict
            .values
            .iter()
            .map(|v| match (conflict.field.as_str(), v.as_str()) {
                (_, "") => "none".to_owned(),
                ("assignee", id) => agent_name(team, id),
                (_, other) => other.to_owned(),
            })
            .collect();
        writeln!(
            out,
            "  conflict  {} was set concurrently to {}; it stays as shown above",
            conflict.field,
            values.join(" and ")
        )?;
    }
    for entry in &conv.entries {
        writeln!(out)?;
        writeln!(
            out,
            "── {}",
            entry_heading(entry, customer, team, now, has_relay)
        )?;
        for line in entry.body.lines() {
            writeln!(out, "{line}")?;
        }
        if let Some(email) = &entry.email {
            for warning in &email.warnings {
                writeln!(out, "  ! {warning}")?;
            }
            for a in &email.attachments {
                let name = a.filename.as_deref().unwrap_or("(unnamed)");
                let kept = match &a.rejected {
                    Some(reason) => format!(" — not kept: {reason}"),
                    None => String::new(),
                };
                writeln!(
                    out,
                    "  attachment: {name} ({}, {}){kept}",
                    a.content_type,
                    render::bytes(a.size)
                )?;
            }
        }
    }
    Ok(())
}

/// `reply · Ana Lima · 2026-05-01 10:32 (3m ago) · queued`.
fn entry_heading(
    entry: &Entry,
    customer: Option<&Customer>,
    team: &Team,
    now: Timestamp,
    has_relay: bool,
) -> String {
    let kind = match entry.kind {
        EntryKind::CustomerMessage => "customer message",
        EntryKind::Reply => "reply",
        EntryKind::Note => "note",
    };
    let mut parts = vec![
        kind.to_owned(),
        author_name(entry, customer, team),
        when(entry.created_at, now),
    ];
    if let Some(d) = &entry.delivery {
        let mut state = d.state.to_string();
        if d.state == DeliveryState::Queued {
            state.push_str(if has_relay {
                " (the relay sends it)"
            } else {
                " (no relay configured)"
            });
        }
        if let Some(reason) = &d.reason {
            state.push_str(&format!(": {reason}"));
        }
        parts.push(state);
    }
    if let Some(kind) = entry.email.as_ref().and_then(|e| e.automatic.as_deref()) {
        parts.push(format!("automatic ({kind})"));
    }
    if !entry.mentions.is_empty() {
        let names: Vec<String> = entry
            .mentions
            .iter()
            .map(|a| agent_name(team, a.as_str()))
            .collect();
        parts.push(format!("mentions {}", names.join(", ")));
    }
    parts.join(" · ")
}

/// Who wrote an entry: for customer messages the sender as the mail gave it,
/// else the customer's name (with the agent who logged it); the agent's name
/// otherwise.
fn author_name(entry: &Entry, customer: Option<&Customer>, team: &Team) -> String {
    match entry.kind {
        EntryKind::CustomerMessage => {
            if let Some(from) = entry.email.as_ref().and_then(|e| e.from.clone()) {
                return from;
            }
            let name = customer.map_or_else(|| "the customer".to_owned(), |c| c.name.clone());
            match &entry.logged_by {
                Some(agent) => format!("{name} (logged by {})", agent_name(team, agent.as_str())),
                None => name,
            }
        }
        EntryKind::Reply | EntryKind::Note => agent_name(team, &entry.author),
    }
}

fn customer_label(c: &Customer) -> String {
    match c.emails.first() {
        Some(email) => format!("{} <{email}>", c.name),
        None => c.name.clone(),
    }
}

/// What `reply --json` prints.
#[derive(Serialize)]
struct Replied {
    conversation_id: String,
    entry_id: String,
    delivery: DeliveryState,
    /// The relay that will deliver it, if one is configured.
    relay: Option<String>,
}

/// Runs `shoal reply`, behind the send guard.
pub fn reply(home: &Path, args: ReplyArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let id = resolve_conversation(&replica, &args.conversation)?;
    let conv = replica.conversation(&id)?;
    let short = short_id(id.as_str());
    if conv.status == Status::Closed {
        bail!(closed_message(short));
    }
    let me = replica.identity().agent_id.clone();
    let unseen = conv.unseen_by(&me);
    if !unseen.is_empty() {
        let customer = customer_if_present(&replica, &conv.customer_id)?;
        let team = replica.team()?;
        if !args.force {
            return Err(send_guard(short, &unseen, customer.as_ref(), &team, replica.now()).into());
        }
        eprintln!(
            "Sending anyway (--force): {} unseen {}.",
            unseen.len(),
            if unseen.len() == 1 {
                "entry"
            } else {
                "entries"
            }
        );
    }

    let body = match &args.template {
        Some(name) => template_body(&replica, &conv, &me, name)?,
        None => read_text(args.body.as_deref(), args.body_file.as_deref())?,
    };
    let guard = if args.force {
        SendGuard::Force
    } else {
        SendGuard::Check
    };
    let entry = match replica.reply(&id, &body, None, guard) {
        Ok(entry) => entry,
        Err(ReplicaError::Core(CoreError::ConversationClosed)) => bail!(closed_message(short)),
        // Something synced in after the check above (another process).
        Err(ReplicaError::Core(CoreError::Unseen(_))) => {
            let conv = replica.conversation(&id)?;
            let customer = customer_if_present(&replica, &conv.customer_id)?;
            let team = replica.team()?;
            let unseen = conv.unseen_by(&me);
            return Err(send_guard(short, &unseen, customer.as_ref(), &team, replica.now()).into());
        }
        Err(other) => return Err(anyhow!(other).context("cannot add the reply")),
    };
    // Read the state back rather than assume it: a later build may send at once.
    let delivery = replica
        .conversation(&id)?
        .entry(&entry)
        .and_then(|e| e.delivery.as_ref())
        .map_or(DeliveryState::Queued, |d| d.state);
    let relay = replica.relay_url()?;
    if args.json {
        return print_json(
            out,
            &Replied {
                conversation_id: id.to_string(),
                entry_id: entry.to_string(),
                delivery,
                relay,
            },
        );
    }
    let state = match (delivery, &relay) {
        (DeliveryState::Queued, None) => "queued (no relay configured)".to_owned(),
        (DeliveryState::Queued, Some(_)) => format!(
            "queued: sync to hand it to the relay, which sends it after {} s \
             (`shoal unsend {short}` withdraws it until then)",
            shoal_core::UNDO_SEND_WINDOW.as_secs()
        ),
        (other, _) => other.to_string(),
    };
    writeln!(out, "Reply {entry} {state}")?;
    Ok(())
}

fn closed_message(short: &str) -> String {
    format!(
        "conversation {short} is closed; reopen it with `shoal status {short} open` before replying"
    )
}

/// The send guard's refusal, listing what the agent has not seen.
fn send_guard(
    short: &str,
    unseen: &[&Entry],
    customer: Option<&Customer>,
    team: &Team,
    now: Timestamp,
) -> Refusal {
    let mut message = format!(
        "not sending: conversation {short} has {} you have not seen:",
        if unseen.len() == 1 {
            "1 entry".to_owned()
        } else {
            format!("{} entries", unseen.len())
        }
    );
    for e in unseen {
        let kind = match e.kind {
            EntryKind::CustomerMessage => "message from",
            EntryKind::Reply => "reply by",
            EntryKind::Note => "note by",
        };
        message.push_str(&format!(
            "\n  - {kind} {}, {}: {}",
            author_name(e, customer, team),
            when(e.created_at, now),
            render::first_line(&e.body, 72)
        ));
    }
    message.push_str(&format!(
        "\nRead them with `shoal show {short}`, or pass --force to send anyway."
    ));
    Refusal {
        code: EXIT_SEND_GUARD,
        message,
    }
}

/// One of my templates, expanded for this conversation's customer and me.
fn template_body(
    replica: &Replica,
    conv: &Conversation,
    me: &AgentId,
    name: &str,
) -> Result<String> {
    let private = replica.agent_private()?;
    let Some(template) = private.templates.get(name) else {
        let names: Vec<&str> = private.templates.keys().map(String::as_str).collect();
        bail!(
            "you have no template named `{name}`; {}",
            if names.is_empty() {
                "add one with `shoal template set NAME --body TEXT`".to_owned()
            } else {
                format!("yours are: {}", names.join(", "))
            }
        );
    };
    let customer = customer_if_present(replica, &conv.customer_id)?;
    let team = replica.team()?;
    Ok(expand_template(
        template,
        customer.as_ref(),
        team.agent(me),
        Some(&team),
    ))
}

/// What `note --json` prints.
#[derive(Serialize)]
struct Noted {
    conversation_id: String,
    entry_id: String,
    mentions: Vec<AgentId>,
}

/// Runs `shoal note`.
pub fn note(home: &Path, args: NoteArgs, out: &mut dyn Write) -> Result<()> {
    let body = read_body(&args.body)?;
    let mut replica = open(home)?;
    let id = resolve_conversation(&replica, &args.conversation)?;
    let entry = replica.note(&id, &body).context("cannot add the note")?;
    let team = replica.team()?;
    // The library drops mentions that match no agent or several; say so.
    for handle in mention_handles(&body) {
        let matching = team.agents.iter().filter(|a| a.answers_to(&handle)).count();
        if matching != 1 {
            eprintln!(
                "warning: @{handle} matches {} agents; not mentioned",
                if matching == 0 {
                    "no".to_owned()
                } else {
                    matching.to_string()
                }
            );
        }
    }
    let mentions = replica
        .conversation(&id)?
        .entry(&entry)
        .map(|e| e.mentions.clone())
        .unwrap_or_default();
    if args.json {
        return print_json(
            out,
            &Noted {
                conversation_id: id.to_string(),
                entry_id: entry.to_string(),
                mentions,
            },
        );
    }
    write!(out, "Note {entry} added")?;
    if !mentions.is_empty() {
        let names: Vec<String> = mentions
            .iter()
            .map(|a| agent_name(&team, a.as_str()))
            .collect();
        write!(out, "; mentions {}", names.join(", "))?;
    }
    writeln!(out)?;
    Ok(())
}

/// What `assign --json` prints.
#[derive(Serialize)]
struct Assigned {
    conversation_id: String,
    assignee: Option<AgentId>,
}

/// Runs `shoal assign` (`agent: None` unassigns).
pub fn assign(
    home: &Path,
    conversation: &str,
    agent: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let mut replica = open(home)?;
    let id = resolve_conversation(&replica, conversation)?;
    let agent = agent.map(|a| replica.resolve_agent(a)).transpose()?;
    replica
        .assign(&id, agent.as_ref())
        .context("cannot change the assignee")?;
    if json {
        return print_json(
            out,
            &Assigned {
                conversation_id: id.to_string(),
                assignee: agent,
            },
        );
    }
    let short = short_id(id.as_str());
    match agent {
        Some(a) => {
            let name = agent_name(&replica.team()?, a.as_str());
            let you = if a == replica.identity().agent_id {
                " (you)"
            } else {
                ""
            };
            writeln!(out, "Assigned {short} to {name}{you}")?;
        }
        None => writeln!(out, "Unassigned {short}")?,
    }
    Ok(())
}

/// What `status CONV STATUS --json` prints.
#[derive(Serialize)]
struct StatusSet {
    conversation_id: String,
    status: Status,
    snooze_until: Option<Timestamp>,
}

/// What `status CONV pending --follow-up` and `closed --confirmed` print
/// with `--json`.
#[derive(Serialize)]
struct FollowThrough {
    conversation_id: String,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    follow_up_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolution: Option<shoal_core::Resolution>,
}

/// Runs `shoal status CONV pending --follow-up TIME` and `shoal status
/// CONV closed --confirmed`.
pub fn follow_through(
    home: &Path,
    conversation: &str,
    status: Status,
    follow_up: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let mut replica = open(home)?;
    let id = resolve_conversation(&replica, conversation)?;
    let short = short_id(id.as_str());
    let now = replica.now();
    let (follow_up_at, resolution) = match (status, follow_up) {
        (Status::Pending, Some(when_text)) => {
            let at = time_input::parse_until(when_text, &chrono::Local::now())
                .map(|t| Timestamp(t.timestamp_millis()))?;
            replica
                .await_confirmation(&id, at)
                .with_context(|| format!("cannot set {short} to wait for the customer"))?;
            (Some(at), None)
        }
        (Status::Closed, None) => {
            replica
                .close_as(&id, shoal_core::Resolution::Confirmed)
                .with_context(|| format!("cannot close {short}"))?;
            (None, Some(shoal_core::Resolution::Confirmed))
        }
        (Status::Pending, None) | (_, _) => bail!(
            "--follow-up goes with `pending` and --confirmed with `closed` \
             (e.g. `shoal status {short} pending --follow-up 3d`)"
        ),
    };
    if json {
        return print_json(
            out,
            &FollowThrough {
                conversation_id: id.to_string(),
                status,
                follow_up_at,
                resolution,
            },
        );
    }
    match follow_up_at {
        Some(t) => writeln!(
            out,
            "{short} waits for the customer to confirm; if they have not answered by {}, \
             it shows under follow-up and its assignee is reminded",
            when(t, now)
        )?,
        None => writeln!(
            out,
            "{short} is closed: the customer confirmed it is solved"
        )?,
    }
    Ok(())
}

/// Runs `shoal status CONV STATUS [--until TIME]`.
pub fn set_status(
    home: &Path,
    conversation: &str,
    status: Status,
    until: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    // "Until the customer replies" is what pending means: waiting for them,
    // and their answer reopens it.
    let (status, until) = match (status, until.map(str::trim)) {
        (Status::Snoozed, Some("reply")) => (Status::Pending, None),
        other => other,
    };
    let until = until
        .map(|s| time_input::parse_until(s, &chrono::Local::now()))
        .transpose()?
        .map(|t| Timestamp(t.timestamp_millis()));
    if status == Status::Snoozed && until.is_none() {
        bail!("snoozing needs --until TIME, e.g. --until 2h, --until tomorrow or --until monday");
    }
    let mut replica = open(home)?;
    let id = resolve_conversation(&replica, conversation)?;
    let short = short_id(id.as_str());
    let target = match until {
        Some(t) => format!("{status} until {}", render::datetime(t)),
        None => status.to_string(),
    };
    let now = replica.now();
    replica
        .set_status(&id, StatusChange { status, until })
        .map_err(|e| {
            let context = match (&e, until) {
                (ReplicaError::Core(CoreError::SnoozeInPast { .. }), Some(t)) => format!(
                    "cannot snooze {short} until {}: that is not in the future",
                    when(t, now)
                ),
                _ => format!("cannot set {short} to {target}"),
            };
            anyhow!(e).context(context)
        })?;
    if json {
        return print_json(
            out,
            &StatusSet {
                conversation_id: id.to_string(),
                status,
                snooze_until: until,
            },
        );
    }
    match until {
        Some(t) => writeln!(out, "{short} is now {status} until {}", when(t, now))?,
        None => writeln!(out, "{short} is now {status}")?,
    }
    Ok(())
}

/// What `priority --json` prints.
#[derive(Serialize)]
struct PrioritySet {
    conversation_id: String,
    priority: Priority,
}

/// Runs `shoal priority`.
/// What `unsend --json` prints.
#[derive(Serialize)]
struct Unsent {
    conversation_id: String,
    entry_id: String,
}

/// `shoal unsend`.
pub fn unsend(home: &Path, args: UnsendArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let id = resolve_conversation(&replica, &args.conversation)?;
    let entry = match &args.entry {
        Some(e) => Some(shoal_core::EntryId::parse(e).context("--entry")?),
        None => None,
    };
    let withdrawn = replica
        .unsend(&id, entry.as_ref())
        .context("cannot withdraw the reply")?;
    if args.json {
        return print_json(
            out,
            &Unsent {
                conversation_id: id.to_string(),
                entry_id: withdrawn.to_string(),
            },
        );
    }
    writeln!(
        out,
        "Withdrawn: your reply in {} will not be sent (sync to tell the relay)",
        short_id(id.as_str())
    )?;
    Ok(())
}

pub fn priority(home: &Path, args: PriorityArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let id = resolve_conversation(&replica, &args.conversation)?;
    replica
        .set_priority(&id, args.priority)
        .context("cannot change the priority")?;
    if args.json {
        return print_json(
            out,
            &PrioritySet {
                conversation_id: id.to_string(),
                priority: args.priority,
            },
        );
    }
    writeln!(
        out,
        "{} is now {} priority",
        short_id(id.as_str()),
        args.priority
    )?;
    Ok(())
}

/// What `tag --json` and `untag --json` print.
#[derive(Serialize)]
struct Tagged {
    conversation_id: String,
    /// Every tag of the conversation afterwards.
    tags: Vec<String>,
}

/// Runs `shoal tag` (`add`) or `shoal untag`.
pub fn tag(home: &Path, args: TagArgs, add: bool, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let id = resolve_conversation(&replica, &args.conversation)?;
    if add {
        replica
            .tag(&id, &args.tags)
            .context("cannot add the tags")?;
    } else {
        replica
            .untag(&id, &args.tags)
            .context("cannot remove the tags")?;
    }
    let tags = replica.conversation(&id)?.tags;
    if args.json {
        return print_json(
            out,
            &Tagged {
                conversation_id: id.to_string(),
                tags,
            },
        );
    }
    let shown = if tags.is_empty() {
        "none".to_owned()
    } else {
        tags.join(", ")
    };
    writeln!(out, "Tags of {}: {shown}", short_id(id.as_str()))?;
    Ok(())
}
