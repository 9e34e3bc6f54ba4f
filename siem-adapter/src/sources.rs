//! Exported alert batches as an ordered stream of [`Record`]s.
//!
//! Formats (auto-detected from the first line, or chosen):
//! - `jsonl`: one JSON object per line;
//! - `splunk-json`: Splunk's export stream (REST `search/jobs/export` or CLI
//!   `-output json`), lines of `{"preview":false,"offset":N,"result":{...}}`
//!   (preview rows and lines without `result` are not events), or the results
//!   document `{"results":[...]}`;
//! - `csv`: a header row, then one event per record (Splunk's UI or
//!   `outputcsv` export; multivalue cells are newline-separated values).
//!
//! Input may be gzip-compressed. A line that cannot be read becomes a record
//! carrying the error and the raw text, so it still goes out, in its place.

use std::io::BufRead;
use std::path::Path;

use anyhow::Result;
use serde_json::{Map, Value};

use crate::tables::open_input;

/// One input event, or why it could not be read.
#[derive(Debug)]
pub struct Record {
    /// Line (JSON) or record (CSV) number, from 1.
    pub line: u64,
    /// The event's fields, or the error and the raw text.
    pub event: Result<Map<String, Value>, Unreadable>,
}

/// An input line that is not an event.
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// Why.
    pub error: String,
    /// The raw text (kept as `_raw` in the output).
    pub raw: String,
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Detect from the first line.
    Auto,
    /// JSON lines.
    Jsonl,
    /// Splunk export stream or results document.
    SplunkJson,
    /// CSV with a header.
    Csv,
}

/// Open `path` (`-` = stdin) as a stream of records.
pub fn read_events(path: &Path, format: InputFormat) -> Result<Box<dyn Iterator<Item = Record>>> {
    read_events_from(open_input(path)?, format)
}

/// [`read_events`] of an already opened (and, if need be, gunzipped) input.
pub fn read_events_from(
    mut input: Box<dyn BufRead + Send>,
    format: InputFormat,
) -> Result<Box<dyn Iterator<Item = Record>>> {
    let format = match format {
        InputFormat::Auto => {
            let head = input.fill_buf()?;
            match head.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{') | Some(b'[') => InputFormat::Jsonl, // refined per line below
                _ => InputFormat::Csv,
            }
        }
        f => f,
    };
    Ok(match format {
        InputFormat::Csv => Box::new(CsvEvents::new(input)),
        _ => Box::new(JsonEvents::new(input)),
    })
}

struct JsonEvents {
    lines: std::io::Lines<Box<dyn BufRead>>,
    line: u64,
    /// Events of a results document, drained before reading on.
    pending: std::vec::IntoIter<Value>,
    doc_line: u64,
}

impl JsonEvents {
    fn new(input: Box<dyn BufRead>) -> Self {
        JsonEvents {
            lines: input.lines(),
            line: 0,
            pending: Vec::new().into_iter(),
            doc_line: 0,
        }
    }

    /// Read the rest of the input after `first` as one document (pretty-printed results).
    fn whole_document(&mut self, first: &str) -> Option<Value> {
        let mut text = first.to_string();
        for l in self.lines.by_ref() {
            text.push('\n');
            text.push_str(&l.ok()?);
        }
        serde_json::from_str(&text).ok()
    }
}

fn object(v: Value, line: u64, raw: &str) -> Record {
    match v {
        Value::Object(m) => Record { line, event: Ok(m) },
        other => Record {
            line,
            event: Err(Unreadable {
                error: format!("not a JSON object but {}", kind(&other)),
                raw: raw.into(),
            }),
        },
    }
}

/// What a JSON value is, for messages: `null`, `a boolean`, `a number`, ...
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Iterator for JsonEvents {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if let Some(v) = self.pending.next() {
            return Some(object(v, self.doc_line, ""));
        }
        loop {
            let text = match self.lines.next()? {
                Ok(t) => t,
                Err(e) => {
                    self.line += 1;
                    return Some(Record {
                        line: self.line,
                        event: Err(Unreadable {
                            error: format!("unreadable line: {e}"),
                            raw: String::new(),
                        }),
                    });
                }
            };
            self.line += 1;
            let trimmed = text.trim();
            if trimmed.is_empty() {
                continue;
            }
            let parsed: Result<Value, _> = serde_json::from_str(trimmed);
            match parsed {
                Ok(Value::Object(mut m)) => {
                    // Splunk export stream row.
                    if let Some(result) = m.remove("result") {
                        if m.get("preview").and_then(Value::as_bool) == Some(true) {
                            continue;
                        }
                        return Some(object(result, self.line, trimmed));
                    }
                    // Splunk results document on one line.
                    if let Some(Value::Array(results)) = m.remove("results") {
                        self.doc_line = self.line;
                        self.pending = results.into_iter();
                        match self.pending.next() {
                            Some(v) => return Some(object(v, self.line, "")),
                            None => continue,
                        }
                    }
                    // Export-stream lines without results (messages, lastrow) are not events.
                    if m.contains_key("lastrow")
                        || (m.contains_key("preview") && m.contains_key("messages"))
                    {
                        continue;
                    }
                    return Some(Record {
                        line: self.line,
                        event: Ok(m),
                    });
                }
                Ok(other) => return Some(object(other, self.line, trimmed)),
                Err(e) => {
                    // A pretty-printed results document starts with a lone `{`.
                    if self.line == 1 && trimmed.starts_with('{') {
                        if let Some(Value::Object(mut doc)) = self.whole_document(&text) {
                            if let Some(Value::Array(results)) = doc.remove("results") {
                                self.doc_line = 1;
                                self.pending = results.into_iter();
                                return self.pending.next().map(|v| object(v, 1, ""));
                            }
                        }
                        return Some(Record {
                            line: 1,
                            event: Err(Unreadable {
                                error: format!("malformed JSON: {e}"),
                                raw: text,
                            }),
                        });
                    }
                    return Some(Record {
                        line: self.line,
                        event: Err(Unreadable {
                            error: format!("malformed JSON: {e}"),
                            raw: text,
                        }),
                    });
                }
            }
        }
    }
}

