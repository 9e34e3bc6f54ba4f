//! Input → chunks of lines, in order, on the reader thread.
//!
//! JSON lines and Splunk's export stream pass through as raw bytes (the
//! workers parse them); CSV records and pretty-printed results documents are
//! turned into one JSON object per line here, so the workers see one shape
//! (a multivalue CSV cell — newline-separated values — becomes a JSON array,
//! as Splunk's JSON exports write multivalue fields).
//! A read error (truncated gzip, I/O) becomes a last, unreadable line: every
//! event before it still goes out.
//!
//! Memory is bounded by [`Limits`]: a line (or CSV record) longer than
//! `max_line` becomes an unreadable event with a clear error and is skipped
//! without being held (JSON lines go on after it; a CSV reader cannot find
//! the next record boundary reliably, so the input ends there, with the error);
//! a whole results document longer than `max_document` is refused the same way.

use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::Value;

use crate::sources::InputFormat;

/// One line of a chunk.
#[derive(Debug, Clone)]
pub struct LineRef {
    /// Byte range in the chunk's buffer.
    pub start: usize,
    /// End (exclusive, without the newline).
    pub end: usize,
    /// Line (or CSV record) number in the input, from 1.
    pub number: u64,
    /// Already known to be unreadable (CSV errors, read errors), and why.
    pub error: Option<String>,
}

/// A run of input lines, numbered in input order.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Position of the chunk in the input (0, 1, 2, …).
    pub seq: u64,
    /// The lines' bytes.
    pub buf: Vec<u8>,
    /// The lines.
    pub lines: Vec<LineRef>,
}

impl Chunk {
    /// The bytes of line `i`.
    pub fn line(&self, i: usize) -> &[u8] {
        &self.buf[self.lines[i].start..self.lines[i].end]
    }

    fn push(&mut self, bytes: &[u8], number: u64, error: Option<String>) {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        self.lines.push(LineRef {
            start,
            end: self.buf.len(),
            number,
            error,
        });
    }
}

/// Largest line (or CSV record) read by default: 16 MiB.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// Largest pretty-printed results document read by default: 512 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 512 << 20;
/// Bytes of an over-long line kept as its `_raw`.
const RAW_PREVIEW: usize = 1000;

/// Size limits of one input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest line or CSV record, bytes.
    pub max_line: usize,
    /// Largest (pretty-printed) results document, bytes.
    pub max_document: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: MAX_LINE_BYTES,
            max_document: MAX_DOCUMENT_BYTES,
        }
    }
}

/// Splits an input into chunks of at most `lines` lines (or ~`bytes` bytes).
pub struct ChunkReader {
    input: Box<dyn BufRead + Send>,
    format: InputFormat,
    lines: usize,
    bytes: usize,
    number: u64,
    seq: u64,
    done: bool,
    csv: Option<CsvState>,
    limits: Limits,
    /// Lines of a whole results document, already split.
    pending: std::vec::IntoIter<(String, u64)>,
    /// A document that could not be read, as one unreadable line.
    failed: Option<Chunk>,
}

struct CsvState {
    reader: csv::Reader<RecordGuard>,
    header: Vec<String>,
    /// Bytes read since the last record ended (shared with the guard).
    since: Arc<AtomicUsize>,
}

/// Fails the read when one CSV record grows past the limit, so the csv
/// reader never buffers more than that (plus its own 8 KiB read-ahead).
struct RecordGuard {
    inner: Box<dyn BufRead + Send>,
    since: Arc<AtomicUsize>,
    limit: usize,
}

impl Read for RecordGuard {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.since.fetch_add(n, Ordering::Relaxed) + n > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a CSV record of more than {} bytes (--max-line-bytes); the rest of the input is not read",
                    self.limit
                ),
            ));
        }
        Ok(n)
    }
}

