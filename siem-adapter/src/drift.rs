//! The drift monitor of a run: it sits between the scoring workers and the
//! sink, sees every block in input order, and keeps the sliding window of
//! drift counts the policy judges ([`scorer_core::drift`] does the
//! statistics, so every runtime agrees).
//!
//! - Each block is judged on the window that ends with it: the latest
//!   `window` events (at least `min_rows` scored ones). The first blocks wait
//!   until the window has `min_rows` events — or the input ends, when a
//!   shorter run is reported as *insufficient* and nothing is marked.
//! - While the window is in drift, action `flag` marks each scored event
//!   `model_drift=1`; `suppress` also turns its `anomaly_flag` to 0 and adds
//!   `risk_error` saying why; `fail` stops the run with the report.
//! - Every `window` events, and at the end, the window is reported: a log
//!   line, the metrics' drift gauges and — when it is watched or drifting
//!   under `flag` or `suppress` — a summary event with sourcetype
//!   `riskscore:drift` to the run's destination.
//!
//! Marks are inserted into the rendered bytes at offsets the renderer
//! recorded ([`Mark`]), so a stable run costs nothing but the counting.

use scorer_core::baseline::Baseline;
use scorer_core::drift::{
    report, Assessment, DriftAction, DriftPolicy, DriftReport, DriftStatus, DriftWindow,
};
use serde_json::{json, Value};

use crate::engine::Description;
use crate::pipeline::worker::Block;
use crate::render::{Mark, OutputFields, Renderer};

/// The sourcetype of drift summary events.
pub const SOURCETYPE: &str = "riskscore:drift";

/// The run stopped because the window drifted (action `fail`).
#[derive(Debug, thiserror::Error)]
#[error("model drift (action fail) at event {at}: {}", .assessment.summary())]
pub struct DriftFailure {
    /// Events written before the run stopped.
    pub at: u64,
    /// The verdict.
    pub assessment: Assessment,
    /// The window's statistics.
    pub report: DriftReport,
}

/// A window's report, as logged and sent.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WindowReport {
    /// `window` for a periodic report, `run` for the whole run.
    pub scope: &'static str,
    /// Events of the run read up to the report.
    pub through_event: u64,
    /// The verdict.
    pub assessment: Assessment,
    /// The statistics.
    pub report: DriftReport,
}

/// Watches a run's drift.
pub struct DriftMonitor {
    policy: DriftPolicy,
    baseline: Baseline,
    features: Vec<(String, String)>,
    model_id: String,
    window: DriftWindow,
    pending: Vec<Block>,
    pending_read: u64,
    read: u64,
    next_report: u64,
    status: DriftStatus,
    drift_kv: Vec<u8>,
    error_key: Vec<u8>,
    renderer: Option<Renderer>,
    /// Reports made so far (periodic ones, and the run's at the end).
    pub reports: Vec<WindowReport>,
}

impl DriftMonitor {
    /// A monitor for the model of `desc` (`None` when it has no baseline).
    pub fn new(desc: &Description, policy: DriftPolicy, fields: &OutputFields) -> Option<Self> {
        let baseline = desc.baseline.clone()?;
        let empty = scorer_core::drift::DriftCounts::new(&baseline, desc.features.len());
        let key = |k: &str| {
            let mut v = b",".to_vec();
            v.extend_from_slice(&serde_json::to_vec(k).expect("a string serializes"));
            v.push(b':');
            v
        };
        let mut drift_kv = key(&fields.drift);
        drift_kv.push(b'1');
        Some(DriftMonitor {
            features: desc
                .features
                .iter()
                .map(|f| (f.display_name().to_string(), f.field.clone()))
                .collect(),
            model_id: desc.id.clone(),
            window: DriftWindow::new(empty, policy.window),
            next_report: policy.window,
            policy,
            baseline,
            pending: Vec::new(),
            pending_read: 0,
            read: 0,
            status: DriftStatus::Insufficient,
            drift_kv,
            error_key: key(&fields.error),
            renderer: None,
            reports: Vec::new(),
        })
    }

