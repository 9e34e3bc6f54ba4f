//! `siem-adapter mouse train`: one session model per account.
//!
//! For each account, the artifact holds
//! - a random forest of the owner's gestures (label 0) against as many
//!   gestures of the other accounts (label 1, drawn evenly from each of
//!   them), as the production system behind the Balabit data did; the
//!   session score is the mean gesture probability of "not the owner",
//!   flagged at 0.5 (the classes are balanced);
//! - the owner's gesture distributions for the one-class KS method, whose
//!   threshold is set by leave-one-session-out: each training session is cut
//!   into pseudo-sessions of `--ks-chunk` gestures, scored against the
//!   other sessions' gestures, and the threshold is the `1 - --target-fpr`
//!   quantile of those genuine scores.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use scorer_core::artifact::{Approval, Metadata};
use scorer_core::mouse::{
    feature_names, KsCombine, KsProfile, SessionKind, SessionMethod, SessionSpec, N_FEATURES,
};
use scorer_core::train::{quantile, shuffled, train, Algorithm, Table, TrainParams, TrainSpec};

use super::{gesture_rows, sessions, FieldArgs, GestureArgs};
use crate::sources::InputFormat;

/// `mouse train` options.
#[derive(Debug, clap::Args)]
pub struct MouseTrainArgs {
    /// Mouse events of the owners' sessions: CSV or JSON lines (gzip allowed).
    #[arg(long)]
    pub input: PathBuf,
    /// Input format.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: InputFormat,
    /// Folder for the artifacts, one `<user>.json` per account.
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Only these accounts (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    pub users: Vec<String>,
    /// The session method the artifacts use by default.
    #[arg(long, value_enum, default_value = "gesture-mean")]
    pub method: MethodArg,
    /// Other accounts' gestures per owner gesture.
    #[arg(long, default_value_t = 1.0)]
    pub impostor_ratio: f64,
    /// Trees per forest.
    #[arg(long, default_value_t = 100)]
    pub n_trees: usize,
    /// Tree depth limit (0 = unlimited).
    #[arg(long, default_value_t = 0)]
    pub max_depth: u16,
    /// Minimum gestures per leaf.
    #[arg(long, default_value_t = 1)]
    pub min_samples_leaf: usize,
    /// How KS tests combine into a session score (`rejected` ranks sessions
    /// of different lengths fairly: the p-values account for sample size).
    #[arg(long, value_enum, default_value = "rejected")]
    pub ks_combine: CombineArg,
    /// Gestures per pseudo-session when setting the KS threshold.
    #[arg(long, default_value_t = 40)]
    pub ks_chunk: usize,
    /// Share of genuine pseudo-sessions the KS threshold may flag.
    #[arg(long, default_value_t = 0.05)]
    pub target_fpr: f64,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Accounts trained at once (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Model version.
    #[arg(long, default_value = "1.0.0")]
    pub version: String,
    /// Approval status to record.
    #[arg(long, default_value = "draft", value_parser = ["draft", "approved"])]
    pub approval: String,
    /// Sign with this key file (or RISKSCORE_SIGNING_KEY); unsigned otherwise.
    #[arg(long, visible_alias = "signing-key")]
    pub key: Option<PathBuf>,
    /// Event field names.
    #[command(flatten)]
    pub fields: FieldArgs,
    /// Segmentation.
    #[command(flatten)]
    pub gestures: GestureArgs,
}

/// `--method` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MethodArg {
    /// Mean of the random forest's gesture scores.
    GestureMean,
    /// Kolmogorov–Smirnov tests against the owner's gestures.
    Ks,
}

impl MethodArg {
    /// As scorer-core's method.
    pub fn method(self) -> SessionMethod {
        match self {
            MethodArg::GestureMean => SessionMethod::GestureMean,
            MethodArg::Ks => SessionMethod::Ks,
        }
    }
}

/// `--ks-combine` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CombineArg {
    /// Mean KS statistic over features.
    MeanD,
    /// Share of features rejected at 5%.
    Rejected,
}

/// Gesture rows of one account, by session.
struct Account {
    sessions: Vec<Vec<f64>>,
}

