//! `shoal report`: the team's weeks in numbers, computed offline from this
//! replica (docs/workflow.md). Team level only: no agent is ranked.

use super::{open, print_json};
use crate::args::ReportArgs;
use crate::render::Table;
use anyhow::{Context, Result};
use shoal_core::report::Spread;
use std::io::Write;
use std::path::Path;

/// A duration as a person reads it: `45m`, `3h20m`, `2d4h`.
pub fn duration(ms: i64) -> String {
    let minutes = (ms + 30_000) / 60_000;
    match (minutes / (24 * 60), (minutes / 60) % 24, minutes % 60) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

fn spread(s: &Spread) -> String {
    match (s.median_ms, s.p90_ms) {
        (Some(m), Some(p)) => format!("{} / {}", duration(m), duration(p)),
        _ => "–".to_owned(),
    }
}

/// Runs `shoal report`.
pub fn run(home: &Path, args: ReportArgs, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let report = replica
        .report(args.weeks)
        .context("cannot compute the report")?;
    if let Some(dir) = &args.svg {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, svg) in shoal_core::report_charts::charts(&report) {
            let path = dir.join(name);
            std::fs::write(&path, svg)
                .with_context(|| format!("cannot write {}", path.display()))?;
            if !args.json {
                writeln!(out, "wrote {}", path.display())?;
            }
        }
    }
    if args.json {
        return print_json(out, &report);
    }
    writeln!(
        out,
        "The team's last {} weeks (weeks in {}; response times in business hours; \
         median / 90th percentile)",
        report.weeks.len(),
        report.time_zone
    )?;
    writeln!(out)?;
    let mut table = Table::new(&[
        "WEEK OF",
        "OPENED",
        "FIRST RESPONSE",
        "NEXT RESPONSE",
        "RESOLUTION",
        "WITHIN TARGET",
        "CLOSED (CONFIRMED)",
        "BACKLOG",
    ]);
    for w in &report.weeks {
        let closed = w.closed_confirmed + w.closed_no_reply + w.closed_other;
        table.row(vec![
            w.week.clone(),
            w.opened.to_string(),
            spread(&w.first_response),
            spread(&w.next_response),
            spread(&w.resolution),
            w.target_rate
                .map(|r| format!("{:.0}% of {}", r * 100.0, w.responses))
                .unwrap_or_else(|| "–".to_owned()),
            format!("{closed} ({})", w.closed_confirmed),
            w.backlog_at_end.to_string(),
        ]);
    }
    table.write(out)?;
    if let Some(last) = report.weeks.last() {
        let list = |m: &std::collections::BTreeMap<String, u32>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(out)?;
        writeln!(out, "This week by channel: {}", list(&last.by_channel))?;
        writeln!(out, "This week by tier:    {}", list(&last.by_tier))?;
        if !last.by_tag.is_empty() {
            writeln!(out, "This week by tag:     {}", list(&last.by_tag))?;
        }
        let requests: Vec<String> = report
            .weeks
            .iter()
            .map(|w| w.feature_requests.to_string())
            .collect();
        writeln!(
            out,
            "Feature requests per week (tag {}): {}{}",
            shoal_core::report::FEATURE_REQUEST,
            requests.join(" · "),
            if last.features.is_empty() {
                String::new()
            } else {
                format!("; this week: {}", list(&last.features))
            }
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(45 * 60_000), "45m");
        assert_eq!(duration(3 * 3_600_000), "3h");
        assert_eq!(duration(3 * 3_600_000 + 20 * 60_000), "3h20m");
        assert_eq!(duration(2 * 86_400_000 + 4 * 3_600_000), "2d4h");
        assert_eq!(duration(86_400_000), "1d");
        assert_eq!(duration(10_000), "0m");
    }
}
