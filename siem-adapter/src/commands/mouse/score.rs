//! `siem-adapter mouse score`: sessions of mouse events in, one scored event
//! per session out (JSON lines, or CSV when the output ends in `.csv`), in
//! the order the sessions start.
//!
//! Each session is scored by its account's artifact, `<models>/<user>.json`
//! (loaded on first use, verified like every artifact), or by `--model` for
//! every account. A session that cannot be scored — no model for its
//! account, too few gestures, no valid event — still gets its event, with
//! `risk_error` saying why; invalid events inside a session are counted in
//! `invalid_events` and the first reason is kept in `invalid_reason`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use scorer_core::mouse::{SessionMethod, SessionScore};

use super::super::model_args::{self, ModelArgs};
use crate::engine::{Engine, EngineKind, Trust, WasmRuntime};
use serde_json::{json, Map, Value};

use super::train::MethodArg;
use super::{sessions, FieldArgs, Session};
use crate::sources::InputFormat;

/// `mouse score` options.
#[derive(Debug, clap::Args)]
pub struct MouseScoreArgs {
    /// Mouse events: CSV or JSON lines (gzip allowed), `-` for stdin.
    #[arg(long)]
    pub input: PathBuf,
    /// Input format.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: InputFormat,
    /// Folder of per-account artifacts, `<user>.json`.
    #[arg(long, required_unless_present = "model", conflicts_with = "model")]
    pub models: Option<PathBuf>,
    /// One artifact for every account.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Session method instead of the artifact's.
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// Where to write the session events (`-` for stdout; `.csv` for CSV).
    #[arg(long, default_value = "-")]
    pub output: PathBuf,
    /// Trusted public key file (repeatable; also RISKSCORE_TRUSTED_KEYS).
    #[arg(long = "trusted-key")]
    pub trusted_keys: Vec<PathBuf>,
    /// Accept unsigned, untrusted or unapproved artifacts (development only).
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Scoring engine: the embedded .wasm in a wasmtime sandbox, or scorer-core linked natively.
    #[arg(long, value_enum, default_value = "wasm")]
    pub engine: EngineKind,
    /// Folder of the compiled-module cache (default: $RISKSCORE_CACHE_DIR or ~/.cache/riskscore).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Compile the scorer module on every start instead of caching it.
    #[arg(long)]
    pub no_cache: bool,
    /// Memory cap of each wasm scorer instance, MiB.
    #[arg(long, default_value_t = 1024)]
    pub memory_limit_mib: usize,
    /// Time bound of one wasm call (one session), seconds.
    #[arg(long, default_value_t = 30.0)]
    pub timeout_secs: f64,
    /// Event field names.
    #[command(flatten)]
    pub fields: FieldArgs,
}

/// The session event's fields, in order.
pub const SESSION_FIELDS: [&str; 11] = [
    "user",
    "session",
    "events",
    "invalid_events",
    "gestures",
    "model_output_risk_score",
    "anomaly_flag",
    "risk_model",
    "risk_method",
    "risk_error",
    "invalid_reason",
];

enum Sink {
    Csv(Box<csv::Writer<std::io::BufWriter<Box<dyn Write>>>>),
    Json(std::io::BufWriter<Box<dyn Write>>),
}

struct Models {
    dir: Option<PathBuf>,
    single: Option<(Engine, String)>,
    kind: EngineKind,
    trust: Trust,
    runtime: Option<WasmRuntime>,
    by_user: HashMap<String, std::result::Result<(Engine, String), String>>,
}

impl Models {
    fn get(&mut self, user: &str) -> std::result::Result<&mut (Engine, String), String> {
        if let Some(m) = &mut self.single {
            return Ok(m);
        }
        let dir = self.dir.as_ref().expect("--models or --model");
        let (kind, trust, runtime) = (self.kind, &self.trust, self.runtime.as_ref());
        self.by_user
            .entry(user.to_string())
            .or_insert_with(|| load_user(dir, user, kind, trust, runtime))
            .as_mut()
            .map_err(|e| e.clone())
    }
}

fn load_user(
    dir: &Path,
    user: &str,
    kind: EngineKind,
    trust: &Trust,
    runtime: Option<&WasmRuntime>,
) -> std::result::Result<(Engine, String), String> {
    if !super::is_model_file_name(user) {
        return Err(format!(
            "no model for account `{user}` (not a valid model file name)"
        ));
    }
    let path = dir.join(format!("{user}.json"));
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("no model for account `{user}`: {}: {e}", path.display()))?;
    let engine = Engine::load(kind, &bytes, trust, runtime)
        .map_err(|e| format!("model {}: {e}", path.display()))?;
    let id = engine.describe().id.clone();
    Ok((engine, id))
}

