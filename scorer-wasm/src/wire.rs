//! The batch wire format between a host and the wasm scorer (ABI version 1).
//!
//! All integers little-endian. A **batch** carries only the fields the model
//! reads (in the order of the model's `fields` list), column-major:
//!
//! ```text
//! 0   "RSB1"
//! 4   u32 n_rows
//! 8   u32 n_cols            = number of model fields
//! 12  u32 strings_len
//! 16  cells: n_cols × n_rows × 24 bytes; cell (c, r) at 16 + 24·(c·n_rows + r)
//!       u8  kind            0 missing, 1 number, 2 text, 3 true, 4 false,
//!                           5 numeric text (text whose number reading is known)
//!       u8  [0; 3]
//!       u32 count           number of values (multivalue fields), 0 when missing
//!       f64 number          kinds 1 and 5
//!       u32 offset, u32 len kinds 2 and 5: the text in `strings`
//! ..  strings: strings_len bytes of UTF-8
//! ```
//!
//! Numbers travel as f64: the host reads text with `scorer_core::parse_number`
//! (the function the numeric transforms use) and sends numeric text as kind 5,
//! number and text together, so the guest does not parse decimals again and
//! text transforms still see the exact text.
//!
//! ```text
//! ```
//!
//! **Results** of a batch:
//!
//! ```text
//! 0   "RSR1"
//! 4   u32 n_rows
//! 8   u32 mask_words        u64 words of missing-feature mask per row
//! 12  u32 reasons_len       bytes of the explanations JSON (0 without explanations)
//! 16  f64 score[n_rows]     NaN when the model's arithmetic overflowed
//! ..  f64 raw[n_rows]
//! ..  u8  flag[n_rows], then zero padding to a multiple of 8
//! ..  u64 mask[n_rows × mask_words]
//! ..  explanations: JSON array (one array of reasons per row)
//! ```
//!
//! Readers check every length and offset and never panic on a malformed buffer.

use scorer_core::{Field, Value};

/// Magic of a batch.
pub const BATCH_MAGIC: &[u8; 4] = b"RSB1";
/// Magic of a result.
pub const RESULT_MAGIC: &[u8; 4] = b"RSR1";
/// Bytes per cell.
pub const CELL: usize = 24;
const HEADER: usize = 16;

const KIND_MISSING: u8 = 0;
const KIND_NUMBER: u8 = 1;
const KIND_TEXT: u8 = 2;
const KIND_TRUE: u8 = 3;
const KIND_FALSE: u8 = 4;
const KIND_NUMERIC_TEXT: u8 = 5;

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Host side: builds a batch, column by column, reusing its buffers.
#[derive(Debug, Default)]
pub struct BatchWriter {
    cells: Vec<[u8; CELL]>,
    strings: Vec<u8>,
    n_rows: usize,
    n_cols: usize,
    out: Vec<u8>,
}

fn cell(kind: u8, count: u32, number: f64, off: u32, len: u32) -> [u8; CELL] {
    let mut c = [0u8; CELL];
    c[0] = kind;
    c[4..8].copy_from_slice(&count.to_le_bytes());
    c[8..16].copy_from_slice(&number.to_bits().to_le_bytes());
    c[16..20].copy_from_slice(&off.to_le_bytes());
    c[20..24].copy_from_slice(&len.to_le_bytes());
    c
}

impl BatchWriter {
    /// Start a batch of `n_rows` rows and `n_cols` columns (all cells missing).
    pub fn reset(&mut self, n_rows: usize, n_cols: usize) {
        self.cells.clear();
        self.cells.resize(n_rows * n_cols, [0u8; CELL]);
        self.strings.clear();
        self.n_rows = n_rows;
        self.n_cols = n_cols;
    }

    /// Set cell (col, row) from a field value.
    pub fn set(&mut self, col: usize, row: usize, field: Field<'_>) {
        let n = field.count as u32;
        let c = match field.first {
            Value::Missing => cell(KIND_MISSING, 0, 0.0, 0, 0),
            Value::Number(x) => cell(KIND_NUMBER, n, x, 0, 0),
            Value::Bool(b) => cell(if b { KIND_TRUE } else { KIND_FALSE }, n, 0.0, 0, 0),
            Value::Text(s) | Value::NumericText(s, _) => {
                let off = self.strings.len() as u32;
                self.strings.extend_from_slice(s.as_bytes());
                match scorer_core::parse_number(s) {
                    Some(x) => cell(KIND_NUMERIC_TEXT, n, x, off, s.len() as u32),
                    None => cell(KIND_TEXT, n, 0.0, off, s.len() as u32),
                }
            }
        };
        self.cells[col * self.n_rows + row] = c;
    }

