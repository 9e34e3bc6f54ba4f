//! Random forest classifier (Breiman 2001): the class-1 probability is the
//! mean over trees of the class-1 fraction at the leaf a row reaches — what
//! scikit-learn's `predict_proba[:, 1]` computes.
//!
//! Explanations are Saabas path contributions: along each tree's path, the
//! change of node value at every split is credited to the split's feature;
//! contributions plus the root values' mean add up to the score exactly.

use serde::{Deserialize, Serialize};

use super::tree::{pack_forest, PackedForest, StoredTree};
use crate::{Error, Result};

/// A stored classification tree: structure plus the class-1 fraction of every node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierTree {
    /// Split feature per node.
    pub feature: Vec<i64>,
    /// Split threshold per node.
    pub threshold: Vec<f64>,
    /// Left child per node (-1 at leaves).
    pub left: Vec<i64>,
    /// Right child per node (-1 at leaves).
    pub right: Vec<i64>,
    /// Class-1 fraction of the training samples at each node, in [0, 1].
    pub value: Vec<f64>,
}

/// The stored random forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomForestSpec {
    /// The trees.
    pub trees: Vec<ClassifierTree>,
}

/// The compiled random forest.
#[derive(Debug, Clone)]
pub(crate) struct RandomForest {
    forest: PackedForest,
    inv_trees: f64,
}

impl StoredTree for ClassifierTree {
    const VALUES: &'static str = "value";

    fn parts(&self) -> (&[i64], &[f64], &[i64], &[i64]) {
        (&self.feature, &self.threshold, &self.left, &self.right)
    }

    fn values_len(&self) -> usize {
        self.value.len()
    }
}

impl RandomForest {
    pub fn compile(spec: &RandomForestSpec, width: usize) -> Result<Self> {
        let forest = pack_forest(&spec.trees, width, |t, path, _| {
            match t.value.iter().position(|v| !(0.0..=1.0).contains(v)) {
                Some(i) => Err(Error::invalid(
                    format!("{path}.value[{i}]"),
                    format!("class-1 fraction {} is outside [0, 1]", t.value[i]),
                )),
                None => Ok(t.value.clone()),
            }
        })?;
        Ok(RandomForest {
            forest,
            inv_trees: 1.0 / spec.trees.len() as f64,
        })
    }

    pub fn raw(&self, x: &[f64], width: usize, out: &mut [f64]) {
        self.forest.mean(x, width, out);
    }

    pub fn contributions(&self, row: &[f64], out: &mut [f64]) {
        let f = &self.forest;
        for t in 0..f.trees.len() {
            f.walk(t, row, |feat, parent, child| {
                out[feat] += (f.values[child] - f.values[parent]) * self.inv_trees;
            });
        }
    }
}
