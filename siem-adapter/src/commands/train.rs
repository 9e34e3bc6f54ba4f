//! `siem-adapter train`: fit a model from a table and write its artifact.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use scorer_core::train::{train, Algorithm, TrainParams, TrainSpec};
use scorer_core::{Approval, Metadata, Schema};
use sha2::{Digest, Sha256};

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
    /// Random forest depth limit (0 = unlimited).
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
    #[arg(long)]
    pub key: Option<PathBuf>,
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
    let name = a.name.clone().unwrap_or_else(|| {
        a.output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into())
    });
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
        tags: a.tags.clone(),
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
    let key = crate::keys::signing_key(a.key.as_deref())?;
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
    Ok(0)
}
