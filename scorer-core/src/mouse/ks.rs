//! The one-class alternative: per feature, a two-sample Kolmogorov–Smirnov
//! test of a session's gestures against the account owner's, combined into
//! one session score.
//!
//! The owner's side is stored as quantiles (at most [`MAX_QUANTILES`] per
//! feature) together with the number of gestures they summarise, so an
//! artifact stays small and the test keeps the owner's sample size.
//! p-values use the asymptotic Kolmogorov distribution with Stephens'
//! small-sample correction (Numerical Recipes §14.3).

use serde::{Deserialize, Serialize};

/// Most quantiles stored per feature.
pub const MAX_QUANTILES: usize = 500;

/// How per-feature tests become one session score in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KsCombine {
    /// Mean KS statistic D over the features.
    MeanD,
    /// Share of features whose test rejects "same distribution" at `alpha`.
    Rejected,
}

/// The owner's gesture distributions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KsProfile {
    /// Gesture features tested (names of [`super::feature_names`]).
    pub features: Vec<String>,
    /// Gestures the quantiles summarise.
    pub baseline_n: usize,
    /// Per feature, ascending quantiles of the owner's values.
    pub quantiles: Vec<Vec<f64>>,
    /// How the tests combine.
    pub combine: KsCombine,
    /// Significance level for [`KsCombine::Rejected`].
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// `anomaly_flag` = 1 when the KS session score ≥ this.
    pub threshold: f64,
}

fn default_alpha() -> f64 {
    0.05
}

impl KsProfile {
    /// Summarise the owner's values: `columns[i]` holds feature `features[i]`
    /// over every training gesture.
    pub fn fit(features: Vec<String>, columns: Vec<Vec<f64>>, combine: KsCombine) -> KsProfile {
        let baseline_n = columns.first().map_or(0, Vec::len);
        let quantiles = columns
            .into_iter()
            .map(|mut c| {
                c.sort_unstable_by(f64::total_cmp);
                if c.len() <= MAX_QUANTILES {
                    return c;
                }
                (0..MAX_QUANTILES)
                    .map(|i| {
                        let p = (i as f64 + 0.5) / MAX_QUANTILES as f64;
                        c[((p * c.len() as f64) as usize).min(c.len() - 1)]
                    })
                    .collect()
            })
            .collect();
        KsProfile {
            features,
            baseline_n,
            quantiles,
            combine,
            alpha: default_alpha(),
            threshold: 0.5,
        }
    }

    /// Check shape and values.
    pub fn validate(&self) -> Result<(), String> {
        if self.features.is_empty() || self.features.len() != self.quantiles.len() {
            return Err(format!(
                "ks: {} features but {} quantile lists",
                self.features.len(),
                self.quantiles.len()
            ));
        }
        if self.baseline_n == 0 || !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err("ks: baseline_n must be > 0 and alpha in (0, 1)".into());
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(format!("ks: threshold {} is not in [0, 1]", self.threshold));
        }
        for (f, q) in self.features.iter().zip(&self.quantiles) {
            if q.is_empty() || q.len() > MAX_QUANTILES.max(self.baseline_n) {
                return Err(format!("ks: feature `{f}` has {} quantiles", q.len()));
            }
            if q.iter().any(|v| !v.is_finite()) || q.windows(2).any(|w| w[0] > w[1]) {
                return Err(format!(
                    "ks: quantiles of `{f}` are not finite and ascending"
                ));
            }
        }
        Ok(())
    }

    /// Session score from the session's values of each tested feature
    /// (`session[i]` for `features[i]`; sorted in place).
    pub fn score(&self, session: &mut [Vec<f64>]) -> f64 {
        let mut total = 0.0;
        for (q, s) in self.quantiles.iter().zip(session.iter_mut()) {
            s.sort_unstable_by(f64::total_cmp);
            let d = statistic(s, q);
            total += match self.combine {
                KsCombine::MeanD => d,
                KsCombine::Rejected => {
                    f64::from(u8::from(p_value(d, s.len(), self.baseline_n) < self.alpha))
                }
            };
        }
        total / self.quantiles.len() as f64
    }
}

/// Two-sample KS statistic: the largest gap between the empirical CDFs of
/// two ascending samples.
pub fn statistic(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let v = a[i].min(b[j]);
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d
}

/// p-value of statistic `d` for samples of `n` and `m` values.
pub fn p_value(d: f64, n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 1.0;
    }
    let ne = (n * m) as f64 / (n + m) as f64;
    let en = ne.sqrt();
    let lambda = (en + 0.12 + 0.11 / en) * d;
    // Q_KS(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2 j² λ²}
    if lambda < 1e-3 {
        return 1.0;
    }
    let (mut sum, mut sign) = (0.0, 1.0);
    for j in 1..=100 {
        let jf = f64::from(j);
        let term = sign * libm::exp(-2.0 * jf * jf * lambda * lambda);
        sum += term;
        if term.abs() < 1e-12 * sum.abs() {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistic_matches_hand_computed_values() {
        assert_eq!(statistic(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 0.0);
        assert_eq!(statistic(&[1.0, 2.0], &[3.0, 4.0]), 1.0);
        // scipy.stats.ks_2samp([1,2,3,4], [3,4,5,6]).statistic == 0.5
        assert_eq!(statistic(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]), 0.5);
    }

    #[test]
    fn p_values_are_monotone_and_match_the_asymptotic_table() {
        // Q_KS(1.36) ≈ 0.049 (the classic 5% critical value).
        let n = 1_000_000;
        let d = 1.36 / ((n / 2) as f64).sqrt();
        assert!((p_value(d, n, n) - 0.049).abs() < 0.002);
        assert!(p_value(0.1, 50, 500) > p_value(0.3, 50, 500));
        assert_eq!(p_value(0.0, 10, 10), 1.0);
    }

    #[test]
    fn fit_keeps_quantiles_and_scores_shifts_higher() {
        let owner: Vec<f64> = (0..2000).map(|i| f64::from(i % 100)).collect();
        let p = KsProfile::fit(vec!["v_mean".into()], vec![owner], KsCombine::MeanD);
        assert_eq!(p.quantiles[0].len(), MAX_QUANTILES);
        assert_eq!(p.baseline_n, 2000);
        p.validate().unwrap();
        let same: Vec<f64> = (0..50).map(|i| f64::from(i * 2)).collect();
        let shifted: Vec<f64> = (0..50).map(|i| f64::from(i * 2 + 60)).collect();
        assert!(p.score(&mut [shifted]) > p.score(&mut [same]) + 0.3);
    }
}
