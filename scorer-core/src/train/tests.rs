use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::{Approval, Metadata};

/// 400 rows: `x` and `y` numeric, `proto` categorical, `_time`, label = x + y > 1 (+ noise),
/// plus a few far outliers for the anomaly detectors.
fn table() -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut t = Table::new(vec![
        "x".into(),
        "y".into(),
        "proto".into(),
        "_time".into(),
        "label".into(),
    ])
    .unwrap();
    for i in 0..400 {
        let (x, y): (f64, f64) = if i % 100 == 0 {
            (25.0, -20.0)
        } else {
            (rng.gen(), rng.gen())
        };
        let proto = ["tcp", "udp", "icmp"][rng.gen_range(0..3)];
        let label = u8::from(x + y > 1.0) ^ u8::from(rng.gen::<f64>() < 0.03);
        t.push_row(vec![
            Some(format!("{x}")),
            Some(format!("{y}")),
            Some(proto.into()),
            Some(format!("{}", 1_700_000_000 + i * 600)),
            Some(label.to_string()),
        ])
        .unwrap();
    }
    t
}

fn spec(a: Algorithm, label: bool) -> TrainSpec {
    TrainSpec {
        algorithm: a,
        label: label.then(|| "label".into()),
        features: vec!["x".into(), "y".into(), "proto".into(), "_time".into()],
        schema: None,
        metadata: Metadata {
            name: "t".into(),
            version: "1".into(),
            description: String::new(),
            author: String::new(),
            created: "2026-01-01T00:00:00Z".into(),
            training_data: "synthetic".into(),
            approval: Approval::Draft,
            metrics: None,
            tags: vec![],
        },
        params: TrainParams {
            n_trees: 20,
            cv_folds: 3,
            k: 4,
            ..TrainParams::default()
        },
    }
}

fn score_xy(m: &crate::Model, x: f64, y: f64) -> f64 {
    let e = serde_json::json!({"x": x, "y": y, "proto": "tcp", "_time": 1_700_000_000});
    let (mut b, mut s) = (m.new_batch(), crate::Scores::default());
    m.score_events(&[e], &mut b, &mut s);
    s.score[0]
}

#[test]
fn every_algorithm_trains_a_loadable_evaluated_artifact() {
    let t = table();
    for a in Algorithm::ALL {
        let label = a != Algorithm::Pca;
        let art = train(&t, &spec(a, label)).unwrap_or_else(|e| panic!("{}: {e}", a.name()));
        assert_eq!(art.estimator.kind(), a.name());
        let m = crate::Model::compile(art.clone()).unwrap();
        let metrics = art.metadata.metrics.as_ref().unwrap();
        assert_eq!(metrics.rows, 400);
        assert!(metrics.threshold.is_some());
        let b = art.baseline.as_ref().unwrap();
        assert_eq!(b.columns.len(), m.width());
        assert_eq!(b.score.counts.iter().sum::<u64>(), 400);
        if a.supervised() && a != Algorithm::LinearRegression {
            let auc = metrics.holdout.as_ref().unwrap().roc_auc.unwrap();
            assert!(auc > 0.85, "{}: hold-out AUC {auc}", a.name());
            assert!(
                metrics
                    .cross_validation
                    .as_ref()
                    .unwrap()
                    .mean
                    .roc_auc
                    .unwrap()
                    > 0.85
            );
            // Oriented the right way: a clear positive scores above a clear negative.
            assert!(
                score_xy(&m, 0.95, 0.95) > score_xy(&m, 0.05, 0.05),
                "{}",
                a.name()
            );
        }
    }
}

#[test]
fn regression_reports_r2_and_rmse() {
    let art = train(&table(), &spec(Algorithm::LinearRegression, true)).unwrap();
    let h = art.metadata.metrics.unwrap().holdout.unwrap();
    assert!(h.r2.is_some() && h.rmse.is_some());
}

#[test]
fn anomaly_detectors_rank_the_outliers_high() {
    for a in [
        Algorithm::IsolationForest,
        Algorithm::Kmeans,
        Algorithm::Pca,
    ] {
        let mut s = spec(a, false);
        s.params.k = 3;
        let m = crate::Model::compile(train(&table(), &s).unwrap()).unwrap();
        let outlier = score_xy(&m, 25.0, -20.0);
        let normal = score_xy(&m, 0.5, 0.5);
        assert!(
            outlier > normal,
            "{}: outlier {outlier} vs normal {normal}",
            a.name()
        );
    }
}

