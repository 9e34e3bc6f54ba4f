//! The scoring engine shared by `siem-adapter score` and the Splunk command:
//! the embedded WebAssembly scorer run by wasmtime (default), or scorer-core
//! linked natively (for comparison, and as a fallback the user can pick).
//!
//! Both take a batch of events and fill the same [`BatchResult`], so the code
//! around them cannot tell them apart — and the parity tests prove the
//! numbers agree.

mod cache;
mod encode;
mod native;
mod wasm;

use scorer_core::baseline::Baseline;
use scorer_core::drift::{DriftCounts, DriftPolicy};
use scorer_core::schema::FeatureSpec;
use scorer_core::{Field, Metadata, Reason};
use serde_json::{Map, Value};

pub use cache::{default_dir as default_cache_dir, CacheOutcome};
pub use encode::Encoder;
pub use native::NativeEngine;
pub use wasm::{WasmEngine, WasmLimits, WasmRuntime, SCORER_WASM};

/// Which engine scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// The embedded .wasm, sandboxed by wasmtime (no imports, memory cap, time bound).
    Wasm,
    /// scorer-core linked into this binary.
    Native,
}

/// Why a batch or a model could not be handled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The artifact was refused (malformed, invalid, tampered, unsigned, not approved).
    #[error("{0}")]
    Model(String),
    /// The scorer ran past its time bound.
    #[error("scorer exceeded its time bound of {0} ms")]
    Timeout(u64),
    /// The scorer needed more memory than its cap.
    #[error("scorer exceeded its memory cap of {0} bytes")]
    MemoryLimit(usize),
    /// The scorer trapped.
    #[error("scorer trapped: {0}")]
    Trap(String),
    /// The scorer module or its answer is not what this host expects.
    #[error("scorer module: {0}")]
    Module(String),
    /// The scorer refused the batch.
    #[error("scorer refused the batch: {0}")]
    Batch(String),
}

/// What a loaded model reads and is.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Description {
    /// `name@version`.
    pub id: String,
    /// The event fields it reads, in wire-column order.
    pub fields: Vec<String>,
    /// Its features.
    pub features: Vec<FeatureSpec>,
    /// Feature columns.
    pub width: usize,
    /// Flag threshold in force.
    pub threshold: f64,
    /// Integrity status.
    pub signature: Value,
    /// Metadata.
    pub metadata: Metadata,
    /// Training distributions (drift is measured only when there is one).
    #[serde(default)]
    pub baseline: Option<Baseline>,
    /// The artifact's drift policy (or the default one).
    #[serde(default)]
    pub drift: DriftPolicy,
}

/// Results of one batch, one entry per event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchResult {
    /// `model_output_risk_score` (NaN: the model's arithmetic overflowed).
    pub score: Vec<f64>,
    /// Raw estimator output.
    pub raw: Vec<f64>,
    /// `anomaly_flag`.
    pub flag: Vec<u8>,
    /// Missing-feature masks, `mask_words` per event.
    pub masks: Vec<u64>,
    /// Words per mask.
    pub mask_words: usize,
    /// Top reasons per event (empty unless asked for).
    pub reasons: Vec<Vec<Reason>>,
}

impl BatchResult {
    /// The fields (deduplicated, schema order) whose features were missing in event `i`.
    pub fn missing_fields<'a>(&self, i: usize, features: &'a [FeatureSpec]) -> Vec<&'a str> {
        let mask = &self.masks[i * self.mask_words..(i + 1) * self.mask_words];
        let mut out: Vec<&str> = Vec::new();
        for (f, spec) in features.iter().enumerate() {
            if mask[f / 64] & (1 << (f % 64)) != 0 && !out.contains(&spec.field.as_str()) {
                out.push(&spec.field);
            }
        }
        out
    }
}

/// A batch of events as the engines read it: `n` rows, and for each row the
/// field of column `col` — columns being the model's fields
/// ([`Description::fields`]), in order. The adapter's raw JSON lines, parsed
/// JSON objects and the Splunk command's CSV chunks each implement it over
/// their own storage, so no event is copied into another shape to be scored.
pub trait EventBatch {
    /// Number of events.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Column `col` (an index into the model's fields) of event `row`.
    fn field(&self, row: usize, col: usize) -> Field<'_>;
}

/// Parsed JSON objects, read by field name.
pub struct MapBatch<'a> {
    /// The events.
    pub events: &'a [&'a Map<String, Value>],
    /// The model's fields ([`Description::fields`]).
    pub fields: &'a [String],
}

impl EventBatch for MapBatch<'_> {
    fn len(&self) -> usize {
        self.events.len()
    }
    fn field(&self, row: usize, col: usize) -> Field<'_> {
        self.events[row]
            .get(&self.fields[col])
            .map_or(Field::MISSING, scorer_core::json_field)
    }
}

