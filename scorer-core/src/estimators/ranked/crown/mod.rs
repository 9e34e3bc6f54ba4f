//! The crown: the first levels of every tree decided for [`LANES`] rows at
//! once in SIMD lanes, where the scalar walk would take one row at a time.
//!
//! Near the root every row stands on one of few nodes (2^d at level d), so a
//! tree's first `levels` levels form a full heap of at most [`SLOTS`] nodes.
//! For a pass of rows, each heap node `j` of level `d` compares the rows'
//! ranks of its column with its cut, one vector compare, and the answers of
//! level `d` are packed per lane into a word (bit `j` of level `d`). The lane
//! then descends: at level `d` it stands at `q` (its index within the level)
//! and tests bit `q` with a one-hot mask `m = 1 << q`; the child's mask is
//! `1 << 2q` or `1 << (2q + 1)`, i.e. `m * m` or `2 * m * m`, a multiply that
//! every SIMD set has (x86 and wasm have no per-lane variable shift of
//! 16-bit lanes below AVX-512). Words and masks fit 16-bit lanes up to five
//! levels; four are decided ([`LEVELS`]).
//!
//! A leaf inside the crown becomes a heap node that sends every lane left
//! (its cut is the highest rank), and every bottom position maps to the node
//! of the tree it stands for (the node itself, or the leaf above it): the
//! scalar walk goes on from there. Same decisions, same leaves, same sums in
//! the same order: the crown changes the speed only.
//!
//! Kernels: AVX-512BW or AVX2 on x86-64 (detected at run time), simd128 on
//! wasm when the module is built with it; elsewhere no crown (every tree's
//! `levels` is 0 and the scalar walk starts at the root). Figures: issue
//! [1/8] in BENCHMARKS.md.

// A target with no kernel compiles the crowns but never builds one.
#![cfg_attr(
    not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )),
    allow(dead_code, unused_unsafe)
)]

use super::RankedNode;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm;
#[cfg(target_arch = "x86_64")]
mod x86;

/// Most levels a crown decides. Level `d` costs about 2^d × 4 vector
/// operations a pass; a fifth level (16 nodes) costs about what the scalar
/// step it saves does (measured: BENCHMARKS.md, [1/8]).
const LEVELS: usize = 4;
/// Heap nodes of a full crown.
const SLOTS: usize = (1 << LEVELS) - 1;
/// Bottom positions of a full crown.
pub(super) const EXITS: usize = 1 << LEVELS;
/// Rows a crown pass decides together (32 × i16: one AVX-512 register).
pub(super) const LANES: usize = 32;

/// A u16 rank as an i16 of the same order: signed compares are what AVX2 and
/// simd128 share.
#[inline(always)]
pub(super) fn bias(rank: u16) -> i16 {
    (rank ^ 0x8000) as i16
}

/// One heap node of a crown: where its column's ranks start in the block's
/// crown ranks, and its biased cut rank (a row goes right when its rank is
/// greater).
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    at: u32,
    split: i16,
}

/// The SIMD kernel of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    Simd128,
}

impl Kernel {
    fn detect() -> Option<Kernel> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512bw") {
                return Some(Kernel::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Some(Kernel::Avx2);
            }
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            return Some(Kernel::Simd128);
        }
        #[allow(unreachable_code)]
        None
    }
}

/// The crowns of every tree of a ranked forest.
#[derive(Debug, Clone)]
pub(super) struct Crowns {
    kernel: Option<Kernel>,
    /// Ranks a column holds in the block's crown ranks.
    stride: usize,
    /// Per tree: levels its crown decides (0: none).
    levels: Vec<u8>,
    /// Per tree, SLOTS heap nodes.
    slots: Vec<Slot>,
    /// Per tree, EXITS nodes: where each bottom position stands.
    exits: Vec<RankedNode>,
}

impl Crowns {
    /// Crowns for a forest whose block of crown ranks holds `stride` ranks a
    /// column; `enabled` false (or no SIMD kernel here) gives none.
    pub fn new(stride: usize, enabled: bool) -> Crowns {
        Crowns {
            kernel: if enabled { Kernel::detect() } else { None },
            stride,
            levels: Vec::new(),
            slots: Vec::new(),
            exits: Vec::new(),
        }
    }

    /// Whether any tree has a crown (the block's crown ranks are then needed).
    pub fn active(&self) -> bool {
        self.kernel.is_some()
    }

    /// Add the crown of the tree rooted at `root` with `depth` levels: up to
    /// [`LEVELS`], leaving at least one level to the scalar walk (whose
    /// last step yields the leaf's index).
    pub fn push(&mut self, nodes: &[RankedNode], root: u32, depth: u32) {
        let levels = match self.kernel {
            Some(_) => (depth.saturating_sub(1) as usize).min(LEVELS),
            None => 0,
        };
        let base = self.slots.len();
        self.slots.resize(base + SLOTS, Slot::default());
        // Node indices of the current level, in heap order.
        let mut at = vec![root];
        for d in 0..levels {
            let mut next = Vec::with_capacity(2 * at.len());
            for (j, &id) in at.iter().enumerate() {
                let n = nodes[id as usize];
                let slot = &mut self.slots[base + (1 << d) - 1 + j];
                if n.is_leaf() {
                    *slot = Slot {
                        at: 0,
                        split: i16::MAX,
                    };
                    next.extend([id, id]);
                } else {
                    *slot = Slot {
                        at: (n.column() * self.stride) as u32,
                        split: bias(n.rank()),
                    };
                    // Heap order: the left child (answer 0), then the right.
                    next.extend([n.left() as u32, n.right() as u32]);
                }
            }
            at = next;
        }
        let exits = at.iter().map(|&id| nodes[id as usize]);
        self.exits.extend(
            exits
                .chain(std::iter::repeat(nodes[root as usize]))
                .take(EXITS),
        );
        self.levels.push(levels as u8);
    }

