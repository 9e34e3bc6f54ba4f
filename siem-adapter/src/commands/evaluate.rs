//! `siem-adapter evaluate`: score a labelled alert batch and measure the
//! model against the labels.
//!
//! Every event of the input (any format `score` reads, gzip too) is read in
//! order; those with a usable label in `--label` are scored in batches with
//! the chosen engine and the threshold in force (the artifact's, or
//! `--threshold`). The report gives ROC AUC, precision, recall,
//! false-positive rate and accuracy at that threshold, the confusion matrix,
//! and what was skipped and why — nothing is dropped silently:
//!
//! - **unreadable**: lines that are not events (they would carry `risk_error` in `score`);
//! - **unlabelled**: the label field is absent, null or empty;
//! - **bad label**: the label is not one of 1/0, true/false, yes/no, t/f (any
//!   case, surrounding blanks ignored) or a number equal to 1 or 0;
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
//! Output: an aligned text report on stdout, or with `--json` one
//! [`EvaluationReport`] object. `--svg FILE` also writes a score histogram
//! ([`crate::report_svg`]). Exit 0 when at least one labelled event was
//! evaluated — ROC AUC is reported as n/a (JSON `null`) when the labelled
//! events hold one class only; an error (exit 2) when none was.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::ValueEnum as _;
use scorer_core::artifact::EvalMetrics;
use scorer_core::train::classification_metrics;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model_args::{load_engine, ModelArgs};
use crate::engine::{BatchResult, Engine};
use crate::report_svg::{histogram_svg, Histogram};
use crate::sources::{read_events, InputFormat, Record};

/// Arguments of `evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Labelled alert batch (`-` = stdin): JSON lines, Splunk export JSON or CSV; gzip allowed.
    #[arg(long, default_value = "-")]
    pub input: PathBuf,
    /// Input format.
    #[arg(long, value_enum, default_value = "auto")]
    pub input_format: InputFormat,
    /// Event field with the true label: 1/0, true/false, yes/no, t/f (any case) or 1.0/0.0.
    #[arg(long)]
    pub label: String,
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

/// The `--json` output: one object (pretty-printed). Rates are `null` when
/// undefined (no positives for recall, nothing flagged for precision, one
/// class for ROC AUC).
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
    /// The flag threshold in force.
    pub threshold: f64,
    /// `artifact` or `--threshold`.
    pub threshold_source: String,
    /// What was read, evaluated and skipped.
    pub counts: Counts,
    /// Evaluated events labelled 1.
    pub positives: u64,
    /// Evaluated events labelled 0.
    pub negatives: u64,
    /// Area under the ROC curve; `null` with one class only.
    pub roc_auc: Option<f64>,
    /// TP / (TP + FP).
    pub precision: Option<f64>,
    /// TP / (TP + FN).
    pub recall: Option<f64>,
    /// FP / (FP + TN).
    pub false_positive_rate: Option<f64>,
    /// (TP + TN) / evaluated.
    pub accuracy: f64,
    /// The confusion matrix at the threshold.
    pub confusion: Confusion,
    /// The artifact's own hold-out evaluation from training, for comparison.
    pub training_holdout: Option<EvalMetrics>,
    /// Where the histogram was written.
    pub svg: Option<String>,
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
    /// Events whose label is not a recognised 1/0 value.
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
    fn note(&mut self, n: u64, why: impl FnOnce() -> String) {
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

/// Read a label: booleans, numbers equal to 1 or 0, or the strings 1/0,
/// true/false, yes/no, t/f (any case, blanks trimmed) and numeric text such
/// as `1.0`; a one-element list (a Splunk multivalue field) is read as its
/// element. Anything else is `None`.
pub fn parse_label(v: &Value) -> Option<u8> {
    fn number(x: f64) -> Option<u8> {
        if x == 1.0 {
            Some(1)
        } else if x == 0.0 {
            Some(0)
        } else {
            None
        }
    }
    match v {
        Value::Bool(b) => Some(u8::from(*b)),
        Value::Number(n) => number(n.as_f64()?),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "t" => Some(1),
            "0" | "false" | "no" | "f" => Some(0),
            other => number(other.parse().ok()?),
        },
        Value::Array(a) if a.len() == 1 => parse_label(&a[0]),
        _ => None,
    }
}

/// Whether a label value counts as absent rather than unrecognised.
fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Reads records, scores the labelled ones and keeps (score, label, flag).
pub struct Evaluator<'e> {
    engine: &'e mut Engine,
    label: String,
    result: BatchResult,
    /// Scores of the evaluated events, in input order.
    pub scores: Vec<f64>,
    /// Their labels.
    pub labels: Vec<u8>,
    /// The engine's flags.
    pub flags: Vec<u8>,
    /// Running counts.
    pub counts: Counts,
    /// Field names of the first readable event (for the "no label" error).
    first_fields: Option<Vec<String>>,
}

