//! Categorical readings: boolean, one-hot with an "other" bucket, hashed buckets.

use crate::event::Value;

/// Read a truth value. Accepted (ASCII case-insensitive): true/t/yes/y/1/on
/// and false/f/no/n/0/off; numbers are true when non-zero.
pub(crate) fn read_bool(v: Value<'_>, missing: bool) -> (bool, bool) {
    match v {
        Value::Bool(b) => (b, true),
        Value::Number(x) if x.is_finite() => (x != 0.0, true),
        Value::Text(s) | Value::NumericText(s, _) => {
            let s = s.trim();
            const TRUE: [&str; 6] = ["true", "t", "yes", "y", "1", "on"];
            const FALSE: [&str; 6] = ["false", "f", "no", "n", "0", "off"];
            if TRUE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
                (true, true)
            } else if FALSE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
                (false, true)
            } else {
                (missing, false)
            }
        }
        _ => (missing, false),
    }
}

/// A small stack buffer so numbers can be read as text without allocating.
pub(crate) struct NumText {
    buf: [u8; 40],
    len: usize,
}

impl NumText {
    /// Format a number the way a Splunk value would be written: integers without a fraction.
    pub(crate) fn new(x: f64) -> Self {
        use std::fmt::Write;
        let mut t = NumText {
            buf: [0; 40],
            len: 0,
        };
        if x.fract() == 0.0 && x.abs() < 1e15 {
            let _ = write!(t, "{}", x as i64);
        } else {
            let _ = write!(t, "{x}");
        }
        t
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for NumText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Calls `f` with the value as text (numbers and booleans formatted), or returns None when missing.
pub(crate) fn with_text<R>(v: Value<'_>, f: impl FnOnce(&str) -> R) -> Option<R> {
    match v {
        Value::Text(s) | Value::NumericText(s, _) => Some(f(s)),
        Value::Number(x) if x.is_finite() => Some(f(NumText::new(x).as_str())),
        Value::Bool(b) => Some(f(if b { "true" } else { "false" })),
        _ => None,
    }
}

/// One-hot lookup: a hash table from category to column. A binary search
/// over the sorted categories compared whole strings several times a value,
/// and categories such as IDS signatures share long prefixes. Now a value is
/// hashed once (Fx, a word at a time) and compared once, by [`same_bytes`]:
/// the wasm build's `memcmp` goes a byte at a time, with an epoch check per
/// byte under wasmtime.
#[derive(Debug, Clone)]
pub(crate) struct OneHot {
    /// (category, column), keyed by `hash`.
    columns: hashbrown::HashTable<(Box<str>, usize)>,
    other: Option<usize>,
}

fn hash(s: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(s)
}

/// `a == b`, eight bytes at a time: the last word overlaps the one before
/// when the length is not a multiple of eight. Strings of four to seven
/// bytes compare as two overlapping four-byte halves, shorter ones by their
/// first, middle and last bytes.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if word(a, at) != word(b, at) {
                return false;
            }
            at += 8;
        }
        return word(a, n - 8) == word(b, n - 8);
    }
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4"));
    if n >= 4 {
        return half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4);
    }
    // 0 to 3 bytes: the first, the middle and the last (overlapping).
    n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1])
}

impl OneHot {
    pub(crate) fn new(categories: &[String], other: bool) -> Self {
        let mut columns = hashbrown::HashTable::with_capacity(categories.len());
        for (i, c) in categories.iter().enumerate() {
            // Categories are distinct (checked at load); were one repeated,
            // it would keep its first column.
            let eq = |(k, _): &(Box<str>, usize)| **k == **c;
            if let hashbrown::hash_table::Entry::Vacant(slot) =
                columns.entry(hash(c), eq, |(k, _)| hash(k))
            {
                slot.insert((c.as_str().into(), i));
            }
        }
        OneHot {
            columns,
            other: other.then_some(categories.len()),
        }
    }

    fn column(&self, s: &str) -> Option<usize> {
        self.columns
            .find(hash(s), |(k, _)| same_bytes(k.as_bytes(), s.as_bytes()))
            .map(|(_, col)| *col)
    }

    pub(crate) fn apply(&self, v: Value<'_>, out: &mut [f64]) -> bool {
        out.fill(0.0);
        let hit = with_text(v, |s| self.column(s));
        match hit {
            Some(Some(col)) => {
                out[col] = 1.0;
                true
            }
            Some(None) => {
                if let Some(col) = self.other {
                    out[col] = 1.0;
                }
                true
            }
            None => false,
        }
    }
}

/// FNV-1a, 64-bit: stable across platforms and runtimes (documented in the
/// artifact format so other tools can reproduce bucket numbers).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) fn hash_bucket(v: Value<'_>, buckets: u32, out: &mut [f64]) -> bool {
    out.fill(0.0);
    match with_text(v, |s| fnv1a(s.as_bytes()) % u64::from(buckets)) {
        Some(b) => {
            out[b as usize] = 1.0;
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        assert_eq!(read_bool(Value::Text("YES"), false), (true, true));
        assert_eq!(read_bool(Value::Text("off"), true), (false, true));
        assert_eq!(read_bool(Value::Text("maybe"), true), (true, false));
        assert_eq!(read_bool(Value::Number(2.0), false), (true, true));
    }

    #[test]
    fn one_hot_with_other() {
        let oh = OneHot::new(&["ssh".into(), "http".into()], true);
        let mut out = [9.0; 3];
        assert!(oh.apply(Value::Text("http"), &mut out));
        assert_eq!(out, [0.0, 1.0, 0.0]);
        assert!(oh.apply(Value::Text("HTTP"), &mut out));
        assert_eq!(out, [0.0, 0.0, 1.0]);
        assert!(!oh.apply(Value::Missing, &mut out));
        assert_eq!(out, [0.0, 0.0, 0.0]);
    }

    proptest::proptest! {
        /// The word-at-a-time compare is `==` on bytes, at every length
        /// around the word and half-word edges.
        #[test]
        fn same_bytes_is_equality(
            a in proptest::collection::vec(0u8..3, 0..40),
            flip in proptest::option::of(0usize..40),
        ) {
            let mut b = a.clone();
            if let Some(i) = flip.filter(|i| *i < b.len()) {
                b[i] ^= 1;
            }
            proptest::prop_assert_eq!(same_bytes(&a, &b), a == b);
            proptest::prop_assert!(same_bytes(&a, &a));
            proptest::prop_assert_eq!(same_bytes(&a, &b[..b.len().saturating_sub(1)]), a.is_empty());
        }
    }

    #[test]
    fn fnv_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn numbers_hash_like_their_text() {
        let mut a = [0.0; 16];
        let mut b = [0.0; 16];
        hash_bucket(Value::Number(443.0), 16, &mut a);
        hash_bucket(Value::Text("443"), 16, &mut b);
        assert_eq!(a, b);
    }
}
