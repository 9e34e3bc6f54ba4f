//! `siem-adapter score` watching drift end to end: a linear model of
//! remediation days trained on clients 1 and 2 (synthetic, seeded: see
//! `riskscore_tests::synthetic`), then a stream where client 3 takes over.
//! Each action of the policy (`flag`, `suppress`, `fail`), the summary events
//! (file and HTTP Event Collector *test server*, not Splunk), the metrics
//! gauges and the report file; both engines give the same report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use riskscore_tests::hec_server::{HecTestConfig, HecTestServer, TEST_TOKEN};
use riskscore_tests::synthetic::{remediation, train_remediation_model, write_jsonl};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Setup {
    dir: tempfile::TempDir,
    model: PathBuf,
    input: PathBuf,
}

/// A model of clients 1 and 2, and a stream: 1000 events of client 1, then 1500 of client 3.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let model = train_remediation_model(Path::new(env!("CARGO_BIN_EXE_siem-adapter")), dir.path());
    let mut stream = remediation(1, 1000, 7);
    stream.extend(remediation(3, 1500, 8));
    for (i, e) in stream.iter_mut().enumerate() {
        e.insert("event_id".into(), i.into());
    }
    let input = dir.path().join("stream.jsonl");
    write_jsonl(&input, &stream);
    Setup { dir, model, input }
}

fn score(s: &Setup, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    c.args(["score", "--allow-unsigned", "--model"])
        .arg(&s.model)
        .arg("--input")
        .arg(&s.input)
        .arg("--cache-dir")
        .arg(root().join("target/test-module-cache"))
        .args(["--batch-size", "100", "--drift-window", "500"])
        .args(extra);
    c
}

