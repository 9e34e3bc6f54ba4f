//! A scoring request's body in, the scored body out: one JSON object, a JSON
//! array of objects, or JSON lines — answered in the same shape, every event
//! in its place, with the fields `siem-adapter score` attaches
//! ([`Renderer::insert_fields`]).
//!
//! Shape: `Content-Type: application/x-ndjson` (or `application/jsonl`,
//! `application/json-lines`) means JSON lines; `application/json` (or any
//! `+json` type) means one document, an object or an array. Any other type,
//! or none (curl's `-d` sends a form type), is detected: a body that is one
//! JSON object or array is that; else, if its first line is a JSON object, it
//! is JSON lines; else it is malformed (400).
//!
//! Inside a well-formed body, an element or line that is not an event is not
//! dropped: it comes out with `risk_error` (`line 3: malformed JSON: …`,
//! `element 2: not a JSON object but a number`) and its text in `_raw`, as
//! `score` writes an unreadable line. Blank lines are skipped. Events are
//! parsed and re-serialized, so key order is kept but number spellings are
//! normalised (`1.50` comes back as `1.5`).

use serde_json::{Map, Value};

use crate::engine::{BatchResult, Engine};
use crate::render::{Renderer, Verdict};
use crate::sources::kind;

/// The shape of a body (and of its answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One JSON object.
    Object,
    /// A JSON array.
    Array,
    /// JSON lines.
    Lines,
}

impl Shape {
    /// The answer's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Shape::Lines => "application/x-ndjson",
            Shape::Object | Shape::Array => "application/json",
        }
    }
}

/// One element of a body: an event, or what it was and why it is not one.
#[derive(Debug)]
pub enum Item {
    /// A JSON object.
    Event(Map<String, Value>),
    /// Not an event: its text (`_raw`) and the error.
    Bad {
        /// The element's text.
        raw: String,
        /// Why, with its position (`line N: …`, `element N: …`).
        error: String,
    },
}

/// A parsed body.
#[derive(Debug)]
pub struct Parsed {
    /// Its shape.
    pub shape: Shape,
    /// Its elements, in order.
    pub items: Vec<Item>,
}

/// What happened to a request's events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Events scored.
    pub scored: u64,
    /// Of them, flagged.
    pub flagged: u64,
    /// Elements answered with `risk_error`.
    pub errored: u64,
}

/// A scored request, before it is rendered (drift marks come in between).
#[derive(Debug)]
pub struct Scored {
    /// The events with their score fields, in order.
    pub events: Vec<Map<String, Value>>,
    /// The body's shape.
    pub shape: Shape,
    /// Counts.
    pub counts: Counts,
    /// Risk scores of the scored events.
    pub scores: Vec<f32>,
    /// The request's drift counts (when the model's drift is measured).
    pub drift: Option<scorer_core::drift::DriftCounts>,
}

impl Scored {
    /// The answer's bytes, in the request's shape.
    pub fn body(&self) -> Vec<u8> {
        render(self.shape, &self.events)
    }
}

/// The media type of a `Content-Type` value, lowercased, without parameters.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Parse `body` according to `content_type`; Err is a message for a 400.
pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<Parsed, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("empty body: send a JSON object, an array of objects, or JSON lines".into());
    }
    let mime = content_type.map(essence).unwrap_or_default();
    match mime.as_str() {
        "application/x-ndjson"
        | "application/ndjson"
        | "application/jsonl"
        | "application/x-jsonl"
        | "application/json-lines"
        | "application/jsonlines"
        | "application/x-jsonlines" => Ok(lines(body)),
        m if m == "application/json" || m.ends_with("+json") => document(body),
        _ => detect(body),
    }
}

fn document(body: &[u8]) -> Result<Parsed, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(Parsed {
            shape: Shape::Object,
            items: vec![Item::Event(m)],
        }),
        Ok(Value::Array(a)) => Ok(Parsed {
            shape: Shape::Array,
            items: a.into_iter().enumerate().map(element).collect(),
        }),
        Ok(other) => Err(format!(
            "expected a JSON object or an array of objects, got {}",
            kind(&other)
        )),
        Err(e) => Err(format!("malformed JSON: {e}")),
    }
}

fn element((i, v): (usize, Value)) -> Item {
    match v {
        Value::Object(m) => Item::Event(m),
        other => Item::Bad {
            raw: other.to_string(),
            error: format!("element {}: not a JSON object but {}", i + 1, kind(&other)),
        },
    }
}

fn lines(body: &[u8]) -> Parsed {
    let mut items = Vec::new();
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        items.push(match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(m)) => Item::Event(m),
            Ok(other) => Item::Bad {
                raw: String::from_utf8_lossy(line).into_owned(),
                error: format!("line {n}: not a JSON object but {}", kind(&other)),
            },
            Err(e) => Item::Bad {
                raw: String::from_utf8_lossy(line).into_owned(),
                error: format!("line {n}: malformed JSON: {e}"),
            },
        });
    }
    Parsed {
        shape: Shape::Lines,
        items,
    }
}

fn detect(body: &[u8]) -> Result<Parsed, String> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => document(body),
        Some(b'{') => {
            if let Ok(parsed) = document(body) {
                return Ok(parsed);
            }
            let first = body
                .split(|&b| b == b'\n')
                .map(<[u8]>::trim_ascii)
                .find(|l| !l.is_empty())
                .unwrap_or_default();
            match serde_json::from_slice::<Value>(first) {
                Ok(Value::Object(_)) => Ok(lines(body)),
                Ok(_) => Err(
                    "malformed JSON: expected a JSON object, an array of objects, or JSON lines"
                        .into(),
                ),
                Err(e) => Err(format!("malformed JSON: {e}")),
            }
        }
        _ => Err("expected a JSON object, an array of objects, or JSON lines".into()),
    }
}

