//! The `siem-adapter` binary end to end: keys, training, signing, verification,
//! inspection and scoring, on the shipped example data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    c.env_remove("RISKSCORE_SIGNING_KEY")
        .env_remove("RISKSCORE_TRUSTED_KEYS");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    eprintln!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn small_table(dir: &Path) -> PathBuf {
    // The first 400 alerts of the example training set keep the test fast.
    let src = std::fs::read_to_string(repo().join("examples/data/alerts_train.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(src.as_bytes());
    let path = dir.join("train.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(rdr.headers().unwrap()).unwrap();
    for r in rdr.records().take(400) {
        w.write_record(&r.unwrap()).unwrap();
    }
    w.flush().unwrap();
    path
}

#[test]
fn keygen_train_sign_verify_inspect_and_tamper() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(bin()
        .args(["keygen", "--out-dir"])
        .arg(d)
        .args(["--name", "k"]))
    .status
    .success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(d.join("k.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let table = small_table(d);
    let model = d.join("m.json");
    let out = run(bin()
        .args([
            "train",
            "--algorithm",
            "random_forest",
            "--label",
            "is_incident",
            "--n-trees",
            "10",
            "--cv-folds",
            "2",
        ])
        .args([
            "--features",
            "severity,src_ip,bytes_out,failed_logins,_time,is_admin",
            "--input",
        ])
        .arg(&table)
        .arg("--output")
        .arg(&model));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("roc_auc"));
    // Unsigned: production refuses, --allow-unsigned accepts.
    let out = run(bin()
        .arg("verify")
        .arg(&model)
        .arg("--trusted-key")
        .arg(d.join("k.pub")));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("unsigned"));
    assert!(run(bin().arg("verify").arg(&model).arg("--allow-unsigned"))
        .status
        .success());
    // Sign (key from the environment, as a secret should travel), then verify.
    let key = std::fs::read_to_string(d.join("k.key")).unwrap();
    let out = run(bin()
        .arg("sign")
        .arg(&model)
        .args(["--approval", "approved"])
        .env("RISKSCORE_SIGNING_KEY", &key));
    assert!(out.status.success());
    let out = run(bin()
        .arg("verify")
        .arg(&model)
        .env("RISKSCORE_TRUSTED_KEYS", d.join("k.pub")));
    assert!(out.status.success(), "signed model must verify");
    assert!(String::from_utf8_lossy(&out.stdout).contains("signature verified"));
    // The model card.
    let out = run(bin().arg("inspect").arg(&model).arg("--json"));
    let card: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(card["metadata"]["approval"], "approved");
    assert_eq!(card["estimator"]["trees"], 10);
    assert!(
        card["metadata"]["metrics"]["cross_validation"]["mean"]["roc_auc"]
            .as_f64()
            .unwrap()
            > 0.5
    );
    // Tamper with one number: refused, and the message says so.
    let text = std::fs::read_to_string(&model).unwrap();
    let tampered = text.replacen("\"threshold\":0.", "\"threshold\":0.0", 1);
    assert_ne!(tampered, text);
    std::fs::write(&model, tampered).unwrap();
    let out = run(bin()
        .arg("verify")
        .arg(&model)
        .arg("--trusted-key")
        .arg(d.join("k.pub"))
        .arg("--allow-unsigned"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("tampered"));
    // The secret never shows up in any output.
    let secret_b64 = serde_json::from_str::<serde_json::Value>(&key).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    for o in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(o).contains(&secret_b64));
    }
}

#[test]
fn scoring_keeps_every_event_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let scored = dir.path().join("scored.jsonl");
    let out = run(bin()
        .arg("score")
        .arg("--model")
        .arg(repo().join("examples/models/threat_rf.json"))
        .arg("--trusted-key")
        .arg(repo().join("examples/keys/dev-signing.pub"))
        .arg("--input")
        .arg(repo().join("examples/data/alerts_new.jsonl"))
        .arg("--output")
        .arg(&scored)
        .args(["--explain", "2", "--batch-size", "100"]));
    // Exit 1: done, but the malformed line carries risk_error.
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1000 events read, 999 scored"));
    let input: Vec<String> = std::fs::read_to_string(repo().join("examples/data/alerts_new.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let output: Vec<serde_json::Value> = std::fs::read_to_string(&scored)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(output.len(), input.len());
    for (i, (line, o)) in input.iter().zip(&output).enumerate() {
        if i == 9 {
            assert!(
                o["risk_error"]
                    .as_str()
                    .unwrap()
                    .starts_with("line 10: malformed JSON"),
                "{o}"
            );
            assert_eq!(o["_raw"].as_str().unwrap(), line);
            continue;
        }
        let original: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).unwrap();
        // Original fields untouched and first, in their order; scorer fields appended.
        let keys: Vec<&String> = o.as_object().unwrap().keys().take(original.len()).collect();
        assert_eq!(keys, original.keys().collect::<Vec<_>>());
        for (k, v) in &original {
            assert_eq!(&o[k], v);
        }
        let s = o["model_output_risk_score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&s));
        assert!(o["anomaly_flag"] == 0 || o["anomaly_flag"] == 1);
        assert_eq!(o["risk_model"], "threat_rf@1.0.0");
    }
    // Line 500: NaN bytes and a bad IP are noted as missing, not fatal.
    assert!(output[499]["risk_missing_fields"]
        .as_str()
        .unwrap()
        .contains("bytes_out"));
    assert!(output[499]["risk_missing_fields"]
        .as_str()
        .unwrap()
        .contains("src_ip"));
    assert!(output
        .iter()
        .any(|o| o["anomaly_flag"] == 1
            && o["risk_reasons"].as_str().is_some_and(|r| r.contains("(+"))));
}

#[test]
fn refusals_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "a\n1\n").unwrap();
    // Untrusted: no trusted key given.
    let out = run(bin()
        .arg("score")
        .arg("--model")
        .arg(repo().join("examples/models/threat_rf.json"))
        .arg("--input")
        .arg(&input));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not among the trusted keys"));
    // Not a model at all.
    let out = run(bin()
        .arg("score")
        .arg("--model")
        .arg(&input)
        .arg("--allow-unsigned")
        .arg("--input")
        .arg(&input));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("malformed"));
}

