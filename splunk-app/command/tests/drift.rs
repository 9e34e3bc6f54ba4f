//! `| riskdrift`: the map phase on chunks of events (as on the indexers),
//! the reduce phase on the map records (as on the search head), and the
//! table it ends with — the same PSI as scorer-core on the same events,
//! drift on shifted events, nothing judged on too few.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use scorer_core::{LoadOptions, Model, Scores};
use serde_json::Value;

/// The example alerts from `from`, `n` of them, as a chunk body; `shift` adds to `failed_logins`.
fn body(from: usize, n: usize, shift: f64) -> (Vec<u8>, Vec<BTreeMap<String, String>>) {
    let src = alerts();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(FIELDS).unwrap();
    let mut events = Vec::new();
    for i in from..from + n {
        let e = &src[i % src.len()];
        let mut m = BTreeMap::new();
        let row: Vec<String> = FIELDS
            .iter()
            .map(|f| {
                let mut v = match e.get(*f) {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) if !v.is_null() => v.to_string(),
                    _ => String::new(),
                };
                if *f == "failed_logins" && shift != 0.0 {
                    v = (v.parse::<f64>().unwrap_or(0.0) + shift).to_string();
                }
                if !v.is_empty() {
                    m.insert(f.to_string(), v.clone());
                }
                v
            })
            .collect();
        w.write_record(&row).unwrap();
        events.push(m);
    }
    (w.into_inner().unwrap(), events)
}

fn riskdrift(app: &TestApp, input: Vec<u8>) -> Run {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("riskscore-command-cache");
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("riskdrift")
        .env("RISKSCORE_APP_DIR", app.path())
        .env("RISKSCORE_CACHE_DIR", &cache)
        .env_remove("SPLUNK_HOME");
    run_process(cmd, input, Duration::from_secs(120), "riskdrift")
}

/// Map every body (one map process, as one indexer), then reduce the map records.
fn map_reduce(
    app: &TestApp,
    bodies: &[Vec<u8>],
    extra: &[&str],
) -> (Vec<String>, Vec<Vec<String>>) {
    let mut args = vec!["phase=map", "model=threat_rf"];
    args.extend(extra);
    let mut input = getinfo(&args);
    for (i, b) in bodies.iter().enumerate() {
        input.extend(execute(b, i + 1 == bodies.len()));
    }
    let map = riskdrift(app, input);
    assert_eq!(map.status, 0, "{}", map.stderr);
    let c = map.chunks();
    assert_eq!(c[0].0["type"], "streaming");
    assert!(c[0].0["required_fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "failed_logins"));
    assert_eq!(c.len(), bodies.len() + 1, "one reply per chunk");
    let mut args = vec!["model=threat_rf"];
    args.extend(extra);
    let mut input = getinfo(&args);
    let n = c.len() - 1;
    for (i, (_, b)) in c[1..].iter().enumerate() {
        let (h, rows) = csv_table(b);
        assert_eq!(rows.len(), 1, "one counts record per map chunk");
        assert_eq!(h, ["risk_model", "riskdrift_counts"]);
        input.extend(execute(b, i + 1 == n));
    }
    let reduce = riskdrift(app, input);
    assert_eq!(reduce.status, 0, "{}", reduce.stderr);
    let r = reduce.chunks();
    assert_eq!(r[0].0["type"], "reporting");
    let preop = r[0].0["streaming_preop"].as_str().unwrap();
    assert!(
        preop.starts_with("riskdrift phase=map model=threat_rf"),
        "{preop}"
    );
    for (meta, body) in &r[1..r.len() - 1] {
        assert_eq!(meta["finished"], false);
        assert!(body.is_empty(), "reduce answers early chunks empty");
    }
    assert_eq!(r.last().unwrap().0["finished"], true);
    csv_table(&r.last().unwrap().1)
}

fn cell<'a>(h: &[String], row: &'a [String], name: &str) -> &'a str {
    &row[col(h, name)]
}

