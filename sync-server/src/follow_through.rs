//! Follow-through: a conversation pending on its customer (the agent asked
//! "did that solve it?") whose customer stays silent for the team's number
//! of business days is closed by the relay, recorded as "no reply" so
//! reports tell it from a confirmed close (docs/workflow.md).
//!
//! The relay does this rather than the agents' apps because it is always
//! online and imports the customers' mail: an app offline for a day could
//! close a conversation whose customer had answered hours ago.
//!
//! The relay follows each team's change feed with a cursor of its own and
//! keeps an index of the pending conversations and since when each is
//! silent (`RelayStore::record_awaiting`), so a round reads no document
//! until one is due. Close times are computed from the index and the team's
//! calendar at each round (they move when the team changes its hours). A
//! due conversation is read again and closed only if it is still due in
//! its document; the close is an ordinary change by the relay, so a
//! customer's mail arriving at the same moment reopens it as usual.

use crate::mail::ingest::{blocking, change_doc};
use crate::mail::read_doc;
use crate::server::Relay;
use anyhow::Result;
use shoal_core::business_time::Calendar;
use shoal_core::sla::Silence;
use shoal_core::{AgentId, ConversationDoc, Ctx, Document, Resolution, TeamDoc, Timestamp};
use shoal_relay_store::AwaitingRecord;
use std::sync::Arc;

/// Feed entries read per step.
const BATCH: usize = 1000;

/// Runs follow-through rounds until the relay stops.
pub async fn run(relay: Arc<Relay>) {
    let mut shutdown = relay.shutdown.subscribe();
    loop {
        if let Err(e) = round(&relay).await {
            tracing::warn!("follow-through: {e:#}");
        }
        tokio::select! {
            _ = tokio::time::sleep(relay.follow_through_every) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The relay's "now" for follow-through (moved ahead by the test hook).
fn now(relay: &Relay) -> Timestamp {
    Timestamp(crate::now_ms() + relay.fault_clock_ahead_ms)
}

async fn round(relay: &Relay) -> Result<()> {
    let store = relay.store.clone();
    let teams = blocking(move || store.teams()).await?;
    for team in teams {
        // One team's failure must not stop the others'.
        if let Err(e) = follow_team(relay, &team.id).await {
            tracing::warn!(team = %team.id, "follow-through: {e:#}");
        }
    }
    Ok(())
}

async fn follow_team(relay: &Relay, team_id: &str) -> Result<()> {
    let Some(team) = read_doc(relay, team_id, &format!("team/{team_id}")).await? else {
        return Ok(());
    };
    let team = TeamDoc::view_of(&team)?;
    // Teams without auto-close cost nothing; turned on, the index catches
    // up from where it stopped (from the start, the first time).
    let Some(days) = team.auto_close_days else {
        return Ok(());
    };
    catch_up(relay, team_id).await?;
    let calendar = Calendar::or_default(&team.business_hours);
    let (store, t) = (relay.store.clone(), team_id.to_owned());
    let awaiting = blocking(move || store.awaiting(&t)).await?;
    let now = now(relay);
    for record in awaiting {
        let silence = Silence {
            since: Timestamp(record.silent_since),
            follow_up_at: record.follow_up_at.map(Timestamp),
        };
        if silence
            .closes_at(&calendar, days)
            .is_some_and(|at| at <= now)
        {
            if let Err(e) =
                close_if_due(relay, team_id, &record.conversation_id, &calendar, days).await
            {
                tracing::warn!(conversation = %record.conversation_id, "cannot auto-close: {e:#}");
            }
        }
    }
    Ok(())
}

/// Closes the conversation as "no reply" if its document says it is still
/// due (it may have been answered since the index was written).
async fn close_if_due(
    relay: &Relay,
    team_id: &str,
    conversation: &str,
    calendar: &Calendar,
    days: u32,
) -> Result<()> {
    let now = now(relay);
    let mut closed = false;
    change_doc(relay, team_id, &format!("conv/{conversation}"), |doc| {
        let mut conv = ConversationDoc::from_automerge(std::mem::take(doc))?;
        let result = (|| {
            let view = conv.view()?;
            if shoal_core::sla::auto_close_at(&view, calendar, days).is_some_and(|at| at <= now) {
                // Stamped with the real time, whatever the test hook says.
                let ctx = Ctx::new(AgentId::parse("relay")?, Timestamp(crate::now_ms()));
                conv.close_as(&ctx, Resolution::NoReply)?;
                closed = true;
            }
            Ok::<_, anyhow::Error>(())
        })();
        *doc = conv.into_automerge();
        result
    })
    .await?;
    if closed {
        tracing::info!(team = %team_id, %conversation, "closed after the customer's silence");
    }
    // Whatever the document said, the index follows it (the close itself
    // also reaches the index through the feed).
    index(relay, team_id, &[conversation.to_owned()], None).await
}

/// Reads the conversations of `team_id` changed since the index's cursor
/// into the index.
async fn catch_up(relay: &Relay, team_id: &str) -> Result<()> {
    loop {
        let (store, t) = (relay.store.clone(), team_id.to_owned());
        let (cursor, changed) = blocking(move || {
            let cursor = store.awaiting_cursor(&t)?;
            Ok((cursor, store.changed_since(&t, cursor, "relay", BATCH)?))
        })
        .await?;
        let Some(reached) = changed.iter().map(|e| e.seq).max() else {
            return Ok(());
        };
        let conversations: Vec<String> = changed
            .iter()
            .filter_map(|e| e.doc_id.strip_prefix("conv/"))
            .map(str::to_owned)
            .collect();
        index(relay, team_id, &conversations, Some(reached.max(cursor))).await?;
        if changed.len() < BATCH {
            return Ok(());
        }
    }
}

/// Writes the silence of each of `conversations` (or its absence) into the
/// index, and the cursor when given.
async fn index(
    relay: &Relay,
    team_id: &str,
    conversations: &[String],
    reached: Option<u64>,
) -> Result<()> {
    let mut changes = Vec::with_capacity(conversations.len());
    for id in conversations {
        let Some(doc) = read_doc(relay, team_id, &format!("conv/{id}")).await? else {
            continue;
        };
        // A document whose first change has not arrived yet waits.
        let Ok(view) = ConversationDoc::from_automerge(doc).and_then(|d| d.view()) else {
            continue;
        };
        let record = Silence::of(&view).map(|s| AwaitingRecord {
            conversation_id: id.clone(),
            silent_since: s.since.as_millis(),
            follow_up_at: s.follow_up_at.map(|t| t.as_millis()),
        });
        changes.push((id.clone(), record));
    }
    let (store, t) = (relay.store.clone(), team_id.to_owned());
    // The cursor never moves back, so 0 leaves it where it is.
    let seq = reached.unwrap_or(0);
    blocking(move || store.record_awaiting(&t, &changes, seq)).await
}
