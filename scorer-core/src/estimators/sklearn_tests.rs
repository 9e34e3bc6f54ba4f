//! Every estimator against scikit-learn: the fixtures were exported and their
//! expected outputs computed by `tests/fixtures/sklearn/make_fixtures.py`
//! (scikit-learn's own `predict_proba`, `score_samples`, `predict`, `transform`).

use super::{Estimator, EstimatorSpec};
use crate::output::{Mapping, OutputSpec, ScoreMapping};

#[derive(serde::Deserialize)]
struct Fixture {
    estimator: EstimatorSpec,
    rows: Vec<Vec<f64>>,
    expected_raw: Vec<f64>,
    #[serde(default)]
    expected_score: Option<Vec<f64>>,
    #[serde(default)]
    expected_cluster: Option<Vec<usize>>,
    #[allow(dead_code)]
    sklearn_version: String,
}

fn load(text: &str) -> (Fixture, Estimator, Vec<f64>) {
    let f: Fixture = serde_json::from_str(text).unwrap();
    let width = f.rows[0].len();
    let est = f.estimator.compile(width).unwrap();
    let x: Vec<f64> = f.rows.concat();
    let mut raw = vec![0.0; f.rows.len()];
    est.raw(&x, width, &mut raw);
    (f, est, raw)
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = 1e-12 * w.abs().max(1.0);
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: got {g:e}, scikit-learn says {w:e}"
        );
    }
}

fn check_scores(name: &str, f: &Fixture, est: &Estimator, raw: &[f64], mapping: ScoreMapping) {
    let kind = f.estimator.kind();
    let m = Mapping::compile(
        &OutputSpec {
            score: mapping,
            threshold: 0.5,
        },
        kind,
        est.isolation_norm(),
    )
    .unwrap();
    let scores: Vec<f64> = raw.iter().map(|r| m.apply(*r)).collect();
    assert_close(
        &format!("{name} score"),
        &scores,
        f.expected_score.as_ref().unwrap(),
    );
}

#[test]
fn logistic_regression_matches_predict_proba() {
    let (f, est, raw) = load(include_str!(
        "../../tests/fixtures/sklearn/logistic_regression.json"
    ));
    assert_close("lr decision_function", &raw, &f.expected_raw);
    check_scores("lr", &f, &est, &raw, ScoreMapping::Sigmoid);
}

#[test]
fn linear_regression_matches_predict() {
    let (f, _, raw) = load(include_str!(
        "../../tests/fixtures/sklearn/linear_regression.json"
    ));
    assert_close("linear predict", &raw, &f.expected_raw);
}

#[test]
fn random_forest_matches_predict_proba() {
    let (f, est, raw) = load(include_str!(
        "../../tests/fixtures/sklearn/random_forest.json"
    ));
    assert_close("rf predict_proba", &raw, &f.expected_raw);
    check_scores("rf", &f, &est, &raw, ScoreMapping::Identity);
}

#[test]
fn isolation_forest_matches_score_samples() {
    let (f, est, raw) = load(include_str!(
        "../../tests/fixtures/sklearn/isolation_forest.json"
    ));
    assert_close("if mean path length", &raw, &f.expected_raw);
    check_scores("if", &f, &est, &raw, ScoreMapping::Isolation);
}

#[test]
fn kmeans_matches_predict() {
    let (f, est, raw) = load(include_str!("../../tests/fixtures/sklearn/kmeans.json"));
    let Estimator::Kmeans(km) = &est else {
        panic!("not kmeans")
    };
    let clusters: Vec<usize> = f.rows.iter().map(|r| km.nearest(r)).collect();
    assert_eq!(&clusters, f.expected_cluster.as_ref().unwrap());
    assert_close("kmeans risk", &raw, &f.expected_raw);
}

#[test]
fn pca_matches_transform() {
    let (f, _, raw) = load(include_str!("../../tests/fixtures/sklearn/pca.json"));
    assert_close("pca transform[:,0]", &raw, &f.expected_raw);
}

#[test]
fn explanations_add_up_where_exact() {
    // Linear: contributions (reference 0) + intercept = raw.
    let (f, est, raw) = load(include_str!(
        "../../tests/fixtures/sklearn/logistic_regression.json"
    ));
    let EstimatorSpec::LogisticRegression(spec) = &f.estimator else {
        panic!()
    };
    for (row, r) in f.rows.iter().zip(&raw) {
        let mut c = vec![0.0; row.len()];
        est.contributions(row, &mut c);
        let total: f64 = c.iter().sum::<f64>() + spec.intercept;
        assert!((total - r).abs() <= 1e-9 * r.abs().max(1.0));
    }
    // Random forest (Saabas): contributions + mean root value = probability.
    let (f, est, raw) = load(include_str!(
        "../../tests/fixtures/sklearn/random_forest.json"
    ));
    let EstimatorSpec::RandomForest(spec) = &f.estimator else {
        panic!()
    };
    let bias: f64 = spec.trees.iter().map(|t| t.value[0]).sum::<f64>() / spec.trees.len() as f64;
    for (row, r) in f.rows.iter().zip(&raw) {
        let mut c = vec![0.0; row.len()];
        est.contributions(row, &mut c);
        assert!((c.iter().sum::<f64>() + bias - r).abs() < 1e-12);
    }
}
