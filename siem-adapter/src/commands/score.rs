//! `siem-adapter score`: score an exported alert batch, with the embedded
//! wasm scorer (default) or the native one.
//!
//! Every event that comes in goes out, in order: with `model_output_risk_score`,
//! `anomaly_flag` and `risk_model` appended, or with `risk_error` saying why it
//! could not be scored (unreadable line, non-numeric model output). Fields the
//! model reads but the event lacks are listed in `risk_missing_fields`; their
//! schema defaults were used. The run is the [`pipeline`](crate::pipeline):
//! a reader thread, one scoring worker per core (each with its own engine),
//! and this thread writing blocks in order to a file, stdout or the HTTP
//! Event Collector ([`hec`](crate::hec)).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};

use super::drift_args::DriftArgs;
use super::model_args::{load_another, load_engine, ModelArgs};
use crate::drift::{DriftFailure, DriftMonitor};
use crate::hec::checkpoint::{Checkpoint, InputId};
use crate::hec::client::HecClient;
use crate::hec::sink::HecSink;
use crate::hec::{HecArgs, Token};
use crate::metrics::Metrics;
use crate::pipeline::reader::ChunkReader;
use crate::pipeline::worker::Worker;
use crate::pipeline::{BlockSink, Counts};
use crate::render::{OutputFields, Renderer};
use crate::sinks::{CsvSink, JsonlSink, OutputFormat};
use crate::sources::InputFormat;

/// Arguments of `score`.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Alert batch (`-` = stdin): JSON lines, Splunk export JSON or CSV; gzip allowed.
    #[arg(long, default_value = "-")]
    pub input: PathBuf,
    /// Where scored events go (`-` = stdout).
    #[arg(long, default_value = "-")]
    pub output: PathBuf,
    /// Input format.
    #[arg(long, value_enum, default_value = "auto")]
    pub input_format: InputFormat,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub output_format: OutputFormat,
    /// The model and the engine that runs it.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Add `risk_reasons` with the top K contributing features.
    #[arg(long, default_value_t = 0)]
    pub explain: usize,
    /// Rename output fields: `score=NAME,flag=NAME,model=NAME,reasons=NAME,error=NAME,missing=NAME`.
    #[arg(long, value_delimiter = ',')]
    pub fields: Vec<String>,
    /// Longest input line or CSV record, in bytes. A longer one goes out as an
    /// event with `risk_error` and is never held in memory; JSON lines go on
    /// after it, CSV input ends there (no reliable next record boundary).
    #[arg(long, default_value_t = crate::pipeline::reader::MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
    /// Events per scoring batch (one engine call each).
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    /// Scoring workers, each with its own engine (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write Prometheus text-format metrics to this file, periodically and at the end.
    #[arg(long)]
    pub metrics_file: Option<PathBuf>,
    /// Seconds between metrics-file updates.
    #[arg(long, default_value_t = 10.0)]
    pub metrics_interval_secs: f64,
    /// Drift monitoring (defaults: the artifact's policy).
    #[command(flatten)]
    pub drift: DriftArgs,
    /// Write-back to Splunk's HTTP Event Collector.
    #[command(flatten)]
    pub hec: HecArgs,
}

