//! The feature schema: which event fields a model reads and how each becomes numbers.
//!
//! A schema is an ordered list of [`FeatureSpec`]s. Each reads one event field
//! (Splunk's name, case-sensitive) and applies one [`Transform`], producing one
//! or more columns of the feature row. Missing or unparsable values never fail:
//! the transform's missing value is used and the feature is marked missing.
//!
//! | transform | columns | reads |
//! |---|---|---|
//! | `number` | 1 | a number, with a missing value and optional clipping |
//! | `log1p` | 1 | sign(x)·ln(1+\|x\|) of a number |
//! | `standardize` | 1 | (x − mean) / std |
//! | `boolean` | 1 | true/yes/1/on → 1, false/no/0/off → 0 |
//! | `one_hot` | categories (+1 "other") | exact category match |
//! | `hash_bucket` | buckets | FNV-1a of the string, one-hot over n buckets |
//! | `ip_class` | 4 | private, loopback, link-local, public |
//! | `hour_of_day` | 1 (2 if cyclic) | hour 0..23 of an epoch or ISO-8601 time |
//! | `day_of_week` | 1 (2 if cyclic) | 0 = Monday .. 6 = Sunday |
//! | `string_length` | 1 | number of characters |
//! | `value_count` | 1 | number of values of a multivalue field |

mod categorical;
mod columns;
mod network;
mod numeric;
mod ops;
mod text;
mod time;

pub use columns::Columns;
pub use time::epoch_time;

use serde::{Deserialize, Serialize};

use crate::event::{Event, Field};
use crate::{Error, Result};

pub use network::IpClass;
use ops::Op;

/// One feature: a field read through a transform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    /// The feature's name in explanations and drift reports; defaults to the field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The event field to read (Splunk's name, case-sensitive).
    pub field: String,
    /// How the field becomes numbers.
    pub transform: Transform,
}

/// How a field becomes one or more feature columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// The value as a number.
    Number {
        /// Used when the field is missing or not a number.
        #[serde(default)]
        missing: f64,
        /// Clip to `[lo, hi]` after parsing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clip: Option<[f64; 2]>,
    },
    /// Signed log: sign(x)·ln(1+|x|), for heavy-tailed counts such as bytes.
    Log1p {
        /// Raw value used when missing (transformed like any value).
        #[serde(default)]
        missing: f64,
        /// Clip the raw value to `[lo, hi]` before the log.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clip: Option<[f64; 2]>,
    },
    /// (x − mean) / std.
    Standardize {
        /// Training mean.
        mean: f64,
        /// Training standard deviation (> 0).
        std: f64,
        /// Raw value used when missing; defaults to the mean (column value 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing: Option<f64>,
    },
    /// A truth value.
    Boolean {
        /// Used when missing or unreadable.
        #[serde(default)]
        missing: bool,
    },
    /// One column per category, plus an "other" column for values not listed.
    OneHot {
        /// The categories, matched exactly (case-sensitive).
        categories: Vec<String>,
        /// Add an "other" column (default true).
        #[serde(default = "yes")]
        other: bool,
    },
    /// The hashing trick for high-cardinality strings: one-hot over `buckets`.
    HashBucket {
        /// Number of buckets (columns).
        buckets: u32,
    },
    /// Class of an IP address, one-hot: private, loopback, link-local, public.
    IpClass,
    /// Hour of day (0..23) of an epoch-seconds or ISO-8601 timestamp.
    HourOfDay {
        /// Offset from UTC, minutes.
        #[serde(default)]
        utc_offset_minutes: i32,
        /// Encode as (sin, cos) on the 24-hour circle instead of 0..23.
        #[serde(default)]
        cyclic: bool,
    },
    /// Day of week (0 = Monday .. 6 = Sunday).
    DayOfWeek {
        /// Offset from UTC, minutes.
        #[serde(default)]
        utc_offset_minutes: i32,
        /// Encode as (sin, cos) on the 7-day circle instead of 0..6.
        #[serde(default)]
        cyclic: bool,
    },
    /// Length of the string value in characters.
    StringLength {
        /// Used when missing.
        #[serde(default)]
        missing: f64,
    },
    /// Number of values of a (multivalue) field; 0 when missing.
    ValueCount,
}

fn yes() -> bool {
    true
}

impl Transform {
    /// Number of feature columns this transform produces.
    pub fn width(&self) -> usize {
        match self {
            Transform::OneHot { categories, other } => categories.len() + usize::from(*other),
            Transform::HashBucket { buckets } => *buckets as usize,
            Transform::IpClass => 4,
            Transform::HourOfDay { cyclic, .. } | Transform::DayOfWeek { cyclic, .. } => {
                1 + usize::from(*cyclic)
            }
            _ => 1,
        }
    }

