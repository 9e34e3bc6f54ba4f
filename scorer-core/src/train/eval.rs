//! Evaluation: ROC AUC, precision/recall/false-positive rate at a threshold,
//! the threshold for a target false-positive rate, R² and RMSE, and the
//! shuffled index splits for hold-out and k-fold cross-validation.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::artifact::EvalMetrics;

/// Area under the ROC curve (Mann–Whitney U with mid-ranks for ties);
/// None when only one class is present.
pub fn roc_auc(scores: &[f64], labels: &[u8]) -> Option<f64> {
    let n_pos = labels.iter().filter(|l| **l == 1).count();
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] == 1 {
                rank_sum_pos += mid_rank;
            }
        }
        i = j + 1;
    }
    let (p, n) = (n_pos as f64, n_neg as f64);
    Some((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * n))
}

/// Classification metrics at `threshold` (flag when score ≥ threshold).
pub fn classification_metrics(scores: &[f64], labels: &[u8], threshold: f64) -> EvalMetrics {
    let (mut tp, mut fp, mut fneg, mut tn) = (0u64, 0u64, 0u64, 0u64);
    for (s, l) in scores.iter().zip(labels) {
        match (*s >= threshold, *l == 1) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fneg += 1,
            (false, false) => tn += 1,
        }
    }
    let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
    EvalMetrics {
        rows: scores.len() as u64,
        roc_auc: roc_auc(scores, labels),
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fneg),
        false_positive_rate: ratio(fp, fp + tn),
        r2: None,
        rmse: None,
    }
}

/// Regression metrics.
pub fn regression_metrics(pred: &[f64], truth: &[f64]) -> EvalMetrics {
    let n = truth.len().max(1) as f64;
    let mean = truth.iter().sum::<f64>() / n;
    let ss_res: f64 = pred.iter().zip(truth).map(|(p, t)| (p - t) * (p - t)).sum();
    let ss_tot: f64 = truth.iter().map(|t| (t - mean) * (t - mean)).sum();
    EvalMetrics {
        rows: truth.len() as u64,
        r2: (ss_tot > 0.0).then(|| 1.0 - ss_res / ss_tot),
        rmse: Some((ss_res / n).sqrt()),
        ..EvalMetrics::default()
    }
}

/// The lowest threshold whose false-positive rate on `negatives` is at most `target`.
pub fn threshold_for_fpr(negatives: &[f64], target: f64) -> f64 {
    if negatives.is_empty() {
        return 0.5;
    }
    let mut s = negatives.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    let allowed = (target * s.len() as f64).floor() as usize;
    if allowed >= s.len() {
        return 0.0;
    }
    s[allowed].next_up().clamp(0.0, 1.0)
}

/// The q-quantile (nearest rank) of `values`.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * q).round() as usize]
}

/// Row indices shuffled by `seed`.
pub fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    idx
}

/// The 80/20 hold-out split of an `n`-row table under `seed`, as `(held_out,
/// fitted_on)`: the row indices are shuffled by `seed` (ChaCha8), the first
/// `max(n / 5, 1)` are held out and the rest fitted on. [`super::train`]
/// measures its hold-out model on exactly these rows, so other models measured
/// on them (a champion against its challenger) are compared on the same events.
pub fn holdout_split(n: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx = shuffled(n, seed);
    let fitted_on = idx.split_off((n / 5).max(1).min(n));
    (idx, fitted_on)
}

/// Mean of each metric over folds (a metric missing in any fold is left out).
pub fn mean_metrics(folds: &[EvalMetrics]) -> EvalMetrics {
    let mean = |f: fn(&EvalMetrics) -> Option<f64>| {
        let v: Option<Vec<f64>> = folds.iter().map(f).collect();
        v.filter(|v| !v.is_empty())
            .map(|v| v.iter().sum::<f64>() / v.len() as f64)
    };
    EvalMetrics {
        rows: folds.iter().map(|f| f.rows).sum(),
        roc_auc: mean(|m| m.roc_auc),
        precision: mean(|m| m.precision),
        recall: mean(|m| m.recall),
        false_positive_rate: mean(|m| m.false_positive_rate),
        r2: mean(|m| m.r2),
        rmse: mean(|m| m.rmse),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_hand_computation() {
        // sklearn.metrics.roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) == 0.75
        assert_eq!(roc_auc(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1]), Some(0.75));
        // ties count half
        assert_eq!(roc_auc(&[0.5, 0.5], &[0, 1]), Some(0.5));
        assert_eq!(roc_auc(&[0.5, 0.7], &[1, 1]), None);
    }

    #[test]
    fn threshold_meets_target_fpr() {
        let neg: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
        let t = threshold_for_fpr(&neg, 0.05);
        let fp = neg.iter().filter(|s| **s >= t).count();
        assert_eq!(fp, 5);
        let m = classification_metrics(&[0.9, 0.2, 0.8, 0.1], &[1, 0, 0, 1], 0.5);
        assert_eq!(
            (m.precision, m.recall, m.false_positive_rate),
            (Some(0.5), Some(0.5), Some(0.5))
        );
    }

    #[test]
    fn holdout_split_is_a_seeded_80_20_partition() {
        let (test, fit) = holdout_split(103, 9);
        assert_eq!((test.len(), fit.len()), (20, 83));
        let mut all: Vec<usize> = test.iter().chain(&fit).copied().collect();
        assert_eq!(all, shuffled(103, 9));
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        assert_eq!(holdout_split(103, 9), (test, fit));
        assert_ne!(holdout_split(103, 10).0, holdout_split(103, 9).0);
        assert_eq!(holdout_split(3, 1).0.len(), 1);
    }

    #[test]
    fn regression() {
        let m = regression_metrics(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]);
        assert_eq!((m.r2, m.rmse), (Some(1.0), Some(0.0)));
    }
}
