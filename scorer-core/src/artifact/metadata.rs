//! Who made a model, from what, how good it is, and whether it may run.

use serde::{Deserialize, Serialize};

/// Approval status: production hosts accept only `approved` artifacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// Work in progress; development use only.
    Draft,
    /// Reviewed and released for production scoring.
    Approved,
    /// Withdrawn; kept for audit.
    Retired,
}

impl Approval {
    /// The status as written in the artifact.
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Draft => "draft",
            Approval::Approved => "approved",
            Approval::Retired => "retired",
        }
    }
}

/// Descriptive metadata of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Model name, as used in `| riskscore model=<name>`.
    pub name: String,
    /// Model version (free form; semver recommended).
    pub version: String,
    /// What the model is for.
    #[serde(default)]
    pub description: String,
    /// Who trained or owns it.
    #[serde(default)]
    pub author: String,
    /// RFC 3339 creation time, written by the tool that made the artifact.
    pub created: String,
    /// Where the training data came from.
    #[serde(default)]
    pub training_data: String,
    /// Approval status.
    pub approval: Approval,
    /// Evaluation at training time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<TrainingMetrics>,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Scores of one evaluation (hold-out set, or a mean over folds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalMetrics {
    /// Rows evaluated.
    pub rows: u64,
    /// Area under the ROC curve (labelled data only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roc_auc: Option<f64>,
    /// Precision at the chosen threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<f64>,
    /// Recall (true-positive rate) at the chosen threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<f64>,
    /// False-positive rate at the chosen threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub false_positive_rate: Option<f64>,
    /// Coefficient of determination (regression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    /// Root mean squared error (regression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
}

/// How the flag threshold was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdChoice {
    /// The target false-positive rate.
    pub target_fpr: f64,
    /// The threshold chosen.
    pub threshold: f64,
    /// `out_of_fold` (labelled: out-of-fold cross-validation scores of the negatives),
    /// `training_quantile` (unlabelled: the (1 − target) quantile of training scores),
    /// or `given` (set by the user).
    pub method: String,
}

/// Evaluation stored in the artifact by `train`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingMetrics {
    /// `classification`, `regression` or `anomaly`.
    pub task: String,
    /// Rows in the training table.
    pub rows: u64,
    /// Positive share of the label, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_rate: Option<f64>,
    /// Seed of every random choice.
    pub seed: u64,
    /// 80/20 split: fitted on 80 %, measured on the held-out 20 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<EvalMetrics>,
    /// k-fold cross-validation: mean over folds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_validation: Option<CrossValidation>,
    /// The flag threshold and how it was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdChoice>,
    /// Hyperparameters used, for the record.
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// k-fold cross-validation results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossValidation {
    /// Number of folds.
    pub folds: u32,
    /// Mean of every metric over folds.
    pub mean: EvalMetrics,
    /// Each fold's metrics.
    pub per_fold: Vec<EvalMetrics>,
}
