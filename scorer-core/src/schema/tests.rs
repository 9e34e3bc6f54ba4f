use super::*;

fn schema(json: serde_json::Value) -> Schema {
    serde_json::from_value(json).unwrap()
}

#[test]
fn featurizes_every_transform_and_marks_missing() {
    let s = schema(serde_json::json!({"features": [
        {"field": "bytes", "transform": {"kind": "log1p"}},
        {"field": "count", "transform": {"kind": "number", "missing": -1, "clip": [0, 100]}},
        {"field": "dur", "transform": {"kind": "standardize", "mean": 10, "std": 2}},
        {"field": "admin", "transform": {"kind": "boolean"}},
        {"field": "proto", "transform": {"kind": "one_hot", "categories": ["tcp", "udp"]}},
        {"field": "user", "transform": {"kind": "hash_bucket", "buckets": 8}},
        {"field": "src.ip", "transform": {"kind": "ip_class"}},
        {"field": "_time", "name": "hour", "transform": {"kind": "hour_of_day"}},
        {"field": "_time", "name": "dow", "transform": {"kind": "day_of_week"}},
        {"field": "cmd", "transform": {"kind": "string_length"}},
        {"field": "recipients", "transform": {"kind": "value_count"}}
    ]}));
    assert_eq!(s.width(), 1 + 1 + 1 + 1 + 3 + 8 + 4 + 1 + 1 + 1 + 1);
    let f = s.compile().unwrap();
    let ev = serde_json::json!({
        "bytes": "1000", "count": 500, "dur": "14", "admin": "yes", "proto": "icmp",
        "user": "alice", "src.ip": "10.0.0.1", "_time": 1_700_000_000,
        "cmd": "whoami", "recipients": ["a", "b", "c"]
    });
    let mut row = vec![f64::NAN; f.width()];
    let mut mask = vec![0u64; f.mask_words()];
    f.featurize_into(&ev, &mut row, &mut mask);
    assert_eq!(mask[0], 0);
    assert!((row[0] - 1001f64.ln()).abs() < 1e-12);
    assert_eq!(row[1], 100.0);
    assert_eq!(row[2], 2.0);
    assert_eq!(row[3], 1.0);
    assert_eq!(&row[4..7], &[0.0, 0.0, 1.0]);
    assert_eq!(row[7..15].iter().sum::<f64>(), 1.0);
    assert_eq!(&row[15..19], &[1.0, 0.0, 0.0, 0.0]);
    assert_eq!(row[19], 22.0);
    assert_eq!(row[20], 1.0);
    assert_eq!(row[21], 6.0);
    assert_eq!(row[22], 3.0);
    assert!(row.iter().all(|x| x.is_finite()));

    let empty = serde_json::json!({"count": "NaN", "bytes": "x"});
    f.featurize_into(&empty, &mut row, &mut mask);
    // Every feature but value_count is missing.
    assert_eq!(mask[0], (1 << 10) - 1);
    assert_eq!(row[1], -1.0);
    assert_eq!(row[22], 0.0);
    assert!(row.iter().all(|x| x.is_finite()));
}

#[test]
fn hostile_schemas_are_refused_at_their_limits() {
    let wide = |n: usize, buckets: usize| {
        let f: Vec<_> = (0..n)
            .map(|i| serde_json::json!({"field": format!("f{i}"), "transform": {"kind": "hash_bucket", "buckets": buckets}}))
            .collect();
        schema(serde_json::json!({ "features": f }))
    };
    // 4 × 65,536 columns is the total limit exactly; one more feature is over it.
    assert!(wide(4, MAX_TRANSFORM_WIDTH).validate().is_ok());
    let e = wide(5, MAX_TRANSFORM_WIDTH)
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("over the limit of 262144"), "{e}");
    let e = wide(1, MAX_TRANSFORM_WIDTH + 1)
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("allowed 1..=65536"), "{e}");
    let e = wide(MAX_FEATURES + 1, 1)
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("over the limit of 4096"), "{e}");
    let cats: Vec<String> = (0..MAX_TRANSFORM_WIDTH).map(|i| i.to_string()).collect();
    let e = schema(serde_json::json!({"features": [
        {"field": "c", "transform": {"kind": "one_hot", "categories": cats}}
    ]}))
    .validate()
    .unwrap_err()
    .to_string();
    assert!(e.contains("65537 columns"), "{e}");
}

