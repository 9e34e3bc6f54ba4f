//! The native engine: scorer-core linked into the host.

use scorer_core::drift::DriftCounts;
use scorer_core::{FeatureBatch, LoadOptions, Model, Scores};
use serde_json::Value;

use super::{BatchResult, Description, EngineError, EventBatch, Trust};

/// A model scored by scorer-core in this process.
pub struct NativeEngine {
    model: Model,
    batch: FeatureBatch,
    scores: Scores,
    desc: Description,
    drift: Option<DriftCounts>,
    track: bool,
}

pub(super) fn options(trust: &Trust) -> LoadOptions {
    LoadOptions {
        trusted_keys: trust.keys.clone(),
        allow_unsigned: trust.allow_unsigned,
        require_approved: !trust.allow_unsigned,
    }
}

impl NativeEngine {
    /// Load and check an artifact.
    pub fn load(artifact: &[u8], trust: &Trust) -> Result<Self, EngineError> {
        let model = Model::load(artifact, &options(trust))
            .map_err(|e| EngineError::Model(e.to_string()))?;
        let desc = Description {
            id: model.id(),
            fields: model.fields().into_iter().map(String::from).collect(),
            features: model.features().to_vec(),
            width: model.width(),
            threshold: model.threshold(),
            signature: serde_json::to_value(model.signature()).unwrap_or(Value::Null),
            metadata: model.metadata().clone(),
            baseline: model.artifact().baseline.clone(),
            drift: model.drift_policy(),
        };
        Ok(NativeEngine {
            drift: model.drift_counts(),
            track: false,
            batch: model.new_batch(),
            scores: Scores::default(),
            model,
            desc,
        })
    }

    /// The model's description.
    pub fn describe(&self) -> &Description {
        &self.desc
    }

    /// Score sessions of mouse events (a session model).
    pub fn score_sessions(
        &mut self,
        sessions: &[&[scorer_core::mouse::Record]],
        method: Option<scorer_core::mouse::SessionMethod>,
    ) -> Result<Vec<scorer_core::mouse::SessionScore>, EngineError> {
        let mut scorer = self
            .model
            .session_scorer()
            .map_err(|e| EngineError::Model(e.to_string()))?;
        if let Some(m) = method {
            scorer
                .set_method(m)
                .map_err(|e| EngineError::Model(e.to_string()))?;
        }
        Ok(sessions
            .iter()
            .map(|s| {
                for r in *s {
                    scorer.push(*r);
                }
                scorer.finish()
            })
            .collect())
    }

    /// Override the flag threshold.
    pub fn set_threshold(&mut self, t: f64) -> Result<(), EngineError> {
        self.model
            .set_threshold(t)
            .map_err(|e| EngineError::Model(e.to_string()))?;
        self.desc.threshold = t;
        Ok(())
    }

    /// Count scored batches into the drift window, or stop.
    pub fn track_drift(&mut self, on: bool) {
        self.track = on;
    }

    /// The drift counts since the last take (`None`: no baseline).
    pub fn take_drift(&mut self) -> Option<DriftCounts> {
        let fresh = self.model.drift_counts();
        std::mem::replace(&mut self.drift, fresh)
    }

    /// Score a batch.
    pub fn score(
        &mut self,
        events: &dyn EventBatch,
        explain: usize,
        out: &mut BatchResult,
    ) -> Result<(), EngineError> {
        self.batch.clear();
        for row in 0..events.len() {
            self.model
                .push_indexed(&mut self.batch, |col| events.field(row, col));
        }
        self.model.score(&self.batch, &mut self.scores);
        if let (true, Some(d), Some(b)) = (self.track, &mut self.drift, &self.desc.baseline) {
            d.add(b, &self.batch, &self.scores);
        }
        out.score.clone_from(&self.scores.score);
        out.raw.clone_from(&self.scores.raw);
        out.flag.clone_from(&self.scores.flag);
        out.mask_words = self.model.features().len().div_ceil(64);
        out.masks.clear();
        for i in 0..events.len() {
            out.masks.extend_from_slice(self.batch.mask(i));
        }
        out.reasons.clear();
        if explain > 0 {
            out.reasons
                .extend((0..events.len()).map(|i| self.model.explain(self.batch.row(i), explain)));
        }
        Ok(())
    }
}