    /// Render summary events as `renderer` renders the run's events (JSON
    /// lines or HEC envelopes); without one, none are emitted.
    pub fn with_renderer(mut self, renderer: Renderer) -> Self {
        self.renderer = Some(renderer);
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &DriftPolicy {
        &self.policy
    }

    /// Take the next block (in input order); blocks ready to be written go to
    /// `out`, reports due to `reports`.
    pub fn admit(
        &mut self,
        block: Block,
        out: &mut Vec<Block>,
        reports: &mut Vec<WindowReport>,
    ) -> Result<(), Box<DriftFailure>> {
        if let Some(c) = &block.drift {
            if let Err(e) = self.window.push(c.clone()) {
                tracing::error!(error = %e, "drift counts of a block dropped");
            }
        }
        self.pending_read += block.counts.read;
        self.pending.push(block);
        let filling = self.window.window().rows < self.policy.min_rows;
        if filling && self.pending_read < self.policy.window {
            return Ok(());
        }
        self.release(out, reports)
    }

    /// The end of the input: release what is held and report the run.
    pub fn finish(
        &mut self,
        out: &mut Vec<Block>,
        reports: &mut Vec<WindowReport>,
    ) -> Result<(), Box<DriftFailure>> {
        if !self.pending.is_empty() {
            self.release(out, reports)?;
        }
        let run = self.report(self.window.run());
        let assessment = self.policy.assess(&run);
        self.log("run", &assessment);
        let r = WindowReport {
            scope: "run",
            through_event: self.read,
            assessment,
            report: run,
        };
        self.reports.push(r.clone());
        reports.push(r);
        Ok(())
    }

    fn report(&self, counts: &scorer_core::drift::DriftCounts) -> DriftReport {
        // Shapes were fixed from this model's baseline: report cannot fail.
        report(&self.baseline, &self.features, counts).unwrap_or_else(|e| {
            tracing::error!(error = %e, "drift report");
            DriftReport {
                rows: 0,
                columns: Vec::new(),
                score: scorer_core::drift::compare(&self.baseline.score, &[]),
                missing: Vec::new(),
            }
        })
    }

    fn release(
        &mut self,
        out: &mut Vec<Block>,
        reports: &mut Vec<WindowReport>,
    ) -> Result<(), Box<DriftFailure>> {
        let window = self.report(self.window.window());
        let assessment = self.policy.assess(&window);
        if assessment.status != self.status {
            let at = self.read;
            match assessment.status {
                DriftStatus::Drift => {
                    tracing::warn!(at, model = %self.model_id, "model drift begins: {}", assessment.summary())
                }
                _ if self.status == DriftStatus::Drift => {
                    tracing::warn!(at, model = %self.model_id, "model drift ends: {}", assessment.summary())
                }
                _ => {}
            }
            self.status = assessment.status;
        }
        if assessment.status == DriftStatus::Drift && self.policy.action == DriftAction::Fail {
            return Err(Box::new(DriftFailure {
                at: self.read,
                assessment,
                report: window,
            }));
        }
        let marking = assessment.status == DriftStatus::Drift
            && matches!(
                self.policy.action,
                DriftAction::Flag | DriftAction::Suppress
            );
        let error = self.error_kv(&assessment);
        for mut b in self.pending.drain(..) {
            if marking {
                patch(&mut b, &self.drift_kv, error.as_deref());
            }
            self.read += b.counts.read;
            out.push(b);
        }
        self.pending_read = 0;
        if self.read >= self.next_report {
            while self.next_report <= self.read {
                self.next_report += self.policy.window;
            }
            self.log("window", &assessment);
            let r = WindowReport {
                scope: "window",
                through_event: self.read,
                assessment,
                report: window,
            };
            self.reports.push(r.clone());
            reports.push(r);
        }
        Ok(())
    }

    fn error_kv(&self, a: &Assessment) -> Option<Vec<u8>> {
        (self.policy.action == DriftAction::Suppress).then(|| {
            let mut v = self.error_key.clone();
            let text = format!("anomaly_flag suppressed: model drift ({})", a.summary());
            v.extend_from_slice(&serde_json::to_vec(&text).expect("a string serializes"));
            v
        })
    }

    fn log(&self, scope: &str, a: &Assessment) {
        let model = &self.model_id;
        match a.status {
            DriftStatus::Drift | DriftStatus::Watch => {
                tracing::warn!(%model, scope, max_psi = a.max_psi, "drift window report: {}", a.summary())
            }
            _ => {
                tracing::info!(%model, scope, max_psi = a.max_psi, "drift window report: {}", a.summary())
            }
        }
    }

    /// The summary event of `r` for the destination, rendered, when there
    /// is one: the window is watched or drifting under `flag` or `suppress`.
    pub fn summary_bytes(&self, r: &WindowReport) -> Option<Vec<u8>> {
        let emits = r.assessment.status >= DriftStatus::Watch
            && matches!(
                self.policy.action,
                DriftAction::Flag | DriftAction::Suppress
            );
        let renderer = self.renderer.as_ref().filter(|_| emits)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let mut out = Vec::new();
        renderer.side_event(&mut out, SOURCETYPE, now, &self.summary_event(r));
        Some(out)
    }

    /// The summary event of `r`.
    pub fn summary_event(&self, r: &WindowReport) -> Value {
        let columns: Vec<Value> = r
            .report
            .columns
            .iter()
            .chain(std::iter::once(&r.report.score))
            .map(|c| json!({"column": c.name, "psi": round(c.psi), "ks": round(c.ks)}))
            .collect();
        json!({
            "risk_model": self.model_id,
            "drift_scope": r.scope,
            "drift_status": r.assessment.status.as_str(),
            "drift_action": self.policy.action.as_str(),
            "drift_summary": r.assessment.summary(),
            "through_event": r.through_event,
            "window_events": r.report.rows,
            "max_psi": round(r.assessment.max_psi),
            "findings": r.assessment.findings,
            "columns": columns,
        })
    }
}

fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Mark every scored event of `block`: insert `drift_kv` (and `error_kv`,
/// which also turns a raised flag to 0) before the event object's brace.
pub fn patch(block: &mut Block, drift_kv: &[u8], error_kv: Option<&[u8]>) {
    let extra = drift_kv.len() + error_kv.map_or(0, <[u8]>::len);
    let mut bytes = Vec::with_capacity(block.bytes.len() + block.ends.len() * extra);
    let mut start = 0;
    for (i, end) in block.ends.iter_mut().enumerate() {
        let ev = &block.bytes[start..*end];
        start = *end;
        let mark = block.marks.get(i).copied().unwrap_or(Mark::NONE);
        let at = bytes.len();
        if mark.close == u32::MAX || mark.close as usize >= ev.len() {
            bytes.extend_from_slice(ev);
        } else {
            let close = mark.close as usize;
            bytes.extend_from_slice(&ev[..close]);
            if let Some(e) = error_kv {
                bytes.extend_from_slice(e);
                if let Some(f) = bytes.get_mut(at + mark.flag as usize) {
                    if *f == b'1' {
                        *f = b'0';
                        block.counts.flagged -= 1;
                    }
                }
                block.counts.suppressed += 1;
            }
            bytes.extend_from_slice(drift_kv);
            bytes.extend_from_slice(&ev[close..]);
            block.counts.drifted += 1;
            block.marks[i] = Mark::NONE; // marked once
        }
        *end = bytes.len();
    }
    block.bytes = bytes;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Envelope, Verdict};

    fn block(envelope: Option<Envelope>) -> Block {
        let r = Renderer::new(OutputFields::default(), "m@1", envelope);
        let mut b = Block::default();
        let scored = |flag| Verdict::Scored {
            score: 0.75,
            flag,
            reasons: None,
            missing: vec![],
        };
        for (obj, flag, collides) in [
            (r#"{"a":1}"#, 1, false),
            (r#"{"anomaly_flag":"x","b":"}"}"#, 1, true),
            (r#"{}"#, 0, false),
        ] {
            let m = r.event(
                &mut b.bytes,
                obj,
                obj == "{}",
                collides,
                &scored(flag),
                None,
            );
            b.marks.push(m);
            b.ends.push(b.bytes.len());
            b.counts.scored += 1;
            b.counts.flagged += u64::from(flag);
        }
        r.unreadable(&mut b.bytes, b"oops", "line 4: bad");
        b.marks.push(Mark::NONE);
        b.ends.push(b.bytes.len());
        b
    }

    fn lines(b: &Block) -> Vec<Value> {
        b.bytes
            .split(|c| *c == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect()
    }

    #[test]
    fn flag_and_suppress_patch_scored_events_only() {
        let mut b = block(None);
        patch(&mut b, b",\"model_drift\":1", None);
        let v = lines(&b);
        assert_eq!(v.len(), 4);
        assert!(v[..3].iter().all(|e| e["model_drift"] == 1), "{v:?}");
        assert_eq!(v[3].get("model_drift"), None);
        assert_eq!(v[0]["anomaly_flag"], 1);
        assert_eq!((b.counts.drifted, b.counts.flagged), (3, 2));

        for env in [None, Some(Envelope::default())] {
            let mut b = block(env.clone());
            patch(
                &mut b,
                b",\"model_drift\":1",
                Some(b",\"risk_error\":\"held\""),
            );
            let v = lines(&b);
            let ev = |i: usize| {
                if env.is_some() {
                    v[i]["event"].clone()
                } else {
                    v[i].clone()
                }
            };
            for i in 0..3 {
                assert_eq!(ev(i)["anomaly_flag"], 0, "{:?}", ev(i));
                assert_eq!(ev(i)["risk_error"], "held");
                assert_eq!(ev(i)["model_drift"], 1);
            }
            assert_eq!(ev(1)["b"], "}");
            assert_eq!(ev(3)["risk_error"], "line 4: bad");
            assert_eq!((b.counts.flagged, b.counts.suppressed), (0, 3));
            assert_eq!(*b.ends.last().unwrap(), b.bytes.len());
        }
    }
}
