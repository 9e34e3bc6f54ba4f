//! Batches (`RSB2`): [`BatchWriter`] on the host, [`BatchView`] in the guest.
//! The layout is documented on the [`crate::wire`] module.

use scorer_core::{Field, Value};

use super::{u32_at, u64_at};

/// Magic of a batch.
pub const BATCH_MAGIC: &[u8; 4] = b"RSB2";
/// Bytes of the batch header.
pub const BATCH_HEADER: usize = 24;
/// Bytes of an extension record.
pub const EXT: usize = 24;

const KIND_MISSING: u8 = 0;
const KIND_NUMBER: u8 = 1;
const KIND_TEXT: u8 = 2;
const KIND_TRUE: u8 = 3;
const KIND_FALSE: u8 = 4;
const KIND_NUMERIC_TEXT: u8 = 5;
const KIND_EXTENDED: u8 = 6;

/// Where the payloads start: after the header and the kinds, padded to 8.
fn payloads_at(n_cells: usize) -> Option<usize> {
    BATCH_HEADER.checked_add(n_cells.checked_next_multiple_of(8)?)
}

fn text_payload(off: u32, len: u32) -> u64 {
    u64::from(off) | (u64::from(len) << 32)
}

/// The (offset, length) of a text payload.
#[inline(always)]
fn text_span(p: u64) -> (u32, u32) {
    (p as u32, (p >> 32) as u32)
}

fn ext_record(kind: u8, count: u32, number: f64, off: u32, len: u32) -> [u8; EXT] {
    let mut c = [0u8; EXT];
    c[0] = kind;
    c[4..8].copy_from_slice(&count.to_le_bytes());
    c[8..16].copy_from_slice(&number.to_bits().to_le_bytes());
    c[16..20].copy_from_slice(&off.to_le_bytes());
    c[20..24].copy_from_slice(&len.to_le_bytes());
    c
}

/// Host side: builds a batch, column by column or row by row, reusing its
/// buffers. [`BatchWriter::write_to`] puts it straight into the guest's
/// memory; [`BatchWriter::finish`] returns it as bytes.
#[derive(Debug, Default)]
pub struct BatchWriter {
    kinds: Vec<u8>,
    payloads: Vec<u64>,
    ext: Vec<[u8; EXT]>,
    strings: Vec<u8>,
    n_rows: usize,
    n_cols: usize,
    out: Vec<u8>,
}

impl BatchWriter {
    /// Start a batch of `n_rows` rows and `n_cols` columns (all cells missing).
    pub fn reset(&mut self, n_rows: usize, n_cols: usize) {
        let n = n_rows * n_cols;
        self.kinds.clear();
        self.kinds.resize(n, KIND_MISSING);
        self.payloads.clear();
        self.payloads.resize(n, 0);
        self.ext.clear();
        self.strings.clear();
        self.n_rows = n_rows;
        self.n_cols = n_cols;
    }

    fn text(&mut self, s: &str) -> (u32, u32) {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        (off, s.len() as u32)
    }

    /// Set cell (col, row) from a field value. Text that reads as a number
    /// ([`scorer_core::parse_number`]) travels with that number, so the
    /// guest's numeric transforms need not parse it.
    pub fn set(&mut self, col: usize, row: usize, field: Field<'_>) {
        self.set_cell(col, row, field, true);
    }

    /// Like [`BatchWriter::set`] for a field that no numeric transform reads
    /// (one-hot, IP class, string length, boolean, …): text travels as text,
    /// its number reading not computed. The guest's featurization is the same
    /// either way, since every transform that reads text sees the same text
    /// and the numeric ones parse plain text with the same function.
    pub fn set_text_only(&mut self, col: usize, row: usize, field: Field<'_>) {
        self.set_cell(col, row, field, false);
    }

    #[inline(always)]
    fn set_cell(&mut self, col: usize, row: usize, field: Field<'_>, parse: bool) {
        let at = col * self.n_rows + row;
        let n = field.count as u32;
        let (kind, payload) = match field.first {
            Value::Missing if n == 0 => (KIND_MISSING, 0),
            // A multivalue field whose first value is not a scalar: missing,
            // but its value count still counts.
            Value::Missing => self.extend(ext_record(KIND_MISSING, n, 0.0, 0, 0)),
            Value::Number(x) if n == 1 => (KIND_NUMBER, x.to_bits()),
            Value::Bool(b) if n == 1 => (if b { KIND_TRUE } else { KIND_FALSE }, 0),
            Value::Text(s) | Value::NumericText(s, _) => {
                let (off, len) = self.text(s);
                match parse.then(|| scorer_core::parse_number(s)).flatten() {
                    None if n == 1 => (KIND_TEXT, text_payload(off, len)),
                    None => self.extend(ext_record(KIND_TEXT, n, 0.0, off, len)),
                    Some(x) => self.extend(ext_record(KIND_NUMERIC_TEXT, n, x, off, len)),
                }
            }
            Value::Number(x) => self.extend(ext_record(KIND_NUMBER, n, x, 0, 0)),
            Value::Bool(b) => {
                let k = if b { KIND_TRUE } else { KIND_FALSE };
                self.extend(ext_record(k, n, 0.0, 0, 0))
            }
        };
        self.kinds[at] = kind;
        self.payloads[at] = payload;
    }

