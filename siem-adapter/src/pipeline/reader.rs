//! Input → chunks of lines, in order, on the reader thread.
//!
//! JSON lines and Splunk's export stream pass through as raw bytes (the
//! workers parse them); CSV records and pretty-printed results documents are
//! turned into one JSON object per line here, so the workers see one shape
//! (a multivalue CSV cell — newline-separated values — becomes a JSON array,
//! as Splunk's JSON exports write multivalue fields).
//! A read error (truncated gzip, I/O) becomes a last, unreadable line: every
//! event before it still goes out.

use std::io::{BufRead, Read};

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
    /// Lines of a whole results document, already split.
    pending: std::vec::IntoIter<(String, u64)>,
    /// A document that could not be read, as one unreadable line.
    failed: Option<Chunk>,
}

struct CsvState {
    reader: csv::Reader<Box<dyn BufRead + Send>>,
    header: Vec<String>,
}

impl ChunkReader {
    /// A reader of `input` in `format` (`Auto` is decided here, from the first bytes).
    pub fn new(
        mut input: Box<dyn BufRead + Send>,
        format: InputFormat,
        lines: usize,
    ) -> std::io::Result<Self> {
        let head = input.fill_buf()?;
        let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let format = match format {
            InputFormat::Auto => match first {
                Some(b'{') | Some(b'[') | None => InputFormat::Jsonl,
                _ => InputFormat::Csv,
            },
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
        let error = self.input.read_to_string(&mut text).err();
        let events: Result<Vec<Value>, String> = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(mut m)) => match m.remove("results") {
                Some(Value::Array(rs)) => Ok(rs),
                _ => Ok(vec![Value::Object(m)]),
            },
            Ok(Value::Array(rs)) => Ok(rs),
            Ok(other) => Ok(vec![other]),
            Err(e) => Err(match error {
                Some(io) => format!("unreadable input: {io}"),
                None => format!("malformed JSON document: {e}"),
            }),
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
                let raw: String = text.chars().take(1000).collect();
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
        while c.lines.len() < self.lines && c.buf.len() < self.bytes {
            let start = c.buf.len();
            match self.input.read_until(b'\n', &mut c.buf) {
                Ok(0) => {
                    self.done = true;
                    break;
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
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
            match reader.headers() {
                Ok(h) => {
                    let header = h.iter().map(str::to_string).collect();
                    self.csv = Some(CsvState { reader, header });
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
            match st.reader.read_record(&mut record) {
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
