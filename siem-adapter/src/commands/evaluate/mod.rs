//! `siem-adapter evaluate`: score a labelled alert batch, measure the model
//! against the labels, and compare with what training measured.
//!
//! Every event of the input (any format `score` reads, gzip too) is read in
//! order; those with a usable label in `--label` are scored in batches with
//! the chosen engine and the threshold in force (the artifact's, or
//! `--threshold`). For a classifier the report gives ROC AUC, precision,
//! recall, false-positive rate and accuracy at that threshold and the
//! confusion matrix; for a regression (`linear_regression`), whose `--label`
//! is a numeric target, R² and RMSE of the raw model output. It also says what
//! was skipped and why — nothing is dropped silently:
//!
//! - **unreadable**: lines that are not events (they would carry `risk_error` in `score`);
//! - **unlabelled**: the label field is absent, null or empty;
//! - **bad label**: the label is not one of 1/0, true/false, yes/no, t/f (any
//!   case, surrounding blanks ignored) or a number equal to 1 or 0 — for a
//!   regression, not a finite number;
//! - **errored**: labelled, but the engine failed on the batch or the model
//!   output is not a number.
//!
//! Events scored although some model fields were missing (schema defaults
//! used, as `score` lists in `risk_missing_fields`) are evaluated and counted.
//!
//! Metrics come from scorer-core's evaluation functions (the ones `train`
//! stores in the artifact), so the numbers are comparable with the model
//! card; the confusion matrix counts the engine's own `anomaly_flag`.
//!
//! **The comparison** ([`compare`]): each metric, live against the artifact's
//! training hold-out (or its cross-validation mean when there is no
//! hold-out), with `--margin` (default 0.05): dropped when AUC, precision,
//! recall or R² is lower than training − margin, when FPR is higher than
//! training + margin, or when RMSE is higher than training × (1 + margin).
//! A metric undefined on either side is n/a and never a drop. The report ends
//! with "performance dropped below the margin: …" or "within the margin of
//! training".
//!
//! Output: an aligned text report on stdout, or with `--json` one
//! [`EvaluationReport`] object. `--svg FILE` also writes a score histogram
//! ([`crate::report_svg`]; classifiers only).
//!
//! Exit status: 0 when at least one labelled event was evaluated — ROC AUC
//! is reported as n/a (JSON `null`) when the labelled events hold one class
//! only — even when performance dropped; with `--fail-on-drop`, 1 when any
//! metric dropped (never when the artifact records no training metrics);
//! 2 (an error) when no event could be evaluated.

pub mod compare;
mod measure;
mod report;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::ValueEnum as _;
use scorer_core::artifact::{self, Artifact};

use super::model_args::{load_engine, ModelArgs};
use crate::report_svg::{histogram_svg, Histogram};
use crate::sources::{read_events, InputFormat};
pub use compare::{Comparison, Metric, MetricComparison, Task};
pub use measure::{parse_label, parse_target, Evaluator, Measured};
pub use report::{text_report, Confusion, Counts, EvaluationReport, Skipped, MAX_EXAMPLES};

/// Arguments of `evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Labelled alert batch (`-` = stdin): JSON lines, Splunk export JSON or CSV; gzip allowed.
    #[arg(long, default_value = "-")]
    pub input: PathBuf,
    /// Input format.
    #[arg(long, value_enum, default_value = "auto")]
    pub input_format: InputFormat,
    /// Event field with the true label: 1/0, true/false, yes/no, t/f (any case) or 1.0/0.0;
    /// for a regression model, the numeric target.
    #[arg(long)]
    pub label: String,
    /// How far a live metric may fall behind training before it counts as dropped:
    /// absolute for AUC, precision, recall, FPR and R²; relative for RMSE.
    #[arg(long, default_value_t = 0.05, value_parser = parse_margin)]
    pub margin: f64,
    /// Exit 1 when any metric dropped beyond the margin (exit 0 otherwise, as without it).
    #[arg(long)]
    pub fail_on_drop: bool,
    /// Also write a score histogram (positives vs negatives, threshold marked) to this SVG file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Bins of the histogram on 0..1 (1 to 200).
    #[arg(long, default_value_t = 20,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=200))]
    pub bins: usize,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// The model and the engine that runs it.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Events per scoring batch.
    #[arg(long, default_value_t = 4096)]
    pub batch_size: usize,
}

