//! One scorer, two runtimes: the wasmtime-embedded .wasm and native
//! scorer-core must give identical results (bit for bit) for every estimator,
//! and the sandbox must stop a misbehaving module with a clear error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use scorer_core::train::{train, Algorithm, Table, TrainParams, TrainSpec};
use serde_json::{json, Map, Value};
use siem_adapter::engine::{
    BatchResult, Engine, EngineError, EngineKind, MapBatch, Trust, WasmLimits, WasmRuntime,
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn dev_trust() -> Trust {
    Trust {
        keys: vec![],
        allow_unsigned: true,
    }
}

/// Runtimes share a cache under target/tmp, so only the first test compiles the module.
fn runtime(limits: WasmLimits) -> WasmRuntime {
    WasmRuntime::new(
        limits,
        Some(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("module-cache")),
    )
    .unwrap()
}

fn edge_cases() -> Vec<Map<String, Value>> {
    let v = json!([
        {},
        {"bytes_out": "NaN", "src_ip": "not-an-ip", "_time": "yesterday", "failed_logins": "inf"},
        {"bytes_out": 1e308, "duration_s": -1e308, "failed_logins": "1e400", "bytes_in": "-0"},
        {"user": "Ωmega-用户-🙂", "signature": "日本語のアラート", "command_line": "ünïcödé \"quoted\"\nnewline", "severity": "ＣＲＩＴＩＣＡＬ"},
        {"mitre_technique": ["T1059.001", "T1078"], "is_admin": true, "dest_port": 443, "distinct_hosts": [1, 2, 3]},
        {"_time": "2024-11-05T03:04:05.123+05:30", "severity": "critical", "src_ip": "fe80::1%eth0"},
        {"_time": 1730419407.922, "src_ip": "::ffff:10.0.0.1", "bytes_out": "  12345  ", "is_admin": "YES"},
        {"process_name": "", "command_line": null, "signature": {"nested": "object"}, "dest_port": false}
    ]);
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_object().unwrap().clone())
        .collect()
}

fn alert_events() -> Vec<Map<String, Value>> {
    let text = std::fs::read_to_string(repo().join("examples/data/alerts_new.jsonl")).unwrap();
    let mut out: Vec<Map<String, Value>> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    out.extend(edge_cases());
    out
}

fn session_table() -> Table {
    let mut rdr = csv::Reader::from_path(repo().join("examples/data/sessions_train.csv")).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let mut t = Table::new(header).unwrap();
    for r in rdr.records() {
        t.push_row(r.unwrap().iter().map(|c| Some(c.to_string())).collect())
            .unwrap();
    }
    t
}

fn session_events(t: &Table) -> Vec<Map<String, Value>> {
    let mut out = Vec::new();
    for i in (0..t.len()).step_by(7) {
        let mut m = Map::new();
        for c in t.columns() {
            let v = t.column(c).unwrap().nth(i).flatten().unwrap_or("");
            m.insert(c.clone(), Value::String(v.to_string()));
        }
        out.push(m);
    }
    out.extend(edge_cases());
    out
}

fn trained(t: &Table, a: Algorithm, label: Option<&str>) -> Vec<u8> {
    let spec = TrainSpec {
        algorithm: a,
        label: label.map(String::from),
        features: ["_time", "duration_s", "bytes_out", "bytes_in", "failed_logins", "distinct_hosts", "src_ip"]
            .iter()
            .map(|s| s.to_string())
            .filter(|f| Some(f.as_str()) != label)
            .collect(),
        schema: None,
        metadata: serde_json::from_value(json!({"name": a.name(), "version": "t", "created": "2026-01-01T00:00:00Z", "approval": "draft"})).unwrap(),
        params: TrainParams { cv_folds: 0, k: 5, ..TrainParams::default() },
    };
    let mut art = train(t, &spec).unwrap();
    art.seal(None).unwrap();
    art.to_json_pretty().into_bytes()
}