/// JSON when the first non-blank line starts like JSON, or — a JSON-lines
/// export whose first line is damaged — when any of the next 20 does; else CSV.
fn detect(head: &[u8]) -> InputFormat {
    let mut lines = head
        .split(|b| *b == b'\n')
        .map(|l| l.trim_ascii_start())
        .filter(|l| !l.is_empty());
    match lines.next().and_then(|l| l.first()) {
        None | Some(b'{') | Some(b'[') => InputFormat::Jsonl,
        Some(_) if lines.take(20).any(|l| l.starts_with(b"{")) => InputFormat::Jsonl,
        Some(_) => InputFormat::Csv,
    }
}

impl ChunkReader {
    /// A reader of `input` in `format` (`Auto` is decided here, from the first bytes).
    pub fn new(
        input: Box<dyn BufRead + Send>,
        format: InputFormat,
        lines: usize,
    ) -> std::io::Result<Self> {
        Self::with_limits(input, format, lines, Limits::default())
    }

    /// [`new`](Self::new) with explicit size limits.
    pub fn with_limits(
        mut input: Box<dyn BufRead + Send>,
        format: InputFormat,
        lines: usize,
        limits: Limits,
    ) -> std::io::Result<Self> {
        let format = match format {
            InputFormat::Auto => detect(input.fill_buf()?),
            f => f,
        };
        let mut r = ChunkReader {
            input,
            format,
            lines: lines.max(1),
            bytes: 8 << 20,
            number: 0,
            seq: 0,
            done: false,
            csv: None,
            limits,
            pending: Vec::new().into_iter(),
            failed: None,
        };
        if format != InputFormat::Csv && r.is_document()? {
            r.read_document();
        }
        Ok(r)
    }

    /// A pretty-printed document starts with a line that is just `{` or `[`.
    fn is_document(&mut self) -> std::io::Result<bool> {
        let head = self.input.fill_buf()?;
        let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
        Ok(matches!(
            text.trim_start().lines().next().map(str::trim),
            Some("{") | Some("[")
        ))
    }

    /// Read a whole (pretty-printed) results document; its events become lines.
    fn read_document(&mut self) {
        let mut text = String::new();
        let max = self.limits.max_document;
        let error = (&mut self.input)
            .take(max as u64 + 1)
            .read_to_string(&mut text)
            .err();
        let parsed = if text.len() > max {
            Err(format!(
                "the results document is over {max} bytes; export JSON lines instead \
                 (output_mode=json streams one result per line)"
            ))
        } else {
            serde_json::from_str::<Value>(&text).map_err(|e| match error {
                Some(io) => format!("unreadable input: {io}"),
                None => format!("malformed JSON document: {e}"),
            })
        };
        let events: Result<Vec<Value>, String> = match parsed {
            Ok(Value::Object(mut m)) => match m.remove("results") {
                Some(Value::Array(rs)) => Ok(rs),
                _ => Ok(vec![Value::Object(m)]),
            },
            Ok(Value::Array(rs)) => Ok(rs),
            Ok(other) => Ok(vec![other]),
            Err(e) => Err(e),
        };
        self.pending = match events {
            Ok(rs) => rs
                .iter()
                .enumerate()
                .map(|(i, v)| (v.to_string(), i as u64 + 1))
                .collect::<Vec<_>>()
                .into_iter(),
            Err(e) => {
                // One unreadable event carrying the reason (text kept short).
                let raw: String = text.chars().take(RAW_PREVIEW).collect();
                self.done = true;
                let mut c = Chunk::default();
                c.push(raw.as_bytes(), 1, Some(e));
                self.pending = Vec::new().into_iter();
                self.failed = Some(c);
                return;
            }
        };
        self.done = true;
    }

