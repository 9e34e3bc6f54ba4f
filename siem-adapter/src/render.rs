//! Scored events out as bytes: the original JSON object with the scorer's
//! fields spliced in before its closing brace — original fields untouched,
//! in their order, byte for byte — optionally wrapped in a Splunk HTTP Event
//! Collector envelope (`time` from `_time`; `host`, `source`, `sourcetype`,
//! `index` configurable, by default the event's own).

use serde_json::{Map, Value};

use crate::engine::BatchResult;
use crate::extract::{LineBatch, Meta};

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
    /// `model_drift`.
    pub drift: String,
}

impl Default for OutputFields {
    fn default() -> Self {
        let [score, flag, model, reasons, error, missing, drift] =
            scorer_core::output::FIELD_NAMES.map(String::from);
        OutputFields {
            score,
            flag,
            model,
            reasons,
            error,
            missing,
            drift,
        }
    }
}

impl OutputFields {
    /// Apply `key=name` renames (`score`, `flag`, `model`, `reasons`, `error`, `missing`, `drift`).
    pub fn with_renames(mut self, renames: &[String]) -> anyhow::Result<Self> {
        for r in renames {
            let Some((k, v)) = r.split_once('=') else {
                anyhow::bail!("--fields expects key=name, got `{r}`")
            };
            let v = v.trim().to_string();
            if v.is_empty() {
                anyhow::bail!("--fields: empty name for `{k}`");
            }
            match k.trim() {
                "score" => self.score = v,
                "flag" => self.flag = v,
                "model" => self.model = v,
                "reasons" => self.reasons = v,
                "error" => self.error = v,
                "missing" => self.missing = v,
                "drift" => self.drift = v,
                other => anyhow::bail!(
                    "--fields: unknown key `{other}` (score, flag, model, reasons, error, missing, drift)"
                ),
            }
        }
        Ok(self)
    }

    /// Every name, for collision checks.
    pub fn all(&self) -> [&str; 7] {
        [
            &self.score,
            &self.flag,
            &self.model,
            &self.reasons,
            &self.error,
            &self.missing,
            &self.drift,
        ]
    }
}

/// What the scorer says about one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict<'a> {
    /// Scored.
    Scored {
        /// Risk score, 0..1.
        score: f64,
        /// Anomaly flag.
        flag: u8,
        /// `risk_reasons`, when asked for.
        reasons: Option<String>,
        /// Fields whose schema defaults were used.
        missing: Vec<&'a str>,
    },
    /// Not scored, and why.
    Error(String),
}

impl<'a> Verdict<'a> {
    /// The verdict on event `row` of a scored batch: its score, flag, reasons
    /// (when `explain` > 0) and defaulted fields — or why it has no score.
    /// Shared by `siem-adapter score` and the Splunk command.
    pub fn of(
        result: &BatchResult,
        row: usize,
        features: &'a [scorer_core::schema::FeatureSpec],
        explain: usize,
    ) -> Verdict<'a> {
        let score = result.score[row];
        if score.is_nan() {
            return Verdict::Error(
                "model output is not a number (feature values overflow the model's arithmetic)"
                    .into(),
            );
        }
        Verdict::Scored {
            score,
            flag: result.flag[row],
            reasons: (explain > 0)
                .then(|| {
                    result
                        .reasons
                        .get(row)
                        .map(|r| scorer_core::format_reasons(r))
                })
                .flatten(),
            missing: result.missing_fields(row, features),
        }
    }
}

/// Where a rendered event can be marked later (see [`crate::drift`]):
/// offsets from the event's first byte, `u32::MAX` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// The event object's closing brace (fields are inserted before it).
    pub close: u32,
    /// The `anomaly_flag` digit.
    pub flag: u32,
}

impl Mark {
    /// Nothing to mark (an unscored event).
    pub const NONE: Mark = Mark {
        close: u32::MAX,
        flag: u32::MAX,
    };
}

/// Envelope settings for the HTTP Event Collector.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// Fixed `host` (else the event's).
    pub host: Option<String>,
    /// Fixed `source` (else the event's).
    pub source: Option<String>,
    /// Fixed `sourcetype` (else the event's).
    pub sourcetype: Option<String>,
    /// Fixed `index` (else the event's).
    pub index: Option<String>,
}

/// Renders scored events; the field names are JSON-encoded once.
#[derive(Debug, Clone)]
pub struct Renderer {
    fields: OutputFields,
    keys: [Vec<u8>; 7],
    model_id: String,
    model_value: Vec<u8>,
    envelope: Option<Envelope>,
}

fn json_str(s: &str) -> Vec<u8> {
    serde_json::to_vec(s).expect("a string serializes")
}

