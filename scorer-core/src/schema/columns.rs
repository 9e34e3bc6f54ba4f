//! Column-at-a-time featurization, for callers whose events are already
//! columnar (the wasm ABI's batch, `scorer_wasm::wire`).
//!
//! [`Featurizer::featurize_indexed`] takes one event at a time: every value
//! pays a call into the transform and a match on its kind, which in
//! WebAssembly also means a stack and an epoch check per call. Here a block
//! of rows is featurized one feature at a time: the transform is matched once
//! per block and its kernel ([`super::ops::with_kernel`]) runs in a loop over
//! the block's rows. The block's matrix rows stay in cache while every
//! feature passes over them. Same kernels, same finiteness rule, same masks:
//! the rows are bit-identical to [`Featurizer::featurize_indexed`]'s (tested
//! below).

use super::ops::{with_kernel, Op};
use super::Featurizer;
use crate::event::{Field, Value};

/// Columnar events: field `index` (in [`super::Schema::fields`]) of event
/// `row`. A closure `Fn(index, row) -> Field` is one; a columnar batch
/// implements it with `#[inline(always)]`, so reading a value compiles into
/// the kernel's loop.
pub trait Columns<'a> {
    /// Field `index` of event `row`.
    fn field(&self, index: usize, row: usize) -> Field<'a>;

    /// `Some(x)` exactly when [`Columns::field`] would be one plain number
    /// `x` (`Field::one(Value::Number(x))`); `None` otherwise, and always by
    /// default. A columnar batch that can tell a number from its cell's
    /// kind alone implements it, and the kernels get a path of their own
    /// for numbers: no [`Value`] built and matched per cell.
    #[inline(always)]
    fn number(&self, _index: usize, _row: usize) -> Option<f64> {
        None
    }

    /// `Some(t)` exactly when [`Columns::field`] would be one plain text
    /// `t` (`Field::one(Value::Text(t))`); `None` otherwise, and always by
    /// default. The text kernels' path of their own, as [`Columns::number`].
    #[inline(always)]
    fn text(&self, _index: usize, _row: usize) -> Option<&'a str> {
        None
    }
}

impl<'a, F: Fn(usize, usize) -> Field<'a>> Columns<'a> for F {
    #[inline(always)]
    fn field(&self, index: usize, row: usize) -> Field<'a> {
        self(index, row)
    }
}

/// Rows featurized together: 64 rows of a 100-column model are 50 KiB of
/// matrix, about L1.
const ROWS: usize = 64;

impl Featurizer {
    /// Featurize `n` events into the row-major `x` (`n × width` values,
    /// written whole) and `masks` (`n × mask_words` words, overwritten), with
    /// `field` the events' fields by index in [`super::Schema::fields`].
    /// Never allocates and never panics on any field value.
    ///
    /// # Panics
    /// When `x` or `masks` is shorter than `n` rows.
    pub fn featurize_columns<'a>(
        &self,
        n: usize,
        field: &impl Columns<'a>,
        x: &mut [f64],
        masks: &mut [u64],
    ) {
        let (width, words) = (self.width, self.mask_words());
        let (x, masks) = (&mut x[..n * width], &mut masks[..n * words]);
        masks.fill(0);
        for start in (0..n).step_by(ROWS) {
            let mut at = Block {
                rows: start..n.min(start + ROWS),
                width,
                words,
                col: 0,
                w: 0,
                field: 0,
                word: 0,
                bit: 0,
            };
            for (i, step) in self.steps.iter().enumerate() {
                (at.field, at.w) = (step.field_index, step.width);
                (at.word, at.bit) = (i / 64, 1u64 << (i % 64));
                let op: &Op = &step.op;
                with_kernel!(op, |kernel, FINITE| block::<FINITE>(
                    &at, kernel, field, x, masks
                ));
                at.col += step.width;
            }
        }
    }
}

/// Where one feature's kernel runs over one block of rows.
struct Block {
    rows: std::ops::Range<usize>,
    /// Matrix columns and mask words per row.
    width: usize,
    words: usize,
    /// The feature's first column, its columns, its field, its mask bit.
    col: usize,
    w: usize,
    field: usize,
    word: usize,
    bit: u64,
}

