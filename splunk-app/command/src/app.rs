//! Where things are inside the Splunk app: the app folder itself (found from
//! the executable's own path), its `models/` and `keys/` folders, and — when
//! run by Splunk — the log file and the compiled-module cache under
//! `$SPLUNK_HOME/var`.
//!
//! The executable sits in `<app>/linux_x86_64/bin/` (Splunk's platform folder,
//! looked in first for chunked commands) or `<app>/bin/` (the fallback, where
//! the aarch64 build lives because Splunk names no aarch64 platform folder).

use std::path::{Path, PathBuf};

use crate::args::ArgError;

/// Environment override of the app folder (tests and manual runs).
pub const APP_DIR_ENV: &str = "RISKSCORE_APP_DIR";

/// The app folder: `$RISKSCORE_APP_DIR`, else derived from the executable's path.
pub fn app_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(APP_DIR_ENV) {
        return Some(PathBuf::from(d));
    }
    let exe = std::env::current_exe().ok()?;
    app_dir_of(&exe)
}

/// `<app>/bin/x` and `<app>/<platform>/bin/x` → `<app>`.
pub fn app_dir_of(exe: &Path) -> Option<PathBuf> {
    let bin = exe.parent()?;
    if bin.file_name()? != "bin" {
        return None;
    }
    let up = bin.parent()?;
    let name = up.file_name()?.to_string_lossy();
    let platform = ["linux_", "darwin_", "windows_"]
        .iter()
        .any(|p| name.starts_with(p));
    if platform {
        up.parent().map(Path::to_path_buf)
    } else {
        Some(up.to_path_buf())
    }
}

/// The artifact file of model `name` (already checked to be a plain name):
/// `<app>/models/<name>.json`, or `<app>/models/<name>` if it ends in `.json`.
pub fn resolve_model(app: &Path, name: &str) -> Result<PathBuf, ArgError> {
    let dir = app.join("models");
    let file = if name.ends_with(".json") {
        dir.join(name)
    } else {
        dir.join(format!("{name}.json"))
    };
    if file.is_file() {
        return Ok(file);
    }
    let mut known: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    known.sort();
    Err(ArgError(if known.is_empty() {
        format!(
            "unknown model `{name}`: the models folder {} holds no models",
            dir.display()
        )
    } else {
        format!(
            "unknown model `{name}`; models in this app: {}",
            known.join(", ")
        )
    }))
}

/// Trusted public keys: every `*.pub` in `<app>/keys/`, sorted.
pub fn trusted_key_files(app: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(app.join("keys"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pub"))
        .collect();
    files.sort();
    files
}

/// `$SPLUNK_HOME` when run by Splunk.
pub fn splunk_home() -> Option<PathBuf> {
    std::env::var_os("SPLUNK_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}

/// Log file when run by Splunk: `$SPLUNK_HOME/var/log/splunk/riskscore.log`
/// (indexed into `_internal` by Splunk's default monitor of that folder).
pub fn log_file(home: &Path) -> PathBuf {
    home.join("var/log/splunk/riskscore.log")
}

/// Compiled-module cache when run by Splunk: `$SPLUNK_HOME/var/run/riskscore/cache`.
pub fn cache_dir(home: &Path) -> PathBuf {
    home.join("var/run/riskscore/cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_folder_is_found_from_either_bin_folder() {
        let apps = Path::new("/opt/splunk/etc/apps/riskscore");
        assert_eq!(
            app_dir_of(&apps.join("linux_x86_64/bin/riskscore")).as_deref(),
            Some(apps)
        );
        assert_eq!(
            app_dir_of(&apps.join("bin/riskscore")).as_deref(),
            Some(apps)
        );
        assert_eq!(app_dir_of(Path::new("/usr/local/riskscore")), None);
    }

    #[test]
    fn models_resolve_inside_the_models_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("models")).unwrap();
        std::fs::write(dir.path().join("models/threat_rf.json"), "{}").unwrap();
        assert!(resolve_model(dir.path(), "threat_rf").is_ok());
        assert!(resolve_model(dir.path(), "threat_rf.json").is_ok());
        let e = resolve_model(dir.path(), "nope").unwrap_err();
        assert!(e.0.contains("models in this app: threat_rf"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        let e = resolve_model(empty.path(), "nope").unwrap_err();
        assert!(e.0.contains("holds no models"), "{e}");
    }
}
