//! `siem-adapter score`: score an exported alert batch.
//!
//! Every event that comes in goes out, in order: with `model_output_risk_score`,
//! `anomaly_flag` and `risk_model` appended, or with `risk_error` saying why it
//! could not be scored (unreadable line, non-numeric model output). Fields the
//! model reads but the event lacks are listed in `risk_missing_fields`; their
//! schema defaults were used. Events are scored in batches (`--batch-size`),
//! featurized into one reused matrix: nothing is allocated per event on the
//! scoring path.

use std::path::PathBuf;

use anyhow::{bail, Result};
use serde_json::{Map, Value};

use crate::sinks::{OutputFormat, Sink};
use crate::sources::{read_events, InputFormat, Record};

/// Arguments of `score`.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// The model artifact.
    #[arg(long)]
    pub model: PathBuf,
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
    /// Scoring engine.
    #[arg(long, value_enum, default_value = "native")]
    pub engine: Engine,
    /// Trusted public key file (repeatable; also RISKSCORE_TRUSTED_KEYS).
    #[arg(long = "trusted-key")]
    pub trusted_keys: Vec<PathBuf>,
    /// Accept unsigned, untrusted or unapproved artifacts (development only).
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Override the artifact's flag threshold (0..1).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Add `risk_reasons` with the top K contributing features.
    #[arg(long, default_value_t = 0)]
    pub explain: usize,
    /// Rename output fields: `score=NAME,flag=NAME,model=NAME,reasons=NAME,error=NAME,missing=NAME`.
    #[arg(long, value_delimiter = ',')]
    pub fields: Vec<String>,
    /// Events per scoring batch.
    #[arg(long, default_value_t = 4096)]
    pub batch_size: usize,
}

/// Scoring engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// scorer-core linked into this binary.
    Native,
}

/// Names of the fields the scorer writes.
#[derive(Debug, Clone)]
pub struct OutputFields {
    /// `model_output_risk_score`.
    pub score: String,
    /// `anomaly_flag`.
    pub flag: String,
    /// `risk_model` (name@version).
    pub model: String,
    /// `risk_reasons`.
    pub reasons: String,
    /// `risk_error`.
    pub error: String,
    /// `risk_missing_fields`.
    pub missing: String,
}

impl Default for OutputFields {
    fn default() -> Self {
        OutputFields {
            score: "model_output_risk_score".into(),
            flag: "anomaly_flag".into(),
            model: "risk_model".into(),
            reasons: "risk_reasons".into(),
            error: "risk_error".into(),
            missing: "risk_missing_fields".into(),
        }
    }
}

impl OutputFields {
    /// Apply `key=name` renames.
    pub fn with_renames(mut self, renames: &[String]) -> Result<Self> {
        for r in renames {
            let Some((k, v)) = r.split_once('=') else {
                bail!("--fields expects key=name, got `{r}`")
            };
            let v = v.trim().to_string();
            if v.is_empty() {
                bail!("--fields: empty name for `{k}`");
            }
            match k.trim() {
                "score" => self.score = v,
                "flag" => self.flag = v,
                "model" => self.model = v,
                "reasons" => self.reasons = v,
                "error" => self.error = v,
                "missing" => self.missing = v,
                other => bail!(
                    "--fields: unknown key `{other}` (score, flag, model, reasons, error, missing)"
                ),
            }
        }
        Ok(self)
    }
}

/// Counts reported at the end of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Events (and unreadable lines) read.
    pub read: u64,
    /// Events scored.
    pub scored: u64,
    /// Events with `anomaly_flag` = 1.
    pub flagged: u64,
    /// Events written with `risk_error`.
    pub errored: u64,
}

/// Scores batches of records and writes them out in order.
pub struct Scorer<'m> {
    model: &'m scorer_core::Model,
    fields: OutputFields,
    explain: usize,
    batch: scorer_core::FeatureBatch,
    scores: scorer_core::Scores,
    model_id: Value,
    /// Running counts.
    pub summary: Summary,
}

