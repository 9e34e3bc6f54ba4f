//! A cache of the compiled scorer module, so start-up takes milliseconds.
//!
//! The key is the SHA-256 of the .wasm plus wasmtime's compatibility hash
//! (its version and every setting that changes generated code). Entries are
//! written with `Module::serialize` into a private (0700) folder (write to a
//! temporary file, then rename) and read back with `Module::deserialize`,
//! which wasmtime checks for version and settings. Anything wrong — missing, unreadable, refused — falls back to
//! compiling, and the fresh compile is written back.
//!
//! Security: loading a cached entry runs machine code from that folder, so
//! it must be as protected as the binary itself (it is created 0700, files
//! 0600, under the user's cache directory or `RISKSCORE_CACHE_DIR`).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// How the module was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from the cache.
    Hit(PathBuf),
    /// Compiled, and written to the cache.
    Stored(PathBuf),
    /// Compiled; the cache could not be used (reason).
    Compiled(String),
    /// Compiled; caching is off.
    Disabled,
}

/// The default cache folder: `$RISKSCORE_CACHE_DIR`, else `$XDG_CACHE_HOME/riskscore`, else `~/.cache/riskscore`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("RISKSCORE_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("riskscore"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/riskscore"))
}

fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let digest: String = Sha256::digest(wasm)
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("scorer-{digest}-{:016x}.cwasm", h.finish())
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The compiled module for `wasm`, from `dir` when possible.
pub fn load(
    engine: &Engine,
    wasm: &[u8],
    dir: Option<&Path>,
) -> wasmtime::Result<(Module, CacheOutcome)> {
    let Some(dir) = dir else {
        return Ok((Module::new(engine, wasm)?, CacheOutcome::Disabled));
    };
    let path = dir.join(key(engine, wasm));
    if path.exists() && !owned_privately(&path) {
        tracing::warn!(
            path = %path.display(),
            "cached scorer module ignored: it or its folder is not this user's alone \
             (another user could have planted native code); recompiling"
        );
    } else if let Ok(bytes) = std::fs::read(&path) {
        // Read into memory rather than `deserialize_file`, which maps the file:
        // a mapped entry truncated by another process would crash this one (SIGBUS).
        // SAFETY: the bytes were written by `Module::serialize` below into a
        // folder only this user can write (checked by `owned_privately`);
        // wasmtime refuses entries made by another version or configuration.
        match unsafe { Module::deserialize(engine, &bytes) } {
            Ok(m) => return Ok((m, CacheOutcome::Hit(path))),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cached scorer module refused; recompiling")
            }
        }
    }
    let module = Module::new(engine, wasm)?;
    let outcome = match module
        .serialize()
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            private_dir(dir).map_err(|e| e.to_string())?;
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            write_private(&tmp, &bytes).map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, &path).map_err(|e| e.to_string())
        }) {
        Ok(()) => CacheOutcome::Stored(path),
        Err(e) => CacheOutcome::Compiled(e),
    };
    Ok((module, outcome))
}

/// Whether the entry and its folder belong to this process's user and no
/// one else can write them. A cache entry is native code, loaded without
/// recompiling: trusting a file another user could write would let that
/// user run code outside the sandbox. Where the user cannot be told (no
/// `/proc`), nothing is trusted and the module is compiled.
#[cfg(unix)]
fn owned_privately(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(uid) = effective_uid() else {
        return false;
    };
    [path.parent(), Some(path)].into_iter().flatten().all(|p| {
        std::fs::symlink_metadata(p)
            .is_ok_and(|m| m.uid() == uid && m.mode() & 0o022 == 0 && !m.file_type().is_symlink())
    })
}

#[cfg(not(unix))]
fn owned_privately(_: &Path) -> bool {
    true
}

#[cfg(unix)]
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uids = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    uids.split_whitespace().nth(1)?.parse().ok()
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(bytes)
}