/// Score every event of `parsed` with one engine call. A batch the engine
/// refuses gives every event `risk_error` (as `score` does). With `drift`,
/// the engine's drift counts of the request are taken.
pub fn score(
    parsed: Parsed,
    engine: &mut Engine,
    renderer: &Renderer,
    explain: usize,
    drift: bool,
) -> Scored {
    let mut result = BatchResult::default();
    let failure = {
        let events: Vec<&Map<String, Value>> = parsed
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Event(m) => Some(m),
                Item::Bad { .. } => None,
            })
            .collect();
        if events.is_empty() {
            None
        } else {
            engine.score(&events, explain, &mut result).err()
        }
    };
    if let Some(e) = &failure {
        tracing::error!(error = %e, "request batch could not be scored");
    }
    let drift = if drift {
        engine.take_drift().unwrap_or_else(|e| {
            tracing::error!(error = %e, "drift counts of a request lost");
            None
        })
    } else {
        None
    };
    let mut scores = Vec::with_capacity(result.score.len());
    let features = &engine.describe().features;
    let mut counts = Counts::default();
    let mut out: Vec<Map<String, Value>> = Vec::with_capacity(parsed.items.len());
    let mut row = 0;
    for item in parsed.items {
        let (mut m, verdict) = match item {
            Item::Event(m) => {
                let v = match &failure {
                    Some(e) => Verdict::Error(format!("engine error: {e}")),
                    None => Verdict::of(&result, row, features, explain),
                };
                row += 1;
                (m, v)
            }
            Item::Bad { raw, error } => {
                let mut m = Map::new();
                if !raw.is_empty() {
                    m.insert("_raw".into(), raw.into());
                }
                (m, Verdict::Error(error))
            }
        };
        match &verdict {
            Verdict::Scored { flag, score, .. } => {
                counts.scored += 1;
                counts.flagged += u64::from(*flag);
                scores.push(*score as f32);
            }
            Verdict::Error(_) => counts.errored += 1,
        }
        renderer.insert_fields(&mut m, &verdict);
        out.push(m);
    }
    Scored {
        events: out,
        shape: parsed.shape,
        counts,
        scores,
        drift,
    }
}

fn render(shape: Shape, events: &[Map<String, Value>]) -> Vec<u8> {
    let mut body = Vec::with_capacity(events.len() * 512);
    let write = |body: &mut Vec<u8>, m: &Map<String, Value>| {
        serde_json::to_writer(body, m).expect("a map serializes");
    };
    match shape {
        Shape::Object => write(&mut body, &events[0]),
        Shape::Array => {
            body.push(b'[');
            for (i, m) in events.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                write(&mut body, m);
            }
            body.push(b']');
        }
        Shape::Lines => {
            for m in events {
                write(&mut body, m);
                body.push(b'\n');
            }
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(body: &str, ct: Option<&str>) -> Result<(Shape, usize, usize), String> {
        parse(body.as_bytes(), ct).map(|p| {
            let bad = p
                .items
                .iter()
                .filter(|i| matches!(i, Item::Bad { .. }))
                .count();
            (p.shape, p.items.len(), bad)
        })
    }

    #[test]
    fn shapes_by_content_type_and_detection() {
        let json = Some("application/json; charset=utf-8");
        let nd = Some("application/x-ndjson");
        assert_eq!(shape(r#"{"a":1}"#, json), Ok((Shape::Object, 1, 0)));
        assert_eq!(shape(r#"[{"a":1},2]"#, json), Ok((Shape::Array, 2, 1)));
        assert_eq!(
            shape("{\"a\":1}\n\n{\"a\":\n[]\n", nd),
            Ok((Shape::Lines, 3, 2))
        );
        assert_eq!(
            shape("{\"a\":1}\n{\"b\":2}\n", None),
            Ok((Shape::Lines, 2, 0))
        );
        assert_eq!(shape("{\"a\":1}\n{\"b\":", None), Ok((Shape::Lines, 2, 1)));
        assert_eq!(shape("{\n \"a\": 1\n}\n", None), Ok((Shape::Object, 1, 0)));
        assert_eq!(shape("[]", Some("text/plain")), Ok((Shape::Array, 0, 0)));
        assert!(shape("{\"a\":1}\n{\"b\":2}\n", json).is_err());
        assert!(shape("{\n \"a\": \n}\n", None).is_err());
        assert!(shape("[1,", None).is_err());
        assert!(shape("5", json).is_err());
        assert!(shape("hello", None).is_err());
        assert!(shape(" \n", nd).is_err());
    }

    #[test]
    fn bad_elements_say_where() {
        let p = parse(b"{\"a\":1}\n\n\"x\"\n", Some("application/x-ndjson")).unwrap();
        match &p.items[1] {
            Item::Bad { raw, error } => {
                assert_eq!(raw, "\"x\"");
                assert_eq!(error, "line 3: not a JSON object but a string");
            }
            other => panic!("{other:?}"),
        }
        let p = parse(b"[{}, null]", None).unwrap();
        assert!(
            matches!(&p.items[1], Item::Bad { error, .. } if error == "element 2: not a JSON object but null")
        );
    }
}