    fn next_chunk(&mut self) -> Option<Chunk> {
        if let Some(c) = self.failed.take() {
            return Some(self.stamp(c));
        }
        let mut c = Chunk::default();
        for (line, n) in self.pending.by_ref().take(self.lines) {
            c.push(line.as_bytes(), n, None);
        }
        if !c.lines.is_empty() {
            return Some(self.stamp(c));
        }
        if self.done {
            return None;
        }
        if self.format == InputFormat::Csv {
            self.csv_chunk(&mut c);
        } else {
            self.line_chunk(&mut c);
        }
        (!c.lines.is_empty()).then(|| self.stamp(c))
    }

    fn stamp(&mut self, mut c: Chunk) -> Chunk {
        c.seq = self.seq;
        self.seq += 1;
        c
    }

    fn line_chunk(&mut self, c: &mut Chunk) {
        let max = self.limits.max_line;
        while c.lines.len() < self.lines && c.buf.len() < self.bytes {
            let start = c.buf.len();
            match (&mut self.input)
                .take(max as u64 + 1)
                .read_until(b'\n', &mut c.buf)
            {
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Ok(n) if n > max && c.buf.last() != Some(&b'\n') => {
                    // Over the limit: keep a preview, drop the rest unread into memory.
                    self.number += 1;
                    c.buf.truncate(start + RAW_PREVIEW.min(max));
                    let skipped = self.input.skip_until(b'\n');
                    let error = match skipped {
                        Ok(_) => {
                            format!("line of more than {max} bytes (--max-line-bytes); skipped")
                        }
                        Err(e) => {
                            self.done = true;
                            format!("line of more than {max} bytes (--max-line-bytes), then: {e}")
                        }
                    };
                    let end = c.buf.len();
                    c.lines.push(LineRef {
                        start,
                        end,
                        number: self.number,
                        error: Some(error),
                    });
                }
                Ok(_) => {
                    self.number += 1;
                    let mut end = c.buf.len();
                    while end > start && matches!(c.buf[end - 1], b'\n' | b'\r') {
                        end -= 1;
                    }
                    if c.buf[start..end].iter().all(u8::is_ascii_whitespace) {
                        c.buf.truncate(start);
                        continue;
                    }
                    c.lines.push(LineRef {
                        start,
                        end,
                        number: self.number,
                        error: None,
                    });
                }
                Err(e) => {
                    self.number += 1;
                    self.done = true;
                    let end = c.buf.len();
                    c.lines.push(LineRef {
                        start,
                        end,
                        number: self.number,
                        error: Some(format!("input ended early: {e}")),
                    });
                    break;
                }
            }
        }
    }

    fn csv_chunk(&mut self, c: &mut Chunk) {
        if self.csv.is_none() {
            let input = std::mem::replace(&mut self.input, Box::new(std::io::empty()));
            let since = Arc::new(AtomicUsize::new(0));
            let guard = RecordGuard {
                inner: input,
                since: since.clone(),
                limit: self.limits.max_line,
            };
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(guard);
            match reader.headers() {
                Ok(h) => {
                    let header = h.iter().map(str::to_string).collect();
                    since.store(0, Ordering::Relaxed);
                    self.csv = Some(CsvState {
                        reader,
                        header,
                        since,
                    });
                }
                Err(e) => {
                    self.done = true;
                    c.push(b"", 1, Some(format!("unreadable CSV header: {e}")));
                    return;
                }
            }
        }
        let st = self.csv.as_mut().expect("set above");
        let mut record = csv::StringRecord::new();
        while c.lines.len() < self.lines && c.buf.len() < self.bytes {
            self.number += 1;
            let read = st.reader.read_record(&mut record);
            st.since.store(0, Ordering::Relaxed);
            match read {
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Ok(true) => match crate::sources::csv_event(&st.header, &record) {
                    Ok(m) => {
                        let text = serde_json::to_string(&m).expect("a map serializes");
                        c.push(text.as_bytes(), self.number, None);
                    }
                    Err(error) => {
                        let raw = record.iter().collect::<Vec<_>>().join(",");
                        c.push(raw.as_bytes(), self.number, Some(error));
                    }
                },
                Err(e) => {
                    let fatal = e.is_io_error();
                    c.push(b"", self.number, Some(format!("malformed CSV: {e}")));
                    if fatal {
                        self.done = true;
                        break;
                    }
                }
            }
        }
    }
}