impl Account {
    fn rows(&self) -> impl Iterator<Item = &[f64]> {
        self.sessions
            .iter()
            .flat_map(|s| s.chunks_exact(N_FEATURES))
    }
    fn len(&self) -> usize {
        self.sessions.iter().map(|s| s.len() / N_FEATURES).sum()
    }
}

/// Run `mouse train`.
pub fn run(a: &MouseTrainArgs) -> Result<i32> {
    let params = a.gestures.params()?;
    let key = crate::keys::signing_key(a.key.as_deref())?;
    if a.impostor_ratio.is_nan()
        || a.impostor_ratio <= 0.0
        || a.ks_chunk < 2
        || !(0.0..1.0).contains(&a.target_fpr)
    {
        bail!("need --impostor-ratio > 0, --ks-chunk >= 2 and --target-fpr in [0, 1)");
    }
    let pb = super::super::spinner(&format!("reading {}", a.input.display()));
    let mut accounts: BTreeMap<String, Account> = BTreeMap::new();
    for s in sessions(&a.input, a.format, &a.fields)? {
        if let Some(e) = &s.first_error {
            tracing::warn!(user = %s.user, session = %s.session, invalid = s.invalid, "invalid mouse events skipped: {e}");
        }
        let rows = gesture_rows(&s, params);
        accounts
            .entry(s.user.clone())
            .or_insert(Account {
                sessions: Vec::new(),
            })
            .sessions
            .push(rows);
    }
    if accounts.len() < 2 {
        bail!("need the sessions of at least two accounts (the others are each one's impostors)");
    }
    let targets: Vec<String> = if a.users.is_empty() {
        accounts.keys().cloned().collect()
    } else {
        for u in &a.users {
            if !accounts.contains_key(u) {
                bail!("no sessions of account `{u}` in {}", a.input.display());
            }
        }
        a.users.clone()
    };
    std::fs::create_dir_all(&a.out_dir)
        .with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    let jobs = if a.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        a.jobs
    }
    .min(targets.len());
    pb.set_message(format!(
        "training {} account(s), {jobs} at a time",
        targets.len()
    ));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let ui = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(user) = targets.get(ui) else {
                            return Ok(());
                        };
                        train_user(a, &accounts, user, ui, params, key.as_ref())
                            .with_context(|| format!("account `{user}`"))?;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a training thread panicked")))
            })
            .collect()
    });
    for r in results {
        r?;
    }
    pb.finish_and_clear();
    eprintln!(
        "trained {} session model(s) into {}{}",
        targets.len(),
        a.out_dir.display(),
        if key.is_some() {
            " (signed)"
        } else {
            " (unsigned)"
        }
    );
    Ok(0)
}

/// Train, seal and write the artifact of one account.
fn train_user(
    a: &MouseTrainArgs,
    accounts: &BTreeMap<String, Account>,
    user: &str,
    ui: usize,
    params: scorer_core::mouse::GestureParams,
    key: Option<&ed25519_dalek::SigningKey>,
) -> Result<()> {
    if !super::is_model_file_name(user) {
        bail!(
            "account `{user}` cannot name a model file (letters, digits, _ - . @; no leading dot)"
        );
    }
    let names = feature_names();
    let own = &accounts[user];
    if own.len() < 10 {
        bail!(
            "account `{user}` has {} gestures: too few to train",
            own.len()
        );
    }
    let table = training_table(accounts, user, a.impostor_ratio, a.seed + ui as u64)?;
    let spec = TrainSpec {
        algorithm: Algorithm::RandomForest,
        label: Some("impostor".into()),
        features: names.clone(),
        schema: None,
        metadata: Metadata {
            name: format!("mouse-{user}"),
            version: a.version.clone(),
            description: format!(
                "Mouse dynamics of account {user}: a session whose gestures are not the owner's scores high"
            ),
            author: String::new(),
            created: super::super::train::now_rfc3339(),
            training_data: format!(
                "{}: {} owner gestures in {} sessions, {} gestures of {} other accounts",
                a.input.display(),
                own.len(),
                own.sessions.len(),
                table.len() - own.len(),
                accounts.len() - 1
            ),
            approval: if a.approval == "approved" {
                Approval::Approved
            } else {
                Approval::Draft
            },
            metrics: None,
            tags: vec!["mouse_dynamics".into(), format!("user:{user}")],
        },
        params: TrainParams {
            seed: a.seed,
            n_trees: a.n_trees,
            max_depth: (a.max_depth > 0).then_some(a.max_depth),
            min_samples_leaf: a.min_samples_leaf,
            cv_folds: 0,
            threshold: Some(0.5),
            ..TrainParams::default()
        },
    };
    let mut artifact = train(&table, &spec)?;
    let combine = match a.ks_combine {
        CombineArg::MeanD => KsCombine::MeanD,
        CombineArg::Rejected => KsCombine::Rejected,
    };
    let mut ks = ks_profile(own.rows(), &names, combine);
    ks.threshold = ks_threshold(own, &names, combine, a.ks_chunk, a.target_fpr);
    artifact.session = Some(SessionSpec {
        kind: SessionKind::MouseDynamics,
        gestures: params,
        method: a.method.method(),
        min_gestures: 1,
        threshold: 0.5,
        ks: Some(ks),
    });
    artifact.seal(key)?;
    let path = a.out_dir.join(format!("{user}.json"));
    std::fs::write(&path, artifact.to_json_pretty())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(user = %user, gestures = own.len(), path = %path.display(), "session model written");
    Ok(())
}

