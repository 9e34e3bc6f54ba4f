//! Scored events out: JSON lines (streamed) or CSV (buffered, because the
//! header must name every column any event has). Original fields keep their
//! order and values; the scorer's fields are appended.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Map, Value};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header (multivalue fields as newline-separated cells).
    Csv,
}

/// Where scored events go.
pub enum Sink {
    /// Streamed JSON lines.
    Jsonl(Box<dyn Write>),
    /// Buffered CSV rows with their columns in first-seen order.
    Csv {
        /// Destination.
        out: Box<dyn Write>,
        /// Every event, kept until `finish`.
        rows: Vec<Map<String, Value>>,
    },
}

/// Open `path` (`-` = stdout).
pub fn create_output(path: &Path) -> Result<Box<dyn Write>> {
    Ok(if path.as_os_str() == "-" {
        Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout().lock(),
        ))
    } else {
        let f = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Box::new(std::io::BufWriter::with_capacity(1 << 16, f))
    })
}

impl Sink {
    /// A sink of `format` writing to `path`.
    pub fn open(path: &Path, format: OutputFormat) -> Result<Sink> {
        let out = create_output(path)?;
        Ok(match format {
            OutputFormat::Jsonl => Sink::Jsonl(out),
            OutputFormat::Csv => Sink::Csv {
                out,
                rows: Vec::new(),
            },
        })
    }

    /// Write (or keep) one event.
    pub fn write(&mut self, event: Map<String, Value>) -> Result<()> {
        match self {
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut *out, &event)?;
                out.write_all(b"\n")?;
            }
            Sink::Csv { rows, .. } => rows.push(event),
        }
        Ok(())
    }

    /// Flush everything.
    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Jsonl(mut out) => out.flush()?,
            Sink::Csv { out, rows } => {
                let mut columns: Vec<&String> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for r in &rows {
                    for k in r.keys() {
                        if seen.insert(k) {
                            columns.push(k);
                        }
                    }
                }
                let mut w = csv::Writer::from_writer(out);
                w.write_record(columns.iter().map(|c| c.as_str()))?;
                for r in &rows {
                    w.write_record(
                        columns
                            .iter()
                            .map(|c| r.get(*c).map(cell).unwrap_or_default()),
                    )?;
                }
                w.flush()?;
            }
        }
        Ok(())
    }
}

/// A JSON value as a CSV cell: strings bare, arrays newline-joined (Splunk's multivalue).
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}