impl<'e> Evaluator<'e> {
    /// An evaluator of `engine` against the labels in field `label`.
    pub fn new(engine: &'e mut Engine, label: &str) -> Self {
        Evaluator {
            engine,
            label: label.to_string(),
            result: BatchResult::default(),
            scores: Vec::new(),
            labels: Vec::new(),
            flags: Vec::new(),
            counts: Counts::default(),
            first_fields: None,
        }
    }

    /// Sort a batch of records, score the labelled events, keep the results.
    pub fn add_batch(&mut self, records: &[Record]) {
        let mut events: Vec<&Map<String, Value>> = Vec::with_capacity(records.len());
        let mut kept: Vec<(u64, u8)> = Vec::with_capacity(records.len());
        for r in records {
            self.counts.read += 1;
            let e = match &r.event {
                Ok(e) => e,
                Err(bad) => {
                    self.counts
                        .unreadable
                        .note(1, || format!("line {}: {}", r.line, bad.error));
                    continue;
                }
            };
            if self.first_fields.is_none() {
                self.first_fields = Some(e.keys().cloned().collect());
            }
            match e.get(&self.label) {
                None => self
                    .counts
                    .unlabelled
                    .note(1, || format!("line {}: no field `{}`", r.line, self.label)),
                Some(v) if is_blank(v) => self
                    .counts
                    .unlabelled
                    .note(1, || format!("line {}: `{}` is empty", r.line, self.label)),
                Some(v) => match parse_label(v) {
                    Some(l) => {
                        events.push(e);
                        kept.push((r.line, l));
                    }
                    None => self.counts.bad_label.note(1, || {
                        let mut shown = v.to_string();
                        if shown.len() > 40 {
                            let cut = (0..=40).rev().find(|i| shown.is_char_boundary(*i));
                            shown.truncate(cut.unwrap_or(0));
                            shown.push('…');
                        }
                        format!("line {}: `{}` is {shown}", r.line, self.label)
                    }),
                },
            }
        }
        self.counts.labelled += kept.len() as u64;
        if events.is_empty() {
            return;
        }
        if let Err(err) = self.engine.score(&events, 0, &mut self.result) {
            tracing::error!(error = %err, "batch could not be scored");
            let (first, last) = (kept[0].0, kept[kept.len() - 1].0);
            self.counts.errored.note(kept.len() as u64, || {
                format!("lines {first}-{last}: engine error: {err}")
            });
            return;
        }
        let words = self.result.mask_words;
        for (i, (line, label)) in kept.into_iter().enumerate() {
            let s = self.result.score[i];
            if s.is_nan() {
                self.counts
                    .errored
                    .note(1, || format!("line {line}: model output is not a number"));
                continue;
            }
            if self.result.masks[i * words..(i + 1) * words]
                .iter()
                .any(|m| *m != 0)
            {
                self.counts.scored_with_defaults += 1;
            }
            self.scores.push(s);
            self.labels.push(label);
            self.flags.push(self.result.flag[i]);
            self.counts.evaluated += 1;
        }
    }

    /// The metrics, or an error saying why there is nothing to measure.
    pub fn finish(self) -> Result<Measured> {
        let c = &self.counts;
        if c.labelled == 0 {
            let mut msg = format!(
                "no event has a usable label in field `{}`: {} records read, {} unreadable, \
                 {} without the field (or empty), {} with an unrecognised value",
                self.label, c.read, c.unreadable.count, c.unlabelled.count, c.bad_label.count
            );
            if let Some(ex) = c.bad_label.examples.first() {
                let _ = write!(msg, " (e.g. {ex}; expected 1/0, true/false, yes/no or t/f)");
            }
            if c.unlabelled.count > 0 && c.bad_label.count == 0 {
                if let Some(fields) = &self.first_fields {
                    let _ = write!(msg, "; the first event's fields are: {}", fields.join(", "));
                }
            }
            bail!(msg);
        }
        if c.evaluated == 0 {
            bail!(
                "none of the {} labelled events could be scored: {}",
                c.labelled,
                c.errored.examples.join("; ")
            );
        }
        let threshold = self.engine.describe().threshold;
        let mut confusion = Confusion::default();
        for (l, f) in self.labels.iter().zip(&self.flags) {
            match (*f == 1, *l == 1) {
                (true, true) => confusion.tp += 1,
                (true, false) => confusion.fp += 1,
                (false, false) => confusion.tn += 1,
                (false, true) => confusion.fn_ += 1,
            }
        }
        let metrics = classification_metrics(&self.scores, &self.labels, threshold);
        Ok(Measured {
            threshold,
            metrics,
            confusion,
            counts: self.counts,
            scores: self.scores,
            labels: self.labels,
        })
    }
}