    /// Levels the crown of tree `t` decides.
    #[inline(always)]
    pub fn levels(&self, t: usize) -> u32 {
        u32::from(self.levels[t])
    }

    /// Tree `t`'s nodes at the bottom positions of its crown: every one of
    /// the [`EXITS`] is a node of the tree (positions below no crown level
    /// stand at the root), so any position read through [`exit`] is one.
    #[inline(always)]
    pub fn exits(&self, t: usize) -> &[RankedNode; EXITS] {
        self.exits[t * EXITS..][..EXITS]
            .try_into()
            .expect("EXITS nodes a tree")
    }

    /// For the first `rows` rows of a block (a multiple of [`LANES`], at most
    /// the stride): each row's bottom position in tree `t`'s crown, into
    /// `out`. `ranks` holds the block's biased ranks column after column,
    /// `stride` a column. A tree without a crown leaves `out` alone.
    pub fn walk(&self, t: usize, ranks: &[i16], rows: usize, out: &mut [u16]) {
        let levels = self.levels(t) as usize;
        let Some(kernel) = self.kernel.filter(|_| levels > 0) else {
            return;
        };
        assert!(rows.is_multiple_of(LANES) && rows <= self.stride && out.len() >= rows);
        let slots = &self.slots[t * SLOTS..][..SLOTS];
        // Every slot's column lies in `ranks` (a column's `at` is below
        // `used * stride`, a leaf's is 0): the kernels read unchecked.
        assert!(slots
            .iter()
            .all(|s| s.at as usize + self.stride <= ranks.len()));
        // SAFETY: the kernel's feature was detected (or compiled in); reads
        // are `slot.at + row + lane` with `row + lane < rows <= stride`.
        unsafe {
            match kernel {
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx512 => x86::avx512(levels, slots, ranks, rows, out),
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx2 => x86::avx2(levels, slots, ranks, rows, out),
                #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                Kernel::Simd128 => wasm::simd128(levels, slots, ranks, rows, out),
            }
        }
    }
}

/// The node at bottom position `q` of a tree's [`Crowns::exits`]; the mask
/// keeps any u16 in range, so no bounds check is paid (the walk writes
/// positions below 2^levels ≤ EXITS, which it leaves alone).
#[inline(always)]
pub(super) fn exit(exits: &[RankedNode; EXITS], q: u16) -> RankedNode {
    exits[usize::from(q) & (EXITS - 1)]
}

/// A crown's walk for one lane, written plainly: the kernels' reference.
#[cfg(test)]
fn walk_lane(levels: usize, slots: &[Slot], ranks: &[i16], row: usize) -> u16 {
    let mut p = 0;
    for _ in 0..levels {
        let s = slots[p];
        p = 2 * p + 1 + usize::from(ranks[s.at as usize + row] > s.split);
    }
    (p + 1 - (1 << levels)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random slots over `columns` columns of `stride` ranks, some of them
    /// leaves, and random biased ranks with ties at the cuts.
    fn fixture(seed: u64, columns: usize, stride: usize) -> (Vec<Slot>, Vec<i16>) {
        let mut seed = seed | 1;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let slots = (0..SLOTS)
            .map(|_| match next() % 8 {
                0 => Slot {
                    at: 0,
                    split: i16::MAX,
                },
                _ => Slot {
                    at: ((next() % columns as u64) as usize * stride) as u32,
                    split: bias((next() % 40) as u16),
                },
            })
            .collect();
        let ranks = (0..columns * stride)
            .map(|_| match next() % 16 {
                0 => bias(0),
                1 => bias(u16::MAX - 1),
                v => bias((v * 3) as u16),
            })
            .collect();
        (slots, ranks)
    }

    /// Every kernel this machine has gives each lane the plain walk's
    /// position, at every crown depth.
    #[test]
    fn kernels_equal_the_plain_walk() {
        let Some(kernel) = Kernel::detect() else {
            if std::env::var_os("CI").is_some() && cfg!(target_arch = "x86_64") {
                panic!("CI runs on x86-64 with AVX2: the crown kernels must be tested");
            }
            return;
        };
        let mut kernels = vec![kernel];
        #[cfg(target_arch = "x86_64")]
        if kernel == Kernel::Avx512 {
            kernels.push(Kernel::Avx2);
        }
        let (columns, stride) = (5, 4 * LANES);
        for seed in 1..40 {
            let (slots, ranks) = fixture(seed, columns, stride);
            for levels in 1..=LEVELS {
                let crowns = Crowns {
                    levels: vec![levels as u8],
                    slots: slots.clone(),
                    exits: Vec::new(),
                    stride,
                    kernel: None,
                };
                let want: Vec<u16> = (0..stride)
                    .map(|row| walk_lane(levels, &slots, &ranks, row))
                    .collect();
                for &k in &kernels {
                    let mut got = vec![u16::MAX; stride];
                    Crowns {
                        kernel: Some(k),
                        ..crowns.clone()
                    }
                    .walk(0, &ranks, stride, &mut got);
                    assert_eq!(got, want, "{k:?}, {levels} levels, seed {seed}");
                }
            }
        }
    }
}
