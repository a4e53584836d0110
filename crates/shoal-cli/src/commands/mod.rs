//! The commands, one module per group, and what they share: opening the
//! replica, reading bodies, printing JSON, and refusals with their own exit
//! codes.

pub mod agent;
pub mod backup;
pub mod conversation;
pub mod customer;
pub mod held;
pub mod inbox;
pub mod init;
pub mod maintenance;
pub mod notifications;
pub mod report;
pub mod search;
pub mod status;
pub mod sync;
pub mod team;
pub mod template;

use crate::args::{
    AgentCommand, BodyArgs, Cli, Command, CustomerCommand, HolidayCommand, TeamCommand,
    TemplateCommand, TierCommand,
};
use crate::home;
use anyhow::{anyhow, Context, Result};
use serde::Serialize;
use shoal_core::{ConversationId, Customer, CustomerId, Team};
use shoal_replica::{Replica, ReplicaError};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::Path;

/// Exit code of a reply refused by the send guard.
pub const EXIT_SEND_GUARD: u8 = 3;

/// A refusal that ends the program with a specific exit code (the message
/// still goes to stderr like any error).
#[derive(Debug)]
pub struct Refusal {
    /// Process exit code.
    pub code: u8,
    /// What to tell the user.
    pub message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}

/// Runs the parsed command line, writing results to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    let home = home::resolve(cli.home)?;
    let home = home.as_path();
    match cli.command {
        Command::Init(a) => init::run(home, a, out),
        Command::New(a) => conversation::new(home, a, out),
        Command::Write(a) => conversation::write(home, a, out),
        Command::Inbox(a) => inbox::run(home, a, out),
        Command::Show(a) => conversation::show(home, a, out),
        Command::Reply(a) => conversation::reply(home, a, out),
        Command::Note(a) => conversation::note(home, a, out),
        Command::Held(a) => held::list(home, a, out),
        Command::Notifications(a) => notifications::watch(home, a, out),
        Command::Release(a) => held::release(home, a, out),
        Command::Discard(a) => held::discard(home, a, out),
        Command::Assign(a) => {
            let agent = (a.agent != "none").then_some(a.agent.as_str());
            conversation::assign(home, &a.conversation, agent, a.json, out)
        }
        Command::Unassign(a) => conversation::assign(home, &a.conversation, None, a.json, out),
        Command::Status(a) => match (a.conversation, a.status) {
            (Some(conv), Some(to)) if a.follow_up.is_some() || a.confirmed => {
                conversation::follow_through(home, &conv, to, a.follow_up.as_deref(), a.json, out)
            }
            (Some(conv), Some(to)) => {
                conversation::set_status(home, &conv, to, a.until.as_deref(), a.json, out)
            }
            _ => status::run(home, a.json, out),
        },
        Command::Priority(a) => conversation::priority(home, a, out),
        Command::Unsend(a) => conversation::unsend(home, a, out),
        Command::Tag(a) => conversation::tag(home, a, true, out),
        Command::Untag(a) => conversation::tag(home, a, false, out),
        Command::Customer(c) => match c {
            CustomerCommand::Show(a) => customer::show(home, a, out),
            CustomerCommand::List(a) => customer::list(home, a, out),
            CustomerCommand::New(a) => customer::new(home, a, out),
            CustomerCommand::Edit(a) => customer::edit(home, a, out),
            CustomerCommand::Note(a) => customer::note(home, a, out),
            CustomerCommand::Link(a) => customer::link(home, a, out),
        },
        Command::Search(a) => search::run(home, a, out),
        Command::Export(a) => backup::export(home, a, out),
        Command::Import(a) => backup::import(home, a, out),
        Command::Reindex(a) => maintenance::reindex(home, a.json, out),
        Command::Compact(a) => maintenance::compact(home, a.json, out),
        Command::Check(a) => maintenance::check(home, a.json, out),
        Command::Agent(c) => match c {
            AgentCommand::Add(a) => agent::add(home, a, out),
            AgentCommand::List(a) => agent::list(home, a.json, out),
            AgentCommand::Availability(a) => agent::availability(home, a, out),
            AgentCommand::Hours(a) => agent::hours(home, a, out),
        },
        Command::Report(a) => report::run(home, a, out),
        Command::Team(c) => match c {
            TeamCommand::Show(a) => team::show(home, a.json, out),
            TeamCommand::Hours(a) => team::hours(home, a, out),
            TeamCommand::Holiday(HolidayCommand::Add(a)) => team::holiday_add(home, a, out),
            TeamCommand::Holiday(HolidayCommand::Remove(a)) => team::holiday_remove(home, a, out),
            TeamCommand::Sla(a) => team::sla(home, a, out),
            TeamCommand::Tier(TierCommand::Set(a)) => team::tier_set(home, a, out),
            TeamCommand::Tier(TierCommand::Remove(a)) => team::tier_remove(home, a, out),
            TeamCommand::Ack(a) => team::ack(home, a, out),
            TeamCommand::AutoClose(a) => team::auto_close(home, a, out),
        },
        Command::Template(c) => match c {
            TemplateCommand::Set(a) => template::set(home, a, out),
            TemplateCommand::List(a) => template::list(home, a.json, out),
            TemplateCommand::Remove(a) => template::remove(home, a, out),
        },
        Command::Login(a) => sync::login(home, a, out),
        Command::Sync(a) => sync::sync(home, a, out),
        Command::Presence(a) => sync::presence(home, a, out),
    }
}

