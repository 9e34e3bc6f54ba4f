//! `siem-adapter train`: fit a model from a table and write its artifact.
//!
//! With `--champion OLD.json` the new model is a challenger: it keeps the
//! champion's name (unless `--name`), records `challenger-of:<name@version>`
//! in its tags, and is compared with the champion on the same held-out rows
//! of `--input` ([`super::champion`]); `--promote` approves and signs it only
//! when it is at least as good on the primary metric, and exits 1 otherwise.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use scorer_core::train::{train, Algorithm, TrainParams, TrainSpec};
use scorer_core::{Approval, Metadata, Schema};
use sha2::{Digest, Sha256};

use super::champion::{self, ChampionReport, Contender, Promotion};

/// Arguments of `train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// logistic_regression, linear_regression, random_forest, isolation_forest, kmeans or pca.
    #[arg(long, value_parser = parse_algorithm)]
    pub algorithm: Algorithm,
    /// Training table: CSV with a header, or JSON lines (gzip allowed).
    #[arg(long)]
    pub input: PathBuf,
    /// Label column (required for supervised algorithms; evaluation only for the others).
    #[arg(long)]
    pub label: Option<String>,
    /// Comma-separated feature fields; transforms are inferred from the data.
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,
    /// A full feature schema (JSON: {"features": [...]}) instead of --features.
    #[arg(long, conflicts_with = "features")]
    pub schema: Option<PathBuf>,
    /// Where to write the artifact.
    #[arg(long)]
    pub output: PathBuf,
    /// Model name (default: the output file's stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Model version.
    #[arg(long, default_value = "1.0.0")]
    pub version: String,
    /// What the model is for.
    #[arg(long, default_value = "")]
    pub description: String,
    /// Who trained it.
    #[arg(long, default_value = "")]
    pub author: String,
    /// Approval status to record: draft or approved.
    #[arg(long, default_value = "draft", value_parser = ["draft", "approved"])]
    pub approval: String,
    /// Comma-separated tags.
    #[arg(long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Label value meaning "positive" (default: 1/true/yes and non-zero numbers).
    #[arg(long)]
    pub positive: Option<String>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Trees (random and isolation forests).
    #[arg(long, default_value_t = 100)]
    pub n_trees: usize,
    /// Random forest depth limit (0 = unlimited), counted as smartcore does: the
    /// root is level 1, so 12 means at most 11 splits on a path (scikit-learn's max_depth=11).
    #[arg(long, default_value_t = 12)]
    pub max_depth: u16,
    /// Random forest minimum samples per leaf.
    #[arg(long, default_value_t = 1)]
    pub min_samples_leaf: usize,
    /// Random forest features tried per split (default max(√d, d/3)).
    #[arg(long)]
    pub max_features: Option<usize>,
    /// Isolation forest sub-sample size ψ.
    #[arg(long, default_value_t = 256)]
    pub sample_size: usize,
    /// k-means clusters.
    #[arg(long, default_value_t = 8)]
    pub k: usize,
    /// k-means iterations.
    #[arg(long, default_value_t = 100)]
    pub max_iter: usize,
    /// PCA components.
    #[arg(long, default_value_t = 2)]
    pub n_components: usize,
    /// Logistic regression L2 strength.
    #[arg(long, default_value_t = 0.0)]
    pub alpha: f64,
    /// Cross-validation folds (0 disables).
    #[arg(long, default_value_t = 5)]
    pub cv_folds: usize,
    /// Target false-positive rate that sets the flag threshold.
    #[arg(long, default_value_t = 0.01)]
    pub target_fpr: f64,
    /// A fixed flag threshold instead.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Sign with this key file (or set RISKSCORE_SIGNING_KEY); unsigned otherwise.
    #[arg(long, visible_alias = "signing-key")]
    pub key: Option<PathBuf>,
    /// The model in production: compare the new model (the challenger) with it
    /// on the same held-out rows of --input.
    #[arg(long)]
    pub champion: Option<PathBuf>,
    /// Trusted public key file for the champion (repeatable; also RISKSCORE_TRUSTED_KEYS).
    #[arg(long = "trusted-key", requires = "champion")]
    pub trusted_keys: Vec<PathBuf>,
    /// Accept an unsigned, untrusted or unapproved champion (development only).
    #[arg(long, requires = "champion")]
    pub allow_unsigned: bool,
    /// Write the challenger approved and signed when it is at least as good as the
    /// champion on ROC AUC (classifiers) or R² (regressions); otherwise write it
    /// as draft and exit 1. Needs a signing key (--key or RISKSCORE_SIGNING_KEY).
    #[arg(long, requires = "champion")]
    pub promote: bool,
    /// Print the champion/challenger comparison as one JSON object.
    #[arg(long, requires = "champion")]
    pub json: bool,
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    Algorithm::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
        format!("unknown algorithm `{s}` (one of: {})", names.join(", "))
    })
}

