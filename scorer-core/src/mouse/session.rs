//! Session scoring: raw mouse events of one session in, one score out.
//!
//! An artifact with a `session` section scores sessions, not single events:
//!
//! ```text
//! "session": { "kind": "mouse_dynamics",
//!              "gestures": { "pause_s": 2, "min_points": 4, "max_points": 2000 },
//!              "method": "gesture_mean" | "ks",
//!              "min_gestures": 1, "threshold": 0.5,
//!              "ks": { features, baseline_n, quantiles, combine, alpha, threshold } }
//! ```
//!
//! The events are split into gestures ([`super::Segmenter`]) and each gesture
//! becomes a feature row ([`super::FeatureExtractor`]). With `gesture_mean`
//! the artifact's estimator scores every gesture (the schema's fields are
//! gesture feature names) and the session score is the mean; with `ks` the
//! session's gestures are tested against the owner's ([`super::KsProfile`]).
//! `anomaly_flag` is 1 when the session score ≥ `threshold` (`ks.threshold`
//! for the KS method).

use serde::{Deserialize, Serialize};

use super::features::{feature_index, FeatureExtractor, N_FEATURES};
use super::gesture::{GestureParams, Segmenter};
use super::ks::KsProfile;
use super::record::Record;
use crate::event::{Field, Value};
use crate::{Error, FeatureBatch, Model, Result, Scores};

/// What raw events a session model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// Mouse events: client timestamp, button, state, x, y.
    MouseDynamics,
}

/// How gesture results become the session score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionMethod {
    /// Mean of the estimator's gesture scores.
    GestureMean,
    /// Kolmogorov–Smirnov tests against the owner's gestures (the `ks` section).
    Ks,
}

/// The stored `session` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    /// Raw event kind.
    pub kind: SessionKind,
    /// Gesture segmentation.
    #[serde(default)]
    pub gestures: GestureParams,
    /// Session score method.
    pub method: SessionMethod,
    /// Sessions with fewer gestures are not scored (`risk_error`).
    #[serde(default = "one")]
    pub min_gestures: usize,
    /// `anomaly_flag` = 1 when the `gesture_mean` session score ≥ this.
    pub threshold: f64,
    /// The owner's gesture distributions (required by `ks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ks: Option<KsProfile>,
}

fn one() -> usize {
    1
}

/// A checked session section: gesture-feature index of every schema field
/// and of every KS feature.
#[derive(Debug, Clone)]
pub(crate) struct CompiledSession {
    field_index: Vec<usize>,
    ks_index: Vec<usize>,
}

