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
//! On x86-64 with AVX-512 it also runs the step with gathers (16 rows a
//! register), to compare.
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

/// The same walk with AVX-512 gathers, 16 rows a register and `V` registers
/// in flight: two 8-lane gathers of u64 nodes, one 16-lane gather of ranks.
/// The measured answer to "would gathers beat scalar loads here?" (no, on
/// Zen 5: BENCHMARKS.md [1/8]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn walk_gather<const V: usize>(nodes: &[u64], ranks: &[u32], walks: usize) -> u64 {
    use std::arch::x86_64::*;
    assert!(nodes.len() == NODES && ranks.len() >= COLUMNS * 16 * V);
    let lanes: [__m512i; V] = std::array::from_fn(|v| {
        _mm512_add_epi32(
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32(16 * v as i32),
        )
    });
    let lo = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    let hi = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    let (one, cell, mask) = (
        _mm512_set1_epi32(1),
        _mm512_set1_epi32(0xffff),
        _mm512_set1_epi32(63),
    );
    let mut id = [_mm512_setzero_si512(); V];
    let mut check = _mm512_setzero_si512();
    for _ in 0..walks {
        for _ in 0..LEVELS {
            for v in 0..V {
                // SAFETY: as in `walk`: ids < NODES, cells + lane in `ranks`.
                let (a, b) = unsafe {
                    (
                        _mm512_i32gather_epi64::<8>(
                            _mm512_castsi512_si256(id[v]),
                            nodes.as_ptr().cast(),
                        ),
                        _mm512_i32gather_epi64::<8>(
                            _mm512_extracti64x4_epi64::<1>(id[v]),
                            nodes.as_ptr().cast(),
                        ),
                    )
                };
                let split = _mm512_permutex2var_epi32(a, lo, b);
                let left = _mm512_permutex2var_epi32(a, hi, b);
                let at = _mm512_add_epi32(_mm512_and_si512(split, cell), lanes[v]);
                let r = unsafe { _mm512_i32gather_epi32::<4>(at, ranks.as_ptr().cast()) };
                let right = _mm512_cmpgt_epu32_mask(r, split);
                id[v] = _mm512_mask_add_epi32(left, right, left, one);
            }
        }
        for id in id.iter_mut() {
            check = _mm512_add_epi32(check, *id);
            *id = _mm512_and_si512(*id, mask);
        }
    }
    _mm512_reduce_add_epi32(check) as u32 as u64
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
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        macro_rules! gathers {
            ($($v:literal),*) => {$(
                let (nodes, ranks) = tables(16 * $v);
                g.throughput(Throughput::Elements((WALKS * LEVELS * 16 * $v) as u64));
                g.bench_function(BenchmarkId::new("avx512_gather_rows", 16 * $v), |b| {
                    // SAFETY: AVX-512F was detected.
                    b.iter(|| unsafe { walk_gather::<$v>(black_box(&nodes), black_box(&ranks), WALKS) })
                });
            )*};
        }
        gathers!(1, 2, 4);
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
