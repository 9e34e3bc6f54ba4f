//! The model in service — one slot holding the loaded model and its pool of
//! engines — and its hot reload.
//!
//! Each [`Model`] owns `--max-concurrency` engines of the same artifact (a
//! wasm engine is one sandboxed instance and serves one call at a time). A
//! request takes the current slot (an `Arc`) and leases one of its engines,
//! so it finishes on the model it started with even if the slot is replaced
//! meanwhile; the old model is freed when its last request ends.
//!
//! Reload: [`watch`] checks the artifact every `--reload-interval-secs`
//! (modification time and size, then the content's SHA-256) and on SIGHUP
//! (always). New content is loaded and verified in the chosen engine, every
//! engine of the pool, *before* it replaces the slot; content that fails
//! (tampered, unsigned when that is not allowed, malformed, half-written) is
//! refused: the old model keeps serving, an error is logged and the reload
//! failure counter goes up — once per distinct content, not at every poll.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::body::Scored;
use super::drift::{ModelDrift, Verdict};
use super::metrics::ServeMetrics;
use crate::commands::drift_args::DriftArgs;
use crate::commands::model_args::{load_with, trust, wasm_runtime, ModelArgs};
use crate::engine::{Engine, EngineKind, WasmRuntime};
use crate::metrics::health::ModelHealth;
use crate::render::{OutputFields, Renderer};

/// A loaded model and its engines.
pub struct Model {
    /// `name@version`.
    pub id: String,
    /// `wasm` or `native`.
    pub engine: &'static str,
    /// SHA-256 of the artifact file's bytes, hex.
    pub sha256: String,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// Flag threshold in force.
    pub threshold: f64,
    /// Attaches the score fields, naming this model.
    pub renderer: Renderer,
    /// Its drift window (when its artifact has a baseline and drift is not off).
    pub drift: Option<ModelDrift>,
    /// Score quantiles and drift gauges.
    pub health: ModelHealth,
    scored: AtomicU64,
    flagged: AtomicU64,
    engines: Mutex<Vec<Engine>>,
}

impl Model {
    /// Take a scored request into the model's health and drift window, and
    /// mark its events as the drift policy says; the drift verdict, if measured.
    pub fn observe(&self, scored: &mut Scored) -> Option<Verdict> {
        self.scored.fetch_add(scored.counts.scored, Relaxed);
        self.flagged.fetch_add(scored.counts.flagged, Relaxed);
        self.health.record_scores(&scored.scores);
        let (drift, counts) = (self.drift.as_ref()?, scored.drift.as_ref()?);
        let verdict = drift.observe(counts, &self.health);
        let marked = verdict.mark(&mut scored.events, self.renderer.fields());
        if marked > 0 && verdict.action == scorer_core::drift::DriftAction::Suppress {
            scored.counts.flagged = 0;
        }
        Some(verdict)
    }

    /// Append the model's health gauges (score quantiles, flagged ratio, drift).
    pub fn render_health(&self, out: &mut String) {
        let labels = format!(
            "model=\"{}\",engine=\"{}\"",
            crate::metrics::health::escape(&self.id),
            self.engine
        );
        self.health.render(
            out,
            &labels,
            self.flagged.load(Relaxed),
            self.scored.load(Relaxed),
        );
    }

    /// Lease one of the model's engines; None only if every engine is leased
    /// (the service's engine permits prevent that).
    pub fn lease(self: &Arc<Self>) -> Option<Lease> {
        let engine = self
            .engines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()?;
        Some(Lease {
            model: Arc::clone(self),
            engine: Some(engine),
        })
    }

    /// A model without engines (unit tests of what describes a model).
    #[cfg(test)]
    pub fn stub(id: &str) -> Model {
        Model {
            id: id.into(),
            engine: "native",
            sha256: "00".into(),
            loaded_at: SystemTime::UNIX_EPOCH,
            threshold: 0.5,
            renderer: Renderer::new(OutputFields::default(), id, None),
            drift: None,
            health: ModelHealth::default(),
            scored: AtomicU64::new(0),
            flagged: AtomicU64::new(0),
            engines: Mutex::new(Vec::new()),
        }
    }
}

/// An engine borrowed from a [`Model`], given back when dropped.
pub struct Lease {
    model: Arc<Model>,
    engine: Option<Engine>,
}

impl Lease {
    /// The model and its leased engine.
    pub fn parts(&mut self) -> (&Model, &mut Engine) {
        (
            &self.model,
            self.engine.as_mut().expect("present until dropped"),
        )
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(e) = self.engine.take() {
            self.model
                .engines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(e);
        }
    }
}

/// Loads artifacts into pools of engines, with the command's model options.
pub struct Loader {
    args: ModelArgs,
    drift: DriftArgs,
    /// The scorer module and its epoch ticker (wasm), shared by every model
    /// loaded; the service keeps the loader until it stops.
    runtime: Option<WasmRuntime>,
    engines: usize,
}

impl Loader {
    /// A loader of `engines` engines per model (compiles or loads the scorer module for wasm).
    pub fn new(args: &ModelArgs, drift: &DriftArgs, engines: usize) -> Result<Loader> {
        if args.allow_unsigned {
            tracing::warn!("--allow-unsigned: unsigned, untrusted and unapproved artifacts are accepted (development only)");
        }
        Ok(Loader {
            runtime: wasm_runtime(args)?,
            args: args.clone(),
            drift: drift.clone(),
            engines: engines.max(1),
        })
    }

