//! `shoal team show|hours|holiday|sla|tier|ack`: the settings the reply
//! clock, new conversations' priorities and acknowledgements come from.

use super::{open, print_json};
use crate::args::{
    HolidayAddArgs, HolidayRemoveArgs, TeamAckArgs, TeamAutoCloseArgs, TeamHoursArgs, TeamSlaArgs,
    TierRemoveArgs, TierSetArgs,
};
use crate::render::Table;
use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use shoal_core::{Acknowledgement, BusinessHours, Priority, SlaTarget, Team};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `mon-fri` or `mon,wed,fri` as weekday numbers (Monday = 1).
pub fn parse_days(input: &str) -> Result<Vec<u8>> {
    let day = |s: &str| -> Result<u8> {
        let s = s.trim().to_lowercase();
        DAY_NAMES
            .iter()
            .position(|d| s.starts_with(d) && d.len() <= s.len())
            .map(|i| i as u8 + 1)
            .ok_or_else(|| anyhow!("`{s}` is not a day: use mon, tue, wed, thu, fri, sat or sun"))
    };
    let mut days = Vec::new();
    for part in input.split(',').filter(|p| !p.trim().is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                if a > b {
                    bail!(
                        "the range `{part}` runs backwards: write it from Monday on (e.g. mon-fri)"
                    );
                }
                days.extend(a..=b);
            }
            None => days.push(day(part)?),
        }
    }
    days.sort_unstable();
    days.dedup();
    if days.is_empty() {
        bail!("no working days given: use a range (mon-fri) or a list (mon,tue,thu)");
    }
    Ok(days)
}

/// A time of day `HH:MM` (24:00 for midnight) in minutes after midnight.
pub fn parse_clock(input: &str) -> Result<u16> {
    shoal_core::parse_hhmm(input)
        .map_err(|_| anyhow!("`{input}` is not a time of day: use HH:MM, e.g. 09:00 or 17:30"))
}

/// A span of business time (`30m`, `2h`, `1h30m`, or plain minutes) in
/// minutes.
pub fn parse_span(input: &str) -> Result<u32> {
    let s = input.trim().to_lowercase();
    let bad = || anyhow!("`{input}` is not a span: use e.g. 30m, 2h or 1h30m");
    if let Ok(minutes) = s.parse::<u32>() {
        return Ok(minutes);
    }
    let mut total: u32 = 0;
    let mut number = String::new();
    for c in s.chars() {
        match c {
            '0'..='9' => number.push(c),
            'h' | 'm' if !number.is_empty() => {
                let n: u32 = number.parse().map_err(|_| bad())?;
                let unit = if c == 'h' { 60 } else { 1 };
                total = total
                    .checked_add(n.checked_mul(unit).ok_or_else(bad)?)
                    .ok_or_else(bad)?;
                number.clear();
            }
            _ => return Err(bad()),
        }
    }
    if !number.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(total)
}

/// Minutes as `2h`, `45m` or `1h30m`.
pub fn span(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

fn days_text(days: &[u8]) -> String {
    days.iter()
        .filter_map(|d| DAY_NAMES.get(usize::from(*d).wrapping_sub(1)))
        .copied()
        .collect::<Vec<_>>()
        .join(",")
}

/// What `team show --json` prints.
#[derive(Serialize)]
struct Settings<'a> {
    name: &'a str,
    business_hours: &'a BusinessHours,
    sla: &'a BTreeMap<Priority, SlaTarget>,
    tiers: &'a BTreeMap<String, Priority>,
    acknowledgements: &'a BTreeMap<String, Acknowledgement>,
    auto_close_days: Option<u32>,
}

/// Runs `shoal team show`.
pub fn show(home: &Path, json: bool, out: &mut dyn Write) -> Result<()> {
    let team = open(home)?.team()?;
    if json {
        return print_json(
            out,
            &Settings {
                name: &team.name,
                business_hours: &team.business_hours,
                sla: &team.sla,
                tiers: &team.tiers,
                acknowledgements: &team.acknowledgements,
                auto_close_days: team.auto_close_days,
            },
        );
    }
    write_settings(out, &team)
}