fn parse_margin(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(m) if m.is_finite() && m >= 0.0 => Ok(m),
        _ => Err(format!(
            "`{s}` is not a margin: give a number ≥ 0, e.g. 0.05"
        )),
    }
}

/// The task of the artifact at `path` (already loaded, so already checked, by the engine).
fn task_of(path: &Path) -> Result<Task> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read model {}", path.display()))?;
    let art = Artifact::from_document(&artifact::parse_document(&bytes)?)?;
    Ok(Task::of_estimator(art.estimator.kind()))
}

/// Run `evaluate`.
pub fn run(a: &EvaluateArgs) -> Result<i32> {
    let (mut engine, _runtime) = load_engine(&a.model)?;
    let task = task_of(&a.model.model)?;
    if task == Task::Regression && a.svg.is_some() {
        bail!("--svg draws the scores of positives and negatives: a regression has neither");
    }
    let desc = engine.describe();
    let id = desc.id.clone();
    let training = desc.metadata.metrics.clone();
    let mut ev = Evaluator::for_task(&mut engine, &a.label, task);
    let pb = super::spinner("evaluating");
    let batch = a.batch_size.max(1);
    let mut records = Vec::with_capacity(batch);
    for rec in read_events(&a.input, a.input_format)? {
        records.push(rec);
        if records.len() >= batch {
            ev.add_batch(&records);
            records.clear();
            pb.set_message(format!("read {} events", ev.counts.read));
        }
    }
    ev.add_batch(&records);
    pb.finish_and_clear();
    let m = ev
        .finish()
        .with_context(|| format!("cannot evaluate {}", a.input.display()))?;

    let positives = m.labels.iter().filter(|l| **l == 1).count() as u64;
    let c = m.confusion;
    let comparison = compare::training_reference(training.as_ref())
        .map(|(source, t)| compare::compare(task, &m.metrics, source, t, a.margin));
    let report = EvaluationReport {
        model: id.clone(),
        engine: engine_name(a),
        input: a.input.display().to_string(),
        label_field: a.label.clone(),
        task: task.name().into(),
        threshold: m.threshold,
        threshold_source: if a.model.threshold.is_some() {
            "--threshold".into()
        } else {
            "artifact".into()
        },
        positives,
        negatives: m.labels.len() as u64 - positives,
        roc_auc: m.metrics.roc_auc,
        precision: m.metrics.precision,
        recall: m.metrics.recall,
        false_positive_rate: m.metrics.false_positive_rate,
        accuracy: (task == Task::Classification)
            .then(|| (c.tp + c.tn) as f64 / m.counts.evaluated as f64),
        r2: m.metrics.r2,
        rmse: m.metrics.rmse,
        confusion: c,
        counts: m.counts.clone(),
        training_holdout: training.and_then(|t| t.holdout),
        comparison,
        svg: a.svg.as_ref().map(|p| p.display().to_string()),
    };
    if let Some(path) = &a.svg {
        let auc = report
            .roc_auc
            .map_or_else(|| "n/a".to_string(), |v| format!("{v:.3}"));
        let svg = histogram_svg(&Histogram {
            scores: &m.scores,
            labels: &m.labels,
            threshold: m.threshold,
            bins: a.bins,
            title: &format!(
                "{id}: scores of {} labelled events, ROC AUC {auc}",
                m.counts.evaluated
            ),
        });
        write_file(path, &svg)?;
    }
    let dropped = report
        .comparison
        .as_ref()
        .map_or(&[][..], |c| c.dropped.as_slice());
    tracing::info!(model = %id, evaluated = report.counts.evaluated, auc = ?report.roc_auc,
        r2 = ?report.r2, dropped = ?dropped, "evaluated");
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text_report(&report));
    }
    Ok(if a.fail_on_drop && !dropped.is_empty() {
        1
    } else {
        0
    })
}

fn engine_name(a: &EvaluateArgs) -> String {
    a.model.engine.to_possible_value().map_or_else(
        || format!("{:?}", a.model.engine),
        |v| v.get_name().to_string(),
    )
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins_are_finite_and_not_negative() {
        assert_eq!(parse_margin("0.1"), Ok(0.1));
        assert_eq!(parse_margin("0"), Ok(0.0));
        for bad in ["-0.1", "nan", "inf", "a lot"] {
            assert!(parse_margin(bad).is_err(), "{bad}");
        }
    }
}
