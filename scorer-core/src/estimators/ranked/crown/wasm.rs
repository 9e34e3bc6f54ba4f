//! The crown's kernel for wasm built with simd128: four 128-bit registers a
//! pass. Each level is straight-line code (its node count is a constant), so
//! the JIT puts no loop check and no spill between a level's nodes.

use core::arch::wasm32::*;

use super::{Slot, LANES};

/// The crown of `levels` (at most 4) levels over `slots` for rows
/// `0..rows`, 32 a pass.
///
/// # Safety
/// `rows` is a multiple of [`LANES`] and every `slot.at + rows` is at most
/// `ranks.len()`; `out.len() >= rows`.
pub(super) unsafe fn simd128(
    levels: usize,
    slots: &[Slot],
    ranks: &[i16],
    rows: usize,
    out: &mut [u16],
) {
    debug_assert!(levels <= super::LEVELS, "the kernel decides four levels");
    let one = i16x8_splat(1);
    for at in (0..rows).step_by(LANES) {
        let mut lanes = Lanes {
            q: [i16x8_splat(0); 4],
            m: [one; 4],
        };
        // SAFETY (every level): the caller's bounds.
        unsafe {
            if levels > 0 {
                lanes.level::<1>(&slots[0..1], ranks, at);
            }
            if levels > 1 {
                lanes.level::<2>(&slots[1..3], ranks, at);
            }
            if levels > 2 {
                lanes.level::<4>(&slots[3..7], ranks, at);
            }
            if levels > 3 {
                lanes.level::<8>(&slots[7..15], ranks, at);
            }
        }
        for (h, q) in lanes.q.into_iter().enumerate() {
            // SAFETY: `at + 32 <= rows <= out.len()`.
            unsafe { v128_store(out.as_mut_ptr().add(at + 8 * h).cast(), q) };
        }
    }
}

/// A pass's 32 lanes: index within the level `q` and its one-hot `m`.
struct Lanes {
    q: [v128; 4],
    m: [v128; 4],
}

impl Lanes {
    /// Decide one level of `W` nodes and descend.
    ///
    /// # Safety
    /// Every `slot.at + at + 32 <= ranks.len()`.
    #[inline(always)]
    unsafe fn level<const W: usize>(&mut self, slots: &[Slot], ranks: &[i16], at: usize) {
        let slots: &[Slot; W] = slots.try_into().expect("a level's slots");
        let zero = i16x8_splat(0);
        let mut bits = [zero; 4];
        // Node j's answer at bit j: built high node first.
        for s in slots.iter().rev() {
            let split = i16x8_splat(s.split);
            let col = unsafe { ranks.as_ptr().add(s.at as usize + at) };
            for (h, bits) in bits.iter_mut().enumerate() {
                // SAFETY: the caller's bound.
                let r = unsafe { v128_load(col.add(8 * h).cast()) };
                // -1 where the row goes right: subtracting adds the bit.
                *bits = i16x8_sub(i16x8_add(*bits, *bits), i16x8_gt(r, split));
            }
        }
        let one = i16x8_splat(1);
        for ((bits, q), m) in bits.iter().zip(&mut self.q).zip(&mut self.m) {
            // -1 where the lane's bit is clear (it goes left).
            let left = i16x8_eq(v128_and(*bits, *m), zero);
            *q = i16x8_add(i16x8_add(*q, *q), i16x8_add(one, left));
            let mm = i16x8_mul(*m, *m);
            *m = i16x8_add(mm, v128_andnot(mm, left));
        }
    }
}
