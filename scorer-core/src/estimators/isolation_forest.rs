//! Isolation forest (Liu, Ting & Zhou, ICDM 2008).
//!
//! Anomalies are isolated by few random splits. For a row, each tree gives the
//! path length h = depth of the leaf reached + c(n), where n is the number of
//! training samples left in that leaf and c(n) the average path length of an
//! unsuccessful search in a binary search tree of n items:
//! c(n) = 2·H(n−1) − 2(n−1)/n, H(i) ≈ ln(i) + 0.5772156649 (c(1) = 0, c(2) = 1).
//! The anomaly score is s = 2^(−E[h] / c(ψ)) with ψ the sub-sample size: near 1
//! for anomalies, ≤ 0.5 for normal points. This equals scikit-learn's
//! `-IsolationForest.score_samples`.
//!
//! Explanations credit each split on the path to its feature with weight
//! 1/h of that tree (short paths isolate, so their splits matter more),
//! averaged over trees — a depth-based attribution in the spirit of DIFFI.

use serde::{Deserialize, Serialize};

use super::tree::{pack_forest, PackedForest, StoredTree};
use crate::{Error, Result};

/// Euler–Mascheroni constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Average path length of an unsuccessful BST search among `n` items.
pub fn average_path_length(n: f64) -> f64 {
    if n <= 1.0 {
        0.0
    } else if n <= 2.0 {
        1.0
    } else {
        2.0 * (libm::log(n - 1.0) + EULER_GAMMA) - 2.0 * (n - 1.0) / n
    }
}

/// A stored isolation tree: structure plus training sample counts per node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolationTree {
    /// Split feature per node.
    pub feature: Vec<i64>,
    /// Split threshold per node.
    pub threshold: Vec<f64>,
    /// Left child per node (-1 at leaves).
    pub left: Vec<i64>,
    /// Right child per node (-1 at leaves).
    pub right: Vec<i64>,
    /// Training samples that reached each node (only leaves' counts are used).
    pub n_samples: Vec<u64>,
}

/// The stored isolation forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolationForestSpec {
    /// ψ: the sub-sample size each tree was grown on.
    pub sample_size: u64,
    /// The trees.
    pub trees: Vec<IsolationTree>,
}

impl StoredTree for IsolationTree {
    const VALUES: &'static str = "n_samples";

    fn parts(&self) -> (&[i64], &[f64], &[i64], &[i64]) {
        (&self.feature, &self.threshold, &self.left, &self.right)
    }

    fn values_len(&self) -> usize {
        self.n_samples.len()
    }
}

/// The compiled isolation forest: leaf values are path lengths.
#[derive(Debug, Clone)]
pub(crate) struct IsolationForest {
    forest: PackedForest,
    inv_trees: f64,
    /// c(ψ), the normaliser of the score.
    pub c_psi: f64,
}

impl IsolationForest {
    pub fn compile(spec: &IsolationForestSpec, width: usize) -> Result<Self> {
        if spec.sample_size < 2 || spec.sample_size > 1 << 32 {
            return Err(Error::invalid(
                "estimator.sample_size",
                format!("sample size {} must be in 2..=2^32", spec.sample_size),
            ));
        }
        // A leaf's value is its path length: depth + c(samples left there).
        let forest = pack_forest(&spec.trees, width, |t, _, depth| {
            Ok(depth
                .iter()
                .zip(&t.n_samples)
                .map(|(d, n)| f64::from(*d) + average_path_length(*n as f64))
                .collect())
        })?;
        Ok(IsolationForest {
            forest,
            inv_trees: 1.0 / spec.trees.len() as f64,
            c_psi: average_path_length(spec.sample_size as f64),
        })
    }

    /// Mean path length E[h] per row.
    pub fn raw(&self, x: &[f64], width: usize, out: &mut [f64]) {
        self.forest.mean(x, width, out);
    }

    pub fn contributions(&self, row: &[f64], out: &mut [f64]) {
        let f = &self.forest;
        let mut path: Vec<usize> = Vec::with_capacity(64);
        for t in 0..f.trees.len() {
            path.clear();
            let leaf = f.walk(t, row, |feat, _, _| path.push(feat));
            let h = f.values[leaf].max(1.0);
            for feat in &path {
                out[*feat] += self.inv_trees / h;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_of_n_matches_the_paper() {
        assert_eq!(average_path_length(1.0), 0.0);
        assert_eq!(average_path_length(2.0), 1.0);
        // c(256) as used by sklearn and the paper's default sub-sample size.
        assert!((average_path_length(256.0) - 10.244_770_920_119_917).abs() < 1e-12);
    }
}
