//! `keygen`, `sign` and `verify`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use scorer_core::artifact::{self, Artifact};
use scorer_core::SignatureStatus;

/// Arguments of `keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Folder for NAME.key (secret, mode 0600) and NAME.pub.
    #[arg(long, default_value = ".")]
    pub out_dir: PathBuf,
    /// Base name of the key files.
    #[arg(long, default_value = "riskscore")]
    pub name: String,
    /// Comment stored in both files.
    #[arg(long, default_value = "")]
    pub comment: String,
}

/// Arguments of `sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The artifact to sign.
    pub model: PathBuf,
    /// Secret key file (or set RISKSCORE_SIGNING_KEY).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Write here instead of in place.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Also set the approval status (draft, approved, retired).
    #[arg(long, value_parser = ["draft", "approved", "retired"])]
    pub approval: Option<String>,
}

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The artifact to check.
    pub model: PathBuf,
    /// Trusted public key file (repeatable; also RISKSCORE_TRUSTED_KEYS).
    #[arg(long = "trusted-key")]
    pub trusted_keys: Vec<PathBuf>,
    /// Accept unsigned or untrusted-but-valid artifacts (tampering still fails).
    #[arg(long)]
    pub allow_unsigned: bool,
}

/// Run `keygen`.
pub fn keygen(a: &KeygenArgs) -> Result<i32> {
    let id = crate::keys::keygen(&a.out_dir, &a.name, &a.comment)?;
    println!(
        "key id {id}: wrote {0}/{1}.key (secret, keep it out of version control) and {0}/{1}.pub",
        a.out_dir.display(),
        a.name
    );
    Ok(0)
}

/// Run `sign`.
pub fn sign(a: &SignArgs) -> Result<i32> {
    let Some(key) = crate::keys::signing_key(a.key.as_deref())? else {
        bail!(
            "no signing key: give --key FILE or set {}",
            crate::keys::SIGNING_KEY_ENV
        );
    };
    let bytes =
        std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let doc = artifact::parse_document(&bytes)?;
    let mut art = Artifact::from_document(&doc)?;
    if let Some(s) = &a.approval {
        art.metadata.approval = serde_json::from_value(serde_json::Value::String(s.clone()))?;
    }
    scorer_core::Model::compile(art.clone()).context("refusing to sign an invalid artifact")?;
    art.seal(Some(&key))?;
    let out = a.output.as_ref().unwrap_or(&a.model);
    std::fs::write(out, art.to_json_pretty())
        .with_context(|| format!("cannot write {}", out.display()))?;
    let id = art
        .integrity
        .as_ref()
        .and_then(|i| i.key_id.clone())
        .unwrap_or_default();
    println!("signed {} with key {id}", out.display());
    Ok(0)
}

/// Run `verify`: exit 0 when the artifact loads under the given trust, 1 otherwise.
pub fn verify(a: &VerifyArgs) -> Result<i32> {
    let bytes =
        std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let options = scorer_core::LoadOptions {
        trusted_keys: crate::keys::trusted_keys(&a.trusted_keys)?,
        allow_unsigned: a.allow_unsigned,
        require_approved: false,
    };
    match scorer_core::Model::load(&bytes, &options) {
        Ok(m) => {
            let status = match m.signature() {
                SignatureStatus::Verified { key_id } => {
                    format!("signature verified (key {key_id})")
                }
                SignatureStatus::UntrustedKey { key_id } => {
                    format!("valid signature by UNTRUSTED key {key_id}")
                }
                SignatureStatus::Unsigned {
                    digest_checked: true,
                } => "UNSIGNED (digest intact)".into(),
                SignatureStatus::Unsigned {
                    digest_checked: false,
                } => "UNSIGNED (no digest)".into(),
            };
            println!(
                "{}: OK: {status}; approval {}",
                a.model.display(),
                m.metadata().approval.as_str()
            );
            Ok(0)
        }
        Err(e) => {
            println!("{}: FAILED: {e}", a.model.display());
            Ok(1)
        }
    }
}
