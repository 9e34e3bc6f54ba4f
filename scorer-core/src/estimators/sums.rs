//! The sums of the linear estimators and k-means, in one fixed order of
//! additions: four interleaved partial sums (terms 0, 4, 8, … in the first,
//! 1, 5, 9, … in the second, …), combined as `(s0 + s1) + (s2 + s3)`, then
//! the terms past the last whole four, in order.
//!
//! Four independent chains of additions instead of one, so the CPU overlaps
//! them (and the compiler may pair them in SIMD lanes); and the same
//! operations in the same order on every target (Rust never fuses a multiply
//! and an add), so native and wasm agree to the bit. Figures: BENCHMARKS.md,
//! issue [2/8] (k-means in wasm 0.75× → 0.79× native).

/// Σ `term(a[j], b[j])` over the shorter length, in the order above.
#[inline(always)]
fn sum4(a: &[f64], b: &[f64], term: impl Fn(f64, f64) -> f64) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (a[..n].chunks_exact(4), b[..n].chunks_exact(4));
    let (ta, tb) = (a.remainder(), b.remainder());
    let mut s = [0.0f64; 4];
    for (x, y) in a.zip(b) {
        for k in 0..4 {
            s[k] += term(x[k], y[k]);
        }
    }
    let mut t = (s[0] + s[1]) + (s[2] + s[3]);
    for (x, y) in ta.iter().zip(tb) {
        t += term(*x, *y);
    }
    t
}

/// Σ a·b over the shorter length.
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    sum4(a, b, |x, y| x * y)
}

/// Σ (a − b)², the squared Euclidean distance, over the shorter length.
#[inline]
pub(crate) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    sum4(a, b, |x, y| (x - y) * (x - y))
}

/// Σ (x − m)·p, the projection of `x` centred on `m` onto `p`, over the
/// shortest length.
#[inline]
pub(crate) fn centered_dot(x: &[f64], m: &[f64], p: &[f64]) -> f64 {
    let n = x.len().min(m.len()).min(p.len());
    let (x, m, p) = (&x[..n], &m[..n], &p[..n]);
    let (x, m, p) = (x.chunks_exact(4), m.chunks_exact(4), p.chunks_exact(4));
    let tail = x.remainder().iter().zip(m.remainder()).zip(p.remainder());
    let mut s = [0.0f64; 4];
    for ((x, m), p) in x.zip(m).zip(p) {
        for k in 0..4 {
            s[k] += (x[k] - m[k]) * p[k];
        }
    }
    let mut t = (s[0] + s[1]) + (s[2] + s[3]);
    for ((x, m), p) in tail {
        t += (x - m) * p;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_four_chains_then_the_tail() {
        // Terms chosen so that another order rounds differently.
        let a = [1e16, 1.0, -1e16, 1.0, 1.0, 1.0, 3.0];
        let b = [1.0; 7];
        // One whole four (the lanes) and a tail of three.
        let want = (((a[0] + a[1]) + (a[2] + a[3])) + a[4] + a[5]) + a[6];
        assert_eq!(want, 5.0);
        assert_eq!(dot(&a, &b).to_bits(), want.to_bits());
        let serial: f64 = a.iter().sum();
        assert_ne!(
            dot(&a, &b),
            serial,
            "the test's terms must tell orders apart"
        );
    }

    #[test]
    fn centered_dot_is_the_dot_of_the_difference() {
        let x = [3.0, -1.0, 2.5, 7.0, 1.0, -4.0];
        let m = [1.0, 1.0, 0.5, 2.0, 1.0, 0.0];
        let p = [0.5, 2.0, -1.0, 0.25, 9.0, 1.0];
        let d: Vec<f64> = x.iter().zip(&m).map(|(a, b)| a - b).collect();
        assert_eq!(centered_dot(&x, &m, &p).to_bits(), dot(&d, &p).to_bits());
    }

    #[test]
    fn unequal_lengths_sum_over_the_shorter() {
        // Whole fours in one slice but not in the other: the tail is the
        // shorter slice's, not the remainder of the longer one's fours.
        let (long, short) = ([1.0; 8], [1.0; 5]);
        assert_eq!(dot(&long, &short), 5.0);
        assert_eq!(dot(&short, &long), 5.0);
        assert_eq!(squared_distance(&[2.0; 8], &short), 5.0);
        assert_eq!(centered_dot(&long, &[0.0; 6], &short), 5.0);
    }

    #[test]
    fn squared_distance_of_short_and_empty_rows() {
        assert_eq!(squared_distance(&[], &[]), 0.0);
        assert_eq!(squared_distance(&[3.0], &[1.0]), 4.0);
        assert_eq!(
            squared_distance(&[1.0, 2.0, 3.0, 4.0, 5.0], &[0.0; 5]),
            55.0
        );
    }
}
