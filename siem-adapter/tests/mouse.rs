//! `siem-adapter mouse`: per-account session models trained on synthetic
//! mouse sessions (seeded; see `riskscore_tests::mouse`), then a stream of
//! sessions scored into one event per session — by the owner's hand and by
//! another's, an account with no model, invalid events — with the wasm and
//! the native engine giving the same bits.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use riskscore_tests::mouse::{write_sessions, SessionSpec, MIDDLE, QUICK, STEADY};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn adapter() -> Command {
    Command::new(env!("CARGO_BIN_EXE_siem-adapter"))
}

fn run(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn spec<'a>(
    user: &'a str,
    session: &'a str,
    hand: riskscore_tests::mouse::Hand,
    gestures: usize,
    seed: u64,
) -> SessionSpec<'a> {
    SessionSpec {
        user,
        session,
        hand,
        gestures,
        seed,
    }
}

/// Signed, approved models of alice (steady), bob (quick) and carol (middle).
fn train(dir: &Path) -> PathBuf {
    let input = dir.join("train.csv");
    let mut sessions = Vec::new();
    for (i, (user, hand)) in [("alice", STEADY), ("bob", QUICK), ("carol", MIDDLE)]
        .into_iter()
        .enumerate()
    {
        for k in 0..3 {
            sessions.push(SessionSpec {
                user,
                session: ["s1", "s2", "s3"][k],
                hand,
                gestures: 80,
                seed: (i * 10 + k) as u64,
            });
        }
    }
    write_sessions(&input, &sessions);
    let models = dir.join("models");
    let out = run(adapter()
        .args([
            "mouse",
            "train",
            "--n-trees",
            "20",
            "--max-depth",
            "8",
            "--ks-chunk",
            "20",
            "--approval",
            "approved",
            "--input",
        ])
        .arg(&input)
        .arg("--out-dir")
        .arg(&models)
        .arg("--key")
        .arg(root().join("examples/keys/dev-signing.key")));
    assert!(out.status.success());
    models
}

fn score(models: &Path, input: &Path, output: &Path, extra: &[&str]) -> Output {
    run(adapter()
        .args(["mouse", "score", "--models"])
        .arg(models)
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output)
        .arg("--trusted-key")
        .arg(root().join("examples/keys/dev-signing.pub"))
        .arg("--cache-dir")
        .arg(root().join("target/test-module-cache"))
        .args(extra))
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn sessions_by_another_hand_score_high_in_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let models = train(dir.path());
    for u in ["alice", "bob", "carol"] {
        assert!(models.join(format!("{u}.json")).is_file());
    }
    let test = dir.path().join("test.csv");
    write_sessions(
        &test,
        &[
            spec("alice", "t1", STEADY, 30, 101),
            spec("alice", "t2", QUICK, 30, 102),
            spec("bob", "t3", QUICK, 30, 103),
            spec("bob", "t4", STEADY, 30, 104),
            spec("mallory", "t5", STEADY, 10, 105),
            spec("carol", "t6", MIDDLE, 30, 106),
        ],
    );
    // One unreadable event inside carol's session.
    let text = std::fs::read_to_string(&test).unwrap();
    let text = text + "carol,t6,99.0,NoButton,Move,abc,10\n";
    std::fs::write(&test, text).unwrap();

    let mut runs = Vec::new();
    for engine in ["wasm", "native"] {
        for method in ["gesture-mean", "ks"] {
            let out = dir.path().join(format!("{engine}-{method}.jsonl"));
            let o = score(
                &models,
                &test,
                &out,
                &["--engine", engine, "--method", method],
            );
            assert_eq!(
                o.status.code(),
                Some(1),
                "mallory's session carries risk_error"
            );
            let ev = lines(&out);
            let sessions: Vec<&str> = ev.iter().map(|e| e["session"].as_str().unwrap()).collect();
            assert_eq!(
                sessions,
                ["t1", "t2", "t3", "t4", "t5", "t6"],
                "one event per session, in order"
            );
            let s = |i: usize| ev[i]["model_output_risk_score"].as_f64().unwrap();
            assert!(
                s(1) > s(0) + 0.2,
                "{engine}/{method}: alice by another hand {} vs alice {}",
                s(1),
                s(0)
            );
            assert!(
                s(3) > s(2) + 0.2,
                "{engine}/{method}: bob by another hand {} vs bob {}",
                s(3),
                s(2)
            );
            assert_eq!(ev[1]["anomaly_flag"], 1, "{engine}/{method}");
            assert_eq!(ev[0]["anomaly_flag"], 0, "{engine}/{method}");
            assert_eq!(ev[0]["user"], "alice");
            assert_eq!(ev[0]["risk_model"], "mouse-alice@1.0.0");
            assert_eq!(ev[0]["gestures"], 30);
            assert!(ev[4]["risk_error"]
                .as_str()
                .unwrap()
                .contains("no model for account `mallory`"));
            assert!(ev[4].get("model_output_risk_score").is_none());
            assert_eq!(ev[5]["invalid_events"], 1);
            assert!(ev[5]["invalid_reason"].as_str().unwrap().contains("`x`"));
            assert!(ev[5]["model_output_risk_score"].is_f64());
            runs.push((engine, method, ev));
        }
    }
    // The same model gives the same bits in wasmtime and natively.
    for (engine, method, ev) in &runs[..2] {
        let native = &runs
            .iter()
            .find(|r| r.0 == "native" && r.1 == *method)
            .unwrap()
            .2;
        assert_eq!(ev, native, "{engine} vs native, {method}");
    }
}

