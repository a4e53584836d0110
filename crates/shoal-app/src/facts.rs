//! What the notification rules need to know about a conversation, read
//! from a replica: shared by the desktop's event worker and
//! `shoal notifications`.

use crate::notify::Known;
use crate::notify::{
    ConversationFacts, CustomerMessage, FieldConflictFact, Mention, ReplyTrouble, Trouble,
};
use shoal_core::{ConversationId, DeliveryState, EntryKind};
use shoal_replica::Replica;
use std::collections::HashMap;

/// What is known of every conversation before any change is seen, by id:
/// its assignee and newest activity. Three columns of the inbox table, not
/// inbox rows: at 50,000 conversations the full rows held the replica for
/// seconds while the window waited for its first page.
pub fn baseline(r: &Replica) -> shoal_replica::Result<HashMap<String, Known>> {
    Ok(r.conversation_activity()?
        .into_iter()
        .map(|row| {
            let known = Known {
                assignee: row.assignee,
                customer_entries: None,
                last_activity: row.last_activity,
                ..Known::default()
            };
            (row.conversation_id, known)
        })
        .collect())
}

/// The facts the notification rules need, read from a replica.
/// The facts of conversation `id` as the replica holds it now.
pub fn conversation_facts(r: &Replica, id: &str) -> Option<ConversationFacts> {
    let cid = ConversationId::parse(id).ok()?;
    let conv = r.conversation(&cid).ok()?;
    let customer_name = r
        .customer(&conv.customer_id)
        .map(|c| c.name)
        .unwrap_or_else(|_| "A customer".to_owned());
    let me = r.identity().agent_id.clone();
    let team = r.team().ok();
    let name_of = |id: &str| {
        team.as_ref()
            .and_then(|t| t.agents.iter().find(|a| a.id.as_str() == id))
            .map_or_else(|| id.to_owned(), |a| a.name.clone())
    };
    Some(ConversationFacts {
        id: id.to_owned(),
        subject: conv.subject.clone(),
        customer_name,
        assignee: conv.assignee.as_ref().map(|a| a.to_string()),
        last_activity: conv.last_activity().as_millis(),
        customer_messages: conv
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::CustomerMessage)
            .map(|e| CustomerMessage {
                id: e.id.to_string(),
                created_at: e.created_at.as_millis(),
                body: e.body.clone(),
                logged_by: e.logged_by.as_ref().map(|a| a.to_string()),
            })
            .collect(),
        assigned_by: conv.assigned_by.as_ref().map(|a| a.to_string()),
        conflicts: conv
            .conflicts
            .iter()
            .map(|c| {
                let mine = conv.assignee.as_ref() == Some(&me);
                let current = match c.field.as_str() {
                    "assignee" => conv.assignee.as_ref().map(|a| a.to_string()),
                    "status" => Some(conv.status.to_string()),
                    _ => Some(conv.priority.to_string()),
                };
                FieldConflictFact {
                    field: c.field.clone(),
                    // Who made each concurrent change is recorded with it.
                    involves_me: mine
                        || c.by.contains(&me.to_string())
                        || (c.field == "assignee" && c.values.contains(&me.to_string())),
                    text: conflict_text(&c.field, &c.values, current.as_deref(), &me, &name_of),
                }
            })
            .collect(),
        mentions: conv
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::Note && !e.is_own(&me) && e.mentions.contains(&me))
            .map(|e| Mention {
                id: e.id.to_string(),
                author_name: name_of(&e.author),
                body: e.body.clone(),
                created_at: e.created_at.as_millis(),
            })
            .collect(),
        troubles: conv
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::Reply && e.author == me.as_str())
            .filter_map(|e| {
                let reason = || e.delivery.as_ref().and_then(|d| d.reason.clone());
                let (kind, reason) = match e.delivery_state()? {
                    DeliveryState::Held => (Trouble::Held, reason()),
                    DeliveryState::Failed => (Trouble::Failed, reason()),
                    // The relay's rule, as far as this replica can tell
                    // (it cannot see what the outbox is sending right now).
                    DeliveryState::Queued => {
                        let c = shoal_core::outbox_verdict(&conv, &e.id, |_| false)?;
                        (Trouble::AtRisk, Some(c.describe(|a| name_of(a.as_str()))))
                    }
                    _ => return None,
                };
                Some(ReplyTrouble {
                    id: e.id.to_string(),
                    kind,
                    reason: reason.unwrap_or_else(|| "no reason given".to_owned()),
                })
            })
            .collect(),
    })
}

/// A conflict in words: "Ben Okafor and you both took this while offline;
/// Ben Okafor has it" (the desktop banner says the same).
fn conflict_text(
    field: &str,
    values: &[String],
    current: Option<&str>,
    me: &shoal_core::AgentId,
    name_of: &dyn Fn(&str) -> String,
) -> String {
    let name = |id: &str| {
        if id == me.as_str() {
            "you".to_owned()
        } else {
            name_of(id)
        }
    };
    if field == "assignee" {
        let who: Vec<String> = values
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| name(v))
            .collect();
        let keeper = current.map_or_else(
            || "nobody has it".to_owned(),
            |c| format!("{} has it", name(c)),
        );
        return format!(
            "{} both took this while offline; {keeper}",
            who.join(" and ")
        );
    }
    let shown: Vec<&str> = values
        .iter()
        .map(|v| if v.is_empty() { "none" } else { v })
        .collect();
    format!(
        "The {field} was set to {} at the same time; it is now {}",
        shown.join(" / "),
        current.unwrap_or("none")
    )
}
