//! Reading only what the model needs out of raw JSON lines — shared by the
//! adapter (`siem-adapter score`) and the browser's `scoreLines`, so both read
//! every line, good or bad, the same way.
//!
//! The hot path never builds a JSON tree. Each line is walked once
//! by serde_json (which still validates all of it): the model's fields and
//! the few fields the write-back needs (`_time`, `host`, `source`,
//! `sourcetype`, `index`) are copied into one reused, columnar [`LineBatch`];
//! every other value is skipped. The scored line is then the original bytes
//! with the new fields spliced in before its closing brace (the hosts'
//! renderers), so original fields stay exactly as they came.
//!
//! Readings match [`crate::json_field`] on a parsed object value for
//! value: strings are single values (an empty one is missing), arrays are
//! multivalue fields (first scalar, count), nested objects and `null` are
//! missing; a key given twice keeps its last value, as `JSON.parse` does in
//! the browser.

use std::borrow::Cow;
use std::fmt;

use crate::{Field, Value};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Write-back metadata read from each event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Meta {
    /// `_time`.
    Time = 0,
    /// `host`.
    Host,
    /// `source`.
    Source,
    /// `sourcetype`.
    Sourcetype,
    /// `index`.
    Index,
}

/// Number of [`Meta`] fields.
pub const META: usize = 5;
const META_NAMES: [&str; META] = ["_time", "host", "source", "sourcetype", "index"];

#[derive(Debug, Clone, Copy, Default)]
struct Target {
    col: Option<u32>,
    meta: Option<u8>,
    /// The event already has a field the scorer writes.
    collides: bool,
}

/// Which keys matter, built once per model.
#[derive(Debug, Clone)]
pub struct FieldPlan {
    /// Keyed with FxHash: key lookups are the extractor's hottest step and
    /// the keys are the model's own field names (no untrusted-key flooding risk
    /// worth SipHash's cost: an event's other keys only ever miss).
    targets: rustc_hash::FxHashMap<String, Target>,
    n_cols: usize,
}

