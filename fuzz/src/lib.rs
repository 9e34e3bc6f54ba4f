//! # riskscore-fuzz
//!
//! The libFuzzer targets (cargo-fuzz) for every parser that takes outside
//! input, as plain functions so each target file is one line:
//!
//! | target | input | what must hold |
//! |---|---|---|
//! | [`scpv2`] | what splunkd writes to the command's stdin | `riskscore` and `riskdrift` never panic or hang; what they write back is well-framed chunks |
//! | [`input`] | an export file (JSON lines, Splunk export, results document, CSV, any of them gzipped) | the adapter's readers (the scoring pipeline's, and the record reader of `evaluate`, `train` and `mouse`) and a scoring worker never panic; every event out is a JSON object, scored or with `risk_error` |
//! | [`artifact`] | a model artifact | loading never panics; a model that loads scores and explains without panicking |
//! | [`wire`] | a host → guest batch buffer (the wasm ABI's `rs_score` and `rs_score_mouse`) | the guest-side decoders never panic; a batch they accept yields one result per row |
//! | [`serve`] | a `POST /v1/score` body and its `Content-Type` | the body parser and scorer of `siem-adapter serve` never panic; every element comes back, in the request's shape, as valid JSON |
//! | [`signature`] | an artifact's `integrity` member (digest, key id, signature) | verification never panics and accepts nothing but the real signature |
//!
//! The guest-side decoders are fuzzed natively: the wire code is plain Rust
//! that compiles to both, and native code is what libFuzzer can instrument.
//!
//! Run one: `cargo +nightly fuzz run wire` from the repository root; the
//! whole bounded run with the committed seeds is `make fuzz` (see README).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ed25519_dalek::VerifyingKey;
use riskscore_command::command::Setup;
use scorer_core::artifact::{self, parse_public_key};
use scorer_core::mouse::{feature_names, KsCombine, KsProfile, N_FEATURES};
use scorer_core::{LoadOptions, Model};
use siem_adapter::engine::{Engine, EngineKind, Trust};
use siem_adapter::pipeline::reader::{ChunkReader, Limits};
use siem_adapter::pipeline::worker::Worker;
use siem_adapter::render::{OutputFields, Renderer};
use siem_adapter::sources::InputFormat;

/// The shipped example models (signed): a random forest, loaded once per
/// process, and a small logistic regression for targets that load per input.
pub const THREAT_RF: &[u8] = include_bytes!("../../examples/models/threat_rf.json");
/// See [`THREAT_RF`].
pub const THREAT_LR: &[u8] = include_bytes!("../../examples/models/threat_lr.json");
/// The example models' public key.
pub const DEV_PUB: &str = include_str!("../../examples/keys/dev-signing.pub");

fn dev_key() -> &'static VerifyingKey {
    static K: OnceLock<VerifyingKey> = OnceLock::new();
    K.get_or_init(|| parse_public_key(DEV_PUB).expect("the example key parses"))
}

fn threat_rf() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| {
        Model::load(THREAT_RF, &LoadOptions::production(vec![*dev_key()]))
            .expect("the example model loads")
    })
}

/// A session model (mouse dynamics) with a KS profile, built in memory.
fn session_model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| {
        let cols: Vec<Vec<f64>> = (0..N_FEATURES)
            .map(|c| (0..64).map(|r| ((r * 31 + c * 7) % 97) as f64).collect())
            .collect();
        let ks = KsProfile::fit(feature_names(), cols, KsCombine::MeanD);
        let doc = serde_json::json!({
            "format": "riskscore-model", "format_version": 1,
            "metadata": {"name": "fuzz-mouse", "version": "1", "created": "2026-11-22T00:00:00Z", "approval": "draft"},
            "schema": {"features": [{"field": "v_mean", "transform": {"kind": "number"}}]},
            "estimator": {"type": "logistic_regression", "weights": [0.01], "intercept": -6.0},
            "output": {"score": {"kind": "sigmoid"}, "threshold": 0.5},
            "session": {"kind": "mouse_dynamics", "method": "gesture_mean", "threshold": 0.5, "ks": ks},
        });
        Model::load(doc.to_string().as_bytes(), &LoadOptions::development())
            .expect("the session model loads")
    })
}

