//! The sliding window a run is judged on: per-batch [`DriftCounts`] pushed
//! in input order; the oldest batches leave once the rest still hold
//! `window` rows. Counts of the whole run are kept beside it.

use std::collections::VecDeque;

use super::DriftCounts;

/// A sliding window of drift counts, and the run's total.
#[derive(Debug, Clone)]
pub struct DriftWindow {
    size: u64,
    parts: VecDeque<DriftCounts>,
    window: DriftCounts,
    run: DriftCounts,
}

impl DriftWindow {
    /// A window of about `size` rows, starting from `empty` (shaped counts with no rows).
    pub fn new(empty: DriftCounts, size: u64) -> Self {
        DriftWindow {
            size: size.max(1),
            parts: VecDeque::new(),
            window: empty.clone(),
            run: empty,
        }
    }

    /// Add the next batch's counts. Counts of another shape are refused.
    pub fn push(&mut self, part: DriftCounts) -> Result<(), String> {
        self.window.merge(&part)?;
        self.run.merge(&part)?;
        self.parts.push_back(part);
        while let Some(front) = self.parts.front() {
            if self.window.rows - front.rows < self.size {
                break;
            }
            self.window.subtract(front);
            self.parts.pop_front();
        }
        Ok(())
    }

    /// The window: the latest batches, together at least `size` rows once the run has them.
    pub fn window(&self) -> &DriftCounts {
        &self.window
    }

    /// Every batch pushed so far.
    pub fn run(&self) -> &DriftCounts {
        &self.run
    }
}

impl DriftCounts {
    /// Take `other`'s counts (same shape, earlier added) away from these.
    pub fn subtract(&mut self, other: &DriftCounts) {
        self.rows = self.rows.saturating_sub(other.rows);
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            for (x, y) in a.iter_mut().zip(b) {
                *x = x.saturating_sub(*y);
            }
        }
        for (x, y) in self.score.iter_mut().zip(&other.score) {
            *x = x.saturating_sub(*y);
        }
        for (x, y) in self.missing.iter_mut().zip(&other.missing) {
            *x = x.saturating_sub(*y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(rows: u64, bin: usize) -> DriftCounts {
        let mut c = DriftCounts {
            rows,
            columns: vec![vec![0, 0]],
            score: vec![0, 0],
            missing: vec![0],
        };
        c.columns[0][bin] = rows;
        c.score[bin] = rows;
        c
    }

    #[test]
    fn keeps_the_latest_rows_and_the_run() {
        let mut w = DriftWindow::new(part(0, 0), 100);
        for _ in 0..3 {
            w.push(part(40, 0)).unwrap();
        }
        // 120 rows: dropping the oldest 40 would leave 80 < 100, so all stay.
        assert_eq!(w.window().rows, 120);
        w.push(part(40, 1)).unwrap();
        // 160 rows: the oldest 40 leave (120 ≥ 100 remain), not the next.
        assert_eq!(w.window().rows, 120);
        assert_eq!(w.window().columns[0], vec![80, 40]);
        assert_eq!(w.run().rows, 160);
        assert_eq!(w.run().columns[0], vec![120, 40]);
        assert!(w.push(DriftCounts::default()).is_err());
    }
}
