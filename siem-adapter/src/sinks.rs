//! Scored events to files or stdout.
//!
//! - JSON lines: streamed. A file is written under a temporary name beside
//!   it and renamed when the run ends, so a run killed half-way leaves no
//!   half-written output (re-running it is always safe).
//! - CSV: the header must name every column any event has, so events are
//!   spooled to a temporary JSON-lines file (bounded memory) and converted at
//!   the end. Multivalue fields become newline-separated cells, as Splunk writes them.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use crate::pipeline::worker::Block;
use crate::pipeline::BlockSink;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header (multivalue fields as newline-separated cells).
    Csv,
}

/// A file written under a temporary name and renamed into place by `commit`
/// (or stdout, written directly).
pub struct AtomicOutput {
    out: std::io::BufWriter<Box<dyn Write + Send>>,
    tmp: Option<(tempfile::TempPath, PathBuf)>,
}

impl AtomicOutput {
    /// Open `path` (`-` = stdout).
    pub fn create(path: &Path) -> Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(AtomicOutput {
                out: std::io::BufWriter::with_capacity(1 << 17, Box::new(std::io::stdout())),
                tmp: None,
            });
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let file = tempfile::Builder::new()
            .prefix(".riskscore-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        let (f, tmp) = file.into_parts();
        Ok(AtomicOutput {
            out: std::io::BufWriter::with_capacity(1 << 17, Box::new(f)),
            tmp: Some((tmp, path.to_path_buf())),
        })
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// Flush, and rename into place.
    pub fn commit(mut self) -> Result<()> {
        self.out.flush()?;
        if let Some((tmp, path)) = self.tmp.take() {
            tmp.persist(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

/// Scored events as JSON lines.
pub struct JsonlSink {
    out: Option<AtomicOutput>,
}

impl JsonlSink {
    /// Write to `path` (`-` = stdout).
    pub fn create(path: &Path) -> Result<Self> {
        Ok(JsonlSink {
            out: Some(AtomicOutput::create(path)?),
        })
    }
}

impl BlockSink for JsonlSink {
    fn write(&mut self, block: &Block, _first: u64) -> Result<()> {
        let out = self.out.as_mut().expect("not finished");
        out.writer().write_all(&block.bytes)?;
        Ok(())
    }
    fn side_event(&mut self, bytes: &[u8]) -> Result<()> {
        let out = self.out.as_mut().expect("not finished");
        out.writer().write_all(bytes)?;
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        if let Some(o) = self.out.take() {
            o.commit()?;
        }
        Ok(())
    }
}

/// Scored events as CSV, spooled on disk until the columns are known.
pub struct CsvSink {
    spool: std::io::BufWriter<std::fs::File>,
    spool_path: tempfile::TempPath,
    path: PathBuf,
    warned: bool,
}

impl CsvSink {
    /// Write to `path` (`-` = stdout) when finished.
    pub fn create(path: &Path) -> Result<Self> {
        let (f, spool_path) = tempfile::NamedTempFile::new()
            .context("cannot create the CSV spool file")?
            .into_parts();
        Ok(CsvSink {
            spool: std::io::BufWriter::with_capacity(1 << 17, f),
            spool_path,
            path: path.to_path_buf(),
            warned: false,
        })
    }

    fn lines(&self) -> Result<impl Iterator<Item = Result<Map<String, Value>>>> {
        let f = std::fs::File::open(&self.spool_path)?;
        Ok(std::io::BufReader::new(f).lines().map(|l| {
            let l = l?;
            Ok(serde_json::from_str(&l)?)
        }))
    }
}

impl BlockSink for CsvSink {
    fn write(&mut self, block: &Block, _first: u64) -> Result<()> {
        self.spool.write_all(&block.bytes)?;
        Ok(())
    }
    fn side_event(&mut self, _bytes: &[u8]) -> Result<()> {
        if !self.warned {
            self.warned = true;
            tracing::warn!("drift summary events are not written into CSV output (its columns are the events'); use --drift-report FILE");
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        self.spool.flush()?;
        // Pass 1: the columns, in first-seen order.
        let mut columns: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for e in self.lines()? {
            for k in e?.keys() {
                if !seen.contains(k) {
                    seen.insert(k.clone());
                    columns.push(k.clone());
                }
            }
        }
        // Pass 2: the rows.
        let mut out = AtomicOutput::create(&self.path)?;
        {
            let mut w = csv::Writer::from_writer(out.writer());
            w.write_record(&columns)?;
            for e in self.lines()? {
                let e = e?;
                w.write_record(
                    columns
                        .iter()
                        .map(|c| e.get(c).map(cell).unwrap_or_default()),
                )?;
            }
            w.flush()?;
        }
        out.commit()
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