#[test]
fn column_names_and_fields() {
    let s = schema(serde_json::json!({"features": [
        {"field": "proto", "transform": {"kind": "one_hot", "categories": ["tcp"]}},
        {"field": "_time", "name": "hour", "transform": {"kind": "hour_of_day", "cyclic": true}},
        {"field": "_time", "transform": {"kind": "day_of_week"}}
    ]}));
    assert_eq!(
        s.column_names(),
        [
            "proto=tcp",
            "proto=(other)",
            "hour:sin",
            "hour:cos",
            "_time"
        ]
    );
    assert_eq!(s.fields(), ["proto", "_time"]);
    assert_eq!(s.column_features(), [0, 0, 1, 1, 2]);
}

#[test]
fn rejects_bad_parameters_precisely() {
    let bad = schema(serde_json::json!({"features": [
        {"field": "a", "transform": {"kind": "number"}},
        {"field": "b", "transform": {"kind": "standardize", "mean": 0, "std": 0}}
    ]}));
    let e = bad.validate().unwrap_err().to_string();
    assert!(
        e.contains("schema.features[1]") && e.contains("std is 0"),
        "{e}"
    );
    let dup = schema(serde_json::json!({"features": [
        {"field": "a", "transform": {"kind": "one_hot", "categories": ["x", "x"]}}
    ]}));
    assert!(dup
        .validate()
        .unwrap_err()
        .to_string()
        .contains("listed twice"));
    let zero = schema(serde_json::json!({"features": [
        {"field": "a", "transform": {"kind": "hash_bucket", "buckets": 0}}
    ]}));
    assert!(zero.validate().is_err());
    let unknown: std::result::Result<Schema, _> = serde_json::from_value(serde_json::json!(
        {"features": [{"field": "a", "transform": {"kind": "sqrt"}}]}
    ));
    assert!(unknown.unwrap_err().to_string().contains("unknown variant"));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn every_transform() -> Schema {
        schema(serde_json::json!({"features": [
            {"field": "a", "transform": {"kind": "number", "clip": [-1, 1]}},
            {"field": "a", "transform": {"kind": "log1p"}},
            {"field": "a", "transform": {"kind": "standardize", "mean": 1, "std": 3}},
            {"field": "a", "transform": {"kind": "boolean"}},
            {"field": "a", "transform": {"kind": "one_hot", "categories": ["x", "y"]}},
            {"field": "a", "transform": {"kind": "hash_bucket", "buckets": 7}},
            {"field": "a", "transform": {"kind": "ip_class"}},
            {"field": "a", "transform": {"kind": "hour_of_day", "cyclic": true, "utc_offset_minutes": -300}},
            {"field": "a", "transform": {"kind": "day_of_week", "utc_offset_minutes": 1440}},
            {"field": "a", "transform": {"kind": "string_length"}},
            {"field": "a", "transform": {"kind": "value_count"}}
        ]}))
    }

    fn any_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("JSON numbers are finite", |x| x.is_finite())
                .prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            ".*".prop_map(serde_json::Value::from),
            "[0-9:T.+-]{0,30}".prop_map(serde_json::Value::from),
            "[0-9a-f:.%\\[\\]]{0,40}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(2, 8, 4, |inner| {
            prop::collection::vec(inner, 0..4).prop_map(serde_json::Value::from)
        })
    }

    proptest! {
        /// No field value, however odd, makes featurization panic or produce a non-finite number.
        #[test]
        fn featurization_never_panics_and_stays_finite(v in any_value(), text in ".*") {
            let f = every_transform().compile().unwrap();
            let mut row = vec![0.0; f.width()];
            let mut mask = vec![0u64; f.mask_words()];
            for ev in [serde_json::json!({"a": v}), serde_json::json!({"a": text})] {
                f.featurize_into(&ev, &mut row, &mut mask);
                prop_assert!(row.iter().all(|x| x.is_finite()), "{:?} -> {:?}", ev, row);
            }
        }
    }
}