/// A throw-away app folder: `models/threat_lr.json`, `keys/dev-signing.pub`.
fn app_setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let dir: PathBuf =
            std::env::temp_dir().join(format!("riskscore-fuzz-app-{}", std::process::id()));
        let write = |rel: &str, bytes: &[u8]| {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().expect("has a parent")).expect("temp dir");
            std::fs::write(p, bytes).expect("temp file");
        };
        write("models/threat_lr.json", THREAT_LR);
        write("keys/dev-signing.pub", DEV_PUB.as_bytes());
        Setup {
            app_dir: Some(dir),
            cache_dir: None,
        }
    })
}

/// Every byte the command wrote must be whole chunks.
fn assert_framed(out: &[u8]) {
    let mut r = riskscore_command::scpv2::ChunkReader::new(out);
    let mut body = Vec::new();
    loop {
        match r.next_chunk(&mut body) {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => panic!("the command wrote a broken chunk: {e}"),
        }
    }
}

/// Splunk's chunked protocol, as splunkd would send it, to `riskscore` and
/// to `riskdrift` (engine `native`: the wasm engine's guest is fuzzed by
/// [`wire`]; a fuzzer cannot instrument inside wasmtime).
pub fn scpv2(data: &[u8]) {
    let setup = app_setup();
    let mut out = Vec::new();
    riskscore_command::command::run(data, &mut out, setup);
    assert_framed(&out);
    out.clear();
    riskscore_command::drift::run(data, &mut out, setup);
    assert_framed(&out);
}

fn worker_engine() -> Engine {
    Engine::load(
        EngineKind::Native,
        THREAT_RF,
        &Trust {
            keys: vec![*dev_key()],
            allow_unsigned: false,
        },
        None,
    )
    .expect("the example model loads")
}

fn worker() -> Worker {
    let engine = worker_engine();
    let id = engine.describe().id.clone();
    Worker::new(engine, Renderer::new(OutputFields::default(), &id, None), 2)
}

/// An export file through the adapter's reader (format chosen by the first
/// byte, the rest is the file, gzip detected as in `--input`) and a scoring
/// worker, with small limits so the over-long paths are reached.
pub fn input(data: &[u8]) {
    let Some((&choice, file)) = data.split_first() else {
        return;
    };
    let format = match choice % 4 {
        0 => InputFormat::Auto,
        1 => InputFormat::Jsonl,
        2 => InputFormat::SplunkJson,
        _ => InputFormat::Csv,
    };
    let limits = Limits {
        max_line: 4096,
        max_document: 1 << 16,
    };
    let raw: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(file.to_vec()));
    let Ok(chunks) =
        ChunkReader::with_limits(siem_adapter::tables::buffered(raw), format, 64, limits)
    else {
        return;
    };
    thread_local! {
        static WORKER: std::cell::RefCell<Worker> = std::cell::RefCell::new(worker());
    }
    WORKER.with(|w| {
        let mut w = w.borrow_mut();
        for chunk in chunks {
            assert!(!chunk.lines.is_empty(), "no empty chunks");
            let block = w.process(&chunk);
            let c = block.counts;
            assert_eq!(c.read as usize, block.ends.len(), "one count per event out");
            assert_eq!(c.scored + c.errored, c.read, "scored or with risk_error");
            let mut start = 0;
            for &end in &block.ends {
                let event: serde_json::Value = serde_json::from_slice(&block.bytes[start..end])
                    .unwrap_or_else(|e| panic!("an event out is not JSON: {e}"));
                assert!(event.is_object(), "an event out is not an object");
                start = end;
            }
        }
    });
}

/// A `POST /v1/score` body. The first byte picks the `Content-Type`
/// (none, JSON, JSON lines, form), the rest is the body.
pub fn serve(data: &[u8]) {
    use siem_adapter::serve::body::{self, Item, Shape};
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    let content_type = match choice % 4 {
        0 => None,
        1 => Some("application/json; charset=utf-8"),
        2 => Some("application/x-ndjson"),
        _ => Some("application/x-www-form-urlencoded"),
    };
    let Ok(parsed) = body::parse(bytes, content_type) else {
        return;
    };
    let n = parsed.items.len();
    let events = parsed
        .items
        .iter()
        .filter(|i| matches!(i, Item::Event(_)))
        .count();
    thread_local! {
        static ENGINE: std::cell::RefCell<(Engine, Renderer)> = std::cell::RefCell::new({
            let w = worker_engine();
            let id = w.describe().id.clone();
            (w, Renderer::new(OutputFields::default(), &id, None))
        });
    }
    ENGINE.with(|e| {
        let (engine, renderer) = &mut *e.borrow_mut();
        let scored = body::score(parsed, engine, renderer, 2, false);
        let c = scored.counts;
        assert_eq!((c.scored + c.errored) as usize, n, "every element answered");
        assert!(c.scored as usize <= events);
        let out = scored.body();
        match scored.shape {
            Shape::Object | Shape::Array => {
                let v: serde_json::Value =
                    serde_json::from_slice(&out).expect("the answer is JSON");
                let got = v.as_array().map_or(1, Vec::len);
                assert_eq!(got, n, "one answer per element");
            }
            Shape::Lines => {
                let lines = out.split(|b| *b == b'\n').filter(|l| !l.is_empty());
                let mut got = 0;
                for l in lines {
                    serde_json::from_slice::<serde_json::Value>(l)
                        .expect("each answer line is JSON");
                    got += 1;
                }
                assert_eq!(got, n, "one answer line per element");
            }
        }
    });
}

