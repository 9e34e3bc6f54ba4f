//! The model artifact: one JSON file, versioned and signed, that carries
//! everything needed to score and to audit a model.
//!
//! ```text
//! { "format": "riskscore-model", "format_version": 1,
//!   "metadata":  { name, version, description, author, created, training_data,
//!                  approval, metrics, tags },
//!   "schema":    { "features": [ { field, name?, transform }, ... ] },
//!   "estimator": { "type": "random_forest" | ..., ... },
//!   "output":    { "score": { "kind": ... }, "threshold": 0.5 },
//!   "baseline":  { rows, columns: [...], score, missing_rate: [...] },
//!   "drift":     { psi_watch, psi_drift, ks_drift, missing_drift, window, min_rows, action },
//!   "session":   { kind: "mouse_dynamics", gestures, method, min_gestures, threshold, ks },
//!   "integrity": { sha256, algorithm, key_id, public_key, signature } }
//! ```
//!
//! Reading goes: size cap → JSON → `format` and `format_version` check →
//! integrity check → typed parse (errors name the JSON path) → validation →
//! compilation into a [`crate::Model`]. Anything wrong is reported at load,
//! never later while scoring.

mod integrity;
mod metadata;

use serde::{Deserialize, Serialize};

pub use integrity::{
    canonical_bytes, content_digest, key_files, key_id, parse_public_key, parse_signing_key, seal,
    verify, Integrity, SignatureStatus,
};
pub use metadata::{
    Approval, CrossValidation, EvalMetrics, Metadata, ThresholdChoice, TrainingMetrics,
};

use crate::baseline::Baseline;
use crate::drift::DriftPolicy;
use crate::estimators::EstimatorSpec;
use crate::mouse::SessionSpec;
use crate::output::OutputSpec;
use crate::schema::Schema;
use crate::{Error, Result};

/// The value of `format` in every artifact.
pub const FORMAT: &str = "riskscore-model";
/// The newest `format_version` this build reads and the one it writes.
pub const FORMAT_VERSION: u32 = 1;
/// The oldest `format_version` this build reads.
pub const MIN_FORMAT_VERSION: u32 = 1;
/// Largest artifact accepted, in bytes.
pub const MAX_ARTIFACT_BYTES: usize = 256 << 20;

/// A model artifact as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Always [`FORMAT`].
    pub format: String,
    /// Revision of the format.
    pub format_version: u32,
    /// Who, what, how good, approved or not.
    pub metadata: Metadata,
    /// Fields read and their transforms.
    pub schema: Schema,
    /// The fitted estimator.
    pub estimator: EstimatorSpec,
    /// Raw output → risk score, and the flag threshold.
    pub output: OutputSpec,
    /// Training distributions for drift detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// Drift thresholds and action (the defaults of [`DriftPolicy`] when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftPolicy>,
    /// Present when the model scores sessions of raw events (mouse dynamics)
    /// rather than single events: see [`crate::mouse::session`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionSpec>,
    /// Digest and signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<Integrity>,
}

/// Parse artifact bytes into a JSON document and check `format` and `format_version`.
pub fn parse_document(bytes: &[u8]) -> Result<serde_json::Value> {
    if bytes.len() > MAX_ARTIFACT_BYTES {
        return Err(Error::Format(format!(
            "artifact is {} bytes, over the limit of {MAX_ARTIFACT_BYTES}",
            bytes.len()
        )));
    }
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Error::Parse {
        path: format!("line {} column {}", e.line(), e.column()),
        message: e.to_string(),
    })?;
    let obj = doc
        .as_object()
        .ok_or_else(|| Error::Format("artifact is not a JSON object".into()))?;
    match obj.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(Error::Format(format!(
                "artifact format is `{other}`, expected `{FORMAT}`"
            )))
        }
        None => {
            return Err(Error::Format(format!(
                "not a riskscore artifact: no `format: \"{FORMAT}\"`"
            )))
        }
    }
    let version = obj
        .get("format_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| Error::Format("artifact has no integer `format_version`".into()))?;
    if version > u64::from(FORMAT_VERSION) {
        return Err(Error::Format(format!(
            "artifact format_version {version} is newer than this build reads ({MIN_FORMAT_VERSION}..={FORMAT_VERSION}): upgrade riskscore"
        )));
    }
    if version < u64::from(MIN_FORMAT_VERSION) {
        return Err(Error::Format(format!(
            "artifact format_version {version} is older than this build reads ({MIN_FORMAT_VERSION}..={FORMAT_VERSION}): re-export it with a release that reads both"
        )));
    }
    Ok(doc)
}

impl Artifact {
    /// Typed view of a parsed document; errors name the JSON path of the bad value.
    pub fn from_document(doc: &serde_json::Value) -> Result<Artifact> {
        serde_path_to_error::deserialize(doc).map_err(|e| Error::Parse {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }

    /// The document form (for sealing and writing).
    pub fn to_document(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// JSON text of the artifact: one line per top-level section, compact
    /// inside (trees stay small on disk, `git diff` still shows which section changed).
    pub fn to_json_pretty(&self) -> String {
        let doc = self.to_document();
        let mut out = String::from("{\n");
        if let serde_json::Value::Object(map) = &doc {
            let n = map.len();
            for (i, (k, v)) in map.iter().enumerate() {
                out.push_str(&format!(
                    "  {}: {}{}\n",
                    serde_json::Value::String(k.clone()),
                    v,
                    if i + 1 < n { "," } else { "" }
                ));
            }
        }
        out.push_str("}\n");
        out
    }

    /// Recompute the digest and, given a key, sign. Replaces any previous integrity.
    pub fn seal(&mut self, key: Option<&ed25519_dalek::SigningKey>) -> Result<()> {
        self.integrity = None;
        let mut doc = self.to_document();
        integrity::seal(&mut doc, key)?;
        self.integrity = Some(
            serde_json::from_value(doc["integrity"].clone())
                .map_err(|e| Error::Format(e.to_string()))?,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests;
