//! The report of `evaluate`: the `--json` object and the aligned text.

use std::fmt::Write as _;

use scorer_core::artifact::EvalMetrics;
use serde::{Deserialize, Serialize};

use super::compare::{label_of, Comparison};

/// The `--json` output: one object (pretty-printed). Rates are `null` when
/// undefined (no positives for recall, nothing flagged for precision, one
/// class for ROC AUC) or not applicable (classification metrics of a
/// regression and the other way round).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationReport {
    /// `name@version` of the model.
    pub model: String,
    /// `wasm` or `native`.
    pub engine: String,
    /// The input path as given.
    pub input: String,
    /// The label field.
    pub label_field: String,
    /// `classification` (score against 1/0 labels) or `regression` (raw output
    /// against a numeric target; `linear_regression` models).
    #[serde(default = "classification")]
    pub task: String,
    /// The flag threshold in force.
    pub threshold: f64,
    /// `artifact` or `--threshold`.
    pub threshold_source: String,
    /// What was read, evaluated and skipped.
    pub counts: Counts,
    /// Evaluated events labelled 1 (0 for a regression).
    pub positives: u64,
    /// Evaluated events labelled 0 (0 for a regression).
    pub negatives: u64,
    /// Area under the ROC curve; `null` with one class only.
    pub roc_auc: Option<f64>,
    /// TP / (TP + FP).
    pub precision: Option<f64>,
    /// TP / (TP + FN).
    pub recall: Option<f64>,
    /// FP / (FP + TN).
    pub false_positive_rate: Option<f64>,
    /// (TP + TN) / evaluated; `null` for a regression.
    pub accuracy: Option<f64>,
    /// R² of the raw output against the target (regression; `null` when the
    /// target is constant).
    #[serde(default)]
    pub r2: Option<f64>,
    /// RMSE of the raw output against the target, in the target's unit (regression).
    #[serde(default)]
    pub rmse: Option<f64>,
    /// The confusion matrix at the threshold (absent for a regression).
    #[serde(default, skip_serializing_if = "Confusion::is_empty")]
    pub confusion: Confusion,
    /// The artifact's own hold-out evaluation from training, for comparison.
    pub training_holdout: Option<EvalMetrics>,
    /// Live metrics against the training metrics with the margin; `null`
    /// when the artifact records no training evaluation.
    #[serde(default)]
    pub comparison: Option<Comparison>,
    /// Where the histogram was written.
    pub svg: Option<String>,
}

fn classification() -> String {
    "classification".into()
}

/// Counts of a run: `read = unreadable + unlabelled + bad_label + labelled`,
/// `labelled = evaluated + errored`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Records read (events and unreadable lines).
    pub read: u64,
    /// Events with a usable label.
    pub labelled: u64,
    /// Labelled events scored and measured (the confusion matrix sums to this).
    pub evaluated: u64,
    /// Lines that are not events.
    pub unreadable: Skipped,
    /// Events whose label field is absent, null or empty.
    pub unlabelled: Skipped,
    /// Events whose label is not a recognised 1/0 value (a number, for a regression).
    pub bad_label: Skipped,
    /// Labelled events that could not be scored.
    pub errored: Skipped,
    /// Evaluated events with at least one model field missing (schema defaults used).
    pub scored_with_defaults: u64,
}

/// One reason for skipping events: how many, and the first few as `line N: why`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skipped {
    /// Events skipped for this reason.
    pub count: u64,
    /// Up to [`MAX_EXAMPLES`] of them.
    pub examples: Vec<String>,
}

/// Examples kept per skip reason.
pub const MAX_EXAMPLES: usize = 5;

impl Skipped {
    pub(super) fn note(&mut self, n: u64, why: impl FnOnce() -> String) {
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(why());
        }
        self.count += n;
    }
}

/// The confusion matrix (1 = positive / flagged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confusion {
    /// Labelled 1, flagged.
    pub tp: u64,
    /// Labelled 0, flagged.
    pub fp: u64,
    /// Labelled 0, not flagged.
    pub tn: u64,
    /// Labelled 1, not flagged.
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl Confusion {
    /// No event counted (a regression; a classification always counts at least one).
    pub fn is_empty(&self) -> bool {
        *self == Confusion::default()
    }
}

