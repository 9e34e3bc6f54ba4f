//! Flat binary trees: the stored form (sklearn-style arrays) and the packed,
//! cache-friendly form that scoring walks.
//!
//! Stored: parallel arrays `feature`, `threshold`, `left`, `right` (leaves have
//! `left == right == -1`), and one value per node. A row goes left when
//! `x[feature] <= threshold`. Children must have larger indices than their
//! parent and every node but the root exactly one parent — so a tree always
//! terminates and is checked once, at load.
//!
//! Packed: nodes re-laid out breadth-first so a node's right child directly
//! follows its left child; a step is `i = left + (x[f] > t)`, branch-free.
//! Leaves loop to themselves (`threshold = +inf`), which lets a block of rows
//! descend a tree in lock-step for `depth` steps with no per-row branching.

use serde::{Deserialize, Serialize};

use super::ranked::RankedForest;
use crate::{Error, Result};

/// Deepest tree accepted.
pub const MAX_DEPTH: usize = 64;
/// Most nodes in one tree.
pub const MAX_NODES_PER_TREE: usize = 1 << 22;
/// Most nodes in one forest.
pub const MAX_NODES_TOTAL: usize = 1 << 25;
/// Most trees in one forest.
pub const MAX_TREES: usize = 10_000;

/// The structure of one stored tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeArrays {
    /// Split feature (column) per node; ignored at leaves (sklearn writes -2).
    pub feature: Vec<i64>,
    /// Split threshold per node: go left when `x <= threshold`.
    pub threshold: Vec<f64>,
    /// Left child per node, -1 at leaves.
    pub left: Vec<i64>,
    /// Right child per node, -1 at leaves.
    pub right: Vec<i64>,
}

impl TreeArrays {
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.feature.len()
    }

    /// True when the tree has no node (always invalid).
    pub fn is_empty(&self) -> bool {
        self.feature.is_empty()
    }

    fn is_leaf(&self, i: usize) -> bool {
        self.left[i] < 0
    }

    /// Validate the structure against `width` columns; returns every node's depth.
    pub(crate) fn validate(
        &self,
        path: &str,
        width: usize,
        node_values: &[(&str, usize)],
    ) -> Result<Vec<u32>> {
        let n = self.feature.len();
        if n == 0 {
            return Err(Error::invalid(path, "tree has no nodes"));
        }
        if n > MAX_NODES_PER_TREE {
            return Err(Error::invalid(
                path,
                format!("tree has {n} nodes, over the limit of {MAX_NODES_PER_TREE}"),
            ));
        }
        for (name, len) in [
            ("threshold", self.threshold.len()),
            ("left", self.left.len()),
            ("right", self.right.len()),
        ]
        .into_iter()
        .chain(node_values.iter().copied())
        {
            if len != n {
                return Err(Error::invalid(
                    path,
                    format!("`{name}` has {len} entries, `feature` has {n}"),
                ));
            }
        }
        let mut depth = vec![u32::MAX; n];
        depth[0] = 0;
        for i in 0..n {
            if depth[i] == u32::MAX {
                return Err(Error::invalid(
                    format!("{path}.left[{i}]"),
                    format!("node {i} is not reachable from the root"),
                ));
            }
            let (l, r) = (self.left[i], self.right[i]);
            if l < 0 || r < 0 {
                if l != -1 || r != -1 {
                    return Err(Error::invalid(
                        format!("{path}.left[{i}]"),
                        format!("leaf must have left = right = -1, found {l} and {r}"),
                    ));
                }
                continue;
            }
            let f = self.feature[i];
            if f < 0 || f as usize >= width {
                return Err(Error::invalid(
                    format!("{path}.feature[{i}]"),
                    format!("feature {f} out of range: the schema has {width} columns"),
                ));
            }
            let t = self.threshold[i];
            if !t.is_finite() {
                return Err(Error::invalid(
                    format!("{path}.threshold[{i}]"),
                    format!("threshold is {t}"),
                ));
            }
            for (side, c) in [("left", l), ("right", r)] {
                let c = c as usize;
                if c <= i || c >= n {
                    return Err(Error::invalid(
                        format!("{path}.{side}[{i}]"),
                        format!("child {c} out of range: must be in {}..{n}", i + 1),
                    ));
                }
                if depth[c] != u32::MAX {
                    return Err(Error::invalid(
                        format!("{path}.{side}[{i}]"),
                        format!("node {c} has two parents"),
                    ));
                }
                depth[c] = depth[i] + 1;
                if depth[c] as usize > MAX_DEPTH {
                    return Err(Error::invalid(
                        path,
                        format!("tree is deeper than the limit of {MAX_DEPTH}"),
                    ));
                }
            }
        }
        Ok(depth)
    }
}

