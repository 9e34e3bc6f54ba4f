//! `train --champion OLD.json`: the model in production (the champion)
//! against the model just trained on new data (the challenger), measured on
//! the same held-out rows of the new data, and the promotion decision.
//!
//! - **The rows**: the 80/20 hold-out split `train` makes of `--input` under
//!   `--seed` ([`scorer_core::train::holdout_split`]).
//! - **The challenger's column** is its hold-out evaluation, the one stored in
//!   its model card: a model of the same algorithm and hyperparameters fitted
//!   on the other 80 % of the rows. (The challenger written to `--output` is
//!   fitted on every row, the held-out ones included, so scoring it there
//!   would flatter it.)
//! - **The champion's column**: the champion as shipped, scored natively by
//!   scorer-core on the same held-out rows
//!   ([`scorer_core::train::evaluate_holdout`]), labels read as training reads them.
//! - Each model at its own flag threshold. Classifiers: ROC AUC, precision,
//!   recall, false-positive rate; regressions: R², RMSE.
//! - **Promotion** (`--promote`): the challenger is written `approved` and
//!   signed when it is at least as good as the champion on the primary metric
//!   (ROC AUC, or R²: challenger ≥ champion, both defined); otherwise it is
//!   written `draft` (signed with the same key) and `train` exits 1.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use scorer_core::artifact::EvalMetrics;
use scorer_core::train::{evaluate_holdout, Algorithm, Table, TrainSpec};
use scorer_core::{Artifact, LoadOptions, Model};
use serde::{Deserialize, Serialize};

use super::evaluate::compare::{label_of, Task};

/// A champion, loaded and checked under the trust settings.
pub struct Champion {
    /// The loaded model.
    pub model: Model,
    /// Where it came from.
    pub path: PathBuf,
    /// Classification or regression.
    pub task: Task,
}

/// Load the champion: a trusted signature (`--trusted-key`) and `approved`
/// status, as every scoring command requires, unless `allow_unsigned`.
pub fn load(path: &Path, trusted_keys: &[PathBuf], allow_unsigned: bool) -> Result<Champion> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read champion {}", path.display()))?;
    if allow_unsigned {
        tracing::warn!("--allow-unsigned: an unsigned, untrusted or unapproved champion is accepted (development only)");
    }
    let options = LoadOptions {
        trusted_keys: crate::keys::trusted_keys(trusted_keys)?,
        allow_unsigned,
        require_approved: !allow_unsigned,
    };
    let model =
        Model::load(&bytes, &options).with_context(|| format!("champion {}", path.display()))?;
    let task = Task::of_estimator(model.artifact().estimator.kind());
    Ok(Champion {
        model,
        path: path.to_path_buf(),
        task,
    })
}

/// Refuse a challenger that cannot be compared with `champion`.
pub fn check(champion: &Champion, algorithm: Algorithm, label: Option<&str>) -> Result<()> {
    if label.is_none() {
        bail!("--champion compares on labelled rows: give the label column with --label");
    }
    let task = Task::of_estimator(algorithm.name());
    if task != champion.task {
        bail!(
            "the champion {} is a {} ({}) and the challenger a {} ({}): they cannot be compared",
            champion.model.id(),
            champion.model.artifact().estimator.kind(),
            champion.task.name(),
            algorithm.name(),
            task.name()
        );
    }
    Ok(())
}

/// The `--json` output of `train --champion`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChampionReport {
    /// `classification` or `regression`.
    pub task: String,
    /// The new data (`--input`).
    pub input: String,
    /// Its rows.
    pub table_rows: u64,
    /// The seed of the hold-out split.
    pub seed: u64,
    /// The metric that decides a promotion: `roc_auc` or `r2`.
    pub primary_metric: String,
    /// The model in production.
    pub champion: Contender,
    /// The model just trained.
    pub challenger: Contender,
    /// One row per metric of the task.
    pub metrics: Vec<MetricRow>,
    /// What was decided and written.
    pub promotion: Promotion,
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contender {
    /// `name@version`.
    pub model: String,
    /// Its file.
    pub path: String,
    /// Its flag threshold (classification metrics are at it).
    pub threshold: f64,
    /// Held-out rows it was measured on (the same for both sides).
    pub rows: u64,
    /// How it was measured.
    pub measured: String,
    /// The metrics.
    pub metrics: EvalMetrics,
}

/// One metric, champion against challenger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricRow {
    /// The key (`roc_auc`, `precision`, `recall`, `false_positive_rate`, `r2`, `rmse`).
    pub metric: String,
    /// The champion's value; `null` when undefined.
    pub champion: Option<f64>,
    /// The challenger's value; `null` when undefined.
    pub challenger: Option<f64>,
    /// challenger − champion; `null` when either is.
    pub difference: Option<f64>,
    /// `challenger`, `champion`, `tie` or `n/a` (lower is better for FPR and RMSE).
    pub better: String,
}

/// The promotion decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// `--promote` was given.
    pub requested: bool,
    /// The challenger was written `approved` by this decision.
    pub promoted: bool,
    /// The challenger's approval status as written.
    pub approval: String,
    /// The challenger was signed (and with which key).
    pub signed_by: Option<String>,
    /// Why, in a sentence.
    pub reason: String,
}

