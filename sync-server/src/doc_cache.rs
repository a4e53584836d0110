//! Documents in memory, loaded on demand and evicted when idle, so the
//! relay's memory follows activity, not team size. Each entry also holds the
//! Automerge sync state of every connection currently syncing it.

use crate::hub::ConnId;
use automerge::sync;
use automerge::{AutoCommit, Change, LoadOptions, OnPartialLoad};
use shoal_relay_store::{RelayStore, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Stored changes after which an evicted document is compacted into a snapshot.
const COMPACT_AFTER: usize = 64;

/// A loaded document.
pub struct DocEntry {
    /// The document.
    pub doc: AutoCommit,
    /// Sync state per connection syncing it.
    pub peers: HashMap<ConnId, sync::State>,
    /// Feed sequence of its newest stored change.
    pub last_seq: u64,
    /// Changes stored since its snapshot.
    pub changes_since_snapshot: usize,
    /// Last access.
    pub last_used: Instant,
}

type Key = (String, String);

/// The cache.
pub struct DocCache {
    store: Arc<dyn RelayStore>,
    docs: StdMutex<HashMap<Key, Arc<Mutex<DocEntry>>>>,
}

/// Loading failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored bytes did not decode.
    #[error("stored document {0} is unreadable: {1}")]
    Corrupt(String, String),
}

impl DocCache {
    /// An empty cache over `store`.
    pub fn new(store: Arc<dyn RelayStore>) -> Self {
        Self {
            store,
            docs: StdMutex::new(HashMap::new()),
        }
    }

    /// Number of loaded documents.
    pub fn len(&self) -> usize {
        self.docs.lock().expect("cache lock").len()
    }

    /// The document, loaded from storage if needed (empty if the team has no
    /// such document yet; it stays in the cache, to be written).
    pub async fn get(&self, team: &str, doc: &str) -> Result<Arc<Mutex<DocEntry>>, LoadError> {
        self.load(team, doc, true).await
    }

    /// Like [`DocCache::get`], but a document the team does not have is
    /// handed out empty without entering the cache: asking about random ids
    /// costs the relay no memory.
    pub async fn peek(&self, team: &str, doc: &str) -> Result<Arc<Mutex<DocEntry>>, LoadError> {
        self.load(team, doc, false).await
    }

    async fn load(
        &self,
        team: &str,
        doc: &str,
        keep_missing: bool,
    ) -> Result<Arc<Mutex<DocEntry>>, LoadError> {
        let key = (team.to_owned(), doc.to_owned());
        if let Some(entry) = self.docs.lock().expect("cache lock").get(&key) {
            return Ok(entry.clone());
        }
        let entry = match self.read(team, doc).await? {
            None if !keep_missing => return Ok(Arc::new(Mutex::new(DocEntry::empty()))),
            None => DocEntry::empty(),
            Some(entry) => entry,
        };
        // Another task may have loaded it meanwhile: keep the first.
        Ok(self
            .docs
            .lock()
            .expect("cache lock")
            .entry(key)
            .or_insert_with(|| Arc::new(Mutex::new(entry)))
            .clone())
    }

    /// The stored document, `None` when the team has none.
    async fn read(&self, team: &str, doc: &str) -> Result<Option<DocEntry>, LoadError> {
        let store = self.store.clone();
        let (t, d) = (team.to_owned(), doc.to_owned());
        let stored = tokio::task::spawn_blocking(move || store.load_doc(&t, &d))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))??;
        let Some(s) = stored else {
            return Ok(None);
        };
        let corrupt =
            |e: automerge::AutomergeError| LoadError::Corrupt(doc.to_owned(), e.to_string());
        let mut am = match &s.snapshot {
            Some(bytes) => AutoCommit::load_with_options(
                bytes,
                LoadOptions::new().on_partial_load(OnPartialLoad::Error),
            )
            .map_err(corrupt)?,
            None => AutoCommit::new(),
        };
        let changes = s
            .changes
            .iter()
            .map(|b| {
                Change::try_from(b.as_slice())
                    .map_err(|e| LoadError::Corrupt(doc.to_owned(), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let n = changes.len();
        am.apply_changes(changes).map_err(corrupt)?;
        Ok(Some(DocEntry {
            doc: am,
            peers: HashMap::new(),
            last_seq: s.last_seq,
            changes_since_snapshot: n,
            last_used: Instant::now(),
        }))
    }

    /// Puts a locked entry back to what storage holds, dropping whatever
    /// was applied in memory but not stored (a refused or failed batch).
    /// Other connections' sync states stay: nothing unstored reached them.
    /// On failure the entry leaves the cache instead, to be loaded afresh.
    pub async fn restore(&self, team: &str, doc: &str, entry: &mut DocEntry) {
        match self.read(team, doc).await {
            Ok(stored) => {
                let stored = stored.unwrap_or_else(DocEntry::empty);
                entry.doc = stored.doc;
                entry.last_seq = stored.last_seq;
                entry.changes_since_snapshot = stored.changes_since_snapshot;
            }
            Err(e) => {
                tracing::warn!(doc, "cannot restore the stored document: {e}");
                self.evict(team, doc);
            }
        }
    }

    /// Drops a document from memory (after a failure, to reload it from storage).
    pub fn evict(&self, team: &str, doc: &str) {
        self.docs
            .lock()
            .expect("cache lock")
            .remove(&(team.to_owned(), doc.to_owned()));
    }

    /// Forgets a closed connection's sync states.
    pub async fn forget_peer(&self, conn: ConnId, docs: &[Key]) {
        for key in docs {
            let entry = self.docs.lock().expect("cache lock").get(key).cloned();
            if let Some(entry) = entry {
                entry.lock().await.peers.remove(&conn);
            }
        }
    }

    /// Evicts documents nobody used for `idle`, compacting those with many
    /// stored changes first. Returns how many were evicted.
    pub async fn evict_idle(&self, idle: Duration) -> usize {
        let candidates: Vec<(Key, Arc<Mutex<DocEntry>>)> = self
            .docs
            .lock()
            .expect("cache lock")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut evicted = 0;
        for (key, entry) in candidates {
            let Ok(mut guard) = entry.try_lock() else {
                continue;
            };
            if guard.last_used.elapsed() < idle {
                continue;
            }
            if guard.changes_since_snapshot >= COMPACT_AFTER {
                let snapshot = guard.doc.save();
                let (store, (team, doc), seq) = (self.store.clone(), key.clone(), guard.last_seq);
                let done = tokio::task::spawn_blocking(move || {
                    store.compact_doc(&team, &doc, &snapshot, seq)
                })
                .await;
                if !matches!(done, Ok(Ok(()))) {
                    tracing::warn!(doc = %key.1, "compaction failed; keeping the changes");
                }
            }
            guard.peers.clear();
            drop(guard);
            self.docs.lock().expect("cache lock").remove(&key);
            evicted += 1;
        }
        evicted
    }
}

impl DocEntry {
    fn empty() -> Self {
        DocEntry {
            doc: AutoCommit::new(),
            peers: HashMap::new(),
            last_seq: 0,
            changes_since_snapshot: 0,
            last_used: Instant::now(),
        }
    }
}
