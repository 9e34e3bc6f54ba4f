//! The wasm engine's wire batch, built apart from the call into the guest.
//!
//! [`Engine::score_batch`](super::Engine::score_batch) encodes a batch and
//! scores it in one go. A host with two threads (the Splunk command) can
//! instead encode window k + 1 on one thread while the other scores window
//! k: [`Engine::encoder`](super::Engine::encoder) makes an [`Encoder`] for the
//! loaded model, [`Encoder::encode`] fills it, and
//! [`Engine::score_encoded`](super::Engine::score_encoded) scores what it
//! holds. The bytes are the same either way, so are the results.

use scorer_core::schema::Transform;
use scorer_wasm::wire::BatchWriter;

use super::{Description, EventBatch};

/// A batch of events in the wasm engine's columnar wire format, for one
/// model. The native engine reads events directly: its encoder is inert.
#[derive(Debug, Default)]
pub struct Encoder {
    /// `Some(model id)` for the wasm engine; `None`: inert (native).
    model: Option<String>,
    /// Per model field: read only by numeric or calendar transforms, so
    /// parseable text can travel as a bare f64 (they read it identically).
    numeric_only: Vec<bool>,
    /// Per model field: read by no transform that reads a number from text,
    /// so its text travels unparsed (see [`BatchWriter::set_text_only`]).
    text_only: Vec<bool>,
    pub(super) writer: BatchWriter,
    /// Events encoded.
    rows: usize,
}

impl Encoder {
    /// An encoder for the wasm engine's model `desc`.
    pub(super) fn for_model(desc: &Description) -> Encoder {
        Encoder {
            model: Some(desc.id.clone()),
            numeric_only: numeric_only(desc),
            text_only: text_only(desc),
            ..Encoder::default()
        }
    }

    /// An encoder that does nothing (the native engine's).
    pub(super) fn inert() -> Encoder {
        Encoder::default()
    }

    /// The model this encoder encodes for (`None`: inert).
    pub(super) fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// Events in the last [`Encoder::encode`].
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Encode `events` (the model's fields, in order), replacing what the
    /// encoder held. Event by event (each event stays hot in cache), field by
    /// field.
    pub fn encode(&mut self, events: &dyn EventBatch) {
        self.rows = events.len();
        if self.model.is_none() {
            return;
        }
        let n_fields = self.numeric_only.len();
        self.writer.reset(events.len(), n_fields);
        for r in 0..events.len() {
            for c in 0..n_fields {
                let mut f = events.field(r, c);
                if f.count == 0 {
                    continue;
                }
                if let (true, scorer_core::Value::Text(t)) = (self.numeric_only[c], f.first) {
                    if let Some(x) = scorer_core::parse_number(t) {
                        f.first = scorer_core::Value::Number(x);
                    }
                }
                if self.text_only[c] {
                    self.writer.set_text_only(c, r, f);
                } else {
                    self.writer.set(c, r, f);
                }
            }
        }
    }
}

/// Whether a transform reads a number out of text (the calendar ones: epoch
/// seconds as text). Every variant is named, so a new one must be decided.
fn reads_numbers(t: &Transform) -> bool {
    match t {
        Transform::Number { .. }
        | Transform::Log1p { .. }
        | Transform::Standardize { .. }
        | Transform::HourOfDay { .. }
        | Transform::DayOfWeek { .. } => true,
        Transform::Boolean { .. }
        | Transform::OneHot { .. }
        | Transform::HashBucket { .. }
        | Transform::IpClass
        | Transform::StringLength { .. }
        | Transform::ValueCount => false,
    }
}

/// Per model field: whether every feature reading it has a transform for
/// which `pred` holds.
fn every_reader(desc: &Description, pred: impl Fn(&Transform) -> bool) -> Vec<bool> {
    desc.fields
        .iter()
        .map(|f| {
            desc.features
                .iter()
                .filter(|s| &s.field == f)
                .all(|s| pred(&s.transform))
        })
        .collect()
}

fn text_only(desc: &Description) -> Vec<bool> {
    every_reader(desc, |t| !reads_numbers(t))
}

fn numeric_only(desc: &Description) -> Vec<bool> {
    // Transforms that read numeric text exactly as its number (the calendar
    // ones take epoch seconds as either).
    every_reader(desc, |t| {
        matches!(
            t,
            Transform::Number { .. }
                | Transform::Log1p { .. }
                | Transform::Standardize { .. }
                | Transform::ValueCount
                | Transform::HourOfDay { .. }
                | Transform::DayOfWeek { .. }
        )
    })
}