/// Measure both models on the held-out rows of `table` under `spec`: the
/// champion now, the challenger from its stored hold-out evaluation.
pub fn measure(
    champion: &Champion,
    table: &Table,
    spec: &TrainSpec,
    challenger: &Artifact,
) -> Result<(EvalMetrics, EvalMetrics)> {
    let theirs = challenger
        .metadata
        .metrics
        .as_ref()
        .and_then(|m| m.holdout.clone())
        .context("the challenger has no hold-out evaluation")?;
    let ours = evaluate_holdout(&champion.model, table, spec).with_context(|| {
        format!(
            "cannot measure the champion {} on the new data",
            champion.model.id()
        )
    })?;
    if ours.rows != theirs.rows {
        bail!(
            "the champion was measured on {} rows, the challenger on {}",
            ours.rows,
            theirs.rows
        );
    }
    Ok((ours, theirs))
}

/// The metric rows of `task`.
pub fn rows(task: Task, champion: &EvalMetrics, challenger: &EvalMetrics) -> Vec<MetricRow> {
    task.metrics()
        .iter()
        .map(|&m| {
            let (old, new) = (m.of(champion), m.of(challenger));
            let better = match (old, new) {
                (Some(o), Some(n)) => match m.better(n, o) {
                    Some(true) => "challenger",
                    Some(false) => "champion",
                    None => "tie",
                },
                _ => "n/a",
            };
            MetricRow {
                metric: m.key().into(),
                champion: old,
                challenger: new,
                difference: old.zip(new).map(|(o, n)| n - o),
                better: better.into(),
            }
        })
        .collect()
}

/// Whether the challenger may be promoted: at least as good on the primary
/// metric, both defined; and why.
pub fn decide(task: Task, champion: &EvalMetrics, challenger: &EvalMetrics) -> (bool, String) {
    let m = task.primary();
    let rows = champion.rows;
    match (m.of(champion), m.of(challenger)) {
        (Some(old), Some(new)) if new >= old => (
            true,
            format!(
                "challenger {} {new:.4} ≥ champion {old:.4} on the same {rows} held-out rows",
                m.label()
            ),
        ),
        (Some(old), Some(new)) => (
            false,
            format!(
                "challenger {} {new:.4} < champion {old:.4} on the same {rows} held-out rows",
                m.label()
            ),
        ),
        (old, new) => {
            let side = match (old, new) {
                (None, None) => "either model",
                (None, _) => "the champion",
                _ => "the challenger",
            };
            (
                false,
                format!(
                    "{} is undefined for {side} on the {rows} held-out rows{}",
                    m.label(),
                    if task == Task::Classification {
                        " (one class only?)"
                    } else {
                        " (constant target?)"
                    }
                ),
            )
        }
    }
}

/// The side-by-side text table and the decision.
pub fn text(r: &ChampionReport) -> String {
    let show = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
    let mut s = String::new();
    for (role, c) in [("champion", &r.champion), ("challenger", &r.challenger)] {
        let _ = writeln!(s, "{role:<11} {} ({})", c.model, c.path);
        let _ = write!(s, "{:<11} {}", "", c.measured);
        if r.task == "classification" {
            let _ = write!(s, "; threshold {:.4}", c.threshold);
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "held out    {} of the {} rows of {} (seed {}), the same rows for both",
        r.champion.rows, r.table_rows, r.input, r.seed
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  {:<16}{:>10}{:>12}{:>13}   better",
        "metric", "champion", "challenger", "difference"
    );
    for m in &r.metrics {
        let diff = m
            .difference
            .map_or_else(|| "n/a".to_string(), |d| format!("{d:+.4}"));
        let _ = writeln!(
            s,
            "  {:<16}{:>10}{:>12}{:>13}   {}",
            label_of(&m.metric),
            show(m.champion),
            show(m.challenger),
            diff,
            m.better
        );
    }
    let _ = writeln!(s);
    let p = &r.promotion;
    let verdict = match (p.promoted, p.requested) {
        (true, _) => "promoted",
        (false, true) => "not promoted",
        (false, false) => "not promoted (no --promote)",
    };
    let signed = p
        .signed_by
        .as_ref()
        .map_or_else(|| "unsigned".to_string(), |k| format!("signed by key {k}"));
    let _ = writeln!(
        s,
        "{verdict}: {}; written as {} ({signed})",
        p.reason, p.approval
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(r2: Option<f64>, rmse: f64) -> EvalMetrics {
        EvalMetrics {
            rows: 80,
            r2,
            rmse: Some(rmse),
            ..EvalMetrics::default()
        }
    }

    #[test]
    fn at_least_as_good_on_the_primary_metric_is_promoted() {
        let (ok, why) = decide(
            Task::Regression,
            &reg(Some(0.90), 4.0),
            &reg(Some(0.90), 5.0),
        );
        assert!(ok, "a tie promotes: {why}");
        let (ok, why) = decide(
            Task::Regression,
            &reg(Some(0.90), 4.0),
            &reg(Some(0.20), 9.0),
        );
        assert!(!ok);
        assert_eq!(
            why,
            "challenger R² 0.2000 < champion 0.9000 on the same 80 held-out rows"
        );
        let (ok, why) = decide(Task::Regression, &reg(None, 4.0), &reg(Some(0.5), 9.0));
        assert!(!ok && why.contains("undefined for the champion"), "{why}");
    }

    #[test]
    fn rows_say_which_is_better_in_each_direction() {
        let r = rows(
            Task::Regression,
            &reg(Some(0.90), 4.0),
            &reg(Some(0.95), 5.0),
        );
        assert_eq!(
            (r[0].better.as_str(), r[1].better.as_str()),
            ("challenger", "champion")
        );
        assert!((r[0].difference.unwrap() - 0.05).abs() < 1e-12);
        let r = rows(Task::Regression, &reg(None, 4.0), &reg(Some(0.5), 4.0));
        assert_eq!((r[0].better.as_str(), r[1].better.as_str()), ("n/a", "tie"));
        assert_eq!(r[0].difference, None);
    }
}
