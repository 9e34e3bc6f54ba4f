//! String readings: length in characters.

use super::categorical::with_text;
use crate::event::Value;

pub(crate) fn string_length(v: Value<'_>, missing: f64, out: &mut [f64]) -> bool {
    match with_text(v, |s| s.chars().count()) {
        Some(n) => {
            out[0] = n as f64;
            true
        }
        None => {
            out[0] = missing;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        let mut out = [0.0];
        assert!(string_length(Value::Text("héllo→"), 0.0, &mut out));
        assert_eq!(out[0], 6.0);
        assert!(!string_length(Value::Missing, -1.0, &mut out));
        assert_eq!(out[0], -1.0);
    }
}
