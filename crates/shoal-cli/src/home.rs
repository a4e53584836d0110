//! Where the client keeps its replica: the same rules as the desktop app
//! (`shoal_app::home`), with errors as `anyhow` for the CLI.

use anyhow::Result;
use std::path::{Path, PathBuf};

pub use shoal_app::home::replica_path;

/// The home directory: `--home`/`SHOAL_HOME` if given (clap reads the
/// variable), else the XDG data directory, made absolute.
pub fn resolve(explicit: Option<PathBuf>) -> Result<PathBuf> {
    Ok(shoal_app::home::resolve(explicit)?)
}

/// Creates `home` (mode 0700 on unix).
pub fn create(home: &Path) -> Result<()> {
    Ok(shoal_app::home::create(home)?)
}
