//! The feedback loop end to end: `evaluate` compares live metrics with the
//! artifact's training metrics (a regression on the synthetic remediation
//! records, the example forest on the labelled example alerts), and
//! `train --champion` measures champion and challenger on the same held-out
//! rows and promotes only a challenger at least as good.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use riskscore_tests::synthetic::{remediation, FEATURES, TARGET};
use serde_json::{Map, Value};
use siem_adapter::commands::champion::ChampionReport;
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

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Write records of `(client, n, seed)` parts as JSON lines.
fn records(dir: &Path, name: &str, parts: &[(u8, usize, u64)]) -> PathBuf {
    let mut text = String::new();
    for &(client, n, seed) in parts {
        for r in remediation(client, n, seed) {
            text.push_str(&Value::Object(r).to_string());
            text.push('\n');
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `train linear_regression` of `remediation_days` on `input` into `output`.
fn train_regression(input: &Path, output: &Path, features: &str) -> Command {
    let mut c = bin();
    c.args([
        "train",
        "--algorithm",
        "linear_regression",
        "--label",
        TARGET,
    ])
    .args(["--features", features, "--input"])
    .arg(input)
    .arg("--output")
    .arg(output);
    c
}

fn all_features() -> String {
    FEATURES.join(",")
}

fn evaluate(model: &Path, input: &Path, label: &str) -> Command {
    let mut c = bin();
    c.arg("evaluate")
        .arg("--model")
        .arg(model)
        .args(["--label", label, "--input"])
        .arg(input);
    c
}

fn report(out: &Output) -> EvaluationReport {
    serde_json::from_slice(&out.stdout).expect("one EvaluationReport object")
}

fn keygen(dir: &Path) -> (PathBuf, PathBuf) {
    assert!(run(bin()
        .args(["keygen", "--out-dir"])
        .arg(dir)
        .args(["--name", "k"]))
    .status
    .success());
    (dir.join("k.key"), dir.join("k.pub"))
}

fn metadata(artifact: &Path) -> Map<String, Value> {
    let doc: Value = serde_json::from_slice(&std::fs::read(artifact).unwrap()).unwrap();
    doc["metadata"].as_object().unwrap().clone()
}

#[test]
fn a_regression_is_within_the_margin_on_its_process_and_drops_on_another() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = records(d, "train.jsonl", &[(1, 1500, 1), (2, 1500, 2)]);
    let model = d.join("remediation.json");
    assert!(run(&mut train_regression(&train, &model, &all_features()))
        .status
        .success());

    // Fresh records of client 1: the process the model learnt.
    let fresh = records(d, "client1.jsonl", &[(1, 2000, 11)]);
    let out = run(evaluate(&model, &fresh, TARGET).args([
        "--allow-unsigned",
        "--json",
        "--fail-on-drop",
    ]));
    assert_eq!(out.status.code(), Some(0));
    let r = report(&out);
    assert_eq!(r.task, "regression");
    assert_eq!((r.counts.evaluated, r.counts.bad_label.count), (2000, 0));
    assert_eq!((r.roc_auc, r.accuracy, r.positives), (None, None, 0));
    let c = r
        .comparison
        .as_ref()
        .expect("training metrics to compare with");
    assert_eq!(c.training_source, "holdout");
    assert_eq!(c.training_rows, 600);
    let keys: Vec<&str> = c.metrics.iter().map(|m| m.metric.as_str()).collect();
    assert_eq!(keys, ["r2", "rmse"]);
    let training_r2 = c.metrics[0].training.unwrap();
    let live_r2 = r.r2.unwrap();
    assert!(training_r2 > 0.8, "training R² {training_r2}");
    assert!(
        (live_r2 - training_r2).abs() < 0.05,
        "{live_r2} vs {training_r2}"
    );
    assert!(c.dropped.is_empty(), "{c:?}");
    assert!(c.metrics.iter().all(|m| m.status == "within"), "{c:?}");

    let text = stdout(&run(evaluate(&model, &fresh, TARGET).args([
        "--allow-unsigned",
        "--engine",
        "native",
    ])));
    for want in [
        "target     remediation_days (regression)",
        "R²                   0.",
        "compared with training (hold-out, 600 rows), margin 0.05",
        "  (RMSE: relative, dropped above training × 1.05)",
        "within the margin of training",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(!text.contains("confusion matrix"));
    assert!(!text.lines().any(|l| l.ends_with(' ')), "trailing blanks");

    // Client 3 follows another process: R² and RMSE both drop; a target that
    // is not a number is a bad label, not an error.
    let other = records(d, "client3.jsonl", &[(3, 500, 13)]);
    let mut text = std::fs::read_to_string(&other).unwrap();
    text.push_str(r#"{"cvss": 5.0, "os": "linux", "remediation_days": "soon"}"#);
    text.push('\n');
    std::fs::write(&other, text).unwrap();
    let out = run(evaluate(&model, &other, TARGET).args(["--allow-unsigned", "--json"]));
    assert_eq!(out.status.code(), Some(0), "no --fail-on-drop: exit 0");
    let r = report(&out);
    assert_eq!((r.counts.evaluated, r.counts.bad_label.count), (500, 1));
    assert_eq!(
        r.counts.bad_label.examples,
        ["line 501: `remediation_days` is \"soon\""]
    );
    let c = r.comparison.unwrap();
    assert_eq!(c.dropped, ["r2", "rmse"]);
    assert!(r.r2.unwrap() < training_r2 - 0.05);
    assert!(r.rmse.unwrap() > c.metrics[1].training.unwrap() * 1.05);

    let out = run(evaluate(&model, &other, TARGET).args(["--allow-unsigned", "--fail-on-drop"]));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("performance dropped below the margin: R², RMSE"),
        "{text}"
    );
    assert!(text.contains("   DROPPED"), "{text}");

    // A histogram of positives and negatives makes no sense for a regression.
    let out = run(evaluate(&model, &other, TARGET)
        .args(["--allow-unsigned", "--svg"])
        .arg(d.join("h.svg")));
    assert_eq!(out.status.code(), Some(2));
}

fn example_forest(input: &Path) -> Command {
    let mut c = evaluate(
        &repo().join("examples/models/threat_rf.json"),
        input,
        "is_incident",
    );
    c.arg("--trusted-key")
        .arg(repo().join("examples/keys/dev-signing.pub"))
        .args(["--engine", "native"]);
    c
}

#[test]
fn a_classifier_is_compared_with_its_training_holdout_and_drops_when_labels_flip() {
    let labelled = repo().join("examples/data/alerts_new_labelled.jsonl");
    let out = run(example_forest(&labelled).args(["--json", "--margin", "0.1", "--fail-on-drop"]));
    assert_eq!(out.status.code(), Some(0));
    let r = report(&out);
    assert_eq!(r.task, "classification");
    let c = r.comparison.as_ref().unwrap();
    assert_eq!((c.training_source.as_str(), c.margin), ("holdout", 0.1));
    let keys: Vec<&str> = c.metrics.iter().map(|m| m.metric.as_str()).collect();
    assert_eq!(
        keys,
        ["roc_auc", "precision", "recall", "false_positive_rate"]
    );
    let auc = &c.metrics[0];
    assert_eq!(auc.live, r.roc_auc);
    assert_eq!(auc.training, r.training_holdout.as_ref().unwrap().roc_auc);
    assert_eq!(
        auc.difference,
        Some(auc.live.unwrap() - auc.training.unwrap())
    );
    assert_eq!(c.metrics[3].worse_when, "higher");
    assert!(c.dropped.is_empty(), "{c:?}");
    let text = stdout(&run(example_forest(&labelled).args(["--margin", "0.1"])));
    assert!(text.contains("within the margin of training"), "{text}");

    // Analysts disagree with the model: half the incidents were closed as
    // false positives, and one benign alert in eight was an incident.
    let dir = tempfile::tempdir().unwrap();
    let flipped = dir.path().join("flipped.jsonl");
    let (mut pos, mut neg) = (0, 0);
    let lines: Vec<String> = std::fs::read_to_string(&labelled)
        .unwrap()
        .lines()
        .map(|l| match serde_json::from_str::<Map<String, Value>>(l) {
            Ok(mut e) => {
                let flip = if e["is_incident"] == "1" {
                    pos += 1;
                    pos % 2 == 0
                } else {
                    neg += 1;
                    neg % 8 == 0
                };
                if flip {
                    let v = if e["is_incident"] == "1" { "0" } else { "1" };
                    e.insert("is_incident".into(), v.into());
                }
                Value::Object(e).to_string()
            }
            Err(_) => l.to_string(),
        })
        .collect();
    std::fs::write(&flipped, lines.join("\n") + "\n").unwrap();
    let out = run(example_forest(&flipped).args(["--json", "--fail-on-drop"]));
    assert_eq!(out.status.code(), Some(1));
    let r = report(&out);
    let c = r.comparison.unwrap();
    assert_eq!(c.metrics[0].status, "dropped");
    assert!(c.dropped.contains(&"roc_auc".to_string()), "{c:?}");
    let text = stdout(&run(&mut example_forest(&flipped)));
    assert!(
        text.contains("performance dropped below the margin: ROC AUC"),
        "{text}"
    );
}

/// `train --champion`: a linear regression challenger on `input`.
fn challenger(input: &Path, output: &Path, champion: &Path, features: &str) -> Command {
    let mut c = train_regression(input, output, features);
    c.arg("--champion")
        .arg(champion)
        .args(["--version", "2.0.0"]);
    c
}

#[test]
fn a_better_challenger_is_compared_on_the_same_rows_promoted_and_signed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d);
    // The champion: 40 records of client 1, approved and signed.
    let old = records(d, "old.jsonl", &[(1, 40, 21)]);
    let champion = d.join("champion.json");
    assert!(run(train_regression(&old, &champion, &all_features())
        .args(["--name", "remediation", "--approval", "approved", "--key"])
        .arg(&key))
    .status
    .success());
    let new = records(d, "new.jsonl", &[(1, 300, 22), (2, 300, 23)]);

    // Without --promote: the side-by-side table, the challenger keeps --approval.
    let plain = d.join("plain.json");
    let out = run(challenger(&new, &plain, &champion, &all_features())
        .arg("--trusted-key")
        .arg(&public));
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for want in [
        "champion    remediation@1.0.0",
        "challenger  remediation@2.0.0",
        "held out    120 of the 600 rows of",
        "  metric            champion  challenger   difference   better",
        "  R²  ",
        "  RMSE  ",
        "not promoted (no --promote): challenger R² ",
        "held-out rows; written as draft (unsigned)",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert_eq!(metadata(&plain)["approval"], "draft");

    // An untrusted champion is refused before anything is trained.
    let out = run(&mut challenger(
        &new,
        &d.join("x.json"),
        &champion,
        &all_features(),
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(!d.join("x.json").exists());
    // --promote needs a signing key.
    let out = run(
        challenger(&new, &d.join("x.json"), &champion, &all_features())
            .arg("--trusted-key")
            .arg(&public)
            .arg("--promote"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--promote signs the challenger"));

    let promoted = d.join("promoted.json");
    let out = run(challenger(&new, &promoted, &champion, &all_features())
        .arg("--trusted-key")
        .arg(&public)
        .args(["--promote", "--json", "--signing-key"])
        .arg(&key));
    assert_eq!(out.status.code(), Some(0));
    let r: ChampionReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (r.task.as_str(), r.primary_metric.as_str()),
        ("regression", "r2")
    );
    assert_eq!((r.table_rows, r.seed), (600, 42));
    assert_eq!(r.champion.rows, r.challenger.rows, "the same held-out rows");
    assert_eq!(r.champion.rows, 120);
    assert_eq!(r.champion.model, "remediation@1.0.0");
    assert_eq!(r.challenger.model, "remediation@2.0.0");
    let keys: Vec<&str> = r.metrics.iter().map(|m| m.metric.as_str()).collect();
    assert_eq!(keys, ["r2", "rmse"]);
    let (old_r2, new_r2) = (
        r.metrics[0].champion.unwrap(),
        r.metrics[0].challenger.unwrap(),
    );
    assert!(new_r2 >= old_r2, "{new_r2} vs {old_r2}");
    assert_eq!(r.metrics[0].better, "challenger");
    assert!(r.promotion.promoted && r.promotion.requested);
    assert_eq!(r.promotion.approval, "approved");
    assert!(r.promotion.signed_by.is_some());
    // The challenger's column is its stored hold-out evaluation.
    let meta = metadata(&promoted);
    assert_eq!(
        meta["metrics"]["holdout"]["r2"].as_f64(),
        r.challenger.metrics.r2
    );
    assert_eq!(meta["name"], "remediation");
    assert!(meta["tags"]
        .as_array()
        .unwrap()
        .contains(&"challenger-of:remediation@1.0.0".into()));

    let out = run(bin()
        .arg("verify")
        .arg(&promoted)
        .arg("--trusted-key")
        .arg(&public));
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("signature verified") && text.contains("approval approved"),
        "{text}"
    );
}

#[test]
fn a_worse_challenger_is_written_as_draft_and_not_promoted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = keygen(d);
    let old = records(d, "old.jsonl", &[(1, 300, 31), (2, 300, 32)]);
    let champion = d.join("champion.json");
    assert!(run(&mut train_regression(&old, &champion, &all_features()))
        .status
        .success());
    // Deliberately worse: the challenger sees only `os`, which does not drive
    // remediation time at clients 1 and 2.
    let new = records(d, "new.jsonl", &[(1, 300, 33), (2, 300, 34)]);
    let out_path = d.join("challenger.json");
    let out = run(challenger(&new, &out_path, &champion, "os")
        .args([
            "--allow-unsigned",
            "--approval",
            "approved",
            "--promote",
            "--key",
        ])
        .arg(&key));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("not promoted: challenger R² "), "{text}");
    assert!(text.contains("< champion 0."), "{text}");
    assert!(
        text.contains("on the same 120 held-out rows; written as draft (signed by key "),
        "{text}"
    );
    assert_eq!(metadata(&out_path)["approval"], "draft");
    let out = run(bin().arg("verify").arg(&out_path).arg("--allow-unsigned"));
    assert!(stdout(&out).contains("approval draft"));

    // A classifier cannot be the champion of a regression.
    let out = run(challenger(
        &new,
        &d.join("x.json"),
        &repo().join("examples/models/threat_rf.json"),
        "os",
    )
    .arg("--trusted-key")
    .arg(repo().join("examples/keys/dev-signing.pub")));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be compared"));
}