impl Iterator for ChunkReader {
    type Item = Chunk;
    fn next(&mut self) -> Option<Chunk> {
        self.next_chunk()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(
        input: &str,
        format: InputFormat,
        max_line: usize,
    ) -> Vec<(u64, String, Option<String>)> {
        let limits = Limits {
            max_line,
            max_document: 200,
        };
        let input: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(input.to_string()));
        ChunkReader::with_limits(input, format, 2, limits)
            .unwrap()
            .flat_map(|c| {
                (0..c.lines.len())
                    .map(|i| {
                        let l = &c.lines[i];
                        let text = String::from_utf8_lossy(c.line(i)).into_owned();
                        (l.number, text, l.error.clone())
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn an_over_long_json_line_is_an_error_in_its_place_and_reading_goes_on() {
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(100));
        let input = format!("{{\"a\":1}}\n{long}\n{{\"a\":3}}\n{long}");
        let got = read(&input, InputFormat::Auto, 50);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], (1, "{\"a\":1}".into(), None));
        assert_eq!(got[1].0, 2);
        assert_eq!(got[1].1.len(), 50, "a preview of the line is kept");
        let e = got[1].2.as_deref().unwrap();
        assert!(e.contains("more than 50 bytes (--max-line-bytes)"), "{e}");
        assert_eq!(got[2], (3, "{\"a\":3}".into(), None));
        assert!(got[3].2.is_some(), "an over-long last line without newline");
        // A line of exactly the limit is fine.
        let exact = format!("{{\"a\":\"{}\"}}", "y".repeat(42));
        assert_eq!(exact.len(), 50);
        assert_eq!(read(&exact, InputFormat::Jsonl, 50)[0].2, None);
    }

    #[test]
    fn an_over_long_csv_record_ends_the_input_with_a_clear_error() {
        let input = format!("a,b\n1,2\n3,\"{}\"\n5,6\n", "z".repeat(40_000));
        let got = read(&input, InputFormat::Csv, 20_000);
        assert_eq!(got[0].2, None);
        assert_eq!(got[0].1, r#"{"a":"1","b":"2"}"#);
        let last = got.last().unwrap();
        let e = last.2.as_deref().unwrap();
        assert!(e.contains("CSV record of more than 20000 bytes"), "{e}");
        assert!(got.len() <= 3);
        // Under the limit the same input reads in full.
        let got = read(&input, InputFormat::Csv, 1 << 20);
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|l| l.2.is_none()));
    }

    #[test]
    fn a_json_lines_file_with_a_damaged_first_line_is_still_json() {
        assert_eq!(detect(b"garbage\n{\"a\":1}\n"), InputFormat::Jsonl);
        assert_eq!(detect(b"\n  {\"a\":1}"), InputFormat::Jsonl);
        assert_eq!(detect(b""), InputFormat::Jsonl);
        assert_eq!(detect(b"a,b\n1,2\n3,\"{x}\"\n"), InputFormat::Csv);
        let got = read("not json\n{\"a\":1}\n", InputFormat::Auto, 100);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].1, "{\"a\":1}");
    }

    #[test]
    fn an_over_large_results_document_is_refused() {
        let small = "{\n\"results\": [{\"a\": 1}, {\"a\": 2}]\n}";
        let got = read(small, InputFormat::Auto, 1000);
        assert_eq!(got.len(), 2);
        let big = format!("{{\n\"results\": [{{\"a\": \"{}\"}}]\n}}", "q".repeat(300));
        let got = read(&big, InputFormat::Auto, 1000);
        assert_eq!(got.len(), 1);
        let e = got[0].2.as_deref().unwrap();
        assert!(e.contains("over 200 bytes"), "{e}");
    }
}
