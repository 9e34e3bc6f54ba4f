//! Growing an isolation forest (Liu, Ting & Zhou, ICDM 2008). smartcore has
//! none, so this is our own: each tree is grown on ψ rows drawn without
//! replacement; a node splits on a random feature (among those not constant
//! in the node) at a uniform random value in [min, max), until one row is
//! left or the height limit ⌈log₂ ψ⌉ is reached. Deterministic under a seed.

use ndarray::ArrayView2;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::estimators::{IsolationForestSpec, IsolationTree};

/// Hyperparameters of the isolation forest.
#[derive(Debug, Clone, Copy)]
pub struct IsolationParams {
    /// Number of trees (paper default 100).
    pub n_trees: usize,
    /// Sub-sample size ψ (paper default 256).
    pub sample_size: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for IsolationParams {
    fn default() -> Self {
        IsolationParams {
            n_trees: 100,
            sample_size: 256,
            seed: 42,
        }
    }
}

struct Grower<'a> {
    x: ArrayView2<'a, f64>,
    rng: ChaCha8Rng,
    max_depth: usize,
    tree: IsolationTree,
    candidates: Vec<(usize, f64, f64)>,
}

impl Grower<'_> {
    fn push(&mut self, n: usize) -> usize {
        let t = &mut self.tree;
        t.feature.push(-2);
        t.threshold.push(-2.0);
        t.left.push(-1);
        t.right.push(-1);
        t.n_samples.push(n as u64);
        t.feature.len() - 1
    }

    /// Grow the subtree over `rows` (pre-order, so children follow their parent).
    fn grow(&mut self, rows: &mut [usize], depth: usize) -> usize {
        let node = self.push(rows.len());
        if rows.len() <= 1 || depth >= self.max_depth {
            return node;
        }
        self.candidates.clear();
        for f in 0..self.x.ncols() {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &r in rows.iter() {
                let v = self.x[(r, f)];
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi > lo {
                self.candidates.push((f, lo, hi));
            }
        }
        if self.candidates.is_empty() {
            return node; // all rows identical: cannot be isolated further
        }
        let (f, lo, hi) = self.candidates[self.rng.gen_range(0..self.candidates.len())];
        let mut t = lo + self.rng.gen::<f64>() * (hi - lo);
        if t >= hi {
            t = lo;
        }
        // Partition: x <= t to the front.
        let mut split = 0;
        for i in 0..rows.len() {
            if self.x[(rows[i], f)] <= t {
                rows.swap(i, split);
                split += 1;
            }
        }
        self.tree.feature[node] = f as i64;
        self.tree.threshold[node] = t;
        let (l, r) = rows.split_at_mut(split);
        let left = self.grow(l, depth + 1);
        let right = self.grow(r, depth + 1);
        self.tree.left[node] = left as i64;
        self.tree.right[node] = right as i64;
        node
    }
}

/// Fit an isolation forest on the rows of `x`.
pub fn fit_isolation_forest(x: ArrayView2<'_, f64>, p: &IsolationParams) -> IsolationForestSpec {
    let n = x.nrows();
    let psi = p.sample_size.min(n).max(2);
    let max_depth = (psi as f64).log2().ceil() as usize;
    let mut master = ChaCha8Rng::seed_from_u64(p.seed);
    let mut trees = Vec::with_capacity(p.n_trees);
    for _ in 0..p.n_trees {
        let seed = master.gen::<u64>();
        let mut g = Grower {
            x,
            rng: ChaCha8Rng::seed_from_u64(seed),
            max_depth,
            tree: IsolationTree {
                feature: vec![],
                threshold: vec![],
                left: vec![],
                right: vec![],
                n_samples: vec![],
            },
            candidates: Vec::new(),
        };
        let mut rows: Vec<usize> = if n <= psi {
            (0..n).collect()
        } else {
            sample(&mut g.rng, n, psi).into_vec()
        };
        g.grow(&mut rows, 0);
        trees.push(g.tree);
    }
    IsolationForestSpec {
        sample_size: psi as u64,
        trees,
    }
}
