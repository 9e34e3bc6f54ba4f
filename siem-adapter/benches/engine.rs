//! The engine benchmarks of issue [2/8]:
//!
//! * `engine/<model>/{native,wasm}`: batch scoring of events through each
//!   engine — the whole host path (events → wasm batch → one call → results,
//!   or native featurize + score), 4,096 events per batch, single thread;
//! * `start/{warm_cache,cold_cache}`: making the wasm runtime (compile, or
//!   load the cached compiled module) plus instantiating and loading the
//!   example random forest; `start/runtime_warm_cache` the runtime alone,
//!   `start/instantiate_and_load_lr` a new instance loading the small example
//!   logistic regression; `start/native_load` the forest loaded natively.
//!
//! Models: the artifacts of `bench/sklearn_peer.py`, one per estimator
//! (RISKSCORE_BENCH_DIR, default target/bench-peer: LR, linear regression,
//! k-means and PCA on 32 features, RF 100 trees depth 12, IF 100 trees) and
//! the example models. Run via
//! `bench/engine.sh`, which prints the wasm/native ratios.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{Map, Value};
use siem_adapter::engine::{BatchResult, Engine, EngineKind, Trust, WasmLimits, WasmRuntime};

mod events;
use events::{alert_events, cases, peer_dir, peer_events, repo, BATCH};

fn bench(c: &mut Criterion) {
    let trust = Trust {
        keys: vec![],
        allow_unsigned: true,
    };
    let cache = tempfile::tempdir().unwrap();
    let rt = WasmRuntime::new(WasmLimits::default(), Some(cache.path())).unwrap();
    let d = peer_dir();
    let peer = peer_events(&d);
    let alerts = alert_events();
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(10);
    for (name, path, events) in cases(&d, &peer, &alerts) {
        let bytes = std::fs::read(&path).unwrap();
        let refs: Vec<&Map<String, Value>> = events.iter().collect();
        for kind in [EngineKind::Native, EngineKind::Wasm] {
            let mut e = Engine::load(kind, &bytes, &trust, Some(&rt)).unwrap();
            let mut out = BatchResult::default();
            let label = if kind == EngineKind::Wasm {
                "wasm"
            } else {
                "native"
            };
            g.bench_function(BenchmarkId::new(name.as_str(), label), |b| {
                b.iter(|| e.score(&refs, 0, &mut out).unwrap())
            });
        }
    }
    g.finish();

    let rf = std::fs::read(repo().join("examples/models/threat_rf.json")).unwrap();
    let mut g = c.benchmark_group("start");
    g.sample_size(10);
    g.bench_function("warm_cache", |b| {
        b.iter(|| {
            let rt = WasmRuntime::new(WasmLimits::default(), Some(cache.path())).unwrap();
            Engine::load(EngineKind::Wasm, &rf, &trust, Some(&rt)).unwrap()
        })
    });
    g.bench_function("cold_cache", |b| {
        b.iter(|| {
            let fresh = tempfile::tempdir().unwrap();
            let rt = WasmRuntime::new(WasmLimits::default(), Some(fresh.path())).unwrap();
            Engine::load(EngineKind::Wasm, &rf, &trust, Some(&rt)).unwrap()
        })
    });
    g.bench_function("native_load", |b| {
        b.iter(|| Engine::load(EngineKind::Native, &rf, &trust, None).unwrap())
    });
    // The parts: the runtime alone (cached module + engine), then instantiate + load a small artifact.
    g.bench_function("runtime_warm_cache", |b| {
        b.iter(|| WasmRuntime::new(WasmLimits::default(), Some(cache.path())).unwrap())
    });
    let lr = std::fs::read(repo().join("examples/models/threat_lr.json")).unwrap();
    let warm = WasmRuntime::new(WasmLimits::default(), Some(cache.path())).unwrap();
    g.bench_function("instantiate_and_load_lr", |b| {
        b.iter(|| Engine::load(EngineKind::Wasm, &lr, &trust, Some(&warm)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
