//! Training (cargo feature `train`, native only): fit any estimator from a
//! [`Table`] and a feature schema, evaluate it, and produce an unsigned
//! [`Artifact`] with metrics and a drift baseline.
//!
//! The pipeline: schema (given, or inferred by [`infer_schema`]) → the same
//! featurizer the scorer uses → matrix → k-fold cross-validation and an
//! 80/20 hold-out (labelled data) → flag threshold for a target
//! false-positive rate → final fit on all rows → baseline histograms.
//! Every random choice derives from [`TrainParams::seed`].
//!
//! [`holdout_split`] names the held-out rows and [`evaluate_holdout`] measures
//! any other model on them, as training measured its own: the basis of a
//! champion/challenger comparison.

mod eval;
mod fit;
mod holdout;
mod infer;
mod isolation;
mod labels;
mod table;

use ndarray::{Array2, Axis};

pub use eval::{
    classification_metrics, holdout_split, quantile, regression_metrics, roc_auc, shuffled,
    threshold_for_fpr,
};
pub use holdout::{evaluate_holdout, evaluate_rows};
pub use infer::infer_schema;
pub use isolation::{fit_isolation_forest, IsolationParams};
pub use table::{Row, Table};

use crate::artifact::{
    Artifact, CrossValidation, EvalMetrics, Metadata, ThresholdChoice, TrainingMetrics, FORMAT,
    FORMAT_VERSION,
};
use crate::baseline::{Baseline, Histogram};
use crate::estimators::EstimatorSpec;
use crate::output::{OutputSpec, ScoreMapping};
use crate::schema::Schema;
use crate::{Error, Model, Result, Scores};
use fit::Target;
use labels::{owned_target, read_labels, Labels};

/// The estimators `train` can fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Logistic regression (smartcore, L-BFGS).
    LogisticRegression,
    /// Linear regression (smartcore, SVD).
    LinearRegression,
    /// Random forest classifier (smartcore).
    RandomForest,
    /// Isolation forest (own implementation).
    IsolationForest,
    /// k-means (smartcore).
    Kmeans,
    /// PCA (smartcore).
    Pca,
}

impl Algorithm {
    /// All algorithms, by name.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::LogisticRegression,
        Algorithm::LinearRegression,
        Algorithm::RandomForest,
        Algorithm::IsolationForest,
        Algorithm::Kmeans,
        Algorithm::Pca,
    ];

    /// The estimator `type` name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::LogisticRegression => "logistic_regression",
            Algorithm::LinearRegression => "linear_regression",
            Algorithm::RandomForest => "random_forest",
            Algorithm::IsolationForest => "isolation_forest",
            Algorithm::Kmeans => "kmeans",
            Algorithm::Pca => "pca",
        }
    }

    /// Parse a name.
    pub fn parse(s: &str) -> Option<Algorithm> {
        Self::ALL.into_iter().find(|a| a.name() == s)
    }

    /// Needs a label to fit.
    pub fn supervised(self) -> bool {
        matches!(
            self,
            Algorithm::LogisticRegression | Algorithm::LinearRegression | Algorithm::RandomForest
        )
    }

    /// Fits with a label when given one: the supervised algorithms, k-means
    /// (the label sets each cluster's risk) and PCA (the label orients the
    /// first component, so high projections are the risky side).
    pub fn uses_label(self) -> bool {
        self.supervised() || matches!(self, Algorithm::Kmeans | Algorithm::Pca)
    }

    /// Benefits from standardized inputs.
    pub fn scale_sensitive(self) -> bool {
        matches!(
            self,
            Algorithm::LogisticRegression
                | Algorithm::LinearRegression
                | Algorithm::Kmeans
                | Algorithm::Pca
        )
    }

    fn task(self) -> &'static str {
        match self {
            Algorithm::LogisticRegression | Algorithm::RandomForest => "classification",
            Algorithm::LinearRegression => "regression",
            _ => "anomaly",
        }
    }
}