fn assert_identical(name: &str, a: &BatchResult, b: &BatchResult) {
    assert_eq!(a.score.len(), b.score.len(), "{name}");
    for i in 0..a.score.len() {
        assert_eq!(
            a.score[i].to_bits(),
            b.score[i].to_bits(),
            "{name} row {i}: score {} vs {}",
            a.score[i],
            b.score[i]
        );
        assert_eq!(
            a.raw[i].to_bits(),
            b.raw[i].to_bits(),
            "{name} row {i}: raw"
        );
    }
    assert_eq!(a.flag, b.flag, "{name}: flags");
    assert_eq!(a.masks, b.masks, "{name}: missing masks");
    assert_eq!(a.reasons.len(), b.reasons.len(), "{name}: reasons");
    for (i, (x, y)) in a.reasons.iter().zip(&b.reasons).enumerate() {
        assert_eq!(x.len(), y.len(), "{name} row {i}: reasons");
        for (p, q) in x.iter().zip(y) {
            assert_eq!(
                (&p.feature, p.contribution.to_bits()),
                (&q.feature, q.contribution.to_bits()),
                "{name} row {i}"
            );
        }
    }
}

/// (name, artifact bytes, events to score).
type Case<'a> = (String, Vec<u8>, &'a Vec<Map<String, Value>>);

#[test]
fn native_and_wasm_agree_bit_for_bit_for_every_estimator() {
    let rt = runtime(WasmLimits::default());
    let t = session_table();
    let alerts = alert_events();
    let sessions = session_events(&t);
    let mut cases: Vec<Case> = Vec::new();
    for name in ["threat_rf", "threat_lr"] {
        cases.push((
            name.into(),
            std::fs::read(repo().join(format!("examples/models/{name}.json"))).unwrap(),
            &alerts,
        ));
    }
    cases.push((
        "session_iforest".into(),
        std::fs::read(repo().join("examples/models/session_iforest.json")).unwrap(),
        &sessions,
    ));
    cases.push((
        "kmeans".into(),
        trained(&t, Algorithm::Kmeans, None),
        &sessions,
    ));
    cases.push(("pca".into(), trained(&t, Algorithm::Pca, None), &sessions));
    cases.push((
        "linear_regression".into(),
        trained(&t, Algorithm::LinearRegression, Some("failed_logins")),
        &sessions,
    ));
    let mut kinds = Vec::new();
    for (name, bytes, events) in &cases {
        let refs: Vec<&Map<String, Value>> = events.iter().collect();
        let mut native = Engine::load(EngineKind::Native, bytes, &dev_trust(), None).unwrap();
        let mut wasm = Engine::load(EngineKind::Wasm, bytes, &dev_trust(), Some(&rt)).unwrap();
        assert_eq!(native.describe().fields, wasm.describe().fields);
        kinds.push(native.describe().metadata.name.clone());
        for explain in [0, 3] {
            let (mut a, mut b) = (BatchResult::default(), BatchResult::default());
            native.score(&refs, explain, &mut a).unwrap();
            wasm.score(&refs, explain, &mut b).unwrap();
            assert_eq!(a.score.len(), events.len());
            assert_identical(name, &a, &b);
        }
        // Every edge case scored, none lost.
        let mut r = BatchResult::default();
        wasm.score(&refs[refs.len() - 8..], 0, &mut r).unwrap();
        assert!(
            r.score.iter().all(|s| (0.0..=1.0).contains(s)),
            "{name}: {:?}",
            r.score
        );
    }
    assert_eq!(kinds.len(), 6);
}

