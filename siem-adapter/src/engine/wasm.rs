//! The WebAssembly engine: the embedded scorer module run by wasmtime.
//!
//! Sandbox: the module may import nothing (no WASI, no host functions — the
//! linker offers none, so a module with imports fails to instantiate), its
//! memory is capped, and every call has a time bound enforced by epoch
//! interruption (a ticker thread advances the engine's epoch every 10 ms).
//! A trap, a timeout or the memory cap becomes an [`EngineError`]; the
//! instance is then rebuilt and the model reloaded, so the next batch runs.
//!
//! One [`WasmRuntime`] per process (engine + compiled module + ticker); one
//! store and instance per loaded model.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use scorer_core::drift::DriftCounts;
use scorer_wasm::wire::ResultsView;
use serde_json::Value;
use wasmtime::{Config, Engine as WtEngine, Module, Store, StoreLimits};

use super::cache::{self, CacheOutcome};
use super::{BatchResult, Description, Encoder, EngineError, EventBatch, Trust};

mod instance;
mod sessions;

use instance::{classify, guest_range, instantiate, read, Exports};

/// The scorer module built from scorer-wasm by this crate's build script.
pub static SCORER_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/scorer.wasm"));

/// The host ABI this engine speaks (scorer-wasm's `rs_abi_version`).
const ABI_VERSION: u32 = 2;

const TICK: Duration = Duration::from_millis(10);

/// Bounds of the sandbox.
#[derive(Debug, Clone, Copy)]
pub struct WasmLimits {
    /// Largest linear memory, bytes (default 1 GiB).
    pub memory_bytes: usize,
    /// Longest scoring call (one batch).
    pub call_timeout: Duration,
    /// Longest load (parse, verify and compile an artifact).
    pub load_timeout: Duration,
}

impl Default for WasmLimits {
    fn default() -> Self {
        WasmLimits {
            memory_bytes: 1 << 30,
            call_timeout: Duration::from_secs(30),
            load_timeout: Duration::from_secs(60),
        }
    }
}

/// Engine, compiled module and epoch ticker, shared by every model of a process.
pub struct WasmRuntime {
    engine: WtEngine,
    module: Module,
    limits: WasmLimits,
    stop: Arc<AtomicBool>,
    /// How the compiled module was obtained.
    pub cache: CacheOutcome,
}

impl Drop for WasmRuntime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl WasmRuntime {
    /// Compile (or load from `cache_dir`) the embedded scorer module.
    pub fn new(limits: WasmLimits, cache_dir: Option<&Path>) -> Result<WasmRuntime, EngineError> {
        Self::with_module(SCORER_WASM, limits, cache_dir)
    }

    /// Like [`WasmRuntime::new`] with another module (tests of the sandbox use this).
    pub fn with_module(
        wasm: &[u8],
        limits: WasmLimits,
        cache_dir: Option<&Path>,
    ) -> Result<WasmRuntime, EngineError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Developers' profiling aid: name the guest's compiled functions in
        // /tmp/perf-<pid>.map so `perf report` shows them (BENCHMARKS.md [2/8]).
        if std::env::var_os("RISKSCORE_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = WtEngine::new(&config).map_err(|e| EngineError::Module(e.to_string()))?;
        let (module, cache) = cache::load(&engine, wasm, cache_dir)
            .map_err(|e| EngineError::Module(format!("not a valid scorer module: {e}")))?;
        if let Some(import) = module.imports().next() {
            return Err(EngineError::Module(format!(
                "the module imports `{}::{}`; the scorer must import nothing",
                import.module(),
                import.name()
            )));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (e, s) = (engine.clone(), stop.clone());
        std::thread::Builder::new()
            .name("riskscore-epoch".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    e.increment_epoch();
                }
            })
            .map_err(|e| EngineError::Module(format!("cannot start the epoch ticker: {e}")))?;
        Ok(WasmRuntime {
            engine,
            module,
            limits,
            stop,
            cache,
        })
    }

    fn ticks(&self) -> u64 {
        ticks(self.limits.call_timeout)
    }
}

