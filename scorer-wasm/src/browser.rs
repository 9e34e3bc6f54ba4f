//! The browser face (cargo feature `browser`): a wasm-bindgen API over
//! scorer-core, packaged for `--target web` and `--target nodejs` with
//! TypeScript typings (see `npm/`).
//!
//! ```js
//! const scorer = Scorer.fromArtifact(jsonText, { allowUnsigned: false, trustedKeys: [pubKeyBase64] });
//! scorer.metadata();            // name, version, approval, metrics, ...
//! scorer.verify();              // { status: "verified", key_id } | { status: "unsigned", ... }
//! scorer.score(event);          // { model_output_risk_score, anomaly_flag, risk_model, ... }
//! scorer.scoreBatch(events);    // one result per event, in order
//! scorer.explain(event, 3);     // [{ feature, field, contribution }, ...]
//! ```
//!
//! Conversions only: every number comes from scorer-core, the same code the
//! wasmtime host and the native build run.

use scorer_core::artifact::parse_public_key;
use scorer_core::drift::DriftCounts;
use scorer_core::lines::{FieldPlan, LineBatch};
use scorer_core::output::FIELD_NAMES;
use scorer_core::{FeatureBatch, LoadOptions, Model, Scores};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::session::{Lines, Session};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export interface ScorerOptions {
  /** Accept unsigned, untrusted or unapproved artifacts (development only). Tampered ones are always refused. */
  allowUnsigned?: boolean;
  /** Trusted Ed25519 public keys: base64, or the content of a riskscore .pub key file. */
  trustedKeys?: string[];
}
export interface ScoreResult {
  model_output_risk_score?: number;
  anomaly_flag?: 0 | 1;
  risk_model: string;
  risk_missing_fields?: string[];
  risk_error?: string;
  raw?: number;
}
export interface Reason { feature: string; field: string; contribution: number; }
"#;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Options {
    #[serde(default)]
    allow_unsigned: bool,
    #[serde(default)]
    trusted_keys: Vec<String>,
}

#[derive(Serialize)]
struct ScoreResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    model_output_risk_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    anomaly_flag: Option<u8>,
    risk_model: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    risk_missing_fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    risk_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw: Option<f64>,
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

/// A loaded, verified model.
#[wasm_bindgen]
pub struct Scorer {
    session: Session,
    plan: FieldPlan,
    reader: LineBatch,
    batch: FeatureBatch,
    scores: Scores,
    out: Vec<u8>,
}

