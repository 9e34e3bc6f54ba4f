//! `siem-adapter serve` watching drift across requests: a remediation-days
//! model of clients 1 and 2 (synthetic, `riskscore_tests::synthetic`), fed
//! client 1 and then client 3 — the window that ends with each request is
//! judged; `suppress` and `fail` act on the answers, `/metrics` shows it.

mod serve_support;

use std::path::{Path, PathBuf};

use riskscore_tests::synthetic::{remediation, train_remediation_model};
use serde_json::Value;
use serve_support::*;

fn lines(rows: &[serde_json::Map<String, Value>]) -> String {
    rows.iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect()
}

fn model(dir: &Path) -> PathBuf {
    train_remediation_model(Path::new(env!("CARGO_BIN_EXE_siem-adapter")), dir)
}

fn post(s: &Server, client: u8, seed: u64) -> (u16, Vec<Value>, String) {
    let (status, _, body) = s.score(
        Some("application/x-ndjson"),
        lines(&remediation(client, 100, seed)).as_bytes(),
    );
    let events = if status == 200 {
        body.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    } else {
        Vec::new()
    };
    (status, events, body)
}

#[test]
fn suppress_holds_flags_once_the_window_drifts_and_metrics_show_it() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path());
    let s = Server::start(&[
        "--allow-unsigned",
        "--model",
        m.to_str().unwrap(),
        "--threshold",
        "0.5",
        "--drift",
        "suppress",
        "--drift-window",
        "300",
        "--drift-min-events",
        "200",
    ]);
    for seed in 0..3 {
        let (status, events, _) = post(&s, 1, 100 + seed);
        assert_eq!(status, 200);
        assert!(events.iter().all(|e| e.get("model_drift").is_none()));
    }
    let prom = s.metrics();
    assert!(
        prom.contains("riskscore_drift_status{model=\"remediation@1.0.0\",engine=\"wasm\"} 0"),
        "{prom}"
    );
    assert!(prom
        .contains("riskscore_score{model=\"remediation@1.0.0\",engine=\"wasm\",quantile=\"0.5\"}"));
    // Client 3 takes over: within three requests the 300-event window is all client 3.
    let mut last = Vec::new();
    for seed in 0..3 {
        let (status, events, _) = post(&s, 3, 200 + seed);
        assert_eq!(status, 200);
        last = events;
    }
    assert_eq!(last.len(), 100);
    for e in &last {
        assert_eq!(e["model_drift"], 1, "{e}");
        assert_eq!(e["anomaly_flag"], 0);
        assert!(e["risk_error"]
            .as_str()
            .unwrap()
            .starts_with("anomaly_flag suppressed: model drift"));
        assert!(e["model_output_risk_score"].is_number());
    }
    let prom = s.metrics();
    assert!(
        prom.contains("riskscore_drift_status{model=\"remediation@1.0.0\",engine=\"wasm\"} 2"),
        "{prom}"
    );
    assert!(prom.contains("riskscore_drift_psi{model=\"remediation@1.0.0\",engine=\"wasm\",feature=\"open_findings\"}"));
    assert!(prom.contains("riskscore_drift_missing_share{model=\"remediation@1.0.0\",engine=\"wasm\",field=\"cvss\"} 0"));
}

#[test]
fn fail_answers_503_while_drift_lasts() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path());
    let s = Server::start(&[
        "--allow-unsigned",
        "--model",
        m.to_str().unwrap(),
        "--engine",
        "native",
        "--drift",
        "fail",
        "--drift-window",
        "200",
        "--drift-min-events",
        "200",
    ]);
    assert_eq!(post(&s, 1, 1).0, 200);
    assert_eq!(post(&s, 1, 2).0, 200);
    let (status, _, body) = post(&s, 3, 3);
    let (status2, _, body2) = post(&s, 3, 4);
    assert!(status == 503 || status2 == 503, "{body}{body2}");
    assert!(format!("{body}{body2}").contains("model drift (action fail)"));
}
