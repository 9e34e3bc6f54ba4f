//! Fitting each estimator on a feature matrix: smartcore where it has the
//! algorithm (logistic and linear regression, random forest, k-means, PCA),
//! our own isolation forest where it has none. Each fit returns the stored
//! estimator form plus the score mapping the artifact should declare.

use ndarray::{Array1, Array2, Axis};
use smartcore::cluster::kmeans::{KMeans, KMeansParameters};
use smartcore::decomposition::pca::{PCAParameters, PCA};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linear::linear_regression::{LinearRegression, LinearRegressionParameters};
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

use super::isolation::{fit_isolation_forest, IsolationParams};
use super::{Algorithm, TrainParams};
use crate::estimators::{
    ClassifierTree, EstimatorSpec, KmeansSpec, LinearSpec, PcaSpec, RandomForestSpec,
};
use crate::output::ScoreMapping;
use crate::{Error, Result};

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Train(format!("{what}: {e}"))
}

/// The target of a fit: class labels or regression values.
pub(crate) enum Target<'a> {
    None,
    Classes(&'a [u8]),
    Values(&'a [f64]),
}

fn column_means(x: &Array2<f64>) -> Vec<f64> {
    x.mean_axis(Axis(0))
        .map(|m| m.to_vec())
        .unwrap_or_else(|| vec![0.0; x.ncols()])
}

/// Fit `algorithm` on `x`; the mapping's free parameters (PCA centre, regression
/// range) are fitted here too, from the training outputs.
pub(crate) fn fit(
    algorithm: Algorithm,
    x: &Array2<f64>,
    y: &Target<'_>,
    p: &TrainParams,
) -> Result<(EstimatorSpec, ScoreMapping)> {
    match (algorithm, y) {
        (Algorithm::LogisticRegression, Target::Classes(y)) => fit_logistic(x, y, p),
        (Algorithm::RandomForest, Target::Classes(y)) => fit_forest(x, y, p),
        (Algorithm::LinearRegression, Target::Values(y)) => fit_linear(x, y),
        (Algorithm::IsolationForest, _) => {
            let spec = fit_isolation_forest(
                x.view(),
                &IsolationParams {
                    n_trees: p.n_trees,
                    sample_size: p.sample_size,
                    seed: p.seed,
                },
            );
            Ok((
                EstimatorSpec::IsolationForest(spec),
                ScoreMapping::Isolation,
            ))
        }
        (Algorithm::Kmeans, y) => fit_kmeans(x, y, p),
        (Algorithm::Pca, y) => fit_pca(x, y, p),
        (a, _) => Err(Error::Train(format!(
            "{} needs a label column (--label)",
            a.name()
        ))),
    }
}

fn check_two_classes(y: &[u8]) -> Result<()> {
    let pos = y.iter().filter(|v| **v == 1).count();
    if pos == 0 || pos == y.len() {
        return Err(Error::Train(format!(
            "the label has a single class ({pos} positive of {} rows): a classifier needs both",
            y.len()
        )));
    }
    Ok(())
}

fn fit_logistic(
    x: &Array2<f64>,
    y: &[u8],
    p: &TrainParams,
) -> Result<(EstimatorSpec, ScoreMapping)> {
    check_two_classes(y)?;
    let ya: Array1<i32> = y.iter().map(|v| i32::from(*v)).collect();
    let m = LogisticRegression::fit(
        x,
        &ya,
        LogisticRegressionParameters::default().with_alpha(p.alpha),
    )
    .map_err(|e| failed("logistic regression", e))?;
    let weights: Vec<f64> = m.coefficients().iter().copied().collect();
    let intercept = *m
        .intercept()
        .iter()
        .next()
        .ok_or_else(|| failed("logistic regression", "no intercept"))?;
    let spec = LinearSpec {
        weights,
        intercept,
        reference: Some(column_means(x)),
    };
    Ok((
        EstimatorSpec::LogisticRegression(spec),
        ScoreMapping::Sigmoid,
    ))
}

fn fit_linear(x: &Array2<f64>, y: &[f64]) -> Result<(EstimatorSpec, ScoreMapping)> {
    let ya: Array1<f64> = y.iter().copied().collect();
    let m = LinearRegression::fit(x, &ya, LinearRegressionParameters::default())
        .map_err(|e| failed("linear regression", e))?;
    let weights: Vec<f64> = m.coefficients().iter().copied().collect();
    let (lo, hi) = y
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let mapping = if hi > lo {
        ScoreMapping::MinMax { min: lo, max: hi }
    } else {
        ScoreMapping::Identity
    };
    let spec = LinearSpec {
        weights,
        intercept: *m.intercept(),
        reference: Some(column_means(x)),
    };
    Ok((EstimatorSpec::LinearRegression(spec), mapping))
}

/// smartcore's tree, read through its serde form (its nodes are private).
#[derive(serde::Deserialize)]
struct ScTree {
    nodes: Vec<ScNode>,
}

#[derive(serde::Deserialize)]
struct ScNode {
    split_feature: usize,
    split_value: Option<f64>,
    true_child: Option<usize>,
    false_child: Option<usize>,
}

#[derive(serde::Deserialize)]
struct ScForest {
    trees: Option<Vec<ScTree>>,
    samples: Option<Vec<Vec<bool>>>,
}

fn fit_forest(x: &Array2<f64>, y: &[u8], p: &TrainParams) -> Result<(EstimatorSpec, ScoreMapping)> {
    check_two_classes(y)?;
    let ya: Array1<u32> = y.iter().map(|v| u32::from(*v)).collect();
    let n_trees =
        u16::try_from(p.n_trees).map_err(|_| Error::Train("at most 65535 trees".into()))?;
    let mut params = RandomForestClassifierParameters::default()
        .with_n_trees(n_trees)
        .with_min_samples_leaf(p.min_samples_leaf)
        .with_keep_samples(true)
        .with_seed(p.seed);
    if let Some(d) = p.max_depth {
        params = params.with_max_depth(d);
    }
    // smartcore ends a node when none of its m sampled features offers a split
    // (scikit-learn keeps drawing). With sparse one-hot columns, √d starves the
    // trees (measured on examples/data: 50 nodes a tree, hold-out AUC 0.89);
    // max(√d, d/3) grows them as scikit-learn would (AUC 0.91).
    let d = x.ncols();
    let m = p
        .max_features
        .unwrap_or_else(|| ((d as f64).sqrt().ceil() as usize).max(d / 3))
        .clamp(1, d);
    params = params.with_m(m);
    let rf = RandomForestClassifier::fit(x, &ya, params).map_err(|e| failed("random forest", e))?;
    let raw = serde_json::to_value(&rf).map_err(|e| failed("random forest export", e))?;
    let sc: ScForest =
        serde_json::from_value(raw).map_err(|e| failed("random forest export", e))?;
    let (Some(sc_trees), Some(samples)) = (sc.trees, sc.samples) else {
        return Err(failed("random forest export", "no trees or in-bag samples"));
    };
    let mut trees = Vec::with_capacity(sc_trees.len());
    for (t, in_bag) in sc_trees.iter().zip(&samples) {
        trees.push(convert_tree(t, in_bag, x, y)?);
    }
    Ok((
        EstimatorSpec::RandomForest(RandomForestSpec { trees }),
        ScoreMapping::Identity,
    ))
}

/// Renumber a smartcore tree in pre-order (children after parents) and set
/// every node's value to the class-1 fraction of the tree's in-bag rows there.
fn convert_tree(t: &ScTree, in_bag: &[bool], x: &Array2<f64>, y: &[u8]) -> Result<ClassifierTree> {
    let n = t.nodes.len();
    let mut order = Vec::with_capacity(n);
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        order.push(i);
        if let (Some(l), Some(r)) = (t.nodes[i].true_child, t.nodes[i].false_child) {
            stack.push(r);
            stack.push(l);
        }
    }
    let mut new_of = vec![usize::MAX; n];
    for (k, &i) in order.iter().enumerate() {
        new_of[i] = k;
    }
    let mut out = ClassifierTree {
        feature: vec![],
        threshold: vec![],
        left: vec![],
        right: vec![],
        value: vec![],
    };
    for &i in &order {
        let node = &t.nodes[i];
        match (node.true_child, node.false_child, node.split_value) {
            (Some(l), Some(r), Some(v)) => {
                out.feature.push(node.split_feature as i64);
                out.threshold.push(v);
                out.left.push(new_of[l] as i64);
                out.right.push(new_of[r] as i64);
            }
            _ => {
                out.feature.push(-2);
                out.threshold.push(-2.0);
                out.left.push(-1);
                out.right.push(-1);
            }
        }
    }
    // Class-1 fraction per node from the in-bag rows.
    let mut pos = vec![0u64; order.len()];
    let mut tot = vec![0u64; order.len()];
    for (r, _) in in_bag.iter().enumerate().filter(|(_, b)| **b) {
        let mut i = 0usize;
        loop {
            tot[i] += 1;
            pos[i] += u64::from(y[r]);
            if out.left[i] < 0 {
                break;
            }
            let f = out.feature[i] as usize;
            i = if x[(r, f)] <= out.threshold[i] {
                out.left[i] as usize
            } else {
                out.right[i] as usize
            };
        }
    }
    for i in 0..order.len() {
        out.value.push(if tot[i] > 0 {
            pos[i] as f64 / tot[i] as f64
        } else {
            0.0
        });
    }
    // A node no in-bag row reaches (possible only through ties) takes its parent's value.
    for i in 0..order.len() {
        for c in [out.left[i], out.right[i]] {
            if c > 0 && tot[c as usize] == 0 {
                out.value[c as usize] = out.value[i];
            }
        }
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
struct ScKmeans {
    centroids: Vec<Vec<f64>>,
}

fn fit_kmeans(
    x: &Array2<f64>,
    y: &Target<'_>,
    p: &TrainParams,
) -> Result<(EstimatorSpec, ScoreMapping)> {
    let mut params = KMeansParameters::default()
        .with_k(p.k)
        .with_max_iter(p.max_iter);
    params.seed = Some(p.seed);
    let km: KMeans<f64, u32, Array2<f64>, Array1<u32>> =
        KMeans::fit(x, params).map_err(|e| failed("k-means", e))?;
    let sc: ScKmeans = serde_json::to_value(&km)
        .and_then(serde_json::from_value)
        .map_err(|e| failed("k-means export", e))?;
    let spec = KmeansSpec {
        cluster_risk: vec![0.0; sc.centroids.len()],
        centroids: sc.centroids,
    };
    // Assign with the scorer's own rule, so risks match what scoring will see.
    let compiled = EstimatorSpec::Kmeans(spec.clone()).compile(x.ncols())?;
    let flat: Vec<f64> = x.iter().copied().collect();
    let crate::estimators::Estimator::Kmeans(km) = &compiled else {
        unreachable!()
    };
    let clusters: Vec<usize> = flat
        .chunks_exact(x.ncols())
        .map(|r| km.nearest(r))
        .collect();
    let k = spec.centroids.len();
    let mut size = vec![0usize; k];
    let mut pos = vec![0usize; k];
    for (i, c) in clusters.iter().enumerate() {
        size[*c] += 1;
        if let Target::Classes(y) = y {
            pos[*c] += usize::from(y[i]);
        }
    }
    let largest = size.iter().copied().max().unwrap_or(1).max(1) as f64;
    let cluster_risk = (0..k)
        .map(|c| match y {
            Target::Classes(_) if size[c] > 0 => pos[c] as f64 / size[c] as f64,
            _ => 1.0 - size[c] as f64 / largest,
        })
        .collect();
    Ok((
        EstimatorSpec::Kmeans(KmeansSpec {
            cluster_risk,
            ..spec
        }),
        ScoreMapping::Identity,
    ))
}

/// PCA. Without a label, |z₁| is scored (far from the centre either way is
/// unusual). With a binary label, the first component is oriented so the
/// positives' mean projection is the higher one and the signed z₁ is scored:
/// "a threshold on the first principal component".
fn fit_pca(
    x: &Array2<f64>,
    y: &Target<'_>,
    p: &TrainParams,
) -> Result<(EstimatorSpec, ScoreMapping)> {
    let k = p.n_components.clamp(1, x.ncols());
    let m: PCA<f64, Array2<f64>> =
        PCA::fit(x, PCAParameters::default().with_n_components(k)).map_err(|e| failed("pca", e))?;
    let proj = m.components(); // d × k
    let (d, k) = (proj.nrows(), proj.ncols());
    let mean = column_means(x);
    let mut components: Vec<Vec<f64>> = (0..k)
        .map(|c| (0..d).map(|j| proj[(j, c)]).collect())
        .collect();
    let centred = x - &Array1::from(mean.clone());
    let absolute = match y {
        Target::Classes(labels) => {
            let z = centred.dot(&Array1::from(components[0].clone()));
            let mean_of = |want: u8| {
                let (sum, n) = z
                    .iter()
                    .zip(labels.iter())
                    .filter(|(_, l)| **l == want)
                    .fold((0.0, 0usize), |(s, n), (v, _)| (s + v, n + 1));
                sum / n.max(1) as f64
            };
            if mean_of(1) < mean_of(0) {
                components[0].iter_mut().for_each(|v| *v = -*v);
            }
            false
        }
        _ => true,
    };
    let explained_variance: Vec<f64> = components
        .iter()
        .map(|c| {
            let z = centred.dot(&Array1::from(c.clone()));
            z.mapv(|v| v * v).sum() / (x.nrows().max(2) - 1) as f64
        })
        .collect();
    // z1 (or |z1|) is scored; the logistic mapping is centred on its (1 − target FPR) quantile.
    let z1: Vec<f64> = centred
        .dot(&Array1::from(components[0].clone()))
        .iter()
        .map(|v| if absolute { v.abs() } else { *v })
        .collect();
    let center = super::eval::quantile(&z1, 1.0 - p.target_fpr);
    let scale = (explained_variance[0].sqrt() / 4.0).max(1e-9);
    let spec = PcaSpec {
        mean,
        components,
        explained_variance,
        absolute,
    };
    Ok((
        EstimatorSpec::Pca(spec),
        ScoreMapping::Logistic { center, scale },
    ))
}
