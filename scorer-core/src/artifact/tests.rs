//! Loading: every malformed or untrusted artifact is refused at load with a
//! precise message, never by a panic later.

use serde_json::json;

use crate::artifact::{key_files, parse_public_key, parse_signing_key};
use crate::{Error, LoadOptions, Model};

fn doc(estimator: serde_json::Value, output: serde_json::Value) -> serde_json::Value {
    json!({
        "format": "riskscore-model", "format_version": 1,
        "metadata": {"name": "t", "version": "1", "created": "2026-01-01T00:00:00Z", "approval": "approved"},
        "schema": {"features": [
            {"field": "a", "transform": {"kind": "number"}},
            {"field": "b", "transform": {"kind": "one_hot", "categories": ["x"]}}
        ]},
        "estimator": estimator,
        "output": output
    })
}

fn lr() -> serde_json::Value {
    doc(
        json!({"type": "logistic_regression", "weights": [1.0, 2.0, -1.0], "intercept": 0.5}),
        json!({"score": {"kind": "sigmoid"}, "threshold": 0.5}),
    )
}

fn stump(left: i64, depth_feature: i64) -> serde_json::Value {
    doc(
        json!({"type": "random_forest", "trees": [{
            "feature": [depth_feature, -2, -2], "threshold": [0.5, -2.0, -2.0],
            "left": [left, -1, -1], "right": [2, -1, -1], "value": [0.5, 0.1, 0.9]}]}),
        json!({"score": {"kind": "identity"}, "threshold": 0.5}),
    )
}

fn load_dev(v: &serde_json::Value) -> Result<Model, Error> {
    Model::load(v.to_string().as_bytes(), &LoadOptions::development())
}

fn err(v: &serde_json::Value) -> String {
    load_dev(v).unwrap_err().to_string()
}

#[test]
fn valid_artifacts_load_and_round_trip() {
    let m = load_dev(&lr()).unwrap();
    assert_eq!(m.width(), 3);
    assert_eq!(m.id(), "t@1");
    let again: crate::Artifact = serde_json::from_str(&m.artifact().to_json_pretty()).unwrap();
    assert_eq!(&again, m.artifact());
    load_dev(&stump(1, 0)).unwrap();
}

#[test]
fn malformed_json_and_format() {
    let e = Model::load(b"{\"format\": ", &LoadOptions::development())
        .unwrap_err()
        .to_string();
    assert!(e.contains("malformed at line 1"), "{e}");
    let mut v = lr();
    v["format"] = json!("tangram");
    assert!(err(&v).contains("expected `riskscore-model`"));
    v["format"] = json!("riskscore-model");
    v["format_version"] = json!(2);
    assert!(err(&v).contains("newer than this build reads"));
}

#[test]
fn unknown_estimator_and_fields_name_the_path() {
    let mut v = lr();
    v["estimator"]["type"] = json!("gradient_boosting");
    let e = err(&v);
    assert!(
        e.contains("estimator") && e.contains("unknown variant `gradient_boosting`"),
        "{e}"
    );
    let mut v = lr();
    v["estimator"]["wieghts"] = json!([1]);
    let e = err(&v);
    assert!(e.contains("unknown field `wieghts`"), "{e}");
    let mut v = lr();
    v["schema"]["features"][1]["transform"]["kind"] = json!("sqrt");
    let e = err(&v);
    assert!(e.contains("schema.features[1]"), "{e}");
}

#[test]
fn structural_errors_are_precise() {
    assert!(err(&stump(9, 0)).contains("estimator.trees[0].left[0]: child 9 out of range"));
    assert!(err(&stump(0, 0)).contains("child 0 out of range"));
    assert!(err(&stump(1, 3)).contains("feature 3 out of range: the schema has 3 columns"));
    let mut v = lr();
    v["estimator"]["weights"] = json!([1.0, 2.0]);
    assert!(err(&v)
        .contains("estimator.weights: has 2 entries but the schema produces 3 feature columns"));
    let mut v = lr();
    v["output"]["score"] = json!({"kind": "isolation"});
    assert!(err(&v).contains("does not fit a logistic_regression estimator"));
    let mut v = lr();
    v["output"]["threshold"] = json!(1.5);
    assert!(err(&v).contains("threshold 1.5 is outside [0, 1]"));
    let mut v = stump(1, 0);
    v["estimator"]["trees"][0]["value"][2] = json!(1.5);
    assert!(err(&v).contains("outside [0, 1]"));
    // JSON has no NaN: a bare NaN or an overflowing literal is malformed JSON.
    let text = lr().to_string().replace("0.5}", "NaN}");
    assert!(Model::load(text.as_bytes(), &LoadOptions::development()).is_err());
    let text = lr()
        .to_string()
        .replace("\"intercept\":0.5", "\"intercept\":1e999");
    assert!(Model::load(text.as_bytes(), &LoadOptions::development()).is_err());
}

