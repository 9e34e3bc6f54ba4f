//! `siem-adapter score` on every input format and on bad inputs: every event
//! that comes in goes out, in order, scored or with `risk_error`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Map, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn score(input: &Path, output: &Path, extra: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_siem-adapter"))
        .args(["score", "--engine", "native", "--model"])
        .arg(root().join("examples/models/threat_rf.json"))
        .arg("--trusted-key")
        .arg(root().join("examples/keys/dev-signing.pub"))
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(extra)
        .output()
        .unwrap();
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

/// The first `n` valid example alerts.
fn alerts(n: usize) -> Vec<Map<String, Value>> {
    std::fs::read_to_string(root().join("examples/data/alerts_new.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .take(n)
        .collect()
}

fn scores(events: &[Value]) -> Vec<f64> {
    events
        .iter()
        .map(|e| e["model_output_risk_score"].as_f64().unwrap())
        .collect()
}

#[test]
fn every_input_format_gives_the_same_scores_in_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    let events = alerts(300);
    let jsonl: String = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    let mut inputs: Vec<(&str, PathBuf)> = Vec::new();
    let p = dir.path().join("a.jsonl");
    std::fs::write(&p, &jsonl).unwrap();
    inputs.push(("jsonl", p));
    let p = dir.path().join("a.jsonl.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(jsonl.as_bytes()).unwrap();
    gz.finish().unwrap();
    inputs.push(("gzip", p));
    // Splunk's export stream, with a preview row and a final marker.
    let mut stream =
        String::from("{\"preview\":true,\"offset\":0,\"result\":{\"x\":\"ignored\"}}\n");
    for (i, e) in events.iter().enumerate() {
        stream.push_str(&format!(
            "{{\"preview\":false,\"offset\":{i},\"result\":{}}}\n",
            serde_json::to_string(e).unwrap()
        ));
    }
    stream.push_str("{\"preview\":false,\"lastrow\":true}\n");
    let p = dir.path().join("export.json");
    std::fs::write(&p, stream).unwrap();
    inputs.push(("export stream", p));
    // The results document, pretty-printed and on one line.
    let doc =
        serde_json::json!({"preview": false, "init_offset": 0, "messages": [], "results": events});
    let p = dir.path().join("results.json");
    std::fs::write(&p, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    inputs.push(("results document", p));
    let p = dir.path().join("results-line.json");
    std::fs::write(&p, serde_json::to_string(&doc).unwrap()).unwrap();
    inputs.push(("results document, one line", p));
    // CSV, as Splunk's UI exports it.
    let mut header: Vec<String> = Vec::new();
    for e in &events {
        for k in e.keys() {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).unwrap();
    for e in &events {
        w.write_record(
            header
                .iter()
                .map(|h| e.get(h).map(siem_adapter::sinks::cell).unwrap_or_default()),
        )
        .unwrap();
    }
    let p = dir.path().join("a.csv");
    std::fs::write(&p, w.into_inner().unwrap()).unwrap();
    inputs.push(("csv", p));

    let mut reference: Option<Vec<f64>> = None;
    for (name, input) in &inputs {
        let out = dir.path().join("out.jsonl");
        assert_eq!(score(input, &out, &[]).status.code(), Some(0), "{name}");
        let got = lines(&out);
        assert_eq!(got.len(), events.len(), "{name}");
        for (g, e) in got.iter().zip(&events) {
            assert_eq!(g["_time"], e["_time"], "{name}: order");
        }
        let s = scores(&got);
        match &reference {
            None => reference = Some(s),
            Some(r) => assert_eq!(&s, r, "{name}: scores"),
        }
    }
    // CSV out, with the original columns untouched and the new ones appended.
    let out = dir.path().join("out.csv");
    assert_eq!(
        score(&inputs[0].1, &out, &["--output-format", "csv"])
            .status
            .code(),
        Some(0)
    );
    let mut r = csv::Reader::from_path(&out).unwrap();
    let cols: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&cols[..2], ["_time", "host"]);
    assert!(cols.contains(&"model_output_risk_score".to_string()));
    assert_eq!(r.records().count(), events.len());
}

#[test]
fn original_bytes_are_kept_and_new_fields_appended() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let line =
        r#"{"z": 1.50, "_time": "1730420088.330",  "note": "caf\u00e9", "src_ip": "10.0.0.1"}"#;
    std::fs::write(&input, format!("{line}\n")).unwrap();
    let out = dir.path().join("out.jsonl");
    assert_eq!(score(&input, &out, &[]).status.code(), Some(0));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with(&line[..line.len() - 1]), "{text}");
    assert!(text.contains(",\"model_output_risk_score\":"));
}

#[test]
fn bad_inputs_are_reported_per_event_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let good = serde_json::to_string(&alerts(1)[0]).unwrap();
    let mut bytes: Vec<u8> = Vec::new();
    bytes.extend_from_slice(good.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(b"{\"user\": \"\xff\xfe\", \"severity\": \"high\"}\n"); // invalid UTF-8
    bytes.extend_from_slice(br#"{"severity": "low", "severity": "critical", "bytes_out": "1e3"}"#); // duplicate key; number as string
    bytes.push(b'\n');
    bytes.extend_from_slice(
        br#"{"bytes_out": 12345, "failed_logins": "NaN", "dest_port": "  443 "}"#,
    );
    bytes.push(b'\n');
    // One 50 MB line (a huge command line).
    let big = format!(
        "{{\"command_line\": \"{}\", \"severity\": \"high\"}}\n",
        "A".repeat(50 << 20)
    );
    bytes.extend_from_slice(big.as_bytes());
    bytes.extend_from_slice(b"[1, 2]\n{\"cut\": \n");
    bytes.extend_from_slice(good.as_bytes());
    bytes.push(b'\n');
    let input = dir.path().join("bad.jsonl");
    std::fs::write(&input, &bytes).unwrap();
    let out = dir.path().join("out.jsonl");
    // The 50 MB line is over the default --max-line-bytes (16 MiB): it comes
    // out in its place with risk_error and a short _raw, and reading goes on.
    assert_eq!(score(&input, &out, &[]).status.code(), Some(1));
    let capped = lines(&out);
    assert_eq!(capped.len(), 8, "every line comes out");
    let e = capped[4]["risk_error"].as_str().unwrap();
    assert!(e.contains("--max-line-bytes"), "{e}");
    assert_eq!(capped[4]["_raw"].as_str().unwrap().len(), 1000);
    assert!(capped[7]["model_output_risk_score"].as_f64().is_some());
    // Allowed by a higher limit, it is scored and kept whole.
    assert_eq!(
        score(&input, &out, &["--max-line-bytes", "100000000"])
            .status
            .code(),
        Some(1),
        "errored events make the exit status 1"
    );
    let got = lines(&out);
    assert_eq!(got.len(), 8, "every line comes out");
    assert!(got[1]["risk_error"].as_str().unwrap().contains("not UTF-8"));
    assert!(got[1]["_raw"].as_str().unwrap().contains('\u{fffd}'));
    // Duplicate keys: the last value counts (as JSON.parse in the browser).
    assert!(got[2]["model_output_risk_score"].as_f64().is_some());
    assert!(got[3]["model_output_risk_score"].as_f64().is_some());
    assert_eq!(got[4]["command_line"].as_str().unwrap().len(), 50 << 20);
    assert!(got[4]["model_output_risk_score"].as_f64().is_some());
    assert!(got[5]["risk_error"]
        .as_str()
        .unwrap()
        .contains("not a JSON object"));
    assert!(got[6]["risk_error"]
        .as_str()
        .unwrap()
        .contains("line 7: malformed JSON"));
    assert_eq!(
        got[7]["model_output_risk_score"],
        got[0]["model_output_risk_score"]
    );
    // The duplicate-key event scores as the same event with only its last value.
    let dup = dir.path().join("dup.jsonl");
    std::fs::write(
        &dup,
        "{\"severity\": \"critical\", \"bytes_out\": \"1e3\"}\n",
    )
    .unwrap();
    let dup_out = dir.path().join("dup-out.jsonl");
    score(&dup, &dup_out, &[]);
    assert_eq!(
        lines(&dup_out)[0]["model_output_risk_score"],
        got[2]["model_output_risk_score"]
    );
}

#[test]
fn a_truncated_gzip_keeps_what_was_read_and_says_where_it_ended() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl: String = alerts(500)
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(jsonl.as_bytes()).unwrap();
    let full = gz.finish().unwrap();
    let input = dir.path().join("cut.jsonl.gz");
    std::fs::write(&input, &full[..full.len() / 2]).unwrap();
    let out = dir.path().join("out.jsonl");
    assert_eq!(score(&input, &out, &[]).status.code(), Some(1));
    let got = lines(&out);
    let last = got.last().unwrap();
    assert!(
        last["risk_error"]
            .as_str()
            .unwrap()
            .contains("input ended early"),
        "{last}"
    );
    let scored = got
        .iter()
        .filter(|e| e.get("model_output_risk_score").is_some())
        .count();
    assert!(scored > 50 && scored < 500, "{scored}");
}

#[test]
fn a_killed_run_leaves_no_half_written_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let missing = dir.path().join("missing.jsonl");
    assert_eq!(score(&missing, &out, &[]).status.code(), Some(2));
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
