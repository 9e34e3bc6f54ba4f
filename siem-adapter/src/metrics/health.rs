//! Model-health gauges shared by `score --metrics-file` and `serve`'s
//! `/metrics`: score quantiles, the flagged rate and the drift of the latest
//! window (per-feature PSI and KS, missing shares, status).

use std::fmt::Write as _;
use std::sync::Mutex;

use scorer_core::drift::{DriftReport, DriftStatus};

/// Bins of the score histogram behind the quantiles (resolution 0.001).
const SCORE_BINS: usize = 1000;

/// The quantiles exposed.
const QUANTILES: [f64; 5] = [0.1, 0.5, 0.9, 0.95, 0.99];

#[derive(Debug)]
struct Scores {
    bins: Vec<u64>,
    sum: f64,
    count: u64,
}

/// The latest drift report and its status.
#[derive(Debug, Clone)]
struct Drift {
    report: DriftReport,
    status: DriftStatus,
    max_psi: f64,
}

/// Score distribution and drift gauges of one model.
#[derive(Debug)]
pub struct ModelHealth {
    scores: Mutex<Scores>,
    drift: Mutex<Option<Drift>>,
}

impl Default for ModelHealth {
    fn default() -> Self {
        ModelHealth {
            scores: Mutex::new(Scores {
                bins: vec![0; SCORE_BINS],
                sum: 0.0,
                count: 0,
            }),
            drift: Mutex::new(None),
        }
    }
}

impl ModelHealth {
    /// Count scores (each in 0..=1; NaN is skipped).
    pub fn record_scores(&self, scores: &[f32]) {
        if scores.is_empty() {
            return;
        }
        let Ok(mut s) = self.scores.lock() else {
            return;
        };
        for &x in scores.iter().filter(|x| !x.is_nan()) {
            let i = ((x.clamp(0.0, 1.0) * SCORE_BINS as f32) as usize).min(SCORE_BINS - 1);
            s.bins[i] += 1;
            s.sum += f64::from(x);
            s.count += 1;
        }
    }

    /// Keep `report` (judged `status`) as the latest drift.
    pub fn set_drift(&self, report: &DriftReport, status: DriftStatus, max_psi: f64) {
        if let Ok(mut d) = self.drift.lock() {
            *d = Some(Drift {
                report: report.clone(),
                status,
                max_psi,
            });
        }
    }

    /// The `q` quantile of the scores seen (upper edge of its bin).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let s = self.scores.lock().ok()?;
        quantile(&s.bins, s.count, q)
    }

    /// Append the gauges (labels `labels`, e.g. `model="m@1",engine="wasm"`);
    /// `flagged` and `scored` give the flagged rate.
    pub fn render(&self, out: &mut String, labels: &str, flagged: u64, scored: u64) {
        if let Ok(s) = self.scores.lock() {
            let name = "riskscore_score";
            let _ = writeln!(
                out,
                "# HELP {name} Risk scores given (quantiles to 0.001).\n# TYPE {name} summary"
            );
            for q in QUANTILES {
                if let Some(v) = quantile(&s.bins, s.count, q) {
                    let _ = writeln!(out, "{name}{{{labels},quantile=\"{q}\"}} {v}");
                }
            }
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", s.count);
        }
        let rate = if scored == 0 {
            0.0
        } else {
            flagged as f64 / scored as f64
        };
        gauge(
            out,
            "riskscore_flagged_ratio",
            "Share of scored events with anomaly_flag=1.",
        );
        let _ = writeln!(out, "riskscore_flagged_ratio{{{labels}}} {rate}");
        let Ok(d) = self.drift.lock() else { return };
        let Some(d) = d.as_ref() else { return };
        gauge(
            out,
            "riskscore_drift_status",
            "Drift of the latest window: -1 too few events, 0 stable, 1 watch, 2 drift.",
        );
        let _ = writeln!(
            out,
            "riskscore_drift_status{{{labels}}} {}",
            d.status.level()
        );
        gauge(
            out,
            "riskscore_drift_window_events",
            "Events in the latest drift window.",
        );
        let _ = writeln!(
            out,
            "riskscore_drift_window_events{{{labels}}} {}",
            d.report.rows
        );
        gauge(
            out,
            "riskscore_drift_max_psi",
            "Largest PSI of the latest window.",
        );
        let _ = writeln!(out, "riskscore_drift_max_psi{{{labels}}} {}", d.max_psi);
        gauge(
            out,
            "riskscore_drift_psi",
            "Population stability index of a feature column (or the score) against training.",
        );
        let columns = d
            .report
            .columns
            .iter()
            .chain(std::iter::once(&d.report.score));
        for c in columns.clone() {
            let _ = writeln!(
                out,
                "riskscore_drift_psi{{{labels},feature=\"{}\"}} {}",
                escape(&c.name),
                c.psi
            );
        }
        gauge(
            out,
            "riskscore_drift_ks",
            "Binned two-sample KS statistic against training.",
        );
        for c in columns {
            let _ = writeln!(
                out,
                "riskscore_drift_ks{{{labels},feature=\"{}\"}} {}",
                escape(&c.name),
                c.ks
            );
        }
        gauge(
            out,
            "riskscore_drift_missing_share",
            "Share of the window's events missing a field the model reads.",
        );
        let mut seen: Vec<&str> = Vec::new();
        for m in &d.report.missing {
            if !seen.contains(&m.field.as_str()) {
                seen.push(&m.field);
                let _ = writeln!(
                    out,
                    "riskscore_drift_missing_share{{{labels},field=\"{}\"}} {}",
                    escape(&m.field),
                    m.window
                );
            }
        }
    }
}

fn gauge(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

fn quantile(bins: &[u64], count: u64, q: f64) -> Option<f64> {
    if count == 0 {
        return None;
    }
    let rank = ((q * count as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (i, b) in bins.iter().enumerate() {
        seen += b;
        if seen >= rank {
            return Some((i + 1) as f64 / bins.len() as f64);
        }
    }
    Some(1.0)
}

/// A label value escaped for the text format.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_drift_gauges() {
        let h = ModelHealth::default();
        let s: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        h.record_scores(&s);
        assert_eq!(h.quantile(0.5), Some(0.5));
        assert_eq!(h.quantile(0.99), Some(0.99));
        let mut out = String::new();
        h.render(&mut out, "model=\"m\"", 5, 10);
        assert!(
            out.contains("riskscore_score{model=\"m\",quantile=\"0.9\"} 0.9"),
            "{out}"
        );
        assert!(out.contains("riskscore_flagged_ratio{model=\"m\"} 0.5"));
        assert!(!out.contains("riskscore_drift_psi"));
    }
}
