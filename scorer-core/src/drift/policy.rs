//! What counts as drift, and what to do about it: the artifact's
//! [`DriftPolicy`] (overridable per run) and its [`Assessment`] of a
//! [`DriftReport`].
//!
//! A window is judged on every feature column and on the score distribution:
//! PSI at or over `psi_watch` is *watch*, at or over `psi_drift` is *drift*;
//! a binned KS statistic at or over `ks_drift` is *drift*; a field missing in
//! a share of the window at least `missing_drift` above its training share is
//! *drift*. Fewer than `min_rows` rows is *insufficient*: too few to judge,
//! never a drift.

use serde::{Deserialize, Serialize};

use super::DriftReport;
use crate::{Error, Result};

/// What a run does while the window is in drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftAction {
    /// Measure and report only; events are not marked.
    Report,
    /// Events keep their scores and gain `model_drift=1`; drift summaries are emitted.
    #[default]
    Flag,
    /// No `anomaly_flag` is raised while drift lasts; `risk_error` says why.
    Suppress,
    /// The run stops with a drift report.
    Fail,
}

impl DriftAction {
    /// The lowercase name, as in the artifact.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftAction::Report => "report",
            DriftAction::Flag => "flag",
            DriftAction::Suppress => "suppress",
            DriftAction::Fail => "fail",
        }
    }
}

impl std::str::FromStr for DriftAction {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "report" => Ok(DriftAction::Report),
            "flag" => Ok(DriftAction::Flag),
            "suppress" => Ok(DriftAction::Suppress),
            "fail" => Ok(DriftAction::Fail),
            other => Err(format!(
                "unknown drift action `{other}` (report, flag, suppress, fail)"
            )),
        }
    }
}

fn d_psi_watch() -> f64 {
    0.1
}
fn d_psi_drift() -> f64 {
    0.25
}
fn d_ks_drift() -> Option<f64> {
    Some(0.2)
}
fn d_missing_drift() -> f64 {
    0.2
}
fn d_window() -> u64 {
    5000
}
fn d_min_rows() -> u64 {
    500
}

/// Drift thresholds and action, stored in the artifact (`"drift": {...}`).
/// Every field has a default, so `{}` is the default policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftPolicy {
    /// PSI from which a column is watched.
    #[serde(default = "d_psi_watch")]
    pub psi_watch: f64,
    /// PSI from which a column has drifted.
    #[serde(default = "d_psi_drift")]
    pub psi_drift: f64,
    /// Binned two-sample KS from which a column has drifted (`null`: not used).
    #[serde(default = "d_ks_drift")]
    pub ks_drift: Option<f64>,
    /// Rise of a field's missing share over its training share that is drift.
    #[serde(default = "d_missing_drift")]
    pub missing_drift: f64,
    /// Events in the sliding window that is judged.
    #[serde(default = "d_window")]
    pub window: u64,
    /// Fewest scored events a window needs to be judged.
    #[serde(default = "d_min_rows")]
    pub min_rows: u64,
    /// What to do while the window is in drift.
    #[serde(default)]
    pub action: DriftAction,
}

impl Default for DriftPolicy {
    fn default() -> Self {
        DriftPolicy {
            psi_watch: d_psi_watch(),
            psi_drift: d_psi_drift(),
            ks_drift: d_ks_drift(),
            missing_drift: d_missing_drift(),
            window: d_window(),
            min_rows: d_min_rows(),
            action: DriftAction::default(),
        }
    }
}

/// How a window stands, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftStatus {
    /// Fewer rows than `min_rows`: not judged.
    Insufficient,
    /// Nothing over a threshold.
    Stable,
    /// Some PSI over `psi_watch`.
    Watch,
    /// Some statistic over its drift threshold.
    Drift,
}

impl DriftStatus {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftStatus::Insufficient => "insufficient",
            DriftStatus::Stable => "stable",
            DriftStatus::Watch => "watch",
            DriftStatus::Drift => "drift",
        }
    }

    /// A number for gauges: -1 insufficient, 0 stable, 1 watch, 2 drift.
    pub fn level(self) -> i32 {
        self as i32 - 1
    }
}

