//! A loaded model and the batch scoring API.
//!
//! [`Model::load`] checks and compiles an artifact once. Scoring is two
//! steps over caller-owned buffers that are reused batch after batch, so the
//! hot path allocates nothing per event:
//!
//! 1. [`FeatureBatch::push`] featurizes events into a row-major matrix plus a
//!    per-row missing mask;
//! 2. [`Model::score`] turns the matrix into raw outputs, scores and flags.

use ed25519_dalek::VerifyingKey;

use crate::artifact::{self, Approval, Artifact, Metadata, SignatureStatus};
use crate::estimators::Estimator;
use crate::event::Event;
use crate::explain::{top_reasons, Reason};
use crate::mouse::session::CompiledSession;
use crate::mouse::{SessionScorer, SessionSpec};
use crate::output::{check_threshold, Mapping};
use crate::schema::{FeatureSpec, Featurizer};
use crate::{Error, Result};

/// What a host accepts when loading an artifact.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Public keys whose signatures are trusted.
    pub trusted_keys: Vec<VerifyingKey>,
    /// Accept unsigned artifacts and untrusted signers (development only).
    /// Tampered content and invalid signatures are refused regardless.
    pub allow_unsigned: bool,
    /// Refuse artifacts whose approval status is not `approved`.
    pub require_approved: bool,
}

impl LoadOptions {
    /// Production: a trusted signature and `approved` status are required.
    pub fn production(trusted_keys: Vec<VerifyingKey>) -> Self {
        LoadOptions {
            trusted_keys,
            allow_unsigned: false,
            require_approved: true,
        }
    }

    /// Development: unsigned and draft artifacts load (tampering is still refused).
    pub fn development() -> Self {
        LoadOptions {
            trusted_keys: Vec::new(),
            allow_unsigned: true,
            require_approved: false,
        }
    }
}

/// A checked, compiled model ready to score.
#[derive(Debug, Clone)]
pub struct Model {
    artifact: Artifact,
    signature: SignatureStatus,
    featurizer: Featurizer,
    estimator: Estimator,
    mapping: Mapping,
    threshold: f64,
    column_features: Vec<usize>,
    session: Option<CompiledSession>,
}

impl Model {
    /// Load artifact bytes: parse, verify integrity, validate and compile.
    pub fn load(bytes: &[u8], options: &LoadOptions) -> Result<Model> {
        let doc = artifact::parse_document(bytes)?;
        let signature = artifact::verify(&doc, &options.trusted_keys, options.allow_unsigned)?;
        let artifact = Artifact::from_document(&doc)?;
        if options.require_approved && artifact.metadata.approval != Approval::Approved {
            return Err(Error::NotApproved {
                status: artifact.metadata.approval.as_str().into(),
            });
        }
        let mut model = Model::compile(artifact)?;
        model.signature = signature;
        Ok(model)
    }

    /// Validate and compile an artifact already in memory, without any
    /// integrity check (training and tests use this; hosts use [`Model::load`]).
    pub fn compile(artifact: Artifact) -> Result<Model> {
        let featurizer = artifact.schema.compile()?;
        let width = featurizer.width();
        let estimator = artifact.estimator.compile(width)?;
        let mapping = Mapping::compile(
            &artifact.output,
            artifact.estimator.kind(),
            estimator.isolation_norm(),
        )?;
        if let Some(b) = &artifact.baseline {
            b.validate(width, featurizer.n_features())?;
        }
        if let Some(p) = &artifact.drift {
            p.validate()?;
        }
        let session = match &artifact.session {
            Some(s) => Some(s.compile(&artifact.schema.fields())?),
            None => None,
        };
        Ok(Model {
            session,
            threshold: artifact.output.threshold,
            column_features: artifact.schema.column_features(),
            signature: SignatureStatus::Unsigned {
                digest_checked: false,
            },
            featurizer,
            estimator,
            mapping,
            artifact,
        })
    }

    /// The artifact as loaded.
    pub fn artifact(&self) -> &Artifact {
        &self.artifact
    }

