//! `shoal inbox`: a page of one inbox view.

use super::{agent_first_name, open, print_json};
use crate::args::InboxArgs;
use crate::render::{self, short_id, Table};
use anyhow::Result;
use serde::Serialize;
use shoal_core::{Status, Team, Timestamp};
use shoal_replica::{InboxQuery, InboxRow, InboxSort, InboxView};
use std::io::Write;
use std::path::Path;

/// Number of conversations in each view (`inbox --json` and `status --json`).
#[derive(Debug, Default, Serialize)]
pub struct ViewCounts {
    /// Open and assigned to me.
    pub mine: i64,
    /// Open and assigned to nobody.
    pub unassigned: i64,
    /// Notes @mention me.
    pub mentions: i64,
    /// Open, an answer due within the hour.
    #[serde(rename = "due-soon")]
    pub due_soon: i64,
    /// Open, the answer past due.
    pub overdue: i64,
    /// Pending for confirmation, follow-up time passed.
    #[serde(rename = "follow-up")]
    pub follow_up: i64,
    /// Open (including ended snoozes).
    pub open: i64,
    /// Waiting for the customer.
    pub pending: i64,
    /// Snoozed and not yet due.
    pub snoozed: i64,
    /// Closed.
    pub closed: i64,
    /// Everything.
    pub all: i64,
}

impl ViewCounts {
    /// From `Replica::inbox_counts`.
    pub fn new(counts: &[(InboxView, i64)]) -> Self {
        let mut c = Self::default();
        for &(view, n) in counts {
            let slot = match view {
                InboxView::Mine => &mut c.mine,
                InboxView::Unassigned => &mut c.unassigned,
                InboxView::Mentions => &mut c.mentions,
                InboxView::DueSoon => &mut c.due_soon,
                InboxView::Overdue => &mut c.overdue,
                InboxView::FollowUp => &mut c.follow_up,
                InboxView::Open => &mut c.open,
                InboxView::Pending => &mut c.pending,
                InboxView::Snoozed => &mut c.snoozed,
                InboxView::Closed => &mut c.closed,
                InboxView::All => &mut c.all,
            };
            *slot = n;
        }
        c
    }

    /// `open 3 · mine 1 · …` in sidebar order.
    pub fn summary(&self) -> String {
        format!(
            "mine {} · unassigned {} · mentions {} · due soon {} · overdue {} · follow up {} · open {} · pending {} · snoozed {} · closed {} · all {}",
            self.mine,
            self.unassigned,
            self.mentions,
            self.due_soon,
            self.overdue,
            self.follow_up,
            self.open,
            self.pending,
            self.snoozed,
            self.closed,
            self.all
        )
    }
}

/// What `inbox --json` prints.
#[derive(Serialize)]
struct InboxPage {
    view: InboxView,
    sort: InboxSort,
    counts: ViewCounts,
    conversations: Vec<InboxRow>,
}

/// Runs `shoal inbox`.
pub fn run(home: &Path, args: InboxArgs, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let view = args.status.map_or(args.view, |s| match s {
        Status::Open => InboxView::Open,
        Status::Pending => InboxView::Pending,
        Status::Snoozed => InboxView::Snoozed,
        Status::Closed => InboxView::Closed,
    });
    let query = InboxQuery {
        view,
        assignee: args
            .assignee
            .as_deref()
            .map(|a| replica.resolve_agent(a))
            .transpose()?,
        tag: args.tag.map(|t| t.trim().to_lowercase()),
        customer: args
            .customer
            .as_deref()
            .map(|c| replica.resolve_customer(c))
            .transpose()?,
        sort: args.sort,
        limit: args.limit,
        offset: args.offset,
    };
    let rows = replica.inbox(&query)?;
    let counts = ViewCounts::new(&replica.inbox_counts()?);
    if args.json {
        return print_json(
            out,
            &InboxPage {
                view,
                sort: args.sort,
                counts,
                conversations: rows,
            },
        );
    }
    writeln!(out, "{}", counts.summary())?;
    writeln!(out)?;
    if rows.is_empty() {
        writeln!(out, "No conversations in the {view} view match.")?;
        return Ok(());
    }
    write_table(out, &rows, &replica.team()?, replica.now())?;
    if rows.len() == args.limit {
        writeln!(
            out,
            "(more may follow: --offset {})",
            args.offset + args.limit
        )?;
    }
    Ok(())
}

/// The inbox table; also used for a customer's history.
pub fn write_table(
    out: &mut dyn Write,
    rows: &[InboxRow],
    team: &Team,
    now: Timestamp,
) -> Result<()> {
    let mut table = Table::new(&[
        "ID", "", "STATUS", "PRIORITY", "ASSIGNEE", "CUSTOMER", "SUBJECT", "ACTIVE", "DUE",
    ]);
    for row in rows {
        let mut status = row.status.to_string();
        if row.has_conflict {
            // Details (who set what) are in `shoal show`.
            status.push('!');
        }
        let customer = row
            .customer_name
            .clone()
            .or_else(|| row.customer_email.clone())
            .unwrap_or_else(|| short_id(&row.customer_id).to_owned());
        table.row(vec![
            short_id(&row.conversation_id).to_owned(),
            if row.unread { "●" } else { "" }.to_owned(),
            status,
            if row.priority == "normal" {
                String::new()
            } else {
                row.priority.clone()
            },
            row.assignee
                .as_deref()
                .map_or_else(|| "-".to_owned(), |a| agent_first_name(team, a)),
            render::truncate(&customer, 24),
            render::truncate(&row.subject, 48),
            render::age(row.last_activity, now),
            row.reply_due
                .map(|d| render::due(d, now))
                .unwrap_or_default(),
        ]);
    }
    table.write(out)?;
    if rows.iter().any(|r| r.has_conflict) {
        writeln!(
            out,
            "! = changed concurrently by several agents; `shoal show` tells who"
        )?;
    }
    Ok(())
}