#[test]
fn an_encoded_batch_scores_as_the_batch_itself_and_only_for_its_model() {
    let rt = runtime(WasmLimits::default());
    let alerts = alert_events();
    let refs: Vec<&Map<String, Value>> = alerts.iter().collect();
    let load = |name: &str, kind| {
        let bytes = std::fs::read(repo().join(format!("examples/models/{name}.json"))).unwrap();
        Engine::load(kind, &bytes, &dev_trust(), Some(&rt)).unwrap()
    };
    for kind in [EngineKind::Wasm, EngineKind::Native] {
        let mut rf = load("threat_rf", kind);
        let fields = rf.describe().fields.clone();
        let batch = MapBatch {
            events: &refs,
            fields: &fields,
        };
        let mut encoder = rf.encoder();
        encoder.encode(&batch);
        assert_eq!(encoder.rows(), refs.len());
        for explain in [0, 3] {
            let (mut a, mut b) = (BatchResult::default(), BatchResult::default());
            rf.score_batch(&batch, explain, &mut a).unwrap();
            rf.score_encoded(&encoder, &batch, explain, &mut b).unwrap();
            assert_identical(&format!("{kind:?} encoded"), &a, &b);
        }
        if kind == EngineKind::Native {
            continue;
        }
        // Another model's encoder, or one holding other events, is refused.
        let mut lr = load("threat_lr", kind);
        let mut out = BatchResult::default();
        let e = lr.score_encoded(&encoder, &batch, 0, &mut out).unwrap_err();
        assert!(
            matches!(&e, EngineError::Batch(m) if m.contains("encoded for threat_rf")),
            "{e}"
        );
        let few = MapBatch {
            events: &refs[..3],
            fields: &fields,
        };
        let e = rf.score_encoded(&encoder, &few, 0, &mut out).unwrap_err();
        assert!(matches!(&e, EngineError::Batch(_)), "{e}");
        // And the engine still scores afterwards.
        rf.score_batch(&few, 0, &mut out).unwrap();
        assert_eq!(out.score.len(), 3);
    }
}

#[test]
fn refusals_come_through_the_wasm_engine_too() {
    let rt = runtime(WasmLimits::default());
    let rf = std::fs::read(repo().join("examples/models/threat_rf.json")).unwrap();
    // Untrusted in production.
    let prod = Trust {
        keys: vec![],
        allow_unsigned: false,
    };
    for kind in [EngineKind::Native, EngineKind::Wasm] {
        match Engine::load(kind, &rf, &prod, Some(&rt)) {
            Err(EngineError::Model(m)) => assert!(m.contains("not among the trusted keys"), "{m}"),
            other => panic!("{kind:?}: {:?}", other.err()),
        }
    }
    // Tampered.
    let tampered =
        String::from_utf8(rf.clone())
            .unwrap()
            .replacen("\"threshold\":0.", "\"threshold\":0.0", 1);
    match Engine::load(
        EngineKind::Wasm,
        tampered.as_bytes(),
        &dev_trust(),
        Some(&rt),
    ) {
        Err(EngineError::Model(m)) => assert!(m.contains("tampered"), "{m}"),
        other => panic!("{:?}", other.err()),
    }
    // Trusted with the dev key: verified inside the sandbox.
    let pk = scorer_core::artifact::parse_public_key(
        &std::fs::read_to_string(repo().join("examples/keys/dev-signing.pub")).unwrap(),
    )
    .unwrap();
    let e = Engine::load(
        EngineKind::Wasm,
        &rf,
        &Trust {
            keys: vec![pk],
            allow_unsigned: false,
        },
        Some(&rt),
    )
    .unwrap();
    assert_eq!(e.describe().signature["status"], "verified");
}

#[test]
fn truncated_or_random_modules_are_refused() {
    let real = siem_adapter::engine::SCORER_WASM;
    let mut noise = vec![0u8; 4096];
    let mut x: u32 = 12345;
    for b in &mut noise {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (x >> 16) as u8;
    }
    for (what, bytes) in [
        ("truncated", &real[..real.len() / 2]),
        ("random", &noise[..]),
        ("empty", &[][..]),
    ] {
        let r = WasmRuntime::with_module(bytes, WasmLimits::default(), None);
        assert!(matches!(r, Err(EngineError::Module(_))), "{what}");
    }
}

