//! Drift in the service: one sliding window per model in service, across
//! requests — every request's drift counts go in, and the window that ends
//! with the request is judged by the artifact's policy (overridable with
//! `--drift*`), as `siem-adapter score` judges its blocks. While it is in
//! drift, `flag` marks the request's scored events `model_drift=1`,
//! `suppress` also holds their `anomaly_flag` at 0 with `risk_error` saying
//! why, and `fail` answers 503 with the drift summary. `/metrics` shows the
//! window's per-feature PSI, KS and missing shares ([`crate::metrics::health`]).

use std::sync::Mutex;

use scorer_core::baseline::Baseline;
use scorer_core::drift::{
    report, Assessment, DriftAction, DriftCounts, DriftPolicy, DriftStatus, DriftWindow,
};
use serde_json::{Map, Value};

use crate::engine::Description;
use crate::metrics::health::ModelHealth;
use crate::render::OutputFields;

/// The drift window of one model in service.
pub struct ModelDrift {
    policy: DriftPolicy,
    baseline: Baseline,
    features: Vec<(String, String)>,
    window: Mutex<DriftWindow>,
}

/// The verdict on the window that ends with a request.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Status.
    pub status: DriftStatus,
    /// One line: status and the first findings.
    pub summary: String,
    /// The action in force.
    pub action: DriftAction,
}

impl ModelDrift {
    /// A window for the model of `desc` (`None` without a baseline).
    pub fn new(desc: &Description, policy: DriftPolicy) -> Option<Self> {
        let baseline = desc.baseline.clone()?;
        let empty = DriftCounts::new(&baseline, desc.features.len());
        Some(ModelDrift {
            window: Mutex::new(DriftWindow::new(empty, policy.window)),
            features: desc
                .features
                .iter()
                .map(|f| (f.display_name().to_string(), f.field.clone()))
                .collect(),
            policy,
            baseline,
        })
    }

    /// Add a request's counts; judge the window and keep it in `health`.
    pub fn observe(&self, counts: &DriftCounts, health: &ModelHealth) -> Verdict {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = w.push(counts.clone()) {
            tracing::error!(error = %e, "drift counts of a request dropped");
        }
        let (status, summary) = match report(&self.baseline, &self.features, w.window()) {
            Ok(r) => {
                let a: Assessment = self.policy.assess(&r);
                health.set_drift(&r, a.status, a.max_psi);
                (a.status, a.summary())
            }
            Err(e) => {
                tracing::error!(error = %e, "drift report");
                (DriftStatus::Insufficient, String::new())
            }
        };
        Verdict {
            status,
            summary,
            action: self.policy.action,
        }
    }
}

impl Verdict {
    /// Mark the scored events of a request (those with a score and no error)
    /// as the action says, while the window is in drift; how many were marked.
    pub fn mark(&self, events: &mut [Map<String, Value>], fields: &OutputFields) -> u64 {
        if self.status != DriftStatus::Drift
            || !matches!(self.action, DriftAction::Flag | DriftAction::Suppress)
        {
            return 0;
        }
        let why = format!("anomaly_flag suppressed: model drift ({})", self.summary);
        let mut n = 0;
        for m in events {
            if !m.contains_key(&fields.score) || m.contains_key(&fields.error) {
                continue;
            }
            if self.action == DriftAction::Suppress {
                m.insert(fields.flag.clone(), 0.into());
                m.insert(fields.error.clone(), why.clone().into());
            }
            m.insert(fields.drift.clone(), 1.into());
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_scored_events_only_and_only_in_drift() {
        let fields = OutputFields::default();
        let events = || {
            vec![
                serde_json::json!({"model_output_risk_score": 0.9, "anomaly_flag": 1}),
                serde_json::json!({"risk_error": "line 2: bad"}),
            ]
            .into_iter()
            .map(|v| v.as_object().unwrap().clone())
            .collect::<Vec<_>>()
        };
        let v = |status, action| Verdict {
            status,
            summary: "drift over 600 events: x PSI 0.400 ≥ 0.25".into(),
            action,
        };
        let mut e = events();
        assert_eq!(
            v(DriftStatus::Watch, DriftAction::Suppress).mark(&mut e, &fields),
            0
        );
        assert_eq!(
            v(DriftStatus::Drift, DriftAction::Flag).mark(&mut e, &fields),
            1
        );
        assert_eq!(
            (e[0]["model_drift"].clone(), e[0]["anomaly_flag"].clone()),
            (1.into(), 1.into())
        );
        assert!(e[1].get("model_drift").is_none());
        let mut e = events();
        v(DriftStatus::Drift, DriftAction::Suppress).mark(&mut e, &fields);
        assert_eq!(e[0]["anomaly_flag"], 0);
        assert!(e[0]["risk_error"]
            .as_str()
            .unwrap()
            .starts_with("anomaly_flag suppressed"));
    }
}
