//! PCA projection: raw = (x − mean)·pc₁, the coordinate on the first principal
//! component (or its absolute value, when deviations either way are risky).
//! The output spec maps it through a logistic centred on the threshold.
//!
//! Explanations are exact: column j contributes pc₁ⱼ·(xⱼ − meanⱼ) (sign-
//! flipped with the projection when `absolute` is set), summing to raw.

use serde::{Deserialize, Serialize};

use super::linear::{check_finite, check_len};
use crate::{Error, Result};

/// The stored PCA model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PcaSpec {
    /// Column means of the training data.
    pub mean: Vec<f64>,
    /// Principal components, each of `width` columns, first component first.
    pub components: Vec<Vec<f64>>,
    /// Variance along each component on the training data.
    pub explained_variance: Vec<f64>,
    /// Score |projection| instead of the signed projection.
    #[serde(default)]
    pub absolute: bool,
}

/// The compiled PCA model: only the first component is needed to score.
#[derive(Debug, Clone)]
pub(crate) struct Pca {
    mean: Vec<f64>,
    pc1: Vec<f64>,
    absolute: bool,
}

impl Pca {
    pub fn compile(spec: &PcaSpec, width: usize) -> Result<Self> {
        check_len("estimator.mean", spec.mean.len(), width)?;
        check_finite("estimator.mean", &spec.mean)?;
        if spec.components.is_empty() {
            return Err(Error::invalid("estimator.components", "no components"));
        }
        for (i, c) in spec.components.iter().enumerate() {
            let path = format!("estimator.components[{i}]");
            check_len(&path, c.len(), width)?;
            check_finite(&path, c)?;
        }
        if spec.explained_variance.len() != spec.components.len() {
            return Err(Error::invalid(
                "estimator.explained_variance",
                format!(
                    "has {} entries for {} components",
                    spec.explained_variance.len(),
                    spec.components.len()
                ),
            ));
        }
        check_finite("estimator.explained_variance", &spec.explained_variance)?;
        Ok(Pca {
            mean: spec.mean.clone(),
            pc1: spec.components[0].clone(),
            absolute: spec.absolute,
        })
    }

    fn project(&self, row: &[f64]) -> f64 {
        super::sums::centered_dot(row, &self.mean, &self.pc1)
    }

    pub fn raw(&self, x: &[f64], width: usize, out: &mut [f64]) {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(width)) {
            let z = self.project(row);
            *o = if self.absolute { z.abs() } else { z };
        }
    }

    pub fn contributions(&self, row: &[f64], out: &mut [f64]) {
        let sign = if self.absolute && self.project(row) < 0.0 {
            -1.0
        } else {
            1.0
        };
        for (j, ((x, m), p)) in row.iter().zip(&self.mean).zip(&self.pc1).enumerate() {
            out[j] += sign * (x - m) * p;
        }
    }
}