#[test]
fn tampered_and_untrusted_session_models_are_refused_per_session() {
    let dir = tempfile::tempdir().unwrap();
    let models = train(dir.path());
    let alice = models.join("alice.json");
    let text = std::fs::read_to_string(&alice).unwrap();
    std::fs::write(
        &alice,
        text.replacen("\"threshold\":0.5", "\"threshold\":0.9", 1),
    )
    .unwrap();
    let test = dir.path().join("test.csv");
    write_sessions(
        &test,
        &[
            spec("alice", "a", STEADY, 10, 1),
            spec("bob", "b", QUICK, 10, 2),
        ],
    );
    let out = dir.path().join("out.jsonl");
    let o = score(&models, &test, &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    let ev = lines(&out);
    assert_eq!(ev.len(), 2);
    let e = ev[0]["risk_error"].as_str().unwrap();
    assert!(e.contains("alice.json") && e.contains("digest"), "{e}");
    assert!(
        ev[1]["model_output_risk_score"].is_f64(),
        "bob's model is intact"
    );
    // Without the trusted key nothing loads.
    let o = run(adapter()
        .args(["mouse", "score", "--engine", "native", "--models"])
        .arg(&models)
        .arg("--input")
        .arg(&test)
        .arg("--output")
        .arg(&out));
    assert_eq!(o.status.code(), Some(1));
    assert!(lines(&out).iter().all(|e| e["risk_error"].is_string()));
}

#[test]
fn the_gesture_table_has_one_row_per_gesture() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("s.csv");
    write_sessions(
        &input,
        &[
            spec("alice", "a", STEADY, 12, 1),
            spec("bob", "b", QUICK, 7, 2),
        ],
    );
    let out = dir.path().join("g.csv");
    let o = run(adapter()
        .args(["mouse", "gestures", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    assert!(o.status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let mut rows = text.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    assert_eq!(&header[..4], ["user", "session", "gesture", "is_move"]);
    assert!(header.contains(&"curvature_p90"));
    let rows: Vec<&str> = rows.collect();
    assert_eq!(
        rows.iter().filter(|r| r.starts_with("alice,a,")).count(),
        12
    );
    assert_eq!(rows.iter().filter(|r| r.starts_with("bob,b,")).count(), 7);
}
