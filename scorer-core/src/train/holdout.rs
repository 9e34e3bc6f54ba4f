//! Measuring any model on rows of a training table the way [`train`]
//! measures its own hold-out model: the same label reading, the same metric
//! functions, each model at its own flag threshold.
//!
//! This is what a champion/challenger comparison needs: the challenger's
//! stored hold-out metrics come from a model fitted on the other rows of the
//! new table, and [`evaluate_holdout`] scores the champion on the very same
//! held-out rows ([`holdout_split`]), so both columns of the comparison are
//! measured on identical events.
//!
//! [`train`]: super::train

use super::eval::{classification_metrics, holdout_split, regression_metrics};
use super::labels::{read_labels, Labels};
use super::{Table, TrainSpec};
use crate::artifact::EvalMetrics;
use crate::{Error, Model, Result, Scores};

/// Measure `model` on `rows` of `table` against the label of `spec`, read as
/// [`super::train`] reads it (`spec.algorithm` decides numbers or classes,
/// `spec.params.positive_label` the positive class). Regressions: R² and RMSE
/// of the raw output; otherwise ROC AUC, precision, recall and false-positive
/// rate of the score at the model's own threshold. The model's schema reads the
/// table's columns by name, so it need not be the schema `spec` would infer.
pub fn evaluate_rows(
    model: &Model,
    table: &Table,
    spec: &TrainSpec,
    rows: &[usize],
) -> Result<EvalMetrics> {
    let label = spec
        .label
        .as_deref()
        .ok_or_else(|| Error::Train("evaluation needs a label column".into()))?;
    if table.column(label).is_none() {
        return Err(Error::Train(format!(
            "label column `{label}` is not in the table"
        )));
    }
    if let Some(bad) = rows.iter().find(|&&r| r >= table.len()) {
        return Err(Error::Train(format!(
            "row {bad} is outside the table of {} rows",
            table.len()
        )));
    }
    let labels = read_labels(
        table,
        label,
        spec.algorithm,
        spec.params.positive_label.as_deref(),
    )?;
    let events: Vec<_> = rows.iter().map(|&i| table.row(i)).collect();
    let (mut batch, mut out) = (model.new_batch(), Scores::default());
    model.score_events(&events, &mut batch, &mut out);
    Ok(match &labels {
        Labels::Values(v) => {
            let y: Vec<f64> = rows.iter().map(|&i| v[i]).collect();
            regression_metrics(&out.raw, &y)
        }
        Labels::Classes(c) => {
            let y: Vec<u8> = rows.iter().map(|&i| c[i]).collect();
            classification_metrics(&out.score, &y, model.threshold())
        }
        Labels::None => EvalMetrics {
            rows: rows.len() as u64,
            ..EvalMetrics::default()
        },
    })
}

/// Measure `model` on the rows [`super::train`] holds out of `table` under
/// `spec` (its seed): the rows behind the hold-out metrics of the artifact
/// `train(table, spec)` writes.
pub fn evaluate_holdout(model: &Model, table: &Table, spec: &TrainSpec) -> Result<EvalMetrics> {
    let (held_out, _) = holdout_split(table.len(), spec.params.seed);
    evaluate_rows(model, table, spec, &held_out)
}
