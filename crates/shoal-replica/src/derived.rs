//! Query tables derived from documents: written in the same transaction as
//! the change that affects them, rebuildable from the documents at any time.
//! Nothing here depends on which agent owns the replica, so two replicas with
//! the same documents have identical derived tables.

use crate::Result;
use automerge::AutoCommit;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use shoal_core::sla::{self, ClockSettings, ReplyClock};
use shoal_core::{
    AgentPrivateDoc, Conversation, ConversationDoc, Customer, CustomerDoc, DeliveryState, DocId,
    DocKind, Document, Priority, Team, TeamDoc,
};
use std::cell::RefCell;
use std::rc::Rc;

/// Length of the inbox preview of the newest entry.
const PREVIEW_CHARS: usize = 160;

/// The read view of a document, as far as derived tables need it.
pub(crate) enum DocView {
    Conversation(Box<Conversation>),
    Customer(Customer),
    /// The team: its hours and targets set the conversations' due times.
    Team(Box<Team>),
    /// Agent-private documents have no derived rows.
    Other,
}

impl DocView {
    /// Reads `doc` as the kind `id` names (checking kind and schema).
    pub(crate) fn of(id: &DocId, doc: &AutoCommit) -> shoal_core::Result<DocView> {
        Ok(match id.kind() {
            DocKind::Conversation => {
                DocView::Conversation(Box::new(ConversationDoc::view_of(doc)?))
            }
            DocKind::Customer => DocView::Customer(CustomerDoc::view_of(doc)?),
            DocKind::Team => DocView::Team(Box::new(TeamDoc::view_of(doc)?)),
            DocKind::AgentPrivate => AgentPrivateDoc::view_of(doc).map(|_| DocView::Other)?,
        })
    }
}

/// Brings the derived rows of one document up to date with `doc`. A document
/// that cannot be read yet (its creating change has not arrived) keeps its
/// previous rows.
pub(crate) fn update(conn: &Connection, id: &DocId, doc: &AutoCommit) -> Result<()> {
    match DocView::of(id, doc) {
        Ok(view) => write(conn, id, &view),
        Err(_) => Ok(()),
    }
}

/// Writes the derived rows of an already read document.
pub(crate) fn write(conn: &Connection, id: &DocId, view: &DocView) -> Result<()> {
    match view {
        DocView::Conversation(c) => write_conversation(conn, id, c),
        DocView::Customer(c) => write_customer(conn, id, c),
        DocView::Team(t) => write_team_clock(conn, t),
        DocView::Other => Ok(()),
    }
}

fn preview(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(PREVIEW_CHARS) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

thread_local! {
    /// The clock last built from `team_clock`, with the settings text it was
    /// built from: building one looks the time zone up.
    static CLOCK: RefCell<Option<(String, Rc<ReplyClock>)>> = const { RefCell::new(None) };
}

/// The reply clock of the team settings stored in `team_clock`, if the team
/// document has been read.
fn stored_clock(conn: &Connection) -> Result<Option<Rc<ReplyClock>>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT settings FROM team_clock WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let Some(text) = text else { return Ok(None) };
    Ok(CLOCK.with(|cached| {
        let mut cached = cached.borrow_mut();
        if let Some((seen, clock)) = cached.as_ref() {
            if *seen == text {
                return Some(clock.clone());
            }
        }
        let settings: ClockSettings = serde_json::from_str(&text).ok()?;
        let clock = Rc::new(ReplyClock::new(&settings));
        *cached = Some((text, clock.clone()));
        Some(clock)
    }))
}

