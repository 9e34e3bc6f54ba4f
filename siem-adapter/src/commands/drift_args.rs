//! The drift options every scoring command shares: the artifact's policy,
//! overridden per run.

use std::path::PathBuf;

use anyhow::{bail, Result};
use scorer_core::drift::{DriftAction, DriftPolicy};

/// Drift monitoring of a run (defaults: the artifact's `drift` policy).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DriftArgs {
    /// While the window has drifted: `flag` (events gain model_drift=1, summary events
    /// go to the destination), `suppress` (no anomaly_flag; risk_error says why),
    /// `fail` (stop with a report), `report` (measure only) or `off`.
    #[arg(long, value_name = "ACTION")]
    pub drift: Option<String>,
    /// PSI from which a feature is watched.
    #[arg(long, value_name = "PSI")]
    pub drift_psi_watch: Option<f64>,
    /// PSI from which a feature has drifted.
    #[arg(long, value_name = "PSI")]
    pub drift_psi: Option<f64>,
    /// Binned KS statistic from which a feature has drifted (0 turns the KS test off).
    #[arg(long, value_name = "KS")]
    pub drift_ks: Option<f64>,
    /// Rise of a field's missing share over training that is drift.
    #[arg(long, value_name = "SHARE")]
    pub drift_missing: Option<f64>,
    /// Events in the sliding window that is judged (and between window reports).
    #[arg(long, value_name = "EVENTS")]
    pub drift_window: Option<u64>,
    /// Fewest scored events a window needs to be judged.
    #[arg(long, value_name = "EVENTS")]
    pub drift_min_events: Option<u64>,
    /// Write every window report and the run's as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub drift_report: Option<PathBuf>,
}

impl DriftArgs {
    /// The policy in force, from the artifact's `base`; `None` when turned off.
    pub fn policy(&self, base: &DriftPolicy) -> Result<Option<DriftPolicy>> {
        let mut p = base.clone();
        match self.drift.as_deref().map(str::trim) {
            Some("off") => return Ok(None),
            Some(a) => p.action = a.parse::<DriftAction>().map_err(anyhow::Error::msg)?,
            None => {}
        }
        if let Some(v) = self.drift_psi_watch {
            p.psi_watch = v;
        }
        if let Some(v) = self.drift_psi {
            p.psi_drift = v;
            p.psi_watch = p.psi_watch.min(v);
        }
        if let Some(v) = self.drift_ks {
            p.ks_drift = (v > 0.0).then_some(v);
        }
        if let Some(v) = self.drift_missing {
            p.missing_drift = v;
        }
        if let Some(v) = self.drift_min_events {
            p.min_rows = v;
            p.window = p.window.max(v);
        }
        if let Some(v) = self.drift_window {
            p.window = v;
            if self.drift_min_events.is_none() {
                p.min_rows = p.min_rows.min(v);
            }
        }
        if let Err(e) = p.validate() {
            bail!("drift options: {e}");
        }
        Ok(Some(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_off() {
        let base = DriftPolicy::default();
        let a = DriftArgs {
            drift: Some("suppress".into()),
            drift_psi: Some(0.05),
            drift_ks: Some(0.0),
            drift_window: Some(100),
            ..DriftArgs::default()
        };
        let p = a.policy(&base).unwrap().unwrap();
        assert_eq!(p.action, DriftAction::Suppress);
        assert_eq!((p.psi_watch, p.psi_drift, p.ks_drift), (0.05, 0.05, None));
        assert_eq!((p.window, p.min_rows), (100, 100));
        let off = DriftArgs {
            drift: Some("off".into()),
            ..DriftArgs::default()
        };
        assert!(off.policy(&base).unwrap().is_none());
        let bad = DriftArgs {
            drift: Some("panic".into()),
            ..DriftArgs::default()
        };
        assert!(bad.policy(&base).is_err());
    }
}
