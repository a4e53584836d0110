//! Inbox queries over the derived tables; no document is loaded.

use crate::Result;
use rusqlite::{named_params, Connection, Row};
use serde::Serialize;
use shoal_core::{effective_status, AgentId, CustomerId, Status, Timestamp};
use std::fmt;
use std::str::FromStr;

/// The inbox views of the support workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InboxView {
    /// Open and assigned to me.
    Mine,
    /// Open and assigned to nobody.
    Unassigned,
    /// Conversations whose notes @mention me, whatever their status.
    Mentions,
    /// Open, and an answer is due within the next hour.
    DueSoon,
    /// Open, and the answer is past due.
    Overdue,
    /// Pending for the customer's confirmation, and the follow-up time has
    /// come without an answer.
    FollowUp,
    /// Everything open (including snoozes that have ended).
    Open,
    /// Waiting for the customer.
    Pending,
    /// Snoozed and not yet due.
    Snoozed,
    /// Closed.
    Closed,
    /// Everything.
    All,
}

impl InboxView {
    /// Every view, in sidebar order.
    pub const ALL: [InboxView; 11] = [
        InboxView::Mine,
        InboxView::Unassigned,
        InboxView::Mentions,
        InboxView::DueSoon,
        InboxView::Overdue,
        InboxView::FollowUp,
        InboxView::Open,
        InboxView::Pending,
        InboxView::Snoozed,
        InboxView::Closed,
        InboxView::All,
    ];

    /// The view's name.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxView::Mine => "mine",
            InboxView::Unassigned => "unassigned",
            InboxView::Mentions => "mentions",
            InboxView::DueSoon => "due-soon",
            InboxView::Overdue => "overdue",
            InboxView::FollowUp => "follow-up",
            InboxView::Open => "open",
            InboxView::Pending => "pending",
            InboxView::Snoozed => "snoozed",
            InboxView::Closed => "closed",
            InboxView::All => "all",
        }
    }

    fn condition(self) -> String {
        const OPEN: &str =
            "(i.status = 'open' OR (i.status = 'snoozed' AND i.snooze_until <= :now))";
        match self {
            InboxView::Mine => format!("{OPEN} AND i.assignee = :me"),
            InboxView::Unassigned => format!("{OPEN} AND i.assignee IS NULL"),
            InboxView::Mentions => {
                "i.conv_id IN (SELECT conv_id FROM inbox_mentions WHERE agent_id = :me)".to_owned()
            }
            InboxView::DueSoon => {
                format!("{OPEN} AND i.reply_due > :now AND i.reply_due <= :now + {DUE_SOON_MS}")
            }
            InboxView::Overdue => format!("{OPEN} AND i.reply_due <= :now"),
            InboxView::FollowUp => "i.status = 'pending' AND i.follow_up_at <= :now".to_owned(),
            InboxView::Open => OPEN.to_owned(),
            InboxView::Pending => "i.status = 'pending'".to_owned(),
            InboxView::Snoozed => "i.status = 'snoozed' AND i.snooze_until > :now".to_owned(),
            InboxView::Closed => "i.status = 'closed'".to_owned(),
            InboxView::All => "1".to_owned(),
        }
    }
}

impl fmt::Display for InboxView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InboxView {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown view `{s}`: use mine, unassigned, mentions, due-soon, overdue, follow-up, open, pending, snoozed, closed or all"))
    }
}

/// How long before its due time a conversation counts as "due soon".
pub const DUE_SOON_MS: i64 = 3_600_000;

/// The order of an inbox page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InboxSort {
    /// Newest activity first.
    #[default]
    Activity,
    /// Soonest due first (overdue at the top); those owed nothing last.
    Due,
    /// The customer who has waited longest first; those owed nothing last.
    Waiting,
}

impl InboxSort {
    /// The order's name.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxSort::Activity => "activity",
            InboxSort::Due => "due",
            InboxSort::Waiting => "waiting",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            InboxSort::Activity => "i.last_activity DESC, i.conv_id DESC",
            InboxSort::Due => "i.reply_due IS NULL, i.reply_due, i.conv_id",
            InboxSort::Waiting => "i.waiting_since IS NULL, i.waiting_since, i.conv_id",
        }
    }
}

