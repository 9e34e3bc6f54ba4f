//! A loaded model and its reused buffers, scoring wire batches: the one code
//! path behind the host ABI's `rs_score` (wasmtime hosts) and the browser's
//! `scoreColumns` / `explainColumns`. Plain Rust, so it is unit-tested natively.

use scorer_core::drift::DriftCounts;
use scorer_core::lines::{FieldPlan, LineBatch, LineKind};
use scorer_core::{FeatureBatch, Model, Scores};

use crate::wire::{write_results, BatchView};

/// A model with its feature, score and drift buffers.
#[derive(Debug)]
pub struct Session {
    /// The model.
    pub model: Model,
    batch: FeatureBatch,
    scores: Scores,
    masks: Vec<u64>,
    n_fields: usize,
    drift: Option<DriftCounts>,
}

impl Session {
    /// A session over `model`.
    pub fn new(model: Model) -> Self {
        Session {
            batch: model.new_batch(),
            scores: Scores::default(),
            masks: Vec::new(),
            n_fields: model.fields().len(),
            drift: model.drift_counts(),
            model,
        }
    }

    fn featurize(&mut self, bytes: &[u8]) -> Result<usize, String> {
        let view = BatchView::parse(bytes, self.n_fields)?;
        self.batch.clear();
        // The batch is columnar: featurize it a feature at a time.
        self.model.push_columns(&mut self.batch, view.n_rows, &view);
        Ok(view.n_rows)
    }

    /// Score one batch (see [`crate::wire`]) into `out`, with the top
    /// `explain_k` reasons per row as JSON when `explain_k` > 0; with
    /// `track_drift`, count the rows into the drift window.
    pub fn score(
        &mut self,
        bytes: &[u8],
        explain_k: usize,
        track_drift: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let n = self.featurize(bytes)?;
        self.finish(n, explain_k, track_drift, out);
        Ok(())
    }

    /// Read and score whole JSON lines (`bytes`, newline-separated) the way
    /// `siem-adapter score` reads them (scorer-core's [`scorer_core::lines`]):
    /// what each line was goes to `lines`, the events' results (`RSR1`, one
    /// row per event line, in order) to `out`.
    pub fn score_lines(
        &mut self,
        plan: &FieldPlan,
        reader: &mut LineBatch,
        bytes: &[u8],
        track_drift: bool,
        lines: &mut Lines,
        out: &mut Vec<u8>,
    ) {
        lines.clear();
        reader.clear(plan);
        let mut at = 0;
        while at < bytes.len() {
            let nl = memchr::memchr(b'\n', &bytes[at..]);
            let next = nl.map_or(bytes.len(), |i| at + i + 1);
            let mut end = nl.map_or(bytes.len(), |i| at + i);
            while end > at && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            let line = &bytes[at..end];
            if line.iter().all(u8::is_ascii_whitespace) {
                lines.push(LINE_BLANK, 0, (at, end));
            } else {
                match reader.read_line(plan, line) {
                    LineKind::Event {
                        span,
                        empty,
                        collides,
                        ..
                    } => lines.push(
                        LINE_EVENT,
                        u8::from(empty) | (u8::from(collides) << 1),
                        (at + span.0, at + span.1),
                    ),
                    LineKind::Skip => lines.push(LINE_SKIP, 0, (at, end)),
                    LineKind::Expand(_) => lines.push(LINE_EXPAND, 0, (at, end)),
                    LineKind::Bad(e) => {
                        lines.push(LINE_BAD, 0, (at, end));
                        lines.errors.push(e);
                    }
                }
            }
            at = next;
        }
        self.batch.clear();
        for r in 0..reader.len() {
            self.model
                .push_indexed(&mut self.batch, |c| reader.field(r, c));
        }
        self.finish(reader.len(), 0, track_drift, out);
    }

    fn finish(&mut self, n: usize, explain_k: usize, track_drift: bool, out: &mut Vec<u8>) {
        self.model.score(&self.batch, &mut self.scores);
        if track_drift {
            if let (Some(d), Some(b)) = (&mut self.drift, &self.model.artifact().baseline) {
                d.add(b, &self.batch, &self.scores);
            }
        }
        self.masks.clear();
        for r in 0..n {
            self.masks.extend_from_slice(self.batch.mask(r));
        }
        let words = self.model.features().len().div_ceil(64);
        let reasons = if explain_k > 0 {
            let all: Vec<Vec<scorer_core::Reason>> = (0..n)
                .map(|r| self.model.explain(self.batch.row(r), explain_k))
                .collect();
            serde_json::to_string(&all).unwrap_or_default()
        } else {
            String::new()
        };
        write_results(out, &self.scores, &self.masks, words, &reasons);
    }

    /// The `risk_reasons` text of every row of a batch, as the hosts write it.
    pub fn explain(&mut self, bytes: &[u8], k: usize) -> Result<Vec<String>, String> {
        let n = self.featurize(bytes)?;
        Ok((0..n)
            .map(|r| scorer_core::format_reasons(&self.model.explain(self.batch.row(r), k)))
            .collect())
    }

    /// The drift window so far (`None` when the artifact has no baseline).
    pub fn drift(&self) -> Option<&DriftCounts> {
        self.drift.as_ref()
    }

    /// Start a new drift window.
    pub fn reset_drift(&mut self) {
        self.drift = self.model.drift_counts();
    }
}

