//! Replays of the real Splunk transcripts in `../shared/fixtures/splunk-scpv2/`
//! (recorded from splunkd by the splunk-sdk-python test suite), with only the
//! getinfo arguments changed to this command's own. The reply stream is
//! checked chunk by chunk against the recorded answer of a correct command:
//! framing, metadata, and every record with every input field (multivalue
//! columns included) — plus the scorer's own columns.

mod common;

use common::*;
use serde_json::{json, Value};

/// The transcript with its getinfo `args`/`raw_args` replaced.
fn with_args(name: &str, args: &[&str]) -> Vec<u8> {
    let input = gunzip(&transcripts().join(format!("{name}.input.gz")));
    let nl = input.iter().position(|b| *b == b'\n').unwrap();
    let header = std::str::from_utf8(&input[..nl]).unwrap();
    let m: usize = header
        .trim()
        .strip_prefix("chunked 1.0,")
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut meta: Value = serde_json::from_slice(&input[nl + 1..nl + 1 + m]).unwrap();
    assert_eq!(meta["action"], "getinfo");
    meta["searchinfo"]["args"] = json!(args);
    meta["searchinfo"]["raw_args"] = json!(args);
    let mut out = chunk(&meta, b"");
    out.extend_from_slice(&input[nl + 1 + m..]);
    out
}

#[test]
fn countmatches_transcript_every_record_and_field_comes_back() {
    let app = TestApp::new();
    // threshold= inside the scores' range, so both flag values occur. (The
    // model's own threshold flags none of these: it was trained from a CSV
    // table, where newlines split values, while here Splunk marks multi-line
    // tweets as one value — `__mv_text` is empty — so `text_count` is 1.)
    let run = app.run(with_args(
        "countmatches",
        &["model=tweets", "explain=2", "threshold=0.55"],
    ));
    assert_eq!(run.status, 0, "{}", run.stderr);
    let ours = run.chunks();
    let expected = chunks(&std::fs::read(transcripts().join("countmatches.output")).unwrap());
    assert_eq!(ours.len(), expected.len(), "one reply per chunk");

    // getinfo: the same answer as the recorded streaming command.
    assert_eq!(ours[0].0, expected[0].0);
    assert_eq!(ours[0].0, json!({"type": "streaming"}));
    assert!(ours[0].1.is_empty());

    // execute: finished echoed; records compared field by field.
    assert_eq!(ours[1].0, expected[1].0);
    let (eh, erows) = csv_table(&expected[1].1);
    let (oh, orows) = csv_table(&ours[1].1);
    assert_eq!(orows.len(), erows.len());
    assert_eq!(orows.len(), 500);
    let input_fields: Vec<&String> = eh.iter().filter(|h| !h.contains("word_count")).collect();
    assert_eq!(input_fields.len(), 6, "{eh:?}");
    for f in &input_fields {
        let (e, o) = (col(&eh, f), col(&oh, f));
        for (i, (er, or)) in erows.iter().zip(&orows).enumerate() {
            assert_eq!(or[o], er[e], "record {i}, field {f}");
        }
    }
    // The input's column order is kept; the scorer's columns follow.
    let (input_header, _) = csv_table(&chunks(&with_args("countmatches", &[]))[1].1);
    assert_eq!(&oh[..input_header.len()], &input_header[..]);
    let (score, flag, model, reasons, error) = (
        col(&oh, "model_output_risk_score"),
        col(&oh, "anomaly_flag"),
        col(&oh, "risk_model"),
        col(&oh, "risk_reasons"),
        col(&oh, "risk_error"),
    );
    let mut flagged = 0;
    for r in &orows {
        let s: f64 = r[score].parse().unwrap();
        assert!((0.0..=1.0).contains(&s), "{s}");
        assert!(r[flag] == "0" || r[flag] == "1");
        flagged += (r[flag] == "1") as usize;
        assert_eq!(r[model], app.tweets_id);
        assert_eq!(r[error], "");
        assert!(!r[reasons].is_empty(), "explain=2 gives reasons");
    }
    let scores: Vec<f64> = orows.iter().map(|r| r[score].parse().unwrap()).collect();
    let max = scores.iter().cloned().fold(0.0, f64::max);
    let min = scores.iter().cloned().fold(1.0, f64::min);
    assert!(
        flagged > 0 && flagged < 500,
        "{flagged} flagged, scores {min}..{max}"
    );
}

#[test]
fn generatehello_transcript_ends_inside_a_chunk_and_the_command_says_so() {
    // The recording announces a 150-byte body and ends after one byte.
    let app = TestApp::new();
    let run = app.run(with_args("generatehello", &["model=tweets"]));
    assert_eq!(run.status, 1);
    let c = run.chunks();
    assert_eq!(c.len(), 2, "getinfo reply, then the error");
    assert_eq!(c[0].0, json!({"type": "streaming"}));
    assert_eq!(c[1].0["finished"], true);
    let m = Run::messages(&c[1].0);
    assert_eq!(m[0].0, "ERROR");
    assert!(m[0].1.contains("input ended inside a chunk"), "{m:?}");
}

#[test]
fn pypygeneratetext_transcript_ends_after_getinfo_and_the_command_exits_cleanly() {
    let app = TestApp::new();
    let run = app.run(with_args(
        "pypygeneratetext",
        &["model=tweets", "fields=model"],
    ));
    assert_eq!(run.status, 0, "{}", run.stderr);
    let c = run.chunks();
    assert_eq!(c.len(), 1);
    assert_eq!(
        c[0].0,
        json!({"type": "streaming", "required_fields": ["_time", "text"]})
    );
}
