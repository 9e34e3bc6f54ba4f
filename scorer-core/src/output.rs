//! How an estimator's raw output becomes `model_output_risk_score` in [0, 1],
//! and the threshold that raises `anomaly_flag`.
//!
//! | `kind` | score | for |
//! |---|---|---|
//! | `sigmoid` | 1 / (1 + e^(−raw)) | logistic regression (class-1 probability) |
//! | `identity` | raw, clipped to [0, 1] | random forest probability, k-means cluster risk, regression "as-is" |
//! | `isolation` | 2^(−raw / c(ψ)) | isolation forest (raw = E\[h\]) |
//! | `logistic` | 1 / (1 + e^(−(raw − center) / scale)) | PCA projection, any unbounded output |
//! | `min_max` | (raw − min) / (max − min), clipped | regression |
//!
//! `anomaly_flag` is 1 when score ≥ threshold.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The default names of the fields every host writes, in the order they are
/// written: score, flag, model (`name@version`), reasons, error, the
/// fields whose schema defaults were used, and the drift mark (`1` while the
/// run's window of events has drifted from the training data).
pub const FIELD_NAMES: [&str; 7] = [
    "model_output_risk_score",
    "anomaly_flag",
    "risk_model",
    "risk_reasons",
    "risk_error",
    "risk_missing_fields",
    "model_drift",
];

/// The stored score mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScoreMapping {
    /// Logistic function of the log-odds.
    Sigmoid,
    /// The raw output itself, clipped to [0, 1].
    Identity,
    /// Isolation-forest anomaly score from the mean path length.
    Isolation,
    /// Logistic function centred on `center` with width `scale`.
    Logistic {
        /// Raw value that maps to 0.5.
        center: f64,
        /// Raw distance that moves the score from 0.5 to 0.73.
        scale: f64,
    },
    /// Linear rescaling of [min, max] to [0, 1].
    MinMax {
        /// Raw value mapped to 0.
        min: f64,
        /// Raw value mapped to 1.
        max: f64,
    },
}

/// The stored output section of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Raw output → score.
    pub score: ScoreMapping,
    /// `anomaly_flag` = 1 when score ≥ threshold.
    pub threshold: f64,
}

/// A compiled mapping.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mapping {
    Sigmoid,
    Identity,
    Isolation { inv_c: f64 },
    Logistic { center: f64, inv_scale: f64 },
    MinMax { min: f64, inv_range: f64 },
}

/// Check a threshold given by an artifact or a caller.
pub fn check_threshold(t: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&t) {
        Ok(t)
    } else {
        Err(Error::invalid(
            "output.threshold",
            format!("threshold {t} is outside [0, 1]"),
        ))
    }
}

impl Mapping {
    /// Validate `spec` for an estimator of type `kind` (`c_psi` for isolation forests).
    pub fn compile(spec: &OutputSpec, kind: &str, c_psi: Option<f64>) -> Result<Mapping> {
        check_threshold(spec.threshold)?;
        let allowed: &[&str] = match kind {
            "logistic_regression" => &["sigmoid"],
            "linear_regression" => &["identity", "min_max", "logistic"],
            "random_forest" | "kmeans" => &["identity"],
            "isolation_forest" => &["isolation"],
            _ => &["logistic", "min_max"],
        };
        let name = match &spec.score {
            ScoreMapping::Sigmoid => "sigmoid",
            ScoreMapping::Identity => "identity",
            ScoreMapping::Isolation => "isolation",
            ScoreMapping::Logistic { .. } => "logistic",
            ScoreMapping::MinMax { .. } => "min_max",
        };
        if !allowed.contains(&name) {
            return Err(Error::invalid(
                "output.score.kind",
                format!(
                    "`{name}` does not fit a {kind} estimator (expected one of: {})",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(match spec.score {
            ScoreMapping::Sigmoid => Mapping::Sigmoid,
            ScoreMapping::Identity => Mapping::Identity,
            ScoreMapping::Isolation => Mapping::Isolation {
                inv_c: 1.0
                    / c_psi.ok_or_else(|| {
                        Error::invalid(
                            "output.score",
                            "isolation mapping needs an isolation forest",
                        )
                    })?,
            },
            ScoreMapping::Logistic { center, scale } => {
                if !center.is_finite() || !scale.is_finite() || scale <= 0.0 {
                    return Err(Error::invalid(
                        "output.score",
                        format!("logistic needs a finite center and a scale > 0, found {center} and {scale}"),
                    ));
                }
                Mapping::Logistic {
                    center,
                    inv_scale: 1.0 / scale,
                }
            }
            ScoreMapping::MinMax { min, max } => {
                if !min.is_finite() || !max.is_finite() || max <= min {
                    return Err(Error::invalid(
                        "output.score",
                        format!("min_max needs finite min < max, found {min} and {max}"),
                    ));
                }
                Mapping::MinMax {
                    min,
                    inv_range: 1.0 / (max - min),
                }
            }
        })
    }

    /// Map a raw output; NaN stays NaN (the caller reports it), everything else lands in [0, 1].
    #[inline]
    pub fn apply(self, raw: f64) -> f64 {
        let s = match self {
            Mapping::Sigmoid => sigmoid(raw),
            Mapping::Identity => raw,
            Mapping::Isolation { inv_c } => libm::exp2(-raw * inv_c),
            Mapping::Logistic { center, inv_scale } => sigmoid((raw - center) * inv_scale),
            Mapping::MinMax { min, inv_range } => (raw - min) * inv_range,
        };
        if s.is_nan() {
            s
        } else {
            s.clamp(0.0, 1.0)
        }
    }
}

/// 1 / (1 + e^(−z)) through libm, so native and wasm give the same bits.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + libm::exp(-z))
    } else {
        let e = libm::exp(z);
        e / (1.0 + e)
    }
}