impl FieldPlan {
    /// Plan for a model reading `fields`, writing `outputs`.
    pub fn new(fields: &[String], outputs: &[&str]) -> Self {
        let mut targets: rustc_hash::FxHashMap<String, Target> = Default::default();
        for (i, f) in fields.iter().enumerate() {
            targets.entry(f.clone()).or_default().col = Some(i as u32);
        }
        for (i, m) in META_NAMES.iter().enumerate() {
            targets.entry((*m).to_string()).or_default().meta = Some(i as u8);
        }
        for o in outputs {
            targets.entry((*o).to_string()).or_default().collides = true;
        }
        FieldPlan {
            targets,
            n_cols: fields.len(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// 0 missing, 1 number, 2 text, 3 bool.
    kind: u8,
    flag: bool,
    count: u32,
    num: f64,
    start: u32,
    len: u32,
}

/// How one line was read.
#[derive(Debug, Clone, PartialEq)]
pub enum LineKind {
    /// An event: its bytes are `span` of the line; `row` in the batch.
    Event {
        /// Row in the [`LineBatch`].
        row: usize,
        /// The event object's byte range in the line (the whole line, or the
        /// `result` of a Splunk export-stream row).
        span: (usize, usize),
        /// The object has no keys.
        empty: bool,
        /// It already has a field the scorer writes (rendered the slow way).
        collides: bool,
    },
    /// Not an event (export-stream preview rows, messages, `lastrow` markers).
    Skip,
    /// A Splunk results document (`{"results":[...]}`): its events, each
    /// re-serialized, to be read as lines of their own.
    Expand(Vec<String>),
    /// Unreadable.
    Bad(String),
}

/// Events read from lines, column by column: the model's fields and the
/// write-back metadata. Reused batch after batch without reallocating.
#[derive(Debug, Default)]
pub struct LineBatch {
    n_cols: usize,
    slots: Vec<Slot>,
    meta: Vec<Slot>,
    text: String,
    rows: usize,
}

impl LineBatch {
    /// Empty the batch for a model of `plan`.
    pub fn clear(&mut self, plan: &FieldPlan) {
        self.n_cols = plan.n_cols;
        self.slots.clear();
        self.meta.clear();
        self.text.clear();
        self.rows = 0;
    }

    fn field_of(&self, s: &Slot) -> Field<'_> {
        let text = || &self.text[s.start as usize..(s.start + s.len) as usize];
        let first = match s.kind {
            1 => Value::Number(s.num),
            2 => Value::Text(text()),
            3 => Value::Bool(s.flag),
            _ => Value::Missing,
        };
        Field {
            first,
            count: s.count as usize,
        }
    }

    /// Write-back field `m` of `row`.
    pub fn meta(&self, row: usize, m: Meta) -> Field<'_> {
        self.field_of(&self.meta[row * META + m as usize])
    }

    /// Read one line (bytes, possibly not UTF-8) into the batch.
    pub fn read_line(&mut self, plan: &FieldPlan, line: &[u8]) -> LineKind {
        let text = match std::str::from_utf8(line) {
            Ok(t) => t,
            Err(e) => return LineKind::Bad(format!("line is not UTF-8: {e}")),
        };
        let start = text.len() - text.trim_start().len();
        let body = text.trim();
        if !body.starts_with('{') {
            return match serde_json::from_str::<IgnoredAny>(body) {
                Ok(_) => LineKind::Bad(format!("not a JSON object: {}", preview(body))),
                Err(e) => LineKind::Bad(format!("malformed JSON: {e}")),
            };
        }
        let row = self.rows;
        self.slots.resize((row + 1) * self.n_cols, Slot::default());
        self.meta.resize((row + 1) * META, Slot::default());
        let mark = self.text.len();
        let mut de = serde_json::Deserializer::from_str(body);
        let top = TopSeed {
            plan,
            batch: self,
            row,
        };
        let outcome = top.deserialize(&mut de).and_then(|o| de.end().map(|_| o));
        let kind = match outcome {
            Ok(Top::Event { empty, collides }) => {
                self.rows += 1;
                return LineKind::Event {
                    row,
                    span: (start, start + body.len()),
                    empty,
                    collides,
                };
            }
            Ok(Top::Wrapped {
                preview: Some(true),
                ..
            }) => LineKind::Skip,
            Ok(Top::Wrapped { result, .. }) => {
                // Read the export row's `result` as the event.
                let off = result.as_ptr() as usize - body.as_ptr() as usize;
                let len = result.len();
                self.text.truncate(mark);
                self.reset_row(row);
                return match self.read_line(plan, &body.as_bytes()[off..off + len]) {
                    LineKind::Event {
                        row,
                        span,
                        empty,
                        collides,
                    } => LineKind::Event {
                        row,
                        span: (start + off + span.0, start + off + span.1),
                        empty,
                        collides,
                    },
                    other => other,
                };
            }
            Ok(Top::Results) => match serde_json::from_str::<ResultsDoc>(body) {
                Ok(doc) => {
                    LineKind::Expand(doc.results.iter().map(|r| r.get().to_string()).collect())
                }
                Err(e) => LineKind::Bad(format!("malformed results document: {e}")),
            },
            Ok(Top::NotEvent) => LineKind::Skip,
            Err(e) => LineKind::Bad(format!("malformed JSON: {e}")),
        };
        self.text.truncate(mark);
        self.reset_row(row);
        kind
    }

    fn reset_row(&mut self, row: usize) {
        self.slots.truncate(row * self.n_cols);
        self.meta.truncate(row * META);
    }
}

fn preview(s: &str) -> String {
    let mut p: String = s.chars().take(40).collect();
    if p.len() < s.len() {
        p.push('…');
    }
    p
}

#[derive(serde::Deserialize)]
struct ResultsDoc<'a> {
    #[serde(borrow)]
    results: Vec<&'a RawValue>,
}

impl LineBatch {
    /// Events read so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when no event has been read.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Model field `col` (in the plan's field order) of event `row`.
    pub fn field(&self, row: usize, col: usize) -> Field<'_> {
        self.field_of(&self.slots[row * self.n_cols + col])
    }
}

enum Top<'de> {
    Event {
        empty: bool,
        collides: bool,
    },
    Wrapped {
        result: &'de str,
        preview: Option<bool>,
    },
    Results,
    NotEvent,
}

