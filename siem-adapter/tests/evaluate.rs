//! `siem-adapter evaluate` end to end: the signed example model on the
//! labelled example alerts, with both engines, in text and JSON, with the SVG
//! histogram, and the ways a label can be unusable.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use siem_adapter::commands::evaluate::EvaluationReport;

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

/// `evaluate` of the signed example forest, trusted by the development key.
fn evaluate(input: &Path, engine: &str) -> Command {
    let mut c = bin();
    c.arg("evaluate")
        .arg("--model")
        .arg(repo().join("examples/models/threat_rf.json"))
        .arg("--trusted-key")
        .arg(repo().join("examples/keys/dev-signing.pub"))
        .args(["--engine", engine, "--label", "is_incident", "--input"])
        .arg(input);
    c
}

fn labelled() -> PathBuf {
    repo().join("examples/data/alerts_new_labelled.jsonl")
}

/// The JSON report, with unknown fields rejected.
fn report(out: &Output) -> EvaluationReport {
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).expect("one EvaluationReport object")
}

#[test]
fn both_engines_measure_the_example_forest_identically() {
    let mut reports = Vec::new();
    for engine in ["wasm", "native"] {
        let r = report(&run(evaluate(&labelled(), engine)
            .arg("--json")
            .args(["--batch-size", "300"])));
        assert_eq!(r.engine, engine);
        let auc = r.roc_auc.expect("both classes present");
        assert!(auc > 0.8, "ROC AUC {auc}");
        // Every record accounted for: line 10 is cut JSON, every other line is labelled.
        let c = &r.counts;
        assert_eq!(c.read, 1000);
        assert_eq!(c.unreadable.count, 1);
        assert!(c.unreadable.examples[0].starts_with("line 10: "), "{c:?}");
        assert_eq!(
            (c.unlabelled.count, c.bad_label.count, c.errored.count),
            (0, 0, 0)
        );
        assert_eq!(c.labelled, 999);
        assert_eq!(c.evaluated, c.labelled);
        // Lines 500 (bad values) and 999 (three fields only) are scored with defaults.
        assert!(c.scored_with_defaults >= 2);
        let m = r.confusion;
        assert_eq!(m.tp + m.fp + m.tn + m.fn_, c.labelled);
        assert_eq!(m.tp + m.fn_, r.positives);
        assert_eq!(m.fp + m.tn, r.negatives);
        assert_eq!(r.positives + r.negatives, c.labelled);
        assert!(r.positives > 0 && r.negatives > 0);
        let precision = m.tp as f64 / (m.tp + m.fp) as f64;
        assert!((r.precision.unwrap() - precision).abs() < 1e-12);
        let recall = m.tp as f64 / (m.tp + m.fn_) as f64;
        assert!((r.recall.unwrap() - recall).abs() < 1e-12);
        assert_eq!(r.threshold_source, "artifact");
        assert!(r.training_holdout.is_some());
        reports.push(r);
    }
    let native = reports.pop().unwrap();
    let wasm = reports.pop().unwrap();
    assert_eq!(
        EvaluationReport {
            engine: native.engine.clone(),
            ..wasm
        },
        native,
        "the engines must agree exactly"
    );
}

#[test]
fn text_report_and_svg_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("hist.svg");
    let out = run(evaluate(&labelled(), "wasm")
        .arg("--svg")
        .arg(&svg)
        .args(["--threshold", "0.3"]));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "model      threat_rf@1.0.0 (engine wasm)",
        "threshold  0.3000 (--threshold)",
        "records read                1000",
        "  evaluated                  999",
        "    unreadable                 1   line 10: malformed JSON",
        "ROC AUC              0.",
        "confusion matrix",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(!text.lines().any(|l| l.ends_with(' ')), "trailing blanks");
    let doc = std::fs::read_to_string(&svg).unwrap();
    assert!(doc.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(doc.trim_end().ends_with("</svg>"));
    assert!(doc.contains(r#"<g class="threshold">"#) && doc.contains("threshold 0.3000"));
    assert!(doc.contains("threat_rf@1.0.0: scores of 999 labelled events, ROC AUC 0."));
    assert_eq!(doc.matches(r#"<rect class="bar pos""#).count(), 20);
    assert_eq!(doc.matches(r#"<rect class="bar neg""#).count(), 20);
}

#[test]
fn a_label_field_that_does_not_exist_is_an_error() {
    let out = run(bin()
        .arg("evaluate")
        .arg("--model")
        .arg(repo().join("examples/models/threat_rf.json"))
        .arg("--trusted-key")
        .arg(repo().join("examples/keys/dev-signing.pub"))
        .args(["--engine", "native", "--label", "is_incidnet", "--input"])
        .arg(labelled()));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no event has a usable label in field `is_incidnet`"),
        "{err}"
    );
    assert!(err.contains("999 without the field"), "{err}");
    assert!(
        err.contains("the first event's fields are: _time, host"),
        "{err}"
    );
    assert!(
        err.contains("is_incident"),
        "the real field is listed: {err}"
    );
}

#[test]
fn one_class_gzip_csv_and_unusable_labels_are_counted() {
    // 30 negatives (gzip JSON lines) → AUC n/a, exit 0.
    let dir = tempfile::tempdir().unwrap();
    let lines = std::fs::read_to_string(labelled()).unwrap();
    let negatives: Vec<&str> = lines
        .lines()
        .filter(|l| l.ends_with(r#""is_incident": "0"}"#))
        .take(30)
        .collect();
    let gz = dir.path().join("neg.jsonl.gz");
    let mut w = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    w.write_all((negatives.join("\n") + "\n").as_bytes())
        .unwrap();
    w.finish().unwrap();
    let r = report(&run(evaluate(&gz, "native").arg("--json")));
    assert_eq!(r.roc_auc, None);
    assert_eq!((r.positives, r.negatives, r.counts.evaluated), (0, 30, 30));
    assert_eq!(r.recall, None);
    let out = run(&mut evaluate(&gz, "native"));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("ROC AUC              n/a (the evaluated events hold one class only)"));

    // CSV with every label spelling, a blank and an unrecognised value.
    let csv = dir.path().join("l.csv");
    std::fs::write(
        &csv,
        "severity,src_ip,bytes_out,is_incident\n\
         critical,203.0.113.9,50000000,Yes\n\
         low,10.0.0.1,100,no\n\
         high,198.51.100.3,20000000,1.0\n\
         low,10.0.0.2,10,F\n\
         low,10.0.0.3,10,\n\
         low,10.0.0.4,10,maybe\n",
    )
    .unwrap();
    let r = report(&run(evaluate(&csv, "native").arg("--json")));
    let c = &r.counts;
    assert_eq!((c.read, c.labelled, r.positives, r.negatives), (6, 4, 2, 2));
    assert_eq!((c.unlabelled.count, c.bad_label.count), (1, 1));
    assert_eq!(c.bad_label.examples, ["line 6: `is_incident` is \"maybe\""]);
}