/// One feature over one block of rows. Not inlined: each kernel gets its own
/// small loop, and its registers to itself.
#[inline(never)]
fn block<'a, const FINITE: bool>(
    at: &Block,
    kernel: impl Fn(Field<'a>, &mut [f64]) -> bool,
    field: &impl Columns<'a>,
    x: &mut [f64],
    masks: &mut [u64],
) {
    for r in at.rows.clone() {
        let out = &mut x[r * at.width + at.col..][..at.w];
        // The kernel three times: specialised for a plain number (what a
        // numeric model's cells hold) and for a plain text (a categorical
        // one's), then for any value. The first two build and match no
        // `Value` per cell.
        let ok = if let Some(v) = field.number(at.field, r) {
            kernel(Field::one(Value::Number(v)), out)
        } else if let Some(t) = field.text(at.field, r) {
            kernel(Field::one(Value::Text(t)), out)
        } else {
            kernel(field.field(at.field, r), out)
        };
        if !super::finish(out, ok, FINITE) {
            masks[r * at.words + at.word] |= at.bit;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::event::{Field, Value};
    use crate::schema::Schema;

    /// Every transform, over three fields, 70 features (two mask words).
    fn schema() -> Schema {
        let mut features = vec![
            serde_json::json!({"field": "a", "transform": {"kind": "number", "clip": [-1, 1]}}),
            serde_json::json!({"field": "b", "transform": {"kind": "log1p"}}),
            serde_json::json!({"field": "a", "transform": {"kind": "standardize", "mean": 1, "std": 1e-300}}),
            serde_json::json!({"field": "c", "transform": {"kind": "boolean"}}),
            serde_json::json!({"field": "c", "transform": {"kind": "one_hot", "categories": ["x", "y"], "other": true}}),
            serde_json::json!({"field": "b", "transform": {"kind": "hash_bucket", "buckets": 7}}),
            serde_json::json!({"field": "c", "transform": {"kind": "ip_class"}}),
            serde_json::json!({"field": "a", "transform": {"kind": "hour_of_day", "cyclic": true, "utc_offset_minutes": -300}}),
            serde_json::json!({"field": "b", "transform": {"kind": "day_of_week", "utc_offset_minutes": 1440}}),
            serde_json::json!({"field": "c", "transform": {"kind": "string_length"}}),
            serde_json::json!({"field": "a", "transform": {"kind": "value_count"}}),
        ];
        for i in 0..59 {
            let field = ["a", "b", "c"][i % 3];
            features.push(serde_json::json!({"field": field, "name": format!("n{i}"), "transform": {"kind": "number"}}));
        }
        serde_json::from_value(serde_json::json!({ "features": features })).unwrap()
    }

    /// A field value of every kind the wire format carries.
    #[derive(Debug, Clone)]
    enum Cell {
        Missing,
        Number(f64),
        Bool(bool),
        Text(String),
        Many(String, usize),
    }

    impl Cell {
        fn field(&self) -> Field<'_> {
            match self {
                Cell::Missing => Field::MISSING,
                Cell::Number(x) => Field::one(Value::Number(*x)),
                Cell::Bool(b) => Field::one(Value::Bool(*b)),
                Cell::Text(t) => Field::one(Value::Text(t)),
                Cell::Many(t, n) => Field {
                    first: Value::Text(t),
                    count: *n,
                },
            }
        }
    }

    fn cell() -> impl Strategy<Value = Cell> {
        prop_oneof![
            Just(Cell::Missing),
            prop_oneof![
                any::<f64>(),
                Just(f64::NAN),
                Just(1e308),
                Just(-0.0),
                Just(1.7e9)
            ]
            .prop_map(Cell::Number),
            any::<bool>().prop_map(Cell::Bool),
            prop_oneof![
                Just("x".to_string()),
                Just("y".to_string()),
                Just("10.1.2.3".to_string()),
                Just("2024-05-06T07:08:09Z".to_string()),
                Just("1e308".to_string()),
                "[0-9.eE+-]{0,12}",
                ".{0,12}",
            ]
            .prop_map(Cell::Text),
            (".{0,6}", 2usize..5).prop_map(|(t, n)| Cell::Many(t, n)),
        ]
    }

    /// The cells, three fields a row, telling plain numbers and texts apart
    /// as a columnar batch does.
    struct WithKinds<'c>(&'c [Cell]);

    impl<'c> super::Columns<'c> for WithKinds<'c> {
        fn field(&self, index: usize, row: usize) -> Field<'c> {
            self.0[row * 3 + index].field()
        }

        fn number(&self, index: usize, row: usize) -> Option<f64> {
            match self.0[row * 3 + index] {
                Cell::Number(x) => Some(x),
                _ => None,
            }
        }

        fn text(&self, index: usize, row: usize) -> Option<&'c str> {
            match &self.0[row * 3 + index] {
                Cell::Text(t) => Some(t),
                _ => None,
            }
        }
    }

    proptest! {
        /// Column at a time gives the bit-identical rows and masks that
        /// event at a time does, across blocks and a short last block.
        #[test]
        fn columns_equal_rows(cells in prop::collection::vec(cell(), 0..(3 * 150))) {
            let f = schema().compile().unwrap();
            let n = cells.len() / 3;
            let (w, m) = (f.width(), f.mask_words());
            let mut want = vec![f64::NAN; n * w];
            let mut want_mask = vec![u64::MAX; n * m];
            for r in 0..n {
                f.featurize_indexed(
                    |i| cells[r * 3 + i].field(),
                    &mut want[r * w..(r + 1) * w],
                    &mut want_mask[r * m..(r + 1) * m],
                );
            }
            let mut got = vec![f64::NAN; n * w];
            let mut got_mask = vec![u64::MAX; n * m];
            f.featurize_columns(n, &|i: usize, r: usize| cells[r * 3 + i].field(), &mut got, &mut got_mask);
            prop_assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            prop_assert_eq!(&got_mask, &want_mask);
            // And through the kernels' paths for plain numbers and texts
            // (`Columns::number`, `Columns::text`).
            let mut got = vec![f64::NAN; n * w];
            let mut got_mask = vec![u64::MAX; n * m];
            f.featurize_columns(n, &WithKinds(&cells), &mut got, &mut got_mask);
            prop_assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            prop_assert_eq!(got_mask, want_mask);
            // The kernels that skip the finiteness scan (`$finite`) must
            // not need it: every column of every row is finite.
            prop_assert!(want.iter().all(|v| v.is_finite()));
        }
    }
}
