//! Schema inference for `train --features a,b,c`: look at each column and
//! pick the transform a data scientist would.
//!
//! | column looks like | transform(s) |
//! |---|---|
//! | `_time` | `hour_of_day` + `day_of_week` (cyclic for scale-sensitive algorithms) |
//! | ≥ 98 % numbers | `number` (missing = median), `log1p` when non-negative and heavy-tailed, `standardize` for scale-sensitive algorithms |
//! | only true/false words | `boolean` |
//! | ≥ 95 % IP addresses | `ip_class` |
//! | long text (mean ≥ 40 chars) | `string_length` |
//! | ≤ 50 distinct values | `one_hot` (by frequency, with "other") |
//! | more distinct values | `hash_bucket` (32) |
//!
//! Multivalue columns get a `value_count` feature as well.

use std::collections::HashMap;

use super::table::Table;
use crate::event::Value;
use crate::schema::{FeatureSpec, Schema, Transform};
use crate::{Error, Result};

const MAX_ONE_HOT: usize = 50;
const HASH_BUCKETS: u32 = 32;

fn spec(field: &str, name: Option<String>, transform: Transform) -> FeatureSpec {
    FeatureSpec {
        name,
        field: field.to_string(),
        transform,
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Infer a schema for `fields` of `table`. `scale` asks for standardized
/// numbers and cyclic time (logistic/linear regression, k-means, PCA).
pub fn infer_schema(table: &Table, fields: &[String], scale: bool) -> Result<Schema> {
    let mut features = Vec::new();
    for field in fields {
        let Some(column) = table.column(field) else {
            return Err(Error::Train(format!(
                "feature `{field}` is not a column of the table (columns: {})",
                table.columns().join(", ")
            )));
        };
        let cells: Vec<&str> = column.flatten().filter(|s| !s.is_empty()).collect();
        if cells.is_empty() {
            return Err(Error::Train(format!(
                "feature `{field}` is empty in every row"
            )));
        }
        if field == "_time" {
            features.push(spec(
                field,
                Some("hour_of_day".into()),
                Transform::HourOfDay {
                    utc_offset_minutes: 0,
                    cyclic: scale,
                },
            ));
            features.push(spec(
                field,
                Some("day_of_week".into()),
                Transform::DayOfWeek {
                    utc_offset_minutes: 0,
                    cyclic: scale,
                },
            ));
            continue;
        }
        let firsts: Vec<&str> = cells
            .iter()
            .map(|c| c.split('\n').next().unwrap_or(""))
            .collect();
        if cells.iter().any(|c| c.contains('\n')) {
            features.push(spec(
                field,
                Some(format!("{field}_count")),
                Transform::ValueCount,
            ));
        }
        features.push(infer_one(field, &firsts, scale));
    }
    Ok(Schema { features })
}

fn infer_one(field: &str, values: &[&str], scale: bool) -> FeatureSpec {
    let n = values.len() as f64;
    let mut nums: Vec<f64> = values
        .iter()
        .filter_map(|s| s.trim().parse::<f64>().ok())
        .filter(|x| x.is_finite())
        .collect();
    if nums.len() as f64 >= 0.98 * n {
        nums.sort_by(f64::total_cmp);
        let median = quantile(&nums, 0.5);
        let heavy = nums[0] >= 0.0 && quantile(&nums, 0.99) > 100.0 * (median.abs() + 1.0);
        if heavy {
            return spec(
                field,
                None,
                Transform::Log1p {
                    missing: median,
                    clip: None,
                },
            );
        }
        if scale {
            let mean = nums.iter().sum::<f64>() / nums.len() as f64;
            let var = nums.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / nums.len() as f64;
            let std = if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 };
            return spec(
                field,
                None,
                Transform::Standardize {
                    mean,
                    std,
                    missing: Some(median),
                },
            );
        }
        return spec(
            field,
            None,
            Transform::Number {
                missing: median,
                clip: None,
            },
        );
    }
    let boolean = values.iter().all(|s| {
        let (_, ok) = crate::schema::read_bool_pub(Value::Text(s));
        ok
    });
    if boolean {
        return spec(field, None, Transform::Boolean { missing: false });
    }
    let ips = values
        .iter()
        .filter(|s| s.trim().parse::<std::net::IpAddr>().is_ok())
        .count();
    if ips as f64 >= 0.95 * n {
        return spec(field, None, Transform::IpClass);
    }
    let mean_len = values.iter().map(|s| s.chars().count()).sum::<usize>() as f64 / n;
    if mean_len >= 40.0 {
        return spec(
            field,
            Some(format!("{field}_length")),
            Transform::StringLength { missing: 0.0 },
        );
    }
    let mut freq: HashMap<&str, usize> = HashMap::new();
    for v in values {
        *freq.entry(v).or_default() += 1;
    }
    if freq.len() <= MAX_ONE_HOT {
        let mut cats: Vec<(&str, usize)> = freq.into_iter().collect();
        cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let categories = cats.into_iter().map(|(c, _)| c.to_string()).collect();
        return spec(
            field,
            None,
            Transform::OneHot {
                categories,
                other: true,
            },
        );
    }
    spec(
        field,
        None,
        Transform::HashBucket {
            buckets: HASH_BUCKETS,
        },
    )
}