#[wasm_bindgen]
impl Scorer {
    /// Load an artifact from its JSON text. Throws with a readable message when refused.
    #[wasm_bindgen(js_name = fromArtifact)]
    pub fn from_artifact(json_text: &str, options: JsValue) -> Result<Scorer, JsError> {
        let o: Options = if options.is_undefined() || options.is_null() {
            Options::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| JsError::new(&format!("options: {e}")))?
        };
        let mut keys = Vec::new();
        for k in &o.trusted_keys {
            keys.push(parse_public_key(k).map_err(|e| JsError::new(&e.to_string()))?);
        }
        let opts = LoadOptions {
            trusted_keys: keys,
            allow_unsigned: o.allow_unsigned,
            require_approved: !o.allow_unsigned,
        };
        let model =
            Model::load(json_text.as_bytes(), &opts).map_err(|e| JsError::new(&e.to_string()))?;
        let fields: Vec<String> = model.fields().iter().map(|f| f.to_string()).collect();
        Ok(Scorer {
            plan: FieldPlan::new(&fields, &FIELD_NAMES),
            reader: LineBatch::default(),
            batch: model.new_batch(),
            scores: Scores::default(),
            out: Vec::new(),
            session: Session::new(model),
        })
    }

    /// Metadata: name, version, description, author, created, approval, metrics, tags.
    pub fn metadata(&self) -> Result<JsValue, JsError> {
        to_js(self.session.model.metadata())
    }

    /// What integrity verification established at load.
    pub fn verify(&self) -> Result<JsValue, JsError> {
        to_js(self.session.model.signature())
    }

    /// The event fields the model reads.
    pub fn fields(&self) -> Result<JsValue, JsError> {
        to_js(&self.session.model.fields())
    }

    /// The features (field, name, transform) in schema order.
    pub fn features(&self) -> Result<JsValue, JsError> {
        to_js(&self.session.model.features())
    }

    /// The training baseline (histograms per feature column and of the score), if any.
    pub fn baseline(&self) -> Result<JsValue, JsError> {
        to_js(&self.session.model.artifact().baseline)
    }

    /// The flag threshold in force.
    pub fn threshold(&self) -> f64 {
        self.session.model.threshold()
    }

    /// Override the flag threshold (0..1).
    #[wasm_bindgen(js_name = setThreshold)]
    pub fn set_threshold(&mut self, t: f64) -> Result<(), JsError> {
        self.session
            .model
            .set_threshold(t)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Score one event object.
    pub fn score(&mut self, event: JsValue) -> Result<JsValue, JsError> {
        let v: serde_json::Value =
            serde_wasm_bindgen::from_value(event).unwrap_or(serde_json::Value::Null);
        let r = self.score_values(std::slice::from_ref(&v));
        to_js(&r[0])
    }

    /// Score an array of event objects: one result per event, in order.
    #[wasm_bindgen(js_name = scoreBatch)]
    pub fn score_batch(&mut self, events: JsValue) -> Result<JsValue, JsError> {
        let v: Vec<serde_json::Value> = serde_wasm_bindgen::from_value(events)
            .map_err(|e| JsError::new(&format!("scoreBatch expects an array of events: {e}")))?;
        to_js(&self.score_values(&v))
    }

    /// Top `k` features pushing the event's risk up.
    pub fn explain(&mut self, event: JsValue, k: usize) -> Result<JsValue, JsError> {
        let v: serde_json::Value =
            serde_wasm_bindgen::from_value(event).unwrap_or(serde_json::Value::Null);
        self.batch.clear();
        self.session.model.push(&mut self.batch, &v);
        to_js(&self.session.model.explain(self.batch.row(0), k))
    }

    /// Score one columnar batch (the host ABI's wire format, `RSB2`: the
    /// model's fields only, see `wire/mod.rs`) and return the `RSR1` result
    /// buffer — the very code path wasmtime hosts run. One call per batch;
    /// `explainK` > 0 adds the reasons as JSON; `trackDrift` counts the rows
    /// into the drift window.
    #[wasm_bindgen(js_name = scoreColumns)]
    pub fn score_columns(
        &mut self,
        batch: &[u8],
        explain_k: u32,
        track_drift: bool,
    ) -> Result<Vec<u8>, JsError> {
        self.session
            .score(batch, explain_k as usize, track_drift, &mut self.out)
            .map_err(|e| JsError::new(&e))?;
        Ok(self.out.clone())
    }

    /// Read and score whole JSON lines (UTF-8 bytes, newline-separated) with
    /// the adapter's own line reader: no JSON tree, only the model's fields
    /// are copied out. One call per chunk of lines. See [`ScoredLines`].
    #[wasm_bindgen(js_name = scoreLines)]
    pub fn score_lines(&mut self, bytes: &[u8], track_drift: bool) -> ScoredLines {
        let mut lines = Lines::default();
        let mut results = Vec::new();
        self.session.score_lines(
            &self.plan,
            &mut self.reader,
            bytes,
            track_drift,
            &mut lines,
            &mut results,
        );
        ScoredLines { lines, results }
    }

    /// The `risk_reasons` text (top `k`) of every row of a columnar batch,
    /// exactly as the adapter and the Splunk command write it.
    #[wasm_bindgen(js_name = explainColumns)]
    pub fn explain_columns(&mut self, batch: &[u8], k: u32) -> Result<Vec<String>, JsError> {
        self.session
            .explain(batch, k as usize)
            .map_err(|e| JsError::new(&e))
    }

    /// The drift window's raw counts (`{rows, columns, score, missing}`),
    /// mergeable across scorers by adding; `null` without a baseline.
    #[wasm_bindgen(js_name = driftCounts)]
    pub fn drift_counts(&self) -> Result<JsValue, JsError> {
        match self.session.drift() {
            Some(d) => to_js(d),
            None => Ok(JsValue::NULL),
        }
    }

    /// Start a new drift window.
    #[wasm_bindgen(js_name = driftReset)]
    pub fn drift_reset(&mut self) {
        self.session.reset_drift();
    }

    /// PSI and KS per feature column and for the score, and missing shares,
    /// of `counts` (from `driftCounts`, possibly merged) against the baseline;
    /// with the artifact's drift `policy` and its `assessment` (status,
    /// findings, one-line summary).
    #[wasm_bindgen(js_name = driftReport)]
    pub fn drift_report(&self, counts: JsValue) -> Result<JsValue, JsError> {
        let c: DriftCounts = serde_wasm_bindgen::from_value(counts)
            .map_err(|e| JsError::new(&format!("drift counts: {e}")))?;
        let model = &self.session.model;
        let r = model.drift_report(&c).map_err(|e| JsError::new(&e))?;
        // The artifact's policy judges it, as `siem-adapter score` and `| riskdrift` do.
        let policy = model.drift_policy();
        let assessment = policy.assess(&r);
        let mut doc = serde_json::to_value(&r).map_err(|e| JsError::new(&e.to_string()))?;
        doc["policy"] = serde_json::to_value(&policy).unwrap_or_default();
        doc["assessment"] = serde_json::to_value(&assessment).unwrap_or_default();
        doc["assessment"]["summary"] = assessment.summary().into();
        to_js(&doc)
    }
}

