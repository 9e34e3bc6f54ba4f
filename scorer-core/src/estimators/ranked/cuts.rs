//! Each split feature's sorted distinct thresholds ("cuts"), and the exact
//! rank of a value among them: the number of cuts strictly below it.
//!
//! A plain binary search costs log2(cuts) dependent steps per value; a random
//! forest has thousands of cuts per feature. So each feature also gets an
//! equal-width bucket index over its cut range: `bucket(x)` is
//! `clamp((x - lo) * scale, 0, last)` truncated to an integer, and
//! `starts[b]` counts the cuts whose own bucket is below `b`. The bucket map
//! is monotone in `x` (subtracting, multiplying by a positive constant,
//! clamping and truncating all are, with IEEE rounding), hence every cut in
//! an earlier bucket than `x`'s is below `x` and every cut in a later one is
//! above it: the rank is `starts[b]` plus a count within bucket `b` only.
//! That count is a branch-free power-of-two search over the bucket's few
//! cuts, stepping all lanes of a group together; the cuts after a bucket act
//! as +inf (they are above `x`), and each feature's list is padded with +inf
//! so the search never leaves it. NaN lands in bucket 0 and compares below
//! nothing: rank 0, as `NaN > t` is false in the f64 walk.
//!
//! Exact by construction, whatever the data: a skewed feature only makes its
//! buckets fuller and the search longer, never wrong.

/// One feature's part of a [`Cuts`].
#[derive(Debug, Clone)]
struct Feature {
    /// Feature-matrix column.
    column: u32,
    /// Where its cuts start in `Cuts::cuts`.
    cuts_at: u32,
    /// Number of cuts (padding not counted).
    len: u32,
    /// Where its `last + 2` bucket starts begin in `Cuts::starts`.
    starts_at: u32,
    lo: f64,
    scale: f64,
    /// Highest bucket, as f64 for the clamp.
    last: f64,
}

/// The cuts of every split feature, ready for ranking.
#[derive(Debug, Clone, Default)]
pub(super) struct Cuts {
    features: Vec<Feature>,
    /// Each feature's cuts, ascending, then its +inf padding.
    cuts: Vec<f64>,
    /// Per feature and bucket: index in `cuts` of the bucket's first cut.
    starts: Vec<u32>,
}

/// Cut lists this short are ranked by comparing the value with each cut
/// (and +inf padding): FEW compares, no bucket and no search. One-hot and
/// flag columns (one cut) and small ordinal ones are this short: 63 of
/// NSL-KDD's 90 split columns, all 30 of UCI phishing's.
pub(super) const FEW: usize = 4;
/// A short cut list's ranking: compares with its cuts, no search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Short {
    /// One cut (one-hot and flag columns): one compare.
    One,
    /// Two to [`FEW`] cuts, padded with +inf to FEW: FEW compares.
    Few,
}

/// Buckets per cut: a few, so most buckets hold zero to two cuts.
const BUCKETS_PER_CUT: usize = 2;
/// Most buckets of one feature.
const MAX_BUCKETS: usize = 1 << 16;