#[test]
fn training_is_deterministic_under_a_seed() {
    let t = table();
    for a in [
        Algorithm::RandomForest,
        Algorithm::IsolationForest,
        Algorithm::Kmeans,
    ] {
        let s = spec(a, a == Algorithm::RandomForest);
        let one = train(&t, &s).unwrap();
        let two = train(&t, &s).unwrap();
        assert_eq!(one, two, "{}", a.name());
        let mut other = s.clone();
        other.params.seed = 7;
        assert_ne!(
            train(&t, &other).unwrap().estimator,
            one.estimator,
            "{}",
            a.name()
        );
    }
}

#[test]
fn clear_errors_for_bad_tables() {
    let t = table();
    let mut s = spec(Algorithm::RandomForest, false);
    assert!(train(&t, &s)
        .unwrap_err()
        .to_string()
        .contains("needs a label column"));
    s.label = Some("nope".into());
    assert!(train(&t, &s)
        .unwrap_err()
        .to_string()
        .contains("label column `nope` is not in the table"));
    s.label = Some("label".into());
    s.features.push("missing_col".into());
    assert!(train(&t, &s)
        .unwrap_err()
        .to_string()
        .contains("feature `missing_col` is not a column"));
    let mut bad = Table::new(vec!["x".into(), "label".into()]).unwrap();
    for i in 0..20 {
        bad.push_row(vec![
            Some(i.to_string()),
            Some(if i == 5 { "maybe".into() } else { "0".into() }),
        ])
        .unwrap();
    }
    let mut s = spec(Algorithm::LogisticRegression, true);
    s.features = vec!["x".into()];
    let e = train(&bad, &s).unwrap_err().to_string();
    assert!(e.contains("row 6") && e.contains("maybe"), "{e}");
}

#[test]
fn isolation_forest_trees_respect_the_height_limit() {
    let x = ndarray::Array2::from_shape_fn((1000, 3), |(i, j)| ((i * 7 + j * 13) % 101) as f64);
    let f = fit_isolation_forest(
        x.view(),
        &IsolationParams {
            n_trees: 10,
            sample_size: 256,
            seed: 3,
        },
    );
    assert_eq!(f.sample_size, 256);
    for t in &f.trees {
        assert_eq!(t.n_samples[0], 256);
        let depth = crate::estimators::TreeArrays {
            feature: t.feature.clone(),
            threshold: t.threshold.clone(),
            left: t.left.clone(),
            right: t.right.clone(),
        }
        .validate("t", 3, &[])
        .unwrap();
        assert!(depth.iter().all(|d| *d <= 8));
    }
}

#[test]
fn a_given_schema_is_used_as_is() {
    let schema: crate::Schema = serde_json::from_value(serde_json::json!({"features": [
        {"field": "x", "transform": {"kind": "number", "clip": [0, 1]}},
        {"field": "proto", "name": "protocol", "transform": {"kind": "one_hot", "categories": ["tcp"], "other": false}}
    ]}))
    .unwrap();
    let mut s = spec(Algorithm::RandomForest, true);
    s.schema = Some(schema.clone());
    let art = train(&table(), &s).unwrap();
    assert_eq!(art.schema, schema);
    assert_eq!(crate::Model::compile(art).unwrap().width(), 2);
}

/// The rows `rows` of `t`, in that order, as a table of their own.
fn rows_of(t: &Table, rows: &[usize]) -> Table {
    let cols: Vec<Vec<Option<String>>> = t
        .columns()
        .iter()
        .map(|c| t.column(c).unwrap().map(|v| v.map(String::from)).collect())
        .collect();
    let mut out = Table::new(t.columns().to_vec()).unwrap();
    for &r in rows {
        out.push_row(cols.iter().map(|c| c[r].clone()).collect())
            .unwrap();
    }
    out
}

