//! Linear models: logistic regression (raw = log-odds, score = sigmoid) and
//! linear regression (raw = prediction, mapped to [0, 1] by the output spec).
//!
//! raw = b + Σ wⱼ·xⱼ. Explanations are exact: feature j contributes
//! wⱼ·(xⱼ − refⱼ), where ref is the training mean (or 0 when the artifact
//! carries none), so raw = b + Σ wⱼ·refⱼ + Σ contributions.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The stored linear model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearSpec {
    /// One weight per feature column.
    pub weights: Vec<f64>,
    /// Bias term.
    pub intercept: f64,
    /// Reference point for explanations (training means), one per column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Vec<f64>>,
}

/// The compiled linear model.
#[derive(Debug, Clone)]
pub(crate) struct Linear {
    weights: Vec<f64>,
    intercept: f64,
    reference: Vec<f64>,
}

pub(crate) fn check_finite(path: &str, v: &[f64]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::invalid(
            format!("{path}[{i}]"),
            format!("value is {}", v[i]),
        )),
        None => Ok(()),
    }
}

pub(crate) fn check_len(path: &str, got: usize, width: usize) -> Result<()> {
    if got == width {
        Ok(())
    } else {
        Err(Error::invalid(
            path,
            format!("has {got} entries but the schema produces {width} feature columns"),
        ))
    }
}

impl Linear {
    pub fn compile(spec: &LinearSpec, width: usize) -> Result<Self> {
        check_len("estimator.weights", spec.weights.len(), width)?;
        check_finite("estimator.weights", &spec.weights)?;
        check_finite("estimator.intercept", &[spec.intercept])?;
        let reference = match &spec.reference {
            Some(r) => {
                check_len("estimator.reference", r.len(), width)?;
                check_finite("estimator.reference", r)?;
                r.clone()
            }
            None => vec![0.0; width],
        };
        Ok(Linear {
            weights: spec.weights.clone(),
            intercept: spec.intercept,
            reference,
        })
    }

    pub fn raw(&self, x: &[f64], width: usize, out: &mut [f64]) {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(width)) {
            *o = self.intercept + super::sums::dot(&self.weights, row);
        }
    }

    pub fn contributions(&self, row: &[f64], out: &mut [f64]) {
        for (j, ((x, w), r)) in row
            .iter()
            .zip(&self.weights)
            .zip(&self.reference)
            .enumerate()
        {
            out[j] += w * (x - r);
        }
    }
}
