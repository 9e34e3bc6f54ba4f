//! Proof of the drift statistics and policy (scorer-core, the code every
//! runtime runs) on synthetic shifts of the remediation records
//! ([`riskscore_tests::synthetic`]): a linear model fitted on clients 1
//! and 2 — drift is found when the data moves (mean shift, new category,
//! missing field, client 3, on which the model also fails) and not on fresh
//! samples of the training distribution. Rates over many seeds are printed
//! (`cargo test -p riskscore-tests --test drift -- --nocapture`) and recorded
//! in `docs/drift.md`.

use riskscore_tests::synthetic::{remediation, FEATURES, TARGET};
use scorer_core::drift::{DriftPolicy, DriftStatus};
use scorer_core::train::{regression_metrics, train, Algorithm, Table, TrainParams, TrainSpec};
use scorer_core::{Approval, Metadata, Model, Scores};
use serde_json::{Map, Value};

fn model() -> Model {
    let mut rows = remediation(1, 2000, 1);
    rows.extend(remediation(2, 2000, 2));
    let table = Table::from_json_rows(&rows).unwrap();
    let spec = TrainSpec {
        algorithm: Algorithm::LinearRegression,
        label: Some(TARGET.into()),
        features: FEATURES.iter().map(|f| f.to_string()).collect(),
        schema: None,
        metadata: Metadata {
            name: "remediation_days".into(),
            version: "1".into(),
            description: String::new(),
            author: String::new(),
            created: "2026-01-01T00:00:00Z".into(),
            training_data: "synthetic clients 1 and 2".into(),
            approval: Approval::Draft,
            metrics: None,
            tags: vec![],
        },
        params: TrainParams {
            cv_folds: 0,
            ..TrainParams::default()
        },
    };
    Model::compile(train(&table, &spec).unwrap()).unwrap()
}

/// Score `rows`; the raw predictions and the policy's verdict on them as one window.
fn judge(m: &Model, rows: &[Map<String, Value>], policy: &DriftPolicy) -> (Vec<f64>, DriftStatus) {
    let events: Vec<Value> = rows.iter().cloned().map(Value::Object).collect();
    let (mut batch, mut scores) = (m.new_batch(), Scores::default());
    m.score_events(&events, &mut batch, &mut scores);
    let mut counts = m.drift_counts().unwrap();
    counts.add(m.artifact().baseline.as_ref().unwrap(), &batch, &scores);
    let report = m.drift_report(&counts).unwrap();
    (scores.raw.clone(), policy.assess(&report).status)
}

fn truth(rows: &[Map<String, Value>]) -> Vec<f64> {
    rows.iter().map(|r| r[TARGET].as_f64().unwrap()).collect()
}

/// Shifts applied to fresh client-1/2 samples.
fn shifted(kind: &str, seed: u64, n: usize) -> Vec<Map<String, Value>> {
    let mut rows = remediation(1 + (seed % 2) as u8, n, 10_000 + seed);
    for (i, r) in rows.iter_mut().enumerate() {
        match kind {
            "baseline" => {}
            // One training standard deviation (≈ 3.6) more open findings.
            "mean shift" => {
                let v = r["open_findings"].as_f64().unwrap();
                r.insert("open_findings".into(), (v + 3.6).into());
            }
            // A third of the assets run an OS the model never saw.
            "new category" => {
                if i % 3 == 0 {
                    r.insert("os".into(), "appliance".into());
                }
            }
            // A collector change drops the field.
            "missing field" => {
                r.remove("asset_criticality");
            }
            _ => unreachable!(),
        }
    }
    rows
}

#[test]
fn linear_model_fits_clients_1_and_2_and_fails_on_client_3() {
    let m = model();
    let policy = DriftPolicy::default();
    for (client, seed) in [(1u8, 101u64), (2, 102), (3, 103)] {
        let rows = remediation(client, 2000, seed);
        let (pred, status) = judge(&m, &rows, &policy);
        let r2 = regression_metrics(&pred, &truth(&rows)).r2.unwrap();
        println!("client {client}: R² {r2:.3}, drift status {status:?}");
        if client == 3 {
            assert!(r2 < 0.0, "client 3 R² {r2}");
            assert_eq!(status, DriftStatus::Drift);
        } else {
            assert!(r2 > 0.85, "client {client} R² {r2}");
            assert!(status <= DriftStatus::Watch, "client {client}: {status:?}");
        }
    }
}

#[test]
fn drift_is_found_when_the_data_moves_and_not_otherwise() {
    let m = model();
    let policy = DriftPolicy::default();
    let seeds = 200u64;
    println!("| case | window | seeds | drift | watch |");
    println!("|---|---|---|---|---|");
    for n in [100usize, 500, 5000] {
        // Windows under the default 500 events are judged only when asked
        // for (`--drift-min-events 100`): reported, to show the cost.
        let policy = DriftPolicy {
            min_rows: n.min(500) as u64,
            ..policy.clone()
        };
        for kind in [
            "baseline",
            "mean shift",
            "new category",
            "missing field",
            "client 3",
        ] {
            let runs = if n == 5000 { seeds / 4 } else { seeds };
            let (mut drift, mut watch) = (0u64, 0u64);
            for seed in 0..runs {
                let rows = match kind {
                    "client 3" => remediation(3, n, 20_000 + seed),
                    k => shifted(k, seed, n),
                };
                match judge(&m, &rows, &policy).1 {
                    DriftStatus::Drift => drift += 1,
                    DriftStatus::Watch => watch += 1,
                    _ => {}
                }
            }
            let pct = |c: u64| 100.0 * c as f64 / runs as f64;
            println!(
                "| {kind} | {n} | {runs} | {:.1}% | {:.1}% |",
                pct(drift),
                pct(watch)
            );
            if n < 500 {
                continue;
            }
            if kind == "baseline" {
                // False alarms: a fresh sample of the training distribution.
                assert!(
                    pct(drift) <= 1.0,
                    "false drift rate {}% at n={n}",
                    pct(drift)
                );
            } else {
                assert_eq!(drift, runs, "{kind} at n={n}: found in {drift} of {runs}");
            }
        }
    }
}