struct TopSeed<'p, 'b> {
    plan: &'p FieldPlan,
    batch: &'b mut LineBatch,
    row: usize,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = Top<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Top<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut keys = 0usize;
        let mut collides = false;
        let mut result: Option<&'de str> = None;
        let mut preview = None;
        let (mut results, mut lastrow, mut messages) = (false, false, false);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            keys += 1;
            let target = self.plan.targets.get(key.as_ref()).copied();
            let special = matches!(key.as_ref(), "result" | "preview" | "results");
            match key.as_ref() {
                "lastrow" => lastrow = true,
                "messages" => messages = true,
                _ => {}
            }
            let Some(t) = target.filter(|t| t.col.is_some() || t.meta.is_some()) else {
                collides |= target.is_some_and(|t| t.collides);
                if special {
                    let raw: &'de RawValue = map.next_value()?;
                    note_special(&key, raw, &mut result, &mut preview, &mut results);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
                continue;
            };
            collides |= t.collides;
            let slot = if special {
                let raw: &'de RawValue = map.next_value()?;
                note_special(&key, raw, &mut result, &mut preview, &mut results);
                let mut de = serde_json::Deserializer::from_str(raw.get());
                SlotSeed {
                    text: &mut self.batch.text,
                    top: true,
                }
                .deserialize(&mut de)
                .map_err(serde::de::Error::custom)?
            } else {
                map.next_value_seed(SlotSeed {
                    text: &mut self.batch.text,
                    top: true,
                })?
            };
            if let Some(c) = t.col {
                self.batch.slots[self.row * self.batch.n_cols + c as usize] = slot;
            }
            if let Some(m) = t.meta {
                self.batch.meta[self.row * META + m as usize] = slot;
            }
        }
        Ok(if let Some(result) = result {
            Top::Wrapped { result, preview }
        } else if results {
            Top::Results
        } else if lastrow || (preview.is_some() && messages) {
            Top::NotEvent
        } else {
            Top::Event {
                empty: keys == 0,
                collides,
            }
        })
    }
}

/// Splunk's export-stream and results-document keys.
fn note_special<'de>(
    key: &str,
    raw: &'de RawValue,
    result: &mut Option<&'de str>,
    preview: &mut Option<bool>,
    results: &mut bool,
) {
    let v = raw.get();
    match key {
        "result" if v.starts_with('{') => *result = Some(v),
        "preview" => *preview = v.parse::<bool>().ok(),
        "results" if v.starts_with('[') => *results = true,
        _ => {}
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// Reads one value into a slot; `top` = the field's own value (an empty
/// string there is a missing field), else the first item of an array.
struct SlotSeed<'t> {
    text: &'t mut String,
    top: bool,
}

impl<'de> DeserializeSeed<'de> for SlotSeed<'_> {
    type Value = Slot;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Slot, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SlotSeed<'_> {
    type Value = Slot;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Slot, E> {
        Ok(Slot {
            kind: 3,
            flag: v,
            count: 1,
            ..Slot::default()
        })
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Slot, E> {
        self.visit_f64(v as f64)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Slot, E> {
        self.visit_f64(v as f64)
    }
    fn visit_f64<E>(self, v: f64) -> Result<Slot, E> {
        Ok(Slot {
            kind: 1,
            count: 1,
            num: v,
            ..Slot::default()
        })
    }
    fn visit_str<E>(self, v: &str) -> Result<Slot, E> {
        if v.is_empty() && self.top {
            return Ok(Slot::default());
        }
        let start = self.text.len() as u32;
        self.text.push_str(v);
        Ok(Slot {
            kind: 2,
            count: 1,
            start,
            len: v.len() as u32,
            ..Slot::default()
        })
    }
    fn visit_unit<E>(self) -> Result<Slot, E> {
        Ok(Slot::default())
    }
    fn visit_none<E>(self) -> Result<Slot, E> {
        Ok(Slot::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Slot, A::Error> {
        if !self.top {
            // Arrays inside arrays have no scalar reading.
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Slot::default());
        }
        let mut first = match seq.next_element_seed(SlotSeed {
            text: self.text,
            top: false,
        })? {
            None => return Ok(Slot::default()),
            Some(s) => s,
        };
        let mut n = 1u32;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        first.count = n;
        Ok(first)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slot, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Slot::default())
    }
}

#[cfg(test)]
mod tests;
