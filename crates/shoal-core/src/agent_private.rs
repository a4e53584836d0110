//! An agent's private document: personal templates and preferences, synced
//! only to that agent's own devices.

use crate::doc_fields::{change, commit, keys, obj_at, required_obj, required_str, str_at};
use crate::document::impl_document;
use crate::{schema, AgentId, CoreError, Ctx, DocKind, Result};
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Read view of an agent's private document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPrivate {
    /// Whose document this is.
    pub agent_id: AgentId,
    /// Personal templates by name (see [`crate::expand_template`]).
    pub templates: BTreeMap<String, String>,
    /// Preferences by key.
    pub preferences: BTreeMap<String, String>,
}

/// An agent's private document.
#[derive(Debug, Clone)]
pub struct AgentPrivateDoc {
    doc: AutoCommit,
}

impl AgentPrivateDoc {
    /// Creates the acting agent's private document.
    pub fn create(actor: ActorId, ctx: &Ctx) -> Result<Self> {
        let mut doc = AutoCommit::new().with_actor(actor);
        schema::stamp(&mut doc, DocKind::AgentPrivate)?;
        doc.put(ROOT, "agent_id", ctx.agent.as_str())?;
        doc.put_object(ROOT, "templates", ObjType::Map)?;
        doc.put_object(ROOT, "preferences", ObjType::Map)?;
        commit(&mut doc, ctx, "create private document");
        Ok(Self { doc })
    }

    /// Adds or replaces a template.
    pub fn set_template(&mut self, ctx: &Ctx, name: &str, body: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CoreError::EmptyField("template name"));
        }
        let body = crate::doc_fields::non_empty_body(body)?;
        change(&mut self.doc, ctx, "set template", |doc| {
            let t = required_obj(doc, &ROOT, "templates")?;
            doc.put(&t, name, body)?;
            Ok(())
        })
    }

    /// Removes a template; returns whether it existed.
    pub fn remove_template(&mut self, ctx: &Ctx, name: &str) -> Result<bool> {
        change(&mut self.doc, ctx, "remove template", |doc| {
            let t = required_obj(doc, &ROOT, "templates")?;
            let existed = str_at(doc, &t, name).is_some();
            if existed {
                doc.delete(&t, name)?;
            }
            Ok(existed)
        })
    }

    /// Sets a preference.
    pub fn set_preference(&mut self, ctx: &Ctx, key: &str, value: &str) -> Result<()> {
        change(&mut self.doc, ctx, "set preference", |doc| {
            let p = required_obj(doc, &ROOT, "preferences")?;
            doc.put(&p, key, value)?;
            Ok(())
        })
    }
}

impl_document!(AgentPrivateDoc, AgentPrivate, DocKind::AgentPrivate);

fn read(d: &AutoCommit) -> Result<AgentPrivate> {
    let map = |key: &str| -> BTreeMap<String, String> {
        obj_at(d, &ROOT, key)
            .map(|m| {
                keys(d, &m)
                    .into_iter()
                    .filter_map(|k| Some((k.clone(), str_at(d, &m, &k)?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(AgentPrivate {
        agent_id: AgentId::parse(&required_str(d, &ROOT, "agent_id")?)?,
        templates: map("templates"),
        preferences: map("preferences"),
    })
}