impl SessionSpec {
    /// Check against the model's schema fields.
    pub(crate) fn compile(&self, fields: &[&str]) -> Result<CompiledSession> {
        let bad = |m: String| Error::Format(format!("session: {m}"));
        self.gestures.validate().map_err(bad)?;
        crate::output::check_threshold(self.threshold)?;
        let field_index = fields
            .iter()
            .map(|f| {
                feature_index(f).ok_or_else(|| {
                    bad(format!(
                        "the schema reads `{f}`, which is not a gesture feature"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ks_index = match (&self.ks, self.method) {
            (Some(ks), _) => {
                ks.validate().map_err(bad)?;
                ks.features
                    .iter()
                    .map(|f| {
                        feature_index(f).ok_or_else(|| {
                            bad(format!("ks feature `{f}` is not a gesture feature"))
                        })
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            (None, SessionMethod::Ks) => {
                return Err(bad("method `ks` needs a `ks` section".into()))
            }
            (None, SessionMethod::GestureMean) => Vec::new(),
        };
        Ok(CompiledSession {
            field_index,
            ks_index,
        })
    }
}

/// One session's result.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionScore {
    /// `model_output_risk_score` (NaN when not scored).
    pub score: f64,
    /// `anomaly_flag`.
    pub flag: u8,
    /// Gestures found.
    pub gestures: usize,
    /// Why the session was not scored.
    pub error: Option<String>,
    /// The method that scored it.
    pub method: SessionMethod,
}

/// Scores sessions one after another with a session model; reuses its
/// buffers across sessions.
#[derive(Debug)]
pub struct SessionScorer<'m> {
    model: &'m Model,
    spec: &'m SessionSpec,
    compiled: &'m CompiledSession,
    method: SessionMethod,
    segmenter: Segmenter,
    extractor: FeatureExtractor,
    rows: Vec<f64>,
    batch: FeatureBatch,
    scores: Scores,
    ks_columns: Vec<Vec<f64>>,
}

impl<'m> SessionScorer<'m> {
    pub(crate) fn new(
        model: &'m Model,
        spec: &'m SessionSpec,
        compiled: &'m CompiledSession,
    ) -> Self {
        SessionScorer {
            model,
            spec,
            compiled,
            method: spec.method,
            segmenter: Segmenter::new(spec.gestures),
            extractor: FeatureExtractor::default(),
            rows: Vec::new(),
            batch: model.new_batch(),
            scores: Scores::default(),
            ks_columns: vec![Vec::new(); compiled.ks_index.len()],
        }
    }

    /// Use another method than the artifact's (`ks` needs a `ks` section).
    pub fn set_method(&mut self, method: SessionMethod) -> Result<()> {
        if method == SessionMethod::Ks && self.spec.ks.is_none() {
            return Err(Error::Format(
                "session: this artifact has no `ks` section".into(),
            ));
        }
        self.method = method;
        Ok(())
    }

    /// The flag threshold of the method in use.
    pub fn threshold(&self) -> f64 {
        match (self.method, &self.spec.ks) {
            (SessionMethod::Ks, Some(ks)) => ks.threshold,
            _ => self.spec.threshold,
        }
    }

    /// The method in use.
    pub fn method(&self) -> SessionMethod {
        self.method
    }

    /// Feed the next event of the current session.
    pub fn push(&mut self, r: Record) {
        let (rows, extractor) = (&mut self.rows, &mut self.extractor);
        self.segmenter.push(r, &mut |g| {
            let at = rows.len();
            rows.resize(at + N_FEATURES, 0.0);
            extractor.extract(&g, &mut rows[at..]);
        });
    }

    /// Gestures found so far in the current session.
    pub fn gestures(&self) -> usize {
        self.rows.len() / N_FEATURES
    }

    /// The gesture feature rows of the current session (row-major, [`N_FEATURES`] wide).
    pub fn rows(&self) -> &[f64] {
        &self.rows
    }

    /// Flush pending gestures without scoring (to read [`Self::rows`]).
    pub fn flush(&mut self) {
        let (rows, extractor) = (&mut self.rows, &mut self.extractor);
        self.segmenter.finish(&mut |g| {
            let at = rows.len();
            rows.resize(at + N_FEATURES, 0.0);
            extractor.extract(&g, &mut rows[at..]);
        });
    }

    /// End the current session: score it and get ready for the next.
    pub fn finish(&mut self) -> SessionScore {
        self.flush();
        let n = self.gestures();
        let result = if n < self.spec.min_gestures.max(1) {
            SessionScore {
                score: f64::NAN,
                flag: 0,
                gestures: n,
                method: self.method,
                error: Some(format!(
                    "session has {n} gesture(s), the model needs at least {}",
                    self.spec.min_gestures.max(1)
                )),
            }
        } else {
            let score = match self.method {
                SessionMethod::GestureMean => self.gesture_mean(),
                SessionMethod::Ks => self.ks(),
            };
            if score.is_finite() {
                SessionScore {
                    score,
                    flag: u8::from(score >= self.threshold()),
                    gestures: n,
                    method: self.method,
                    error: None,
                }
            } else {
                SessionScore {
                    score: f64::NAN,
                    flag: 0,
                    gestures: n,
                    method: self.method,
                    error: Some("the model's arithmetic overflowed on this session".into()),
                }
            }
        };
        self.rows.clear();
        self.segmenter.reset();
        result
    }

    /// Per-gesture scores of the current session's rows (estimator outputs).
    pub fn gesture_scores(&mut self) -> &[f64] {
        self.batch.clear();
        let idx = &self.compiled.field_index;
        for row in self.rows.chunks_exact(N_FEATURES) {
            self.model
                .push_indexed(&mut self.batch, |i| Field::one(Value::Number(row[idx[i]])));
        }
        self.model.score(&self.batch, &mut self.scores);
        &self.scores.score
    }

    fn gesture_mean(&mut self) -> f64 {
        let s = self.gesture_scores();
        s.iter().sum::<f64>() / s.len() as f64
    }

    fn ks(&mut self) -> f64 {
        let Some(profile) = &self.spec.ks else {
            return f64::NAN;
        };
        for (col, &fi) in self.ks_columns.iter_mut().zip(&self.compiled.ks_index) {
            col.clear();
            col.extend(self.rows.chunks_exact(N_FEATURES).map(|r| r[fi]));
        }
        profile.score(&mut self.ks_columns)
    }
}
