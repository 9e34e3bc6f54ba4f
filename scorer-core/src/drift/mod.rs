//! Drift of a window of events against the artifact's training [`Baseline`].
//!
//! A [`DriftCounts`] accumulates, batch after batch, the window's feature
//! columns and scores on the baseline's own bins, and how often each feature
//! was missing. Counts are plain integers, so windows scored in parallel
//! (threads, Web Workers, indexers) merge by addition. [`report`] turns them
//! into per-column statistics:
//!
//! - **PSI**, the population stability index, `Σ (w − b) · ln(w / b)` over
//!   the bins, with both shares floored at [`PSI_FLOOR`] so that an empty
//!   bin counts as rare rather than infinitely surprising;
//! - **KS**, the two-sample Kolmogorov–Smirnov statistic on the binned data:
//!   the largest gap between the two cumulative distributions at a bin edge.
//!
//! Every runtime (native, wasmtime, the browser) computes drift with this code.
//! [`DriftPolicy`] (in the artifact) judges a report ([`Assessment`]);
//! [`DriftWindow`] keeps the sliding window a run is judged on.

use serde::{Deserialize, Serialize};

use crate::baseline::{Baseline, Histogram};
use crate::{FeatureBatch, Scores};

mod policy;
mod window;

pub use policy::{Assessment, DriftAction, DriftPolicy, DriftStatus, Finding};
pub use window::DriftWindow;

/// The smallest share a bin is given in the PSI sum.
pub const PSI_FLOOR: f64 = 1e-4;

/// Window counts on the baseline's bins; merge windows with [`DriftCounts::merge`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftCounts {
    /// Rows counted.
    pub rows: u64,
    /// Per feature column, a count per baseline bin.
    pub columns: Vec<Vec<u64>>,
    /// Scores per baseline score bin (rows whose score is NaN are left out).
    pub score: Vec<u64>,
    /// Per feature, rows where it was missing.
    pub missing: Vec<u64>,
}

impl DriftCounts {
    /// Empty counts shaped for `baseline` (with `n_features` schema features).
    pub fn new(baseline: &Baseline, n_features: usize) -> Self {
        DriftCounts {
            rows: 0,
            columns: baseline
                .columns
                .iter()
                .map(|h| vec![0; h.counts.len()])
                .collect(),
            score: vec![0; baseline.score.counts.len()],
            missing: vec![0; n_features],
        }
    }

    /// Count every row of a scored batch, reading the matrix in order; a
    /// column with one edge (flags, one-hot categories) is a comparison per
    /// row. Counts whose shape is not the baseline's (built by hand) are left
    /// as they are.
    pub fn add(&mut self, baseline: &Baseline, batch: &FeatureBatch, scores: &Scores) {
        let n = batch.len();
        let shaped = self.columns.len() == baseline.columns.len()
            && self
                .columns
                .iter()
                .zip(&baseline.columns)
                .all(|(c, h)| c.len() == h.counts.len())
            && self.score.len() == baseline.score.counts.len();
        if n == 0 || !shaped {
            return;
        }
        self.rows += n as u64;
        let (x, w) = (batch.matrix(), batch.width());
        // Row by row through the row-major matrix. Columns with one edge
        // (flags, one-hot categories: most of them) add a comparison to a
        // running count; the others find their bin by binary search.
        let columns = || baseline.columns.iter().enumerate().take(w);
        let singles: Vec<(usize, f64)> = columns()
            .filter_map(|(c, h)| match h.edges[..] {
                [edge] => Some((c, edge)),
                _ => None,
            })
            .collect();
        let multi: Vec<usize> = columns()
            .filter(|(_, h)| h.edges.len() > 1)
            .map(|(c, _)| c)
            .collect();
        let mut above = vec![0u64; w];
        for row in x[..n * w].chunks_exact(w) {
            for &(c, edge) in &singles {
                above[c] += u64::from(row[c] > edge);
            }
            for &c in &multi {
                let edges = &baseline.columns[c].edges;
                self.columns[c][edges.partition_point(|e| *e < row[c])] += 1;
            }
        }
        for (c, (h, counts)) in baseline.columns.iter().zip(&mut self.columns).enumerate() {
            match h.edges.len() {
                0 => counts[0] += n as u64,
                1 => {
                    let a = above.get(c).copied().unwrap_or(0);
                    counts[1] += a;
                    counts[0] += n as u64 - a;
                }
                _ => {}
            }
        }
        for s in scores.score.iter().take(n).filter(|s| !s.is_nan()) {
            self.score[baseline.score.bin(*s)] += 1;
        }
        for r in 0..n {
            for (word, bits) in batch.mask(r).iter().enumerate() {
                let mut bits = *bits;
                while bits != 0 {
                    let f = word * 64 + bits.trailing_zeros() as usize;
                    if let Some(m) = self.missing.get_mut(f) {
                        *m += 1;
                    }
                    bits &= bits - 1;
                }
            }
        }
    }

