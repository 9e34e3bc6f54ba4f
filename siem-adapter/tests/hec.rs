//! `siem-adapter score --hec-url` against the HEC *test server* of the
//! `riskscore-tests` crate (Splunk's documented HEC protocol on 127.0.0.1,
//! with injected faults). Not Splunk: Splunk Enterprise cannot run here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use riskscore_tests::hec_server::{HecTestConfig, HecTestServer, TEST_TOKEN};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Setup {
    dir: tempfile::TempDir,
    input: PathBuf,
    token: PathBuf,
    n: usize,
}

/// `n` valid example alerts, each with a unique `event_id`.
fn setup(n: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let alerts = std::fs::read_to_string(root().join("examples/data/alerts_new.jsonl")).unwrap();
    let valid: Vec<serde_json::Map<String, Value>> = alerts
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut text = String::new();
    for i in 0..n {
        let mut e = valid[i % valid.len()].clone();
        e.insert("event_id".into(), i.into());
        text.push_str(&serde_json::to_string(&e).unwrap());
        text.push('\n');
    }
    let input = dir.path().join("alerts.jsonl");
    std::fs::write(&input, text).unwrap();
    let token = dir.path().join("hec.token");
    std::fs::write(&token, format!("{TEST_TOKEN}\n")).unwrap();
    Setup {
        dir,
        input,
        token,
        n,
    }
}

fn adapter(s: &Setup, url: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    c.args(["score", "--model"])
        .arg(root().join("examples/models/threat_rf.json"))
        .arg("--trusted-key")
        .arg(root().join("examples/keys/dev-signing.pub"))
        .arg("--input")
        .arg(&s.input)
        .args(["--hec-url", url, "--hec-token-file"])
        .arg(&s.token)
        .arg("--cache-dir")
        .arg(root().join("target/test-module-cache"))
        .args(["--hec-retry-base-ms", "5", "--hec-retry-max-ms", "50"])
        .args(["--hec-ack-interval-ms", "20"])
        .args(extra)
        .env_remove("RISKSCORE_HEC_TOKEN");
    c
}

fn run(mut c: Command) -> Output {
    let out = c.output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// `event_id` of every stored event, in store order.
fn ids(server: &HecTestServer) -> Vec<u64> {
    server
        .events()
        .iter()
        .map(|e| e["event"]["event_id"].as_u64().expect("event_id"))
        .collect()
}

fn assert_each_once(server: &HecTestServer, n: usize) {
    let mut got = ids(server);
    got.sort_unstable();
    assert_eq!(
        got,
        (0..n as u64).collect::<Vec<_>>(),
        "each event exactly once"
    );
}

/// Every event at least once; the repeated ones are one request's worth at most.
fn assert_at_least_once(server: &HecTestServer, n: usize, batch: usize) {
    let mut got = ids(server);
    got.sort_unstable();
    let mut unique = got.clone();
    unique.dedup();
    assert_eq!(unique, (0..n as u64).collect::<Vec<_>>(), "no event lost");
    let repeated = got.len() - unique.len();
    assert!(repeated <= batch, "{repeated} events repeated");
    eprintln!("at least once: {repeated} events repeated");
}

#[test]
fn events_arrive_in_order_batched_gzipped_with_envelopes() {
    let s = setup(2500);
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let metrics = s.dir.path().join("metrics.prom");
    let mut c = adapter(
        &s,
        &server.url(),
        &[
            "--hec-batch-events",
            "300",
            "--hec-sourcetype",
            "riskscore:scored",
        ],
    );
    c.arg("--metrics-file").arg(&metrics);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(ids(&server), (0..s.n as u64).collect::<Vec<_>>());
    let r = server.requests();
    assert!(r.event_posts >= 9, "{r:?}");
    assert_eq!(r.gzip, r.event_posts);
    assert!(r.max_events_per_request <= 300);
    assert!(r.connections < r.event_posts, "keep-alive: {r:?}");
    let e = &server.events()[0];
    let src: Value = serde_json::from_str(
        std::fs::read_to_string(&s.input)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(e["sourcetype"], "riskscore:scored");
    assert_eq!(e["host"], src["host"]);
    assert_eq!(e["source"], src["source"]);
    let t: f64 = src["_time"].as_str().unwrap().parse().unwrap();
    assert!((e["time"].as_f64().unwrap() - t).abs() < 1e-3);
    assert!(e["event"]["model_output_risk_score"].as_f64().is_some());
    assert!(e["event"]["anomaly_flag"].as_u64().is_some());
    let m = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        m.contains("riskscore_events_read_total{model=\"threat_rf@1.0.0\",engine=\"wasm\"} 2500"),
        "{m}"
    );
    assert!(m.contains("riskscore_hec_delivered_events_total"));
}

#[test]
fn batches_are_cut_by_bytes_too() {
    let s = setup(400);
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let out = run(adapter(
        &s,
        &server.url(),
        &["--hec-batch-bytes", "20000", "--hec-no-gzip"],
    ));
    assert_eq!(out.status.code(), Some(0));
    let r = server.requests();
    assert!(r.max_body_bytes <= 20000 && r.gzip == 0, "{r:?}");
    assert_each_once(&server, s.n);
}

#[test]
fn transient_faults_are_retried_and_nothing_is_lost_or_repeated() {
    let s = setup(1200);
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    server.busy_next(3);
    server.too_many_next(2);
    server.drop_next(2);
    let metrics = s.dir.path().join("m.prom");
    let mut c = adapter(
        &s,
        &server.url(),
        &["--hec-batch-events", "200", "--engine", "native"],
    );
    c.arg("--metrics-file").arg(&metrics);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(ids(&server), (0..s.n as u64).collect::<Vec<_>>());
    let r = server.requests();
    assert_eq!(
        (r.status(503), r.status(429), r.dropped),
        (3, 2, 2),
        "{r:?}"
    );
    let m = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        m.contains("riskscore_hec_retries_total{model=\"threat_rf@1.0.0\",engine=\"native\"} 7"),
        "{m}"
    );
}

