//! The ranked walk against the f64 walk it replaces: unit cases and proptests.

use super::*;
use crate::estimators::tree::TreeArrays;
use proptest::prelude::*;

/// A valid tree over `width` columns, grown breadth-first from
/// `(feature, threshold)` splits.
fn tree(width: usize, splits: &[(usize, f64)]) -> TreeArrays {
    tree_with(width, splits, |_| 0)
}

/// As [`tree`], each split turning the leaf `pick(leaves)` of the
/// frontier (0: the oldest) into a node.
fn tree_with(
    width: usize,
    splits: &[(usize, f64)],
    mut pick: impl FnMut(usize) -> usize,
) -> TreeArrays {
    let mut t = TreeArrays {
        feature: vec![-2],
        threshold: vec![-2.0],
        left: vec![-1],
        right: vec![-1],
    };
    let mut frontier = std::collections::VecDeque::from([0usize]);
    for &(f, th) in splits {
        if frontier.is_empty() {
            break;
        }
        let i = frontier
            .remove(pick(frontier.len()))
            .expect("picked in range");
        let n = t.feature.len() as i64;
        t.feature[i] = (f % width) as i64;
        t.threshold[i] = th;
        t.left[i] = n;
        t.right[i] = n + 1;
        for _ in 0..2 {
            t.feature.push(-2);
            t.threshold.push(-2.0);
            t.left.push(-1);
            t.right.push(-1);
        }
        frontier.extend([n as usize, n as usize + 1]);
    }
    t
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => prop::sample::select(vec![-1.5, -0.0, 0.0, 0.25, 1.0, 3.0]),
        2 => -4.0..4.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
    ]
}

/// Bit-identical sums to the f64 walk over several blocks, tree chunks
/// and a short last group.
#[test]
fn many_blocks_equal_f64_walk() {
    // Narrow: ranked a column at a time; wide: a group of rows at a time.
    for width in [3, WIDE + 7] {
        many_blocks_at_width(width);
    }
}

fn many_blocks_at_width(width: usize) {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut forest = PackedForest::default();
    for k in 0..(2 * TREES + 1) {
        let splits: Vec<(usize, f64)> = (0..40)
            .map(|_| {
                (
                    (next() % width as u64) as usize,
                    (next() % 200) as f64 / 50.0 - 2.0,
                )
            })
            .collect();
        // Balanced and lopsided trees: leaves inside and below crowns.
        let t = match k % 3 {
            0 => tree(width, &splits),
            1 => tree_with(width, &splits, |n| n - 1),
            _ => tree_with(width, &splits, |n| (next() % n as u64) as usize),
        };
        let depth = t.validate("t", width, &[]).unwrap();
        let values: Vec<f64> = (0..t.len()).map(|i| (i * 3 + k) as f64 / 7.0).collect();
        forest.push(&t, &values, &depth);
    }
    let rows = 2 * BLOCK + GROUP / 2 + 1;
    let x: Vec<f64> = (0..rows * width)
        .map(|_| match next() % 50 {
            0 => f64::NAN,
            1 => -0.0,
            v => (v as f64 - 25.0) / 12.5,
        })
        .collect();
    let mut want = vec![0.0; rows];
    forest.accumulate_f64(&x, width, &mut want);
    for crowns in [true, false] {
        let ranked = RankedForest::with_crowns(&forest, crowns).unwrap();
        let mut got = vec![0.0; rows];
        ranked.accumulate(&forest, &x, width, &mut got);
        assert!(
            got.iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "width {width}, crowns: {crowns}"
        );
    }
}

proptest! {
    /// The ranked walk gives bit-identical sums to the f64 walk, for
    /// values equal to thresholds, between them, ±0, NaN and infinities.
    #[test]
    fn ranked_equals_f64_walk(
        width in 1usize..5,
        trees in prop::collection::vec(
            prop::collection::vec((0usize..5, prop::sample::select(vec![-1.5, -0.0, 0.0, 0.25, 1.0, 3.0, 0.7])), 0..20),
            1..6),
        x in prop::collection::vec(value(), 1..400),
    ) {
        let mut forest = PackedForest::default();
        for (k, splits) in trees.iter().enumerate() {
            let t = tree(width, splits);
            let depth = t.validate("t", width, &[]).unwrap();
            let values: Vec<f64> = (0..t.len()).map(|i| (i * 7 + k) as f64 / 13.0).collect();
            forest.push(&t, &values, &depth);
        }
        let rows = x.len() / width;
        prop_assume!(rows > 0);
        let x = &x[..rows * width];
        let mut want = vec![0.0; rows];
        forest.accumulate_f64(x, width, &mut want);
        for crowns in [true, false] {
            let ranked = RankedForest::with_crowns(&forest, crowns).unwrap();
            let mut got = vec![0.0; rows];
            ranked.accumulate(&forest, x, width, &mut got);
            prop_assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}