    /// Suffixes that name each column (empty for single-column transforms).
    fn column_suffixes(&self) -> Vec<String> {
        match self {
            Transform::OneHot { categories, other } => {
                let mut v: Vec<String> = categories.iter().map(|c| format!("={c}")).collect();
                if *other {
                    v.push("=(other)".into());
                }
                v
            }
            Transform::HashBucket { buckets } => (0..*buckets).map(|b| format!("#{b}")).collect(),
            Transform::IpClass => IpClass::ALL
                .iter()
                .map(|c| format!("={}", c.name()))
                .collect(),
            Transform::HourOfDay { cyclic: true, .. }
            | Transform::DayOfWeek { cyclic: true, .. } => {
                vec![":sin".into(), ":cos".into()]
            }
            _ => vec![String::new()],
        }
    }
}

/// Largest number of columns one transform may produce.
pub const MAX_TRANSFORM_WIDTH: usize = 1 << 16;
/// Largest number of features in a schema.
pub const MAX_FEATURES: usize = 4096;
/// Largest number of feature columns in all (one row of f64 is at most 2 MiB;
/// without it, 4096 features × 65,536 hashed buckets would ask for 2 GiB a row).
pub const MAX_WIDTH: usize = 1 << 18;

/// The ordered feature schema of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Features in column order.
    pub features: Vec<FeatureSpec>,
}

impl FeatureSpec {
    /// The display name of the feature.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.field)
    }
}

impl Schema {
    /// Total number of feature columns.
    pub fn width(&self) -> usize {
        self.features.iter().map(|f| f.transform.width()).sum()
    }

    /// Names of every column, e.g. `src_ip=private`, `bytes_out`.
    pub fn column_names(&self) -> Vec<String> {
        self.features
            .iter()
            .flat_map(|f| {
                let base = f.display_name().to_string();
                f.transform
                    .column_suffixes()
                    .into_iter()
                    .map(move |s| format!("{base}{s}"))
            })
            .collect()
    }

    /// For every column, the index of the feature that produced it.
    pub fn column_features(&self) -> Vec<usize> {
        self.features
            .iter()
            .enumerate()
            .flat_map(|(i, f)| std::iter::repeat_n(i, f.transform.width()))
            .collect()
    }

    /// The distinct event fields the schema reads, in first-use order.
    pub fn fields(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in &self.features {
            if !out.contains(&f.field.as_str()) {
                out.push(&f.field);
            }
        }
        out
    }

    /// Check every transform's parameters.
    pub fn validate(&self) -> Result<()> {
        if self.features.is_empty() {
            return Err(Error::invalid("schema.features", "no features"));
        }
        if self.features.len() > MAX_FEATURES {
            return Err(Error::invalid(
                "schema.features",
                format!(
                    "{} features, over the limit of {MAX_FEATURES}",
                    self.features.len()
                ),
            ));
        }
        for (i, f) in self.features.iter().enumerate() {
            let path = format!("schema.features[{i}]");
            if f.field.is_empty() {
                return Err(Error::invalid(&path, "empty field name"));
            }
            validate_transform(&f.transform).map_err(|m| Error::invalid(&path, m))?;
        }
        let width = self.width();
        if width > MAX_WIDTH {
            return Err(Error::invalid(
                "schema.features",
                format!("{width} feature columns in all, over the limit of {MAX_WIDTH}"),
            ));
        }
        Ok(())
    }

    /// Compile the schema into a featurizer (lookup tables built once).
    pub fn compile(&self) -> Result<Featurizer> {
        self.validate()?;
        let fields = self.fields();
        let steps = self
            .features
            .iter()
            .map(|f| Step {
                field: f.field.clone(),
                field_index: fields.iter().position(|n| *n == f.field).unwrap_or(0),
                op: Op::compile(&f.transform),
                width: f.transform.width(),
            })
            .collect();
        Ok(Featurizer {
            steps,
            width: self.width(),
        })
    }
}

fn finite_or(what: &str, v: f64) -> std::result::Result<(), String> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(format!("{what} is {v}, must be a finite number"))
    }
}

