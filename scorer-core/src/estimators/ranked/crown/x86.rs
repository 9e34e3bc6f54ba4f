//! The crown's kernels for x86-64: AVX-512BW (one register a pass) and AVX2
//! (two), chosen at run time.

use std::arch::x86_64::*;

use super::{Slot, LANES};

/// The crown of `levels` levels over `slots` for rows `0..rows`, 32 a pass.
///
/// # Safety
/// AVX-512BW is available; `rows` is a multiple of [`LANES`] and every
/// `slot.at + rows` is at most `ranks.len()`; `out.len() >= rows`.
#[target_feature(enable = "avx512bw")]
pub(super) unsafe fn avx512(
    levels: usize,
    slots: &[Slot],
    ranks: &[i16],
    rows: usize,
    out: &mut [u16],
) {
    let one = _mm512_set1_epi16(1);
    let base = ranks.as_ptr();
    for at in (0..rows).step_by(LANES) {
        // q: index within the level; m: 1 << q.
        let mut q = _mm512_setzero_si512();
        let mut m = one;
        for d in 0..levels {
            // The level's answers, node j at bit j (built high node first).
            let mut bits = _mm512_setzero_si512();
            for s in slots[(1 << d) - 1..(2 << d) - 1].iter().rev() {
                // SAFETY: `s.at + at + 32 <= ranks.len()` (caller).
                let r = unsafe { _mm512_loadu_si512(base.add(s.at as usize + at).cast()) };
                let right = _mm512_cmpgt_epi16_mask(r, _mm512_set1_epi16(s.split));
                let twice = _mm512_add_epi16(bits, bits);
                bits = _mm512_mask_add_epi16(twice, right, twice, one);
            }
            let took = _mm512_test_epi16_mask(bits, m);
            let twice = _mm512_add_epi16(q, q);
            q = _mm512_mask_add_epi16(twice, took, twice, one);
            let mm = _mm512_mullo_epi16(m, m);
            m = _mm512_mask_add_epi16(mm, took, mm, mm);
        }
        // SAFETY: `at + 32 <= rows <= out.len()`.
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(at).cast(), q) };
    }
}

/// As [`avx512`], in two AVX2 registers a pass.
///
/// # Safety
/// AVX2 is available; otherwise as [`avx512`].
#[target_feature(enable = "avx2")]
pub(super) unsafe fn avx2(
    levels: usize,
    slots: &[Slot],
    ranks: &[i16],
    rows: usize,
    out: &mut [u16],
) {
    let one = _mm256_set1_epi16(1);
    let zero = _mm256_setzero_si256();
    let base = ranks.as_ptr();
    for at in (0..rows).step_by(LANES) {
        let mut q = [zero; 2];
        let mut m = [one; 2];
        for d in 0..levels {
            let mut bits = [zero; 2];
            for s in slots[(1 << d) - 1..(2 << d) - 1].iter().rev() {
                let split = _mm256_set1_epi16(s.split);
                for (h, bits) in bits.iter_mut().enumerate() {
                    // SAFETY: `s.at + at + 32 <= ranks.len()` (caller).
                    let r =
                        unsafe { _mm256_loadu_si256(base.add(s.at as usize + at + 16 * h).cast()) };
                    // -1 where the row goes right: subtracting adds the bit.
                    let right = _mm256_cmpgt_epi16(r, split);
                    *bits = _mm256_sub_epi16(_mm256_add_epi16(*bits, *bits), right);
                }
            }
            for h in 0..2 {
                // -1 where the lane's bit is clear (it goes left).
                let left = _mm256_cmpeq_epi16(_mm256_and_si256(bits[h], m[h]), zero);
                let step = _mm256_add_epi16(one, left);
                q[h] = _mm256_add_epi16(_mm256_add_epi16(q[h], q[h]), step);
                let mm = _mm256_mullo_epi16(m[h], m[h]);
                m[h] = _mm256_add_epi16(mm, _mm256_andnot_si256(left, mm));
            }
        }
        for (h, q) in q.into_iter().enumerate() {
            // SAFETY: `at + 32 <= rows <= out.len()`.
            unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(at + 16 * h).cast(), q) };
        }
    }
}
