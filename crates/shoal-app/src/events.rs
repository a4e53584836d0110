//! Events from the engine to whoever shows them (the Tauri shell, tests).

use crate::notify::Notification;
use crate::views::{PresenceView, SyncStatusView};
use serde::Serialize;
use std::sync::mpsc;
use std::sync::Mutex;

/// Which documents changed (payload of `replica-changed`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReplicaChanged {
    /// Changed conversations.
    pub conversations: Vec<String>,
    /// Changed customers.
    pub customers: Vec<String>,
    /// The team document changed.
    pub team: bool,
    /// Every change in this batch was made by this app's own commands.
    pub local: bool,
}

/// Something the UI (or the shell) should know.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AppEvent {
    /// `replica-changed`.
    ReplicaChanged(ReplicaChanged),
    /// `sync-status`.
    SyncStatus(SyncStatusView),
    /// `presence`: every live announcement.
    Presence(Vec<PresenceView>),
    /// `focus-conversation`.
    FocusConversation {
        /// The conversation to show.
        conversation_id: String,
    },
    /// `show-notifications`: a summary notification was clicked; the UI
    /// lists what it summarised.
    ShowNotifications {
        /// The notifications the summary stood for.
        items: Vec<Notification>,
    },
    /// Not a UI event: the shell shows a desktop notification.
    Notify(Notification),
}

impl AppEvent {
    /// The event name in docs/desktop.md (`notify` is for the shell only).
    pub fn name(&self) -> &'static str {
        match self {
            AppEvent::ReplicaChanged(_) => "replica-changed",
            AppEvent::SyncStatus(_) => "sync-status",
            AppEvent::Presence(_) => "presence",
            AppEvent::FocusConversation { .. } => "focus-conversation",
            AppEvent::ShowNotifications { .. } => "show-notifications",
            AppEvent::Notify(_) => "notify",
        }
    }
}

/// Receives the engine's events. Called from the engine's threads: keep it quick.
pub trait EventSink: Send + Sync {
    /// One event.
    fn emit(&self, event: AppEvent);
}

/// An [`EventSink`] that forwards into a channel (tests, simple hosts).
pub struct ChannelSink(Mutex<mpsc::Sender<AppEvent>>);

impl ChannelSink {
    /// A sink and the receiving end.
    pub fn new() -> (ChannelSink, mpsc::Receiver<AppEvent>) {
        let (tx, rx) = mpsc::channel();
        (ChannelSink(Mutex::new(tx)), rx)
    }
}

impl EventSink for ChannelSink {
    fn emit(&self, event: AppEvent) {
        if let Ok(tx) = self.0.lock() {
            let _ = tx.send(event);
        }
    }
}
