//! The shipped example models: signed with the development key, approved,
//! loadable under production rules, and useful on the held-back example alerts.

use riskscore_tests::repo;
use scorer_core::artifact::parse_public_key;
use scorer_core::train::roc_auc;
use scorer_core::{LoadOptions, Model, Scores};

fn production() -> LoadOptions {
    let pk = std::fs::read_to_string(repo().join("examples/keys/dev-signing.pub")).unwrap();
    LoadOptions::production(vec![parse_public_key(&pk).unwrap()])
}

#[test]
fn example_models_verify_under_production_rules() {
    for name in ["threat_rf", "threat_lr", "session_iforest"] {
        let bytes = std::fs::read(repo().join(format!("examples/models/{name}.json"))).unwrap();
        let m = Model::load(&bytes, &production()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(m.signature().is_verified(), "{name}");
        assert!(m.artifact().baseline.is_some(), "{name}: baseline");
        assert!(m.metadata().metrics.is_some(), "{name}: metrics");
    }
}

#[test]
fn threat_models_rank_unseen_alerts() {
    let events: Vec<serde_json::Value> =
        std::fs::read_to_string(repo().join("examples/data/alerts_new.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::Null))
            .collect();
    let labels: Vec<u8> =
        std::fs::read_to_string(repo().join("examples/data/alerts_new_labels.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().trim().parse().unwrap())
            .collect();
    assert_eq!(events.len(), labels.len());
    for name in ["threat_rf", "threat_lr"] {
        let bytes = std::fs::read(repo().join(format!("examples/models/{name}.json"))).unwrap();
        let m = Model::load(&bytes, &production()).unwrap();
        let (mut batch, mut s) = (m.new_batch(), Scores::default());
        m.score_events(&events, &mut batch, &mut s);
        // Skip the deliberately broken lines (10, 500, 999).
        let keep: Vec<usize> = (0..events.len())
            .filter(|i| ![9, 499, 998].contains(i))
            .collect();
        let scores: Vec<f64> = keep.iter().map(|&i| s.score[i]).collect();
        let y: Vec<u8> = keep.iter().map(|&i| labels[i]).collect();
        let auc = roc_auc(&scores, &y).unwrap();
        eprintln!("{name}: ROC AUC on alerts_new = {auc:.4}");
        assert!(auc > 0.8, "{name}: AUC {auc}");
    }
}
