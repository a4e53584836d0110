//! `shoal notifications --watch`: the desktop app's notification rules
//! (`shoal_app::notify`) on the command line, one line per notification
//! while connected.

use super::open;
use super::sync::relay_config;
use crate::args::NotificationsArgs;
use anyhow::{bail, Context, Result};
use shoal_app::facts::{baseline, conversation_facts};
use shoal_app::notify::{decide, snooze_ended, Gate, Known, Me, Notification};
use shoal_core::AgentAvailability;
use shoal_replica::Replica;
use shoal_sync::SyncEvent;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What changes are compared against, and the burst limits.
struct Watcher {
    reader: Replica,
    known: HashMap<String, Known>,
    gate: Gate,
    epoch: Instant,
    json: bool,
    /// Snoozes ending up to this time (replica clock) were looked at.
    snoozes_checked: shoal_core::Timestamp,
}

impl Watcher {
    fn me(&self) -> Me {
        let agent = self.reader.identity().agent_id.clone();
        let available = self
            .reader
            .team()
            .ok()
            .and_then(|t| t.agent(&agent).map(|a| a.availability))
            .is_none_or(|a| a == AgentAvailability::Available);
        Me {
            agent_id: agent.to_string(),
            enabled: true,
            available,
        }
    }

    fn now(&self) -> i64 {
        self.epoch.elapsed().as_millis() as i64
    }

    fn on_event(&mut self, event: &SyncEvent) {
        if let SyncEvent::Received { doc } = event {
            if let Some(id) = doc.strip_prefix("conv/") {
                self.changed(id);
            }
        }
        self.tick();
    }

    /// Snoozes of mine that ended, and what the burst limits held back,
    /// once they allow.
    fn tick(&mut self) {
        let now = self.reader.now();
        if now > self.snoozes_checked {
            let ended = self
                .reader
                .snoozes_ending(self.snoozes_checked, now)
                .unwrap_or_default();
            self.snoozes_checked = now;
            let me = self.me();
            let found: Vec<Notification> = ended
                .iter()
                .filter_map(|s| snooze_ended(&me, &s.conversation_id, &s.subject))
                .collect();
            let ms = self.now();
            for n in self.gate.offer(ms, found) {
                self.print(&n);
            }
        }
        if let Some(n) = self.gate.tick(self.now()) {
            self.print(&n);
        }
    }

    fn changed(&mut self, id: &str) {
        let Some(facts) = conversation_facts(&self.reader, id) else {
            return;
        };
        let before = self.known.insert(id.to_owned(), facts.known());
        if let Some(n) = decide(&self.me(), before.as_ref(), &facts) {
            let now = self.now();
            for n in self.gate.offer(now, vec![n]) {
                self.print(&n);
            }
        }
    }

    fn print(&self, n: &Notification) {
        let line = if self.json {
            serde_json::to_string(n).unwrap_or_default()
        } else {
            format!("{}: {}", n.summary, n.body)
        };
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }
}

/// Runs `shoal notifications --watch`.
pub fn watch(home: &Path, args: NotificationsArgs, _out: &mut dyn Write) -> Result<()> {
    if !args.watch {
        bail!(
            "notifications are what changes while you watch: pass --watch \
             (Ctrl-C stops; add --json for one object per line)"
        );
    }
    let mut replica = open(home)?;
    let (cfg, _) = relay_config(home, &replica)?;
    // A second handle reads what the sync writes, as the desktop's does.
    let reader = open(home)?;
    let known = baseline(&reader).context("cannot read the inbox")?;
    let watcher = Arc::new(Mutex::new(Watcher {
        reader,
        known,
        gate: Gate::default(),
        epoch: Instant::now(),
        json: args.json,
        snoozes_checked: replica.now(),
    }));
    let events = watcher.clone();
    let mut on_event = move |event: SyncEvent| {
        if let Ok(mut w) = events.lock() {
            w.on_event(&event);
        }
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    // Held-back notifications go out when their window passes, even when
    // nothing else happens.
    let ticker = async {
        let mut every = tokio::time::interval(Duration::from_millis(500));
        loop {
            every.tick().await;
            if let Ok(mut w) = watcher.lock() {
                w.tick();
            }
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        tokio::select! {
            r = shoal_sync::watch(&mut replica, &cfg, &mut on_event, None, stop) => r,
            () = ticker => Ok(()),
        }
    })
    .context("sync stopped")?;
    Ok(())
}
