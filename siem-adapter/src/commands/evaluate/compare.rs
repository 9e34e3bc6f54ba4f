//! Live metrics against the artifact's training metrics, metric by metric,
//! with a margin: the drift check of model quality (`evaluate`), and the
//! metric directions shared with `train --champion`.
//!
//! The rules ([`Metric::dropped`]), with `margin` ≥ 0 (default 0.05):
//!
//! | metric | worse when | dropped when |
//! |---|---|---|
//! | ROC AUC, precision, recall, R² | lower | live < training − margin |
//! | false-positive rate | higher | live > training + margin |
//! | RMSE | higher | live > training × (1 + margin) (relative: RMSE has the target's unit) |
//!
//! A metric undefined on either side (one class only, nothing flagged, a
//! constant target, or not recorded at training) is shown as n/a and never
//! counts as a drop. Training means the artifact's hold-out evaluation, or the
//! cross-validation mean when it has no hold-out.

use scorer_core::artifact::{EvalMetrics, TrainingMetrics};
use serde::{Deserialize, Serialize};

/// What a model predicts, which decides its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// A score in 0..1 against 1/0 labels: ROC AUC, precision, recall, FPR.
    Classification,
    /// A number against a numeric target (`linear_regression`): R², RMSE of the raw output.
    Regression,
}

impl Task {
    /// The task of an estimator type: `linear_regression` is a regression,
    /// every other estimator (classifiers, and anomaly detectors measured
    /// against labels) is measured as a classifier.
    pub fn of_estimator(kind: &str) -> Task {
        if kind == "linear_regression" {
            Task::Regression
        } else {
            Task::Classification
        }
    }

    /// `classification` or `regression`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }

    /// The metrics compared for this task, the primary one first.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            Task::Classification => &[
                Metric::RocAuc,
                Metric::Precision,
                Metric::Recall,
                Metric::FalsePositiveRate,
            ],
            Task::Regression => &[Metric::R2, Metric::Rmse],
        }
    }

    /// The metric that decides a promotion: ROC AUC or R².
    pub fn primary(self) -> Metric {
        self.metrics()[0]
    }
}

/// One metric of an [`EvalMetrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Area under the ROC curve.
    RocAuc,
    /// Precision at the threshold.
    Precision,
    /// Recall at the threshold.
    Recall,
    /// False-positive rate at the threshold.
    FalsePositiveRate,
    /// Coefficient of determination.
    R2,
    /// Root mean squared error.
    Rmse,
}

impl Metric {
    /// The JSON key, as in [`EvalMetrics`].
    pub fn key(self) -> &'static str {
        match self {
            Metric::RocAuc => "roc_auc",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::FalsePositiveRate => "false_positive_rate",
            Metric::R2 => "r2",
            Metric::Rmse => "rmse",
        }
    }

    /// The name in text reports.
    pub fn label(self) -> &'static str {
        match self {
            Metric::RocAuc => "ROC AUC",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::FalsePositiveRate => "false-pos. rate",
            Metric::R2 => "R²",
            Metric::Rmse => "RMSE",
        }
    }

    /// Whether a higher value is better (false for FPR and RMSE).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Metric::FalsePositiveRate | Metric::Rmse)
    }

    /// Its value in `m`.
    pub fn of(self, m: &EvalMetrics) -> Option<f64> {
        match self {
            Metric::RocAuc => m.roc_auc,
            Metric::Precision => m.precision,
            Metric::Recall => m.recall,
            Metric::FalsePositiveRate => m.false_positive_rate,
            Metric::R2 => m.r2,
            Metric::Rmse => m.rmse,
        }
    }

    /// Whether `live` is worse than `training` beyond `margin` (see the module doc).
    pub fn dropped(self, live: f64, training: f64, margin: f64) -> bool {
        match self {
            Metric::Rmse => live > training * (1.0 + margin),
            Metric::FalsePositiveRate => live > training + margin,
            _ => live < training - margin,
        }
    }

    /// Which of `a` and `b` is better: `Some(true)` a, `Some(false)` b, None a tie.
    pub fn better(self, a: f64, b: f64) -> Option<bool> {
        if a == b {
            None
        } else {
            Some((a > b) == self.higher_is_better())
        }
    }
}

/// The `comparison` section of an `evaluate` report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// `holdout` (the artifact's 80/20 hold-out) or `cross_validation` (mean over folds).
    pub training_source: String,
    /// Rows behind the training metrics.
    pub training_rows: u64,
    /// The margin (absolute; relative for RMSE).
    pub margin: f64,
    /// One entry per metric of the task.
    pub metrics: Vec<MetricComparison>,
    /// Keys of the metrics that dropped, in table order (empty: within the margin).
    pub dropped: Vec<String>,
}

/// One metric, live against training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricComparison {
    /// The key (`roc_auc`, `precision`, `recall`, `false_positive_rate`, `r2`, `rmse`).
    pub metric: String,
    /// On the labelled events; `null` when undefined.
    pub live: Option<f64>,
    /// At training; `null` when undefined or not recorded.
    pub training: Option<f64>,
    /// live − training; `null` when either is.
    pub difference: Option<f64>,
    /// `higher` or `lower`: which way is worse.
    pub worse_when: String,
    /// `dropped` (worse beyond the margin), `within`, or `n/a` (undefined on a side).
    pub status: String,
}