fn validate_transform(t: &Transform) -> std::result::Result<(), String> {
    let width = t.width();
    if width == 0 || width > MAX_TRANSFORM_WIDTH {
        return Err(format!(
            "transform produces {width} columns, allowed 1..={MAX_TRANSFORM_WIDTH}"
        ));
    }
    match t {
        Transform::Number { missing, clip } | Transform::Log1p { missing, clip } => {
            finite_or("missing", *missing)?;
            if let Some([lo, hi]) = clip {
                finite_or("clip low", *lo)?;
                finite_or("clip high", *hi)?;
                if lo > hi {
                    return Err(format!("clip [{lo}, {hi}] is empty"));
                }
            }
        }
        Transform::Standardize { mean, std, missing } => {
            finite_or("mean", *mean)?;
            finite_or("std", *std)?;
            if *std <= 0.0 {
                return Err(format!("std is {std}, must be > 0"));
            }
            if let Some(m) = missing {
                finite_or("missing", *m)?;
            }
        }
        Transform::OneHot { categories, .. } => {
            let mut sorted: Vec<&String> = categories.iter().collect();
            sorted.sort();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(format!("category {:?} is listed twice", w[0]));
            }
        }
        Transform::HourOfDay {
            utc_offset_minutes, ..
        }
        | Transform::DayOfWeek {
            utc_offset_minutes, ..
        } if utc_offset_minutes.abs() > 24 * 60 => {
            return Err(format!(
                "utc_offset_minutes {utc_offset_minutes} is beyond ±1440"
            ));
        }
        Transform::StringLength { missing } => finite_or("missing", *missing)?,
        _ => {}
    }
    Ok(())
}

#[derive(Debug, Clone)]
struct Step {
    field: String,
    /// Position of `field` in [`Schema::fields`].
    field_index: usize,
    op: Op,
    width: usize,
}

/// A compiled schema: turns events into rows of a row-major feature matrix.
#[derive(Debug, Clone)]
pub struct Featurizer {
    steps: Vec<Step>,
    width: usize,
}

impl Featurizer {
    /// Columns per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of features (one missing bit each).
    pub fn n_features(&self) -> usize {
        self.steps.len()
    }

    /// Words of the per-row missing mask (64 features per word).
    pub fn mask_words(&self) -> usize {
        self.steps.len().div_ceil(64)
    }

    /// Featurize one event into `row` (`width` slots) and its missing mask
    /// (`mask_words` words; bit i set when feature i was missing or unreadable).
    /// Never allocates and never panics on any field value.
    pub fn featurize_into<E: Event + ?Sized>(&self, event: &E, row: &mut [f64], mask: &mut [u64]) {
        self.run(|step| event.field(&step.field), row, mask);
    }

    /// Like [`Featurizer::featurize_into`], with fields given by their index in
    /// [`Schema::fields`] (the columnar wasm ABI reads fields this way).
    pub fn featurize_indexed<'a>(
        &self,
        field: impl Fn(usize) -> Field<'a>,
        row: &mut [f64],
        mask: &mut [u64],
    ) {
        self.run(|step| field(step.field_index), row, mask);
    }

    fn run<'a>(&self, mut get: impl FnMut(&Step) -> Field<'a>, row: &mut [f64], mask: &mut [u64]) {
        mask.fill(0);
        let mut col = 0;
        for (i, step) in self.steps.iter().enumerate() {
            let out = &mut row[col..col + step.width];
            if !step.op.apply(get(step), out) {
                mask[i / 64] |= 1 << (i % 64);
            }
            col += step.width;
        }
    }
}

/// A transform's `out` after it returned `ok`: a value that overflowed it
/// (e.g. 1e308 standardized by a tiny std) counts as unreadable and its
/// columns are zeroed, so the matrix stays finite. Whether the feature was
/// readable. Both the row and the column paths finish a value with it.
/// `finite`: the kernel's columns cannot be anything but finite
/// ([`ops::with_kernel`]), so there is nothing to scan; one-hot columns are
/// most of a wide model's, and the scan went over each of them, in wasm
/// with an epoch check per column.
#[inline(always)]
fn finish(out: &mut [f64], ok: bool, finite: bool) -> bool {
    if finite {
        debug_assert!(out.iter().all(|v| v.is_finite()));
        return ok;
    }
    // Numeric kernels write one column: checked without a loop (in wasm a
    // loop pays an epoch check).
    let all_finite = match out {
        [v] => v.is_finite(),
        _ => out.iter().all(|v| v.is_finite()),
    };
    if all_finite {
        ok
    } else {
        out.fill(0.0);
        false
    }
}

#[cfg(test)]
mod tests;

/// Read a truth value the way the `boolean` transform does: `(value, readable)`.
#[cfg(feature = "train")]
pub(crate) fn read_bool_pub(v: crate::event::Value<'_>) -> (bool, bool) {
    categorical::read_bool(v, false)
}

/// Read a number the way the `number` transform does: `(value, readable)`.
#[cfg(feature = "train")]
pub(crate) fn read_number_pub(v: crate::event::Value<'_>) -> (f64, bool) {
    numeric::read_number(v, 0.0)
}
