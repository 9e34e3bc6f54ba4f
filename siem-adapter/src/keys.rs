//! Keys: a signing key for `sign`/`train`, trusted public keys for loading.
//!
//! Secrets come from a file (`--key FILE`) or the environment
//! (`RISKSCORE_SIGNING_KEY`, the key file's content or the bare base64
//! seed) — never from argv, where `ps` would show them, and never logged.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ed25519_dalek::{SigningKey, VerifyingKey};
use scorer_core::artifact;

/// Environment variable holding a signing key.
pub const SIGNING_KEY_ENV: &str = "RISKSCORE_SIGNING_KEY";
/// Environment variable listing trusted public key files (`:`-separated).
pub const TRUSTED_KEYS_ENV: &str = "RISKSCORE_TRUSTED_KEYS";

/// The signing key from `file`, else from the environment; None when neither is set.
pub fn signing_key(file: Option<&Path>) -> Result<Option<SigningKey>> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read key file {}", f.display()))?;
        return Ok(Some(
            artifact::parse_signing_key(&text)
                .with_context(|| format!("key file {}", f.display()))?,
        ));
    }
    match std::env::var(SIGNING_KEY_ENV) {
        Ok(v) if !v.trim().is_empty() => Ok(Some(
            artifact::parse_signing_key(&v).with_context(|| format!("${SIGNING_KEY_ENV}"))?,
        )),
        _ => Ok(None),
    }
}

/// Trusted public keys from `files` plus the files listed in the environment.
pub fn trusted_keys(files: &[PathBuf]) -> Result<Vec<VerifyingKey>> {
    let mut paths: Vec<PathBuf> = files.to_vec();
    if let Ok(v) = std::env::var(TRUSTED_KEYS_ENV) {
        paths.extend(v.split(':').filter(|s| !s.is_empty()).map(PathBuf::from));
    }
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read public key {}", p.display()))?;
            artifact::parse_public_key(&text).with_context(|| format!("public key {}", p.display()))
        })
        .collect()
}

/// Write a new key pair `DIR/NAME.key` (mode 0600) and `DIR/NAME.pub`; returns the key id.
pub fn keygen(dir: &Path, name: &str, comment: &str) -> Result<String> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| anyhow::anyhow!("no randomness source: {e}"))?;
    let (secret, public) = artifact::key_files(seed, comment);
    std::fs::create_dir_all(dir)?;
    let key_path = dir.join(format!("{name}.key"));
    let pub_path = dir.join(format!("{name}.pub"));
    write_private(&key_path, secret.as_bytes())?;
    std::fs::write(&pub_path, public)?;
    let pk = artifact::parse_public_key(&std::fs::read_to_string(&pub_path)?)?;
    Ok(artifact::key_id(&pk))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}
