//! An execute chunk's CSV body, read once into what the engine needs.
//!
//! Only the model's fields are copied out (into one text arena, one
//! [`Cell`] per record and field); every record is otherwise remembered as
//! the byte span of its row, so the reply can copy it untouched and append
//! the new columns — no record is rebuilt field by field.
//!
//! Splunk's multivalue convention: a field `f` may come with a companion
//! column `__mv_f` holding `$v1$;$v2$` (a `$` inside a value is doubled);
//! when that companion is non-empty the field is multivalue, otherwise it
//! holds one value even if that value contains newlines. Without any
//! `__mv_f` column (a plain CSV), newline-separated values are multivalue,
//! as in Splunk's CSV exports.

use scorer_core::{Field, Value};
use siem_adapter::engine::EventBatch;

/// A row of the body: its bytes (without the line terminator) and cell count.
#[derive(Debug, Clone, Copy)]
pub struct RowSpan {
    /// Offset of the row in the body.
    pub start: usize,
    /// End of the row, line terminator excluded.
    pub end: usize,
    /// Cells in the row.
    pub cells: usize,
}

/// A chunk body being read window by window.
pub struct BodyReader<'b> {
    rdr: csv::Reader<&'b [u8]>,
    body: &'b [u8],
    after: usize,
}

impl<'b> BodyReader<'b> {
    /// The body after the last record read well.
    pub fn rest(&self) -> &'b [u8] {
        &self.body[self.after.min(self.body.len())..]
    }
}

/// One model field of one record: its first value's text in the arena and
/// its number of values (0: missing).
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    start: u32,
    len: u32,
    count: u32,
}

/// The header's facts the reply needs.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// The header row's span in the body.
    pub span: (usize, usize),
    /// Column names.
    pub names: Vec<String>,
}

/// The records of one chunk.
#[derive(Debug, Default)]
pub struct Records {
    fields: Vec<String>,
    /// Per model field: its value column and its `__mv_` column.
    columns: Vec<(Option<usize>, Option<usize>)>,
    header: Option<Header>,
    rows: Vec<RowSpan>,
    cells: Vec<Cell>,
    text: String,
    record: csv::ByteRecord,
}

impl Records {
    /// An empty chunk reader for a model reading `fields`.
    pub fn new(fields: &[String]) -> Self {
        Records {
            fields: fields.to_vec(),
            ..Records::default()
        }
    }

    /// The header (None for an empty body).
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// The rows, in order.
    pub fn rows(&self) -> &[RowSpan] {
        &self.rows
    }

    /// Read all of `body` (header row, then records) as one window.
    pub fn read(&mut self, body: &[u8]) -> Result<(), csv::Error> {
        if let Some(mut reader) = self.begin(body)? {
            self.next_window(&mut reader, usize::MAX)?;
        }
        Ok(())
    }