    /// The encoded batch.
    pub fn finish(&mut self) -> &[u8] {
        self.out.clear();
        self.out.extend_from_slice(BATCH_MAGIC);
        self.out
            .extend_from_slice(&(self.n_rows as u32).to_le_bytes());
        self.out
            .extend_from_slice(&(self.n_cols as u32).to_le_bytes());
        self.out
            .extend_from_slice(&(self.strings.len() as u32).to_le_bytes());
        for c in &self.cells {
            self.out.extend_from_slice(c);
        }
        self.out.extend_from_slice(&self.strings);
        &self.out
    }
}

/// Guest side: a validated view of a batch.
#[derive(Debug)]
pub struct BatchView<'a> {
    cells: &'a [u8],
    strings: &'a str,
    /// Rows in the batch.
    pub n_rows: usize,
    /// Columns (model fields).
    pub n_cols: usize,
}

impl<'a> BatchView<'a> {
    /// Check the header, every length and offset, and that the strings are UTF-8.
    pub fn parse(b: &'a [u8], expected_cols: usize) -> Result<BatchView<'a>, String> {
        if b.get(..4) != Some(BATCH_MAGIC.as_slice()) {
            return Err("batch does not start with RSB1".into());
        }
        let n_rows = u32_at(b, 4).ok_or("batch header truncated")? as usize;
        let n_cols = u32_at(b, 8).ok_or("batch header truncated")? as usize;
        let strings_len = u32_at(b, 12).ok_or("batch header truncated")? as usize;
        if n_cols != expected_cols {
            return Err(format!(
                "batch has {n_cols} columns, the model reads {expected_cols} fields"
            ));
        }
        let cells_len = n_rows
            .checked_mul(n_cols)
            .and_then(|n| n.checked_mul(CELL))
            .ok_or("batch size overflows")?;
        let total = HEADER
            .checked_add(cells_len)
            .and_then(|n| n.checked_add(strings_len))
            .ok_or("batch size overflows")?;
        if b.len() != total {
            return Err(format!(
                "batch is {} bytes, its header says {total}",
                b.len()
            ));
        }
        let cells = &b[HEADER..HEADER + cells_len];
        let strings = std::str::from_utf8(&b[HEADER + cells_len..])
            .map_err(|e| format!("batch strings are not UTF-8: {e}"))?;
        for (i, c) in cells.chunks_exact(CELL).enumerate() {
            match c[0] {
                KIND_MISSING | KIND_NUMBER | KIND_TRUE | KIND_FALSE => {}
                KIND_TEXT | KIND_NUMERIC_TEXT => {
                    let off = u32_at(c, 16).unwrap_or(0) as usize;
                    let len = u32_at(c, 20).unwrap_or(0) as usize;
                    let end = off.checked_add(len).ok_or("text cell overflows")?;
                    if end > strings.len()
                        || !strings.is_char_boundary(off)
                        || !strings.is_char_boundary(end)
                    {
                        return Err(format!("cell {i}: text {off}..{end} is outside the strings or splits a character"));
                    }
                }
                k => return Err(format!("cell {i}: unknown kind {k}")),
            }
        }
        Ok(BatchView {
            cells,
            strings,
            n_rows,
            n_cols,
        })
    }

    /// Field `col` of row `row` (both in range; anything else reads as missing).
    pub fn field(&self, col: usize, row: usize) -> Field<'a> {
        let at = (col * self.n_rows + row) * CELL;
        let Some(c) = self.cells.get(at..at + CELL) else {
            return Field::MISSING;
        };
        let count = u32_at(c, 4).unwrap_or(0) as usize;
        let number = f64::from_bits(u64_at(c, 8).unwrap_or(0));
        let text = || {
            let off = u32_at(c, 16).unwrap_or(0) as usize;
            let len = u32_at(c, 20).unwrap_or(0) as usize;
            self.strings.get(off..off + len)
        };
        let first = match c[0] {
            KIND_NUMBER => Value::Number(number),
            KIND_TRUE => Value::Bool(true),
            KIND_FALSE => Value::Bool(false),
            KIND_TEXT => text().map_or(Value::Missing, Value::Text),
            // The host parsed it with scorer_core::parse_number; it is trusted
            // here as it is for every other value it sends.
            KIND_NUMERIC_TEXT => text().map_or(Value::Missing, |t| Value::NumericText(t, number)),
            _ => return Field::MISSING,
        };
        Field {
            first,
            count: count.max(1),
        }
    }
}

/// One row's outcome, as a host reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowResult {
    /// `model_output_risk_score`; NaN when the model's arithmetic overflowed.
    pub score: f64,
    /// Raw estimator output.
    pub raw: f64,
    /// `anomaly_flag`.
    pub flag: u8,
}