/// Hyperparameters and evaluation settings, with the usual defaults.
#[derive(Debug, Clone)]
pub struct TrainParams {
    /// Seed of every random choice (splits, trees, k-means initialisation).
    pub seed: u64,
    /// Trees in a random or isolation forest (100).
    pub n_trees: usize,
    /// Random forest depth limit (12; None = unlimited), counted as smartcore
    /// does: the root is level 1, so 12 allows 11 splits on a path
    /// (scikit-learn's `max_depth=11`).
    pub max_depth: Option<u16>,
    /// Random forest minimum samples per leaf (1).
    pub min_samples_leaf: usize,
    /// Random forest features tried per split (None = max(√d, d/3)).
    pub max_features: Option<usize>,
    /// Isolation forest sub-sample size ψ (256).
    pub sample_size: usize,
    /// k-means clusters (8).
    pub k: usize,
    /// k-means iterations (100).
    pub max_iter: usize,
    /// PCA components kept (2).
    pub n_components: usize,
    /// Logistic regression L2 strength (0).
    pub alpha: f64,
    /// Cross-validation folds (5; below 2 disables).
    pub cv_folds: usize,
    /// Target false-positive rate for the flag threshold (0.01).
    pub target_fpr: f64,
    /// A fixed flag threshold instead of the chosen one.
    pub threshold: Option<f64>,
    /// Label value that means positive (otherwise 1/true/yes and non-zero numbers).
    pub positive_label: Option<String>,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            seed: 42,
            n_trees: 100,
            max_depth: Some(12),
            min_samples_leaf: 1,
            max_features: None,
            sample_size: 256,
            k: 8,
            max_iter: 100,
            n_components: 2,
            alpha: 0.0,
            cv_folds: 5,
            target_fpr: 0.01,
            threshold: None,
            positive_label: None,
        }
    }
}

impl TrainParams {
    fn record(&self, a: Algorithm) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::json;
        let mut m = serde_json::Map::new();
        m.insert("algorithm".into(), json!(a.name()));
        match a {
            Algorithm::RandomForest => {
                m.insert("n_trees".into(), json!(self.n_trees));
                m.insert("max_depth".into(), json!(self.max_depth));
                m.insert("min_samples_leaf".into(), json!(self.min_samples_leaf));
                m.insert("max_features".into(), json!(self.max_features));
            }
            Algorithm::IsolationForest => {
                m.insert("n_trees".into(), json!(self.n_trees));
                m.insert("sample_size".into(), json!(self.sample_size));
            }
            Algorithm::Kmeans => {
                m.insert("k".into(), json!(self.k));
                m.insert("max_iter".into(), json!(self.max_iter));
            }
            Algorithm::Pca => {
                m.insert("n_components".into(), json!(self.n_components));
            }
            Algorithm::LogisticRegression => {
                m.insert("alpha".into(), json!(self.alpha));
            }
            Algorithm::LinearRegression => {}
        }
        m.insert("cv_folds".into(), json!(self.cv_folds));
        m.insert("target_fpr".into(), json!(self.target_fpr));
        m
    }
}

/// What to train.
#[derive(Debug, Clone)]
pub struct TrainSpec {
    /// The estimator.
    pub algorithm: Algorithm,
    /// Label column (required for supervised algorithms; used for evaluation only otherwise).
    pub label: Option<String>,
    /// Feature fields, for an inferred schema.
    pub features: Vec<String>,
    /// A full schema instead of inference.
    pub schema: Option<Schema>,
    /// Metadata of the artifact (metrics are filled in).
    pub metadata: Metadata,
    /// Hyperparameters.
    pub params: TrainParams,
}

struct Fitted {
    model: Model,
}

fn fit_model(
    a: Algorithm,
    schema: &Schema,
    meta: &Metadata,
    x: &Array2<f64>,
    y: &Target<'_>,
    p: &TrainParams,
) -> Result<Fitted> {
    let (estimator, score) = fit::fit(a, x, y, p)?;
    let artifact = assemble(meta.clone(), schema.clone(), estimator, score, 0.5);
    Ok(Fitted {
        model: Model::compile(artifact)?,
    })
}

fn assemble(
    metadata: Metadata,
    schema: Schema,
    estimator: EstimatorSpec,
    score: ScoreMapping,
    threshold: f64,
) -> Artifact {
    Artifact {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        metadata,
        schema,
        estimator,
        output: OutputSpec { score, threshold },
        baseline: None,
        drift: None,
        session: None,
        integrity: None,
    }
}

impl Fitted {
    fn scores(&self, x: &Array2<f64>) -> Vec<f64> {
        let flat: Vec<f64> = x.iter().copied().collect();
        let mut s = Scores::default();
        self.model.score_matrix(&flat, &mut s);
        s.score
    }

    fn raws(&self, x: &Array2<f64>) -> Vec<f64> {
        let flat: Vec<f64> = x.iter().copied().collect();
        let mut s = Scores::default();
        self.model.score_matrix(&flat, &mut s);
        s.raw
    }
}