/// A stored tree of either forest: its structure and its per-node values.
pub(crate) trait StoredTree {
    /// Name of the per-node values array (for messages).
    const VALUES: &'static str;
    /// The structure's arrays: feature, threshold, left, right.
    fn parts(&self) -> (&[i64], &[f64], &[i64], &[i64]);
    /// The structure, as validated and packed.
    fn arrays(&self) -> TreeArrays {
        let (feature, threshold, left, right) = self.parts();
        TreeArrays {
            feature: feature.to_vec(),
            threshold: threshold.to_vec(),
            left: left.to_vec(),
            right: right.to_vec(),
        }
    }
    /// Entries of the per-node values array.
    fn values_len(&self) -> usize;
}

/// Check sizes, validate every tree and pack them; `values(tree, path, depths)`
/// gives the packed value of every node (or refuses the tree).
pub(crate) fn pack_forest<T: StoredTree>(
    trees: &[T],
    width: usize,
    values: impl Fn(&T, &str, &[u32]) -> Result<Vec<f64>>,
) -> Result<PackedForest> {
    let n = trees.len();
    if n == 0 || n > MAX_TREES {
        return Err(Error::invalid(
            "estimator.trees",
            format!("{n} trees, allowed 1..={MAX_TREES}"),
        ));
    }
    let total: usize = trees.iter().map(|t| t.values_len()).sum();
    if total > MAX_NODES_TOTAL {
        return Err(Error::invalid(
            "estimator.trees",
            format!("{total} nodes in all, over the limit of {MAX_NODES_TOTAL}"),
        ));
    }
    let mut forest = PackedForest::default();
    for (k, t) in trees.iter().enumerate() {
        let path = format!("estimator.trees[{k}]");
        let arrays = t.arrays();
        let depth = arrays.validate(&path, width, &[(T::VALUES, t.values_len())])?;
        let v = values(t, &path, &depth)?;
        forest.push(&arrays, &v, &depth);
    }
    forest.finish();
    Ok(forest)
}

/// One packed node: 16 bytes. The right child is `left + 1`.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub(crate) struct Node {
    pub threshold: f64,
    pub feature: u32,
    pub left: u32,
}

impl Node {
    /// True for a split, false for a leaf (leaves carry `threshold = +inf`;
    /// a split's threshold is finite, checked at load).
    pub fn is_split(&self) -> bool {
        self.threshold.is_finite()
    }
}

/// A forest packed for scoring: all trees' nodes in one array.
#[derive(Debug, Clone, Default)]
pub(crate) struct PackedForest {
    pub nodes: Vec<Node>,
    /// Per node: the value (leaf output for scoring, node output for explanations).
    pub values: Vec<f64>,
    /// Per tree: (root index, max depth).
    pub trees: Vec<(u32, u32)>,
    /// The same trees over threshold ranks, made by [`PackedForest::finish`].
    ranked: Option<RankedForest>,
}

impl PackedForest {
    /// Add a validated tree; `values[i]` is node i's value in the stored order.
    pub fn push(&mut self, t: &TreeArrays, values: &[f64], depth: &[u32]) {
        let base = self.nodes.len() as u32;
        // Breadth-first relayout: children pairs are allocated together.
        let mut order = vec![0usize];
        let mut new_index = vec![0u32; t.len()];
        let mut head = 0;
        while head < order.len() {
            let i = order[head];
            head += 1;
            if !t.is_leaf(i) {
                new_index[t.left[i] as usize] = order.len() as u32;
                order.push(t.left[i] as usize);
                new_index[t.right[i] as usize] = order.len() as u32;
                order.push(t.right[i] as usize);
            }
        }
        for (pos, &i) in order.iter().enumerate() {
            let node = if t.is_leaf(i) {
                Node {
                    threshold: f64::INFINITY,
                    feature: 0,
                    left: base + pos as u32,
                }
            } else {
                Node {
                    threshold: t.threshold[i],
                    feature: t.feature[i] as u32,
                    left: base + new_index[t.left[i] as usize],
                }
            };
            self.nodes.push(node);
            self.values.push(values[i]);
        }
        let max_depth = order.iter().map(|&i| depth[i]).max().unwrap_or(0);
        self.trees.push((base, max_depth));
    }

    /// Call once every tree is pushed: builds the ranked form that
    /// [`PackedForest::accumulate`] walks when the forest fits it.
    pub fn finish(&mut self) {
        self.ranked = RankedForest::new(self);
    }

    /// Add the per-row leaf value of every tree, in tree order, to `acc`.
    /// `x` holds `acc.len()` rows of `width` columns.
    pub fn accumulate(&self, x: &[f64], width: usize, acc: &mut [f64]) {
        match &self.ranked {
            Some(ranked) => ranked.accumulate(self, x, width, acc),
            None => self.accumulate_f64(x, width, acc),
        }
    }

