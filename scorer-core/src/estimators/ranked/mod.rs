//! A packed forest re-expressed over threshold ranks: the same decisions in
//! half the bytes and fewer instructions, which is what makes large forests
//! fast.
//!
//! For every feature the forest splits on, its distinct thresholds are sorted
//! once at load ([`cuts`]). A value `x` is replaced by its rank, the number of
//! cuts strictly below it, and a split on the cut of rank `k` sends a row
//! right exactly when `rank(x) > k`, because `x > cut[k]` ⇔ `cut[k] < x`
//! ⇔ `k < rank(x)` for sorted distinct cuts. The decision is therefore the
//! f64 comparison itself, not an approximation: NaN ranks 0 and goes left (as
//! `NaN > t` is false), and ±0.0 compare as f64 does.
//!
//! Scoring a batch: rank a block of rows (every used feature, once); decide
//! each tree's first levels for 32 rows at a time in SIMD lanes ([`crown`]);
//! then let groups of rows walk the rest of a few trees at a time, their
//! nodes in registers and their sums in registers across those trees. A node is one u64
//! ({cell, rank, child}) read with one load; a step is load, extract the cell,
//! subtract the row's rank, shift ([`RankedNode`]). Trees are summed per row in tree order, as
//! [`PackedForest::accumulate_f64`] does: results are bit-identical. Figures and
//! what was tried: BENCHMARKS.md, issue [1/8].

mod crown;
mod cuts;

use std::collections::BTreeMap;

use super::tree::PackedForest;
use crown::{bias, exit, Crowns, EXITS, LANES};
use cuts::{Cuts, Short};

/// Cuts per feature must rank in a u16 below the leaves' `LEAF` rank.
const MAX_CUTS: usize = u16::MAX as usize - 1;
/// Most columns split on: a column's first cell, column × GROUP, is a u16.
const MAX_COLUMNS: usize = u16::MAX as usize / GROUP;
/// Rank stored in leaves: no row's rank exceeds it, so leaves loop to themselves.
const LEAF: u16 = u16::MAX;

/// Rows ranked and walked at a time (the adapter's batch): the block's ranks,
/// 4 bytes a cell, stay in L2.
const BLOCK: usize = 1024;
/// Rows walking together, their node indices in registers: enough independent
/// load chains to hide the L1 latency, few enough not to spill.
const GROUP: usize = 10;
/// Trees a group walks before the next group: their nodes stay in L2 and the
/// group's sums in registers, so the block's ranks stream once per TREES trees.
const TREES: usize = 4;
/// Matrix columns above which a block is ranked a group of rows at a time
/// (every used column of GROUP rows, whose cells then sit in L1) instead of
/// a column at a time (one column's cut index hot, but every value a new
/// cache line, the block's rows read once per used column): 64 columns are
/// a 512 KiB block. NSL-KDD's forest (122 columns) scores 35 % faster by
/// rows, [1/8]'s synthetic one (32 columns) 5 % faster by columns
/// (BENCHMARKS.md, [7/8]).
const WIDE: usize = 64;
/// Ranks a column holds in a block's crown ranks: every row a group touches
/// (a short last group repeats its last row), in whole crown passes.
const CROWN_STRIDE: usize = BLOCK.next_multiple_of(GROUP).next_multiple_of(LANES);

/// One ranked node in one u64, read with a single load: bits 0..16 the used
/// column times GROUP (its first cell in a group's ranks), 16..32 the rank of
/// the split's threshold among that column's cuts, 32..64 `hi`: for a split
/// the index of its left child, its right child standing just before it, at
/// `hi - 1`; for a leaf its own index.
///
/// A row's shifted rank `r << 16` exceeds the low half `rank << 16 | cell`
/// exactly when `r > rank`, and then subtracting it from the node borrows one
/// from `hi`: the child is `(node - r) >> 32`, the right one when the row goes
/// right. A step is four instructions on x86-64 (load the node, extract the
/// cell, subtract the rank from memory, shift) and no compare or flag in the
/// wasm build, where Cranelift turned session 13's compare and add into
/// compare, set, extend and add. A leaf's low half is above every rank, so
/// a step from a leaf stays on it.
#[derive(Debug, Clone, Copy)]
struct RankedNode(u64);

