//! The command on chunks made here: a 50,000-record chunk of tens of MB
//! (Unicode, embedded newlines and quotes, multivalue columns, fields present
//! in some records only), several chunks with empty ones between, a second
//! pass over its own output, and every error the user can cause.

mod common;

use common::*;
use serde_json::json;

fn body(n: usize, raw_len: usize) -> Vec<u8> {
    alert_body(n, raw_len, &[])
}

#[test]
fn a_50000_record_chunk_of_tens_of_mb_comes_back_whole_and_wasm_equals_native() {
    let app = TestApp::new();
    let b = body(50_000, 400);
    assert!(b.len() > 20 << 20, "{} bytes", b.len());
    let mut input = getinfo(&["model=threat_rf", "explain=3"]);
    input.extend(execute(&b, true));
    let wasm = app.run(input.clone());
    assert_eq!(wasm.status, 0, "{}", wasm.stderr);
    let c = wasm.chunks();
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].0, json!({"finished": true}));
    let (ih, irows) = csv_table(&b);
    let (oh, orows) = csv_table(&c[1].1);
    assert_eq!(orows.len(), 50_000);
    assert_eq!(&oh[..ih.len()], &ih[..]);
    for (i, (ir, or)) in irows.iter().zip(&orows).enumerate() {
        assert_eq!(&or[..ir.len()], &ir[..], "record {i} changed");
    }
    let (score, err, missing) = (
        col(&oh, "model_output_risk_score"),
        col(&oh, "risk_error"),
        col(&oh, "risk_missing_fields"),
    );
    assert!(orows
        .iter()
        .all(|r| r[err].is_empty() && !r[score].is_empty()));
    assert!(
        orows.iter().any(|r| !r[missing].is_empty()),
        "some records lack fields"
    );

    input = getinfo(&["model=threat_rf", "explain=3", "engine=native"]);
    input.extend(execute(&b, true));
    let native = app.run(input);
    assert_eq!(native.status, 0, "{}", native.stderr);
    assert_eq!(native.stdout, wasm.stdout, "wasm and native replies differ");

    input = getinfo(&["model=threat_rf", "explain=3", "threads=1"]);
    input.extend(execute(&b, true));
    let one = app.run(input);
    assert_eq!(one.status, 0, "{}", one.stderr);
    assert_eq!(
        one.stdout, wasm.stdout,
        "threads=1 and threads=2 replies differ"
    );
}

#[test]
fn one_thread_and_two_give_the_same_reply_byte_for_byte() {
    let app = TestApp::new();
    // Over the 1 MiB from which two threads are used: whole windows only,
    // one record past them, and several chunks in one search.
    let bodies = [body(4096, 600), body(2049, 900), body(3000, 500)];
    let mut replies = Vec::new();
    for threads in ["threads=1", "threads=2"] {
        let mut input = getinfo(&["model=threat_rf", "explain=2", threads]);
        for (i, b) in bodies.iter().enumerate() {
            assert!(b.len() > 1 << 20, "{} bytes", b.len());
            input.extend(execute(b, i + 1 == bodies.len()));
        }
        let run = app.run(input);
        assert_eq!(run.status, 0, "{}", run.stderr);
        let c = run.chunks();
        assert_eq!(c.len(), 1 + bodies.len());
        for (b, (_, reply)) in bodies.iter().zip(&c[1..]) {
            assert_eq!(csv_table(reply).1.len(), csv_table(b).1.len());
        }
        replies.push(run.stdout);
    }
    assert_eq!(
        replies[0], replies[1],
        "threads=1 and threads=2 replies differ"
    );
}

#[test]
fn one_reply_per_chunk_including_empty_ones_until_input_ends() {
    let app = TestApp::new();
    let mut input = getinfo(&["model=threat_rf"]);
    input.extend(execute(b"", false));
    input.extend(execute(&body(10, 10), false));
    input.extend(execute(b"_time,host\n", false));
    input.extend(execute(&body(3, 10), true));
    // splunkd may still send after `finished`; the command reads to the end.
    input.extend(execute(b"", true));
    let run = app.run(input);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let c = run.chunks();
    let finished: Vec<bool> = c[1..]
        .iter()
        .map(|(m, _)| m["finished"].as_bool().unwrap())
        .collect();
    assert_eq!(finished, vec![false, false, false, true, true]);
    let rows: Vec<usize> = c[1..].iter().map(|(_, b)| csv_table(b).1.len()).collect();
    assert_eq!(rows, vec![0, 10, 0, 3, 0]);
    assert!(c[1].1.is_empty());
    let (h, _) = csv_table(&c[3].1);
    assert_eq!(h[..2], ["_time", "host"]);
}