    /// Add `other`'s counts (same shapes) to these.
    pub fn merge(&mut self, other: &DriftCounts) -> Result<(), String> {
        let same = self.columns.len() == other.columns.len()
            && self
                .columns
                .iter()
                .zip(&other.columns)
                .all(|(a, b)| a.len() == b.len())
            && self.score.len() == other.score.len()
            && self.missing.len() == other.missing.len();
        if !same {
            return Err("drift counts of different shapes cannot be merged".into());
        }
        self.rows += other.rows;
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            add_into(a, b);
        }
        add_into(&mut self.score, &other.score);
        add_into(&mut self.missing, &other.missing);
        Ok(())
    }
}

fn add_into(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Drift of one distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftStat {
    /// Column name (feature column, or `score`).
    pub name: String,
    /// The baseline's interior bin edges.
    pub edges: Vec<f64>,
    /// Share of the baseline per bin.
    pub baseline: Vec<f64>,
    /// Share of the window per bin.
    pub window: Vec<f64>,
    /// Population stability index.
    pub psi: f64,
    /// Binned two-sample Kolmogorov–Smirnov statistic.
    pub ks: f64,
}

/// Missing values of one feature: baseline rate vs window rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingShare {
    /// Feature name.
    pub feature: String,
    /// Event field it reads.
    pub field: String,
    /// Share missing in training.
    pub baseline: f64,
    /// Share missing in the window.
    pub window: f64,
}

/// Drift of a window against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftReport {
    /// Rows in the window.
    pub rows: u64,
    /// One entry per feature column.
    pub columns: Vec<DriftStat>,
    /// The score distribution.
    pub score: DriftStat,
    /// Missing shares per feature.
    pub missing: Vec<MissingShare>,
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    counts
        .iter()
        .map(|c| {
            if total == 0 {
                0.0
            } else {
                *c as f64 / total as f64
            }
        })
        .collect()
}

/// PSI and KS of `window` counts against the baseline histogram `h`.
pub fn compare(h: &Histogram, window: &[u64]) -> DriftStat {
    let b = shares(&h.counts);
    let w = shares(window);
    let mut psi = 0.0;
    let (mut cb, mut cw, mut ks) = (0.0f64, 0.0f64, 0.0f64);
    for (bi, wi) in b.iter().zip(&w) {
        let (bf, wf) = (bi.max(PSI_FLOOR), wi.max(PSI_FLOOR));
        psi += (wf - bf) * libm::log(wf / bf);
        cb += bi;
        cw += wi;
        ks = ks.max((cb - cw).abs());
    }
    if window.iter().all(|c| *c == 0) {
        (psi, ks) = (0.0, 0.0);
    }
    DriftStat {
        name: h.name.clone(),
        edges: h.edges.clone(),
        baseline: b,
        window: w,
        psi,
        ks,
    }
}

