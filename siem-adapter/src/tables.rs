//! Training tables: CSV with a header, or JSON lines (one object per line),
//! plain or gzip-compressed (detected by the magic bytes).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{bail, Context, Result};
use scorer_core::train::Table;

/// Open a file (or `-` for stdin), transparently gunzipping.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        )
    };
    Ok(buffered(raw))
}

/// Buffer a byte stream, gunzipping it when it starts with gzip's magic bytes.
pub fn buffered(raw: Box<dyn Read + Send>) -> Box<dyn BufRead + Send> {
    let mut buf = BufReader::with_capacity(1 << 16, raw);
    let gz = buf
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(buf),
        ))
    } else {
        Box::new(buf)
    }
}

/// Read a training table; the format follows the file name (`.jsonl`,
/// `.json`, `.ndjson`, optionally `.gz`) or, failing that, the first byte.
pub fn read_table(path: &Path) -> Result<Table> {
    let mut input = open_input(path)?;
    let first = input
        .fill_buf()?
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    if first == Some(b'{') {
        read_jsonl(input, path)
    } else {
        read_csv(input, path)
    }
}

fn read_csv(input: Box<dyn BufRead>, path: &Path) -> Result<Table> {
    let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
    let mut t = Table::new(header)?;
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: CSV record {}", path.display(), i + 1))?;
        t.push_row(
            rec.iter()
                .map(|c| (!c.is_empty()).then(|| c.to_string()))
                .collect(),
        )?;
    }
    Ok(t)
}

fn read_jsonl(input: Box<dyn BufRead>, path: &Path) -> Result<Table> {
    let mut rows = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(serde_json::Value::Object(m)) => rows.push(m),
            Ok(_) => bail!("{}: line {} is not a JSON object", path.display(), i + 1),
            Err(e) => bail!("{}: line {}: {e}", path.display(), i + 1),
        }
    }
    Ok(Table::from_json_rows(&rows)?)
}