/// One statistic over a threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Feature column, `score`, or (for missing shares) the event field.
    pub column: String,
    /// `psi`, `ks` or `missing`.
    pub statistic: &'static str,
    /// Its value (for `missing`: the window's share).
    pub value: f64,
    /// The threshold it reached.
    pub limit: f64,
    /// `watch` or `drift`.
    pub status: DriftStatus,
}

/// A policy's verdict on a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// Rows in the window.
    pub rows: u64,
    /// The worst status found.
    pub status: DriftStatus,
    /// Largest PSI over the feature columns and the score.
    pub max_psi: f64,
    /// Statistics over a threshold, drift first, then by value.
    pub findings: Vec<Finding>,
}

impl Assessment {
    /// One line: the status and the first three findings, e.g.
    /// `drift: score PSI 0.412 ≥ 0.25; bytes_out KS 0.31 ≥ 0.2 (+2 more)`.
    pub fn summary(&self) -> String {
        let mut s = format!("{} over {} events", self.status.as_str(), self.rows);
        for (i, f) in self.findings.iter().take(3).enumerate() {
            s.push_str(if i == 0 { ": " } else { "; " });
            let what = match f.statistic {
                "psi" => "PSI",
                "ks" => "KS",
                _ => "missing share",
            };
            s.push_str(&format!("{} {what} {:.3} ≥ {}", f.column, f.value, f.limit));
        }
        if self.findings.len() > 3 {
            s.push_str(&format!(" (+{} more)", self.findings.len() - 3));
        }
        s
    }
}

impl DriftPolicy {
    /// Check the thresholds are usable.
    pub fn validate(&self) -> Result<()> {
        let bad = |path: &str, why: &str| Err(Error::invalid(format!("drift.{path}"), why));
        if !(self.psi_watch > 0.0 && self.psi_watch.is_finite()) {
            return bad("psi_watch", "must be a positive number");
        }
        if !(self.psi_drift >= self.psi_watch && self.psi_drift.is_finite()) {
            return bad("psi_drift", "must be a number ≥ psi_watch");
        }
        if let Some(k) = self.ks_drift {
            if !(k > 0.0 && k <= 1.0) {
                return bad("ks_drift", "must be in (0, 1]");
            }
        }
        if !(self.missing_drift > 0.0 && self.missing_drift <= 1.0) {
            return bad("missing_drift", "must be in (0, 1]");
        }
        if self.min_rows == 0 {
            return bad("min_rows", "must be at least 1");
        }
        if self.window < self.min_rows {
            return bad("window", "must be at least min_rows");
        }
        Ok(())
    }

    /// Judge `report` by this policy.
    pub fn assess(&self, report: &DriftReport) -> Assessment {
        let mut findings = Vec::new();
        let mut max_psi: f64 = 0.0;
        for c in report.columns.iter().chain(std::iter::once(&report.score)) {
            max_psi = max_psi.max(c.psi);
            if c.psi >= self.psi_drift {
                findings.push(finding(&c.name, "psi", c.psi, self.psi_drift, true));
            } else if c.psi >= self.psi_watch {
                findings.push(finding(&c.name, "psi", c.psi, self.psi_watch, false));
            }
            if let Some(k) = self.ks_drift.filter(|k| c.ks >= *k) {
                findings.push(finding(&c.name, "ks", c.ks, k, true));
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for m in &report.missing {
            if seen.contains(&m.field.as_str()) {
                continue; // several features of one field: judge the field once
            }
            seen.push(&m.field);
            if m.window - m.baseline >= self.missing_drift {
                findings.push(finding(
                    &m.field,
                    "missing",
                    m.window,
                    m.baseline + self.missing_drift,
                    true,
                ));
            }
        }
        findings.sort_by(|a, b| b.status.cmp(&a.status).then(b.value.total_cmp(&a.value)));
        let status = if report.rows < self.min_rows {
            DriftStatus::Insufficient
        } else {
            findings.first().map_or(DriftStatus::Stable, |f| f.status)
        };
        Assessment {
            rows: report.rows,
            status,
            max_psi,
            findings,
        }
    }
}

fn finding(column: &str, statistic: &'static str, value: f64, limit: f64, drift: bool) -> Finding {
    Finding {
        column: column.to_string(),
        statistic,
        value,
        limit,
        status: if drift {
            DriftStatus::Drift
        } else {
            DriftStatus::Watch
        },
    }
}