/// What [`Evaluator::finish`] measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The threshold in force.
    pub threshold: f64,
    /// ROC AUC, precision, recall, FPR (scorer-core's evaluation).
    pub metrics: EvalMetrics,
    /// Confusion matrix of the engine's flags.
    pub confusion: Confusion,
    /// Counts.
    pub counts: Counts,
    /// Evaluated scores.
    pub scores: Vec<f64>,
    /// Their labels.
    pub labels: Vec<u8>,
}

/// Run `evaluate`.
pub fn run(a: &EvaluateArgs) -> Result<i32> {
    let (mut engine, _runtime) = load_engine(&a.model)?;
    let desc = engine.describe();
    let id = desc.id.clone();
    let training_holdout = desc
        .metadata
        .metrics
        .as_ref()
        .and_then(|m| m.holdout.clone());
    let mut ev = Evaluator::new(&mut engine, &a.label);
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
    let report = EvaluationReport {
        model: id.clone(),
        engine: engine_name(a),
        input: a.input.display().to_string(),
        label_field: a.label.clone(),
        threshold: m.threshold,
        threshold_source: if a.model.threshold.is_some() {
            "--threshold".into()
        } else {
            "artifact".into()
        },
        positives,
        negatives: m.counts.evaluated - positives,
        roc_auc: m.metrics.roc_auc,
        precision: m.metrics.precision,
        recall: m.metrics.recall,
        false_positive_rate: m.metrics.false_positive_rate,
        accuracy: (c.tp + c.tn) as f64 / m.counts.evaluated as f64,
        confusion: c,
        counts: m.counts.clone(),
        training_holdout,
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
    tracing::info!(model = %id, evaluated = report.counts.evaluated, auc = ?report.roc_auc, "evaluated");
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text_report(&report));
    }
    Ok(0)
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

/// The text report: aligned, one fact per line.
pub fn text_report(r: &EvaluationReport) -> String {
    let rate = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
    let c = &r.counts;
    let mut s = String::new();
    let _ = writeln!(s, "model      {} (engine {})", r.model, r.engine);
    let _ = writeln!(s, "input      {}", r.input);
    let _ = writeln!(s, "label      {}", r.label_field);
    let _ = writeln!(s, "threshold  {:.4} ({})", r.threshold, r.threshold_source);
    let _ = writeln!(s);
    let _ = writeln!(s, "records read            {:>8}", c.read);
    let _ = writeln!(
        s,
        "  evaluated             {:>8}   ({} positive, {} negative)",
        c.evaluated, r.positives, r.negatives
    );
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
    let _ = writeln!(s, "  accuracy           {:.4}", r.accuracy);
    let _ = writeln!(s);
    let k = &r.confusion;
    let _ = writeln!(s, "confusion matrix      label 1   label 0");
    let _ = writeln!(s, "  flagged          {:>10}{:>10}", k.tp, k.fp);
    let _ = writeln!(s, "  not flagged      {:>10}{:>10}", k.fn_, k.tn);
    if let Some(p) = &r.svg {
        let _ = writeln!(s);
        let _ = writeln!(s, "histogram  {p}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_in_every_spelling() {
        for v in [
            json!(1),
            json!(1.0),
            json!(true),
            json!("1"),
            json!(" TRUE "),
            json!("yes"),
            json!("T"),
            json!("1.0"),
            json!(["Yes"]),
        ] {
            assert_eq!(parse_label(&v), Some(1), "{v}");
        }
        for v in [
            json!(0),
            json!(-0.0),
            json!(false),
            json!("0"),
            json!("False"),
            json!("NO"),
            json!("f"),
            json!("0.00"),
            json!([0]),
        ] {
            assert_eq!(parse_label(&v), Some(0), "{v}");
        }
        for v in [
            json!(2),
            json!(0.5),
            json!("maybe"),
            json!("nan"),
            json!("y"),
            json!(null),
            json!({}),
            json!([1, 0]),
            json!(""),
        ] {
            assert_eq!(parse_label(&v), None, "{v}");
        }
        assert!(is_blank(&json!(null)) && is_blank(&json!("  ")) && is_blank(&json!([])));
        assert!(!is_blank(&json!("maybe")) && !is_blank(&json!(0)));
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
        let r = EvaluationReport {
            model: "m@1".into(),
            engine: "native".into(),
            input: "in.jsonl".into(),
            label_field: "y".into(),
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
            accuracy: 1.0,
            confusion: Confusion {
                tn: 2,
                ..Confusion::default()
            },
            training_holdout: None,
            svg: None,
        };
        let t = text_report(&r);
        assert!(t.contains("ROC AUC              n/a (the evaluated events hold one class only)"));
        assert!(t.contains("line 3: malformed JSON"), "{t}");
        assert!(t.contains("line 4: no field `y`"));
        assert!(t.contains("precision          n/a"));
        let back: EvaluationReport =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
