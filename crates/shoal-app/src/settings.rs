//! The app's preferences, kept in `HOME/desktop-settings.json` (no secrets).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the person chose on this device. (Availability is not here: the
/// team sees it, so it lives in the team document; see
/// `Engine::set_availability`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Show desktop notifications.
    pub notifications: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            notifications: true,
        }
    }
}

const FILE: &str = "desktop-settings.json";

fn path(home: &Path) -> PathBuf {
    home.join(FILE)
}

impl Settings {
    /// The saved settings; defaults when none were saved or the file is unreadable.
    pub fn load(home: &Path) -> Settings {
        std::fs::read(path(home))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Saves atomically (write a temporary file, then rename).
    pub fn save(&self, home: &Path) -> std::io::Result<()> {
        let tmp = home.join(format!("{FILE}.tmp"));
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, path(home))
    }
}
