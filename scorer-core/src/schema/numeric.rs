//! Numeric readings: number, signed log1p, clipping.

use crate::event::Value;

/// Read a value as a finite number. Strings are trimmed and parsed; booleans
/// are 1/0; NaN, ±inf and unparsable text count as missing (`(missing, false)`).
#[inline]
pub(crate) fn read_number(v: Value<'_>, missing: f64) -> (f64, bool) {
    let x = match v {
        Value::Number(x) => x,
        Value::Bool(b) => f64::from(u8::from(b)),
        Value::Text(s) => match crate::event::parse_number(s) {
            Some(x) => x,
            None => return (missing, false),
        },
        Value::NumericText(_, x) => x,
        Value::Missing => return (missing, false),
    };
    if x.is_finite() {
        (x, true)
    } else {
        (missing, false)
    }
}

#[inline]
pub(crate) fn clip(x: f64, clip: Option<[f64; 2]>) -> f64 {
    match clip {
        Some([lo, hi]) => x.clamp(lo, hi),
        None => x,
    }
}

/// sign(x)·ln(1+|x|): defined for every finite x, monotone, and equal to
/// `ln_1p` for x ≥ 0. Example: 1e9 bytes → 20.72.
pub(crate) fn signed_log1p(x: f64) -> f64 {
    if x < 0.0 {
        -libm::log1p(-x)
    } else {
        libm::log1p(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(read_number(Value::Text(" 42.5 "), 0.0), (42.5, true));
        assert_eq!(read_number(Value::Text("abc"), -1.0), (-1.0, false));
        assert_eq!(read_number(Value::Text("NaN"), 7.0), (7.0, false));
        assert_eq!(read_number(Value::Text("inf"), 7.0), (7.0, false));
        assert_eq!(read_number(Value::Number(f64::NAN), 3.0), (3.0, false));
        assert_eq!(read_number(Value::Bool(true), 0.0), (1.0, true));
        assert_eq!(read_number(Value::Number(1e300), 0.0), (1e300, true));
    }

    #[test]
    fn signed_log_is_symmetric() {
        assert_eq!(signed_log1p(0.0), 0.0);
        assert!((signed_log1p(1e9) - 20.723_265_837_946_41).abs() < 1e-12);
        assert_eq!(signed_log1p(-5.0), -signed_log1p(5.0));
        assert_eq!(clip(5.0, Some([0.0, 1.0])), 1.0);
    }
}