impl Cuts {
    /// Add a split feature: matrix `column` and its thresholds, sorted
    /// ascending, finite and distinct (±0 counted once).
    pub fn push(&mut self, column: u32, sorted: &[f64]) {
        debug_assert!(sorted.windows(2).all(|w| w[0] < w[1]));
        let n = sorted.len();
        let (lo, hi) = (
            sorted.first().copied().unwrap_or(0.0),
            sorted.last().copied().unwrap_or(0.0),
        );
        let buckets = (n * BUCKETS_PER_CUT).clamp(1, MAX_BUCKETS);
        let scale = buckets as f64 / (hi - lo);
        // One bucket when the range is a point or overflows: a plain search.
        let (scale, last) = if n > 1 && scale.is_finite() && scale > 0.0 {
            (scale, (buckets - 1) as f64)
        } else {
            (0.0, 0.0)
        };
        let feature = Feature {
            column,
            cuts_at: self.cuts.len() as u32,
            len: n as u32,
            starts_at: self.starts.len() as u32,
            lo,
            scale,
            last,
        };
        // starts[b] = cuts_at + number of cuts in buckets below b.
        let count = last as usize + 1;
        let mut starts = vec![0u32; count + 1];
        for &c in sorted {
            starts[bucket(&feature, c) + 1] += 1;
        }
        let mut fullest = 0;
        let mut at = feature.cuts_at;
        for s in &mut starts {
            fullest = fullest.max(*s);
            at += *s;
            *s = at;
        }
        // The search reads at most 2 * fullest cuts past a bucket's start,
        // the count of a short list its first FEW.
        self.cuts.extend_from_slice(sorted);
        let padding = (2 * fullest as usize + 1).max(FEW);
        self.cuts
            .extend(std::iter::repeat_n(f64::INFINITY, padding));
        self.starts.extend_from_slice(&starts);
        self.features.push(feature);
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// The matrix column of feature `f`.
    pub fn column(&self, f: usize) -> usize {
        self.features[f].column as usize
    }

    /// The sorted cuts of feature `f`.
    pub fn of(&self, f: usize) -> &[f64] {
        let f = &self.features[f];
        &self.cuts[f.cuts_at as usize..(f.cuts_at + f.len) as usize]
    }

    /// How feature `f` is ranked: [`Short::One`] for at most one cut,
    /// [`Short::Few`] for at most [`FEW`], else `None` ([`Cuts::rank`]).
    #[inline(always)]
    pub fn short(&self, f: usize) -> Option<Short> {
        match self.features[f].len as usize {
            0 | 1 => Some(Short::One),
            2..=FEW => Some(Short::Few),
            _ => None,
        }
    }

    /// As [`Cuts::rank`], for a feature with at most `M` ≤ [`FEW`] cuts:
    /// every one of its first `M` cuts below x counts one; the +inf padding
    /// never does, nor does any cut for NaN.
    #[inline(always)]
    pub fn rank_few<const M: usize, const N: usize>(&self, f: usize, x: [f64; N]) -> [u32; N] {
        const { assert!(M <= FEW) };
        let cuts: &[f64; M] = self.cuts[self.features[f].cuts_at as usize..][..M]
            .try_into()
            .expect("FEW cuts or padding");
        std::array::from_fn(|k| cuts.iter().map(|c| u32::from(*c < x[k])).sum::<u32>())
    }

    /// The ranks of `x` among feature `f`'s cuts, N values at once.
    #[inline]
    pub fn rank<const N: usize>(&self, f: usize, x: [f64; N]) -> [u32; N] {
        let feature = &self.features[f];
        let starts = &self.starts[feature.starts_at as usize..];
        let mut pos = [0usize; N];
        let mut widest = 0;
        assert!(starts.len() > feature.last as usize + 1);
        for k in 0..N {
            let b = bucket(feature, x[k]);
            // SAFETY: b <= last, and the feature has last + 2 starts
            // (asserted above).
            let (at, end) = unsafe { (*starts.get_unchecked(b), *starts.get_unchecked(b + 1)) };
            pos[k] = at as usize;
            widest = widest.max(end as usize - pos[k]);
        }
        // Power-of-two search over [pos, pos + step * 2): all lanes together.
        let mut step = (widest + 1).next_power_of_two() / 2;
        let cuts = &self.cuts[..];
        while step > 0 {
            for k in 0..N {
                // SAFETY: pos[k] + step - 1 < bucket start + 2 * fullest,
                // inside this feature's padding (see `push`).
                let below = unsafe { *cuts.get_unchecked(pos[k] + step - 1) } < x[k];
                pos[k] = std::hint::select_unpredictable(below, pos[k] + step, pos[k]);
            }
            step /= 2;
        }
        std::array::from_fn(|k| (pos[k] - feature.cuts_at as usize) as u32)
    }
}

/// The bucket of `x` (monotone in `x`; NaN → 0).
#[inline(always)]
fn bucket(f: &Feature, x: f64) -> usize {
    let t = (x - f.lo) * f.scale;
    // `>` is false for NaN: NaN goes to bucket 0. Written as `t > 0 ? t : 0`
    // and `t < last ? t : last`, each clamp is one `maxsd` / `minsd` on
    // x86-64 (a `>=` costs a compare and three bitwise operations).
    let t = if t > 0.0 { t } else { 0.0 };
    let t = if t < f.last { t } else { f.last };
    debug_assert!((0.0..=f.last).contains(&t));
    // SAFETY: t is in [0, last] (NaN and both infinities included: the
    // clamps above send them to 0 or last) and last < 2^16: the truncation
    // fits an i32. One instruction, where `as usize` costs a dozen on x86-64
    // (and a signed truncation is the cheaper one in wasm too); through u32
    // the widening is free.
    unsafe { t.to_int_unchecked::<i32>() as u32 as usize }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(cuts: &[f64], x: f64) -> u32 {
        cuts.partition_point(|c| *c < x) as u32
    }

    fn check(sorted: &[f64], xs: &[f64]) {
        let mut c = Cuts::default();
        c.push(3, &[1.0]);
        c.push(7, sorted);
        c.push(9, &[-2.0, 5.0]);
        assert_eq!(c.of(1), sorted);
        assert_eq!(c.column(1), 7);
        for group in xs.chunks(4) {
            let mut x = [f64::NAN; 4];
            x[..group.len()].copy_from_slice(group);
            let got = c.rank(1, x);
            // FEW compares hold for every short list (one cut included: its
            // padding is +inf), one compare for a single cut.
            if c.short(1).is_some() {
                assert_eq!(
                    c.rank_few::<FEW, 4>(1, x),
                    got,
                    "x = {x:?} cuts = {sorted:?}"
                );
            }
            if c.short(1) == Some(Short::One) {
                assert_eq!(c.rank_few::<1, 4>(1, x), got, "x = {x:?} cuts = {sorted:?}");
            }
            for k in 0..4 {
                assert_eq!(
                    got[k],
                    reference(sorted, x[k]),
                    "x = {:?} cuts = {sorted:?}",
                    x[k]
                );
            }
        }
    }

    #[test]
    fn ranks_at_edges() {
        let cuts = [-1.0, 0.0, 0.5, 2.0];
        let xs = [
            -5.0,
            -1.0,
            -0.5,
            0.0,
            -0.0,
            0.5,
            1.0,
            2.0,
            3.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MAX,
            f64::MIN,
            1e-320,
        ];
        check(&cuts, &xs);
        check(&[], &xs);
        check(&[0.0], &xs);
        // A skewed feature: one far outlier makes one full bucket.
        let mut skewed: Vec<f64> = (0..100).map(|i| i as f64 * 1e-3).collect();
        skewed.push(1e300);
        check(&skewed, &[0.0, 0.05, 0.0505, 1.0, 1e300, f64::INFINITY]);
        // A range too wide for f64: one bucket.
        check(
            &[-f64::MAX, 0.0, f64::MAX],
            &[-1.0, 1.0, f64::MAX, f64::INFINITY],
        );
    }

    fn cut_lists() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(
            prop_oneof![
                4 => -10.0..10.0f64,
                2 => prop::sample::select(vec![-1.0, -0.0, 0.0, 0.5, 1.0, 1e-300, 1e300, -1e300]),
                1 => -1e12..1e12f64,
            ],
            0..300,
        )
        .prop_map(|mut v| {
            v.sort_by(f64::total_cmp);
            v.dedup_by(|a, b| a == b);
            v
        })
    }

    proptest! {
        /// The bucketed search equals partition_point for values at, next
        /// to and between the cuts, and for ±0, NaN and infinities.
        #[test]
        fn rank_equals_partition_point(cuts in cut_lists(), extra in prop::collection::vec(-20.0..20.0f64, 0..50)) {
            let mut xs: Vec<f64> = cuts.iter().flat_map(|&c| [c, c.next_up(), c.next_down()]).collect();
            xs.extend(extra);
            xs.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0]);
            check(&cuts, &xs);
        }
    }
}
