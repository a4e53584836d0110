//! The desktop app's engine, without a window.
//!
//! [`Engine`] opens the replica in the Shoal home, answers the UI's commands
//! (docs/desktop.md) with plain serde data, runs the sync engine on its own
//! thread with its own replica handle, turns local and received changes into
//! events for an [`EventSink`], and decides which changes deserve a desktop
//! notification ([`notify`]). The Tauri shell (src-tauri) only forwards.

mod engine;
mod error;
pub mod events;
pub mod facts;
pub mod home;
pub mod notify;
pub mod settings;
pub mod team_settings;
pub mod text;
pub mod tokens;
pub mod views;
mod worker;

pub use engine::Engine;
pub use error::{AppError, ErrorKind};
pub use events::{AppEvent, ChannelSink, EventSink, ReplicaChanged};
pub use notify::{escape_markup, Notification};
pub use settings::Settings;
pub use team_settings::{TeamSettingsChange, TeamSettingsView};
pub use tokens::TokenStore;
pub use views::*;