/// The training metrics an artifact records: the hold-out evaluation, else
/// the cross-validation mean; with the name of the source.
pub fn training_reference(m: Option<&TrainingMetrics>) -> Option<(&'static str, &EvalMetrics)> {
    let m = m?;
    if let Some(h) = &m.holdout {
        return Some(("holdout", h));
    }
    m.cross_validation
        .as_ref()
        .map(|cv| ("cross_validation", &cv.mean))
}

/// Compare `live` with `training` on the metrics of `task`.
pub fn compare(
    task: Task,
    live: &EvalMetrics,
    source: &str,
    training: &EvalMetrics,
    margin: f64,
) -> Comparison {
    let metrics: Vec<MetricComparison> = task
        .metrics()
        .iter()
        .map(|&m| {
            let (l, t) = (m.of(live), m.of(training));
            let (difference, status) = match (l, t) {
                (Some(l), Some(t)) => (
                    Some(l - t),
                    if m.dropped(l, t, margin) {
                        "dropped"
                    } else {
                        "within"
                    },
                ),
                _ => (None, "n/a"),
            };
            MetricComparison {
                metric: m.key().into(),
                live: l,
                training: t,
                difference,
                worse_when: if m.higher_is_better() {
                    "lower"
                } else {
                    "higher"
                }
                .into(),
                status: status.into(),
            }
        })
        .collect();
    Comparison {
        training_source: source.into(),
        training_rows: training.rows,
        margin,
        dropped: metrics
            .iter()
            .filter(|c| c.status == "dropped")
            .map(|c| c.metric.clone())
            .collect(),
        metrics,
    }
}

/// The text label of a metric key.
pub fn label_of(key: &str) -> &str {
    [
        Metric::RocAuc,
        Metric::Precision,
        Metric::Recall,
        Metric::FalsePositiveRate,
        Metric::R2,
        Metric::Rmse,
    ]
    .into_iter()
    .find(|m| m.key() == key)
    .map_or(key, |m| m.label())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cls(auc: f64, p: f64, r: f64, fpr: Option<f64>) -> EvalMetrics {
        EvalMetrics {
            rows: 100,
            roc_auc: Some(auc),
            precision: Some(p),
            recall: Some(r),
            false_positive_rate: fpr,
            ..EvalMetrics::default()
        }
    }

    #[test]
    fn lower_is_worse_for_rates_higher_for_fpr_and_relative_for_rmse() {
        let training = cls(0.90, 0.60, 0.50, Some(0.01));
        let c = compare(
            Task::Classification,
            &cls(0.86, 0.54, 0.60, Some(0.07)),
            "holdout",
            &training,
            0.05,
        );
        let status: Vec<&str> = c.metrics.iter().map(|m| m.status.as_str()).collect();
        // AUC −0.04 within, precision −0.06 dropped, recall up, FPR +0.06 dropped.
        assert_eq!(status, ["within", "dropped", "within", "dropped"]);
        assert_eq!(c.dropped, ["precision", "false_positive_rate"]);
        assert!((c.metrics[1].difference.unwrap() + 0.06).abs() < 1e-12);
        assert_eq!(c.metrics[3].worse_when, "higher");

        assert!(!Metric::Rmse.dropped(10.4, 10.0, 0.05));
        assert!(Metric::Rmse.dropped(10.6, 10.0, 0.05));
        assert!(!Metric::Rmse.dropped(3.0, 10.0, 0.05));
        assert!(Metric::R2.dropped(0.80, 0.90, 0.05));
        assert!(!Metric::R2.dropped(0.86, 0.90, 0.05));
    }

    #[test]
    fn undefined_is_na_never_a_drop() {
        let c = compare(
            Task::Classification,
            &cls(0.5, 0.1, 0.1, None),
            "cross_validation",
            &EvalMetrics {
                rows: 10,
                roc_auc: None,
                precision: Some(0.9),
                recall: Some(0.9),
                false_positive_rate: Some(0.0),
                ..EvalMetrics::default()
            },
            0.05,
        );
        assert_eq!(c.metrics[0].status, "n/a");
        assert_eq!(c.metrics[3].status, "n/a");
        assert_eq!(c.metrics[0].difference, None);
        assert_eq!(c.dropped, ["precision", "recall"]);
    }

    #[test]
    fn training_prefers_the_holdout_then_the_cv_mean() {
        let mut t = TrainingMetrics::default();
        assert!(training_reference(Some(&t)).is_none());
        t.cross_validation = Some(scorer_core::artifact::CrossValidation {
            folds: 2,
            mean: cls(0.7, 0.5, 0.5, Some(0.1)),
            per_fold: vec![],
        });
        assert_eq!(training_reference(Some(&t)).unwrap().0, "cross_validation");
        t.holdout = Some(cls(0.8, 0.5, 0.5, Some(0.1)));
        let (src, m) = training_reference(Some(&t)).unwrap();
        assert_eq!((src, m.roc_auc), ("holdout", Some(0.8)));
        assert_eq!(Task::Regression.primary(), Metric::R2);
        assert_eq!(Metric::Rmse.better(1.0, 2.0), Some(true));
        assert_eq!(Metric::RocAuc.better(0.7, 0.7), None);
        assert_eq!(label_of("false_positive_rate"), "false-pos. rate");
    }
}