impl FromStr for InboxSort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [InboxSort::Activity, InboxSort::Due, InboxSort::Waiting]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown order `{s}`: use activity, due or waiting"))
    }
}

/// A page of the inbox.
#[derive(Clone, Debug)]
pub struct InboxQuery {
    /// Which view.
    pub view: InboxView,
    /// Only conversations assigned to this agent.
    pub assignee: Option<AgentId>,
    /// Only conversations with this tag.
    pub tag: Option<String>,
    /// Only this customer's conversations.
    pub customer: Option<CustomerId>,
    /// Order of the rows.
    pub sort: InboxSort,
    /// Page size.
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

impl InboxQuery {
    /// The first page (50 rows) of a view.
    pub fn view(view: InboxView) -> Self {
        Self {
            view,
            assignee: None,
            tag: None,
            customer: None,
            sort: InboxSort::Activity,
            limit: 50,
            offset: 0,
        }
    }
}

/// One row of the inbox list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboxRow {
    /// Conversation id.
    pub conversation_id: String,
    /// Subject line.
    pub subject: String,
    /// Customer id.
    pub customer_id: String,
    /// Customer name, when the customer document is present.
    pub customer_name: Option<String>,
    /// Customer's primary e-mail.
    pub customer_email: Option<String>,
    /// Channel.
    pub channel: String,
    /// Status as it stands now (an ended snooze shows as open).
    pub status: Status,
    /// End of the snooze.
    pub snooze_until: Option<Timestamp>,
    /// Assigned agent.
    pub assignee: Option<String>,
    /// Priority.
    pub priority: String,
    /// Tags.
    pub tags: Vec<String>,
    /// When it was opened.
    pub created_at: Timestamp,
    /// Newest entry.
    pub last_activity: Timestamp,
    /// Number of entries.
    pub entry_count: i64,
    /// Whether a customer message has not been shown to the replica's agent.
    pub unread: bool,
    /// Start of the newest entry.
    pub preview: String,
    /// Whether agents changed a single-valued field concurrently.
    pub has_conflict: bool,
    /// Whether a reply in it is held back (a collision) until its author decides.
    pub held: bool,
    /// Since when the customer has waited for an answer (none: they do not).
    pub waiting_since: Option<Timestamp>,
    /// Whether the team has not answered this conversation yet.
    pub first_response: bool,
    /// When the answer is due by the team's hours and response targets.
    pub reply_due: Option<Timestamp>,
    /// Pending for confirmation: when to follow up.
    pub follow_up_at: Option<Timestamp>,
}

const SELECT: &str = "SELECT i.conv_id, i.subject, i.customer_id, c.name, c.primary_email, i.channel, i.status,
        i.snooze_until, i.assignee, i.priority, i.tags, i.created_at, i.last_activity, i.entry_count,
        (i.last_customer_at IS NOT NULL AND r.agent_id IS NULL) AS unread,
        i.preview, i.has_conflict,
        EXISTS (SELECT 1 FROM held_replies h WHERE h.conv_id = i.conv_id) AS held,
        i.waiting_since, i.first_response, i.reply_due, i.follow_up_at
    FROM inbox i
    LEFT JOIN customers c ON c.customer_id = i.customer_id
    LEFT JOIN inbox_read r ON r.conv_id = i.conv_id AND r.agent_id = :me";

