//! The label column of a training table, read once: classes (0/1) for
//! classifiers and evaluated anomaly detectors, numbers for regressions.
//! [`super::train`] and [`super::evaluate_rows`] read it the same way, so a
//! model measured after training sees exactly the labels training saw.

use super::fit::Target;
use super::{Algorithm, Table};
use crate::event::{Event, Value};
use crate::{Error, Result};

/// The label of every row.
pub(super) enum Labels {
    /// No label column.
    None,
    /// 0/1 classes.
    Classes(Vec<u8>),
    /// Regression targets.
    Values(Vec<f64>),
}

impl Labels {
    /// The whole target (idx None), or owned copies of the subset's labels.
    pub(super) fn target(&self, idx: Option<&[usize]>) -> (Target<'_>, Vec<u8>, Vec<f64>) {
        match (self, idx) {
            (Labels::None, _) => (Target::None, vec![], vec![]),
            (Labels::Classes(c), None) => (Target::Classes(c), vec![], vec![]),
            (Labels::Values(v), None) => (Target::Values(v), vec![], vec![]),
            (Labels::Classes(c), Some(i)) => {
                (Target::None, i.iter().map(|&k| c[k]).collect(), vec![])
            }
            (Labels::Values(v), Some(i)) => {
                (Target::None, vec![], i.iter().map(|&k| v[k]).collect())
            }
        }
    }
}

/// Read column `label` of every row: numbers for a regression, else 0/1 classes
/// (`positive` names the positive text value; otherwise 1/true/yes and
/// non-zero numbers). A missing or unreadable label is an error naming the row.
pub(super) fn read_labels(
    table: &Table,
    label: &str,
    a: Algorithm,
    positive: Option<&str>,
) -> Result<Labels> {
    let n = table.len();
    if a == Algorithm::LinearRegression {
        let mut v = Vec::with_capacity(n);
        for i in 0..n {
            let row = table.row(i);
            let f = row.field(label);
            let (x, ok) = crate::schema::read_number_pub(f.first);
            if !ok {
                return Err(Error::Train(format!(
                    "row {}: label `{label}` is not a number",
                    i + 1
                )));
            }
            v.push(x);
        }
        return Ok(Labels::Values(v));
    }
    let mut c = Vec::with_capacity(n);
    for i in 0..n {
        let row = table.row(i);
        let f = row.field(label);
        let y = match (f.first, positive) {
            (Value::Text(s), Some(p)) => s.trim() == p,
            (Value::Missing, _) => {
                return Err(Error::Train(format!(
                    "row {}: label `{label}` is missing",
                    i + 1
                )));
            }
            (v, _) => {
                let (b, ok) = crate::schema::read_bool_pub(v);
                if !ok {
                    return Err(Error::Train(format!(
                        "row {}: label `{label}` = {v:?} is not 0/1, true/false or yes/no (use --positive VALUE)",
                        i + 1
                    )));
                }
                b
            }
        };
        c.push(u8::from(y));
    }
    Ok(Labels::Classes(c))
}

/// The fit target of a subset whose labels were copied into `c` or `v`.
pub(super) fn owned_target<'a>(labels: &Labels, c: &'a [u8], v: &'a [f64]) -> Target<'a> {
    match labels {
        Labels::Classes(_) => Target::Classes(c),
        Labels::Values(_) => Target::Values(v),
        Labels::None => Target::None,
    }
}