impl<'m> Scorer<'m> {
    /// A scorer for `model`.
    pub fn new(model: &'m scorer_core::Model, fields: OutputFields, explain: usize) -> Self {
        Scorer {
            batch: model.new_batch(),
            scores: Default::default(),
            model_id: Value::String(model.id()),
            model,
            fields,
            explain,
            summary: Summary::default(),
        }
    }

    /// Score `records` and hand each, annotated, to `emit` in input order.
    pub fn score_batch(
        &mut self,
        records: Vec<Record>,
        mut emit: impl FnMut(Map<String, Value>) -> Result<()>,
    ) -> Result<()> {
        self.batch.clear();
        for r in &records {
            if let Ok(e) = &r.event {
                self.model.push(&mut self.batch, e);
            }
        }
        self.model.score(&self.batch, &mut self.scores);
        let mut row = 0;
        for r in records {
            self.summary.read += 1;
            let out = match r.event {
                Ok(mut e) => {
                    let s = self.scores.score[row];
                    if s.is_nan() {
                        e.insert(self.fields.error.clone(), "model output is not a number (feature values overflow the model's arithmetic)".into());
                        self.summary.errored += 1;
                    } else {
                        let flag = self.scores.flag[row];
                        e.insert(self.fields.score.clone(), serde_json::json!(s));
                        e.insert(self.fields.flag.clone(), Value::from(flag));
                        e.insert(self.fields.model.clone(), self.model_id.clone());
                        if self.explain > 0 {
                            let reasons = self.model.explain(self.batch.row(row), self.explain);
                            e.insert(
                                self.fields.reasons.clone(),
                                scorer_core::format_reasons(&reasons).into(),
                            );
                        }
                        if self.batch.missing_count(row) > 0 {
                            let names: Vec<&str> = self
                                .model
                                .missing_features(self.batch.mask(row))
                                .map(|f| f.field.as_str())
                                .collect();
                            let mut names = names;
                            names.dedup();
                            e.insert(self.fields.missing.clone(), names.join(",").into());
                        }
                        self.summary.scored += 1;
                        self.summary.flagged += u64::from(flag);
                    }
                    row += 1;
                    e
                }
                Err(bad) => {
                    let mut e = Map::new();
                    if !bad.raw.is_empty() {
                        e.insert("_raw".into(), bad.raw.into());
                    }
                    e.insert(
                        self.fields.error.clone(),
                        format!("line {}: {}", r.line, bad.error).into(),
                    );
                    e.insert(self.fields.model.clone(), self.model_id.clone());
                    self.summary.errored += 1;
                    e
                }
            };
            emit(out)?;
        }
        Ok(())
    }
}

/// Run `score`.
pub fn run(a: &ScoreArgs) -> Result<i32> {
    let fields = OutputFields::default().with_renames(&a.fields)?;
    let mut model = super::load_model(&a.model, &a.trusted_keys, a.allow_unsigned)?;
    if let Some(t) = a.threshold {
        model.set_threshold(t)?;
    }
    match a.engine {
        Engine::Native => {}
    }
    let mut sink = Sink::open(&a.output, a.output_format)?;
    let mut scorer = Scorer::new(&model, fields, a.explain);
    let pb = super::spinner("scoring");
    let mut records = Vec::with_capacity(a.batch_size.max(1));
    for rec in read_events(&a.input, a.input_format)? {
        records.push(rec);
        if records.len() >= a.batch_size.max(1) {
            scorer.score_batch(std::mem::take(&mut records), |e| sink.write(e))?;
            pb.set_message(format!("scored {} events", scorer.summary.read));
        }
    }
    scorer.score_batch(records, |e| sink.write(e))?;
    sink.finish()?;
    pb.finish_and_clear();
    let s = scorer.summary;
    tracing::info!(read = s.read, scored = s.scored, flagged = s.flagged, errored = s.errored, model = %model.id(), "done");
    eprintln!(
        "riskscore: {} events read, {} scored, {} flagged, {} with risk_error (model {})",
        s.read,
        s.scored,
        s.flagged,
        s.errored,
        model.id()
    );
    Ok(if s.errored > 0 { 1 } else { 0 })
}