/// The current time in RFC 3339 (UTC, seconds).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Run `train`.
pub fn run(a: &TrainArgs) -> Result<i32> {
    // Everything that can refuse the run does so before training.
    let champion = match &a.champion {
        Some(p) => {
            let c = champion::load(p, &a.trusted_keys, a.allow_unsigned)?;
            champion::check(&c, a.algorithm, a.label.as_deref())?;
            Some(c)
        }
        None => None,
    };
    let key = crate::keys::signing_key(a.key.as_deref())?;
    if a.promote && key.is_none() {
        bail!(
            "--promote signs the challenger: give --key FILE or set {}",
            crate::keys::SIGNING_KEY_ENV
        );
    }
    let bytes = if a.input.as_os_str() == "-" {
        Vec::new()
    } else {
        std::fs::read(&a.input).unwrap_or_default()
    };
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let pb = super::spinner(&format!("reading {}", a.input.display()));
    let table = crate::tables::read_table(&a.input)?;
    let schema = match &a.schema {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read schema {}", p.display()))?;
            Some(
                serde_json::from_str::<Schema>(&text)
                    .with_context(|| format!("schema {}", p.display()))?,
            )
        }
        None => None,
    };
    let features = if a.features.is_empty() && schema.is_none() {
        // Default: every column but the label and Splunk's internal fields (except _time).
        table
            .columns()
            .iter()
            .filter(|c| {
                Some(c.as_str()) != a.label.as_deref() && (!c.starts_with('_') || *c == "_time")
            })
            .cloned()
            .collect()
    } else {
        a.features.clone()
    };
    if a.algorithm.supervised() && a.label.is_none() {
        bail!(
            "{} is supervised: give the label column with --label",
            a.algorithm.name()
        );
    }
    let name = a.name.clone().unwrap_or_else(|| match &champion {
        Some(c) => c.model.metadata().name.clone(),
        None => a
            .output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into()),
    });
    let mut tags = a.tags.clone();
    if let Some(c) = &champion {
        tags.push(format!("challenger-of:{}", c.model.id()));
        if c.model.id() == format!("{name}@{}", a.version) {
            tracing::warn!(
                "the challenger has the champion's name and version {}: give --version",
                a.version
            );
        }
    }
    let metadata = Metadata {
        name,
        version: a.version.clone(),
        description: a.description.clone(),
        author: a.author.clone(),
        created: now_rfc3339(),
        training_data: format!(
            "{} ({} rows, sha256 {digest}…)",
            a.input.display(),
            table.len()
        ),
        approval: if a.approval == "approved" {
            Approval::Approved
        } else {
            Approval::Draft
        },
        metrics: None,
        tags,
    };
    let params = TrainParams {
        seed: a.seed,
        n_trees: a.n_trees,
        max_depth: (a.max_depth > 0).then_some(a.max_depth),
        min_samples_leaf: a.min_samples_leaf,
        max_features: a.max_features,
        sample_size: a.sample_size,
        k: a.k,
        max_iter: a.max_iter,
        n_components: a.n_components,
        alpha: a.alpha,
        cv_folds: a.cv_folds,
        target_fpr: a.target_fpr,
        threshold: a.threshold,
        positive_label: a.positive.clone(),
    };
    pb.set_message(format!(
        "training {} on {} rows",
        a.algorithm.name(),
        table.len()
    ));
    let spec = TrainSpec {
        algorithm: a.algorithm,
        label: a.label.clone(),
        features,
        schema,
        metadata,
        params,
    };
    let started = std::time::Instant::now();
    let mut artifact = train(&table, &spec)?;
    let mut contest = None;
    if let Some(c) = &champion {
        pb.set_message(format!("measuring the champion {}", c.model.id()));
        let (old, new) = champion::measure(c, &table, &spec, &artifact)?;
        let (better, why) = champion::decide(c.task, &old, &new);
        if a.promote {
            artifact.metadata.approval = if better {
                Approval::Approved
            } else {
                Approval::Draft
            };
        }
        contest = Some((c, old, new, better, why));
    }
    artifact.seal(key.as_ref())?;
    std::fs::write(&a.output, artifact.to_json_pretty())
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    pb.finish_and_clear();
    tracing::info!(
        model = %a.output.display(),
        seconds = started.elapsed().as_secs_f64(),
        signed = key.is_some(),
        "trained"
    );
    eprintln!("{}", super::inspect::summary(&artifact));
    let Some((c, old, new, better, why)) = contest else {
        return Ok(0);
    };
    let promoted = a.promote && better;
    let held_out = old.rows;
    let report = ChampionReport {
        task: c.task.name().into(),
        input: a.input.display().to_string(),
        table_rows: table.len() as u64,
        seed: a.seed,
        primary_metric: c.task.primary().key().into(),
        metrics: champion::rows(c.task, &old, &new),
        champion: Contender {
            model: c.model.id(),
            path: c.path.display().to_string(),
            threshold: c.model.threshold(),
            rows: old.rows,
            measured: "as shipped, scored on the held-out rows".into(),
            metrics: old,
        },
        challenger: Contender {
            model: format!("{}@{}", artifact.metadata.name, artifact.metadata.version),
            path: a.output.display().to_string(),
            threshold: artifact.output.threshold,
            rows: new.rows,
            measured: format!(
                "its hold-out evaluation: fitted on the other {} rows",
                table.len() as u64 - held_out
            ),
            metrics: new,
        },
        promotion: Promotion {
            requested: a.promote,
            promoted,
            approval: artifact.metadata.approval.as_str().into(),
            signed_by: artifact.integrity.as_ref().and_then(|i| i.key_id.clone()),
            reason: why,
        },
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", champion::text(&report));
    }
    Ok(if a.promote && !promoted { 1 } else { 0 })
}