#[test]
fn a_module_with_imports_is_refused() {
    let wasm = wat::parse_str(r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (memory (export "memory") 1))"#).unwrap();
    match WasmRuntime::with_module(&wasm, WasmLimits::default(), None) {
        Err(EngineError::Module(m)) => assert!(
            m.contains("imports `wasi_snapshot_preview1::fd_write`"),
            "{m}"
        ),
        other => panic!("{:?}", other.err()),
    }
}

/// A guest that speaks the ABI but misbehaves in `rs_load`.
fn rogue(load_body: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
          (memory (export "memory") 1)
          (func (export "rs_abi_version") (result i32) i32.const 2)
          (func (export "rs_reserve") (param i32) (result i32) i32.const 1024)
          (func (export "rs_load") (param i32 i32 i32 i32) (result i32) {load_body})
          (func (export "rs_describe") (param i32) (result i32) i32.const 0)
          (func (export "rs_set_threshold") (param i32 f64) (result i32) i32.const 0)
          (func (export "rs_score") (param i32 i32 i32 i32) (result i32) i32.const 0)
          (func (export "rs_output_ptr") (result i32) i32.const 0)
          (func (export "rs_output_len") (result i32) i32.const 0)
          (func (export "rs_message_ptr") (result i32) i32.const 0)
          (func (export "rs_message_len") (result i32) i32.const 0))"#
    ))
    .unwrap()
}