/// The owner's gestures (label 0) and the impostors' (label 1), drawn evenly
/// from every other account.
fn training_table(
    accounts: &BTreeMap<String, Account>,
    user: &str,
    ratio: f64,
    seed: u64,
) -> Result<Table> {
    let mut columns = feature_names();
    columns.push("impostor".into());
    let mut t = Table::new(columns)?;
    let push = |t: &mut Table, row: &[f64], label: &str| {
        let mut cells: Vec<Option<String>> = row.iter().map(|v| Some(v.to_string())).collect();
        cells.push(Some(label.into()));
        t.push_row(cells)
    };
    let own = &accounts[user];
    for row in own.rows() {
        push(&mut t, row, "0")?;
    }
    let others: Vec<&Account> = accounts
        .iter()
        .filter(|(u, _)| u.as_str() != user)
        .map(|(_, a)| a)
        .collect();
    let quota = ((own.len() as f64 * ratio) / others.len() as f64).ceil() as usize;
    for (oi, other) in others.iter().enumerate() {
        let rows: Vec<&[f64]> = other.rows().collect();
        for &i in shuffled(rows.len(), seed.wrapping_mul(1000) + oi as u64)
            .iter()
            .take(quota)
        {
            push(&mut t, rows[i], "1")?;
        }
    }
    Ok(t)
}

fn columns<'a>(rows: impl Iterator<Item = &'a [f64]>) -> Vec<Vec<f64>> {
    let mut cols = vec![Vec::new(); N_FEATURES];
    for r in rows {
        for (c, v) in cols.iter_mut().zip(r) {
            c.push(*v);
        }
    }
    cols
}

fn ks_profile<'a>(
    rows: impl Iterator<Item = &'a [f64]>,
    names: &[String],
    combine: KsCombine,
) -> KsProfile {
    KsProfile::fit(names.to_vec(), columns(rows), combine)
}

/// Leave-one-session-out threshold of the KS score (see the module doc).
fn ks_threshold(
    own: &Account,
    names: &[String],
    combine: KsCombine,
    chunk: usize,
    fpr: f64,
) -> f64 {
    if own.sessions.len() < 2 {
        tracing::warn!("one training session: the KS threshold stays 0.5");
        return 0.5;
    }
    let mut genuine = Vec::new();
    for held in 0..own.sessions.len() {
        let rest = own
            .sessions
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != held)
            .flat_map(|(_, s)| s.chunks_exact(N_FEATURES));
        let profile = ks_profile(rest, names, combine);
        let rows: Vec<&[f64]> = own.sessions[held].chunks_exact(N_FEATURES).collect();
        for part in rows.chunks(chunk).filter(|p| p.len() == chunk) {
            let mut cols = columns(part.iter().copied());
            genuine.push(profile.score(&mut cols));
        }
    }
    if genuine.is_empty() {
        return 0.5;
    }
    quantile(&genuine, 1.0 - fpr).clamp(0.0, 1.0)
}
