//! Drafts: what an agent is writing in a conversation's composer, kept in
//! this replica as it is typed so that closing the app (or a crash) loses
//! nothing. Local to the device — a draft is not a change the team sees.

use crate::replica::Replica;
use crate::Result;
use rusqlite::OptionalExtension;
use serde::Serialize;
use shoal_core::ConversationId;

/// A saved draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Draft {
    /// `reply` or `note`.
    pub mode: String,
    /// The text so far.
    pub body: String,
    /// When it was last saved (ms).
    pub updated_at: i64,
}

impl Replica {
    /// Saves the draft of a conversation; an empty (blank) body removes it.
    pub fn save_draft(&self, id: &ConversationId, mode: &str, body: &str) -> Result<()> {
        if body.trim().is_empty() {
            return self.clear_draft(id);
        }
        self.conn
            .prepare_cached(
                "INSERT INTO drafts (conv_id, mode, body, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (conv_id) DO UPDATE SET mode = ?2, body = ?3, updated_at = ?4",
            )?
            .execute(rusqlite::params![
                id.as_str(),
                mode,
                body,
                self.now().as_millis()
            ])?;
        Ok(())
    }

    /// The saved draft of a conversation.
    pub fn draft(&self, id: &ConversationId) -> Result<Option<Draft>> {
        Ok(self
            .conn
            .prepare_cached("SELECT mode, body, updated_at FROM drafts WHERE conv_id = ?1")?
            .query_row([id.as_str()], |r| {
                Ok(Draft {
                    mode: r.get(0)?,
                    body: r.get(1)?,
                    updated_at: r.get(2)?,
                })
            })
            .optional()?)
    }

    /// Forgets the draft of a conversation (it was sent).
    pub fn clear_draft(&self, id: &ConversationId) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM drafts WHERE conv_id = ?1")?
            .execute([id.as_str()])?;
        Ok(())
    }
}