fn write_settings(out: &mut dyn Write, team: &Team) -> Result<()> {
    let h = &team.business_hours;
    writeln!(out, "{}", team.name)?;
    writeln!(
        out,
        "  hours     {} {}–{} ({})",
        days_text(&h.days),
        shoal_core::hhmm(h.start_minute),
        shoal_core::hhmm(h.end_minute),
        h.time_zone
    )?;
    if h.holidays.is_empty() {
        writeln!(out, "  holidays  none")?;
    } else {
        for (i, (date, label)) in h.holidays.iter().enumerate() {
            let head = if i == 0 {
                "  holidays  "
            } else {
                "            "
            };
            writeln!(out, "{head}{date} {label}")?;
        }
    }
    writeln!(out)?;
    let mut table = Table::new(&["PRIORITY", "FIRST RESPONSE", "NEXT RESPONSE"]);
    for p in Priority::ALL.iter().rev() {
        if let Some(t) = team.sla.get(p) {
            table.row(vec![
                p.to_string(),
                span(t.first_response_minutes),
                span(t.next_response_minutes),
            ]);
        }
    }
    table.write(out)?;
    writeln!(out, "Targets count business time only.")?;
    writeln!(out)?;
    if team.tiers.is_empty() {
        writeln!(
            out,
            "No support tiers: every new conversation starts at normal priority."
        )?;
    } else {
        let mut table = Table::new(&["TIER", "PRIORITY OF NEW CONVERSATIONS"]);
        for (tier, p) in &team.tiers {
            table.row(vec![tier.clone(), p.to_string()]);
        }
        table.write(out)?;
    }
    writeln!(out)?;
    if team.acknowledgements.is_empty() {
        writeln!(
            out,
            "No automatic acknowledgements (`shoal team ack MAILBOX` turns one on)."
        )?;
    }
    match team.auto_close_days {
        Some(days) => writeln!(
            out,
            "Pending conversations close as \"no reply\" after {days} business day{} of silence.",
            if days == 1 { "" } else { "s" }
        )?,
        None => writeln!(
            out,
            "Pending conversations stay pending (`shoal team auto-close DAYS` closes silent ones)."
        )?,
    }
    for (mailbox, ack) in &team.acknowledgements {
        writeln!(
            out,
            "Acknowledgement of new conversations at {mailbox} (at most one per customer \
             every {} h):",
            ack.every_hours
        )?;
        for line in ack.text.lines() {
            writeln!(out, "  | {line}")?;
        }
    }
    Ok(())
}

/// Runs `shoal team ack`.
pub fn ack(home: &Path, args: TeamAckArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let mailbox = args.mailbox.trim().to_lowercase();
    if args.off {
        replica
            .set_acknowledgement(&mailbox, None)
            .context("cannot turn the acknowledgement off")?;
        writeln!(
            out,
            "New conversations at {mailbox} get no automatic acknowledgement."
        )?;
        return Ok(());
    }
    let text = match (&args.text, &args.text_file) {
        (Some(t), _) => t.clone(),
        (None, Some(f)) => {
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?
        }
        (None, None) => shoal_core::DEFAULT_ACKNOWLEDGEMENT.to_owned(),
    };
    if args.every_hours == 0 {
        bail!("--every-hours must be at least 1");
    }
    let ack = Acknowledgement {
        text,
        every_hours: args.every_hours,
    };
    replica
        .set_acknowledgement(&mailbox, Some(&ack))
        .context("cannot turn the acknowledgement on")?;
    writeln!(
        out,
        "New conversations at {mailbox} are acknowledged (at most once per customer every {} h), \
         once this replica syncs:",
        ack.every_hours
    )?;
    for line in ack.text.lines() {
        writeln!(out, "  | {line}")?;
    }
    Ok(())
}

/// Runs `shoal team auto-close`.
pub fn auto_close(home: &Path, args: TeamAutoCloseArgs, out: &mut dyn Write) -> Result<()> {
    let days = match args.days.trim() {
        "off" | "never" => None,
        n => Some(
            n.parse::<u32>()
                .ok()
                .filter(|d| (1..=365).contains(d))
                .with_context(|| {
                    format!("`{n}` is neither a number of business days (1–365) nor `off`")
                })?,
        ),
    };
    open(home)?
        .set_auto_close(days)
        .context("cannot change the auto-close")?;
    match days {
        Some(d) => writeln!(
            out,
            "The relay closes pending conversations as \"no reply\" after {d} business day{} \
             of customer silence, once this replica syncs.",
            if d == 1 { "" } else { "s" }
        )?,
        None => writeln!(
            out,
            "Pending conversations stay pending until someone closes them."
        )?,
    }
    Ok(())
}