impl Renderer {
    /// A renderer for `model_id`; `envelope` wraps each event for HEC.
    pub fn new(fields: OutputFields, model_id: &str, envelope: Option<Envelope>) -> Self {
        let keys = fields.all().map(|k| {
            let mut v = json_str(k);
            v.push(b':');
            v
        });
        Renderer {
            keys,
            model_value: json_str(model_id),
            model_id: model_id.to_string(),
            fields,
            envelope,
        }
    }

    /// The output field names.
    pub fn fields(&self) -> &OutputFields {
        &self.fields
    }

    /// Append the verdict's fields; returns where the flag digit went (if any).
    fn append_fields(
        &self,
        out: &mut Vec<u8>,
        verdict: &Verdict<'_>,
        mut first: bool,
    ) -> Option<usize> {
        let mut flag_at = None;
        let mut key = |out: &mut Vec<u8>, i: usize| {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(&self.keys[i]);
        };
        match verdict {
            Verdict::Scored {
                score,
                flag,
                reasons,
                missing,
            } => {
                key(out, 0);
                serde_json::to_writer(&mut *out, score).expect("vec write");
                key(out, 1);
                flag_at = Some(out.len());
                out.push(b'0' + flag);
                key(out, 2);
                out.extend_from_slice(&self.model_value);
                if let Some(r) = reasons {
                    key(out, 3);
                    out.extend_from_slice(&json_str(r));
                }
                if !missing.is_empty() {
                    key(out, 5);
                    out.extend_from_slice(&json_str(&missing.join(",")));
                }
            }
            Verdict::Error(e) => {
                key(out, 4);
                out.extend_from_slice(&json_str(e));
                key(out, 2);
                out.extend_from_slice(&self.model_value);
            }
        }
        flag_at
    }

    /// Add `verdict`'s fields to the parsed event `m`; fields it already has
    /// under those names are replaced in place. Used for collisions here and
    /// by the scoring service, which works on parsed events.
    pub fn insert_fields(&self, m: &mut Map<String, Value>, verdict: &Verdict<'_>) {
        let f = &self.fields;
        match verdict {
            Verdict::Scored {
                score,
                flag,
                reasons,
                missing,
            } => {
                // The run owns these: a scored event has no error, and drift is marked later.
                m.remove(&f.error);
                m.remove(&f.drift);
                m.insert(f.score.clone(), serde_json::json!(score));
                m.insert(f.flag.clone(), Value::from(*flag));
                m.insert(f.model.clone(), self.model_id.clone().into());
                if let Some(r) = reasons {
                    m.insert(f.reasons.clone(), r.clone().into());
                }
                if !missing.is_empty() {
                    m.insert(f.missing.clone(), missing.join(",").into());
                }
            }
            Verdict::Error(e) => {
                m.remove(&f.drift);
                m.insert(f.error.clone(), e.clone().into());
                m.insert(f.model.clone(), self.model_id.clone().into());
            }
        }
    }

    /// Render the event `object` (a JSON object's text) with `verdict`, and a
    /// newline. `collides`: it already has some of the scorer's fields, which
    /// are then replaced in place (parsed and re-serialized) rather than repeated.
    /// Returns where a scored event can be marked later.
    pub fn event(
        &self,
        out: &mut Vec<u8>,
        object: &str,
        empty: bool,
        collides: bool,
        verdict: &Verdict<'_>,
        meta: Option<(&LineBatch, usize)>,
    ) -> Mark {
        let start = out.len();
        self.open_envelope(out, meta);
        let flag_at = if collides {
            let mut m: Map<String, Value> =
                serde_json::from_str(object).expect("the extractor validated this object");
            self.insert_fields(&mut m, verdict);
            let at = out.len();
            serde_json::to_writer(&mut *out, &m).expect("vec write");
            // Compact serde output: a key follows `{` or `,`, and a quote
            // inside a string is escaped, so this finds the key itself.
            let key = &self.keys[1];
            out[at..]
                .windows(key.len() + 1)
                .position(|w| (w[0] == b'{' || w[0] == b',') && &w[1..] == key.as_slice())
                .map(|p| at + p + 1 + key.len())
                .filter(|p| matches!(out.get(*p), Some(b'0' | b'1')))
        } else {
            let close = object.rfind('}').expect("an object ends with }");
            out.extend_from_slice(&object.as_bytes()[..close]);
            let f = self.append_fields(out, verdict, empty);
            out.push(b'}');
            f
        };
        let close = out.len() - 1 - start;
        self.close_envelope(out);
        match (verdict, flag_at) {
            (Verdict::Scored { .. }, Some(f)) => Mark {
                close: close as u32,
                flag: (f - start) as u32,
            },
            _ => Mark::NONE,
        }
    }