/// One CSV record as an event: empty cells are absent fields; a multivalue
/// cell (newline-separated values) becomes a JSON array, as Splunk's JSON
/// exports write multivalue fields. A record whose cell count differs from
/// the header's is refused, with the reason.
pub fn csv_event(
    header: &[String],
    record: &csv::StringRecord,
) -> Result<Map<String, Value>, String> {
    if record.len() != header.len() {
        return Err(format!(
            "CSV record has {} cells, the header has {}",
            record.len(),
            header.len()
        ));
    }
    let mut m = Map::new();
    for (name, cell) in header.iter().zip(record.iter()) {
        if cell.contains('\n') {
            let items = cell.split('\n').map(|v| Value::String(v.into()));
            m.insert(name.clone(), Value::Array(items.collect()));
        } else if !cell.is_empty() {
            m.insert(name.clone(), Value::String(cell.to_string()));
        }
    }
    Ok(m)
}

struct CsvEvents {
    reader: csv::Reader<Box<dyn BufRead>>,
    header: Option<Vec<String>>,
    header_error: Option<String>,
    record: csv::StringRecord,
    line: u64,
    done: bool,
}

impl CsvEvents {
    fn new(input: Box<dyn BufRead>) -> Self {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let (header, header_error) = match reader.headers() {
            Ok(h) => (Some(h.iter().map(str::to_string).collect()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        CsvEvents {
            reader,
            header,
            header_error,
            record: csv::StringRecord::new(),
            line: 0,
            done: false,
        }
    }
}

impl Iterator for CsvEvents {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if self.done {
            return None;
        }
        if let Some(e) = self.header_error.take() {
            self.done = true;
            return Some(Record {
                line: 1,
                event: Err(Unreadable {
                    error: format!("unreadable CSV header: {e}"),
                    raw: String::new(),
                }),
            });
        }
        let header = self.header.as_ref()?;
        self.line += 1;
        match self.reader.read_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => Some(Record {
                line: self.line,
                event: csv_event(header, &self.record).map_err(|error| Unreadable {
                    error,
                    raw: self.record.iter().collect::<Vec<_>>().join(","),
                }),
            }),
            Err(e) => Some(Record {
                line: self.line,
                event: Err(Unreadable {
                    error: format!("malformed CSV: {e}"),
                    raw: String::new(),
                }),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn events(text: &str, f: InputFormat) -> Vec<Record> {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(text.as_bytes()).unwrap();
        read_events(tmp.path(), f).unwrap().collect()
    }

    #[test]
    fn jsonl_with_bad_lines_keeps_order() {
        let r = events("{\"a\":1}\n{\"a\":\n[1]\n\n{\"a\":2}\n", InputFormat::Auto);
        assert_eq!(r.len(), 4);
        assert!(
            r[0].event.is_ok() && r[1].event.is_err() && r[2].event.is_err() && r[3].event.is_ok()
        );
        assert_eq!(r.iter().map(|x| x.line).collect::<Vec<_>>(), [1, 2, 3, 5]);
    }

    #[test]
    fn splunk_export_stream_and_document() {
        let s = "{\"preview\":true,\"offset\":0,\"result\":{\"a\":\"p\"}}\n{\"preview\":false,\"offset\":0,\"result\":{\"a\":\"1\"}}\n{\"preview\":false,\"offset\":1,\"lastrow\":true,\"result\":{\"a\":\"2\"}}\n";
        let r = events(s, InputFormat::Auto);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].event.as_ref().unwrap()["a"], "2");
        let doc =
            "{\n  \"preview\": false,\n  \"results\": [ {\"a\": \"x\"}, {\"a\": \"y\"} ]\n}\n";
        let r = events(doc, InputFormat::Auto);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].event.as_ref().unwrap()["a"], "y");
    }

    #[test]
    fn csv_multivalue_and_ragged_rows() {
        let r = events("a,b\n1,\"x\ny\"\n2\n3,4,5\n", InputFormat::Auto);
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[0].event.as_ref().unwrap()["b"],
            serde_json::json!(["x", "y"])
        );
        assert!(r[1].event.is_err() && r[2].event.is_err());
    }
}
