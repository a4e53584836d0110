//! Where the client keeps its replica: shared by `shoal` and the desktop app
//! so both find the same replica.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// File name of the replica inside the home directory.
pub const REPLICA_FILE: &str = "replica.sqlite3";

/// Why no home directory could be chosen or created.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// Neither `--home`, `SHOAL_HOME`, `XDG_DATA_HOME` nor `HOME` is usable.
    #[error("cannot tell where to keep Shoal's data: pass --home DIR or set SHOAL_HOME")]
    Unknown,
    /// The directory could not be created.
    #[error("cannot create the home directory {path}: {source}")]
    Create {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The home directory: `explicit` (`--home` or `SHOAL_HOME`) if given, else
/// the XDG data directory. Made absolute so that what is printed can be
/// pasted anywhere.
pub fn resolve(explicit: Option<PathBuf>) -> Result<PathBuf, HomeError> {
    let home = match explicit.filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p,
        None => default_home(std::env::var_os("XDG_DATA_HOME"), std::env::var_os("HOME"))?,
    };
    Ok(std::path::absolute(&home).unwrap_or(home))
}

/// `$XDG_DATA_HOME/shoal`, else `$HOME/.local/share/shoal`.
pub fn default_home(
    xdg_data_home: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf, HomeError> {
    // The XDG spec says relative paths in $XDG_DATA_HOME are invalid and must be ignored.
    if let Some(xdg) = xdg_data_home.map(PathBuf::from).filter(|p| p.is_absolute()) {
        return Ok(xdg.join("shoal"));
    }
    if let Some(home) = home
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
    {
        return Ok(home.join(".local").join("share").join("shoal"));
    }
    Err(HomeError::Unknown)
}

/// The replica file inside `home`.
pub fn replica_path(home: &Path) -> PathBuf {
    home.join(REPLICA_FILE)
}

/// Creates `home` (and its parents). A new directory gets mode 0700 on unix:
/// it holds every customer conversation of the team.
pub fn create(home: &Path) -> Result<(), HomeError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(home).map_err(|source| HomeError::Create {
        path: home.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_home_prefers_an_absolute_xdg_dir() {
        let home = default_home(Some("/data".into()), Some("/home/ana".into())).unwrap();
        assert_eq!(home, PathBuf::from("/data/shoal"));
        let home = default_home(Some("relative".into()), Some("/home/ana".into())).unwrap();
        assert_eq!(home, PathBuf::from("/home/ana/.local/share/shoal"));
        let home = default_home(None, Some("/home/ana".into())).unwrap();
        assert_eq!(home, PathBuf::from("/home/ana/.local/share/shoal"));
        assert!(default_home(None, None).is_err());
        assert!(default_home(Some("".into()), Some("".into())).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn created_home_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("a").join("shoal");
        create(&home).unwrap();
        let mode = std::fs::metadata(&home).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        create(&home).unwrap();
    }
}