#[test]
fn slow_responses_within_the_time_bound_are_fine() {
    let s = setup(300);
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    server.delay(Duration::from_millis(150));
    let out = run(adapter(
        &s,
        &server.url(),
        &["--hec-batch-events", "100", "--engine", "native"],
    ));
    assert_eq!(out.status.code(), Some(0));
    assert_each_once(&server, s.n);
}

#[test]
fn a_wrong_token_stops_with_a_clear_message_and_is_never_printed() {
    let s = setup(50);
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    std::fs::write(&s.token, "not-the-token-5e5e5e").unwrap();
    let out = run(adapter(&s, &server.url(), &["-vv", "--engine", "native"]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused the token") && err.contains("code 4"),
        "{err}"
    );
    assert!(!err.contains("5e5e5e"), "the token leaked into the logs");
    assert_eq!(server.event_count(), 0);
    assert_eq!(
        server.requests().event_posts,
        1,
        "permanent errors are not retried"
    );
}

#[test]
fn invalid_data_stops_the_run() {
    let s = setup(50);
    let server = HecTestServer::start(HecTestConfig::default().allowed_indexes(["main"])).unwrap();
    let out = run(adapter(
        &s,
        &server.url(),
        &["--hec-index", "nope", "--engine", "native"],
    ));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused the data") && err.contains("code 7"),
        "{err}"
    );
}

