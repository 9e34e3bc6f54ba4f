//! Explanations: the features that pushed an event's risk up (`risk_reasons`).
//!
//! Each estimator attributes its output to feature columns (see the
//! estimator docs: exact for linear models and PCA, Saabas path contributions
//! for random forests, depth-weighted split counts for isolation forests,
//! squared distance to the centroid for k-means). Columns of one feature
//! (one-hot, hashed buckets) are summed, so a reason names a schema feature.

use serde::{Deserialize, Serialize};

use crate::schema::FeatureSpec;

/// One feature's contribution to an event's risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Feature name (defaults to the field name).
    pub feature: String,
    /// The event field it reads.
    pub field: String,
    /// Contribution, in the estimator's raw units (log-odds, probability, path weight, ...).
    pub contribution: f64,
}

/// The `k` largest positive contributions, largest first (ties: schema order).
/// Contributions that overflowed (a weight times 1e308) are clipped to ±f64::MAX
/// so every reason stays a JSON number; NaN contributions are left out.
pub(crate) fn top_reasons(
    features: &[FeatureSpec],
    contributions: &[f64],
    k: usize,
) -> Vec<Reason> {
    let contributions: Vec<f64> = contributions
        .iter()
        .map(|c| c.clamp(f64::MIN, f64::MAX))
        .collect();
    let mut idx: Vec<usize> = (0..contributions.len())
        .filter(|&i| contributions[i] > 0.0)
        .collect();
    idx.sort_by(|&a, &b| {
        contributions[b]
            .total_cmp(&contributions[a])
            .then(a.cmp(&b))
    });
    idx.truncate(k);
    idx.into_iter()
        .map(|i| Reason {
            feature: features[i].display_name().to_string(),
            field: features[i].field.clone(),
            contribution: contributions[i],
        })
        .collect()
}

/// Render reasons as Splunk-friendly text: `failed_logins(+0.412), src_ip(+0.118)`.
pub fn format_reasons(reasons: &[Reason]) -> String {
    let mut s = String::new();
    for (i, r) in reasons.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&format!("{}(+{:.3})", r.feature, r.contribution));
    }
    s
}
