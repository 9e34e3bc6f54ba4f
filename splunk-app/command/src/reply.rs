//! The reply body of an execute chunk: the input CSV with the scorer's
//! columns appended.
//!
//! Each input row is copied byte for byte (every field, `__mv_` columns
//! included) and the new cells are appended. Only when the input already
//! has one of the scorer's columns (`| riskscore | riskscore`) — or a row
//! has more cells than its header — is a row rebuilt cell by cell, so that
//! the column is replaced in place instead of repeated.

use scorer_core::Reason;
use siem_adapter::render::{OutputFields, Verdict};

use crate::records::{Header, RowSpan};

/// The scorer's columns, in reply order.
#[derive(Debug, Clone)]
pub struct Columns {
    names: Vec<String>,
}

/// Column positions in [`Columns`].
const SCORE: usize = 0;
const FLAG: usize = 1;
const MODEL: usize = 2;
const ERROR: usize = 3;
const MISSING: usize = 4;
const REASONS: usize = 5;
const REASONS_MV: usize = 6;

impl Columns {
    /// The default names; `risk_reasons` (multivalue) only when explaining.
    pub fn new(explain: bool) -> Self {
        let f = OutputFields::default();
        let mut names = vec![f.score, f.flag, f.model, f.error, f.missing];
        if explain {
            names.push(f.reasons.clone());
            names.push(format!("__mv_{}", f.reasons));
        }
        Columns { names }
    }

    /// Names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// One record's new cells, unquoted, reused from record to record.
#[derive(Debug, Default)]
pub struct Cells {
    buf: Vec<u8>,
    ends: [usize; 7],
}

impl Cells {
    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    /// Fill from a verdict; `reasons` are the record's top reasons when explaining.
    pub fn fill(&mut self, verdict: &Verdict<'_>, model_id: &str, reasons: Option<&[Reason]>) {
        self.buf.clear();
        let mark = |cells: &mut Cells, i: usize| cells.ends[i] = cells.buf.len();
        match verdict {
            Verdict::Scored {
                score,
                flag,
                missing,
                ..
            } => {
                serde_json::to_writer(&mut self.buf, score).expect("vec write");
                mark(self, SCORE);
                self.buf.push(b'0' + flag);
                mark(self, FLAG);
                self.buf.extend_from_slice(model_id.as_bytes());
                mark(self, MODEL);
                mark(self, ERROR);
                for (i, m) in missing.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b',');
                    }
                    self.buf.extend_from_slice(m.as_bytes());
                }
                mark(self, MISSING);
                let reasons = reasons.unwrap_or(&[]);
                for (i, r) in reasons.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b'\n');
                    }
                    self.buf.extend_from_slice(
                        scorer_core::format_reasons(std::slice::from_ref(r)).as_bytes(),
                    );
                }
                mark(self, REASONS);
                // Splunk's multivalue encoding, only for two or more values.
                if reasons.len() > 1 {
                    for (i, r) in reasons.iter().enumerate() {
                        if i > 0 {
                            self.buf.push(b';');
                        }
                        self.buf.push(b'$');
                        let text = scorer_core::format_reasons(std::slice::from_ref(r));
                        self.buf
                            .extend_from_slice(text.replace('$', "$$").as_bytes());
                        self.buf.push(b'$');
                    }
                }
                mark(self, REASONS_MV);
            }
            Verdict::Error(e) => {
                mark(self, SCORE);
                mark(self, FLAG);
                self.buf.extend_from_slice(model_id.as_bytes());
                mark(self, MODEL);
                self.buf.extend_from_slice(e.as_bytes());
                mark(self, ERROR);
                mark(self, MISSING);
                mark(self, REASONS);
                mark(self, REASONS_MV);
            }
        }
    }
}

/// How one chunk's rows are written, decided from its header.
#[derive(Debug)]
pub struct Plan {
    width: usize,
    /// Per scorer column: its index in the input header, if it is there already.
    at: Vec<Option<usize>>,
    /// Input columns to blank (the `__mv_` companions of replaced columns).
    blank: Vec<usize>,
    rewrite: bool,
}

impl Plan {
    /// The plan for `header`.
    pub fn new(header: &Header, columns: &Columns) -> Plan {
        let at: Vec<Option<usize>> = columns
            .names
            .iter()
            .map(|n| header.names.iter().position(|h| h == n))
            .collect();
        let blank = columns
            .names
            .iter()
            .zip(&at)
            .filter(|(_, a)| a.is_some())
            .filter_map(|(n, _)| {
                let mv = format!("__mv_{n}");
                header.names.iter().position(|h| *h == mv)
            })
            .filter(|i| !at.contains(&Some(*i)))
            .collect();
        Plan {
            width: header.names.len(),
            rewrite: at.iter().any(Option::is_some),
            at,
            blank,
        }
    }