fn method_name(m: SessionMethod) -> &'static str {
    match m {
        SessionMethod::GestureMean => "gesture_mean",
        SessionMethod::Ks => "ks",
    }
}

fn session_event(
    s: &Session,
    model: &str,
    result: std::result::Result<SessionScore, String>,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("user".into(), json!(s.user));
    m.insert("session".into(), json!(s.session));
    m.insert("events".into(), json!(s.events));
    m.insert("invalid_events".into(), json!(s.invalid));
    match result {
        Ok(r) => {
            m.insert("gestures".into(), json!(r.gestures));
            if r.score.is_finite() {
                m.insert("model_output_risk_score".into(), json!(r.score));
                m.insert("anomaly_flag".into(), json!(r.flag));
            }
            m.insert("risk_model".into(), json!(model));
            m.insert("risk_method".into(), json!(method_name(r.method)));
            if let Some(e) = r.error {
                m.insert("risk_error".into(), json!(e));
            }
        }
        Err(e) => {
            m.insert("risk_error".into(), json!(e));
        }
    }
    if let Some(e) = &s.first_error {
        m.insert("invalid_reason".into(), json!(e));
    }
    if s.part > 1 {
        m.insert("session_part".into(), json!(s.part));
    }
    m
}

/// Run `mouse score`.
pub fn run(a: &MouseScoreArgs) -> Result<i32> {
    let trust = Trust {
        keys: crate::keys::trusted_keys(&a.trusted_keys)?,
        allow_unsigned: a.allow_unsigned,
    };
    let source = a
        .model
        .clone()
        .or_else(|| a.models.clone())
        .unwrap_or_default();
    let runtime = model_args::wasm_runtime(&ModelArgs {
        model: source,
        engine: a.engine,
        cache_dir: a.cache_dir.clone(),
        no_cache: a.no_cache,
        memory_limit_mib: a.memory_limit_mib,
        timeout_secs: a.timeout_secs,
        trusted_keys: a.trusted_keys.clone(),
        allow_unsigned: a.allow_unsigned,
        threshold: None,
    })?;
    let single = match &a.model {
        Some(p) => {
            let bytes =
                std::fs::read(p).with_context(|| format!("cannot read model {}", p.display()))?;
            let e = Engine::load(a.engine, &bytes, &trust, runtime.as_ref())
                .with_context(|| format!("model {}", p.display()))?;
            let id = e.describe().id.clone();
            Some((e, id))
        }
        None => None,
    };
    if let Some(d) = &a.models {
        if !d.is_dir() {
            bail!("--models {} is not a folder", d.display());
        }
    }
    let method = a.method.map(MethodArg::method);
    let mut models = Models {
        dir: a.models.clone(),
        single,
        kind: a.engine,
        trust,
        runtime,
        by_user: HashMap::new(),
    };
    let csv_out = a.output.extension().is_some_and(|e| e == "csv");
    let out = super::create_output(&a.output)?;
    let mut out = if csv_out {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(out));
        w.write_record(SESSION_FIELDS)?;
        Sink::Csv(Box::new(w))
    } else {
        Sink::Json(std::io::BufWriter::new(out))
    };
    let (mut n, mut errors, mut flagged) = (0u64, 0u64, 0u64);
    for s in sessions(&a.input, a.format, &a.fields)? {
        n += 1;
        let (id, result) = match models.get(&s.user) {
            Ok((engine, id)) => (
                id.clone(),
                engine
                    .score_sessions(&[&s.records], method)
                    .map_err(|e| e.to_string())
                    .and_then(|mut r| r.pop().ok_or_else(|| "no session result".to_string())),
            ),
            Err(e) => (String::new(), Err(e)),
        };
        let ev = session_event(&s, &id, result);
        errors += u64::from(ev.contains_key("risk_error"));
        flagged += u64::from(ev.get("anomaly_flag") == Some(&json!(1)));
        match &mut out {
            Sink::Csv(w) => {
                let cells: Vec<String> = SESSION_FIELDS
                    .iter()
                    .map(|f| match ev.get(*f) {
                        None => String::new(),
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                    })
                    .collect();
                w.write_record(&cells)?;
            }
            Sink::Json(w) => {
                serde_json::to_writer(&mut *w, &ev)?;
                w.write_all(b"\n")?;
            }
        }
    }
    match &mut out {
        Sink::Csv(w) => w.flush()?,
        Sink::Json(w) => w.flush()?,
    }
    eprintln!("{n} session(s) scored: {flagged} flagged, {errors} with risk_error");
    Ok(i32::from(errors > 0))
}
