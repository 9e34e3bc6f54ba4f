//! Property: for random artifacts (random schemas over every transform,
//! random linear models, forests and k-means) and random events (numbers
//! huge and tiny, NaN text, Unicode, arrays of every first value, nulls,
//! missing fields), the wasmtime-embedded scorer and native scorer-core give
//! bit-identical scores, raw outputs, flags, missing masks and explanations.

use std::path::Path;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use siem_adapter::engine::{BatchResult, Engine, EngineKind, Trust, WasmLimits, WasmRuntime};

const FIELDS: [&str; 4] = ["f0", "f1", "src_ip", "_time"];

fn transform(r: &mut ChaCha8Rng) -> Value {
    match r.gen_range(0..11) {
        0 => {
            json!({"kind": "number", "missing": r.gen_range(-5.0..5.0), "clip": [-1e6, r.gen_range(0.0..1e9)]})
        }
        1 => json!({"kind": "log1p"}),
        2 => {
            json!({"kind": "standardize", "mean": r.gen_range(-10.0..10.0), "std": r.gen_range(0.1..100.0)})
        }
        3 => json!({"kind": "boolean"}),
        4 => json!({"kind": "one_hot", "categories": ["a", "ü", "10.0.0.1"]}),
        5 => json!({"kind": "hash_bucket", "buckets": r.gen_range(1..9)}),
        6 => json!({"kind": "ip_class"}),
        7 => json!({"kind": "hour_of_day", "cyclic": r.gen_bool(0.5)}),
        8 => json!({"kind": "day_of_week"}),
        9 => json!({"kind": "string_length"}),
        _ => json!({"kind": "value_count"}),
    }
}

fn tree(r: &mut ChaCha8Rng, width: usize) -> Value {
    // A full tree of depth 1..3, nodes in breadth-first order.
    let depth = r.gen_range(1..4);
    let internal = (1 << depth) - 1;
    let n = (1 << (depth + 1)) - 1;
    let mut t = json!({"feature": [], "threshold": [], "left": [], "right": [], "value": []});
    for i in 0..n {
        let leaf = i >= internal;
        t["feature"].as_array_mut().unwrap().push(json!(if leaf {
            -2
        } else {
            r.gen_range(0..width) as i64
        }));
        t["threshold"].as_array_mut().unwrap().push(json!(if leaf {
            0.0
        } else {
            r.gen_range(-3.0..3.0)
        }));
        t["left"]
            .as_array_mut()
            .unwrap()
            .push(json!(if leaf { -1 } else { 2 * i + 1 }));
        t["right"]
            .as_array_mut()
            .unwrap()
            .push(json!(if leaf { -1 } else { 2 * i + 2 }));
        t["value"]
            .as_array_mut()
            .unwrap()
            .push(json!(r.gen_range(0.0..1.0)));
    }
    t
}

fn artifact(seed: u64) -> Vec<u8> {
    let r = &mut ChaCha8Rng::seed_from_u64(seed);
    let features: Vec<Value> = (0..r.gen_range(1..6))
        .map(|_| json!({"field": FIELDS[r.gen_range(0..FIELDS.len())], "transform": transform(r)}))
        .collect();
    let schema: scorer_core::Schema =
        serde_json::from_value(json!({ "features": features })).unwrap();
    let w = schema.width();
    let (estimator, score) = match r.gen_range(0..3) {
        0 => (
            json!({"type": "logistic_regression", "weights": (0..w).map(|_| r.gen_range(-2.0..2.0)).collect::<Vec<f64>>(), "intercept": r.gen_range(-1.0..1.0)}),
            json!({"kind": "sigmoid"}),
        ),
        1 => (
            json!({"type": "random_forest", "trees": (0..r.gen_range(1..5)).map(|_| tree(r, w)).collect::<Vec<_>>()}),
            json!({"kind": "identity"}),
        ),
        _ => {
            let k = r.gen_range(1..4);
            let centroids: Vec<Vec<f64>> = (0..k)
                .map(|_| (0..w).map(|_| r.gen_range(-2.0..2.0)).collect())
                .collect();
            let risk: Vec<f64> = (0..k).map(|i| i as f64 / k as f64).collect();
            (
                json!({"type": "kmeans", "centroids": centroids, "cluster_risk": risk}),
                json!({"kind": "identity"}),
            )
        }
    };
    let doc = json!({
        "format": "riskscore-model", "format_version": 1,
        "metadata": {"name": format!("random{seed}"), "version": "1", "created": "2026-11-22T00:00:00Z", "approval": "draft"},
        "schema": schema, "estimator": estimator,
        "output": {"score": score, "threshold": r.gen_range(0.05..0.95)},
    });
    serde_json::to_vec(&doc).unwrap()
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<f64>().prop_map(|x| if x.is_finite() {
            json!(x)
        } else {
            json!(x.to_string())
        }),
        any::<i64>().prop_map(|x| json!(x)),
        "\\PC{0,12}".prop_map(|s| json!(s)),
        prop_oneof![
            Just("NaN"),
            Just("1e400"),
            Just("-0"),
            Just("10.1.2.3"),
            Just("fe80::1"),
            Just("2024-11-05T03:04:05Z"),
            Just("ü")
        ]
        .prop_map(|s| json!(s)),
        any::<bool>().prop_map(|b| json!(b)),
        Just(Value::Null),
        prop::collection::vec("[a-z]{0,3}", 0..3).prop_map(|v| json!(v)),
        // Multivalue fields of every first value, a null or nested one too
        // (missing, yet its values still count).
        prop::collection::vec(
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(|b| json!(b)),
                (-1e3..1e3f64).prop_map(|x| json!(x)),
                Just(json!({"o": 1})),
                Just(json!([1])),
                Just(json!("7")),
            ],
            1..4
        )
        .prop_map(Value::Array),
    ]
}