fn ticks(d: Duration) -> u64 {
    (d.as_millis() / TICK.as_millis()).max(1) as u64
}

/// A model loaded in its own sandboxed instance.
pub struct WasmEngine {
    store: Store<StoreLimits>,
    ex: Exports,
    handle: i32,
    desc: Description,
    /// Encodes the batches of [`WasmEngine::score`].
    encoder: Encoder,
    // Kept to rebuild the instance after a trap.
    module: Module,
    engine: WtEngine,
    limits: WasmLimits,
    ticks: u64,
    artifact: Vec<u8>,
    options: Vec<u8>,
    threshold: Option<f64>,
    /// Count scored batches into the guest's drift window.
    track: bool,
}

fn no_drift() -> EngineError {
    EngineError::Module(
        "this scorer module does not measure drift (no rs_track_drift export)".into(),
    )
}

impl WasmEngine {
    /// Instantiate the scorer and load `artifact` in it.
    pub fn load(rt: &WasmRuntime, artifact: &[u8], trust: &Trust) -> Result<Self, EngineError> {
        let keys: Vec<String> = trust
            .keys
            .iter()
            .map(|k| base64::engine::general_purpose::STANDARD.encode(k.as_bytes()))
            .collect();
        let options = serde_json::to_vec(&serde_json::json!({
            "allow_unsigned": trust.allow_unsigned,
            "require_approved": !trust.allow_unsigned,
            "trusted_keys": keys,
        }))
        .unwrap_or_default();
        let (store, ex) = instantiate(&rt.engine, &rt.module, &rt.limits)?;
        let mut me = WasmEngine {
            store,
            ex,
            handle: -1,
            desc: Description {
                id: String::new(),
                fields: vec![],
                features: vec![],
                width: 0,
                threshold: 0.0,
                signature: Value::Null,
                baseline: None,
                drift: Default::default(),
                metadata: serde_json::from_value(serde_json::json!({"name": "", "version": "", "created": "", "approval": "draft"}))
                    .map_err(|e| EngineError::Module(e.to_string()))?,
            },
            encoder: Encoder::inert(),
            module: rt.module.clone(),
            engine: rt.engine.clone(),
            limits: rt.limits,
            ticks: rt.ticks(),
            artifact: artifact.to_vec(),
            options,
            threshold: None,
            track: false,
        };
        me.load_model()?;
        Ok(me)
    }