/// A line that is an event.
pub const LINE_EVENT: u8 = 0;
/// A line that is blank (skipped).
pub const LINE_BLANK: u8 = 1;
/// A line that is not an event (export-stream preview rows, messages, `lastrow`).
pub const LINE_SKIP: u8 = 2;
/// An unreadable line (its reason is in [`Lines::errors`]).
pub const LINE_BAD: u8 = 3;
/// A Splunk results document on one line: its events are the caller's to read.
pub const LINE_EXPAND: u8 = 4;

/// What each line of a [`Session::score_lines`] call was.
#[derive(Debug, Default)]
pub struct Lines {
    /// Per line: `LINE_*`.
    pub kinds: Vec<u8>,
    /// Per line: bit 0 = the event object is empty, bit 1 = it already has a
    /// field the scorer writes.
    pub marks: Vec<u8>,
    /// Per line: byte range `[start, end)` in the input of the event object
    /// (an export row's `result`), or of the whole line.
    pub spans: Vec<u32>,
    /// The reasons of the unreadable lines, in order.
    pub errors: Vec<String>,
}

impl Lines {
    fn clear(&mut self) {
        self.kinds.clear();
        self.marks.clear();
        self.spans.clear();
        self.errors.clear();
    }

    fn push(&mut self, kind: u8, mark: u8, span: (usize, usize)) {
        self.kinds.push(kind);
        self.marks.push(mark);
        self.spans.push(span.0 as u32);
        self.spans.push(span.1 as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{BatchWriter, ResultsView};
    use scorer_core::{Field, LoadOptions, Value};

    const ART: &str = r#"{"format":"riskscore-model","format_version":1,
      "metadata":{"name":"demo","version":"1","created":"2026-01-01T00:00:00Z","approval":"draft"},
      "schema":{"features":[{"field":"failed_logins","transform":{"kind":"number"}}]},
      "estimator":{"type":"logistic_regression","weights":[0.5],"intercept":-3.0},
      "output":{"score":{"kind":"sigmoid"},"threshold":0.5},
      "baseline":{"rows":4,"columns":[{"name":"failed_logins","edges":[1.0],"counts":[2,2]}],
        "score":{"name":"score","edges":[0.1],"counts":[2,2]},"missing_rate":[0.0]}}"#;

    #[test]
    fn scores_explains_and_counts_drift() {
        let model = Model::load(ART.as_bytes(), &LoadOptions::development()).unwrap();
        let mut s = Session::new(model);
        let mut w = BatchWriter::default();
        w.reset(3, 1);
        w.set(0, 0, Field::one(Value::Text("12")));
        w.set(0, 1, Field::one(Value::Number(0.0)));
        w.set(0, 2, Field::MISSING);
        let batch = w.finish().to_vec();
        let mut out = Vec::new();
        s.score(&batch, 1, true, &mut out).unwrap();
        let r = ResultsView::parse(&out).unwrap();
        assert_eq!(r.n_rows, 3);
        assert_eq!(r.row(0).flag, 1);
        assert_eq!(r.row(1).flag, 0);
        assert_eq!(r.mask(2, 0), 1, "row 2 misses its one feature");
        let reasons = s.explain(&batch, 1).unwrap();
        assert!(reasons[0].starts_with("failed_logins(+"), "{reasons:?}");
        let d = s.drift().unwrap();
        assert_eq!((d.rows, d.missing[0]), (3, 1));
        assert_eq!(
            d.columns[0],
            vec![2, 1],
            "12 is above the edge; 0 and the default are not"
        );
        let report = s.model.drift_report(d).unwrap();
        assert!(report.columns[0].psi > 0.0);
        s.reset_drift();
        assert_eq!(s.drift().unwrap().rows, 0);
        assert!(s.score(b"RSB1", 0, false, &mut out).is_err());
    }

    #[test]
    fn lines_are_read_like_the_adapter_reads_them() {
        let model = Model::load(ART.as_bytes(), &LoadOptions::development()).unwrap();
        let mut s = Session::new(model);
        let plan = FieldPlan::new(&["failed_logins".to_string()], &["anomaly_flag"]);
        let mut reader = LineBatch::default();
        let (mut lines, mut out) = (Lines::default(), Vec::new());
        let input = concat!(
            "{\"failed_logins\": \"12\"}\r\n",
            "   \n",
            "{\"preview\":false,\"result\":{\"failed_logins\":0}}\n",
            "{\"bad\": \n",
            "{\"preview\":true,\"result\":{}}\n",
            "{\"results\":[{}]}\n",
            "{\"anomaly_flag\":1}"
        );
        s.score_lines(
            &plan,
            &mut reader,
            input.as_bytes(),
            false,
            &mut lines,
            &mut out,
        );
        assert_eq!(
            lines.kinds,
            [
                LINE_EVENT,
                LINE_BLANK,
                LINE_EVENT,
                LINE_BAD,
                LINE_SKIP,
                LINE_EXPAND,
                LINE_EVENT
            ]
        );
        assert_eq!(lines.marks[6], 2, "the last event already has anomaly_flag");
        let span = |i: usize| &input[lines.spans[2 * i] as usize..lines.spans[2 * i + 1] as usize];
        assert_eq!(span(0), "{\"failed_logins\": \"12\"}");
        assert_eq!(
            span(2),
            "{\"failed_logins\":0}",
            "an export row's event is its result"
        );
        assert!(
            lines.errors[0].starts_with("malformed JSON"),
            "{:?}",
            lines.errors
        );
        let r = ResultsView::parse(&out).unwrap();
        assert_eq!(r.n_rows, 3);
        assert_eq!((r.row(0).flag, r.row(1).flag), (1, 0));
    }
}
