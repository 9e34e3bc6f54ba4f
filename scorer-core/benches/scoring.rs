//! Batch scoring throughput of each estimator, on the very models and rows the
//! scikit-learn peer (`bench/sklearn_peer.py`) trained and scored: logistic
//! regression on 32 features, a random forest of 100 trees (depth ≤ 12), an
//! isolation forest of 100 trees (ψ = 256), and linear regression, k-means
//! (8 clusters) and PCA on the same columns. Single-threaded, like the peer.
//!
//! Run through `bench/scoring.sh`, which makes the models, runs this bench and
//! the peer in one go and prints the ratios; or by hand:
//! `RISKSCORE_BENCH_DIR=target/bench-peer cargo bench -p scorer-core --bench scoring`.
//!
//! Before timing, every score is checked against scikit-learn's (≤ 1e-12).

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use scorer_core::{LoadOptions, Model, Scores};

fn dir() -> PathBuf {
    let d = PathBuf::from(
        std::env::var("RISKSCORE_BENCH_DIR").unwrap_or_else(|_| "../target/bench-peer".into()),
    );
    assert!(
        d.join("bench_rows.csv").exists(),
        "no benchmark models in {}: run bench/scoring.sh (it makes them with bench/sklearn_peer.py)",
        d.display()
    );
    d
}

fn rows(d: &std::path::Path) -> (Vec<f64>, usize) {
    let text = std::fs::read_to_string(d.join("bench_rows.csv")).unwrap();
    let mut lines = text.lines();
    let width = lines.next().unwrap().split(',').count();
    let x: Vec<f64> = lines
        .flat_map(|l| l.split(',').map(|v| v.parse::<f64>().unwrap()))
        .collect();
    (x, width)
}

fn bench(c: &mut Criterion) {
    let d = dir();
    let (x, width) = rows(&d);
    let n = x.len() / width;
    let events: Vec<serde_json::Value> = x
        .chunks_exact(width)
        .map(|r| {
            let m: serde_json::Map<String, serde_json::Value> = r
                .iter()
                .enumerate()
                .map(|(j, v)| (format!("f{j}"), serde_json::json!(v.to_string())))
                .collect();
            serde_json::Value::Object(m)
        })
        .collect();
    let mut g = c.benchmark_group("score_matrix");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(20);
    let mut models = Vec::new();
    for name in ["lr", "rf", "if", "linreg", "km", "pca"] {
        let bytes = std::fs::read(d.join(format!("bench_{name}.json"))).unwrap();
        let model = Model::load(&bytes, &LoadOptions::development()).unwrap();
        assert_eq!(model.width(), width);
        let expected: Vec<f64> = std::fs::read_to_string(d.join(format!("expected_{name}.txt")))
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        let mut s = Scores::default();
        model.score_matrix(&x, &mut s);
        let worst = s
            .score
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= 1e-12,
            "{name}: differs from scikit-learn by {worst}"
        );
        eprintln!("{name}: {n} rows, max |riskscore − scikit-learn| = {worst:e}");
        g.bench_function(BenchmarkId::new(name, n), |b| {
            b.iter(|| model.score_matrix(&x, &mut s))
        });
        models.push((name, model));
    }
    g.finish();
    // The whole path from raw event fields (text, as Splunk hands them over).
    let mut g = c.benchmark_group("featurize_and_score");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    for (name, model) in &models {
        let (mut batch, mut s) = (model.new_batch(), Scores::default());
        g.bench_function(BenchmarkId::new(*name, n), |b| {
            b.iter(|| model.score_events(&events, &mut batch, &mut s))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