/// Opens the replica in `home`. "Not initialized" is passed through as is:
/// its message already tells the user to run `shoal init`.
pub fn open(home: &Path) -> Result<Replica> {
    let path = home::replica_path(home);
    Replica::open(&path).map_err(|e| match e {
        ReplicaError::NotInitialized(_) => anyhow!(e),
        other => anyhow!(other).context(format!("cannot open the replica {}", path.display())),
    })
}

/// Resolves a conversation id or unique prefix, with a hint when the prefix
/// is too short to be looked up at all.
pub fn resolve_conversation(replica: &Replica, query: &str) -> Result<ConversationId> {
    replica.resolve_conversation(query).map_err(|e| {
        let short = query.trim().chars().count() < 4;
        match e {
            ReplicaError::NotFound { .. } if short => {
                anyhow!(e).context("conversation ids need at least 4 characters")
            }
            other => anyhow!(other),
        }
    })
}

/// Writes `value` as pretty JSON and a newline.
pub fn print_json(out: &mut dyn Write, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// The text of a `--body`/`--body-file` pair (`-` means stdin for both).
pub fn read_body(args: &BodyArgs) -> Result<String> {
    read_text(args.body.as_deref(), args.body_file.as_deref())
}

/// Text given inline or in a file; `-` in either reads stdin.
pub fn read_text(inline: Option<&str>, file: Option<&Path>) -> Result<String> {
    match (inline, file) {
        (Some("-"), _) => read_stdin(),
        (Some(text), _) => Ok(text.to_owned()),
        (None, Some(path)) if path == Path::new("-") => read_stdin(),
        (None, Some(path)) => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        }
        (None, None) => Err(anyhow!(
            "no text given: pass --body TEXT or --body-file PATH"
        )),
    }
}

fn read_stdin() -> Result<String> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("Reading the text from stdin; end it with Ctrl-D.");
    }
    let mut text = String::new();
    stdin
        .read_to_string(&mut text)
        .context("cannot read the text from stdin")?;
    Ok(text)
}

/// Opens an export file, or stdin for `-`.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead>> {
    if path == Path::new("-") {
        return Ok(Box::new(BufReader::new(std::io::stdin())));
    }
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Box::new(BufReader::new(file)))
}

/// The customer, or `None` when its document has not arrived (yet).
pub fn customer_if_present(replica: &Replica, id: &CustomerId) -> Result<Option<Customer>> {
    match replica.customer(id) {
        Ok(c) => Ok(Some(c)),
        Err(ReplicaError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The display name of an agent id (an unknown agent shows its short id).
pub fn agent_name(team: &Team, id: &str) -> String {
    team.agents
        .iter()
        .find(|a| a.id.as_str() == id)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| format!("agent {}", crate::render::short_id(id)))
}

/// The first name of an agent id, for narrow columns.
pub fn agent_first_name(team: &Team, id: &str) -> String {
    team.agents
        .iter()
        .find(|a| a.id.as_str() == id)
        .map(|a| a.first_name().to_owned())
        .unwrap_or_else(|| crate::render::short_id(id).to_owned())
}
