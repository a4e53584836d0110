//! Per-team quotas: how many documents, and how many bytes, a team's
//! clients may make the relay store. One team can then not fill the relay's
//! disk for the others. The relay's own writes (incoming mail, the outbox,
//! the team document) are never refused: a customer's mail is not lost to a
//! quota. What a team stores is read from storage at most once a minute and
//! kept up to date in memory in between.

use shoal_relay_store::{RelayStore, TeamUsage};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The limits per team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Documents.
    pub max_documents: u64,
    /// Bytes of snapshots and changes.
    pub max_bytes: u64,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            max_documents: 1_000_000,
            max_bytes: 16 * 1024 * 1024 * 1024,
        }
    }
}

/// How long a reading of a team's usage is trusted.
const REREAD: Duration = Duration::from_secs(60);

/// Teams' usage as last read, plus what was stored since.
#[derive(Default)]
pub struct Usage {
    teams: Mutex<HashMap<String, (TeamUsage, Instant)>>,
}

impl Usage {
    /// A team's usage (read from storage when unknown or stale).
    pub async fn of(
        &self,
        store: &Arc<dyn RelayStore>,
        team: &str,
    ) -> Result<TeamUsage, shoal_relay_store::StoreError> {
        if let Some((usage, at)) = self.teams.lock().expect("usage lock").get(team) {
            if at.elapsed() < REREAD {
                return Ok(*usage);
            }
        }
        let (store, t) = (store.clone(), team.to_owned());
        let usage = tokio::task::spawn_blocking(move || store.team_usage(&t))
            .await
            .map_err(|e| shoal_relay_store::StoreError::Backend(e.to_string()))??;
        self.teams
            .lock()
            .expect("usage lock")
            .insert(team.to_owned(), (usage, Instant::now()));
        Ok(usage)
    }

    /// Counts what was just stored for a team.
    pub fn add(&self, team: &str, documents: u64, bytes: u64) {
        if let Some((usage, _)) = self.teams.lock().expect("usage lock").get_mut(team) {
            usage.documents += documents;
            usage.bytes += bytes;
        }
    }

    /// Every team's usage as known now, for `/metrics`.
    pub fn known(&self) -> Vec<(String, TeamUsage)> {
        let mut all: Vec<(String, TeamUsage)> = self
            .teams
            .lock()
            .expect("usage lock")
            .iter()
            .map(|(team, (usage, _))| (team.clone(), *usage))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

/// Why storing `documents` new documents and `bytes` more bytes would take
/// a team past its quota, if it would.
pub fn over(quota: &Quota, usage: TeamUsage, documents: u64, bytes: u64) -> Option<String> {
    if usage.documents + documents > quota.max_documents {
        return Some(format!(
            "the team's quota of {} documents is reached",
            quota.max_documents
        ));
    }
    if usage.bytes + bytes > quota.max_bytes {
        return Some(format!(
            "the team's quota of {} bytes is reached",
            quota.max_bytes
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_names_the_quota_it_would_pass() {
        let quota = Quota {
            max_documents: 10,
            max_bytes: 1000,
        };
        let usage = TeamUsage {
            documents: 9,
            bytes: 900,
        };
        assert_eq!(over(&quota, usage, 1, 100), None);
        assert!(over(&quota, usage, 2, 0).unwrap().contains("10 documents"));
        assert!(over(&quota, usage, 0, 101).unwrap().contains("1000 bytes"));
    }
}