/// The text report: aligned, one fact per line.
pub fn text_report(r: &EvaluationReport) -> String {
    let regression = r.task == "regression";
    let c = &r.counts;
    let mut s = String::new();
    let _ = writeln!(s, "model      {} (engine {})", r.model, r.engine);
    let _ = writeln!(s, "input      {}", r.input);
    if regression {
        let _ = writeln!(s, "target     {} (regression)", r.label_field);
    } else {
        let _ = writeln!(s, "label      {}", r.label_field);
        let _ = writeln!(s, "threshold  {:.4} ({})", r.threshold, r.threshold_source);
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "records read            {:>8}", c.read);
    let _ = write!(s, "  evaluated             {:>8}", c.evaluated);
    if !regression {
        let _ = write!(s, "   ({} positive, {} negative)", r.positives, r.negatives);
    }
    let _ = writeln!(s);
    let skipped = c.unreadable.count + c.unlabelled.count + c.bad_label.count + c.errored.count;
    let _ = writeln!(s, "  skipped               {skipped:>8}");
    for (name, k) in [
        ("unreadable", &c.unreadable),
        ("no label", &c.unlabelled),
        ("unrecognised label", &c.bad_label),
        ("scoring error", &c.errored),
    ] {
        let _ = write!(s, "    {name:<19} {:>8}", k.count);
        if let Some(first) = k.examples.first() {
            let _ = write!(s, "   {first}");
            if k.count > 1 {
                let _ = write!(s, " (+{} more)", k.count - 1);
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "  scored with defaults  {:>8}   (evaluated; some model fields absent, schema defaults used)",
        c.scored_with_defaults
    );
    let _ = writeln!(s);
    if regression {
        regression_lines(&mut s, r);
    } else {
        classification_lines(&mut s, r);
    }
    if let Some(p) = &r.svg {
        let _ = writeln!(s);
        let _ = writeln!(s, "histogram  {p}");
    }
    let _ = writeln!(s);
    match &r.comparison {
        Some(cmp) => comparison_lines(&mut s, cmp, r.threshold_source != "artifact"),
        None => {
            let _ = writeln!(
                s,
                "compared with training: n/a (the artifact records no training evaluation)"
            );
        }
    }
    s
}

fn classification_lines(s: &mut String, r: &EvaluationReport) {
    let rate = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
    match r.roc_auc {
        Some(v) => {
            let _ = write!(s, "ROC AUC              {v:.4}");
        }
        None => {
            let _ = write!(
                s,
                "ROC AUC              n/a (the evaluated events hold one class only)"
            );
        }
    }
    if let Some(auc) = r.training_holdout.as_ref().and_then(|h| h.roc_auc) {
        let _ = write!(s, "   (training hold-out: {auc:.4})");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "at threshold {:.4}:", r.threshold);
    let _ = writeln!(s, "  precision          {}", rate(r.precision));
    let _ = writeln!(s, "  recall             {}", rate(r.recall));
    let _ = writeln!(s, "  false-pos. rate    {}", rate(r.false_positive_rate));
    let _ = writeln!(s, "  accuracy           {}", rate(r.accuracy));
    let _ = writeln!(s);
    let k = &r.confusion;
    let _ = writeln!(s, "confusion matrix      label 1   label 0");
    let _ = writeln!(s, "  flagged          {:>10}{:>10}", k.tp, k.fp);
    let _ = writeln!(s, "  not flagged      {:>10}{:>10}", k.fn_, k.tn);
}

fn regression_lines(s: &mut String, r: &EvaluationReport) {
    match r.r2 {
        Some(v) => {
            let _ = writeln!(s, "R²                   {v:.4}");
        }
        None => {
            let _ = writeln!(s, "R²                   n/a (the target is constant)");
        }
    }
    let rmse = r
        .rmse
        .map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
    let _ = writeln!(
        s,
        "RMSE                 {rmse}   (raw model output vs target)"
    );
}

fn comparison_lines(s: &mut String, c: &Comparison, threshold_overridden: bool) {
    let show = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
    let source = if c.training_source == "holdout" {
        "hold-out"
    } else {
        "cross-validation mean"
    };
    let _ = writeln!(
        s,
        "compared with training ({source}, {} rows), margin {}",
        c.training_rows, c.margin
    );
    if c.metrics.iter().any(|m| m.metric == "rmse") {
        let _ = writeln!(
            s,
            "  (RMSE: relative, dropped above training × {})",
            1.0 + c.margin
        );
    }
    if threshold_overridden && c.metrics.iter().any(|m| m.metric == "precision") {
        let _ = writeln!(
            s,
            "  (--threshold is set: live precision, recall and FPR are at another threshold than training's)"
        );
    }
    let _ = writeln!(
        s,
        "  {:<16}{:>10}{:>11}{:>13}   status",
        "metric", "live", "training", "difference"
    );
    for m in &c.metrics {
        let diff = m
            .difference
            .map_or_else(|| "n/a".to_string(), |d| format!("{d:+.4}"));
        let status = match m.status.as_str() {
            "dropped" => "DROPPED",
            other => other,
        };
        let _ = writeln!(
            s,
            "  {:<16}{:>10}{:>11}{:>13}   {status}",
            label_of(&m.metric),
            show(m.live),
            show(m.training),
            diff
        );
    }
    if c.dropped.is_empty() {
        let _ = writeln!(s, "within the margin of training");
    } else {
        let names: Vec<&str> = c.dropped.iter().map(|k| label_of(k)).collect();
        let _ = writeln!(
            s,
            "performance dropped below the margin: {}",
            names.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::compare::{compare, Task};
    use super::*;

    fn report() -> EvaluationReport {
        EvaluationReport {
            model: "m@1".into(),
            engine: "native".into(),
            input: "in.jsonl".into(),
            label_field: "y".into(),
            task: "classification".into(),
            threshold: 0.5,
            threshold_source: "artifact".into(),
            counts: Counts {
                read: 4,
                labelled: 2,
                evaluated: 2,
                unreadable: Skipped {
                    count: 1,
                    examples: vec!["line 3: malformed JSON".into()],
                },
                unlabelled: Skipped {
                    count: 1,
                    examples: vec!["line 4: no field `y`".into()],
                },
                ..Counts::default()
            },
            positives: 0,
            negatives: 2,
            roc_auc: None,
            precision: None,
            recall: None,
            false_positive_rate: Some(0.0),
            accuracy: Some(1.0),
            r2: None,
            rmse: None,
            confusion: Confusion {
                tn: 2,
                ..Confusion::default()
            },
            training_holdout: None,
            comparison: None,
            svg: None,
        }
    }

    #[test]
    fn skipped_keeps_a_few_examples_and_every_count() {
        let mut k = Skipped::default();
        for i in 0..8 {
            k.note(1, || format!("line {i}"));
        }
        k.note(10, || "batch".into());
        assert_eq!(k.count, 18);
        assert_eq!(k.examples.len(), MAX_EXAMPLES);
    }

    #[test]
    fn text_report_shows_na_and_every_skip_reason() {
        let r = report();
        let t = text_report(&r);
        assert!(t.contains("ROC AUC              n/a (the evaluated events hold one class only)"));
        assert!(t.contains("line 3: malformed JSON"), "{t}");
        assert!(t.contains("line 4: no field `y`"));
        assert!(t.contains("precision          n/a"));
        assert!(t.contains("compared with training: n/a"));
        let back: EvaluationReport =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn regression_report_has_r2_rmse_the_comparison_and_no_confusion() {
        let live = EvalMetrics {
            rows: 2,
            r2: Some(0.5),
            rmse: Some(12.0),
            ..EvalMetrics::default()
        };
        let training = EvalMetrics {
            rows: 40,
            r2: Some(0.9),
            rmse: Some(4.0),
            ..EvalMetrics::default()
        };
        let r = EvaluationReport {
            task: "regression".into(),
            positives: 0,
            negatives: 0,
            false_positive_rate: None,
            accuracy: None,
            r2: live.r2,
            rmse: live.rmse,
            confusion: Confusion::default(),
            comparison: Some(compare(Task::Regression, &live, "holdout", &training, 0.05)),
            ..report()
        };
        let t = text_report(&r);
        for want in [
            "target     y (regression)",
            "R²                   0.5000",
            "RMSE                 12.0000",
            "compared with training (hold-out, 40 rows), margin 0.05",
            "  R²                  0.5000     0.9000      -0.4000   DROPPED",
            "  RMSE               12.0000     4.0000      +8.0000   DROPPED",
            "performance dropped below the margin: R², RMSE",
        ] {
            assert!(t.contains(want), "missing {want:?} in\n{t}");
        }
        assert!(!t.contains("confusion") && !t.contains("positive"), "{t}");
        assert!(
            !t.lines().any(|l| l.ends_with(' ')),
            "trailing blanks:\n{t}"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert!(json.get("confusion").is_none());
        assert_eq!(
            json["comparison"]["dropped"],
            serde_json::json!(["r2", "rmse"])
        );
        let back: EvaluationReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }
}
