//! The ceiling of the ranked forest walk on this CPU: the same step as
//! `estimators/ranked` (load a u64 node, extract the cell, compare the row's
//! pre-shifted rank, add the carry to the left child) with nothing else: no
//! ranking, no leaf values, no tree changes, a 512-node table and the ranks
//! of the rows in flight (8, 10 or 12) all in L1, one walk per row in
//! registers.
//!
//! Throughput is in steps (one row, one level). Divide a model's steps per
//! row (the sum of its trees' depths: 1,200 for the benchmark RF, 800 for the
//! IF) into it to get the rows/s no scalar walk of this shape can beat here;
//! compare with `score_matrix/{rf,if}` of the `scoring` bench. Issue [1/8],
//! BENCHMARKS.md.
//!
//! `cargo bench -p scorer-core --bench walk_ceiling`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const NODES: usize = 512;
const COLUMNS: usize = 32;
const LEVELS: usize = 8;
const WALKS: usize = 4096;

/// `walks` lock-step descents of `LEVELS` levels by `G` rows; returns a
/// checksum so nothing is optimised away.
fn walk<const G: usize>(nodes: &[u64], ranks: &[u32], walks: usize) -> u64 {
    assert!(nodes.len() == NODES && ranks.len() >= COLUMNS * G);
    let mut id = [0usize; G];
    let mut check = 0u64;
    for _ in 0..walks {
        for _ in 0..LEVELS {
            for (k, id) in id.iter_mut().enumerate() {
                // SAFETY: ids stay below NODES (children are < NODES - 1, +1
                // at most) and cells below COLUMNS * G - G (built below).
                let n = unsafe { *nodes.get_unchecked(*id) };
                let r = unsafe { *ranks.get_unchecked((n & 0xffff) as usize + k) };
                *id = (n >> 32) as usize + usize::from(r > n as u32);
            }
        }
        for id in id.iter_mut() {
            check = check.wrapping_add(*id as u64);
            *id &= 63;
        }
    }
    check
}

fn tables(g: usize) -> (Vec<u64>, Vec<u32>) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let nodes = (0..NODES as u64)
        .map(|i| {
            let left = (2 * i + 1) % (NODES as u64 - 1);
            let cell = (next() % COLUMNS as u64) * g as u64;
            let rank = next() % 100;
            cell | rank << 16 | left << 32
        })
        .collect();
    let ranks = (0..COLUMNS * g)
        .map(|_| ((next() % 100) << 16) as u32)
        .collect();
    (nodes, ranks)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("walk_ceiling");
    g.sample_size(30);
    macro_rules! rows {
        ($($n:literal),*) => {$(
            let (nodes, ranks) = tables($n);
            g.throughput(Throughput::Elements((WALKS * LEVELS * $n) as u64));
            g.bench_function(BenchmarkId::new("rows_in_flight", $n), |b| {
                b.iter(|| walk::<$n>(black_box(&nodes), black_box(&ranks), WALKS))
            });
        )*};
    }
    rows!(8, 10, 12);
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
