//! # scorer-core
//!
//! The portable heart of riskscore: it loads a signed model artifact, turns
//! raw SIEM event fields into features, and scores them — the same code,
//! bit for bit, natively (siem-adapter, the Splunk command) and compiled to
//! WebAssembly (wasmtime hosts, browsers).
//!
//! It does **no I/O**, uses **no clock, threads, randomness source or
//! network**, and builds for `wasm32-unknown-unknown`. Timestamps, keys'
//! random seeds and files come from the caller. Transcendental functions go
//! through `libm` so native and wasm builds agree to the last bit.
//!
//! ## Brief overview
//! - [`artifact`]: the versioned JSON artifact ([`Artifact`]), its metadata,
//!   SHA-256 digest and Ed25519 signature ([`artifact::verify`], [`artifact::seal`]).
//! - [`schema`]: the ordered features and their transforms; [`Featurizer`]
//!   reads fields through the [`Event`] trait without copying, an event at a
//!   time, or a feature at a time from columnar batches ([`schema::Columns`],
//!   the wasm ABI's).
//! - [`estimators`]: logistic/linear regression, random forest, isolation
//!   forest, k-means, PCA — stored forms and compiled scoring forms.
//! - [`output`]: raw output → `model_output_risk_score`, and the flag threshold.
//! - [`lines`]: the model's fields out of raw JSON lines (Splunk exports
//!   included) without building a JSON tree.
//! - [`Model`]: load + compile once, then batch scoring into reused
//!   [`FeatureBatch`] / [`Scores`] buffers; [`Model::explain`] gives [`Reason`]s.
//! - [`baseline`]: training distributions for drift detection; [`drift`]:
//!   PSI and KS of a window of events against them.
//! - [`mouse`]: mouse dynamics — raw mouse events of a session → gestures →
//!   features → a session score (an artifact's `session` section).
//! - `train` (cargo feature `train`, native only): fit every estimator from a
//!   table with smartcore/ndarray and an own isolation forest, evaluate, and
//!   produce an artifact.
//!
//! ```
//! use scorer_core::{LoadOptions, Model};
//! let artifact = r#"{"format":"riskscore-model","format_version":1,
//!   "metadata":{"name":"demo","version":"1","created":"2026-01-01T00:00:00Z","approval":"draft"},
//!   "schema":{"features":[{"field":"failed_logins","transform":{"kind":"number"}}]},
//!   "estimator":{"type":"logistic_regression","weights":[0.5],"intercept":-3.0},
//!   "output":{"score":{"kind":"sigmoid"},"threshold":0.5}}"#;
//! let model = Model::load(artifact.as_bytes(), &LoadOptions::development()).unwrap();
//! let events = [serde_json::json!({"failed_logins": "12"}), serde_json::json!({})];
//! let (mut batch, mut scores) = (model.new_batch(), Default::default());
//! model.score_events(&events, &mut batch, &mut scores);
//! assert_eq!(scores.flag, [1, 0]);
//! assert_eq!(model.missing_features(batch.mask(1)).count(), 1);
//! ```
#![deny(missing_docs)]

pub mod artifact;
pub mod baseline;
pub mod drift;
mod error;
pub mod estimators;
mod event;
mod explain;
pub mod lines;
mod model;
pub mod mouse;
pub mod output;
pub mod schema;
#[cfg(feature = "train")]
pub mod train;

pub use artifact::{Approval, Artifact, Metadata, SignatureStatus};
pub use error::{Error, Result};
pub use event::{json_field, parse_number, Event, Field, Value};
pub use explain::{format_reasons, Reason};
pub use model::{FeatureBatch, LoadOptions, Model, Scores};
pub use schema::{Featurizer, Schema};