fn event() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((0..FIELDS.len(), value()), 0..5).prop_map(|kv| {
        kv.into_iter()
            .map(|(k, v)| (FIELDS[k].to_string(), v))
            .collect()
    })
}

fn runtime() -> &'static WasmRuntime {
    static RT: std::sync::OnceLock<WasmRuntime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("module-cache");
        WasmRuntime::new(WasmLimits::default(), Some(&cache)).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn native_and_wasm_agree_for_random_artifacts_and_events(
        seed in any::<u64>(),
        events in prop::collection::vec(event(), 1..40),
        explain in 0usize..4,
    ) {
        let bytes = artifact(seed);
        let trust = Trust { keys: vec![], allow_unsigned: true };
        let native = Engine::load(EngineKind::Native, &bytes, &trust, None);
        let wasm = Engine::load(EngineKind::Wasm, &bytes, &trust, Some(runtime()));
        let (mut native, mut wasm) = match (native, wasm) {
            (Ok(n), Ok(w)) => (n, w),
            (Err(a), Err(b)) => {
                // Both refuse, with the same reason.
                prop_assert_eq!(a.to_string(), b.to_string());
                return Ok(());
            }
            (n, w) => panic!("one engine loaded, the other not: {:?} / {:?}", n.err(), w.err()),
        };
        let refs: Vec<&Map<String, Value>> = events.iter().collect();
        let (mut a, mut b) = (BatchResult::default(), BatchResult::default());
        native.score(&refs, explain, &mut a).unwrap();
        wasm.score(&refs, explain, &mut b).unwrap();
        prop_assert_eq!(a.score.len(), events.len());
        for i in 0..events.len() {
            prop_assert_eq!(a.score[i].to_bits(), b.score[i].to_bits(), "row {} score", i);
            prop_assert_eq!(a.raw[i].to_bits(), b.raw[i].to_bits(), "row {} raw", i);
        }
        prop_assert_eq!(&a.flag, &b.flag);
        prop_assert_eq!(&a.masks, &b.masks);
        prop_assert_eq!(a.reasons.len(), b.reasons.len());
        for (x, y) in a.reasons.iter().zip(&b.reasons) {
            let x: Vec<_> = x.iter().map(|r| (&r.feature, r.contribution.to_bits())).collect();
            let y: Vec<_> = y.iter().map(|r| (&r.feature, r.contribution.to_bits())).collect();
            prop_assert_eq!(x, y);
        }
    }
}

/// The generator makes valid artifacts of every kind, so the property above
/// compares scores rather than refusals.
#[test]
fn random_artifacts_are_loadable_and_varied() {
    let trust = Trust {
        keys: vec![],
        allow_unsigned: true,
    };
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let bytes = artifact(seed);
        Engine::load(EngineKind::Native, &bytes, &trust, None)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        kinds.insert(doc["estimator"]["type"].as_str().unwrap().to_string());
    }
    assert_eq!(kinds.len(), 3, "{kinds:?}");
}
