//! Paired A/B of scorer modules against the native engine (issue [2/8]
//! tuning; not part of `bench/engine.sh`).
//!
//! The VM this project is measured on moves single figures by ±15 % from one
//! run to the next, more than most changes are worth. This harness loads
//! every `.wasm` module named in `RISKSCORE_AB_MODULES` (comma-separated
//! paths, e.g. scorer-wasm built twice with one constant changed, copied out
//! of `target/wasm-embed`) next to the native engine, then alternates them
//! round after round on the same batch of 4,096 events: each module's ratio
//! to native is taken within a round and the median over rounds is reported,
//! with the best-round throughput. Every module's scores must be bit-identical
//! to native's (checked each round).
//!
//! ```text
//! RISKSCORE_AB_MODULES=/tmp/a.wasm,/tmp/b.wasm \
//!   cargo bench -p siem-adapter --bench engine_ab [-- ROUNDS]
//! ```
//!
//! `RISKSCORE_AB_MODELS=threat_rf` runs only the models named (to profile
//! one with `perf record`; `RISKSCORE_PERFMAP=1` names the guest's functions).
//!
//! Models: the peer's six in `target/bench-peer` (made by `bench/engine.sh`)
//! and the example `threat_rf`, as in the `engine` bench.

use std::path::Path;
use std::time::Instant;

use serde_json::{Map, Value};
use siem_adapter::engine::{BatchResult, Engine, EngineKind, Trust, WasmLimits, WasmRuntime};

mod events;
use events::{alert_events, cases, peer_dir, peer_events, BATCH};

/// Batches scored per engine per round.
const REPEAT: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let Ok(list) = std::env::var("RISKSCORE_AB_MODULES") else {
        eprintln!("engine_ab: set RISKSCORE_AB_MODULES=a.wasm,b.wasm (see the file's doc)");
        return;
    };
    // `cargo bench` passes `--bench`; a bare number is the round count.
    let rounds = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(15);
    let trust = Trust {
        keys: vec![],
        allow_unsigned: true,
    };
    let d = peer_dir();
    let (peer, alerts) = (peer_events(&d), alert_events());
    let modules: Vec<(String, WasmRuntime)> = list
        .split(',')
        .map(|p| {
            let wasm = std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            let name = Path::new(p).file_stem().unwrap().to_string_lossy().into();
            (
                name,
                WasmRuntime::with_module(&wasm, WasmLimits::default(), None).unwrap(),
            )
        })
        .collect();
    // `RISKSCORE_AB_MODELS=threat_rf,bench_if`: only these (for `perf record`).
    let only = std::env::var("RISKSCORE_AB_MODELS").ok();
    for (name, path, events) in cases(&d, &peer, &alerts) {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|m| m == name))
        {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let refs: Vec<&Map<String, Value>> = events.iter().collect();
        let mut engines = vec![Engine::load(EngineKind::Native, &bytes, &trust, None).unwrap()];
        for (_, rt) in &modules {
            engines.push(Engine::load(EngineKind::Wasm, &bytes, &trust, Some(rt)).unwrap());
        }
        let mut best = vec![f64::INFINITY; engines.len()];
        let mut ratios = vec![Vec::new(); engines.len()];
        let mut out = BatchResult::default();
        let mut reference: Option<Vec<u64>> = None;
        for _ in 0..rounds {
            let mut took = vec![0.0; engines.len()];
            for (i, e) in engines.iter_mut().enumerate() {
                let t = Instant::now();
                for _ in 0..REPEAT {
                    e.score(&refs, 0, &mut out).unwrap();
                }
                took[i] = t.elapsed().as_secs_f64();
                best[i] = best[i].min(took[i] / REPEAT as f64);
                let bits: Vec<u64> = out.score.iter().map(|s| s.to_bits()).collect();
                match &reference {
                    None => reference = Some(bits),
                    Some(r) => assert!(*r == bits, "{name}: engine {i} scores differ"),
                }
            }
            for i in 1..engines.len() {
                ratios[i].push(took[0] / took[i]);
            }
        }
        print!("{name:<10} native {:>8.0}/s", BATCH as f64 / best[0]);
        for (i, (m, _)) in modules.iter().enumerate() {
            let rate = BATCH as f64 / best[i + 1];
            let med = median(std::mem::take(&mut ratios[i + 1]));
            print!(" | {m} {rate:>8.0}/s, median ratio {med:.3}");
        }
        println!();
    }
}
