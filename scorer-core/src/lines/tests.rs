use super::*;
use proptest::prelude::*;
use serde_json::json;

fn fields() -> Vec<String> {
    ["a", "b", "c.d", "_time", "host", "ü"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The extractor reads every field exactly as `json_field` does on the parsed object.
fn assert_same_as_json_field(line: &str) {
    let plan = FieldPlan::new(&fields(), &["model_output_risk_score"]);
    let mut b = LineBatch::default();
    b.clear(&plan);
    let kind = b.read_line(&plan, line.as_bytes());
    let parsed: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
    let LineKind::Event { row, .. } = kind else {
        panic!("{line}: {kind:?}")
    };
    for (c, f) in fields().iter().enumerate() {
        let want = parsed.get(f).map_or(Field::MISSING, crate::json_field);
        assert_eq!(b.field(row, c), want, "{line}: field {f}");
    }
}

#[test]
fn readings_match_json_field() {
    for line in [
        r#"{"a":"1.5","b":2,"c.d":true,"_time":"1730420088.330","host":"h"}"#,
        r#"{"a":"","b":null,"c.d":[],"ü":["x","y"]}"#,
        r#"{"a":[null,1],"b":[[1],2],"c.d":{"x":1},"ü":"caf\u00e9 \"q\""}"#,
        r#"{"a":1,"a":"dup-last-wins","b":18446744073709551615,"c.d":-0.0}"#,
        r#"{"b":1e300,"a":[""],"x":{"a":"nested is not read"}}"#,
    ] {
        assert_same_as_json_field(line);
    }
}

#[test]
fn export_stream_rows_documents_and_bad_lines() {
    let plan = FieldPlan::new(&fields(), &["anomaly_flag"]);
    let mut b = LineBatch::default();
    b.clear(&plan);
    let line = r#"{"preview":false,"offset":3,"result":{"a":"7","anomaly_flag":"0"}}"#;
    match b.read_line(&plan, line.as_bytes()) {
        LineKind::Event {
            row,
            span,
            collides,
            ..
        } => {
            assert_eq!(&line[span.0..span.1], r#"{"a":"7","anomaly_flag":"0"}"#);
            assert!(collides);
            assert_eq!(b.field(row, 0).first, Value::Text("7"));
        }
        k => panic!("{k:?}"),
    }
    let preview = r#"{"preview":true,"offset":0,"result":{"a":"7"}}"#;
    assert_eq!(b.read_line(&plan, preview.as_bytes()), LineKind::Skip);
    assert_eq!(
        b.read_line(&plan, br#"{"preview":false,"lastrow":true}"#),
        LineKind::Skip
    );
    match b.read_line(
        &plan,
        br#"{"preview":false,"results":[{"a":"1"},{"a":"2"}]}"#,
    ) {
        LineKind::Expand(v) => assert_eq!(v, [r#"{"a":"1"}"#, r#"{"a":"2"}"#]),
        k => panic!("{k:?}"),
    }
    // An ordinary event may have fields called `result`, `results` or `preview`.
    assert!(matches!(
        b.read_line(&plan, br#"{"result":"blocked","results":3,"preview":"x"}"#),
        LineKind::Event { .. }
    ));
    for bad in [
        &b"{\"a\":"[..],
        b"[1,2]",
        b"\"text\"",
        b"{\"a\":1} trailing",
        b"{\"a\":\"\xff\"}",
    ] {
        assert!(
            matches!(b.read_line(&plan, bad), LineKind::Bad(_)),
            "{bad:?}"
        );
    }
    // Failed lines leave no rows behind.
    assert_eq!(b.len(), 2);
}

fn scalar() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(|b| json!(b)),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| json!(x)),
        "\\PC{0,8}".prop_map(|s| json!(s)),
    ]
}

fn value() -> impl Strategy<Value = serde_json::Value> {
    scalar().prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-c]", inner, 0..3)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_object_reads_like_json_field(
        entries in prop::collection::vec((prop_oneof![Just("a"), Just("b"), Just("c.d"), Just("ü"), Just("z")], value()), 0..8)
    ) {
        // Built by hand so duplicate keys stay in the text.
        let body: Vec<String> = entries
            .iter()
            .map(|(k, v)| format!("{}:{}", json!(k), v))
            .collect();
        let line = format!("{{{}}}", body.join(","));
        assert_same_as_json_field(&line);
    }
}