    fn extend(&mut self, record: [u8; EXT]) -> (u8, u64) {
        self.ext.push(record);
        (KIND_EXTENDED, self.ext.len() as u64 - 1)
    }

    /// Bytes of the encoded batch.
    pub fn encoded_len(&self) -> usize {
        let cells = self.kinds.len();
        BATCH_HEADER
            + cells.next_multiple_of(8)
            + 8 * cells
            + EXT * self.ext.len()
            + self.strings.len()
    }

    /// Encode the batch into `out`, which must be [`BatchWriter::encoded_len`]
    /// bytes long (a host passes the guest's input buffer here: no copy).
    pub fn write_to(&self, out: &mut [u8]) {
        assert_eq!(out.len(), self.encoded_len(), "batch buffer length");
        let header = [
            u32::from_le_bytes(*BATCH_MAGIC),
            self.n_rows as u32,
            self.n_cols as u32,
            self.ext.len() as u32,
            self.strings.len() as u32,
            0,
        ];
        let (head, rest) = out.split_at_mut(BATCH_HEADER);
        for (dst, v) in head.chunks_exact_mut(4).zip(header) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        let cells = self.kinds.len();
        let (kinds, rest) = rest.split_at_mut(cells.next_multiple_of(8));
        kinds[..cells].copy_from_slice(&self.kinds);
        kinds[cells..].fill(0);
        let (payloads, rest) = rest.split_at_mut(8 * cells);
        for (dst, p) in payloads.chunks_exact_mut(8).zip(&self.payloads) {
            dst.copy_from_slice(&p.to_le_bytes());
        }
        let (ext, strings) = rest.split_at_mut(EXT * self.ext.len());
        ext.copy_from_slice(self.ext.as_flattened());
        strings.copy_from_slice(&self.strings);
    }

    /// The encoded batch.
    pub fn finish(&mut self) -> &[u8] {
        let mut out = std::mem::take(&mut self.out);
        out.resize(self.encoded_len(), 0);
        self.write_to(&mut out);
        self.out = out;
        &self.out
    }
}

/// Guest side: a validated view of a batch.
#[derive(Debug)]
pub struct BatchView<'a> {
    kinds: &'a [u8],
    payloads: &'a [u8],
    ext: &'a [u8],
    strings: &'a str,
    /// Rows in the batch.
    pub n_rows: usize,
    /// Columns (model fields).
    pub n_cols: usize,
}

fn check_text(strings: &str, off: usize, len: usize) -> Result<(), String> {
    let end = off.checked_add(len).ok_or("text overflows")?;
    if end > strings.len() || !strings.is_char_boundary(off) || !strings.is_char_boundary(end) {
        return Err(format!(
            "text {off}..{end} is outside the strings or splits a character"
        ));
    }
    Ok(())
}