/// A model artifact: parse, validate, check the signature, compile; a model
/// that loads is then used on a few events.
pub fn artifact(data: &[u8]) {
    for options in [
        LoadOptions::production(vec![*dev_key()]),
        LoadOptions::development(),
    ] {
        let Ok(model) = Model::load(data, &options) else {
            continue;
        };
        let events = [
            serde_json::json!({}),
            serde_json::json!({"src_ip": "10.1.2.3", "bytes_out": 1e300, "user": "ü", "_time": -1}),
        ];
        let (mut batch, mut scores) = (model.new_batch(), Default::default());
        model.score_events(&events, &mut batch, &mut scores);
        for i in 0..batch.len() {
            let _ = model.explain(batch.row(i), 3);
        }
        if let Ok(mut s) = model.session_scorer() {
            let _ = s.finish();
        }
    }
}

/// A batch buffer as the host writes it into guest memory. The first byte
/// picks the ABI call: even → `rs_score` (explain k = byte / 2 % 4) with the
/// example forest, odd → `rs_score_mouse` with a session model.
pub fn wire(data: &[u8]) {
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    let mut out = Vec::new();
    if choice % 2 == 0 {
        thread_local! {
            static SESSION: std::cell::RefCell<scorer_wasm::session::Session> =
                std::cell::RefCell::new(scorer_wasm::session::Session::new(threat_rf().clone()));
        }
        SESSION.with(|s| {
            let k = usize::from(choice / 2 % 4);
            if s.borrow_mut().score(bytes, k, true, &mut out).is_ok() {
                let view = scorer_wasm::wire::ResultsView::parse(&out)
                    .expect("the guest's own results parse");
                for i in 0..view.n_rows {
                    let r = view.row(i);
                    assert!(r.score.is_nan() || (0.0..=1.0).contains(&r.score));
                }
            }
        });
    } else if scorer_core::mouse::batch::score_request(session_model(), bytes, &mut out).is_ok() {
        let n = u32::from_le_bytes(bytes[..4].try_into().expect("a header was read")) as usize;
        let scores = scorer_core::mouse::batch::decode_response(&out, n)
            .expect("the guest's own response decodes");
        assert_eq!(scores.len(), n);
    }
}

/// Replace the example artifact's `integrity` member with the input (as
/// JSON, else as a raw signature) and verify against the example key: never
/// a panic, never a pass unless the integrity member is the original.
pub fn signature(data: &[u8]) {
    static DOC: OnceLock<(serde_json::Value, serde_json::Value)> = OnceLock::new();
    let (doc, original) = DOC.get_or_init(|| {
        let doc: serde_json::Value = serde_json::from_slice(THREAT_LR).expect("example is JSON");
        let integrity = doc["integrity"].clone();
        (doc, integrity)
    });
    let integrity = match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(v) => v,
        Err(_) => {
            let mut i = original.clone();
            use base64::Engine as _;
            i["signature"] = base64::engine::general_purpose::STANDARD
                .encode(data)
                .into();
            i
        }
    };
    let mut doc = doc.clone();
    doc["integrity"] = integrity.clone();
    for allow_unsigned in [false, true] {
        if let Ok(status) = artifact::verify(&doc, &[*dev_key()], allow_unsigned) {
            if status.is_verified() {
                // A pass means the author's signature bytes (Ed25519 with
                // strict verification has exactly one valid signature per
                // key and message).
                assert_eq!(
                    signature_bytes(&integrity),
                    signature_bytes(original),
                    "a signature other than the author's verified"
                );
            }
        }
    }
}

fn signature_bytes(integrity: &serde_json::Value) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let s = integrity.get("signature")?.as_str()?;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

/// The seed corpus of `target` committed under `fuzz/corpus/`.
pub fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}