    /// The reply's header row, with its line terminator.
    pub fn write_header(&self, out: &mut Vec<u8>, body: &[u8], header: &Header, columns: &Columns) {
        out.extend_from_slice(&body[header.span.0..header.span.1]);
        for (name, at) in columns.names.iter().zip(&self.at) {
            if at.is_none() {
                out.push(b',');
                quote_into(out, name.as_bytes());
            }
        }
        out.push(b'\n');
    }

    /// One reply row, with its line terminator.
    pub fn write_row(&self, out: &mut Vec<u8>, body: &[u8], row: RowSpan, cells: &Cells) {
        let raw = &body[row.start..row.end];
        if !self.rewrite && row.cells <= self.width {
            out.extend_from_slice(raw);
            out.extend(std::iter::repeat_n(b',', self.width - row.cells));
            for i in 0..self.at.len() {
                out.push(b',');
                quote_into(out, cells.get(i));
            }
        } else {
            self.rebuild(out, raw, cells);
        }
        out.push(b'\n');
    }

    fn rebuild(&self, out: &mut Vec<u8>, raw: &[u8], cells: &Cells) {
        let mut rec = csv::ByteRecord::new();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(raw);
        // The span was one record when the body was read; it still is.
        let _ = rdr.read_byte_record(&mut rec);
        for c in 0..self.width {
            if c > 0 {
                out.push(b',');
            }
            if let Some(k) = self.at.iter().position(|a| *a == Some(c)) {
                quote_into(out, cells.get(k));
            } else if !self.blank.contains(&c) {
                quote_into(out, rec.get(c).unwrap_or(b""));
            }
        }
        for (i, at) in self.at.iter().enumerate() {
            if at.is_none() {
                out.push(b',');
                quote_into(out, cells.get(i));
            }
        }
    }
}

/// A CSV cell, quoted when it holds a comma, a quote or a line break.
pub fn quote_into(out: &mut Vec<u8>, v: &[u8]) {
    if v.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for &b in v {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Records;

    fn scored(score: f64) -> Verdict<'static> {
        Verdict::Scored {
            score,
            flag: 1,
            reasons: None,
            missing: vec!["a", "b"],
        }
    }

    fn reply(body: &[u8], columns: &Columns, cells: &Cells) -> String {
        let mut r = Records::new(&[]);
        r.read(body).unwrap();
        let h = r.header().unwrap();
        let plan = Plan::new(h, columns);
        let mut out = Vec::new();
        plan.write_header(&mut out, body, h, columns);
        for row in r.rows() {
            plan.write_row(&mut out, body, *row, cells);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rows_are_copied_and_new_cells_appended() {
        let mut cells = Cells::default();
        cells.fill(&scored(0.25), "m@1", None);
        let out = reply(
            b"x,__mv_x,y\n\"a,b\",,1\n\"l1\nl2\",$l1$;$l2$\n",
            &Columns::new(false),
            &cells,
        );
        assert_eq!(
            out,
            "x,__mv_x,y,model_output_risk_score,anomaly_flag,risk_model,risk_error,risk_missing_fields\n\
             \"a,b\",,1,0.25,1,m@1,,\"a,b\"\n\
             \"l1\nl2\",$l1$;$l2$,,0.25,1,m@1,,\"a,b\"\n"
        );
    }

    #[test]
    fn reasons_are_a_multivalue_field() {
        let reasons = vec![
            Reason {
                feature: "bytes".into(),
                field: "bytes".into(),
                contribution: 0.5,
            },
            Reason {
                feature: "cost$".into(),
                field: "c".into(),
                contribution: 0.25,
            },
        ];
        let mut cells = Cells::default();
        cells.fill(&scored(0.5), "m@1", Some(&reasons));
        let out = reply(b"x\n1\n", &Columns::new(true), &cells);
        let last = out.lines().nth(1).unwrap();
        assert!(
            out.ends_with(",\"bytes(+0.500)\ncost$(+0.250)\",$bytes(+0.500)$;$cost$$(+0.250)$\n"),
            "{out} / {last}"
        );
    }

    #[test]
    fn existing_scorer_columns_are_replaced_not_repeated() {
        let mut cells = Cells::default();
        cells.fill(&Verdict::Error("bad \"thing\"".into()), "m@2", None);
        let out = reply(
            b"risk_model,x,risk_error,__mv_risk_error\nm@1,7,old,$old$;$older$\n",
            &Columns::new(false),
            &cells,
        );
        assert_eq!(
            out,
            "risk_model,x,risk_error,__mv_risk_error,model_output_risk_score,anomaly_flag,risk_missing_fields\n\
             m@2,7,\"bad \"\"thing\"\"\",,,,\n"
        );
    }

    #[test]
    fn short_rows_are_padded_and_long_rows_cut_to_the_header() {
        let mut cells = Cells::default();
        cells.fill(&scored(1.0), "m", None);
        let cols = Columns::new(false);
        let out = reply(b"a,b,c\n1\n1,2,3,4\n", &cols, &cells);
        let rows: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(rows, vec!["1,,,1.0,1,m,,\"a,b\"", "1,2,3,1.0,1,m,,\"a,b\""]);
    }
}