/// Runs `shoal team hours`.
pub fn hours(home: &Path, args: TeamHoursArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let mut hours = replica.team()?.business_hours;
    if args.time_zone.is_none() && args.days.is_none() && args.from.is_none() && args.to.is_none() {
        bail!(
            "nothing to change: give --time-zone, --days, --from or --to (see `shoal team show`)"
        );
    }
    if let Some(tz) = args.time_zone {
        hours.time_zone = tz.trim().to_owned();
    }
    if let Some(days) = args.days {
        hours.days = parse_days(&days)?;
    }
    if let Some(from) = args.from {
        hours.start_minute = parse_clock(&from)?;
    }
    if let Some(to) = args.to {
        hours.end_minute = parse_clock(&to)?;
    }
    replica
        .set_business_hours(&hours)
        .context("cannot change the business hours")?;
    if args.json {
        return print_json(out, &hours);
    }
    writeln!(
        out,
        "Business hours: {} {}–{} ({}). Due times follow at the next sync.",
        days_text(&hours.days),
        shoal_core::hhmm(hours.start_minute),
        shoal_core::hhmm(hours.end_minute),
        hours.time_zone
    )?;
    Ok(())
}

/// Runs `shoal team holiday add`.
pub fn holiday_add(home: &Path, args: HolidayAddArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    replica
        .add_holiday(args.date.trim(), &args.label)
        .context("cannot add the holiday")?;
    writeln!(
        out,
        "{} is a day off; no clock runs on it.",
        args.date.trim()
    )?;
    Ok(())
}

/// Runs `shoal team holiday remove`.
pub fn holiday_remove(home: &Path, args: HolidayRemoveArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    if !replica
        .remove_holiday(args.date.trim())
        .context("cannot remove the holiday")?
    {
        bail!(
            "{} is not one of the team's holidays (see `shoal team show`)",
            args.date.trim()
        );
    }
    writeln!(out, "{} is a normal day again.", args.date.trim())?;
    Ok(())
}

/// Runs `shoal team sla`.
pub fn sla(home: &Path, args: TeamSlaArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let team = replica.team()?;
    let mut target = team.sla.get(&args.priority).copied().unwrap_or(SlaTarget {
        first_response_minutes: 240,
        next_response_minutes: 480,
    });
    if args.first.is_none() && args.next.is_none() {
        bail!("nothing to change: give --first or --next (e.g. --first 2h --next 4h)");
    }
    if let Some(first) = &args.first {
        target.first_response_minutes = parse_span(first)?;
    }
    if let Some(next) = &args.next {
        target.next_response_minutes = parse_span(next)?;
    }
    replica
        .set_sla(args.priority, target)
        .context("cannot change the response targets")?;
    writeln!(
        out,
        "{} priority: first response within {}, each next within {} (business time).",
        args.priority,
        span(target.first_response_minutes),
        span(target.next_response_minutes)
    )?;
    Ok(())
}

/// Runs `shoal team tier set`.
pub fn tier_set(home: &Path, args: TierSetArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let tier = args.tier.trim().to_lowercase();
    replica
        .set_tier(&tier, args.priority)
        .context("cannot set the tier")?;
    writeln!(
        out,
        "Customers in tier {tier} start new conversations at {} priority \
         (set one with `shoal customer edit CUSTOMER --tier {tier}`).",
        args.priority
    )?;
    Ok(())
}

/// Runs `shoal team tier remove`.
pub fn tier_remove(home: &Path, args: TierRemoveArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let tier = args.tier.trim().to_lowercase();
    if !replica
        .remove_tier(&tier)
        .context("cannot remove the tier")?
    {
        bail!("the team has no tier `{tier}` (see `shoal team show`)");
    }
    writeln!(
        out,
        "Tier {tier} removed; its customers' new conversations start at normal."
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days() {
        assert_eq!(parse_days("mon-fri").unwrap(), vec![1, 2, 3, 4, 5]);
        assert_eq!(parse_days("Monday,wed, sun").unwrap(), vec![1, 3, 7]);
        assert_eq!(parse_days("sat-sun,mon").unwrap(), vec![1, 6, 7]);
        assert!(parse_days("fri-mon").is_err());
        assert!(parse_days("funday").is_err());
        assert!(parse_days("").is_err());
    }

    #[test]
    fn clocks() {
        assert_eq!(parse_clock("09:00").unwrap(), 540);
        assert_eq!(parse_clock("17:30").unwrap(), 1050);
        assert_eq!(parse_clock("24:00").unwrap(), 1440);
        for bad in ["24:01", "9", "09:60", "ab:cd"] {
            assert!(parse_clock(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn spans() {
        assert_eq!(parse_span("30m").unwrap(), 30);
        assert_eq!(parse_span("2h").unwrap(), 120);
        assert_eq!(parse_span("1h30m").unwrap(), 90);
        assert_eq!(parse_span("45").unwrap(), 45);
        for bad in ["", "h", "2x", "0m", "1h30"] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
        assert_eq!(span(90), "1h30m");
        assert_eq!(span(120), "2h");
        assert_eq!(span(45), "45m");
    }
}