fn run(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The run's events (summary events left out), checked complete and in order.
fn events(all: &[Value]) -> Vec<&Value> {
    let ev: Vec<&Value> = all
        .iter()
        .filter(|e| e.get("sourcetype") != Some(&"riskscore:drift".into()))
        .collect();
    let ids: Vec<u64> = ev.iter().map(|e| e["event_id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (0..2500).collect::<Vec<u64>>());
    ev
}

#[test]
fn flag_marks_the_drifted_events_and_emits_summaries() {
    let s = setup();
    let out_path = s.dir.path().join("flag.jsonl");
    let metrics = s.dir.path().join("m.prom");
    let report = s.dir.path().join("drift.json");
    let out = run(score(&s, &["--drift", "flag", "--output"])
        .arg(&out_path)
        .arg("--metrics-file")
        .arg(&metrics)
        .arg("--drift-report")
        .arg(&report));
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("drift (run, action flag): drift over 2500 events"),
        "{stderr}"
    );
    let all = lines(&out_path);
    let ev = events(&all);
    assert!(ev[..500].iter().all(|e| e.get("model_drift").is_none()));
    assert!(ev[2000..].iter().all(|e| e["model_drift"] == 1));
    assert!(ev.iter().all(|e| e.get("risk_error").is_none()));
    let summaries: Vec<&Value> = all
        .iter()
        .filter(|e| e["sourcetype"] == "riskscore:drift")
        .collect();
    assert!(!summaries.is_empty());
    let last = summaries.last().unwrap();
    assert_eq!(last["drift_scope"], "run");
    assert_eq!(last["drift_status"], "drift");
    assert_eq!(last["risk_model"], "remediation@1.0.0");
    assert!(last["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["column"] == "open_findings"));
    // Metrics: per-feature PSI, status 2 (drift), score quantiles, flagged rate.
    let prom = std::fs::read_to_string(&metrics).unwrap();
    for needle in [
        "riskscore_drift_psi{model=\"remediation@1.0.0\",engine=\"wasm\",feature=\"open_findings\"}",
        "riskscore_drift_status{model=\"remediation@1.0.0\",engine=\"wasm\"} 2",
        "riskscore_drift_missing_share{",
        "riskscore_score{model=\"remediation@1.0.0\",engine=\"wasm\",quantile=\"0.99\"}",
        "riskscore_flagged_ratio{",
    ] {
        assert!(prom.contains(needle), "{needle} not in\n{prom}");
    }
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let reports = r["reports"].as_array().unwrap();
    // Five periodic windows (every 500 events) and the run.
    assert_eq!(reports.len(), 6, "{reports:#?}");
    assert_eq!(reports[0]["assessment"]["status"], "stable");
    assert_eq!(reports[5]["scope"], "run");
}

#[test]
fn suppress_holds_flags_and_says_why() {
    let s = setup();
    let out_path = s.dir.path().join("suppress.jsonl");
    // A low threshold so client 3's long remediation times would raise flags.
    let out = run(score(
        &s,
        &["--drift", "suppress", "--threshold", "0.5", "--output"],
    )
    .arg(&out_path));
    assert_eq!(
        out.status.code(),
        Some(1),
        "suppressed events carry risk_error"
    );
    let all = lines(&out_path);
    let ev = events(&all);
    assert!(ev[..500].iter().any(|e| e["anomaly_flag"] == 1));
    for e in &ev[2000..] {
        assert_eq!(e["anomaly_flag"], 0);
        assert_eq!(e["model_drift"], 1);
        let why = e["risk_error"].as_str().unwrap();
        assert!(
            why.starts_with("anomaly_flag suppressed: model drift (drift over"),
            "{why}"
        );
        assert!(e["model_output_risk_score"].is_number(), "scores are kept");
    }
}

#[test]
fn fail_stops_the_run_with_a_report() {
    let s = setup();
    let out_path = s.dir.path().join("fail.jsonl");
    let out = run(score(&s, &["--drift", "fail", "--output"]).arg(&out_path));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("model drift (action fail) at event"),
        "{stderr}"
    );
    assert!(stderr.contains("open_findings psi"), "{stderr}");
    assert!(
        !out_path.exists(),
        "a failed run leaves no partial output file"
    );
    // Off: nothing measured, nothing marked.
    let out = run(score(&s, &["--drift", "off", "--output"]).arg(&out_path));
    assert_eq!(out.status.code(), Some(0));
    assert!(lines(&out_path)
        .iter()
        .all(|e| e.get("model_drift").is_none()));
}

#[test]
fn engines_agree_on_the_drift_report() {
    let s = setup();
    let mut reports = Vec::new();
    for engine in ["wasm", "native"] {
        let (o, r) = (
            s.dir.path().join("o.jsonl"),
            s.dir.path().join(format!("{engine}.json")),
        );
        let out = run(
            score(&s, &["--engine", engine, "--drift", "report", "--output"])
                .arg(&o)
                .arg("--drift-report")
                .arg(&r),
        );
        assert_eq!(out.status.code(), Some(0));
        // `report` measures only: no marks, no summary events.
        assert!(lines(&o).iter().all(|e| e.get("model_drift").is_none()));
        assert_eq!(lines(&o).len(), 2500);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&r).unwrap()).unwrap();
        reports.push(v["reports"].clone());
    }
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[0][5]["assessment"]["status"], "drift");
}

#[test]
fn summaries_reach_the_event_collector_beside_the_events() {
    let s = setup();
    let token = s.dir.path().join("hec.token");
    std::fs::write(&token, format!("{TEST_TOKEN}\n")).unwrap();
    for ack in [false, true] {
        let server = HecTestServer::start(HecTestConfig::default().acks(ack)).unwrap();
        let mut c = score(&s, &["--drift", "flag", "--hec-url", &server.url()]);
        c.arg("--hec-token-file").arg(&token);
        if ack {
            c.args(["--hec-ack", "--hec-ack-interval-ms", "20"]);
        }
        let out = run(c.env_remove("RISKSCORE_HEC_TOKEN"));
        assert_eq!(out.status.code(), Some(0));
        let stored = server.events();
        let (summaries, events): (Vec<&Value>, Vec<&Value>) = stored
            .iter()
            .partition(|e| e["sourcetype"] == "riskscore:drift");
        assert_eq!(events.len(), 2500, "every event delivered once (ack {ack})");
        assert!(!summaries.is_empty(), "ack {ack}");
        assert_eq!(summaries.last().unwrap()["event"]["drift_scope"], "run");
        assert_eq!(summaries.last().unwrap()["source"], "siem-adapter");
    }
}