#[test]
fn undeliverable_requests_go_to_the_dead_letter_file_and_replay() {
    let s = setup(500);
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    server.busy_next(3); // the first request: 1 try + 2 retries, all busy
    let dead = s.dir.path().join("dead.jsonl");
    let mut c = adapter(
        &s,
        &server.url(),
        &[
            "--hec-batch-events",
            "100",
            "--hec-retries",
            "2",
            "--engine",
            "native",
        ],
    );
    c.arg("--dead-letter").arg(&dead);
    let out = run(c);
    assert_eq!(
        out.status.code(),
        Some(1),
        "dead-lettered events make the exit status 1"
    );
    assert_eq!(server.event_count(), 400);
    assert_eq!(std::fs::read_to_string(&dead).unwrap().lines().count(), 100);
    // Without a dead-letter file the run stops instead.
    let server2 = HecTestServer::start(HecTestConfig::default()).unwrap();
    server2.busy_next(100);
    let out = run(adapter(
        &s,
        &server2.url(),
        &["--hec-retries", "1", "--engine", "native"],
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not be delivered"));
    // Replay sends them; the file is renamed so it is not sent twice.
    let out = run({
        let mut c = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
        c.args(["replay", "--file"])
            .arg(&dead)
            .args(["--hec-url", &server.url(), "--hec-token-file"])
            .arg(&s.token);
        c
    });
    assert_eq!(out.status.code(), Some(0));
    assert!(!dead.exists() && dead.with_extension("replayed").exists());
    assert_each_once(&server, s.n);
}

#[test]
fn indexer_acknowledgement_with_slow_and_lost_acks() {
    let s = setup(1000);
    let server =
        HecTestServer::start(HecTestConfig::default().acks(true).ack_after_polls(2)).unwrap();
    server.lose_acks_next(1);
    let out = run(adapter(
        &s,
        &server.url(),
        &[
            "--hec-ack",
            "--hec-batch-events",
            "100",
            "--hec-max-pending",
            "3",
            "--hec-ack-timeout-secs",
            "1",
            "--engine",
            "native",
        ],
    ));
    assert_eq!(out.status.code(), Some(0));
    assert_each_once(&server, s.n);
    assert!(server.requests().ack_polls > 0);
    // A token without acks enabled is reported, not waited on forever.
    let plain = HecTestServer::start(HecTestConfig::default()).unwrap();
    let out = run(adapter(
        &s,
        &plain.url(),
        &["--hec-ack", "--engine", "native"],
    ));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ACK is disabled") || err.contains("ackId"),
        "{err}"
    );
}

/// Kill the adapter (SIGKILL) while requests are in flight, re-run it with the
/// same checkpoint. With acks every event is in the store exactly once;
/// without, at least once, and only the request in flight at the kill repeats.
fn kill_and_resume(acks: bool) {
    let s = setup(3000);
    let config = HecTestConfig::default()
        .acks(acks)
        .ack_after_polls(if acks { 3 } else { 0 });
    let server = HecTestServer::start(config).unwrap();
    server.delay(Duration::from_millis(100));
    let cp = s.dir.path().join("checkpoint.json");
    let mut args = vec!["--hec-batch-events", "100", "--engine", "native"];
    if acks {
        args.extend([
            "--hec-ack",
            "--hec-max-pending",
            "4",
            "--hec-ack-timeout-secs",
            "10",
        ]);
    }
    let mut c = adapter(&s, &server.url(), &args);
    c.arg("--checkpoint")
        .arg(&cp)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    assert!(server.wait_for_requests(8, Duration::from_secs(60)));
    std::thread::sleep(Duration::from_millis(30));
    child.kill().unwrap(); // SIGKILL: no clean-up runs
    child.wait().unwrap();
    let before = server.event_count();
    assert!(before < s.n, "killed before the end ({before} stored)");
    server.delay(Duration::ZERO);
    let mut c = adapter(&s, &server.url(), &args);
    c.arg("--checkpoint").arg(&cp);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0));
    if acks {
        assert_each_once(&server, s.n);
    } else {
        assert_at_least_once(&server, s.n, 100);
    }
    let state: Value = serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    assert_eq!(state["settled"], s.n as u64);
    assert_eq!(state["complete"], true);
    // A third run sends nothing.
    let posts = server.requests().event_posts;
    let mut c = adapter(&s, &server.url(), &args);
    c.arg("--checkpoint").arg(&cp);
    assert_eq!(run(c).status.code(), Some(0));
    assert_eq!(server.requests().event_posts, posts);
}

#[test]
fn killed_run_resumes_from_its_checkpoint_without_acks() {
    kill_and_resume(false);
}

#[test]
fn killed_run_resumes_from_its_checkpoint_with_acks() {
    kill_and_resume(true);
}

#[test]
fn tls_is_verified_by_default() {
    let s = setup(20);
    let server = HecTestServer::start_tls(HecTestConfig::default()).unwrap();
    let out = run(adapter(&s, &server.url(), &["--engine", "native"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TLS"));
    assert_eq!(server.event_count(), 0);
    let ca = s.dir.path().join("ca.pem");
    std::fs::write(&ca, server.ca_pem().unwrap()).unwrap();
    let mut c = adapter(&s, &server.url(), &["--engine", "native"]);
    c.arg("--hec-ca-file").arg(&ca);
    assert_eq!(run(c).status.code(), Some(0));
    assert_each_once(&server, s.n);
    let server2 = HecTestServer::start_tls(HecTestConfig::default()).unwrap();
    assert_eq!(
        run(adapter(
            &s,
            &server2.url(),
            &["--engine", "native", "--hec-insecure"]
        ))
        .status
        .code(),
        Some(0)
    );
    assert_each_once(&server2, s.n);
}

#[test]
fn the_token_comes_from_the_environment_and_never_from_argv() {
    let s = setup(10);
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    c.args(["score", "--model"])
        .arg(root().join("examples/models/threat_rf.json"))
        .arg("--trusted-key")
        .arg(root().join("examples/keys/dev-signing.pub"))
        .arg("--input")
        .arg(&s.input)
        .args(["--engine", "native", "--hec-url", &server.url()])
        .env("RISKSCORE_HEC_TOKEN", TEST_TOKEN);
    assert_eq!(run(c).status.code(), Some(0));
    assert_each_once(&server, s.n);
    let out = Command::new(env!("CARGO_BIN_EXE_siem-adapter"))
        .args(["score", "--hec-token", TEST_TOKEN])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "there is no --hec-token option");
}
