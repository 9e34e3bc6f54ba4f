//! Reference distributions of the training data, kept in the artifact so that
//! drift can be measured later against what the model was trained on.
//!
//! Every feature column and the score get a [`Histogram`] on quantile bins
//! (deciles by default, merged where values repeat) between two guard bins,
//! below the training minimum and above the training maximum, that training
//! leaves empty — so a value the model never saw (a new category's one-hot
//! column, a count beyond any seen) shows as drift even where the training
//! column was constant. Every feature gets its share of missing values.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Bins of a histogram: `counts[i]` values fell in bin i, where bin i holds
/// `edges[i-1] < x <= edges[i]` (bin 0 is `x <= edges[0]`, the last bin is above the last edge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Histogram {
    /// Column name.
    pub name: String,
    /// Interior bin edges, strictly increasing.
    pub edges: Vec<f64>,
    /// Count per bin (`edges.len() + 1` bins).
    pub counts: Vec<u64>,
}

impl Histogram {
    /// Quantile-binned histogram of `values` (sorted in place) with at most
    /// `bins` bins over the training range, plus the two empty guard bins.
    pub fn from_values(name: &str, values: &mut [f64], bins: usize) -> Histogram {
        values.sort_by(f64::total_cmp);
        let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = values.len();
        let mut edges: Vec<f64> = Vec::new();
        if n > 0 {
            let (min, max) = (values[0], values[n - 1]);
            // Below the minimum: a value seen in training never lands here.
            edges.push(min - 1e-9 * min.abs().max(1.0));
            for q in 1..bins.max(1) {
                let e = values[((q * n).div_ceil(bins)).clamp(1, n) - 1];
                if edges.last().is_none_or(|last| e > *last) && e < max {
                    edges.push(e);
                }
            }
            // Up to the maximum; above it is the upper guard bin.
            edges.push(max);
        }
        let mut h = Histogram {
            name: name.into(),
            counts: vec![0; edges.len() + 1],
            edges,
        };
        for v in values.iter() {
            let b = h.bin(*v);
            h.counts[b] += 1;
        }
        h
    }

    /// The bin of `x`.
    pub fn bin(&self, x: f64) -> usize {
        self.edges.partition_point(|e| *e < x)
    }

    fn validate(&self, path: &str) -> Result<()> {
        if self.counts.len() != self.edges.len() + 1 {
            return Err(Error::invalid(
                path,
                format!(
                    "{} counts for {} edges (need edges + 1)",
                    self.counts.len(),
                    self.edges.len()
                ),
            ));
        }
        if let Some(i) = self.edges.iter().position(|e| !e.is_finite()) {
            return Err(Error::invalid(
                format!("{path}.edges[{i}]"),
                format!("edge is {}", self.edges[i]),
            ));
        }
        if let Some(i) = self.edges.windows(2).position(|w| w[0] >= w[1]) {
            return Err(Error::invalid(
                format!("{path}.edges[{}]", i + 1),
                "edges must increase strictly",
            ));
        }
        Ok(())
    }
}

/// Training distributions of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Training rows summarised.
    pub rows: u64,
    /// One histogram per feature column.
    pub columns: Vec<Histogram>,
    /// Histogram of the risk score on the training data.
    pub score: Histogram,
    /// Share of rows where each feature was missing or unreadable.
    pub missing_rate: Vec<f64>,
}

impl Baseline {
    /// Check shapes against the schema (`width` columns, `n_features` features).
    pub fn validate(&self, width: usize, n_features: usize) -> Result<()> {
        if self.columns.len() != width {
            return Err(Error::invalid(
                "baseline.columns",
                format!(
                    "{} histograms for {width} feature columns",
                    self.columns.len()
                ),
            ));
        }
        if self.missing_rate.len() != n_features {
            return Err(Error::invalid(
                "baseline.missing_rate",
                format!(
                    "{} rates for {n_features} features",
                    self.missing_rate.len()
                ),
            ));
        }
        for (i, h) in self.columns.iter().enumerate() {
            h.validate(&format!("baseline.columns[{i}]"))?;
        }
        self.score.validate("baseline.score")?;
        if let Some(i) = self
            .missing_rate
            .iter()
            .position(|r| !(0.0..=1.0).contains(r))
        {
            return Err(Error::invalid(
                format!("baseline.missing_rate[{i}]"),
                "rate outside [0, 1]",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deciles_and_repeats() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        let h = Histogram::from_values("x", &mut v, 10);
        assert_eq!(h.edges.len(), 11);
        assert_eq!(h.counts.iter().sum::<u64>(), 100);
        assert_eq!((h.counts[0], h.counts[11]), (0, 0), "{:?}", h.counts);
        assert!(h.counts[1..11].iter().all(|c| *c == 10), "{:?}", h.counts);
        assert_eq!(h.bin(101.0), 11);
        assert_eq!(h.bin(0.5), 0);
        let mut flags = vec![0.0; 90];
        flags.extend(vec![1.0; 10]);
        let h = Histogram::from_values("flag", &mut flags, 10);
        assert_eq!(h.edges, vec![-1e-9, 0.0, 1.0]);
        assert_eq!(h.counts, vec![0, 90, 10, 0]);
        h.validate("h").unwrap();
        // A constant training column still tells a new value apart.
        let mut zeros = vec![0.0; 50];
        let h = Histogram::from_values("os=other", &mut zeros, 10);
        assert_eq!(h.counts, vec![0, 50, 0]);
        assert_eq!(h.bin(1.0), 2);
        let mut empty: Vec<f64> = vec![];
        assert_eq!(Histogram::from_values("e", &mut empty, 10).counts, vec![0]);
    }
}
