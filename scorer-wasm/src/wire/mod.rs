//! The batch wire format between a host and the wasm scorer (ABI version 2).
//!
//! All integers little-endian. A **batch** carries only the fields the model
//! reads (in the order of the model's `fields` list), column-major, one kind
//! byte and one 8-byte payload per cell. A single number, text or boolean fits
//! the cell; a multivalue field or numeric text takes a 24-byte extension. So a
//! batch of numbers costs 9 bytes a cell (a 4,096-row batch of 32 fields is
//! 1.2 MB, against 3 MB with ABI 1's 24-byte cells: less for the host to
//! write and the guest to read; see BENCHMARKS.md [2/8]):
//!
//! ```text
//! 0   "RSB2"
//! 4   u32 n_rows
//! 8   u32 n_cols            = number of model fields
//! 12  u32 n_ext             extension records
//! 16  u32 strings_len
//! 20  u32 0
//! 24  kinds: u8[n_cols × n_rows]; cell (c, r) is c·n_rows + r;
//!       zero padding to a multiple of 8
//! P   payloads: u64[n_cols × n_rows], cell (c, r) at P + 8·(c·n_rows + r)
//! ..  extensions: n_ext × 24 bytes
//! ..  strings: strings_len bytes of UTF-8
//! ```
//!
//! | kind | cell | payload |
//! |---|---|---|
//! | 0 | missing | ignored (0) |
//! | 1 | one number | the f64 |
//! | 2 | one text | u32 offset (low half), u32 length (high half) in `strings` |
//! | 3, 4 | one true, one false | ignored (0) |
//! | 6 | anything else: a multivalue field, numeric text | index of its extension |
//!
//! An **extension** is the full cell:
//!
//! ```text
//! 0   u8  kind              0 missing (a multivalue field whose first value
//!                           is not a scalar), 1 number, 2 text, 3 true,
//!                           4 false, 5 numeric text (text whose number
//!                           reading is known)
//! 1   u8  [0; 3]
//! 4   u32 count             number of values (multivalue fields)
//! 8   f64 number            kinds 1 and 5
//! 16  u32 offset, u32 len   kinds 2 and 5: the text in `strings`
//! ```
//!
//! Numbers travel as f64: the host reads text with `scorer_core::parse_number`
//! (the function the numeric transforms use) and sends numeric text as kind 5,
//! number and text together, so the guest does not parse decimals again and
//! text transforms still see the exact text. Both are optional for the host:
//! a field only numeric transforms read may travel as its bare number
//! (kind 1), and one no numeric transform reads as plain text (kind 2,
//! `BatchWriter::set_text_only`); the guest featurizes either the same.
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
//! Readers check every length, index and offset and never panic on a
//! malformed buffer.

mod batch;
mod results;

pub use batch::{BatchView, BatchWriter, BATCH_HEADER, BATCH_MAGIC, EXT};
pub use results::{write_results, ResultsView, RowResult, RESULT_MAGIC};

#[inline]
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

#[inline]
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests;