#[test]
fn a_second_pass_replaces_the_scorer_columns_instead_of_repeating_them() {
    let app = TestApp::new();
    let mut input = getinfo(&["model=threat_rf", "explain=2"]);
    input.extend(execute(&body(50, 20), true));
    let first = app.run(input);
    let once = first.chunks()[1].1.clone();
    let mut again = getinfo(&["model=tweets", "explain=2"]);
    again.extend(execute(&once, true));
    let second = app.run(again);
    assert_eq!(second.status, 0, "{}", second.stderr);
    let (h1, r1) = csv_table(&once);
    let (h2, r2) = csv_table(&second.chunks()[1].1);
    assert_eq!(h1, h2, "same columns, none repeated");
    let m = col(&h2, "risk_model");
    assert!(r1
        .iter()
        .all(|r| r[m] == "threat_rf@1.0.0" || r[m].starts_with("threat_rf@")));
    assert!(r2.iter().all(|r| r[m] == app.tweets_id));
}

fn fails_with(app: &TestApp, input: Vec<u8>, needle: &str) {
    let run = app.run(input);
    assert_eq!(run.status, 1, "{needle}: {}", run.stderr);
    let c = run.chunks();
    let last = &c.last().unwrap().0;
    assert_eq!(last["finished"], true, "{needle}");
    let m = Run::messages(last);
    assert!(
        m.iter().any(|(l, t)| l == "ERROR" && t.contains(needle)),
        "wanted ERROR containing {needle:?}, got {m:?}"
    );
}

#[test]
fn user_errors_reach_the_search_ui_as_error_messages() {
    let app = TestApp::new();
    let with_chunk = |args: &[&str]| {
        let mut i = getinfo(args);
        i.extend(execute(&body(5, 10), true));
        i
    };
    fails_with(
        &app,
        with_chunk(&["model=nope"]),
        "unknown model `nope`; models in this app:",
    );
    fails_with(
        &app,
        with_chunk(&["model=../models/threat_rf"]),
        "not by a path",
    );
    fails_with(&app, with_chunk(&["threshold=0.5"]), "model= is required");
    fails_with(
        &app,
        with_chunk(&["model=threat_rf", "threshold=2"]),
        "threshold=2",
    );
    fails_with(
        &app,
        with_chunk(&["model=threat_rf", "colour=red"]),
        "unknown option `colour`",
    );
    fails_with(&app, with_chunk(&["model=unsigned"]), "model `unsigned`:");
    fails_with(&app, with_chunk(&["model=tampered"]), "model `tampered`:");
    fails_with(&app, b"hello splunk\n".to_vec(), "not a chunk header");
    fails_with(&app, execute(b"a\n1\n", true), "expected getinfo first");
    let mut twice = getinfo(&["model=threat_rf"]);
    twice.extend(getinfo(&["model=threat_rf"]));
    fails_with(&app, twice, "expected execute");
}

#[test]
fn refusals_name_the_reason() {
    let app = TestApp::new();
    for (model, reason) in [("unsigned", "sign"), ("tampered", "digest")] {
        let run = app.run(getinfo(&[&format!("model={model}")]));
        let m = Run::messages(&run.chunks()[0].0);
        assert!(m[0].1.to_lowercase().contains(reason), "{model}: {m:?}");
    }
}

#[test]
fn allow_unsigned_is_development_only_and_says_so() {
    let app = TestApp::new();
    let mut input = getinfo(&["model=unsigned", "allow_unsigned=t"]);
    input.extend(execute(&body(5, 10), true));
    let run = app.run(input);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let c = run.chunks();
    let m = Run::messages(&c[0].0);
    assert_eq!(m[0].0, "WARN");
    assert!(m[0].1.contains("development only"));
    assert_eq!(csv_table(&c[1].1).1.len(), 5);
}

#[test]
fn records_the_model_cannot_read_still_come_out_in_order() {
    let app = TestApp::new();
    // Invalid UTF-8, a row longer than its header, a row shorter.
    let b =
        b"_time,src_ip,bytes_out\n1730420088,10.0.0.1,\xff\xfe\n1730420088,1.2.3.4,5,EXTRA\n17\n"
            .to_vec();
    let mut input = getinfo(&["model=threat_rf"]);
    input.extend(execute(&b, true));
    let run = app.run(input);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let (h, rows) = csv_table(&run.chunks()[1].1);
    assert_eq!(rows.len(), 3);
    let (err, score) = (col(&h, "risk_error"), col(&h, "model_output_risk_score"));
    assert!(rows[0][err].is_empty() && !rows[0][score].is_empty());
    assert!(rows[1][err].contains("extra cells"), "{:?}", rows[1]);
    assert_eq!(rows[2][0], "17");
    assert!(rows.iter().all(|r| r.len() == h.len()));
}
