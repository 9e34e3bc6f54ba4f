//! `siem-adapter inspect`: the model card — metadata, signature, schema,
//! estimator, output mapping and training metrics.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use scorer_core::artifact::{EvalMetrics, TrainingMetrics};
use scorer_core::estimators::EstimatorSpec;
use scorer_core::{Artifact, LoadOptions, Model};

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The artifact.
    pub model: PathBuf,
    /// Trusted public key files, to report whether the signature is trusted.
    #[arg(long = "trusted-key")]
    pub trusted_keys: Vec<PathBuf>,
    /// Print metadata, schema and output as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Run `inspect`.
pub fn run(a: &InspectArgs) -> Result<i32> {
    let bytes =
        std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let options = LoadOptions {
        trusted_keys: crate::keys::trusted_keys(&a.trusted_keys)?,
        ..LoadOptions::development()
    };
    let model =
        Model::load(&bytes, &options).with_context(|| format!("model {}", a.model.display()))?;
    let art = model.artifact();
    if a.json {
        let v = serde_json::json!({
            "metadata": art.metadata,
            "signature": model.signature(),
            "schema": art.schema,
            "columns": art.schema.column_names(),
            "estimator": estimator_summary(&art.estimator),
            "output": art.output,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    let mut s = summary(art);
    let _ = writeln!(
        s,
        "signature:   {}",
        serde_json::to_string(model.signature())?
    );
    let _ = writeln!(s, "fields read: {}", model.fields().join(", "));
    let _ = writeln!(s, "features ({} columns):", model.width());
    for f in &art.schema.features {
        let t = serde_json::to_string(&f.transform)?;
        let _ = writeln!(s, "  {:<24} {:<20} {t}", f.display_name(), f.field);
    }
    print!("{s}");
    Ok(0)
}

fn estimator_summary(e: &EstimatorSpec) -> serde_json::Value {
    use serde_json::json;
    match e {
        EstimatorSpec::RandomForest(f) => json!({"type": e.kind(), "trees": f.trees.len(),
            "nodes": f.trees.iter().map(|t| t.feature.len()).sum::<usize>()}),
        EstimatorSpec::IsolationForest(f) => {
            json!({"type": e.kind(), "trees": f.trees.len(), "sample_size": f.sample_size,
            "nodes": f.trees.iter().map(|t| t.feature.len()).sum::<usize>()})
        }
        EstimatorSpec::Kmeans(k) => json!({"type": e.kind(), "clusters": k.centroids.len()}),
        EstimatorSpec::Pca(p) => json!({"type": e.kind(), "components": p.components.len()}),
        EstimatorSpec::LogisticRegression(l) | EstimatorSpec::LinearRegression(l) => {
            json!({"type": e.kind(), "weights": l.weights.len()})
        }
    }
}

fn fmt_metrics(m: &EvalMetrics) -> String {
    let mut parts = vec![format!("rows {}", m.rows)];
    for (name, v) in [
        ("roc_auc", m.roc_auc),
        ("precision", m.precision),
        ("recall", m.recall),
        ("fpr", m.false_positive_rate),
        ("r2", m.r2),
        ("rmse", m.rmse),
    ] {
        if let Some(v) = v {
            parts.push(format!("{name} {v:.4}"));
        }
    }
    parts.join(", ")
}

fn fmt_training(t: &TrainingMetrics) -> String {
    let mut s = String::new();
    let _ = write!(s, "{} on {} rows, seed {}", t.task, t.rows, t.seed);
    if let Some(p) = t.positive_rate {
        let _ = write!(s, ", positive rate {p:.4}");
    }
    if let Some(h) = &t.holdout {
        let _ = write!(s, "\n  hold-out 20%:    {}", fmt_metrics(h));
    }
    if let Some(cv) = &t.cross_validation {
        let _ = write!(
            s,
            "\n  {}-fold CV mean: {}",
            cv.folds,
            fmt_metrics(&cv.mean)
        );
    }
    if let Some(th) = &t.threshold {
        let _ = write!(
            s,
            "\n  threshold {:.6} ({}, target fpr {})",
            th.threshold, th.method, th.target_fpr
        );
    }
    s
}

/// A few lines describing an artifact (used by `train` and `inspect`).
pub fn summary(art: &Artifact) -> String {
    let m = &art.metadata;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "model:       {}@{} ({})",
        m.name,
        m.version,
        m.approval.as_str()
    );
    if !m.description.is_empty() {
        let _ = writeln!(s, "description: {}", m.description);
    }
    let _ = writeln!(
        s,
        "created:     {} by {}",
        m.created,
        if m.author.is_empty() { "?" } else { &m.author }
    );
    let _ = writeln!(s, "trained on:  {}", m.training_data);
    let _ = writeln!(s, "estimator:   {}", estimator_summary(&art.estimator));
    let _ = writeln!(
        s,
        "output:      {} (flag when score >= {})",
        serde_json::to_string(&art.output.score).unwrap_or_default(),
        art.output.threshold
    );
    if let Some(t) = &m.metrics {
        let _ = writeln!(s, "metrics:     {}", fmt_training(t));
    }
    if !m.tags.is_empty() {
        let _ = writeln!(s, "tags:        {}", m.tags.join(", "));
    }
    s
}
