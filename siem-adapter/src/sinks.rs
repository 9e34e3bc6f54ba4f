//! Scored events to files or stdout.
//!
//! - JSON lines: streamed. A file is written under a temporary name beside
//!   it and renamed when the run ends, so a run killed half-way leaves no
//!   half-written output (re-running it is always safe). A device or a
//!   pipe (`--output /dev/null`, a FIFO) is written in place instead.
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

/// Whether an output path may be replaced by renaming a finished file onto
/// it: it does not exist yet, or it is a regular file. Devices and pipes
/// (`/dev/null`, a FIFO) are written in place instead — renaming onto
/// `/dev/null` as root would replace the device with a file.
pub fn replaceable(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(m) => m.is_file(),
        Err(_) => true,
    }
}

/// A file written under a temporary name and renamed into place by `commit`
/// (or stdout, a device or a pipe, written directly).
pub struct AtomicOutput {
    out: std::io::BufWriter<Box<dyn Write + Send>>,
    tmp: Option<(tempfile::TempPath, PathBuf)>,
}

impl AtomicOutput {
    /// Open `path` (`-` = stdout).
    pub fn create(path: &Path) -> Result<Self> {
        let (file, tmp): (Box<dyn Write + Send>, _) = if path.as_os_str() == "-" {
            (Box::new(std::io::stdout()), None)
        } else if !replaceable(path) {
            // A device or a pipe (`/dev/null`, a FIFO): written in place,
            // never replaced by a renamed regular file.
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            (Box::new(f), None)
        } else {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let file = tempfile::Builder::new()
                .prefix(".riskscore-")
                .tempfile_in(dir)
                .with_context(|| format!("cannot create a file in {}", dir.display()))?;
            let (f, tmp) = file.into_parts();
            (Box::new(f), Some((tmp, path.to_path_buf())))
        };
        Ok(AtomicOutput {
            out: std::io::BufWriter::with_capacity(1 << 17, file),
            tmp,
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;

    /// Writing to a pipe goes through it and leaves it a pipe (a rename
    /// would have replaced it, as it once replaced `/dev/null`).
    #[test]
    fn pipes_and_devices_are_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("out.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo (coreutils) runs");
        assert!(made.success());
        assert!(!replaceable(&fifo));
        assert!(replaceable(&dir.path().join("new.jsonl")));
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut s = String::new();
                std::fs::File::open(fifo)
                    .unwrap()
                    .read_to_string(&mut s)
                    .unwrap();
                s
            })
        };
        let mut out = AtomicOutput::create(&fifo).unwrap();
        out.writer().write_all(b"{\"a\":1}\n").unwrap();
        out.commit().unwrap();
        // Checked before joining: had the pipe been replaced, the reader
        // would wait for a writer forever.
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "the pipe was replaced by a {kind:?}");
        assert_eq!(reader.join().unwrap(), "{\"a\":1}\n");
        // No temporary file was left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