#[test]
fn csv_in_csv_out_with_renamed_fields() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "duration_s,bytes_out,bytes_in,failed_logins,distinct_hosts,src_ip,_time,note\n\
         60,1000,2000,0,1,10.0.0.1,1730419407,\"multi\nvalue\"\n\
         86000,20000000000,1,40,120,203.0.113.9,1730419407,\"quote \"\"x\"\"\"\n",
    )
    .unwrap();
    let output = dir.path().join("out.csv");
    let out = run(bin()
        .arg("score")
        .arg("--model")
        .arg(repo().join("examples/models/session_iforest.json"))
        .arg("--trusted-key")
        .arg(repo().join("examples/keys/dev-signing.pub"))
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args([
            "--output-format",
            "csv",
            "--fields",
            "score=risk,flag=alert",
        ]));
    assert!(out.status.success());
    let mut r = csv::Reader::from_path(&output).unwrap();
    let h = r.headers().unwrap().clone();
    assert!(h.iter().any(|c| c == "risk") && h.iter().any(|c| c == "alert"));
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let note = h.iter().position(|c| c == "note").unwrap();
    assert_eq!(&rows[0][note], "multi\nvalue");
    assert_eq!(&rows[1][note], "quote \"x\"");
    let risk = h.iter().position(|c| c == "risk").unwrap();
    let (a, b): (f64, f64) = (
        rows[0][risk].parse().unwrap(),
        rows[1][risk].parse().unwrap(),
    );
    assert!(
        b > a,
        "the exfiltration session must score higher ({b} vs {a})"
    );
}
