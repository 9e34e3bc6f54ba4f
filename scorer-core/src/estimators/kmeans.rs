//! k-means clustering as a risk model: a row takes the risk of its nearest
//! centroid (squared Euclidean distance; ties go to the lower cluster index).
//! Training sets a cluster's risk from its label rate when labels exist, else
//! from its rarity (1 − size / size of the largest cluster).
//!
//! Explanations: per column, the squared distance to the assigned centroid —
//! which features make the row atypical of its cluster.

use serde::{Deserialize, Serialize};

use super::linear::{check_finite, check_len};
use crate::{Error, Result};

/// Most clusters accepted.
pub const MAX_CLUSTERS: usize = 4096;

/// The stored k-means model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmeansSpec {
    /// k centroids of `width` columns each.
    pub centroids: Vec<Vec<f64>>,
    /// Risk in [0, 1] of each cluster.
    pub cluster_risk: Vec<f64>,
}

/// The compiled k-means model (centroids flattened row-major).
#[derive(Debug, Clone)]
pub(crate) struct Kmeans {
    centroids: Vec<f64>,
    risk: Vec<f64>,
    width: usize,
}

impl Kmeans {
    pub fn compile(spec: &KmeansSpec, width: usize) -> Result<Self> {
        let k = spec.centroids.len();
        if k == 0 || k > MAX_CLUSTERS {
            return Err(Error::invalid(
                "estimator.centroids",
                format!("{k} clusters, allowed 1..={MAX_CLUSTERS}"),
            ));
        }
        if spec.cluster_risk.len() != k {
            return Err(Error::invalid(
                "estimator.cluster_risk",
                format!("has {} entries for {k} centroids", spec.cluster_risk.len()),
            ));
        }
        if let Some(i) = spec
            .cluster_risk
            .iter()
            .position(|r| !(0.0..=1.0).contains(r))
        {
            return Err(Error::invalid(
                format!("estimator.cluster_risk[{i}]"),
                format!("risk {} is outside [0, 1]", spec.cluster_risk[i]),
            ));
        }
        let mut centroids = Vec::with_capacity(k * width);
        for (c, row) in spec.centroids.iter().enumerate() {
            let path = format!("estimator.centroids[{c}]");
            check_len(&path, row.len(), width)?;
            check_finite(&path, row)?;
            centroids.extend_from_slice(row);
        }
        Ok(Kmeans {
            centroids,
            risk: spec.cluster_risk.clone(),
            width,
        })
    }

    /// Index of the nearest centroid.
    pub fn nearest(&self, row: &[f64]) -> usize {
        let mut best = (f64::INFINITY, 0);
        for (c, centroid) in self.centroids.chunks_exact(self.width).enumerate() {
            let d = super::sums::squared_distance(centroid, row);
            if d < best.0 {
                best = (d, c);
            }
        }
        best.1
    }

    pub fn raw(&self, x: &[f64], width: usize, out: &mut [f64]) {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(width)) {
            *o = self.risk[self.nearest(row)];
        }
    }

    pub fn contributions(&self, row: &[f64], out: &mut [f64]) {
        let c = self.nearest(row);
        let centroid = &self.centroids[c * self.width..(c + 1) * self.width];
        for (j, (x, c)) in row.iter().zip(centroid).enumerate() {
            out[j] += (x - c) * (x - c);
        }
    }
}