impl Scorer {
    fn score_values(&mut self, events: &[serde_json::Value]) -> Vec<ScoreResult> {
        self.batch.clear();
        for e in events {
            self.session.model.push(&mut self.batch, e);
        }
        self.session.model.score(&self.batch, &mut self.scores);
        let id = self.session.model.id();
        events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let missing: Vec<String> = {
                    let mut m: Vec<String> = Vec::new();
                    for f in self.session.model.missing_features(self.batch.mask(i)) {
                        if !m.contains(&f.field) {
                            m.push(f.field.clone());
                        }
                    }
                    m
                };
                let s = self.scores.score[i];
                let error = if !e.is_object() {
                    Some("event is not an object".to_string())
                } else if s.is_nan() {
                    Some("model output is not a number (feature values overflow the model's arithmetic)".into())
                } else {
                    None
                };
                match error {
                    Some(err) => ScoreResult {
                        model_output_risk_score: None,
                        anomaly_flag: None,
                        risk_model: id.clone(),
                        risk_missing_fields: vec![],
                        risk_error: Some(err),
                        raw: None,
                    },
                    None => ScoreResult {
                        model_output_risk_score: Some(s),
                        anomaly_flag: Some(self.scores.flag[i]),
                        risk_model: id.clone(),
                        risk_missing_fields: missing,
                        risk_error: None,
                        raw: Some(self.scores.raw[i]),
                    },
                }
            })
            .collect()
    }
}

/// What `scoreLines` found, line by line, and the scores of its events.
#[wasm_bindgen]
pub struct ScoredLines {
    lines: Lines,
    results: Vec<u8>,
}

#[wasm_bindgen]
impl ScoredLines {
    /// Per line: 0 event, 1 blank, 2 not an event (skipped), 3 unreadable,
    /// 4 a results document on one line (its events are the caller's to read).
    pub fn kinds(&self) -> Vec<u8> {
        self.lines.kinds.clone()
    }

    /// Per line: bit 0 = empty event object, bit 1 = it already has a field the scorer writes.
    pub fn marks(&self) -> Vec<u8> {
        self.lines.marks.clone()
    }

    /// Per line, two byte offsets into the input: the event object's range
    /// (an export row's `result`), or the line's.
    pub fn spans(&self) -> Vec<u32> {
        self.lines.spans.clone()
    }

    /// Why each unreadable line is unreadable, in order.
    pub fn errors(&self) -> Vec<String> {
        self.lines.errors.clone()
    }

    /// The events' results, one row per event line in order (the `RSR1`
    /// buffer of `scoreColumns`).
    pub fn results(&self) -> Vec<u8> {
        self.results.clone()
    }
}