    /// Render an unreadable line: `_raw` (lossy UTF-8, when there is text) and `risk_error`.
    pub fn unreadable(&self, out: &mut Vec<u8>, raw: &[u8], error: &str) {
        self.open_envelope(out, None);
        out.push(b'{');
        let mut first = true;
        let raw = String::from_utf8_lossy(raw);
        let raw = raw.trim_end_matches(['\r', '\n']);
        if !raw.is_empty() {
            out.extend_from_slice(b"\"_raw\":");
            out.extend_from_slice(&json_str(raw));
            first = false;
        }
        let _ = self.append_fields(out, &Verdict::Error(error.to_string()), first);
        out.push(b'}');
        self.close_envelope(out);
    }

    fn open_envelope(&self, out: &mut Vec<u8>, meta: Option<(&LineBatch, usize)>) {
        let Some(env) = &self.envelope else { return };
        out.push(b'{');
        let read = |m: Meta| meta.map(|(b, row)| b.meta(row, m));
        if let Some(t) = read(Meta::Time).and_then(|f| scorer_core::schema::epoch_time(f.first)) {
            out.extend_from_slice(b"\"time\":");
            // Milliseconds, as Splunk keeps them.
            out.extend_from_slice(format!("{:.3}", t).as_bytes());
            out.push(b',');
        }
        for (name, fixed, m) in [
            ("host", &env.host, Meta::Host),
            ("source", &env.source, Meta::Source),
            ("sourcetype", &env.sourcetype, Meta::Sourcetype),
            ("index", &env.index, Meta::Index),
        ] {
            let value = match fixed {
                Some(v) => Some(v.clone()),
                None => read(m).and_then(|f| match f.first {
                    scorer_core::Value::Text(t) => Some(t.to_string()),
                    scorer_core::Value::Number(x) => Some(x.to_string()),
                    _ => None,
                }),
            };
            if let Some(v) = value {
                out.push(b'"');
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"\":");
                out.extend_from_slice(&json_str(&v));
                out.push(b',');
            }
        }
        out.extend_from_slice(b"\"event\":");
    }

    /// A side event (a drift summary) as this renderer's output renders
    /// events: a JSON line, or a HEC envelope with `sourcetype` and the
    /// fixed `index`/`host` when set.
    pub fn side_event(&self, out: &mut Vec<u8>, sourcetype: &str, time: f64, event: &Value) {
        match &self.envelope {
            None => {
                let mut e = event.clone();
                if let Value::Object(m) = &mut e {
                    m.insert("sourcetype".into(), sourcetype.into());
                    m.insert("_time".into(), serde_json::json!(time));
                }
                serde_json::to_writer(&mut *out, &e).expect("vec write");
            }
            Some(env) => {
                let mut m = Map::new();
                m.insert("time".into(), serde_json::json!((time * 1e3).round() / 1e3));
                m.insert("sourcetype".into(), sourcetype.into());
                m.insert("source".into(), "siem-adapter".into());
                if let Some(h) = &env.host {
                    m.insert("host".into(), h.clone().into());
                }
                if let Some(i) = &env.index {
                    m.insert("index".into(), i.clone().into());
                }
                m.insert("event".into(), event.clone());
                serde_json::to_writer(&mut *out, &m).expect("vec write");
            }
        }
        out.push(b'\n');
    }

    fn close_envelope(&self, out: &mut Vec<u8>) {
        if self.envelope.is_some() {
            out.push(b'}');
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored() -> Verdict<'static> {
        Verdict::Scored {
            score: 0.25,
            flag: 1,
            reasons: None,
            missing: vec!["user"],
        }
    }

    #[test]
    fn splices_without_touching_original_bytes() {
        let r = Renderer::new(OutputFields::default(), "m@1", None);
        let mut out = Vec::new();
        let line = r#"{"b": "x\u00e9",  "a":1.50}"#;
        r.event(&mut out, line, false, false, &scored(), None);
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with(r#"{"b": "x\u00e9",  "a":1.50,"model_output_risk_score":0.25,"anomaly_flag":1,"risk_model":"m@1","risk_missing_fields":"user"}"#));
        let mut out = Vec::new();
        r.event(&mut out, "{ }", true, false, &scored(), None);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["anomaly_flag"], 1);
    }

    #[test]
    fn collisions_replace_in_place() {
        let r = Renderer::new(OutputFields::default(), "m@1", None);
        let mut out = Vec::new();
        r.event(
            &mut out,
            r#"{"anomaly_flag":0,"x":1}"#,
            false,
            true,
            &scored(),
            None,
        );
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.matches("anomaly_flag").count(), 1);
        assert!(s.starts_with(r#"{"anomaly_flag":1,"x":1,"#));
    }

    #[test]
    fn unreadable_lines_keep_their_text() {
        let r = Renderer::new(OutputFields::default(), "m@1", None);
        let mut out = Vec::new();
        r.unreadable(&mut out, b"{\"a\":\xff\n", "line 3: not UTF-8");
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["_raw"], "{\"a\":\u{fffd}");
        assert_eq!(v["risk_error"], "line 3: not UTF-8");
    }
}