fn row(r: &Row<'_>, now: Timestamp) -> rusqlite::Result<InboxRow> {
    let stored: String = r.get(6)?;
    let snooze_until: Option<Timestamp> = r.get::<_, Option<i64>>(7)?.map(Timestamp);
    let status = stored.parse::<Status>().unwrap_or(Status::Open);
    let tags: String = r.get(10)?;
    Ok(InboxRow {
        conversation_id: r.get(0)?,
        subject: r.get(1)?,
        customer_id: r.get(2)?,
        customer_name: r.get(3)?,
        customer_email: r.get(4)?,
        channel: r.get(5)?,
        status: effective_status(status, snooze_until, now),
        snooze_until,
        assignee: r.get(8)?,
        priority: r.get(9)?,
        tags: tags.split_whitespace().map(str::to_owned).collect(),
        created_at: Timestamp(r.get(11)?),
        last_activity: Timestamp(r.get(12)?),
        entry_count: r.get(13)?,
        unread: r.get(14)?,
        preview: r.get(15)?,
        has_conflict: r.get(16)?,
        held: r.get(17)?,
        waiting_since: r.get::<_, Option<i64>>(18)?.map(Timestamp),
        first_response: r.get(19)?,
        reply_due: r.get::<_, Option<i64>>(20)?.map(Timestamp),
        follow_up_at: r.get::<_, Option<i64>>(21)?.map(Timestamp),
    })
}

/// The named parameters that `sql` uses (SQLite refuses unused ones).
fn bound<'a>(
    sql: &str,
    params: &[(&'a str, &'a dyn rusqlite::ToSql)],
) -> Vec<(&'a str, &'a dyn rusqlite::ToSql)> {
    params
        .iter()
        .filter(|(name, _)| sql.contains(name))
        .copied()
        .collect()
}

/// The `WHERE` condition of `q` (its view and filters), without paging.
fn filters(q: &InboxQuery) -> String {
    let mut sql = q.view.condition();
    if q.assignee.is_some() {
        sql.push_str(" AND i.assignee = :assignee");
    }
    if q.tag.is_some() {
        sql.push_str(" AND i.conv_id IN (SELECT conv_id FROM inbox_tags WHERE tag = :tag)");
    }
    if q.customer.is_some() {
        sql.push_str(" AND i.customer_id = :customer");
    }
    sql
}

/// How many rows `q` has in all (its view and filters, every page).
pub(crate) fn total(
    conn: &Connection,
    q: &InboxQuery,
    me: &AgentId,
    now: Timestamp,
) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM inbox i WHERE {}", filters(q));
    let mut stmt = conn.prepare_cached(&sql)?;
    let params = named_params! {
        ":me": me.as_str(),
        ":now": now.as_millis(),
        ":assignee": q.assignee.as_ref().map(|a| a.as_str()),
        ":tag": q.tag.as_deref(),
        ":customer": q.customer.as_ref().map(|c| c.as_str()),
    };
    let used = bound(&sql, params);
    Ok(stmt.query_row(used.as_slice(), |r| r.get(0))?)
}

/// Runs an inbox query for agent `me` at `now`.
pub(crate) fn inbox(
    conn: &Connection,
    q: &InboxQuery,
    me: &AgentId,
    now: Timestamp,
) -> Result<Vec<InboxRow>> {
    let mut sql = format!("{SELECT} WHERE {}", filters(q));
    sql.push_str(&format!(
        " ORDER BY {} LIMIT :limit OFFSET :offset",
        q.sort.order_by()
    ));
    let mut stmt = conn.prepare_cached(&sql)?;
    let params = named_params! {
        ":me": me.as_str(),
        ":now": now.as_millis(),
        ":assignee": q.assignee.as_ref().map(|a| a.as_str()),
        ":tag": q.tag.as_deref(),
        ":customer": q.customer.as_ref().map(|c| c.as_str()),
        ":limit": q.limit as i64,
        ":offset": q.offset as i64,
    };
    let used = bound(&sql, params);
    let rows = stmt
        .query_map(used.as_slice(), |r| row(r, now))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Number of conversations in each view.
pub(crate) fn counts(
    conn: &Connection,
    me: &AgentId,
    now: Timestamp,
) -> Result<Vec<(InboxView, i64)>> {
    InboxView::ALL
        .into_iter()
        .map(|v| Ok((v, count(conn, v, me, now)?)))
        .collect()
}

/// Number of conversations in one view.
pub(crate) fn count(
    conn: &Connection,
    view: InboxView,
    me: &AgentId,
    now: Timestamp,
) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM inbox i WHERE {}", view.condition());
    let mut stmt = conn.prepare_cached(&sql)?;
    let params = named_params! { ":me": me.as_str(), ":now": now.as_millis() };
    let used = bound(&sql, params);
    Ok(stmt.query_row(used.as_slice(), |r| r.get(0))?)
}