    /// Its metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.artifact.metadata
    }

    /// `name@version`, the value of the `risk_model` output field.
    pub fn id(&self) -> String {
        format!(
            "{}@{}",
            self.artifact.metadata.name, self.artifact.metadata.version
        )
    }

    /// What integrity verification established.
    pub fn signature(&self) -> &SignatureStatus {
        &self.signature
    }

    /// The `session` section: this model scores sessions of raw events.
    pub fn session(&self) -> Option<&SessionSpec> {
        self.artifact.session.as_ref()
    }

    /// A scorer for sessions of raw events (the model must have a `session` section).
    pub fn session_scorer(&self) -> Result<SessionScorer<'_>> {
        match (&self.artifact.session, &self.session) {
            (Some(spec), Some(compiled)) => Ok(SessionScorer::new(self, spec, compiled)),
            _ => Err(Error::Format(format!(
                "model {} scores events, not sessions (no `session` section)",
                self.id()
            ))),
        }
    }

    /// The event fields the model reads.
    pub fn fields(&self) -> Vec<&str> {
        self.artifact.schema.fields()
    }

    /// The features, in schema order.
    pub fn features(&self) -> &[FeatureSpec] {
        &self.artifact.schema.features
    }

    /// Feature columns per row.
    pub fn width(&self) -> usize {
        self.featurizer.width()
    }

    /// The flag threshold in force.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Override the artifact's flag threshold (must be in [0, 1]).
    pub fn set_threshold(&mut self, threshold: f64) -> Result<()> {
        self.threshold = check_threshold(threshold)?;
        Ok(())
    }

    /// An empty batch shaped for this model.
    pub fn new_batch(&self) -> FeatureBatch {
        FeatureBatch {
            x: Vec::new(),
            mask: Vec::new(),
            rows: 0,
            width: self.featurizer.width(),
            words: self.featurizer.mask_words(),
        }
    }

    /// Featurize one event onto the end of `batch`.
    pub fn push<E: Event + ?Sized>(&self, batch: &mut FeatureBatch, event: &E) {
        let (row, mask) = batch.grow();
        self.featurizer.featurize_into(event, row, mask);
    }

    /// Featurize one event given by field index (see [`Model::fields`]) onto the end of `batch`.
    pub fn push_indexed<'a>(
        &self,
        batch: &mut FeatureBatch,
        field: impl Fn(usize) -> crate::Field<'a>,
    ) {
        let (row, mask) = batch.grow();
        self.featurizer.featurize_indexed(field, row, mask);
    }

    /// Featurize `n` events onto the end of `batch`, a feature at a time over
    /// blocks of rows, from columnar events (`field`: by field index, see
    /// [`Model::fields`], and row): for columnar callers (the wasm ABI).
    /// The rows equal [`Model::push_indexed`]'s, bit for bit.
    pub fn push_columns<'a>(
        &self,
        batch: &mut FeatureBatch,
        n: usize,
        field: &impl crate::schema::Columns<'a>,
    ) {
        let (x, masks) = batch.grow_rows(n);
        self.featurizer.featurize_columns(n, field, x, masks);
    }

    /// Score every row of `batch` into `out` (resized to the batch).
    pub fn score(&self, batch: &FeatureBatch, out: &mut Scores) {
        self.score_matrix(&batch.x, out);
    }

    /// Score a row-major matrix of `width()` columns directly (training, benchmarks).
    pub fn score_matrix(&self, x: &[f64], out: &mut Scores) {
        let n = x.len() / self.width();
        out.raw.resize(n, 0.0);
        out.score.resize(n, 0.0);
        out.flag.resize(n, 0);
        self.estimator
            .raw(&x[..n * self.width()], self.width(), &mut out.raw);
        for i in 0..n {
            let s = self.mapping.apply(out.raw[i]);
            out.score[i] = s;
            out.flag[i] = u8::from(s >= self.threshold);
        }
    }

    /// Featurize and score a slice of events (convenience over `push` + `score`).
    pub fn score_events<E: Event>(&self, events: &[E], batch: &mut FeatureBatch, out: &mut Scores) {
        batch.clear();
        for e in events {
            self.push(batch, e);
        }
        self.score(batch, out);
    }

    /// The map from raw output to score (for callers holding raw outputs).
    pub fn map_raw(&self, raw: f64) -> f64 {
        self.mapping.apply(raw)
    }

    /// Top `k` features pushing `row`'s risk up, one entry per schema feature.
    pub fn explain(&self, row: &[f64], k: usize) -> Vec<Reason> {
        let mut cols = vec![0.0; row.len()];
        self.estimator.contributions(row, &mut cols);
        let mut per_feature = vec![0.0; self.featurizer.n_features()];
        for (c, v) in cols.iter().enumerate() {
            per_feature[self.column_features[c]] += v;
        }
        top_reasons(&self.artifact.schema.features, &per_feature, k)
    }

    /// The features marked missing in a row's mask.
    pub fn missing_features<'a>(
        &'a self,
        mask: &'a [u64],
    ) -> impl Iterator<Item = &'a FeatureSpec> + 'a {
        self.features()
            .iter()
            .enumerate()
            .filter(move |(i, _)| mask[i / 64] & (1 << (i % 64)) != 0)
            .map(|(_, f)| f)
    }
}

/// A row-major feature matrix with a missing mask per row. Reuse it across
/// batches: `clear` keeps the memory.
#[derive(Debug, Clone, Default)]
pub struct FeatureBatch {
    x: Vec<f64>,
    mask: Vec<u64>,
    rows: usize,
    width: usize,
    words: usize,
}

impl FeatureBatch {
    /// Append a zeroed row; returns it and its missing mask.
    fn grow(&mut self) -> (&mut [f64], &mut [u64]) {
        self.grow_rows(1)
    }

    /// Append `n` zeroed rows; returns them and their missing masks.
    fn grow_rows(&mut self, n: usize) -> (&mut [f64], &mut [u64]) {
        let (x0, m0) = (self.x.len(), self.mask.len());
        self.x.resize(x0 + n * self.width, 0.0);
        self.mask.resize(m0 + n * self.words, 0);
        self.rows += n;
        (&mut self.x[x0..], &mut self.mask[m0..])
    }

    /// Forget the rows, keep the capacity.
    pub fn clear(&mut self) {
        self.x.clear();
        self.mask.clear();
        self.rows = 0;
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when the batch has no row.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Columns per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The whole matrix, row-major.
    pub fn matrix(&self) -> &[f64] {
        &self.x
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.width..(i + 1) * self.width]
    }

    /// Missing mask of row `i`.
    pub fn mask(&self, i: usize) -> &[u64] {
        &self.mask[i * self.words..(i + 1) * self.words]
    }

    /// Number of features missing in row `i`.
    pub fn missing_count(&self, i: usize) -> u32 {
        self.mask(i).iter().map(|w| w.count_ones()).sum()
    }
}

/// Results of a batch, one entry per row.
#[derive(Debug, Clone, Default)]
pub struct Scores {
    /// Raw estimator outputs.
    pub raw: Vec<f64>,
    /// `model_output_risk_score` in [0, 1]; NaN only when the model's
    /// arithmetic overflowed (hosts report that row with `risk_error`).
    pub score: Vec<f64>,
    /// `anomaly_flag`: 1 when score ≥ threshold.
    pub flag: Vec<u8>,
}