/// Trust settings for loading.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Trusted Ed25519 public keys.
    pub keys: Vec<ed25519_dalek::VerifyingKey>,
    /// Development: accept unsigned, untrusted and unapproved artifacts.
    pub allow_unsigned: bool,
}

/// A loaded model in one of the engines.
pub enum Engine {
    /// Native.
    Native(Box<NativeEngine>),
    /// WebAssembly.
    Wasm(Box<WasmEngine>),
}

impl Engine {
    /// Load `artifact` in the engine of `kind` (`runtime` is needed for wasm).
    pub fn load(
        kind: EngineKind,
        artifact: &[u8],
        trust: &Trust,
        runtime: Option<&WasmRuntime>,
    ) -> Result<Engine, EngineError> {
        match kind {
            EngineKind::Native => Ok(Engine::Native(Box::new(NativeEngine::load(
                artifact, trust,
            )?))),
            EngineKind::Wasm => {
                let rt = runtime.ok_or_else(|| EngineError::Module("no wasm runtime".into()))?;
                Ok(Engine::Wasm(Box::new(WasmEngine::load(
                    rt, artifact, trust,
                )?)))
            }
        }
    }

    /// What the model reads and is.
    pub fn describe(&self) -> &Description {
        match self {
            Engine::Native(e) => e.describe(),
            Engine::Wasm(e) => e.describe(),
        }
    }

    /// Override the flag threshold.
    pub fn set_threshold(&mut self, t: f64) -> Result<(), EngineError> {
        match self {
            Engine::Native(e) => e.set_threshold(t),
            Engine::Wasm(e) => e.set_threshold(t),
        }
    }

    /// Score `events` into `out` (cleared first), with `explain` reasons each.
    pub fn score_batch(
        &mut self,
        events: &dyn EventBatch,
        explain: usize,
        out: &mut BatchResult,
    ) -> Result<(), EngineError> {
        match self {
            Engine::Native(e) => e.score(events, explain, out),
            Engine::Wasm(e) => e.score(events, explain, out),
        }
    }

    /// An encoder for this engine's model: [`Encoder::encode`] a batch, on
    /// any thread, then [`Engine::score_encoded`] it. Inert for the native
    /// engine, which reads the events themselves.
    pub fn encoder(&self) -> Encoder {
        match self {
            Engine::Native(_) => Encoder::inert(),
            Engine::Wasm(e) => e.encoder(),
        }
    }

    /// As [`Engine::score_batch`], with `events` already encoded by
    /// `encoder` (an [`Engine::encoder`] of this engine). An encoder made for
    /// another model, or holding another number of events, is refused.
    pub fn score_encoded(
        &mut self,
        encoder: &Encoder,
        events: &dyn EventBatch,
        explain: usize,
        out: &mut BatchResult,
    ) -> Result<(), EngineError> {
        match self {
            Engine::Native(e) => e.score(events, explain, out),
            Engine::Wasm(e) => e.score_encoded(encoder, events, explain, out),
        }
    }

    /// Score sessions of mouse events with a session model (an artifact with
    /// a `session` section), one result per session.
    pub fn score_sessions(
        &mut self,
        sessions: &[&[scorer_core::mouse::Record]],
        method: Option<scorer_core::mouse::SessionMethod>,
    ) -> Result<Vec<scorer_core::mouse::SessionScore>, EngineError> {
        match self {
            Engine::Native(e) => e.score_sessions(sessions, method),
            Engine::Wasm(e) => e.score_sessions(sessions, method),
        }
    }

    /// Count every batch scored from now on into the drift window (or stop).
    pub fn track_drift(&mut self, on: bool) -> Result<(), EngineError> {
        match self {
            Engine::Native(e) => {
                e.track_drift(on);
                Ok(())
            }
            Engine::Wasm(e) => e.track_drift(on),
        }
    }

    /// The drift counts of the batches scored since the last take, and a new
    /// window (`None`: the artifact has no baseline).
    pub fn take_drift(&mut self) -> Result<Option<DriftCounts>, EngineError> {
        match self {
            Engine::Native(e) => Ok(e.take_drift()),
            Engine::Wasm(e) => e.take_drift(),
        }
    }

    /// Score parsed JSON objects (see [`Engine::score_batch`]).
    pub fn score(
        &mut self,
        events: &[&Map<String, Value>],
        explain: usize,
        out: &mut BatchResult,
    ) -> Result<(), EngineError> {
        let fields = self.describe().fields.clone();
        self.score_batch(
            &MapBatch {
                events,
                fields: &fields,
            },
            explain,
            out,
        )
    }
}
