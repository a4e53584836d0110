//! An agent's private document: personal templates and preferences, synced
//! only to that agent's own devices.

use crate::doc_fields::{change, commit, required_obj, str_at};
use crate::document::impl_document;
use crate::hydrated::{hydrate, Node};
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
    /// The first state of `agent`'s private document. Every device of the
    /// agent creates it independently, so its creating change is made
    /// deterministic (an actor derived from the agent id, time zero): all
    /// devices produce the very same change, and their later edits merge
    /// into one set of maps instead of competing ones.
    pub fn genesis(agent: &AgentId) -> Result<Self> {
        let actor = ActorId::from(format!("private:{agent}").into_bytes());
        let ctx = Ctx::new(agent.clone(), crate::Timestamp(0));
        let mut doc = AutoCommit::new().with_actor(actor);
        schema::stamp(&mut doc, DocKind::AgentPrivate)?;
        doc.put(ROOT, "agent_id", agent.as_str())?;
        doc.put_object(ROOT, "templates", ObjType::Map)?;
        doc.put_object(ROOT, "preferences", ObjType::Map)?;
        commit(&mut doc, &ctx, "create private document");
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

fn read(doc: &AutoCommit) -> Result<AgentPrivate> {
    let hydrated = hydrate(doc)?;
    let d = Node::root(&hydrated)?;
    let map = |key: &str| -> BTreeMap<String, String> {
        d.map(key)
            .map(|m| {
                m.keys()
                    .into_iter()
                    .filter_map(|k| Some((k.clone(), m.str(&k)?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(AgentPrivate {
        agent_id: AgentId::parse(&d.required_str("agent_id")?)?,
        templates: map("templates"),
        preferences: map("preferences"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Document, Timestamp};

    #[test]
    fn every_device_starts_from_the_same_change() {
        let agent = AgentId::parse("ana").unwrap();
        let mut laptop = AgentPrivateDoc::genesis(&agent).unwrap();
        let mut desktop = AgentPrivateDoc::genesis(&agent).unwrap();
        assert_eq!(
            laptop.automerge_mut().get_heads(),
            desktop.automerge_mut().get_heads()
        );
        laptop.automerge_mut().set_actor(ActorId::random());
        desktop.automerge_mut().set_actor(ActorId::random());
        let ctx = Ctx::new(agent, Timestamp(5));
        laptop
            .set_template(&ctx, "refund", "Refunded, {customer.first_name}.")
            .unwrap();
        desktop.set_template(&ctx, "thanks", "Thanks!").unwrap();
        laptop
            .automerge_mut()
            .merge(desktop.automerge_mut())
            .unwrap();
        let names: Vec<String> = laptop.view().unwrap().templates.into_keys().collect();
        assert_eq!(
            names,
            vec!["refund", "thanks"],
            "both devices' templates survive"
        );
    }
}