/// Stores the team's clock settings; when they changed, computes every
/// waiting conversation's due time again.
fn write_team_clock(conn: &Connection, team: &Team) -> Result<()> {
    let text = serde_json::to_string(&ClockSettings::of(team)).expect("clock settings serialize");
    let stored: Option<String> = conn
        .prepare_cached("SELECT settings FROM team_clock WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    if stored.as_deref() == Some(text.as_str()) {
        return Ok(());
    }
    conn.prepare_cached("INSERT OR REPLACE INTO team_clock (id, settings) VALUES (1, ?1)")?
        .execute([&text])?;
    let Some(clock) = stored_clock(conn)? else {
        return Ok(());
    };
    let waiting: Vec<(String, i64, bool, String)> = conn
        .prepare_cached(
            "SELECT conv_id, waiting_since, first_response, priority FROM inbox
             WHERE waiting_since IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare_cached("UPDATE inbox SET reply_due = ?2 WHERE conv_id = ?1")?;
    for (conv, since, first_response, priority) in waiting {
        let w = sla::Waiting {
            since: shoal_core::Timestamp(since),
            first_response,
        };
        let priority = priority.parse().unwrap_or(Priority::Normal);
        update.execute(params![conv, clock.due(w, priority).map(|t| t.as_millis())])?;
    }
    Ok(())
}

fn write_conversation(conn: &Connection, id: &DocId, c: &Conversation) -> Result<()> {
    let key = c.id.as_str();
    let waiting = sla::waiting(c);
    let due = match (waiting, stored_clock(conn)?) {
        (Some(w), Some(clock)) => clock.due(w, c.priority),
        _ => None,
    };
    conn.prepare_cached(
        "INSERT OR REPLACE INTO inbox (conv_id, subject, customer_id, channel, status, snooze_until, assignee,
            priority, tags, created_at, last_activity, last_customer_at, entry_count, preview, has_conflict,
            waiting_since, first_response, reply_due, follow_up_at, resolution)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20)",
    )?
    .execute(params![
        key,
        c.subject,
        c.customer_id.as_str(),
        c.channel.as_str(),
        c.status.as_str(),
        c.snooze_until.map(|t| t.as_millis()),
        c.assignee.as_ref().map(|a| a.as_str()),
        c.priority.as_str(),
        c.tags.join(" "),
        c.created_at.as_millis(),
        c.last_activity().as_millis(),
        c.last_customer_message().map(|e| e.created_at.as_millis()),
        c.entries.len() as i64,
        c.last_entry().map(|e| preview(&e.body)).unwrap_or_default(),
        !c.conflicts.is_empty(),
        waiting.map(|w| w.since.as_millis()),
        waiting.is_some_and(|w| w.first_response),
        due.map(|t| t.as_millis()),
        (c.status == shoal_core::Status::Pending)
            .then_some(c.follow_up_at)
            .flatten()
            .map(|t| t.as_millis()),
        (c.status == shoal_core::Status::Closed)
            .then_some(c.resolution)
            .flatten()
            .map(|r| r.as_str()),
    ])?;
    let timeline =
        serde_json::to_string(&shoal_core::report::timeline(c)).expect("timelines serialize");
    conn.prepare_cached(
        "INSERT OR REPLACE INTO report_timelines (conv_id, timeline) VALUES (?1, ?2)",
    )?
    .execute(params![key, timeline])?;
    conn.prepare_cached("DELETE FROM inbox_tags WHERE conv_id = ?1")?
        .execute([key])?;
    let mut tag = conn.prepare_cached("INSERT INTO inbox_tags (tag, conv_id) VALUES (?1, ?2)")?;
    for t in &c.tags {
        tag.execute([t.as_str(), key])?;
    }
    conn.prepare_cached("DELETE FROM inbox_mentions WHERE conv_id = ?1")?
        .execute([key])?;
    let mut mention = conn.prepare_cached(
        "INSERT OR IGNORE INTO inbox_mentions (agent_id, conv_id) VALUES (?1, ?2)",
    )?;
    for agent in c.entries.iter().flat_map(|e| &e.mentions) {
        mention.execute([agent.as_str(), key])?;
    }
    conn.prepare_cached("DELETE FROM inbox_read WHERE conv_id = ?1")?
        .execute([key])?;
    let mut read =
        conn.prepare_cached("INSERT INTO inbox_read (conv_id, agent_id) VALUES (?1, ?2)")?;
    for agent in c.seen.keys().filter(|a| !c.unread_for(a)) {
        read.execute(params![key, agent.as_str()])?;
    }
    conn.prepare_cached("DELETE FROM held_replies WHERE conv_id = ?1")?
        .execute([key])?;
    let mut held = conn.prepare_cached(
        "INSERT OR REPLACE INTO held_replies (entry_id, conv_id, author) VALUES (?1, ?2, ?3)",
    )?;
    for e in c
        .entries
        .iter()
        .filter(|e| e.delivery_state() == Some(DeliveryState::Held))
    {
        held.execute(params![e.id.as_str(), key, e.author])?;
    }
    let mut body = String::new();
    for e in &c.entries {
        body.push_str(&e.body);
        body.push('\n');
    }
    set_search_text(conn, id, &c.subject, &body)
}

