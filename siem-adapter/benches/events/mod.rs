//! The models and events both engine benches score: the scikit-learn peer's
//! six models, one per estimator, on its rows (`target/bench-peer`, made by
//! `bench/engine.sh`) as Splunk-like string fields, and the example
//! `threat_rf` on the example alerts, 4,096 events each.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Events per batch.
pub const BATCH: usize = 4096;

/// The peer's models (`bench_<name>.json`), one per estimator.
const PEER_MODELS: [&str; 6] = ["lr", "rf", "if", "linreg", "km", "pca"];

/// One benchmarked model: its name, its artifact, the events it scores.
pub type Case<'a> = (String, PathBuf, &'a [Map<String, Value>]);

/// Every benchmarked model: the peer's six on `peer`, then `threat_rf` on
/// `alerts`.
pub fn cases<'a>(
    d: &Path,
    peer: &'a [Map<String, Value>],
    alerts: &'a [Map<String, Value>],
) -> Vec<Case<'a>> {
    let mut v: Vec<_> = PEER_MODELS
        .iter()
        .map(|m| {
            (
                format!("bench_{m}"),
                d.join(format!("bench_{m}.json")),
                peer,
            )
        })
        .collect();
    v.push((
        "threat_rf".into(),
        repo().join("examples/models/threat_rf.json"),
        alerts,
    ));
    v
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `RISKSCORE_BENCH_DIR`, else `target/bench-peer`.
pub fn peer_dir() -> PathBuf {
    std::env::var("RISKSCORE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("target/bench-peer"))
}

/// The peer's first 4,096 rows, every value a string (as Splunk exports them).
pub fn peer_events(d: &Path) -> Vec<Map<String, Value>> {
    let text = std::fs::read_to_string(d.join("bench_rows.csv"))
        .expect("run bench/engine.sh: it makes target/bench-peer");
    assert!(
        d.join("bench_pca.json").exists(),
        "{} predates the six-estimator peer: rerun bench/engine.sh",
        d.display()
    );
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .take(BATCH)
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), Value::String(v.to_string())))
                .collect()
        })
        .collect()
}

/// The example alerts, repeated to 4,096.
pub fn alert_events() -> Vec<Map<String, Value>> {
    let text = std::fs::read_to_string(repo().join("examples/data/alerts_new.jsonl")).unwrap();
    let one: Vec<Map<String, Value>> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    one.iter().cycle().take(BATCH).cloned().collect()
}
