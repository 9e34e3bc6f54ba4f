//! Compiled transforms ([`Op`]): each [`Transform`] with its lookup work
//! done once at load, and the per-variant kernels that turn one field value
//! into the feature's columns.

use super::{categorical, Transform};
use crate::event::Field;

/// A compiled transform: the lookup work done once at load time.
#[derive(Debug, Clone)]
pub(super) enum Op {
    Number {
        missing: f64,
        clip: Option<[f64; 2]>,
    },
    Log1p {
        missing: f64,
        clip: Option<[f64; 2]>,
    },
    Standardize {
        mean: f64,
        inv_std: f64,
        missing: f64,
    },
    Boolean {
        missing: bool,
    },
    OneHot(categorical::OneHot),
    HashBucket {
        buckets: u32,
    },
    IpClass,
    HourOfDay {
        offset_s: i64,
        cyclic: bool,
    },
    DayOfWeek {
        offset_s: i64,
        cyclic: bool,
    },
    StringLength {
        missing: f64,
    },
    ValueCount,
}

impl Op {
    pub(super) fn compile(t: &Transform) -> Op {
        match t {
            Transform::Number { missing, clip } => Op::Number {
                missing: *missing,
                clip: *clip,
            },
            Transform::Log1p { missing, clip } => Op::Log1p {
                missing: *missing,
                clip: *clip,
            },
            Transform::Standardize { mean, std, missing } => Op::Standardize {
                mean: *mean,
                inv_std: 1.0 / std,
                missing: missing.unwrap_or(*mean),
            },
            Transform::Boolean { missing } => Op::Boolean { missing: *missing },
            Transform::OneHot { categories, other } => {
                Op::OneHot(categorical::OneHot::new(categories, *other))
            }
            Transform::HashBucket { buckets } => Op::HashBucket { buckets: *buckets },
            Transform::IpClass => Op::IpClass,
            Transform::HourOfDay {
                utc_offset_minutes,
                cyclic,
            } => Op::HourOfDay {
                offset_s: i64::from(*utc_offset_minutes) * 60,
                cyclic: *cyclic,
            },
            Transform::DayOfWeek {
                utc_offset_minutes,
                cyclic,
            } => Op::DayOfWeek {
                offset_s: i64::from(*utc_offset_minutes) * 60,
                cyclic: *cyclic,
            },
            Transform::StringLength { missing } => Op::StringLength { missing: *missing },
            Transform::ValueCount => Op::ValueCount,
        }
    }

    /// Write this feature's columns into `out` (exactly `width` slots), all
    /// finite; returns false when the value was missing or unreadable.
    pub(super) fn apply(&self, field: Field<'_>, out: &mut [f64]) -> bool {
        with_kernel!(self, |kernel, FINITE| {
            let ok = kernel(field, out);
            super::finish(out, ok, FINITE)
        })
    }
}

/// Expands `$body` with `$k` bound to the kernel of the [`Op`] `$op`: a
/// closure `(Field, &mut [f64]) -> bool` for that variant alone, writing the
/// feature's `width` columns and returning false when the value was missing
/// or unreadable; and `$finite` to a `const bool`, true when that kernel's
/// columns are finite whatever the value (indicators, counts, hours and
/// days: no value can overflow them), so they skip the finiteness scan of
/// [`super::finish`]. [`Op::apply`] calls it once; the column runner
/// ([`super::columns`]) loops over a block of rows inside `$body`, so the variant is
/// matched once per block instead of once per value. One mapping from
/// transform to code, for both.
macro_rules! with_kernel {
    ($op:expr, |$k:ident, $finite:ident| $body:expr) => {
        match $op {
            $crate::schema::ops::Op::Number { missing, clip } => {
                const $finite: bool = false;
                let (missing, clip) = (*missing, *clip);
                let $k = |field: $crate::event::Field<'_>, out: &mut [f64]| {
                    let (v, ok) = $crate::schema::numeric::read_number(field.first, missing);
                    // The missing value is the user's choice: it is not clipped.
                    out[0] = if ok {
                        $crate::schema::numeric::clip(v, clip)
                    } else {
                        v
                    };
                    ok
                };
                $body
            }
            $crate::schema::ops::Op::Log1p { missing, clip } => {
                const $finite: bool = false;
                let (missing, clip) = (*missing, *clip);
                let $k = |field: $crate::event::Field<'_>, out: &mut [f64]| {
                    let (v, ok) = $crate::schema::numeric::read_number(field.first, missing);
                    out[0] = $crate::schema::numeric::signed_log1p($crate::schema::numeric::clip(
                        v, clip,
                    ));
                    ok
                };
                $body
            }
            $crate::schema::ops::Op::Standardize {
                mean,
                inv_std,
                missing,
            } => {
                const $finite: bool = false;
                let (mean, inv_std, missing) = (*mean, *inv_std, *missing);
                let $k = |field: $crate::event::Field<'_>, out: &mut [f64]| {
                    let (v, ok) = $crate::schema::numeric::read_number(field.first, missing);
                    out[0] = (v - mean) * inv_std;
                    ok
                };
                $body
            }
            $crate::schema::ops::Op::Boolean { missing } => {
                const $finite: bool = true;
                let missing = *missing;
                let $k = |field: $crate::event::Field<'_>, out: &mut [f64]| {
                    let (b, ok) = $crate::schema::categorical::read_bool(field.first, missing);
                    out[0] = f64::from(u8::from(b));
                    ok
                };
                $body
            }
            $crate::schema::ops::Op::OneHot(oh) => {
                const $finite: bool = true;
                let $k =
                    |field: $crate::event::Field<'_>, out: &mut [f64]| oh.apply(field.first, out);
                $body
            }
            $crate::schema::ops::Op::HashBucket { buckets } => {
                const $finite: bool = true;
                let buckets = *buckets;
                let $k = |field: $crate::event::Field<'_>, out: &mut [f64]| {
                    $crate::schema::categorical::hash_bucket(field.first, buckets, out)
                };
                $body
            }
            $crate::schema::ops::Op::IpClass => {
                const $finite: bool = true;
                let $k = |field: $crate::event::Field<'_>, out: &mut [f64]| {
                    $crate::schema::network::ip_class(field.first, out)
                };
                $body
            }
            $crate::schema::ops::Op::HourOfDay { offset_s, cyclic } => {
                const $finite: bool = true;
                let (offset_s, cyclic) = (*offset_s, *cyclic);
                let $k = |field: $crate::event::Field<'_>, out: &mut [f64]| {
                    $crate::schema::time::hour_of_day(field.first, offset_s, cyclic, out)
                };
                $body
            }
            $crate::schema::ops::Op::DayOfWeek { offset_s, cyclic } => {
                const $finite: bool = true;
                let (offset_s, cyclic) = (*offset_s, *cyclic);
                let $k = |field: $crate::event::Field<'_>, out: &mut [f64]| {
                    $crate::schema::time::day_of_week(field.first, offset_s, cyclic, out)
                };
                $body
            }
            $crate::schema::ops::Op::StringLength { missing } => {
                const $finite: bool = false;
                let missing = *missing;
                let $k = |field: $crate::event::Field<'_>, out: &mut [f64]| {
                    $crate::schema::text::string_length(field.first, missing, out)
                };
                $body
            }
            $crate::schema::ops::Op::ValueCount => {
                const $finite: bool = true;
                let $k = |field: $crate::event::Field<'_>, out: &mut [f64]| {
                    out[0] = field.count as f64;
                    true
                };
                $body
            }
        }
    };
}
pub(super) use with_kernel;