    /// [`PackedForest::accumulate`] on the f64 nodes. Rows advance in
    /// lock-step, a block at a time, so each tree stays hot in cache.
    pub fn accumulate_f64(&self, x: &[f64], width: usize, acc: &mut [f64]) {
        // Rows go through the forest a block at a time (each tree's nodes are
        // read once per block) and through a tree GROUP rows at a time, their
        // node indices held in registers, all rows of a group stepping together
        // for the tree's depth (leaves loop to themselves). See BENCHMARKS.md.
        const BLOCK: usize = 256;
        const GROUP: usize = 8;
        assert!(width > 0 && x.len() >= acc.len() * width);
        let nodes = &self.nodes[..];
        let values = &self.values[..];
        for (b, acc_block) in acc.chunks_mut(BLOCK).enumerate() {
            let rows = &x[b * BLOCK * width..];
            let nb = acc_block.len();
            for &(root, depth) in &self.trees {
                for g in (0..nb).step_by(GROUP) {
                    // Short last group: repeat its last row (results ignored).
                    let base: [usize; GROUP] = std::array::from_fn(|k| (g + k).min(nb - 1) * width);
                    let mut id = [root; GROUP];
                    for _ in 0..depth {
                        for k in 0..GROUP {
                            // SAFETY: node indices stay in `nodes` (children were
                            // checked against the tree at load; leaves point to
                            // themselves); features are < width (checked at load);
                            // base[k] addresses a row of this block (asserted above).
                            let n = unsafe { *nodes.get_unchecked(id[k] as usize) };
                            let v = unsafe { *rows.get_unchecked(base[k] + n.feature as usize) };
                            id[k] = n.left + u32::from(v > n.threshold);
                        }
                    }
                    for k in 0..GROUP.min(nb - g) {
                        acc_block[g + k] += values[id[k] as usize];
                    }
                }
            }
        }
    }

    /// The mean over trees of each row's leaf value.
    pub fn mean(&self, x: &[f64], width: usize, out: &mut [f64]) {
        out.fill(0.0);
        self.accumulate(x, width, out);
        let inv = 1.0 / self.trees.len() as f64;
        for o in out.iter_mut() {
            *o *= inv;
        }
    }

    /// Walk one row through one tree, calling `visit(feature, parent, child)`
    /// for every split taken, and return the leaf index.
    pub fn walk(
        &self,
        tree: usize,
        row: &[f64],
        mut visit: impl FnMut(usize, usize, usize),
    ) -> usize {
        let (root, _) = self.trees[tree];
        let mut i = root as usize;
        loop {
            let n = self.nodes[i];
            if n.left as usize == i {
                return i;
            }
            let child = (n.left + u32::from(row[n.feature as usize] > n.threshold)) as usize;
            visit(n.feature as usize, i, child);
            i = child;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stump() -> TreeArrays {
        TreeArrays {
            feature: vec![1, -2, -2],
            threshold: vec![0.5, -2.0, -2.0],
            left: vec![1, -1, -1],
            right: vec![2, -1, -1],
        }
    }

    #[test]
    fn packs_and_scores() {
        let t = stump();
        let d = t.validate("t", 2, &[]).unwrap();
        let mut f = PackedForest::default();
        f.push(&t, &[0.5, 0.1, 0.9], &d);
        f.push(&t, &[0.5, 0.2, 0.8], &d);
        let x = [0.0, 0.5, 0.0, 0.6, 9.0, -1.0];
        let want = [0.1 + 0.2, 0.9 + 0.8, 0.1 + 0.2];
        let mut acc = [0.0; 3];
        f.accumulate(&x, 2, &mut acc);
        assert_eq!(acc, want);
        f.finish();
        assert!(f.ranked.is_some());
        let mut acc = [0.0; 3];
        f.accumulate(&x, 2, &mut acc);
        assert_eq!(acc, want);
    }

    #[test]
    fn rejects_bad_structure() {
        let mut t = stump();
        t.left[0] = 7;
        assert!(t
            .validate("t", 2, &[])
            .unwrap_err()
            .to_string()
            .contains("child 7 out of range"));
        let mut t = stump();
        t.left[0] = 0;
        assert!(t.validate("t", 2, &[]).is_err());
        let mut t = stump();
        t.threshold[0] = f64::NAN;
        assert!(t
            .validate("t", 2, &[])
            .unwrap_err()
            .to_string()
            .contains("threshold is NaN"));
        let mut t = stump();
        t.feature[0] = 2;
        assert!(t
            .validate("t", 2, &[])
            .unwrap_err()
            .to_string()
            .contains("schema has 2 columns"));
        let mut t = stump();
        t.right[0] = 1;
        assert!(t
            .validate("t", 2, &[])
            .unwrap_err()
            .to_string()
            .contains("two parents"));
        let t = stump();
        assert!(t
            .validate("t", 2, &[("value", 2)])
            .unwrap_err()
            .to_string()
            .contains("`value` has 2"));
    }
}