/// Guest side: encode scores, masks and explanations.
pub fn write_results(
    out: &mut Vec<u8>,
    scores: &scorer_core::Scores,
    masks: &[u64],
    mask_words: usize,
    reasons: &str,
) {
    let n = scores.score.len();
    out.clear();
    out.extend_from_slice(RESULT_MAGIC);
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(&(mask_words as u32).to_le_bytes());
    out.extend_from_slice(&(reasons.len() as u32).to_le_bytes());
    for s in &scores.score {
        out.extend_from_slice(&s.to_le_bytes());
    }
    for r in &scores.raw {
        out.extend_from_slice(&r.to_le_bytes());
    }
    out.extend_from_slice(&scores.flag);
    out.resize(out.len().next_multiple_of(8), 0);
    for m in masks {
        out.extend_from_slice(&m.to_le_bytes());
    }
    out.extend_from_slice(reasons.as_bytes());
}

/// Host side: a validated view of a result buffer.
#[derive(Debug)]
pub struct ResultsView<'a> {
    b: &'a [u8],
    /// Rows.
    pub n_rows: usize,
    /// Mask words per row.
    pub mask_words: usize,
    flags_at: usize,
    masks_at: usize,
    reasons_at: usize,
}

impl<'a> ResultsView<'a> {
    /// Check the header and lengths.
    pub fn parse(b: &'a [u8]) -> Result<ResultsView<'a>, String> {
        if b.get(..4) != Some(RESULT_MAGIC.as_slice()) {
            return Err("result does not start with RSR1".into());
        }
        let n = u32_at(b, 4).ok_or("result truncated")? as usize;
        let words = u32_at(b, 8).ok_or("result truncated")? as usize;
        let reasons_len = u32_at(b, 12).ok_or("result truncated")? as usize;
        let flags_at = HEADER + 16 * n;
        let masks_at = (flags_at + n).next_multiple_of(8);
        let reasons_at = masks_at + 8 * n * words;
        if b.len() != reasons_at + reasons_len {
            return Err(format!(
                "result is {} bytes, expected {}",
                b.len(),
                reasons_at + reasons_len
            ));
        }
        Ok(ResultsView {
            b,
            n_rows: n,
            mask_words: words,
            flags_at,
            masks_at,
            reasons_at,
        })
    }

    /// Row `i` (must be < n_rows).
    pub fn row(&self, i: usize) -> RowResult {
        let f = |at| f64::from_bits(u64_at(self.b, at).unwrap_or(0));
        RowResult {
            score: f(HEADER + 8 * i),
            raw: f(HEADER + 8 * (self.n_rows + i)),
            flag: self.b.get(self.flags_at + i).copied().unwrap_or(0),
        }
    }

    /// Missing-feature mask word `w` of row `i`.
    pub fn mask(&self, i: usize, w: usize) -> u64 {
        u64_at(self.b, self.masks_at + 8 * (i * self.mask_words + w)).unwrap_or(0)
    }

    /// The explanations JSON text (empty without explanations).
    pub fn reasons(&self) -> &'a str {
        std::str::from_utf8(&self.b[self.reasons_at..]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_round_trip() {
        let mut w = BatchWriter::default();
        w.reset(2, 2);
        w.set(0, 0, Field::one(Value::Number(1.5)));
        w.set(
            1,
            0,
            Field {
                first: Value::Text("héllo"),
                count: 3,
            },
        );
        w.set(0, 1, Field::one(Value::Bool(true)));
        let b = w.finish().to_vec();
        let v = BatchView::parse(&b, 2).unwrap();
        assert_eq!(v.field(0, 0), Field::one(Value::Number(1.5)));
        assert_eq!(
            v.field(1, 0),
            Field {
                first: Value::Text("héllo"),
                count: 3
            }
        );
        assert_eq!(v.field(0, 1), Field::one(Value::Bool(true)));
        assert_eq!(v.field(1, 1), Field::MISSING);
        assert_eq!(v.field(9, 9), Field::MISSING);
    }

    #[test]
    fn malformed_batches_are_refused_not_panicked_on() {
        let mut w = BatchWriter::default();
        w.reset(1, 1);
        w.set(0, 0, Field::one(Value::Text("abc")));
        let good = w.finish().to_vec();
        assert!(BatchView::parse(&good, 2)
            .unwrap_err()
            .contains("the model reads 2"));
        for cut in 0..good.len() {
            assert!(BatchView::parse(&good[..cut], 1).is_err());
        }
        let mut bad = good.clone();
        bad[16] = 9;
        assert!(BatchView::parse(&bad, 1)
            .unwrap_err()
            .contains("unknown kind"));
        let mut bad = good.clone();
        bad[32] = 2; // offset 2 + len 3 > 3
        assert!(BatchView::parse(&bad, 1)
            .unwrap_err()
            .contains("outside the strings"));
        let mut huge = good.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        huge[8..12].copy_from_slice(&1u32.to_le_bytes());
        assert!(BatchView::parse(&huge, 1).is_err());
    }
}
