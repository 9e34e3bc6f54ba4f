//! Reading labels and scoring the labelled events of a batch: the counts of
//! what was read, evaluated and skipped, and the metrics of what was scored.
//!
//! Classifiers are measured on the score against 1/0 labels; regressions
//! (`linear_regression`) on the raw output against a numeric target.

use std::fmt::Write as _;

use anyhow::{bail, Result};
use scorer_core::artifact::EvalMetrics;
use scorer_core::train::{classification_metrics, regression_metrics};
use serde_json::{Map, Value};

use super::compare::Task;
use super::report::{Confusion, Counts};
use crate::engine::{BatchResult, Engine};
use crate::sources::Record;

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

/// Read a regression target: a finite JSON number or numeric text (blanks
/// trimmed); a one-element list is read as its element. Anything else —
/// booleans, words, `NaN`, infinities — is `None`.
pub fn parse_target(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        Value::Array(a) if a.len() == 1 => return parse_target(&a[0]),
        _ => return None,
    };
    x.is_finite().then_some(x)
}

/// Whether a label value counts as absent rather than unrecognised.
pub(super) fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Reads records, scores the labelled ones and keeps (score, label, flag) —
/// or, for a regression, (raw output, target).
pub struct Evaluator<'e> {
    engine: &'e mut Engine,
    label: String,
    task: Task,
    result: BatchResult,
    /// Scores of the evaluated events, in input order.
    pub scores: Vec<f64>,
    /// Their labels (classification).
    pub labels: Vec<u8>,
    /// The engine's flags.
    pub flags: Vec<u8>,
    /// Raw outputs of the evaluated events (regression).
    pub raws: Vec<f64>,
    /// Their targets (regression).
    pub targets: Vec<f64>,
    /// Running counts.
    pub counts: Counts,
    /// Field names of the first readable event (for the "no label" error).
    first_fields: Option<Vec<String>>,
}

impl<'e> Evaluator<'e> {
    /// An evaluator of the classifier `engine` against the labels in field `label`.
    pub fn new(engine: &'e mut Engine, label: &str) -> Self {
        Self::for_task(engine, label, Task::Classification)
    }

    /// An evaluator of `engine` as a `task` against field `label`.
    pub fn for_task(engine: &'e mut Engine, label: &str, task: Task) -> Self {
        Evaluator {
            engine,
            label: label.to_string(),
            task,
            result: BatchResult::default(),
            scores: Vec::new(),
            labels: Vec::new(),
            flags: Vec::new(),
            raws: Vec::new(),
            targets: Vec::new(),
            counts: Counts::default(),
            first_fields: None,
        }
    }

    fn read_label(&self, v: &Value) -> Option<f64> {
        match self.task {
            Task::Classification => parse_label(v).map(f64::from),
            Task::Regression => parse_target(v),
        }
    }

    /// Sort a batch of records, score the labelled events, keep the results.
    pub fn add_batch(&mut self, records: &[Record]) {
        let mut events: Vec<&Map<String, Value>> = Vec::with_capacity(records.len());
        let mut kept: Vec<(u64, f64)> = Vec::with_capacity(records.len());
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
                Some(v) => match self.read_label(v) {
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
            let (s, raw) = (self.result.score[i], self.result.raw[i]);
            if s.is_nan() || (self.task == Task::Regression && !raw.is_finite()) {
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
            match self.task {
                Task::Classification => {
                    self.scores.push(s);
                    self.labels.push(label as u8);
                    self.flags.push(self.result.flag[i]);
                }
                Task::Regression => {
                    self.scores.push(s);
                    self.raws.push(raw);
                    self.targets.push(label);
                }
            }
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
                let expected = match self.task {
                    Task::Classification => "expected 1/0, true/false, yes/no or t/f",
                    Task::Regression => "the model is a regression: expected a number",
                };
                let _ = write!(msg, " (e.g. {ex}; {expected})");
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
        let metrics = match self.task {
            Task::Classification => classification_metrics(&self.scores, &self.labels, threshold),
            Task::Regression => regression_metrics(&self.raws, &self.targets),
        };
        Ok(Measured {
            task: self.task,
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
    /// Classification or regression.
    pub task: Task,
    /// The threshold in force.
    pub threshold: f64,
    /// ROC AUC, precision, recall, FPR, or R² and RMSE (scorer-core's evaluation).
    pub metrics: EvalMetrics,
    /// Confusion matrix of the engine's flags (all zero for a regression).
    pub confusion: Confusion,
    /// Counts.
    pub counts: Counts,
    /// Evaluated scores.
    pub scores: Vec<f64>,
    /// Their labels (classification; empty for a regression).
    pub labels: Vec<u8>,
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
    fn targets_are_finite_numbers() {
        assert_eq!(parse_target(&json!(12.5)), Some(12.5));
        assert_eq!(parse_target(&json!(" -3 ")), Some(-3.0));
        assert_eq!(parse_target(&json!(["7"])), Some(7.0));
        assert_eq!(parse_target(&json!("1e2")), Some(100.0));
        for v in [
            json!(true),
            json!("ten"),
            json!("NaN"),
            json!("inf"),
            json!([1, 2]),
            json!({}),
        ] {
            assert_eq!(parse_target(&v), None, "{v}");
        }
    }
}
