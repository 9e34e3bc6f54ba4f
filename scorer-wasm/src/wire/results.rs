//! Results (`RSR1`): [`write_results`] in the guest, [`ResultsView`] on the
//! host. The layout is documented on the [`crate::wire`] module.

use super::{u32_at, u64_at};

const HEADER: usize = 16;

/// Magic of a result.
pub const RESULT_MAGIC: &[u8; 4] = b"RSR1";

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
