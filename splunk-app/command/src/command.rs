//! The command's conversation with splunkd: getinfo, then one reply per
//! execute chunk until the input ends.
//!
//! Errors the user must see (bad argument, unknown model, refused artifact,
//! broken protocol) go back as an `ERROR` inspector message in a chunk with
//! `finished: true`, which Splunk shows in the search UI; the command then
//! exits with status 1. Errors of single records (and of a whole chunk the
//! engine could not score) never stop the search: every record goes out,
//! with `risk_error` saying why it has no score.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use scorer_core::schema::FeatureSpec;
use serde_json::{json, Value};
use siem_adapter::commands::model_args::{load_engine, ModelArgs};
use siem_adapter::engine::{Engine, EngineKind, WasmRuntime};

use crate::app;
use crate::args::{ArgError, Args};
use crate::reply::{Cells, Columns, Plan};
use crate::scpv2::{write_chunk, ChunkReader, Metadata};
use crate::windows::{self, Window, Writer};

/// Chunks smaller than this are scored on one thread whatever `threads=`
/// says: they hold about one window, which nothing would overlap with.
const OVERLAP_FROM_BYTES: usize = 1 << 20;

/// Where the command finds its app and writes its cache.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// The app folder (models/, keys/).
    pub app_dir: Option<PathBuf>,
    /// The compiled-module cache folder (None: compile on every start).
    pub cache_dir: Option<PathBuf>,
}

/// Totals of one search, logged at the end.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    /// Execute chunks answered.
    pub chunks: u64,
    /// Records in.
    pub records: u64,
    /// Records scored.
    pub scored: u64,
    /// Records flagged.
    pub flagged: u64,
    /// Records with `risk_error`.
    pub errored: u64,
}

/// A loaded model, ready for execute chunks.
struct Scorer {
    engine: Engine,
    _runtime: Option<WasmRuntime>,
    /// The model's `name@version` and features (kept apart from the engine,
    /// which a worker thread borrows while rows are written).
    id: String,
    features: Vec<FeatureSpec>,
    explain: usize,
    threads: usize,
    columns: Columns,
    /// Two window buffers: the second is used with two threads.
    windows: [Window; 2],
    cells: Cells,
}

/// An inspector message for the search UI.
pub fn messages(level: &str, text: &str) -> Value {
    json!({ "messages": [[level, text]] })
}

/// End the search with `text` shown as an error.
pub fn reply_error(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    tracing::error!("{text}");
    let meta = json!({ "finished": true, "inspector": messages("ERROR", text) });
    write_chunk(out, meta.to_string().as_bytes(), b"")
}

/// Run the protocol over `input`/`output`; the process exit status.
pub fn run(input: impl BufRead, mut output: impl Write, setup: &Setup) -> i32 {
    match session(input, &mut output, setup) {
        Ok(totals) => {
            tracing::info!(?totals, "search done");
            0
        }
        Err(e) => {
            // Best effort: splunkd may already be gone.
            let _ = reply_error(&mut output, &format!("riskscore: {e}"));
            1
        }
    }
}