impl RankedNode {
    fn new(column: u16, rank: u16, hi: u32) -> RankedNode {
        let cell = u64::from(column) * GROUP as u64;
        debug_assert!(cell <= 0xffff);
        RankedNode(cell | u64::from(rank) << 16 | u64::from(hi) << 32)
    }
    #[inline(always)]
    fn cell(self) -> usize {
        (self.0 & 0xffff) as usize
    }
    /// A split's left child (a leaf: itself).
    fn left(self) -> usize {
        (self.0 >> 32) as usize
    }
    /// A split's right child.
    fn right(self) -> usize {
        self.left() - 1
    }
    fn rank(self) -> u16 {
        (self.0 >> 16) as u16
    }
    fn is_leaf(self) -> bool {
        self.rank() == LEAF
    }
    /// The used column split on.
    fn column(self) -> usize {
        self.cell() / GROUP
    }
    /// The child that lane `k` of a group (shifted ranks `group`) goes to; a
    /// leaf's is itself.
    ///
    /// # Safety
    /// `self.cell() + k < group.len()`: a column is < used and `k` < GROUP,
    /// so this holds for a group's ranks (`used * GROUP` of them).
    #[inline(always)]
    unsafe fn child(self, group: &[u32], k: usize) -> usize {
        let r = unsafe { *group.get_unchecked(self.cell() + k) };
        // No underflow: a borrow needs r above the low half, and then the
        // node is a split, whose `hi` is at least 1.
        (self.0.wrapping_sub(u64::from(r)) >> 32) as usize
    }
}

/// The ranked form of a [`PackedForest`]: the same nodes, each pair of
/// siblings stored right child first (so a tree's root keeps its index).
#[derive(Debug, Clone)]
pub(crate) struct RankedForest {
    nodes: Vec<RankedNode>,
    /// Each node's value, in this order.
    values: Vec<f64>,
    /// The used columns (in increasing matrix order) and their cuts.
    cuts: Cuts,
    /// Each tree's first levels, decided in SIMD lanes.
    crowns: Crowns,
}

impl RankedForest {
    /// The ranked form of `forest`, or `None` when it does not fit in 16-bit
    /// ranks and cells (over 65,534 distinct thresholds on one feature, or
    /// over 6,553 features split on); the f64 walk is then used.
    pub fn new(forest: &PackedForest) -> Option<RankedForest> {
        RankedForest::with_crowns(forest, true)
    }

    /// As [`RankedForest::new`]; `crowns` false walks every level in scalar
    /// code (the crowns' reference in tests).
    fn with_crowns(forest: &PackedForest, crowns: bool) -> Option<RankedForest> {
        // Each split feature's thresholds, by feature, in increasing order.
        let mut per_column: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for n in forest.nodes.iter().filter(|n| n.is_split()) {
            per_column.entry(n.feature).or_default().push(n.threshold);
        }
        if per_column.len() > MAX_COLUMNS {
            return None;
        }
        let columns: Vec<u32> = per_column.keys().copied().collect();
        let mut cuts = Cuts::default();
        for (column, mut c) in per_column {
            // Thresholds are finite (checked at load): total order is f64's.
            c.sort_unstable_by(f64::total_cmp);
            // -0.0 and 0.0 are one cut for `<`, as for the f64 walk.
            c.dedup_by(|a, b| a == b);
            if c.len() > MAX_CUTS {
                return None;
            }
            cuts.push(column, &c);
        }
        // The packed forest stores each split's children as a pair, left
        // then right; here they swap places. `at[i]`: node i's index here.
        let mut at: Vec<u32> = (0..forest.nodes.len() as u32).collect();
        for n in forest.nodes.iter().filter(|n| n.is_split()) {
            let left = n.left as usize;
            at.swap(left, left + 1);
        }
        let mut nodes = vec![RankedNode(0); forest.nodes.len()];
        let mut values = vec![0.0; forest.nodes.len()];
        for (i, n) in forest.nodes.iter().enumerate() {
            let here = at[i] as usize;
            values[here] = forest.values[i];
            nodes[here] = if n.is_split() {
                let column = columns
                    .binary_search(&n.feature)
                    .expect("column collected above");
                let rank = cuts.of(column).partition_point(|t| *t < n.threshold);
                // The left child moved to `left + 1`, the right one to `left`.
                let hi = at[n.left as usize];
                debug_assert_eq!(hi, n.left + 1);
                RankedNode::new(column as u16, rank as u16, hi)
            } else {
                RankedNode::new(0, LEAF, here as u32)
            };
        }
        let mut crowns = Crowns::new(CROWN_STRIDE, crowns);
        for &(root, depth) in &forest.trees {
            crowns.push(&nodes, root, depth);
        }
        Some(RankedForest {
            nodes,
            values,
            cuts,
            crowns,
        })
    }