/// Train, evaluate and assemble an unsigned artifact.
pub fn train(table: &Table, spec: &TrainSpec) -> Result<Artifact> {
    let a = spec.algorithm;
    let p = &spec.params;
    let n = table.len();
    if n < 10 {
        return Err(Error::Train(format!("{n} rows: at least 10 are needed")));
    }
    if !(0.0..1.0).contains(&p.target_fpr) {
        return Err(Error::Train(format!(
            "target false-positive rate {} is outside [0, 1)",
            p.target_fpr
        )));
    }
    let schema = match &spec.schema {
        Some(s) => s.clone(),
        None => {
            let fields: Vec<String> = spec
                .features
                .iter()
                .filter(|f| Some(f.as_str()) != spec.label.as_deref())
                .cloned()
                .collect();
            if fields.is_empty() {
                return Err(Error::Train(
                    "no features: give --features or --schema".into(),
                ));
            }
            infer_schema(table, &fields, a.scale_sensitive())?
        }
    };
    let featurizer = schema.compile()?;
    let (width, nf) = (featurizer.width(), featurizer.n_features());
    let mut x = Array2::<f64>::zeros((n, width));
    let mut mask = vec![0u64; featurizer.mask_words()];
    let mut missing = vec![0u64; nf];
    for i in 0..n {
        let mut row = x.row_mut(i);
        let row = row
            .as_slice_mut()
            .ok_or_else(|| Error::Train("matrix layout".into()))?;
        featurizer.featurize_into(&table.row(i), row, &mut mask);
        for (f, m) in missing.iter_mut().enumerate() {
            *m += (mask[f / 64] >> (f % 64)) & 1;
        }
    }
    let labels = match spec.label.as_deref() {
        Some(l) => {
            if table.column(l).is_none() {
                return Err(Error::Train(format!(
                    "label column `{l}` is not in the table"
                )));
            }
            read_labels(table, l, a, p.positive_label.as_deref())?
        }
        None if a.supervised() => {
            return Err(Error::Train(format!(
                "{} needs a label column (--label)",
                a.name()
            )));
        }
        None => Labels::None,
    };
    let fit_target = |idx: &[usize]| -> (Vec<u8>, Vec<f64>) {
        let (_, c, v) = labels.target(Some(idx));
        (c, v)
    };
    let meta = spec.metadata.clone();
    let idx = eval::shuffled(n, p.seed);

    // Cross-validation: out-of-fold scores for every row.
    let mut oof = vec![f64::NAN; n];
    let mut oof_raw = vec![f64::NAN; n];
    let mut fold_of = vec![0usize; n];
    let folds = if p.cv_folds >= 2 && !matches!(labels, Labels::None) {
        p.cv_folds.min(n / 2)
    } else {
        0
    };
    for f in 0..folds {
        let (lo, hi) = (f * n / folds, (f + 1) * n / folds);
        let test: Vec<usize> = idx[lo..hi].to_vec();
        let train_idx: Vec<usize> = idx[..lo].iter().chain(&idx[hi..]).copied().collect();
        let xt = x.select(Axis(0), &train_idx);
        let (c, v) = fit_target(&train_idx);
        let y = if a.uses_label() {
            owned_target(&labels, &c, &v)
        } else {
            Target::None
        };
        let m = fit_model(a, &schema, &meta, &xt, &y, p)?;
        let xs = x.select(Axis(0), &test);
        let (s, r) = (m.scores(&xs), m.raws(&xs));
        for (k, &row) in test.iter().enumerate() {
            oof[row] = s[k];
            oof_raw[row] = r[k];
            fold_of[row] = f;
        }
    }

    // Hold-out: fit on 80 %, score the other 20 %.
    let mut holdout_scores: Option<(Vec<usize>, Vec<f64>, Vec<f64>)> = None;
    if !matches!(labels, Labels::None) {
        let (test, train_idx) = holdout_split(n, p.seed);
        let (test, train_idx) = (test.as_slice(), train_idx.as_slice());
        let xt = x.select(Axis(0), train_idx);
        let (c, v) = fit_target(train_idx);
        let y = if a.uses_label() {
            owned_target(&labels, &c, &v)
        } else {
            Target::None
        };
        let m = fit_model(a, &schema, &meta, &xt, &y, p)?;
        let xs = x.select(Axis(0), test);
        holdout_scores = Some((test.to_vec(), m.scores(&xs), m.raws(&xs)));
    }

    // Final model on every row.
    let (full, _, _) = labels.target(None);
    let y_full = if a.uses_label() { full } else { Target::None };
    let (estimator, score_map) = fit::fit(a, &x, &y_full, p)?;
    let mut artifact = assemble(meta, schema, estimator, score_map, 0.5);
    let final_model = Fitted {
        model: Model::compile(artifact.clone())?,
    };
    let train_scores = final_model.scores(&x);

    // Threshold.
    let threshold = match (p.threshold, &labels) {
        (Some(t), _) => ThresholdChoice {
            target_fpr: p.target_fpr,
            threshold: t,
            method: "given".into(),
        },
        (None, Labels::Classes(c)) if a.uses_label() => {
            let source: Vec<f64> = if folds > 0 {
                (0..n).filter(|&i| c[i] == 0).map(|i| oof[i]).collect()
            } else {
                let (test, s, _) = holdout_scores
                    .as_ref()
                    .ok_or_else(|| Error::Train("no hold-out".into()))?;
                test.iter()
                    .zip(s)
                    .filter(|(i, _)| c[**i] == 0)
                    .map(|(_, s)| *s)
                    .collect()
            };
            ThresholdChoice {
                target_fpr: p.target_fpr,
                threshold: threshold_for_fpr(&source, p.target_fpr),
                method: if folds > 0 { "out_of_fold" } else { "holdout" }.into(),
            }
        }
        (None, Labels::Values(_)) => ThresholdChoice {
            target_fpr: p.target_fpr,
            threshold: 0.5,
            method: "default".into(),
        },
        (None, _) => ThresholdChoice {
            target_fpr: p.target_fpr,
            threshold: eval::quantile(&train_scores, 1.0 - p.target_fpr)
                .next_up()
                .min(1.0),
            method: "training_quantile".into(),
        },
    };
    let t = threshold.threshold;
    artifact.output.threshold = crate::output::check_threshold(t)?;

    // Metrics at the chosen threshold.
    let metrics_of = |rows: &[usize], scores: &[f64], raws: &[f64]| -> EvalMetrics {
        match &labels {
            Labels::Classes(c) => {
                let y: Vec<u8> = rows.iter().map(|&i| c[i]).collect();
                classification_metrics(scores, &y, t)
            }
            Labels::Values(v) => {
                let y: Vec<f64> = rows.iter().map(|&i| v[i]).collect();
                regression_metrics(raws, &y)
            }
            Labels::None => EvalMetrics {
                rows: rows.len() as u64,
                ..EvalMetrics::default()
            },
        }
    };
    let holdout = holdout_scores
        .as_ref()
        .map(|(rows, s, r)| metrics_of(rows, s, r));
    let cross_validation = (folds > 0).then(|| {
        let per_fold: Vec<EvalMetrics> = (0..folds)
            .map(|f| {
                let rows: Vec<usize> = (0..n).filter(|&i| fold_of[i] == f).collect();
                let s: Vec<f64> = rows.iter().map(|&i| oof[i]).collect();
                let r: Vec<f64> = rows.iter().map(|&i| oof_raw[i]).collect();
                metrics_of(&rows, &s, &r)
            })
            .collect();
        CrossValidation {
            folds: folds as u32,
            mean: eval::mean_metrics(&per_fold),
            per_fold,
        }
    });
    let positive_rate = match &labels {
        Labels::Classes(c) => Some(c.iter().map(|v| f64::from(*v)).sum::<f64>() / n as f64),
        _ => None,
    };
    artifact.metadata.metrics = Some(TrainingMetrics {
        task: a.task().into(),
        rows: n as u64,
        positive_rate,
        seed: p.seed,
        holdout,
        cross_validation,
        threshold: Some(threshold),
        params: p.record(a),
    });

    // Baseline for drift detection.
    let names = artifact.schema.column_names();
    let columns = (0..width)
        .map(|j| {
            let mut v: Vec<f64> = x.column(j).to_vec();
            Histogram::from_values(&names[j], &mut v, 10)
        })
        .collect();
    let mut s = train_scores;
    artifact.baseline = Some(Baseline {
        rows: n as u64,
        columns,
        score: Histogram::from_values("model_output_risk_score", &mut s, 10),
        missing_rate: missing.iter().map(|m| *m as f64 / n as f64).collect(),
    });
    artifact.drift = Some(crate::drift::DriftPolicy::default());
    Model::compile(artifact.clone())?;
    Ok(artifact)
}

#[cfg(test)]
mod tests;
