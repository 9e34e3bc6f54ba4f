//! The options every scoring command shares: which artifact, which engine,
//! which keys are trusted, and the sandbox's bounds.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::engine::{default_cache_dir, Engine, EngineKind, Trust, WasmLimits, WasmRuntime};

/// The model and the engine that runs it.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// The model artifact.
    #[arg(long)]
    pub model: PathBuf,
    /// Scoring engine: the embedded .wasm in a wasmtime sandbox, or scorer-core linked natively.
    #[arg(long, value_enum, default_value = "wasm")]
    pub engine: EngineKind,
    /// Folder of the compiled-module cache (default: $RISKSCORE_CACHE_DIR or ~/.cache/riskscore).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Compile the scorer module on every start instead of caching it.
    #[arg(long)]
    pub no_cache: bool,
    /// Memory cap of the wasm scorer, MiB.
    #[arg(long, default_value_t = 1024)]
    pub memory_limit_mib: usize,
    /// Time bound of one wasm call (one batch), seconds.
    #[arg(long, default_value_t = 30.0)]
    pub timeout_secs: f64,
    /// Trusted public key file (repeatable; also RISKSCORE_TRUSTED_KEYS).
    #[arg(long = "trusted-key")]
    pub trusted_keys: Vec<PathBuf>,
    /// Accept unsigned, untrusted or unapproved artifacts (development only).
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Override the artifact's flag threshold (0..1).
    #[arg(long)]
    pub threshold: Option<f64>,
}

/// The trust settings of `a`.
pub fn trust(a: &ModelArgs) -> Result<Trust> {
    Ok(Trust {
        keys: crate::keys::trusted_keys(&a.trusted_keys)?,
        allow_unsigned: a.allow_unsigned,
    })
}

/// Load the model of `a` in the chosen engine, with `a.threshold` applied.
/// The runtime (wasm only) must outlive the engine.
pub fn load_engine(a: &ModelArgs) -> Result<(Engine, Option<WasmRuntime>)> {
    let bytes = std::fs::read(&a.model)
        .with_context(|| format!("cannot read model {}", a.model.display()))?;
    let trust = trust(a)?;
    if a.allow_unsigned {
        tracing::warn!("--allow-unsigned: unsigned, untrusted and unapproved artifacts are accepted (development only)");
    }
    let runtime = wasm_runtime(a)?;
    let engine = load_with(a, &bytes, &trust, runtime.as_ref())?;
    Ok((engine, runtime))
}

/// The wasm runtime (compiled scorer module, epoch ticker) for `a`'s bounds and
/// module cache; None for the native engine. It must outlive its engines.
pub fn wasm_runtime(a: &ModelArgs) -> Result<Option<WasmRuntime>> {
    Ok(match a.engine {
        EngineKind::Native => None,
        EngineKind::Wasm => {
            let limits = WasmLimits {
                memory_bytes: a.memory_limit_mib.saturating_mul(1 << 20),
                call_timeout: std::time::Duration::from_secs_f64(a.timeout_secs.max(0.01)),
                load_timeout: std::time::Duration::from_secs_f64(a.timeout_secs.max(60.0)),
            };
            let dir = if a.no_cache {
                None
            } else {
                a.cache_dir.clone().or_else(default_cache_dir)
            };
            let started = std::time::Instant::now();
            let rt = WasmRuntime::new(limits, dir.as_deref())?;
            tracing::info!(cache = ?rt.cache, ms = started.elapsed().as_secs_f64() * 1e3, "scorer module ready");
            Some(rt)
        }
    })
}

/// One more engine for the model of `a` (another worker), on `runtime`.
pub fn load_another(a: &ModelArgs, runtime: Option<&WasmRuntime>) -> Result<Engine> {
    let bytes = std::fs::read(&a.model)
        .with_context(|| format!("cannot read model {}", a.model.display()))?;
    load_with(a, &bytes, &trust(a)?, runtime)
}

/// Load the artifact `bytes` (read from `a.model`) in `a`'s engine under
/// `trust`, with `a.threshold` applied.
pub fn load_with(
    a: &ModelArgs,
    bytes: &[u8],
    trust: &Trust,
    runtime: Option<&WasmRuntime>,
) -> Result<Engine> {
    let mut engine = Engine::load(a.engine, bytes, trust, runtime)
        .with_context(|| format!("model {}", a.model.display()))?;
    if let Some(t) = a.threshold {
        engine.set_threshold(t)?;
    }
    Ok(engine)
}
