//! `siem-adapter serve`: a small HTTP scoring service for SOAR playbooks and
//! other tools — `POST /v1/score` with events, get them back scored.
//!
//! The parts:
//! - this module: the arguments, start-up (load and verify the model, or
//!   refuse to start), the tokio runtime, graceful shutdown on SIGTERM/SIGINT;
//! - [`http`]: routes and layers (metrics, bearer token, admission, body limit);
//! - [`body`]: request bodies (object, array, JSON lines) in, scored bodies out;
//! - [`models`]: the model slot, its pool of engines, hot reload (file poll, SIGHUP);
//! - [`drift`]: the model's drift window across requests, and its marks;
//! - [`limits`]: body size, engines, wait queue, and what happens when saturated;
//! - [`auth`]: the optional bearer token;
//! - [`metrics`]: the Prometheus exposition of `GET /metrics`.
//!
//! Scoring is CPU-bound: each request is parsed, scored (one engine call for
//! all its events) and rendered on tokio's blocking pool, holding one of
//! `--max-concurrency` engines; the async workers only move bytes.

pub mod auth;
pub mod body;
pub mod drift;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod models;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::commands::drift_args::DriftArgs;
use crate::commands::model_args::ModelArgs;
use auth::Token;
use limits::Limits;
use metrics::ServeMetrics;
use models::{Loader, Models};

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The model and the engine that runs it.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Address to listen on (IP:PORT; port 0 picks a free port). A non-loopback address is warned about.
    #[arg(long, default_value = "127.0.0.1:8088")]
    pub listen: SocketAddr,
    /// File holding the bearer token that /v1/score and /metrics require (none: open).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Largest request body, bytes (413 above it).
    #[arg(long, default_value_t = 8 << 20)]
    pub max_body_bytes: usize,
    /// Requests scored at once, each with its own engine (default: one per core).
    #[arg(long)]
    pub max_concurrency: Option<usize>,
    /// Scoring requests that may wait for an engine; beyond them the answer is 503 with Retry-After.
    #[arg(long, default_value_t = 64)]
    pub max_queue: usize,
    /// Add `risk_reasons` with the top K contributing features.
    #[arg(long, default_value_t = 0)]
    pub explain: usize,
    /// Seconds between checks of the model file for a new artifact.
    #[arg(long, default_value_t = 2.0)]
    pub reload_interval_secs: f64,
    /// Drift monitoring across requests (defaults: the artifact's policy).
    #[command(flatten)]
    pub drift: DriftArgs,
}

/// Run `serve` until SIGTERM or SIGINT; 0 after a graceful shutdown.
pub fn run(a: &ServeArgs) -> Result<i32> {
    let concurrency = a
        .max_concurrency
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    if !(1..=256).contains(&concurrency) {
        bail!("--max-concurrency must be between 1 and 256");
    }
    if a.max_body_bytes == 0 {
        bail!("--max-body-bytes must be positive");
    }
    if !(a.reload_interval_secs.is_finite() && a.reload_interval_secs >= 0.05) {
        bail!("--reload-interval-secs must be at least 0.05");
    }
    let token = Token::load(a.token_file.as_deref())?;
    if a.drift.drift_report.is_some() {
        bail!("--drift-report is for score runs; the service shows drift on /metrics");
    }
    let metrics = Arc::new(ServeMetrics::new());
    metrics.add_extra_exposition(Box::new(|m, out| m.render_health(out)));
    // The model loads and verifies before anything listens.
    let loader = Loader::new(&a.model, &a.drift, concurrency)?;
    let models = Arc::new(Models::start(loader, Arc::clone(&metrics))?);
    let shared = Arc::new(http::Shared {
        models: Arc::clone(&models),
        metrics,
        token,
        limits: Limits::new(a.max_body_bytes, concurrency, a.max_queue),
        explain: a.explain,
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(concurrency + 2)
        .thread_name("riskscore-serve")
        .build()
        .context("cannot start the async runtime")?;
    let every = Duration::from_secs_f64(a.reload_interval_secs);
    let result = rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        // Before anything is announced: an unhandled SIGHUP would end the process.
        let hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
        let terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "listening on a non-loopback address: other machines can reach the service");
            if !shared.token.is_set() {
                tracing::warn!("no --token-file: anyone who can reach the address can score and read /metrics");
            }
        }
        let model = models.current();
        eprintln!(
            "siem-adapter serve: listening on {addr} (model {}, engine {}, {concurrency} engines)",
            model.id, model.engine
        );
        drop(model);
        let watcher = tokio::spawn(models::watch(Arc::clone(&models), every, hangup));
        let app = http::router(Arc::clone(&shared));
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown(terminate))
            .await;
        watcher.abort();
        served.context("the server failed")
    });
    rt.shutdown_timeout(Duration::from_secs(10));
    result?;
    eprintln!("siem-adapter serve: stopped");
    Ok(0)
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown(mut terminate: tokio::signal::unix::Signal) {
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: finishing in-flight requests"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: finishing in-flight requests"),
    }
}