/// Run `score`.
pub fn run(a: &ScoreArgs) -> Result<i32> {
    let fields = OutputFields::default().with_renames(&a.fields)?;
    let settings = a.hec.settings();
    if settings.is_none() && (a.hec.checkpoint.is_some() || a.hec.dead_letter.is_some()) {
        bail!("--checkpoint and --dead-letter apply to --hec-url write-back (file output is written whole or not at all)");
    }
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .clamp(1, 64);
    // The first engine proves the model loads before anything starts.
    let (first, runtime) = load_engine(&a.model)?;
    let id = first.describe().id.clone();
    let mut engines = vec![first];
    for _ in 1..threads {
        engines.push(load_another(&a.model, runtime.as_ref())?);
    }
    let metrics = Arc::new(Metrics::new(
        &id,
        &format!("{:?}", a.model.engine).to_lowercase(),
        a.metrics_file.clone(),
        Duration::from_secs_f64(a.metrics_interval_secs.max(0.1)),
    ));
    let envelope = settings.as_ref().map(|_| a.hec.envelope());
    let renderer = Renderer::new(fields.clone(), &id, envelope);
    let desc = engines[0].describe().clone();
    let mut monitor = match a.drift.policy(&desc.drift)? {
        None => None,
        Some(policy) => {
            let m = DriftMonitor::new(&desc, policy, &fields);
            if m.is_none() {
                tracing::info!(model = %id, "the artifact has no training baseline: drift is not measured");
            }
            m.map(|m| m.with_renderer(renderer.clone()))
        }
    };
    let mut workers: Vec<Worker> = engines
        .into_iter()
        .map(|e| Worker::new(e, renderer.clone(), a.explain))
        .collect();
    if monitor.is_some() {
        for w in &mut workers {
            w.measure_drift()?;
        }
    }

    let mut hec_sink = None;
    let mut file_sink: Option<Box<dyn BlockSink>> = None;
    if let Some(s) = settings {
        let token = Token::load(a.hec.hec_token_file.as_deref())?;
        let client = HecClient::new(s, token, Arc::clone(&metrics))?;
        let checkpoint = match &a.hec.checkpoint {
            None => None,
            Some(path) => {
                let input = InputId::of(&a.input)?;
                let cp = match Checkpoint::load(path, &input)? {
                    Some(cp) => {
                        if cp.model != id {
                            tracing::warn!(checkpoint = %cp.model, now = %id, "the checkpoint was written with another model; resuming anyway");
                        }
                        cp
                    }
                    None => Checkpoint::new(input, &id),
                };
                Some((path.clone(), cp))
            }
        };
        hec_sink = Some(HecSink::new(
            client,
            checkpoint,
            a.hec.dead_letter.clone(),
            Arc::clone(&metrics),
        )?);
    } else {
        file_sink = Some(match a.output_format {
            OutputFormat::Jsonl => Box::new(JsonlSink::create(&a.output)?),
            OutputFormat::Csv => Box::new(CsvSink::create(&a.output)?),
        });
    }
    let sink: &mut dyn BlockSink = match (&mut hec_sink, &mut file_sink) {
        (Some(h), _) => h,
        (None, Some(f)) => f.as_mut(),
        (None, None) => unreachable!("one sink is made above"),
    };

    let input = crate::tables::open_input(&a.input)?;
    let limits = crate::pipeline::reader::Limits {
        max_line: a.max_line_bytes.max(1),
        ..Default::default()
    };
    let chunks = ChunkReader::with_limits(input, a.input_format, a.batch_size, limits)?;
    let pb = super::spinner("scoring");
    let started = std::time::Instant::now();
    let result = crate::pipeline::run(
        chunks,
        workers,
        sink,
        &metrics,
        monitor.as_mut(),
        |c: &Counts| {
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            pb.set_message(format!(
                "{} events, {:.0}/s, {} flagged, {} with risk_error",
                c.read,
                c.read as f64 / secs,
                c.flagged,
                c.errored
            ));
        },
    );
    pb.finish_and_clear();
    if let Err(e) = metrics.flush() {
        tracing::warn!(error = %e, "cannot write the metrics file");
    }
    if let Some(m) = &monitor {
        write_drift_report(
            a,
            m,
            result
                .as_ref()
                .err()
                .and_then(|e| e.downcast_ref::<Box<DriftFailure>>().map(|b| &**b)),
        )?;
    }
    let s = result?;
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(read = s.read, scored = s.scored, flagged = s.flagged, errored = s.errored, model = %id, engine = ?a.model.engine, seconds = secs, "done");
    eprintln!(
        "riskscore: {} events read, {} scored, {} flagged, {} with risk_error (model {id}, engine {:?}, {:.1}s)",
        s.read, s.scored, s.flagged, s.errored, a.model.engine, secs
    );
    if let Some(m) = &monitor {
        if let Some(r) = m.reports.last() {
            eprintln!(
                "riskscore: drift ({}, action {}): {}; {} events marked {}, {} with anomaly_flag held at 0",
                r.scope,
                m.policy().action.as_str(),
                r.assessment.summary(),
                s.drifted,
                fields.drift,
                s.suppressed
            );
        }
    }
    let mut failed = s.errored > 0 || s.suppressed > 0;
    if let Some(h) = &hec_sink {
        let d = h.delivery;
        eprintln!(
            "riskscore: HEC: {} events delivered, {} skipped (already delivered by an earlier run), {} set aside in the dead-letter file",
            d.delivered, d.skipped, d.dead_lettered
        );
        failed |= d.dead_lettered > 0;
    }
    Ok(i32::from(failed))
}

/// `--drift-report FILE`: the policy, every window report, and the failure if the run stopped on drift.
fn write_drift_report(
    a: &ScoreArgs,
    m: &DriftMonitor,
    failure: Option<&DriftFailure>,
) -> Result<()> {
    if let Some(f) = failure {
        eprintln!("riskscore: {f}");
        for finding in f.assessment.findings.iter().take(20) {
            eprintln!(
                "  {:<10} {:<32} {:>8.4}  (limit {})",
                finding.status.as_str(),
                format!("{} {}", finding.column, finding.statistic),
                finding.value,
                finding.limit
            );
        }
    }
    let Some(path) = &a.drift.drift_report else {
        return Ok(());
    };
    let doc = serde_json::json!({
        "policy": m.policy(),
        "reports": m.reports,
        "failure": failure.map(|f| serde_json::json!({
            "at_event": f.at, "assessment": f.assessment, "report": f.report,
        })),
    });
    std::fs::write(path, serde_json::to_vec_pretty(&doc)?)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}