#[test]
fn a_scorer_that_loops_is_stopped_by_the_time_bound() {
    let limits = WasmLimits {
        memory_bytes: 64 << 20,
        call_timeout: Duration::from_millis(50),
        load_timeout: Duration::from_millis(50),
    };
    let rt =
        WasmRuntime::with_module(&rogue("(loop $l (br $l)) i32.const 0"), limits, None).unwrap();
    let started = std::time::Instant::now();
    match Engine::load(EngineKind::Wasm, b"{}", &dev_trust(), Some(&rt)) {
        Err(EngineError::Timeout(ms)) => assert_eq!(ms, 50),
        other => panic!("{:?}", other.err()),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_scorer_that_allocates_without_bound_is_stopped_by_the_memory_cap() {
    let limits = WasmLimits {
        memory_bytes: 8 << 20,
        call_timeout: Duration::from_secs(10),
        load_timeout: Duration::from_secs(10),
    };
    let grow = "(loop $l (drop (memory.grow (i32.const 16))) (br $l)) i32.const 0";
    let rt = WasmRuntime::with_module(&rogue(grow), limits, None).unwrap();
    match Engine::load(EngineKind::Wasm, b"{}", &dev_trust(), Some(&rt)) {
        Err(EngineError::MemoryLimit(n)) => assert_eq!(n, 8 << 20),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn the_real_scorer_is_bounded_and_recovers() {
    // A huge artifact (the example forest's trees repeated 40 times, ~6 MB) under a 16 MiB cap.
    let rf: Value = serde_json::from_slice(
        &std::fs::read(repo().join("examples/models/threat_rf.json")).unwrap(),
    )
    .unwrap();
    let mut big = rf.clone();
    big.as_object_mut().unwrap().remove("integrity");
    let trees = big["estimator"]["trees"].as_array().unwrap().clone();
    big["estimator"]["trees"] = Value::Array(
        trees
            .iter()
            .cycle()
            .take(trees.len() * 40)
            .cloned()
            .collect(),
    );
    let big = serde_json::to_vec(&big).unwrap();
    let small = runtime(WasmLimits {
        memory_bytes: 16 << 20,
        call_timeout: Duration::from_secs(20),
        load_timeout: Duration::from_secs(20),
    });
    match Engine::load(EngineKind::Wasm, &big, &dev_trust(), Some(&small)) {
        Err(EngineError::MemoryLimit(_)) => {}
        other => panic!("expected the memory cap, got {:?}", other.err()),
    }
    // A batch too big for a 20 ms bound times out; the engine rebuilds itself and scores the next batch.
    let rt = runtime(WasmLimits {
        memory_bytes: 1 << 30,
        call_timeout: Duration::from_millis(20),
        load_timeout: Duration::from_secs(30),
    });
    let bytes = serde_json::to_vec(&big_forest(&rf)).unwrap();
    let mut e = Engine::load(EngineKind::Wasm, &bytes, &dev_trust(), Some(&rt)).unwrap();
    let events = alert_events();
    let many: Vec<&Map<String, Value>> = events.iter().cycle().take(60_000).collect();
    let mut r = BatchResult::default();
    match e.score(&many, 0, &mut r) {
        Err(EngineError::Timeout(20)) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    let few: Vec<&Map<String, Value>> = events.iter().take(3).collect();
    e.score(&few, 0, &mut r).unwrap();
    assert_eq!(r.score.len(), 3);
}

/// The example forest with 4× the trees (loads quickly, scores slowly).
fn big_forest(rf: &Value) -> Value {
    let mut v = rf.clone();
    v.as_object_mut().unwrap().remove("integrity");
    let trees = v["estimator"]["trees"].as_array().unwrap().clone();
    v["estimator"]["trees"] = Value::Array(
        trees
            .iter()
            .cycle()
            .take(trees.len() * 4)
            .cloned()
            .collect(),
    );
    v
}

#[test]
fn the_compiled_module_cache_hits_and_survives_corruption() {
    use siem_adapter::engine::CacheOutcome;
    let dir = tempfile::tempdir().unwrap();
    let first = WasmRuntime::new(WasmLimits::default(), Some(dir.path())).unwrap();
    let CacheOutcome::Stored(path) = first.cache.clone() else {
        panic!("{:?}", first.cache)
    };
    let second = WasmRuntime::new(WasmLimits::default(), Some(dir.path())).unwrap();
    assert_eq!(second.cache, CacheOutcome::Hit(path.clone()));
    // A damaged entry is refused by wasmtime and replaced by a fresh compile.
    std::fs::write(&path, b"not a compiled module").unwrap();
    let third = WasmRuntime::new(WasmLimits::default(), Some(dir.path())).unwrap();
    assert_eq!(third.cache, CacheOutcome::Stored(path.clone()));
    // An entry others could have written (native code!) is not trusted.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let fourth = WasmRuntime::new(WasmLimits::default(), Some(dir.path())).unwrap();
        assert_eq!(
            fourth.cache,
            CacheOutcome::Stored(path.clone()),
            "recompiled, not loaded"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the fresh entry is private");
        let fifth = WasmRuntime::new(WasmLimits::default(), Some(dir.path())).unwrap();
        assert_eq!(fifth.cache, CacheOutcome::Hit(path.clone()));
    }
    let rf = std::fs::read(repo().join("examples/models/threat_rf.json")).unwrap();
    Engine::load(EngineKind::Wasm, &rf, &dev_trust(), Some(&third)).unwrap();
}

#[test]
fn the_scorer_exports_exactly_the_documented_abi() {
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, siem_adapter::engine::SCORER_WASM).unwrap();
    assert_eq!(
        module.imports().count(),
        0,
        "the scorer must import nothing"
    );
    let mut exports: Vec<String> = module
        .exports()
        .map(|e| e.name().to_string())
        .filter(|n| n.starts_with("rs_"))
        .collect();
    exports.sort();
    assert_eq!(
        exports,
        [
            "rs_abi_version",
            "rs_alloc",
            "rs_describe",
            "rs_free",
            "rs_load",
            "rs_message_len",
            "rs_message_ptr",
            "rs_output_len",
            "rs_output_ptr",
            "rs_reserve",
            "rs_score",
            "rs_score_mouse",
            "rs_set_threshold",
            "rs_take_drift",
            "rs_track_drift",
            "rs_unload"
        ]
    );
}
