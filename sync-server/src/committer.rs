//! Group commit: every connection's new changes go through one writer
//! thread, which stores whatever has queued up meanwhile in a single durable
//! transaction. With many agents typing at once, one fsync then covers many
//! changes instead of one each; alone, a change waits for no one.

use shoal_relay_store::{AppendItem, RelayStore, StoreError};
use std::sync::mpsc;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Items per transaction at most, so one commit stays short.
const MAX_ITEMS: usize = 1024;

struct Job {
    items: Vec<AppendItem>,
    reply: oneshot::Sender<Vec<Result<u64, StoreError>>>,
}

/// Handle to the writer thread; the thread ends when every handle is gone.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the writer thread over `store`. `pause` (a test hook, zero in
    /// service) delays every commit, widening the window between receiving
    /// changes and storing them for crash tests.
    pub fn start(store: Arc<dyn RelayStore>, pause: std::time::Duration) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("shoal-committer".into())
            .spawn(move || run(store, rx, pause))
            .expect("spawn the committer thread");
        Self { tx }
    }

    /// Stores `items` durably; results in the order of `items`.
    pub async fn append(&self, items: Vec<AppendItem>) -> Vec<Result<u64, StoreError>> {
        let n = items.len();
        let (reply, answer) = oneshot::channel();
        let gone = || {
            (0..n)
                .map(|_| Err(StoreError::Backend("the storage writer stopped".into())))
                .collect()
        };
        if self.tx.send(Job { items, reply }).is_err() {
            return gone();
        }
        answer.await.unwrap_or_else(|_| gone())
    }
}

fn run(store: Arc<dyn RelayStore>, rx: mpsc::Receiver<Job>, pause: std::time::Duration) {
    while let Ok(first) = rx.recv() {
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        let mut jobs = vec![first];
        let mut count = jobs[0].items.len();
        while count < MAX_ITEMS {
            match rx.try_recv() {
                Ok(job) => {
                    count += job.items.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let sizes: Vec<usize> = jobs.iter().map(|j| j.items.len()).collect();
        let mut replies = Vec::with_capacity(jobs.len());
        let mut items = Vec::with_capacity(count);
        for job in jobs {
            items.extend(job.items);
            replies.push(job.reply);
        }
        let mut results = store.append_batch(&items, crate::now_ms()).into_iter();
        for (reply, size) in replies.into_iter().zip(sizes) {
            // A caller that went away (connection closed) needs no answer;
            // its changes are stored all the same.
            let _ = reply.send(results.by_ref().take(size).collect());
        }
    }
}