/// Assignee and newest activity of a conversation, for keeping track of
/// what changed (the desktop's notification baseline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationActivity {
    /// Conversation id.
    pub conversation_id: String,
    /// Assigned agent.
    pub assignee: Option<String>,
    /// Newest activity (ms).
    pub last_activity: i64,
}

/// Every conversation's assignee and newest activity: three columns of the
/// inbox table, no join, so 50,000 rows cost milliseconds.
pub(crate) fn activity(conn: &Connection) -> Result<Vec<ConversationActivity>> {
    let mut stmt = conn.prepare_cached("SELECT conv_id, assignee, last_activity FROM inbox")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(ConversationActivity {
                conversation_id: r.get(0)?,
                assignee: r.get(1)?,
                last_activity: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A snoozed conversation whose snooze ends at `snooze_until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnoozeEnding {
    /// Conversation id.
    pub conversation_id: String,
    /// Subject.
    pub subject: String,
    /// When the snooze ends (ms).
    pub snooze_until: i64,
}

/// Conversations assigned to `agent` whose snooze ends in `(after, until]`.
pub(crate) fn snoozes_ending(
    conn: &Connection,
    agent: &str,
    after: i64,
    until: i64,
) -> Result<Vec<SnoozeEnding>> {
    coming_due(
        conn,
        "SELECT conv_id, subject, snooze_until FROM inbox
         WHERE status = 'snoozed' AND assignee = ?1 AND snooze_until > ?2 AND snooze_until <= ?3
         ORDER BY snooze_until",
        agent,
        after,
        until,
    )
}

/// Conversations assigned to `agent` (or to nobody) pending for the
/// customer's confirmation whose follow-up time falls in `(after, until]`.
pub(crate) fn follow_ups_due(
    conn: &Connection,
    agent: &str,
    after: i64,
    until: i64,
) -> Result<Vec<SnoozeEnding>> {
    coming_due(
        conn,
        "SELECT conv_id, subject, follow_up_at FROM inbox
         WHERE status = 'pending' AND (assignee = ?1 OR assignee IS NULL)
           AND follow_up_at > ?2 AND follow_up_at <= ?3
         ORDER BY follow_up_at",
        agent,
        after,
        until,
    )
}

/// Runs `sql` (id, subject, instant; parameters agent, after, until).
fn coming_due(
    conn: &Connection,
    sql: &str,
    agent: &str,
    after: i64,
    until: i64,
) -> Result<Vec<SnoozeEnding>> {
    let rows = conn
        .prepare_cached(sql)?
        .query_map(rusqlite::params![agent, after, until], |r| {
            Ok(SnoozeEnding {
                conversation_id: r.get(0)?,
                subject: r.get(1)?,
                snooze_until: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// One row of the customer list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomerRow {
    /// Customer id.
    pub customer_id: String,
    /// Name.
    pub name: String,
    /// Primary e-mail.
    pub primary_email: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Support tier.
    pub tier: Option<String>,
    /// Number of conversations with this customer.
    pub conversations: i64,
}

/// Customers by name (case-insensitive), then id.
pub(crate) fn customers(
    conn: &Connection,
    limit: usize,
    offset: usize,
) -> Result<Vec<CustomerRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.customer_id, c.name, c.primary_email, c.company, c.tier,
                (SELECT COUNT(*) FROM inbox i WHERE i.customer_id = c.customer_id)
         FROM customers c ORDER BY c.name COLLATE NOCASE, c.customer_id LIMIT ?1 OFFSET ?2",
    )?;
    let rows = stmt
        .query_map([limit as i64, offset as i64], |r| {
            Ok(CustomerRow {
                customer_id: r.get(0)?,
                name: r.get(1)?,
                primary_email: r.get(2)?,
                company: r.get(3)?,
                tier: r.get(4)?,
                conversations: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
