use scorer_core::{Field, Value};

use super::*;

fn multi(first: Value<'_>, count: usize) -> Field<'_> {
    Field { first, count }
}

#[test]
fn batch_round_trip() {
    let mut w = BatchWriter::default();
    w.reset(4, 2);
    let cells = [
        (0, 0, Field::one(Value::Number(1.5))),
        (1, 0, multi(Value::Text("héllo"), 3)),
        (0, 1, Field::one(Value::Bool(true))),
        (0, 2, multi(Value::Number(-0.0), 2)),
        (1, 2, Field::one(Value::NumericText("0x10", 16.0))),
        (1, 1, Field::one(Value::Text("plain"))),
        (0, 3, multi(Value::Missing, 2)),
    ];
    for (c, r, f) in cells {
        w.set(c, r, f);
    }
    let b = w.finish().to_vec();
    assert_eq!(b.len(), w.encoded_len());
    let v = BatchView::parse(&b, 2).unwrap();
    assert_eq!(v.field(0, 0), Field::one(Value::Number(1.5)));
    assert_eq!(v.field(1, 0), multi(Value::Text("héllo"), 3));
    assert_eq!(v.field(0, 1), Field::one(Value::Bool(true)));
    assert_eq!(v.field(1, 1), Field::one(Value::Text("plain")));
    assert_eq!(v.field(0, 2), multi(Value::Number(-0.0), 2));
    match v.field(1, 2).first {
        // The host's own parse_number decides the number reading of text.
        Value::NumericText("0x10", _) | Value::Text("0x10") => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        v.field(0, 3),
        multi(Value::Missing, 2),
        "[null, 1] counts two values, as json_field reads it"
    );
    assert_eq!(v.field(1, 3), Field::MISSING);
    assert_eq!(v.field(9, 9), Field::MISSING);
    // `number` and `text` are `Some` exactly for a plain number and a plain
    // text, anywhere in or out of the batch.
    use scorer_core::schema::Columns;
    for c in 0..3 {
        for r in 0..5 {
            let (number, text) = match v.field(c, r) {
                Field {
                    first: Value::Number(x),
                    count: 1,
                } => (Some(x.to_bits()), None),
                Field {
                    first: Value::Text(t),
                    count: 1,
                } => (None, Some(t)),
                _ => (None, None),
            };
            let got = Columns::number(&v, c, r).map(f64::to_bits);
            assert_eq!(got, number, "({c}, {r})");
            assert_eq!(Columns::text(&v, c, r), text, "({c}, {r})");
        }
    }
    assert_eq!(Columns::number(&v, 0, 0), Some(1.5));
    assert_eq!(Columns::text(&v, 1, 1), Some("plain"));
    assert_eq!(
        v.field(0, 4),
        Field::MISSING,
        "a row past the end is not the next column"
    );
    // Reuse: a smaller batch after a larger one carries nothing over.
    w.reset(1, 2);
    w.set(1, 0, Field::one(Value::Text("z")));
    let b = w.finish().to_vec();
    let v = BatchView::parse(&b, 2).unwrap();
    assert_eq!(v.field(0, 0), Field::MISSING);
    assert_eq!(v.field(1, 0), Field::one(Value::Text("z")));
}

#[test]
fn numbers_cost_nine_bytes_a_cell() {
    let mut w = BatchWriter::default();
    w.reset(100, 4);
    for c in 0..4 {
        for r in 0..100 {
            w.set(c, r, Field::one(Value::Number(r as f64)));
        }
    }
    assert_eq!(w.encoded_len(), BATCH_HEADER + 400 + 8 * 400);
}

#[test]
fn write_to_fills_a_dirty_buffer_exactly_like_finish() {
    let mut w = BatchWriter::default();
    w.reset(3, 1);
    w.set(0, 1, multi(Value::Bool(false), 4));
    let want = w.finish().to_vec();
    let mut dirty = vec![0xAB; want.len()];
    w.write_to(&mut dirty);
    assert_eq!(dirty, want);
}

#[test]
fn text_only_cells_travel_unparsed() {
    // A field no numeric transform reads: its numeric text is plain text,
    // in the cell itself (no extension record); other kinds as `set`.
    let mut w = BatchWriter::default();
    w.reset(3, 2);
    w.set(0, 0, Field::one(Value::Text(" 12 ")));
    w.set_text_only(1, 0, Field::one(Value::Text(" 12 ")));
    w.set_text_only(1, 1, multi(Value::Text("7"), 2));
    w.set_text_only(1, 2, Field::one(Value::Number(2.5)));
    let b = w.finish().to_vec();
    let v = BatchView::parse(&b, 2).unwrap();
    assert!(matches!(v.field(0, 0).first, Value::NumericText(" 12 ", x) if x == 12.0));
    assert_eq!(v.field(1, 0), Field::one(Value::Text(" 12 ")));
    assert_eq!(v.field(1, 1), multi(Value::Text("7"), 2));
    assert_eq!(v.field(1, 2), Field::one(Value::Number(2.5)));
    // Two extension records, the parsed cell's and the multivalue one's;
    // the text-only " 12 " needs none. Strings: " 12 " twice and "7".
    assert_eq!(b.len(), 24 + 8 + 6 * 8 + 2 * EXT + 9);
}

#[test]
fn malformed_batches_are_refused_not_panicked_on() {
    let mut w = BatchWriter::default();
    w.reset(1, 2);
    w.set(0, 0, Field::one(Value::Text("abc")));
    w.set(1, 0, multi(Value::Text("de"), 2));
    let good = w.finish().to_vec();
    // header 24, kinds 2 + 6 padding, payloads 16, one extension 24, strings 5
    assert_eq!(good.len(), 24 + 8 + 16 + 24 + 5);
    assert!(BatchView::parse(&good, 1)
        .unwrap_err()
        .contains("the model reads 1"));
    for cut in 0..good.len() {
        assert!(BatchView::parse(&good[..cut], 2).is_err());
    }
    let refused = |at: usize, byte: u8, why: &str| {
        let mut bad = good.clone();
        bad[at] = byte;
        let e = BatchView::parse(&bad, 2).unwrap_err();
        assert!(e.contains(why), "{e}");
    };
    refused(24, 9, "unknown kind");
    refused(32, 3, "outside the strings"); // text 3..6 of 5 bytes
    refused(36, 9, "outside the strings"); // length 9
    refused(40, 1, "extension 1 of 1");
    refused(48, 7, "extension 0: unknown kind 7");
    refused(64, 4, "outside the strings"); // extension text 4..6
    let mut split = good.clone();
    let s = split.len() - 5;
    split[s..].copy_from_slice("aé…".as_bytes().get(..5).unwrap());
    assert!(BatchView::parse(&split, 2).is_err());
    let mut huge = good.clone();
    huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(BatchView::parse(&huge, 2).is_err());
    huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(BatchView::parse(&huge, 2).is_err());
}