/// A failure that ends the search.
#[derive(Debug, thiserror::Error)]
enum Fatal {
    #[error("{0}")]
    Protocol(#[from] crate::scpv2::ProtocolError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
}

fn session(input: impl BufRead, out: &mut impl Write, setup: &Setup) -> Result<Totals, Fatal> {
    let mut reader = ChunkReader::new(input);
    let mut body = Vec::new();
    let Some(meta) = reader.next_chunk(&mut body)? else {
        tracing::warn!("input ended before getinfo");
        return Ok(Totals::default());
    };
    if meta.action != "getinfo" {
        return Err(Fatal::Usage(format!(
            "expected getinfo first, got action `{}`",
            meta.action
        )));
    }
    let started = Instant::now();
    let (loaded, required) = getinfo(&meta, setup).map_err(|e| Fatal::Usage(e.0))?;
    let mut info = json!({ "type": "streaming" });
    if let Some(f) = required {
        info["required_fields"] = json!(f);
    }
    if loaded.unsigned_allowed {
        info["inspector"] = messages(
            "WARN",
            "riskscore: allow_unsigned=t accepts unsigned or unapproved models (development only)",
        );
    }
    let mut scorer = loaded.scorer;
    write_chunk(out, info.to_string().as_bytes(), b"")?;
    tracing::info!(
        ms = started.elapsed().as_secs_f64() * 1e3,
        model = %scorer.engine.describe().id,
        "getinfo answered"
    );
    let mut totals = Totals::default();
    let mut reply = Vec::new();
    while let Some(meta) = reader.next_chunk(&mut body)? {
        if meta.action != "execute" {
            return Err(Fatal::Usage(format!(
                "expected execute, got action `{}`",
                meta.action
            )));
        }
        let t = Instant::now();
        let warning = scorer.execute(&body, &mut reply, &mut totals);
        let mut m = json!({ "finished": meta.finished });
        if let Some(w) = warning {
            m["inspector"] = messages("WARN", &w);
        }
        write_chunk(out, m.to_string().as_bytes(), &reply)?;
        totals.chunks += 1;
        tracing::debug!(
            ms = t.elapsed().as_secs_f64() * 1e3,
            bytes = body.len(),
            finished = meta.finished,
            "chunk answered"
        );
    }
    Ok(totals)
}

struct Loaded {
    scorer: Scorer,
    unsigned_allowed: bool,
}

/// Parse the arguments and load the model; the model's fields when `fields=model`.
fn getinfo(meta: &Metadata, setup: &Setup) -> Result<(Loaded, Option<Vec<String>>), ArgError> {
    let info = meta.searchinfo.clone().unwrap_or_default();
    tracing::info!(sid = %info.sid, user = %info.username, args = ?info.args, "getinfo");
    let args = Args::parse(&info.args)?;
    let app_dir = setup
        .app_dir
        .clone()
        .ok_or_else(|| ArgError("cannot locate the app folder (models/, keys/)".into()))?;
    let model = app::resolve_model(&app_dir, &args.model)?;
    let scorer = load(&args, &model, &app_dir, setup.cache_dir.as_deref())?;
    let fields = args
        .model_fields_only
        .then(|| scorer.engine.describe().fields.clone());
    Ok((
        Loaded {
            scorer,
            unsigned_allowed: args.allow_unsigned,
        },
        fields,
    ))
}

/// Load the app's model `name` in `engine`, trusting the app's keys.
pub fn load_engine_for(
    name: &str,
    engine: EngineKind,
    allow_unsigned: bool,
    setup: &Setup,
) -> Result<(Engine, Option<WasmRuntime>), ArgError> {
    let app_dir = setup
        .app_dir
        .clone()
        .ok_or_else(|| ArgError("cannot locate the app folder (models/, keys/)".into()))?;
    let model = app::resolve_model(&app_dir, name)?;
    load_model(
        name,
        &model,
        engine,
        allow_unsigned,
        None,
        &app_dir,
        setup.cache_dir.as_deref(),
    )
}

fn load_model(
    name: &str,
    model: &Path,
    engine: EngineKind,
    allow_unsigned: bool,
    threshold: Option<f64>,
    app_dir: &Path,
    cache: Option<&Path>,
) -> Result<(Engine, Option<WasmRuntime>), ArgError> {
    let model_args = ModelArgs {
        model: model.to_path_buf(),
        engine,
        cache_dir: cache.map(Path::to_path_buf),
        no_cache: cache.is_none(),
        memory_limit_mib: 1024,
        timeout_secs: 30.0,
        trusted_keys: app::trusted_key_files(app_dir),
        allow_unsigned,
        threshold,
    };
    let loaded = load_engine(&model_args)
        .map_err(|e| ArgError(format!("model `{name}`: {}", root_cause(&e))))?;
    if engine == EngineKind::Native {
        tracing::info!("engine=native: scorer-core linked in, not the sandboxed .wasm");
    }
    Ok(loaded)
}

fn load(
    args: &Args,
    model: &Path,
    app_dir: &Path,
    cache: Option<&Path>,
) -> Result<Scorer, ArgError> {
    let (engine, runtime) = load_model(
        &args.model,
        model,
        args.engine,
        args.allow_unsigned,
        args.threshold,
        app_dir,
        cache,
    )?;
    let described = engine.describe();
    Ok(Scorer {
        id: described.id.clone(),
        features: described.features.clone(),
        windows: [Window::new(&engine), Window::new(&engine)],
        engine,
        _runtime: runtime,
        explain: args.explain,
        threads: args.threads,
        columns: Columns::new(args.explain > 0),
        cells: Cells::default(),
    })
}

/// The innermost message of an error chain (the outer ones name the path).
fn root_cause(e: &anyhow::Error) -> String {
    e.chain()
        .last()
        .map(ToString::to_string)
        .unwrap_or_default()
}

impl Scorer {
    /// Score one chunk's body into `reply`; a warning for the search UI when
    /// records could not be scored (they still go out, with `risk_error`).
    fn execute(&mut self, body: &[u8], reply: &mut Vec<u8>, totals: &mut Totals) -> Option<String> {
        reply.clear();
        let lead = &mut self.windows[0];
        let mut reader = match lead.records.begin(body) {
            Ok(Some(r)) => r,
            Ok(None) => return None,
            Err(e) => {
                // Never lose records: pass the chunk through untouched.
                tracing::error!(error = %e, "chunk is not valid CSV; passed through unscored");
                reply.extend_from_slice(body);
                return Some(format!(
                    "riskscore: a chunk was not valid CSV and was passed through unscored: {e}"
                ));
            }
        };
        let header = lead.records.header().cloned()?;
        let plan = Plan::new(&header, &self.columns);
        crate::buffers::reserve(reply, body.len() + body.len() / 4);
        plan.write_header(reply, body, &header, &self.columns);
        let mut writer = Writer {
            body,
            plan: &plan,
            width: header.names.len(),
            id: &self.id,
            features: &self.features,
            explain: self.explain,
            cells: &mut self.cells,
            reply,
            totals,
            failed: None,
        };
        let read = if self.threads > 1 && body.len() >= OVERLAP_FROM_BYTES {
            windows::overlapped(
                &mut self.engine,
                &mut self.windows,
                &mut reader,
                &mut writer,
            )
        } else {
            windows::serial(&mut self.engine, lead, &mut reader, &mut writer)
        };
        let (n, failed) = (read.records, writer.failed.take());
        if let Some(e) = read.error {
            // Keep every record: the rest goes out as it came.
            tracing::error!(error = %e, "chunk is not valid CSV from here; passed through");
            writer.reply.extend_from_slice(reader.rest());
            return Some(format!(
                "riskscore: a chunk stopped being valid CSV after {n} records; the rest was passed through unscored: {e}"
            ));
        }
        failed.map(|(count, e)| {
            format!(
                "riskscore: {count} of {n} records could not be scored (engine error: {e}); they carry risk_error"
            )
        })
    }
}
