//! `shoal agent add|list|availability|hours`.

use super::{open, print_json};
use crate::args::{AgentAddArgs, AgentHoursArgs, AvailabilityArgs};
use crate::render::Table;
use anyhow::{Context, Result};
use serde::Serialize;
use shoal_core::{Agent, BusinessHours};
use std::io::Write;
use std::path::Path;

/// What `agent add --json` prints.
#[derive(Serialize)]
struct Added {
    agent_id: String,
}

/// Runs `shoal agent add`.
pub fn add(home: &Path, args: AgentAddArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let id = replica
        .add_agent(&args.name, &args.email, args.role)
        .context("cannot add the agent")?;
    if args.json {
        return print_json(
            out,
            &Added {
                agent_id: id.to_string(),
            },
        );
    }
    writeln!(
        out,
        "Added {} <{}> as {} ({id})",
        args.name.trim(),
        args.email.trim(),
        args.role
    )?;
    writeln!(
        out,
        "They can join with an export: `shoal export --out team.jsonl`, then on their \
         machine `shoal init --from team.jsonl --agent {}`",
        args.email.trim()
    )?;
    Ok(())
}

/// Runs `shoal agent availability`.
pub fn availability(home: &Path, args: AvailabilityArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    replica
        .set_my_availability(args.availability)
        .context("cannot change your availability")?;
    let what = if args.availability.takes_new_work() {
        "new unassigned conversations notify you"
    } else {
        "new unassigned conversations go to available teammates"
    };
    writeln!(
        out,
        "You are {} ({what}); the team sees it once this replica syncs.",
        args.availability
    )?;
    Ok(())
}

/// Runs `shoal agent hours`.
pub fn hours(home: &Path, args: AgentHoursArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    if args.off {
        replica
            .set_my_working_hours(None)
            .context("cannot clear your working hours")?;
        writeln!(
            out,
            "You keep no working hours of your own; your availability alone counts."
        )?;
        return Ok(());
    }
    let (Some(days), Some(from), Some(to)) = (&args.days, &args.from, &args.to) else {
        anyhow::bail!("give --days, --from and --to, or --off");
    };
    let hours = BusinessHours {
        time_zone: match &args.time_zone {
            Some(tz) => tz.trim().to_owned(),
            None => replica.team()?.business_hours.time_zone,
        },
        days: super::team::parse_days(days)?,
        start_minute: super::team::parse_clock(from)?,
        end_minute: super::team::parse_clock(to)?,
        holidays: Default::default(),
    };
    replica
        .set_my_working_hours(Some(&hours))
        .context("cannot set your working hours")?;
    writeln!(
        out,
        "Your working hours: {}; outside them the team sees you as off.",
        hours.describe()
    )?;
    Ok(())
}

/// One agent in `agent list --json`.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    agent: &'a Agent,
    /// Their availability now (off outside their working hours).
    available_now: shoal_core::AgentAvailability,
    /// Whether this replica acts as this agent.
    you: bool,
}

/// What `agent list --json` prints.
#[derive(Serialize)]
struct AgentList<'a> {
    agents: Vec<Listed<'a>>,
}

/// Runs `shoal agent list`.
pub fn list(home: &Path, json: bool, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let team = replica.team()?;
    let me = &replica.identity().agent_id;
    let agents: Vec<Listed> = team
        .agents
        .iter()
        .map(|agent| Listed {
            agent,
            available_now: agent.availability_at(replica.now()),
            you: &agent.id == me,
        })
        .collect();
    if json {
        return print_json(out, &AgentList { agents });
    }
    let now = replica.now();
    let mut table = Table::new(&["NAME", "E-MAIL", "ROLE", "AVAILABILITY", "HOURS", "ID"]);
    for l in &agents {
        let mut name = l.agent.name.clone();
        if l.you {
            name.push_str(" (you)");
        }
        table.row(vec![
            name,
            l.agent.email.clone(),
            l.agent.role.to_string(),
            l.agent.availability_at(now).to_string(),
            l.agent
                .working_hours
                .as_ref()
                .map_or_else(|| "team's".to_owned(), |h| h.describe()),
            l.agent.id.to_string(),
        ]);
    }
    table.write(out)?;
    Ok(())
}
