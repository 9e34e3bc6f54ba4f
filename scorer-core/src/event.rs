//! Reading raw event fields without copying.
//!
//! An [`Event`] answers "what is in field `name`?" with a [`Field`]: the first
//! value and the number of values (Splunk fields can be multivalue). JSON
//! objects, CSV rows, the wasm columnar buffer and JS objects all implement it
//! over their own storage, so featurization never copies an event.

use std::collections::{BTreeMap, HashMap};

/// One scalar value of a field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// The field is absent (or JSON `null`).
    Missing,
    /// A number (JSON number; the wasm ABI's f64 column).
    Number(f64),
    /// A string, as Splunk hands out most values.
    Text(&'a str),
    /// A JSON boolean.
    Bool(bool),
    /// Text whose number reading is already known: `parse_number(text)`.
    /// The wasm host sends numeric text this way (the wire's "numbers as
    /// f64"), parsed with [`parse_number`] — the function the numeric
    /// transforms use — so the guest need not parse it again; every
    /// transform that reads text still sees the exact text.
    NumericText(&'a str, f64),
}

/// How every numeric transform reads text: trimmed, then Rust's correctly
/// rounded `f64` parse (NaN and ±inf included; callers reject them).
pub fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok()
}

/// A field as seen by the featurizer: its first value and how many values it has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field<'a> {
    /// The first value (`Missing` when there is none).
    pub first: Value<'a>,
    /// Number of values: 0 when missing, 1 for a scalar, n for a multivalue field.
    pub count: usize,
}

impl<'a> Field<'a> {
    /// The absent field.
    pub const MISSING: Field<'static> = Field {
        first: Value::Missing,
        count: 0,
    };

    /// A single-valued field.
    #[inline]
    pub fn one(value: Value<'a>) -> Self {
        match value {
            Value::Missing => Field {
                first: Value::Missing,
                count: 0,
            },
            v => Field { first: v, count: 1 },
        }
    }

    /// A string field; Splunk's CSV convention of newline-separated multivalue
    /// cells is honoured (`"a\nb"` is two values, `a` first). An empty string
    /// is a missing field, as an empty cell is in Splunk.
    pub fn from_text(text: &'a str) -> Self {
        if text.is_empty() {
            return Field::MISSING;
        }
        match text.find('\n') {
            None => Field::one(Value::Text(text)),
            Some(i) => Field {
                first: Value::Text(&text[..i]),
                count: text.split('\n').count(),
            },
        }
    }
}

/// Anything that can hand out fields by Splunk field name (case-sensitive;
/// `_time` and dotted names are ordinary names).
pub trait Event {
    /// The field called `name`, or [`Field::MISSING`].
    fn field(&self, name: &str) -> Field<'_>;
}

fn json_scalar(v: &serde_json::Value) -> Value<'_> {
    match v {
        serde_json::Value::Null => Value::Missing,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n.as_f64().map_or(Value::Missing, Value::Number),
        serde_json::Value::String(s) => Value::Text(s),
        // Nested objects have no scalar reading.
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => Value::Missing,
    }
}

/// Reads a JSON value as a field: arrays are multivalue fields.
pub fn json_field(v: &serde_json::Value) -> Field<'_> {
    match v {
        serde_json::Value::Array(items) => Field {
            first: items.first().map_or(Value::Missing, json_scalar),
            count: items.len(),
        },
        // A JSON string is one value (multivalue fields are arrays in JSON).
        serde_json::Value::String(s) if s.is_empty() => Field::MISSING,
        other => Field::one(json_scalar(other)),
    }
}

impl Event for serde_json::Map<String, serde_json::Value> {
    fn field(&self, name: &str) -> Field<'_> {
        self.get(name).map_or(Field::MISSING, json_field)
    }
}

impl Event for serde_json::Value {
    fn field(&self, name: &str) -> Field<'_> {
        match self {
            serde_json::Value::Object(map) => map.field(name),
            _ => Field::MISSING,
        }
    }
}

impl<S: AsRef<str>> Event for HashMap<String, S> {
    fn field(&self, name: &str) -> Field<'_> {
        self.get(name)
            .map_or(Field::MISSING, |s| Field::from_text(s.as_ref()))
    }
}

impl<S: AsRef<str>> Event for BTreeMap<String, S> {
    fn field(&self, name: &str) -> Field<'_> {
        self.get(name)
            .map_or(Field::MISSING, |s| Field::from_text(s.as_ref()))
    }
}

impl<E: Event + ?Sized> Event for &E {
    fn field(&self, name: &str) -> Field<'_> {
        (**self).field(name)
    }
}

/// An event given as `(name, value)` string pairs (handy in tests and for CSV rows).
impl Event for [(&str, &str)] {
    fn field(&self, name: &str) -> Field<'_> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map_or(Field::MISSING, |(_, v)| Field::from_text(v))
    }
}

impl<const N: usize> Event for [(&str, &str); N] {
    fn field(&self, name: &str) -> Field<'_> {
        self.as_slice().field(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_and_multivalue() {
        let v: serde_json::Value =
            serde_json::json!({"a": 3, "b": ["x", "y"], "c": null, "d": "t"});
        assert_eq!(v.field("a").first, Value::Number(3.0));
        assert_eq!(v.field("b").count, 2);
        assert_eq!(v.field("b").first, Value::Text("x"));
        assert_eq!(v.field("c"), Field::MISSING);
        assert_eq!(v.field("zz"), Field::MISSING);
        assert_eq!(v.field("d").first, Value::Text("t"));
    }

    #[test]
    fn csv_multivalue_cells_split_on_newline() {
        let f = Field::from_text("a\nb\nc");
        assert_eq!(f.count, 3);
        assert_eq!(f.first, Value::Text("a"));
        let row = [("user", "alice"), ("_time", "1700000000")];
        assert_eq!(row.field("user").first, Value::Text("alice"));
        assert_eq!(row.field("nope").count, 0);
    }
}