#[test]
fn map_and_reduce_give_scorer_cores_numbers() {
    let app = TestApp::new();
    let (b1, mut events) = body(0, 400, 0.0);
    let (b2, e2) = body(400, 500, 0.0);
    events.extend(e2);
    let (h, rows) = map_reduce(&app, &[b1, b2], &[]);
    // The same events through scorer-core natively.
    let art = std::fs::read(repo().join("examples/models/threat_rf.json")).unwrap();
    let model = Model::load(&art, &LoadOptions::development()).unwrap();
    let (mut batch, mut scores) = (model.new_batch(), Scores::default());
    model.score_events(&events, &mut batch, &mut scores);
    let mut counts = model.drift_counts().unwrap();
    counts.add(model.artifact().baseline.as_ref().unwrap(), &batch, &scores);
    let want = model.drift_report(&counts).unwrap();
    let verdict = model.drift_policy().assess(&want);
    assert_eq!(cell(&h, &rows[0], "kind"), "score");
    assert_eq!(cell(&h, &rows[0], "events"), "900");
    for row in &rows {
        assert_eq!(cell(&h, row, "drift_status"), verdict.status.as_str());
        let name = cell(&h, row, "column");
        match cell(&h, row, "kind") {
            "feature" => {
                let c = want.columns.iter().find(|c| c.name == name).unwrap();
                let psi: f64 = cell(&h, row, "psi").parse().unwrap();
                assert!((psi - c.psi).abs() < 1e-6, "{name}: {psi} vs {}", c.psi);
            }
            "score" => {
                let psi: f64 = cell(&h, row, "psi").parse().unwrap();
                assert!((psi - want.score.psi).abs() < 1e-6);
            }
            "missing" => assert!(want.missing.iter().any(|m| m.field == name)),
            k => panic!("kind {k}"),
        }
    }
    assert_eq!(
        rows.len(),
        1 + want.columns.len() + 12,
        "score, columns, and one row per field read"
    );
}

#[test]
fn shifted_events_drift_and_few_events_are_not_judged() {
    let app = TestApp::new();
    let (b, _) = body(0, 900, 20.0);
    let (h, rows) = map_reduce(&app, &[b], &[]);
    assert_eq!(cell(&h, &rows[0], "drift_status"), "drift");
    let fl = rows
        .iter()
        .find(|r| cell(&h, r, "column") == "failed_logins" && cell(&h, r, "kind") == "feature")
        .unwrap();
    assert_eq!(cell(&h, fl, "status"), "drift");
    assert!(cell(&h, &rows[0], "drift_summary").contains("failed_logins PSI"));

    let (b, _) = body(0, 100, 20.0);
    let (h, rows) = map_reduce(&app, std::slice::from_ref(&b), &[]);
    assert!(rows.iter().all(|r| cell(&h, r, "status") == "insufficient"));
    // Asked for: judged on 100 events.
    let (h, rows) = map_reduce(&app, &[b], &["min_events=100"]);
    assert_eq!(cell(&h, &rows[0], "drift_status"), "drift");
}

#[test]
fn reduce_counts_plain_events_and_reports_errors_to_the_search() {
    let app = TestApp::new();
    let (b, _) = body(0, 600, 0.0);
    let mut input = getinfo(&["model=threat_rf"]);
    input.extend(execute(&b, true));
    let r = riskdrift(&app, input);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let (h, rows) = csv_table(&r.chunks().last().unwrap().1);
    assert_eq!(cell(&h, &rows[0], "events"), "600");
    for (args, needle) in [
        (&["model=nope"][..], "nope"),
        (&["model=tampered"], "model `tampered`"),
        (&["model=threat_rf", "psi=x"], "psi=x"),
    ] {
        let mut input = getinfo(args);
        input.extend(execute(&b, true));
        let r = riskdrift(&app, input);
        assert_eq!(r.status, 1);
        let c = r.chunks();
        let msgs = Run::messages(&c.last().unwrap().0);
        assert!(
            msgs.iter().any(|(l, t)| l == "ERROR" && t.contains(needle)),
            "{msgs:?}"
        );
    }
}