/// The drift report of `counts` against `baseline`; `features` are the
/// schema's (name, field) pairs, in order.
pub fn report(
    baseline: &Baseline,
    features: &[(String, String)],
    counts: &DriftCounts,
) -> Result<DriftReport, String> {
    if counts.columns.len() != baseline.columns.len()
        || counts.score.len() != baseline.score.counts.len()
        || counts.missing.len() != features.len()
    {
        return Err("drift counts do not match this model's baseline".into());
    }
    let columns = baseline
        .columns
        .iter()
        .zip(&counts.columns)
        .map(|(h, c)| {
            if c.len() == h.counts.len() {
                Ok(compare(h, c))
            } else {
                Err(format!("drift counts for {} have the wrong bins", h.name))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let missing = features
        .iter()
        .zip(&baseline.missing_rate)
        .zip(&counts.missing)
        .map(|(((feature, field), b), m)| MissingShare {
            feature: feature.clone(),
            field: field.clone(),
            baseline: *b,
            window: if counts.rows == 0 {
                0.0
            } else {
                *m as f64 / counts.rows as f64
            },
        })
        .collect();
    Ok(DriftReport {
        rows: counts.rows,
        columns,
        score: compare(&baseline.score, &counts.score),
        missing,
    })
}

impl crate::Model {
    /// Empty drift counts for this model, or `None` when its artifact has no baseline.
    pub fn drift_counts(&self) -> Option<DriftCounts> {
        let b = self.artifact().baseline.as_ref()?;
        Some(DriftCounts::new(b, self.features().len()))
    }

    /// The drift report of `counts` (from [`crate::Model::drift_counts`], merged
    /// and added to) against this model's baseline.
    pub fn drift_report(&self, counts: &DriftCounts) -> Result<DriftReport, String> {
        let b = self
            .artifact()
            .baseline
            .as_ref()
            .ok_or("the model's artifact has no training baseline")?;
        let features: Vec<(String, String)> = self
            .features()
            .iter()
            .map(|f| (f.display_name().to_string(), f.field.clone()))
            .collect();
        report(b, &features, counts)
    }

    /// The artifact's drift policy, or the default one.
    pub fn drift_policy(&self) -> DriftPolicy {
        self.artifact().drift.clone().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(counts: Vec<u64>) -> Histogram {
        Histogram {
            name: "x".into(),
            edges: (1..counts.len()).map(|i| i as f64).collect(),
            counts,
        }
    }

    #[test]
    fn same_distribution_has_no_drift() {
        let s = compare(&hist(vec![10, 20, 30, 40]), &[1, 2, 3, 4]);
        assert!(s.psi.abs() < 1e-12 && s.ks.abs() < 1e-12, "{s:?}");
    }

    #[test]
    fn shifted_distribution_drifts() {
        let s = compare(&hist(vec![25, 25, 25, 25]), &[0, 0, 50, 50]);
        // KS: the cumulative shares differ most after bin 2 (0.5 vs 0.0).
        assert!((s.ks - 0.5).abs() < 1e-12, "{s:?}");
        // Two bins at 0.25 → 0.5 and two at 0.25 → floor: PSI well above 0.25.
        let expected =
            2.0 * (0.5 - 0.25) * (0.5f64 / 0.25).ln() + 2.0 * (1e-4 - 0.25) * (1e-4f64 / 0.25).ln();
        assert!((s.psi - expected).abs() < 1e-9, "{} vs {expected}", s.psi);
        assert!(s.psi > 0.25);
    }

    #[test]
    fn batch_counts_match_bin_by_bin() {
        use crate::{LoadOptions, Model};
        let art = r#"{"format":"riskscore-model","format_version":1,
          "metadata":{"name":"d","version":"1","created":"2026-01-01T00:00:00Z","approval":"draft"},
          "schema":{"features":[{"field":"a","transform":{"kind":"number"}},
                               {"field":"b","transform":{"kind":"number"}},
                               {"field":"c","transform":{"kind":"number"}}]},
          "estimator":{"type":"logistic_regression","weights":[0.1,0.2,0.3],"intercept":0.0},
          "output":{"score":{"kind":"sigmoid"},"threshold":0.5},
          "baseline":{"rows":1,"columns":[{"name":"a","edges":[],"counts":[1]},
            {"name":"b","edges":[0.5],"counts":[1,0]},{"name":"c","edges":[1.0,2.0,3.0],"counts":[1,0,0,0]}],
            "score":{"name":"score","edges":[0.5],"counts":[1,0]},"missing_rate":[0.0,0.0,0.0]}}"#;
        let model = Model::load(art.as_bytes(), &LoadOptions::development()).unwrap();
        let events: Vec<serde_json::Value> = (0..50)
            .map(|i| {
                let mut e = serde_json::json!({"a": i, "b": f64::from(i % 3) / 2.0, "c": f64::from(i % 7) * 0.75});
                if i % 5 == 0 {
                    e.as_object_mut().unwrap().remove("c");
                }
                e
            })
            .collect();
        let (mut batch, mut scores) = (model.new_batch(), Scores::default());
        model.score_events(&events, &mut batch, &mut scores);
        let b = model.artifact().baseline.as_ref().unwrap();
        let mut d = model.drift_counts().unwrap();
        d.add(b, &batch, &scores);
        let mut want = model.drift_counts().unwrap();
        for r in 0..batch.len() {
            for (c, h) in b.columns.iter().enumerate() {
                want.columns[c][h.bin(batch.row(r)[c])] += 1;
            }
            want.score[b.score.bin(scores.score[r])] += 1;
            want.missing[2] += u64::from(batch.mask(r)[0] & 4 != 0);
        }
        want.rows = 50;
        assert_eq!(d, want);
        assert_eq!(d.missing[2], 10);
    }

    #[test]
    fn empty_window_reports_zero_and_merge_checks_shapes() {
        let s = compare(&hist(vec![1, 1]), &[0, 0]);
        assert_eq!((s.psi, s.ks), (0.0, 0.0));
        let mut a = DriftCounts {
            rows: 1,
            columns: vec![vec![1, 0]],
            score: vec![1],
            missing: vec![0],
        };
        let b = a.clone();
        a.merge(&b).unwrap();
        assert_eq!(a.columns, vec![vec![2, 0]]);
        assert_eq!(a.rows, 2);
        let bad = DriftCounts::default();
        assert!(a.merge(&bad).is_err());
    }
}