fn write_customer(conn: &Connection, id: &DocId, c: &Customer) -> Result<()> {
    let key = c.id.as_str();
    conn.prepare_cached(
        "INSERT OR REPLACE INTO customers (customer_id, name, primary_email, company, tier, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![key, c.name, c.emails.first(), c.company, c.tier, c.created_at.as_millis()])?;
    conn.prepare_cached("DELETE FROM customer_emails WHERE customer_id = ?1")?
        .execute([key])?;
    let mut email = conn.prepare_cached(
        "INSERT OR IGNORE INTO customer_emails (email, customer_id) VALUES (?1, ?2)",
    )?;
    for e in &c.emails {
        email.execute([e.as_str(), key])?;
    }
    let title = format!(
        "{} {} {}",
        c.name,
        c.emails.join(" "),
        c.company.as_deref().unwrap_or_default()
    );
    set_search_text(conn, id, &title, &c.notes)
}

fn set_search_text(conn: &Connection, id: &DocId, title: &str, body: &str) -> Result<()> {
    let key = id.to_string();
    let rowid: Option<i64> = conn
        .prepare_cached("SELECT rowid FROM search_docs WHERE doc_id = ?1")?
        .query_row([&key], |r| r.get(0))
        .optional()?;
    let rowid = match rowid {
        Some(r) => {
            conn.prepare_cached("DELETE FROM search_index WHERE rowid = ?1")?
                .execute([r])?;
            r
        }
        None => {
            conn.prepare_cached("INSERT INTO search_docs (doc_id) VALUES (?1)")?
                .execute([&key])?;
            conn.last_insert_rowid()
        }
    };
    conn.prepare_cached("INSERT INTO search_index (rowid, title, body) VALUES (?1, ?2, ?3)")?
        .execute(params![rowid, title, body])?;
    conn.prepare_cached("INSERT OR REPLACE INTO search_text (rowid, body) VALUES (?1, ?2)")?
        .execute(params![rowid, compress(body)])?;
    Ok(())
}

fn compress(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes())
        .expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// The indexed body text of a search index row, for snippets.
pub(crate) fn search_body(conn: &Connection, rowid: i64) -> Result<Option<String>> {
    use std::io::Read;
    let blob: Option<Vec<u8>> = conn
        .prepare_cached("SELECT body FROM search_text WHERE rowid = ?1")?
        .query_row([rowid], |r| r.get(0))
        .optional()?;
    Ok(blob.and_then(|b| {
        let mut text = String::new();
        flate2::read::DeflateDecoder::new(b.as_slice())
            .read_to_string(&mut text)
            .ok()?;
        Some(text)
    }))
}

/// Every conversation's report timeline (rows that do not read are skipped).
pub(crate) fn timelines(conn: &Connection) -> Result<Vec<shoal_core::report::Timeline>> {
    let mut stmt = conn.prepare_cached("SELECT timeline FROM report_timelines")?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect())
}

/// Empties every derived table (before a rebuild).
pub(crate) fn clear(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "DELETE FROM inbox; DELETE FROM inbox_tags; DELETE FROM inbox_mentions;
         DELETE FROM inbox_read; DELETE FROM held_replies;
         DELETE FROM customers; DELETE FROM customer_emails; DELETE FROM team_clock;
         DELETE FROM report_timelines;
         DELETE FROM search_index; DELETE FROM search_docs; DELETE FROM search_text;",
    )?;
    Ok(())
}

/// Every derived row in a canonical order, for comparing replicas: the
/// query tables as text rows, and the full-text index as the terms indexed
/// for each document (with column and position).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DerivedDump {
    /// `inbox` rows.
    pub inbox: Vec<String>,
    /// `inbox_tags` rows.
    pub tags: Vec<String>,
    /// `inbox_mentions` rows.
    pub mentions: Vec<String>,
    /// `inbox_read` rows.
    pub read: Vec<String>,
    /// `held_replies` rows.
    pub held: Vec<String>,
    /// `customers` rows.
    pub customers: Vec<String>,
    /// `customer_emails` rows.
    pub customer_emails: Vec<String>,
    /// `search_text` rows (document and compressed length).
    pub search_text: Vec<String>,
    /// `doc_id term column offset` for every token in the search index.
    pub search_terms: Vec<String>,
}

fn rows(conn: &Connection, sql: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(sql)?;
    let n = stmt.column_count();
    let out = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| Ok(format!("{:?}", r.get_ref(i)?)))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map(|v| v.join("|"))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(out)
}

/// Reads the canonical dump of all derived tables.
pub(crate) fn dump(conn: &Connection) -> Result<DerivedDump> {
    conn.execute_batch(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, search_index, instance);",
    )?;
    Ok(DerivedDump {
        inbox: rows(conn, "SELECT * FROM inbox ORDER BY conv_id")?,
        tags: rows(conn, "SELECT * FROM inbox_tags ORDER BY tag, conv_id")?,
        mentions: rows(
            conn,
            "SELECT * FROM inbox_mentions ORDER BY agent_id, conv_id",
        )?,
        read: rows(conn, "SELECT * FROM inbox_read ORDER BY conv_id, agent_id")?,
        held: rows(conn, "SELECT * FROM held_replies ORDER BY entry_id")?,
        customers: rows(conn, "SELECT * FROM customers ORDER BY customer_id")?,
        customer_emails: rows(
            conn,
            "SELECT * FROM customer_emails ORDER BY email, customer_id",
        )?,
        search_text: rows(
            conn,
            "SELECT d.doc_id, length(t.body) FROM search_text t JOIN search_docs d ON d.rowid = t.rowid ORDER BY d.doc_id",
        )?,
        search_terms: rows(
            conn,
            "SELECT d.doc_id, v.term, v.col, v.offset FROM temp.search_vocab v
             JOIN search_docs d ON d.rowid = v.doc ORDER BY d.doc_id, v.col, v.offset, v.term",
        )?,
    })
}