    /// Start reading `body`: its header row; None for an empty body.
    pub fn begin<'b>(&mut self, body: &'b [u8]) -> Result<Option<BodyReader<'b>>, csv::Error> {
        self.header = None;
        self.rows.clear();
        self.cells.clear();
        self.text.clear();
        if body.is_empty() {
            return Ok(None);
        }
        let mut reader = BodyReader {
            rdr: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(body),
            body,
            after: 0,
        };
        let mut rec = std::mem::take(&mut self.record);
        let found = reader.rdr.read_byte_record(&mut rec);
        self.record = rec;
        if !found? {
            return Ok(None);
        }
        let span = row_span(&self.record, &reader.rdr, body);
        reader.after = reader.rdr.position().byte() as usize;
        let names: Vec<String> = self
            .record
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        self.columns = self
            .fields
            .iter()
            .map(|f| {
                let mv = format!("__mv_{f}");
                (
                    names.iter().position(|n| n == f),
                    names.iter().position(|n| *n == mv),
                )
            })
            .collect();
        self.header = Some(Header {
            span: (span.start, span.end),
            names,
        });
        Ok(Some(reader))
    }

    /// Read the windows of the chunk `lead` has begun: take its column map
    /// (a second window buffer of the same chunk; `next_window` clears the
    /// records held).
    pub fn follow(&mut self, lead: &Records) {
        debug_assert_eq!(self.fields, lead.fields);
        self.columns.clone_from(&lead.columns);
    }

    /// Replace the records held with the next at most `max` of `reader`
    /// (0 at the end). On a CSV error the records read before it stay held;
    /// [`BodyReader::rest`] is the body from the bad record on.
    pub fn next_window(
        &mut self,
        reader: &mut BodyReader<'_>,
        max: usize,
    ) -> Result<usize, csv::Error> {
        self.rows.clear();
        self.cells.clear();
        self.text.clear();
        let mut rec = std::mem::take(&mut self.record);
        let mut result = Ok(0);
        while self.rows.len() < max {
            match reader.rdr.read_byte_record(&mut rec) {
                Ok(true) => {
                    self.rows.push(row_span(&rec, &reader.rdr, reader.body));
                    reader.after = reader.rdr.position().byte() as usize;
                    for i in 0..self.columns.len() {
                        let (value, mv) = self.columns[i];
                        let cell = self.cell(&rec, value, mv);
                        self.cells.push(cell);
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.record = rec;
        result.map(|_: usize| self.rows.len())
    }

    fn push_text(&mut self, bytes: &[u8]) -> (u32, u32) {
        let start = self.text.len();
        match std::str::from_utf8(bytes) {
            Ok(s) => self.text.push_str(s),
            Err(_) => self.text.push_str(&String::from_utf8_lossy(bytes)),
        }
        (start as u32, (self.text.len() - start) as u32)
    }

    fn cell(&mut self, rec: &csv::ByteRecord, value: Option<usize>, mv: Option<usize>) -> Cell {
        let v = value.and_then(|c| rec.get(c)).unwrap_or(b"");
        let m = mv.and_then(|c| rec.get(c)).unwrap_or(b"");
        if !m.is_empty() {
            if let Some((first, count)) = first_of_encoded(m) {
                let start = self.text.len() as u32;
                let mut len = 0;
                for piece in first {
                    let (_, l) = self.push_text(piece);
                    len += l;
                }
                return Cell { start, len, count };
            }
        }
        if v.is_empty() {
            return Cell::default();
        }
        if mv.is_some() {
            // The field has an __mv_ column and it is empty: one value.
            let (start, len) = self.push_text(v);
            return Cell {
                start,
                len,
                count: 1,
            };
        }
        // No __mv_ column: newline-separated values, as in CSV exports.
        let first = v.split(|b| *b == b'\n').next().unwrap_or(b"");
        let count = v.iter().filter(|b| **b == b'\n').count() as u32 + 1;
        let (start, len) = self.push_text(first);
        Cell { start, len, count }
    }
}

/// The first value of an encoded multivalue cell (`$a$$b$;$c$` → pieces of
/// `a$b`, 2 values), or None when the cell is not in that form.
fn first_of_encoded(m: &[u8]) -> Option<(Vec<&[u8]>, u32)> {
    let mut i = 0;
    let mut count = 0u32;
    let mut first: Vec<&[u8]> = Vec::new();
    while i < m.len() {
        if m[i] != b'$' {
            return None;
        }
        i += 1;
        let mut piece_start = i;
        loop {
            let off = m[i..].iter().position(|b| *b == b'$')?;
            let at = i + off;
            if m.get(at + 1) == Some(&b'$') {
                // An escaped `$`: keep one.
                if count == 0 {
                    first.push(&m[piece_start..=at]);
                }
                i = at + 2;
                piece_start = i;
                continue;
            }
            if count == 0 {
                first.push(&m[piece_start..at]);
            }
            i = at + 1;
            break;
        }
        count += 1;
        match m.get(i) {
            None => break,
            Some(b';') if i + 1 < m.len() => i += 1,
            _ => return None,
        }
    }
    (count > 0).then_some((first, count))
}

fn row_span(rec: &csv::ByteRecord, rdr: &csv::Reader<&[u8]>, body: &[u8]) -> RowSpan {
    let mut start = rec.position().map_or(0, |p| p.byte() as usize);
    // After a CRLF row the reader's position sits on the LF: skip it.
    while start < body.len() && matches!(body[start], b'\n' | b'\r') {
        start += 1;
    }
    let mut end = (rdr.position().byte() as usize).min(body.len());
    while end > start && matches!(body[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    RowSpan {
        start,
        end,
        cells: rec.len(),
    }
}

impl EventBatch for Records {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn field(&self, row: usize, col: usize) -> Field<'_> {
        let c = self.cells[row * self.fields.len() + col];
        if c.count == 0 {
            return Field::MISSING;
        }
        Field {
            first: Value::Text(&self.text[c.start as usize..(c.start + c.len) as usize]),
            count: c.count as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rows_are_spans_of_the_body_and_model_fields_are_read() {
        let body = b"a,b,__mv_b,c\r\n1,x,,\"q\"\"uote\"\n2,\"multi\nline\",,\n3,y\n";
        let mut r = Records::new(&fields(&["b", "c", "zz"]));
        r.read(body).unwrap();
        let h = r.header().unwrap();
        assert_eq!(&body[h.span.0..h.span.1], b"a,b,__mv_b,c");
        assert_eq!(r.len(), 3);
        let spans: Vec<&[u8]> = r.rows().iter().map(|s| &body[s.start..s.end]).collect();
        assert_eq!(
            spans,
            vec![&b"1,x,,\"q\"\"uote\""[..], b"2,\"multi\nline\",,", b"3,y"]
        );
        assert_eq!(r.rows()[2].cells, 2);
        assert_eq!(r.field(0, 0), Field::one(Value::Text("x")));
        assert_eq!(r.field(0, 1), Field::one(Value::Text("q\"uote")));
        // b has an __mv_ column that is empty: one value, newline and all.
        assert_eq!(r.field(1, 0), Field::one(Value::Text("multi\nline")));
        assert_eq!(r.field(1, 1), Field::MISSING);
        assert_eq!(r.field(2, 1), Field::MISSING, "short row");
        assert_eq!(r.field(0, 2), Field::MISSING, "column not in the chunk");
    }

    #[test]
    fn encoded_multivalue_cells_give_the_first_value_and_the_count() {
        let body =
            b"ip,__mv_ip\n\"10.0.0.1\n8.8.8.8\",$10.0.0.1$;$8.8.8.8$\n\"a$b\nc\",$a$$b$;$c$\n";
        let mut r = Records::new(&fields(&["ip"]));
        r.read(body).unwrap();
        assert_eq!(
            r.field(0, 0),
            Field {
                first: Value::Text("10.0.0.1"),
                count: 2
            }
        );
        assert_eq!(
            r.field(1, 0),
            Field {
                first: Value::Text("a$b"),
                count: 2
            }
        );
    }

    #[test]
    fn without_an_mv_column_newlines_separate_values() {
        let mut r = Records::new(&fields(&["ip"]));
        r.read(b"ip\n\"1.1.1.1\n2.2.2.2\n3.3.3.3\"\n").unwrap();
        assert_eq!(
            r.field(0, 0),
            Field {
                first: Value::Text("1.1.1.1"),
                count: 3
            }
        );
    }

    #[test]
    fn decoding_follows_splunklibs_pattern() {
        let one = |m: &str| {
            first_of_encoded(m.as_bytes())
                .map(|(p, n)| (p.concat().iter().map(|b| *b as char).collect::<String>(), n))
        };
        assert_eq!(one("$a$"), Some(("a".into(), 1)));
        assert_eq!(one("$$"), Some(("".into(), 1)));
        assert_eq!(one("$$$$;$b$"), Some(("$".into(), 2)));
        assert_eq!(one("$$$$$;$b$"), None);
        assert_eq!(one("$x$;$$;$z$"), Some(("x".into(), 3)));
        assert_eq!(one("plain"), None);
        assert_eq!(one("$open"), None);
        assert_eq!(one("$a$;"), None);
        assert_eq!(one("$a$b"), None);
    }

    #[test]
    fn empty_bodies_and_header_only_bodies_have_no_records() {
        let mut r = Records::new(&fields(&["a"]));
        r.read(b"").unwrap();
        assert!(r.header().is_none() && r.is_empty());
        r.read(b"a,b\n").unwrap();
        assert!(r.header().is_some() && r.is_empty());
    }

    #[test]
    fn invalid_utf8_is_read_lossily() {
        let mut r = Records::new(&fields(&["a"]));
        r.read(b"a\n\xff\xfe\n").unwrap();
        assert_eq!(r.field(0, 0), Field::one(Value::Text("\u{fffd}\u{fffd}")));
    }
}