#[test]
fn evaluate_holdout_measures_on_the_rows_train_held_out() {
    // Refit on exactly the rows train fitted its hold-out model on (same schema,
    // same order): measured on the held-out rows, it reproduces the stored metrics.
    let t = table();
    for a in [Algorithm::LinearRegression, Algorithm::LogisticRegression] {
        let s = spec(a, true);
        let art = train(&t, &s).unwrap();
        let stored = art
            .metadata
            .metrics
            .as_ref()
            .unwrap()
            .holdout
            .clone()
            .unwrap();
        let (held_out, fitted_on) = holdout_split(t.len(), s.params.seed);
        assert_eq!(stored.rows, held_out.len() as u64);
        let mut refit_spec = s.clone();
        refit_spec.schema = Some(art.schema.clone());
        let refit = train(&rows_of(&t, &fitted_on), &refit_spec).unwrap();
        let mut model = crate::Model::compile(refit).unwrap();
        model.set_threshold(art.output.threshold).unwrap();
        let m = evaluate_holdout(&model, &t, &s).unwrap();
        assert_eq!(m, evaluate_rows(&model, &t, &s, &held_out).unwrap());
        assert_eq!(m.rows, stored.rows, "{}", a.name());
        for (got, want) in [
            (m.roc_auc, stored.roc_auc),
            (m.precision, stored.precision),
            (m.recall, stored.recall),
            (m.false_positive_rate, stored.false_positive_rate),
            (m.r2, stored.r2),
            (m.rmse, stored.rmse),
        ] {
            assert_eq!(got.is_some(), want.is_some(), "{}", a.name());
            if let (Some(g), Some(w)) = (got, want) {
                assert!((g - w).abs() < 1e-9, "{}: {g} vs {w}", a.name());
            }
        }
    }
}

#[test]
fn evaluate_rows_needs_a_label_and_rows_in_the_table() {
    let t = table();
    let model =
        crate::Model::compile(train(&t, &spec(Algorithm::LogisticRegression, true)).unwrap())
            .unwrap();
    let e = evaluate_holdout(&model, &t, &spec(Algorithm::LogisticRegression, false));
    assert!(e.unwrap_err().to_string().contains("needs a label column"));
    let e = evaluate_rows(
        &model,
        &t,
        &spec(Algorithm::LogisticRegression, true),
        &[400],
    );
    assert!(e.unwrap_err().to_string().contains("row 400 is outside"));
}

/// Rows where the label runs *against* the main axis of variation: `a` and
/// `b` move together (the first component) and positives sit at its low end.
fn reversed_table() -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut t = Table::new(vec!["a".into(), "b".into(), "label".into()]).unwrap();
    for _ in 0..600 {
        let a: f64 = rng.gen_range(0.0..10.0);
        let b: f64 = a / 10.0 + rng.gen_range(0.0..0.2);
        let label = u8::from(a < 3.0) ^ u8::from(rng.gen::<f64>() < 0.05);
        t.push_row(vec![
            Some(a.to_string()),
            Some(b.to_string()),
            Some(label.to_string()),
        ])
        .unwrap();
    }
    t
}

#[test]
fn labelled_pca_and_kmeans_use_the_label_in_every_fit() {
    let t = reversed_table();
    for a in [Algorithm::Pca, Algorithm::Kmeans] {
        let mut s = spec(a, true);
        s.features = vec!["a".into(), "b".into()];
        let art = train(&t, &s).unwrap();
        let m = art.metadata.metrics.as_ref().unwrap();
        // Cross-validation and hold-out fit with the label like the final
        // model does, so their AUC is the shipped model's kind of AUC.
        let cv = m.cross_validation.as_ref().unwrap().mean.roc_auc.unwrap();
        let ho = m.holdout.as_ref().unwrap().roc_auc.unwrap();
        assert!(cv > 0.85 && ho > 0.85, "{}: cv {cv} holdout {ho}", a.name());
        assert_eq!(
            m.threshold.as_ref().unwrap().method,
            "out_of_fold",
            "{}",
            a.name()
        );
        if let EstimatorSpec::Pca(p) = &art.estimator {
            assert!(
                !p.absolute,
                "a labelled PCA scores the signed, oriented projection"
            );
        }
    }
    // Without a label PCA still scores |z1|.
    let mut s = spec(Algorithm::Pca, false);
    s.features = vec!["a".into(), "b".into()];
    let EstimatorSpec::Pca(p) = train(&t, &s).unwrap().estimator else {
        unreachable!()
    };
    assert!(p.absolute);
}