impl<'a> BatchView<'a> {
    /// Check the header, every kind, length, index and offset, and that the
    /// strings are UTF-8.
    pub fn parse(b: &'a [u8], expected_cols: usize) -> Result<BatchView<'a>, String> {
        if b.get(..4) != Some(BATCH_MAGIC.as_slice()) {
            return Err("batch does not start with RSB2".into());
        }
        let word = |at| {
            u32_at(b, at)
                .map(|v| v as usize)
                .ok_or("batch header truncated")
        };
        let (n_rows, n_cols, n_ext, strings_len) = (word(4)?, word(8)?, word(12)?, word(16)?);
        if n_cols != expected_cols {
            return Err(format!(
                "batch has {n_cols} columns, the model reads {expected_cols} fields"
            ));
        }
        let overflow = "batch size overflows";
        let cells = n_rows.checked_mul(n_cols).ok_or(overflow)?;
        let pay_at = payloads_at(cells).ok_or(overflow)?;
        let ext_at = cells
            .checked_mul(8)
            .and_then(|n| n.checked_add(pay_at))
            .ok_or(overflow)?;
        let str_at = n_ext
            .checked_mul(EXT)
            .and_then(|n| n.checked_add(ext_at))
            .ok_or(overflow)?;
        let total = str_at.checked_add(strings_len).ok_or(overflow)?;
        if b.len() != total {
            return Err(format!(
                "batch is {} bytes, its header says {total}",
                b.len()
            ));
        }
        let view = BatchView {
            kinds: &b[BATCH_HEADER..BATCH_HEADER + cells],
            payloads: &b[pay_at..ext_at],
            ext: &b[ext_at..str_at],
            strings: std::str::from_utf8(&b[str_at..])
                .map_err(|e| format!("batch strings are not UTF-8: {e}"))?,
            n_rows,
            n_cols,
        };
        for (i, &k) in view.kinds.iter().enumerate() {
            match k {
                KIND_MISSING | KIND_NUMBER | KIND_TRUE | KIND_FALSE => {}
                KIND_TEXT => {
                    let (off, len) = text_span(view.payload(i));
                    check_text(view.strings, off as usize, len as usize)
                        .map_err(|e| format!("cell {i}: {e}"))?;
                }
                KIND_EXTENDED => {
                    let x = view.payload(i);
                    if x >= n_ext as u64 {
                        return Err(format!("cell {i}: extension {x} of {n_ext}"));
                    }
                }
                k => return Err(format!("cell {i}: unknown kind {k}")),
            }
        }
        for (i, e) in view.ext.chunks_exact(EXT).enumerate() {
            match e[0] {
                KIND_MISSING | KIND_NUMBER | KIND_TRUE | KIND_FALSE => {}
                KIND_TEXT | KIND_NUMERIC_TEXT => {
                    let off = u32_at(e, 16).unwrap_or(0) as usize;
                    let len = u32_at(e, 20).unwrap_or(0) as usize;
                    check_text(view.strings, off, len)
                        .map_err(|e| format!("extension {i}: {e}"))?;
                }
                k => return Err(format!("extension {i}: unknown kind {k}")),
            }
        }
        Ok(view)
    }

    #[inline(always)]
    fn payload(&self, cell: usize) -> u64 {
        u64_at(self.payloads, 8 * cell).unwrap_or(0)
    }

    /// Field `col` of row `row` (both in range; anything else reads as missing).
    #[inline(always)]
    pub fn field(&self, col: usize, row: usize) -> Field<'a> {
        let Some((kind, at)) = self.cell(col, row) else {
            return Field::MISSING;
        };
        let p = self.payload(at);
        let first = match kind {
            KIND_NUMBER => Value::Number(f64::from_bits(p)),
            KIND_TRUE => Value::Bool(true),
            KIND_FALSE => Value::Bool(false),
            KIND_TEXT => {
                let (off, len) = text_span(p);
                self.text(off, len)
            }
            KIND_EXTENDED => return self.extended(p as usize),
            _ => return Field::MISSING,
        };
        Field::one(first)
    }

    /// Cell (col, row)'s kind and index, `None` outside the batch.
    #[inline(always)]
    fn cell(&self, col: usize, row: usize) -> Option<(u8, usize)> {
        if row >= self.n_rows {
            return None;
        }
        let at = col * self.n_rows + row;
        self.kinds.get(at).map(|&kind| (kind, at))
    }

    #[inline]
    fn text(&self, off: u32, len: u32) -> Value<'a> {
        let (off, len) = (off as usize, len as usize);
        self.strings
            .get(off..off + len)
            .map_or(Value::Missing, Value::Text)
    }

    #[cold]
    fn extended(&self, i: usize) -> Field<'a> {
        let Some(e) = self.ext.get(i * EXT..(i + 1) * EXT) else {
            return Field::MISSING;
        };
        let count = u32_at(e, 4).unwrap_or(0) as usize;
        let number = f64::from_bits(u64_at(e, 8).unwrap_or(0));
        let text = || self.text(u32_at(e, 16).unwrap_or(0), u32_at(e, 20).unwrap_or(0));
        let first = match e[0] {
            KIND_NUMBER => Value::Number(number),
            KIND_TRUE => Value::Bool(true),
            KIND_FALSE => Value::Bool(false),
            KIND_TEXT => text(),
            // The host parsed it with scorer_core::parse_number; it is trusted
            // here as it is for every other value it sends.
            KIND_NUMERIC_TEXT => match text() {
                Value::Text(t) => Value::NumericText(t, number),
                v => v,
            },
            _ => Value::Missing,
        };
        Field { first, count }
    }
}

impl<'a> scorer_core::schema::Columns<'a> for BatchView<'a> {
    #[inline(always)]
    fn field(&self, index: usize, row: usize) -> Field<'a> {
        BatchView::field(self, index, row)
    }

    /// A cell of kind number: `field` would give `Field::one(Value::Number)`
    /// of the same payload.
    #[inline(always)]
    fn number(&self, index: usize, row: usize) -> Option<f64> {
        match self.cell(index, row)? {
            (KIND_NUMBER, at) => Some(f64::from_bits(self.payload(at))),
            _ => None,
        }
    }

    /// A cell of kind text: `field` would give `Field::one(Value::Text)` of
    /// the same span.
    #[inline(always)]
    fn text(&self, index: usize, row: usize) -> Option<&'a str> {
        match self.cell(index, row)? {
            (KIND_TEXT, at) => {
                let (off, len) = text_span(self.payload(at));
                self.strings.get(off as usize..off as usize + len as usize)
            }
            _ => None,
        }
    }
}
