//! The relay keeps each team's document in step with its agent list: the
//! admin adds agents with `shoal-relay agent add`, and the relay (the only
//! writer of Automerge documents while it runs) writes them into the team
//! document, which then syncs to every replica like any change.

use crate::server::Relay;
use shoal_core::{AgentId, AgentRole, Ctx, Document, TeamDoc, TeamId, Timestamp};
use std::time::Instant;

/// Creates missing team documents and adds agents they lack, for every team.
pub async fn reconcile(relay: &Relay) -> anyhow::Result<()> {
    reconcile_teams(relay, None).await
}

/// [`reconcile`] for one team: run when an agent of that team connects, so
/// its first sync already finds the team document with every agent.
pub async fn reconcile_team(relay: &Relay, team_id: &str) -> anyhow::Result<()> {
    reconcile_teams(relay, Some(team_id)).await
}

async fn reconcile_teams(relay: &Relay, only: Option<&str>) -> anyhow::Result<()> {
    let store = relay.store.clone();
    let (teams, agents) = tokio::task::spawn_blocking(move || {
        Ok::<_, shoal_relay_store::StoreError>((store.teams()?, store.agents(None)?))
    })
    .await??;
    for team in teams
        .into_iter()
        .filter(|t| only.is_none_or(|id| id == t.id))
    {
        // Skip teams whose agent list did not change since the last round.
        let mut signature = team.name.clone();
        for a in agents.iter().filter(|a| a.team_id == team.id) {
            signature.push_str(&format!("|{}:{}:{}:{}", a.id, a.name, a.email, a.role));
        }
        if relay
            .team_signatures
            .lock()
            .expect("signature lock")
            .get(&team.id)
            == Some(&signature)
        {
            continue;
        }
        let doc_id = format!("team/{}", team.id);
        let entry = relay.cache.get(&team.id, &doc_id).await?;
        let mut guard = entry.lock().await;
        let before = guard.doc.get_heads();
        if before.is_empty() {
            let team_id = TeamId::parse(&team.id)?;
            let mut genesis = TeamDoc::genesis(&team_id, &team.name, Timestamp(team.created_at))?
                .into_automerge();
            guard.doc.merge(&mut genesis)?;
        }
        let mut doc = TeamDoc::from_automerge(std::mem::take(&mut guard.doc))?;
        doc.automerge_mut().set_actor(relay.actor.clone());
        let view = doc.view()?;
        let ctx = Ctx::new(AgentId::parse("relay")?, Timestamp(crate::now_ms()));
        let mut failure = None;
        for agent in agents.iter().filter(|a| a.team_id == team.id) {
            let id = AgentId::parse(&agent.id)?;
            let role: AgentRole = agent.role.parse().unwrap_or(AgentRole::Agent);
            let current = view.agent(&id);
            if current
                .is_some_and(|a| a.name == agent.name && a.email == agent.email && a.role == role)
            {
                continue;
            }
            if let Err(e) = doc.add_agent(&ctx, &id, &agent.name, &agent.email, role) {
                failure = Some(e);
            }
        }
        guard.doc = doc.into_automerge();
        crate::fanout::publish(
            &relay.committer,
            &relay.hub,
            &relay.metrics,
            &team.id,
            &doc_id,
            &mut guard,
            &before,
            0,
            Instant::now(),
        )
        .await?;
        relay
            .team_signatures
            .lock()
            .expect("signature lock")
            .insert(team.id.clone(), signature);
        if let Some(e) = failure {
            tracing::warn!(team = %team.name, "an agent could not be added to the team document: {e}");
        }
    }
    Ok(())
}