    /// The artifact file.
    pub fn path(&self) -> &Path {
        &self.args.model
    }

    /// Load `bytes` in every engine of a new pool (trusted keys are read again).
    pub fn load(&self, bytes: &[u8]) -> Result<Model> {
        let trust = trust(&self.args)?;
        let mut engines = Vec::with_capacity(self.engines);
        for _ in 0..self.engines {
            engines.push(load_with(&self.args, bytes, &trust, self.runtime.as_ref())?);
        }
        let d = engines[0].describe().clone();
        let drift = match self.drift.policy(&d.drift)? {
            Some(policy) => ModelDrift::new(&d, policy),
            None => None,
        };
        if drift.is_some() {
            for e in &mut engines {
                e.track_drift(true)?;
            }
        }
        Ok(Model {
            id: d.id.clone(),
            engine: match self.args.engine {
                EngineKind::Wasm => "wasm",
                EngineKind::Native => "native",
            },
            sha256: hex(&Sha256::digest(bytes)),
            loaded_at: SystemTime::now(),
            threshold: d.threshold,
            renderer: Renderer::new(OutputFields::default(), &d.id, None),
            drift,
            health: ModelHealth::default(),
            scored: AtomicU64::new(0),
            flagged: AtomicU64::new(0),
            engines: Mutex::new(engines),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a check of the artifact file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing new.
    Unchanged,
    /// Replaced; the new model's id.
    Reloaded(String),
    /// Refused; why.
    Refused(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

#[derive(Debug, Default)]
struct Seen {
    stamp: Option<Stamp>,
    /// SHA-256 of the last content refused (not tried again until it changes).
    refused: Option<String>,
    /// The file could not be read at the last check.
    unreadable: bool,
}

/// The model slot and what the reload watcher has seen.
pub struct Models {
    // Before `loader`: engines are dropped before the runtime they run on.
    current: RwLock<Arc<Model>>,
    loader: Loader,
    metrics: Arc<ServeMetrics>,
    /// Also serializes reloads (poll and SIGHUP).
    seen: Mutex<Seen>,
}

impl Models {
    /// Load the artifact; an error (unreadable, not verified) stops the service from starting.
    pub fn start(loader: Loader, metrics: Arc<ServeMetrics>) -> Result<Models> {
        let path = loader.path().to_path_buf();
        let stamp = std::fs::metadata(&path).ok().map(|m| Stamp {
            modified: m.modified().ok(),
            len: m.len(),
        });
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read model {}", path.display()))?;
        let model = loader.load(&bytes)?;
        metrics.record_load(model.loaded_at, false);
        Ok(Models {
            loader,
            current: RwLock::new(Arc::new(model)),
            metrics,
            seen: Mutex::new(Seen {
                stamp,
                ..Seen::default()
            }),
        })
    }

    /// The model in service.
    pub fn current(&self) -> Arc<Model> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Check the artifact file and reload it if its content changed (`force`:
    /// reload whatever it holds). Blocking: loads and verifies in the engines.
    pub fn check(&self, force: bool) -> Outcome {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.loader.path();
        let read = std::fs::metadata(path).and_then(|m| {
            let stamp = Stamp {
                modified: m.modified().ok(),
                len: m.len(),
            };
            if !force && seen.stamp == Some(stamp) && !seen.unreadable {
                return Ok(None);
            }
            Ok(Some((stamp, std::fs::read(path)?)))
        });
        let (stamp, bytes) = match read {
            Ok(None) => return Outcome::Unchanged,
            Ok(Some(got)) => got,
            Err(e) => {
                let why = format!("cannot read model {}: {e}", path.display());
                if !seen.unreadable || force {
                    tracing::error!(error = %why, "model reload refused; the old model keeps serving");
                    self.metrics.record_reload_failure();
                }
                seen.unreadable = true;
                return Outcome::Refused(why);
            }
        };
        seen.unreadable = false;
        seen.stamp = Some(stamp);
        let sha = hex(&Sha256::digest(&bytes));
        let current = self.current();
        if !force && (sha == current.sha256 || seen.refused.as_deref() == Some(sha.as_str())) {
            return Outcome::Unchanged;
        }
        match self.loader.load(&bytes) {
            Ok(model) => {
                let id = model.id.clone();
                self.metrics.record_load(model.loaded_at, true);
                tracing::info!(old = %current.id, new = %id, sha256 = %model.sha256, "model reloaded");
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(model);
                seen.refused = None;
                Outcome::Reloaded(id)
            }
            Err(e) => {
                let why = format!("{e:#}");
                tracing::error!(error = %why, file = %path.display(), serving = %current.id, "model reload refused; the old model keeps serving");
                self.metrics.record_reload_failure();
                seen.refused = Some(sha);
                Outcome::Refused(why)
            }
        }
    }
}

/// Check the artifact every `every` and on each SIGHUP (`hangup`), until the
/// task is aborted. Checks run on the blocking pool, one at a time.
pub async fn watch(models: Arc<Models>, every: Duration, mut hangup: tokio::signal::unix::Signal) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        let force = tokio::select! {
            _ = tick.tick() => false,
            got = hangup.recv() => {
                if got.is_none() {
                    return;
                }
                tracing::info!("SIGHUP: reloading the model");
                true
            }
        };
        let m = Arc::clone(&models);
        if let Err(e) = tokio::task::spawn_blocking(move || m.check(force)).await {
            tracing::error!(error = %e, "model check failed");
        }
    }
}