    fn message(&mut self) -> String {
        let p = self.ex.msg_ptr.call(&mut self.store, ()).unwrap_or(0);
        let n = self.ex.msg_len.call(&mut self.store, ()).unwrap_or(0);
        read(&self.store, &self.ex.memory, p, n)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The guest's input buffer, `len` bytes long; returns its address.
    fn reserve(&mut self, len: usize) -> Result<u32, EngineError> {
        let len = u32::try_from(len)
            .map_err(|_| EngineError::Batch(format!("a batch of {len} bytes exceeds 4 GiB")))?;
        self.ex
            .reserve
            .call(&mut self.store, len)
            .map_err(|e| classify(e, &self.limits, self.limits.call_timeout))
    }

    /// Copy `bytes` into the guest's input buffer; returns its address.
    fn put(&mut self, bytes: &[u8]) -> Result<u32, EngineError> {
        let ptr = self.reserve(bytes.len())?;
        guest_range(&self.ex.memory, &mut self.store, ptr, bytes.len())?.copy_from_slice(bytes);
        Ok(ptr)
    }

    fn load_model(&mut self) -> Result<(), EngineError> {
        self.store
            .set_epoch_deadline(ticks(self.limits.load_timeout));
        // Artifact and options go into one reserved buffer, one after the other.
        let mut both = self.artifact.clone();
        both.extend_from_slice(&self.options);
        let ptr = self.put(&both)?;
        let (alen, olen) = (self.artifact.len() as u32, self.options.len() as u32);
        let h = self
            .ex
            .load
            .call(&mut self.store, (ptr, alen, ptr + alen, olen))
            .map_err(|e| classify(e, &self.limits, self.limits.load_timeout))?;
        if h < 0 {
            return Err(EngineError::Model(self.message()));
        }
        self.handle = h;
        if self
            .ex
            .describe
            .call(&mut self.store, h)
            .map_err(|e| classify(e, &self.limits, self.limits.call_timeout))?
            != 0
        {
            return Err(EngineError::Module(self.message()));
        }
        let text = self.message();
        self.desc = serde_json::from_str(&text)
            .map_err(|e| EngineError::Module(format!("description: {e}")))?;
        self.encoder = Encoder::for_model(&self.desc);
        if let Some(t) = self.threshold {
            self.set_threshold(t)?;
        }
        if self.track {
            self.track_drift(true)?;
        }
        Ok(())
    }

    /// Count scored batches into the guest's drift window, or stop.
    pub fn track_drift(&mut self, on: bool) -> Result<(), EngineError> {
        self.store.set_epoch_deadline(self.ticks);
        let f = self.ex.track_drift.clone().ok_or_else(no_drift)?;
        let rc = f
            .call(&mut self.store, (self.handle, i32::from(on)))
            .map_err(|e| classify(e, &self.limits, self.limits.call_timeout))?;
        if rc != 0 {
            return Err(EngineError::Module(self.message()));
        }
        self.track = on;
        Ok(())
    }

    /// The drift counts of the batches scored since the last take (`None`:
    /// the artifact has no baseline).
    pub fn take_drift(&mut self) -> Result<Option<DriftCounts>, EngineError> {
        self.store.set_epoch_deadline(self.ticks);
        let f = self.ex.take_drift.clone().ok_or_else(no_drift)?;
        let rc = f
            .call(&mut self.store, self.handle)
            .map_err(|e| classify(e, &self.limits, self.limits.call_timeout))?;
        match rc {
            0 => serde_json::from_str(&self.message())
                .map(Some)
                .map_err(|e| EngineError::Module(format!("drift counts: {e}"))),
            1 => Ok(None),
            _ => Err(EngineError::Module(self.message())),
        }
    }

    /// Rebuild the instance after a trap and reload the model.
    fn recover(&mut self) -> Result<(), EngineError> {
        let (store, ex) = instantiate(&self.engine, &self.module, &self.limits)?;
        self.store = store;
        self.ex = ex;
        self.load_model()
    }

    /// The model's description (as the guest reports it).
    pub fn describe(&self) -> &Description {
        &self.desc
    }

    /// Override the flag threshold.
    pub fn set_threshold(&mut self, t: f64) -> Result<(), EngineError> {
        self.store.set_epoch_deadline(self.ticks);
        let rc = self
            .ex
            .set_threshold
            .call(&mut self.store, (self.handle, t))
            .map_err(|e| classify(e, &self.limits, self.limits.call_timeout))?;
        if rc != 0 {
            return Err(EngineError::Model(self.message()));
        }
        self.threshold = Some(t);
        self.desc.threshold = t;
        Ok(())
    }

    /// Score a batch: one copy in, one call, one copy out.
    pub fn score(
        &mut self,
        events: &dyn EventBatch,
        explain: usize,
        out: &mut BatchResult,
    ) -> Result<(), EngineError> {
        let result = self.score_once(events, explain, out);
        self.recover_if_broken(result)
    }

    /// Pass `result` on; when the call trapped, timed out or hit the memory
    /// cap, rebuild the instance first so the next call finds a working one.
    fn recover_if_broken<T>(&mut self, result: Result<T, EngineError>) -> Result<T, EngineError> {
        if let Err(
            e @ (EngineError::Trap(_) | EngineError::Timeout(_) | EngineError::MemoryLimit(_)),
        ) = &result
        {
            tracing::warn!(error = %e, "scorer instance failed; rebuilding it for the next batch");
            if let Err(again) = self.recover() {
                tracing::error!(error = %again, "scorer instance could not be rebuilt");
            }
        }
        result
    }

    /// Address and length of the guest's last results.
    fn output_range(&mut self) -> Result<(u32, u32), EngineError> {
        let p = self
            .ex
            .out_ptr
            .call(&mut self.store, ())
            .map_err(|e| classify(e, &self.limits, self.limits.call_timeout))?;
        let n = self
            .ex
            .out_len
            .call(&mut self.store, ())
            .map_err(|e| classify(e, &self.limits, self.limits.call_timeout))?;
        Ok((p, n))
    }

    /// An encoder for this engine's model (see [`Encoder`]).
    pub fn encoder(&self) -> Encoder {
        Encoder::for_model(&self.desc)
    }

    /// Score `events`, already encoded by `encoder` (made by
    /// [`WasmEngine::encoder`]): one copy in, one call, one copy out.
    pub fn score_encoded(
        &mut self,
        encoder: &Encoder,
        events: &dyn EventBatch,
        explain: usize,
        out: &mut BatchResult,
    ) -> Result<(), EngineError> {
        let result = self.score_wire(encoder, events, explain, out);
        self.recover_if_broken(result)
    }

    fn score_once(
        &mut self,
        events: &dyn EventBatch,
        explain: usize,
        out: &mut BatchResult,
    ) -> Result<(), EngineError> {
        let mut encoder = std::mem::take(&mut self.encoder);
        encoder.encode(events);
        let result = self.score_wire(&encoder, events, explain, out);
        self.encoder = encoder;
        result
    }

    fn score_wire(
        &mut self,
        encoder: &Encoder,
        events: &dyn EventBatch,
        explain: usize,
        out: &mut BatchResult,
    ) -> Result<(), EngineError> {
        if encoder.model() != Some(self.desc.id.as_str()) || encoder.rows() != events.len() {
            return Err(EngineError::Batch(format!(
                "the batch was encoded for {} ({} events), not for {} ({} events)",
                encoder.model().unwrap_or("the native engine"),
                encoder.rows(),
                self.desc.id,
                events.len()
            )));
        }
        // Encoded from the writer's columns straight into the guest's input
        // buffer: one pass, no intermediate buffer.
        let len = encoder.writer.encoded_len();
        let ptr = self.reserve(len)?;
        let guest = guest_range(&self.ex.memory, &mut self.store, ptr, len)?;
        encoder.writer.write_to(guest);
        self.store.set_epoch_deadline(self.ticks);
        let rc = self
            .ex
            .score
            .call(
                &mut self.store,
                (self.handle, ptr, len as u32, explain as u32),
            )
            .map_err(|e| classify(e, &self.limits, self.limits.call_timeout))?;
        if rc != 0 {
            return Err(EngineError::Batch(self.message()));
        }
        let (p, n) = self.output_range()?;
        let data = self.ex.memory.data(&self.store);
        let bytes = data
            .get(p as usize..p as usize + n as usize)
            .ok_or_else(|| EngineError::Module("results outside the scorer's memory".into()))?;
        let view = ResultsView::parse(bytes).map_err(EngineError::Module)?;
        if view.n_rows != events.len() {
            return Err(EngineError::Module(format!(
                "{} results for {} events",
                view.n_rows,
                events.len()
            )));
        }
        out.score.clear();
        out.raw.clear();
        out.flag.clear();
        out.masks.clear();
        out.mask_words = view.mask_words;
        for i in 0..view.n_rows {
            let r = view.row(i);
            out.score.push(r.score);
            out.raw.push(r.raw);
            out.flag.push(r.flag);
            for w in 0..view.mask_words {
                out.masks.push(view.mask(i, w));
            }
        }
        out.reasons.clear();
        if explain > 0 {
            out.reasons = serde_json::from_str(view.reasons())
                .map_err(|e| EngineError::Module(format!("explanations: {e}")))?;
        }
        Ok(())
    }
}