    /// Add each row's leaf value of every tree, in tree order, to `acc`;
    /// `forest` is the packed forest this was made from.
    pub fn accumulate(&self, forest: &PackedForest, x: &[f64], width: usize, acc: &mut [f64]) {
        assert!(width > 0 && x.len() >= acc.len() * width);
        assert_eq!(self.nodes.len(), forest.nodes.len());
        assert_eq!(self.values.len(), self.nodes.len());
        let used = self.cuts.len().max(1);
        let stride = used * GROUP;
        let mut ranks = vec![0u32; BLOCK.min(acc.len()).div_ceil(GROUP) * stride];
        // Crowns pay for a pass of LANES rows: not for a few events.
        let crowned = self.crowns.active() && acc.len() >= LANES;
        // Per block: the crown ranks, and each row's bottom position in the
        // crowns of the trees being walked.
        let (mut crown_ranks, mut bottoms) = if crowned {
            (
                vec![0i16; used * CROWN_STRIDE],
                vec![0u16; TREES * CROWN_STRIDE],
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let nodes = &self.nodes[..];
        let values = &self.values[..];
        for (b, acc_block) in acc.chunks_mut(BLOCK).enumerate() {
            let nb = acc_block.len();
            let rows = &x[b * BLOCK * width..];
            self.rank_block(rows, width, nb, &mut ranks, &mut crown_ranks);
            for (c, trees) in forest.trees.chunks(TREES).enumerate() {
                let first = c * TREES;
                if crowned {
                    for j in 0..trees.len() {
                        let out = &mut bottoms[j * CROWN_STRIDE..];
                        let rows = nb.next_multiple_of(LANES);
                        self.crowns.walk(first + j, &crown_ranks, rows, out);
                    }
                }
                // Per tree of the pass, worked out once for all its groups:
                // its crown's exits (None: no crown, rows start at the
                // root), its root, and the scalar steps that follow.
                let plan: [(Option<&[RankedNode; EXITS]>, RankedNode, u32); TREES] =
                    std::array::from_fn(|j| {
                        let Some(&(root, depth)) = trees.get(j) else {
                            return (None, nodes[0], 0);
                        };
                        let t = first + j;
                        let levels = if crowned { self.crowns.levels(t) } else { 0 };
                        let exits = (levels > 0).then(|| self.crowns.exits(t));
                        (
                            exits,
                            nodes[root as usize],
                            depth.saturating_sub(levels + 1),
                        )
                    });
                for (q, acc_group) in acc_block.chunks_mut(GROUP).enumerate() {
                    let group = &ranks[q * stride..(q + 1) * stride];
                    let mut sum: [f64; GROUP] =
                        std::array::from_fn(|k| acc_group.get(k).copied().unwrap_or(0.0));
                    for (j, &(exits, root, steps)) in plan[..trees.len()].iter().enumerate() {
                        // Each row carries the node it stands on, not its
                        // index: a step's result feeds the next load at once,
                        // which keeps few values live in the wasm build. It
                        // starts below its tree's crown (at the root when
                        // there is none). The last step yields the leaf's
                        // index (a step from a leaf stays on it).
                        // SAFETY (all unchecked reads): node indices stay in
                        // `nodes` and `values` (children were checked at load;
                        // leaves point to themselves); `group` is one group's
                        // ranks, as `child` requires.
                        let mut at = match exits {
                            Some(exits) => {
                                // Every row of a group has a bottom position
                                // (CROWN_STRIDE covers whole groups); a
                                // padding row's is stale, still a position.
                                let b: &[u16; GROUP] = bottoms[j * CROWN_STRIDE + q * GROUP..]
                                    [..GROUP]
                                    .try_into()
                                    .expect("a group's bottoms");
                                std::array::from_fn(|k| exit(exits, b[k]))
                            }
                            None => [root; GROUP],
                        };
                        for _ in 0..steps {
                            for (k, n) in at.iter_mut().enumerate() {
                                *n = unsafe { *nodes.get_unchecked(n.child(group, k)) };
                            }
                        }
                        for (k, (s, n)) in sum.iter_mut().zip(at).enumerate() {
                            *s += unsafe { *values.get_unchecked(n.child(group, k)) };
                        }
                    }
                    // A short last group's extra lanes walked padding: ignored.
                    for (a, s) in acc_group.iter_mut().zip(sum) {
                        *a = s;
                    }
                }
            }
        }
    }

    /// Rank the used columns of `nb` rows into `ranks`: per group of GROUP
    /// rows, column after column, the group's GROUP ranks side by side,
    /// shifted left by 16 to compare with a node's `split()`. A column at a
    /// time over the whole block, so its cut index stays in cache; for a
    /// matrix wider than [`WIDE`], a group at a time over every column. With
    /// crowns, also into `crown` (else empty): column after column,
    /// [`CROWN_STRIDE`] biased ranks each, rows in order.
    fn rank_block(
        &self,
        rows: &[f64],
        width: usize,
        nb: usize,
        ranks: &mut [u32],
        crown: &mut [i16],
    ) {
        // Every used column's values, `width` apart: checked once here, read
        // unchecked below.
        assert!(rows.len() >= nb * width);
        assert!((0..self.cuts.len()).all(|c| self.cuts.column(c) < width));
        if width > WIDE {
            for q in 0..nb.div_ceil(GROUP) {
                for c in 0..self.cuts.len() {
                    // SAFETY: asserted above.
                    unsafe { self.rank_group(rows, width, nb, ranks, crown, c, q) };
                }
            }
        } else {
            for c in 0..self.cuts.len() {
                for q in 0..nb.div_ceil(GROUP) {
                    // SAFETY: asserted above.
                    unsafe { self.rank_group(rows, width, nb, ranks, crown, c, q) };
                }
            }
        }
    }

    /// Rank used column `c` of group `q` (see [`RankedForest::rank_block`]).
    /// Inlined into both loop orders: a call per column and group cost the
    /// wasm build a call and an epoch check each.
    ///
    /// # Safety
    /// `rows.len() >= nb * width` and every used column is below `width`
    /// (`rank_block` asserts both once): the group's values are read
    /// unchecked.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn rank_group(
        &self,
        rows: &[f64],
        width: usize,
        nb: usize,
        ranks: &mut [u32],
        crown: &mut [i16],
        c: usize,
        q: usize,
    ) {
        let stride = self.cuts.len() * GROUP;
        let col = &rows[self.cuts.column(c)..];
        let first = q * GROUP;
        let x: [f64; GROUP] = if first + GROUP <= nb {
            // SAFETY: row first + k < nb, so its cell `(first + k) *
            // width` of `col` is below `nb * width - column`.
            std::array::from_fn(|k| unsafe { *col.get_unchecked((first + k) * width) })
        } else {
            // A short last group repeats its last row.
            std::array::from_fn(|k| col[(first + k).min(nb - 1) * width])
        };
        let at = q * stride + c * GROUP;
        let r = match self.cuts.short(c) {
            Some(Short::One) => self.cuts.rank_few::<1, GROUP>(c, x),
            Some(Short::Few) => self.cuts.rank_few::<{ cuts::FEW }, GROUP>(c, x),
            None => self.cuts.rank(c, x),
        };
        for (cell, r) in ranks[at..at + GROUP].iter_mut().zip(r) {
            *cell = r << 16;
        }
        if !crown.is_empty() {
            let at = c * CROWN_STRIDE + q * GROUP;
            for (cell, r) in crown[at..at + GROUP].iter_mut().zip(r) {
                *cell = bias(r as u16);
            }
        }
    }
}

#[cfg(test)]
mod tests;
