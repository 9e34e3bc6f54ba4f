//! The estimators: what turns a feature row into a raw model output.
//!
//! | `type` | raw output | usual score mapping |
//! |---|---|---|
//! | `logistic_regression` | log-odds | `sigmoid` |
//! | `linear_regression` | prediction | `min_max` or `identity` |
//! | `random_forest` | mean leaf class-1 fraction | `identity` |
//! | `isolation_forest` | mean path length E\[h\] | `isolation` |
//! | `kmeans` | risk of the nearest cluster | `identity` |
//! | `pca` | projection on the first component | `logistic` |
//!
//! Each estimator has a stored form (`*Spec`, serde) and a compiled form
//! built once at load after every check; scoring the compiled form cannot
//! fail. Both forests compile to `tree::PackedForest` (breadth-first f64
//! nodes, used for explanations) and, when it fits, to
//! `ranked::RankedForest`, which scores batches over exact threshold ranks
//! with 8-byte nodes: the same scores to the bit, several times faster.
//!
//! References: Breiman (2001) random forests; Liu, Ting & Zhou (2008)
//! isolation forest; Saabas (2014) tree path contributions.

mod isolation_forest;
mod kmeans;
mod linear;
mod pca;
mod random_forest;
mod ranked;
mod sums;
pub(crate) mod tree;

use serde::{Deserialize, Serialize};

pub use isolation_forest::{average_path_length, IsolationForestSpec, IsolationTree};
pub use kmeans::KmeansSpec;
pub use linear::LinearSpec;
pub use pca::PcaSpec;
pub use random_forest::{ClassifierTree, RandomForestSpec};
pub use tree::TreeArrays;

use crate::Result;

/// The stored estimator, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EstimatorSpec {
    /// Binary logistic regression.
    LogisticRegression(LinearSpec),
    /// Ordinary least squares regression.
    LinearRegression(LinearSpec),
    /// Random forest classifier.
    RandomForest(RandomForestSpec),
    /// Isolation forest anomaly detector.
    IsolationForest(IsolationForestSpec),
    /// k-means clusters with a risk per cluster.
    Kmeans(KmeansSpec),
    /// PCA projection on the first component.
    Pca(PcaSpec),
}

impl EstimatorSpec {
    /// The `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            EstimatorSpec::LogisticRegression(_) => "logistic_regression",
            EstimatorSpec::LinearRegression(_) => "linear_regression",
            EstimatorSpec::RandomForest(_) => "random_forest",
            EstimatorSpec::IsolationForest(_) => "isolation_forest",
            EstimatorSpec::Kmeans(_) => "kmeans",
            EstimatorSpec::Pca(_) => "pca",
        }
    }

    /// Validate against a schema of `width` columns and build the scoring form.
    pub(crate) fn compile(&self, width: usize) -> Result<Estimator> {
        Ok(match self {
            EstimatorSpec::LogisticRegression(s) | EstimatorSpec::LinearRegression(s) => {
                Estimator::Linear(linear::Linear::compile(s, width)?)
            }
            EstimatorSpec::RandomForest(s) => {
                Estimator::Forest(random_forest::RandomForest::compile(s, width)?)
            }
            EstimatorSpec::IsolationForest(s) => {
                Estimator::Isolation(isolation_forest::IsolationForest::compile(s, width)?)
            }
            EstimatorSpec::Kmeans(s) => Estimator::Kmeans(kmeans::Kmeans::compile(s, width)?),
            EstimatorSpec::Pca(s) => Estimator::Pca(pca::Pca::compile(s, width)?),
        })
    }
}

/// A compiled estimator.
#[derive(Debug, Clone)]
pub(crate) enum Estimator {
    Linear(linear::Linear),
    Forest(random_forest::RandomForest),
    Isolation(isolation_forest::IsolationForest),
    Kmeans(kmeans::Kmeans),
    Pca(pca::Pca),
}

impl Estimator {
    /// Raw outputs of `out.len()` rows of `width` columns in `x`.
    pub fn raw(&self, x: &[f64], width: usize, out: &mut [f64]) {
        debug_assert_eq!(x.len(), out.len() * width);
        match self {
            Estimator::Linear(m) => m.raw(x, width, out),
            Estimator::Forest(m) => m.raw(x, width, out),
            Estimator::Isolation(m) => m.raw(x, width, out),
            Estimator::Kmeans(m) => m.raw(x, width, out),
            Estimator::Pca(m) => m.raw(x, width, out),
        }
    }

    /// Add each column's contribution to the risk of `row` into `out`.
    pub fn contributions(&self, row: &[f64], out: &mut [f64]) {
        match self {
            Estimator::Linear(m) => m.contributions(row, out),
            Estimator::Forest(m) => m.contributions(row, out),
            Estimator::Isolation(m) => m.contributions(row, out),
            Estimator::Kmeans(m) => m.contributions(row, out),
            Estimator::Pca(m) => m.contributions(row, out),
        }
    }

    /// c(ψ) for isolation forests.
    pub fn isolation_norm(&self) -> Option<f64> {
        match self {
            Estimator::Isolation(m) => Some(m.c_psi),
            _ => None,
        }
    }
}

#[cfg(test)]
mod sklearn_tests;