#[test]
fn nan_threshold_built_in_code_is_refused() {
    let mut art = crate::Artifact::from_document(&stump(1, 0)).unwrap();
    if let crate::estimators::EstimatorSpec::RandomForest(f) = &mut art.estimator {
        f.trees[0].threshold[0] = f64::NAN;
    }
    let e = Model::compile(art).unwrap_err().to_string();
    assert!(e.contains("threshold[0]") && e.contains("NaN"), "{e}");
}

#[test]
fn depth_over_the_limit_is_refused() {
    // A chain 70 splits deep.
    let n = 141;
    let (mut feature, mut threshold, mut left, mut right, mut value) =
        (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..n {
        let internal = i % 2 == 0 && i + 2 < n;
        feature.push(if internal { 0 } else { -2 });
        threshold.push(0.0);
        left.push(if internal { i as i64 + 1 } else { -1 });
        right.push(if internal { i as i64 + 2 } else { -1 });
        value.push(0.5);
    }
    let v = doc(
        json!({"type": "random_forest", "trees": [{"feature": feature, "threshold": threshold, "left": left, "right": right, "value": value}]}),
        json!({"score": {"kind": "identity"}, "threshold": 0.5}),
    );
    assert!(err(&v).contains("deeper than the limit of 64"));
}

#[test]
fn integrity_policy() {
    let (secret, public) = key_files([3u8; 32], "test");
    let sk = parse_signing_key(&secret).unwrap();
    let pk = parse_public_key(&public).unwrap();
    let mut art = crate::Artifact::from_document(&lr()).unwrap();
    art.seal(Some(&sk)).unwrap();
    let text = art.to_json_pretty();
    let prod = LoadOptions::production(vec![pk]);
    let m = Model::load(text.as_bytes(), &prod).unwrap();
    assert!(m.signature().is_verified());
    // Tampering with one weight.
    let tampered = text.replace("[1.0,2.0,-1.0]", "[1.0,2.0,-0.5]");
    assert_ne!(tampered, text);
    assert!(matches!(
        Model::load(tampered.as_bytes(), &prod),
        Err(Error::Tampered { .. })
    ));
    assert!(matches!(
        Model::load(tampered.as_bytes(), &LoadOptions::development()),
        Err(Error::Tampered { .. })
    ));
    // Unsigned: refused in production, loads in development.
    assert!(matches!(
        Model::load(lr().to_string().as_bytes(), &prod),
        Err(Error::Unsigned)
    ));
    assert!(load_dev(&lr()).is_ok());
    // Untrusted signer.
    let other = LoadOptions::production(vec![]);
    assert!(matches!(
        Model::load(text.as_bytes(), &other),
        Err(Error::UntrustedKey { .. })
    ));
    // Not approved.
    let mut draft = crate::Artifact::from_document(&lr()).unwrap();
    draft.metadata.approval = crate::Approval::Draft;
    draft.seal(Some(&sk)).unwrap();
    let e = Model::load(draft.to_json_pretty().as_bytes(), &prod).unwrap_err();
    assert!(matches!(e, Error::NotApproved { .. }), "{e}");
}

#[test]
fn missing_fields_never_fail_scoring() {
    let m = load_dev(&lr()).unwrap();
    let events = [
        json!({"a": "1e308", "b": "x"}),
        json!({"a": "NaN"}),
        json!("not an object"),
        json!({"a": "١٢"}),
    ];
    let (mut batch, mut scores) = (m.new_batch(), crate::Scores::default());
    m.score_events(&events, &mut batch, &mut scores);
    assert_eq!(scores.score.len(), 4);
    assert_eq!(scores.flag[0], 1);
    assert!(scores.score.iter().all(|s| (0.0..=1.0).contains(s)));
    assert_eq!(batch.missing_count(0), 0);
    assert_eq!(batch.missing_count(1), 2);
    assert_eq!(
        m.missing_features(batch.mask(2))
            .map(|f| f.field.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
}
