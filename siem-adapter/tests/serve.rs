//! `siem-adapter serve` end to end: the built binary on a free loopback port,
//! driven with ureq (and raw TCP where a client would hide the answer).
//! Every wait is bounded; the server is killed when its handle drops.

mod serve_support;

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::Value;
use serve_support::*;

#[test]
fn scores_an_object_an_array_and_json_lines_like_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = sample(dir.path());
    let cli = cli_score(&path);
    assert_eq!(cli.len(), 40);
    assert!(cli[9]["risk_error"].is_string());
    let s = Server::start(&["--model", MODEL, "--trusted-key", DEV_PUB]);

    // JSON lines: every line comes out, in order, the bad one with its error.
    let (status, ct, body) = s.score(Some("application/x-ndjson"), text.as_bytes());
    assert_eq!((status, ct.as_str()), (200, "application/x-ndjson"));
    let served: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(served.len(), 40);
    for (i, (got, want)) in served.iter().zip(&cli).enumerate() {
        if i == 9 {
            let e = got["risk_error"].as_str().unwrap();
            assert!(e.starts_with("line 10: malformed JSON"), "{e}");
            assert!(got["_raw"].is_string());
        } else {
            same_score(got, want);
            assert_eq!(got["signature"], want["signature"]);
        }
    }
    // Lines are also recognised without a content type.
    let (status, ct, _) = s.score(None, text.as_bytes());
    assert_eq!((status, ct.as_str()), (200, "application/x-ndjson"));

    // An array of the good events: an array back, same order.
    let good: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let cli_good: Vec<&Value> = cli.iter().filter(|v| v[SCORE].is_number()).collect();
    assert_eq!(good.len(), 39);
    let body = serde_json::to_vec(&good).unwrap();
    let (status, ct, answer) = s.score(Some("application/json"), &body);
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    let served: Vec<Value> = serde_json::from_str(&answer).unwrap();
    assert_eq!(served.len(), 39);
    for (got, want) in served.iter().zip(&cli_good) {
        same_score(got, want);
    }

    // One object: one object back (shape detected without a content type).
    let (status, _, answer) = s.score(None, serde_json::to_string(&good[0]).unwrap().as_bytes());
    assert_eq!(status, 200);
    let one: Value = serde_json::from_str(&answer).unwrap();
    assert!(one.is_object());
    same_score(&one, cli_good[0]);

    // A non-object element keeps its place, with risk_error.
    let (status, _, answer) = s.score(Some("application/json"), br#"[{"user":"a"}, 7]"#);
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert!(v[0][SCORE].is_number());
    assert_eq!(
        v[1]["risk_error"],
        "element 2: not a JSON object but a number"
    );
}

#[test]
fn refuses_bad_bodies_and_tokens_and_reports_health_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let mut s = Server::start(&[
        "--model",
        MODEL,
        "--trusted-key",
        DEV_PUB,
        "--token-file",
        token_file.to_str().unwrap(),
        "--max-body-bytes",
        "4096",
    ]);
    // /healthz needs no token.
    let h = s.health();
    assert_eq!(h["model"], "threat_rf@1.0.0");
    assert_eq!(h["engine"], "wasm");
    assert_eq!(h["reloads"], 0);
    assert!(h["loaded_at"].as_str().unwrap().ends_with('Z'));

    // No token, a wrong token: 401 with a Bearer challenge, on scoring and metrics.
    let event = br#"{"user":"a","severity":"high"}"#;
    for auth in [None, Some("Bearer wrong"), Some("Basic s3cret-token")] {
        let mut req = agent().post(s.url("/v1/score"));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let resp = req.send(&event[..]).unwrap();
        assert_eq!(resp.status(), 401);
        assert!(header(&resp, "www-authenticate").starts_with("Bearer"));
    }
    assert_eq!(agent().get(s.url("/metrics")).call().unwrap().status(), 401);
    s.token = Some("s3cret-token".into());

    // Malformed bodies: 400 with a JSON error.
    for body in [&b"{\"user\": "[..], b"42", b"", b"not json"] {
        let (status, ct, text) = s.score(Some("application/json"), body);
        assert_eq!((status, ct.as_str()), (400, "application/json"), "{text}");
        let e: Value = serde_json::from_str(&text).unwrap();
        assert!(e["error"].is_string());
    }
    // Too large: 413, whether the length is declared or the body is chunked.
    let auth = "Authorization: Bearer s3cret-token\r\nConnection: close\r\n";
    let head = format!(
        "POST /v1/score HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    );
    let answer = raw(&s.addr, head.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("--max-body-bytes"), "{answer}");
    let mut chunked = format!(
        "POST /v1/score HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        5000
    )
    .into_bytes();
    chunked.extend(std::iter::repeat_n(b' ', 5000));
    chunked.extend(b"\r\n");
    let answer = raw(&s.addr, &chunked);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // With the token: scored.
    let (status, _, text) = s.score(None, event);
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v[SCORE].as_f64().is_some());
    // Unknown routes: 404 JSON.
    assert_eq!(agent().get(s.url("/v2/nope")).call().unwrap().status(), 404);

    let m = s.metrics();
    for want in [
        "riskscore_serve_requests_total{route=\"/v1/score\",code=\"401\"} 3",
        "riskscore_serve_requests_total{route=\"/metrics\",code=\"401\"} 1",
        "riskscore_serve_requests_total{route=\"/v1/score\",code=\"400\"} 4",
        "riskscore_serve_requests_total{route=\"/v1/score\",code=\"413\"} 2",
        "riskscore_serve_requests_total{route=\"/v1/score\",code=\"200\"} 1",
        "riskscore_serve_requests_total{route=\"/healthz\",code=\"200\"} 1",
        "riskscore_serve_requests_total{route=\"other\",code=\"404\"} 1",
        "riskscore_serve_request_seconds_count{route=\"/v1/score\"} 10",
        "riskscore_serve_events_scored_total 1",
        "riskscore_serve_events_errored_total 0",
        "riskscore_serve_model_reloads_total 0",
        "riskscore_serve_model_reload_failures_total 0",
        "riskscore_serve_model_info{model=\"threat_rf@1.0.0\",engine=\"wasm\"",
        "# TYPE riskscore_serve_request_seconds histogram",
        "riskscore_serve_model_last_reload_timestamp_seconds 1",
    ] {
        assert!(m.contains(want), "missing `{want}` in\n{m}");
    }
}

#[test]
fn saturated_service_answers_503_with_retry_after_and_stops_on_sigterm() {
    let s = Server::start(&[
        "--model",
        MODEL,
        "--trusted-key",
        DEV_PUB,
        "--max-concurrency",
        "1",
        "--max-queue",
        "0",
    ]);
    // A request whose body is still on its way holds the only admission slot.
    let body = br#"{"user":"a"}"#;
    let mut slow = std::net::TcpStream::connect(&s.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /v1/score HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{{",
        body.len()
    );
    slow.write_all(head.as_bytes()).unwrap();
    s.wait_for("the slow request to be admitted", || {
        s.metric("riskscore_serve_requests_admitted") == 1.0
    });
    let resp = agent().post(s.url("/v1/score")).send(&body[..]).unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(header(&resp, "retry-after"), "1");
    // The slow one completes normally, and the slot is free again.
    slow.write_all(&body[1..]).unwrap();
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(s.score(None, body).0, 200);
    // Graceful shutdown.
    let mut s = s;
    assert!(s.terminate().success());
    s.wait_for("the `stopped` line", || {
        s.log.lock().unwrap().contains("serve: stopped")
    });
}

#[test]
fn reloads_a_changed_file_and_keeps_serving_when_the_new_one_is_tampered() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (v2, v2_doc) = signed_v2(d);
    let model = d.join("model.json");
    std::fs::copy(repo().join(MODEL), &model).unwrap();
    let key = d.join("k.pub");
    let s = Server::start(&[
        "--model",
        model.to_str().unwrap(),
        "--trusted-key",
        DEV_PUB,
        "--trusted-key",
        key.to_str().unwrap(),
        "--reload-interval-secs",
        "0.2",
    ]);
    assert!(serving(&s, "threat_rf@1.0.0"));
    replace(&model, &std::fs::read(&v2).unwrap());
    s.wait_for("version 2.0.0 in /healthz", || {
        serving(&s, "threat_rf@2.0.0")
    });
    let h = s.health();
    assert_eq!(h["reloads"], 1);
    let (status, _, text) = s.score(None, br#"{"user":"a"}"#);
    assert_eq!(status, 200);
    assert!(
        text.contains("\"risk_model\":\"threat_rf@2.0.0\""),
        "{text}"
    );

    // One number changed after signing: refused, version 2.0.0 keeps serving.
    let mut tampered = v2_doc.clone();
    tampered["output"]["threshold"] = 0.25.into();
    replace(
        &model,
        serde_json::to_string_pretty(&tampered).unwrap().as_bytes(),
    );
    s.wait_for("a reload failure", || {
        s.metric("riskscore_serve_model_reload_failures_total") >= 1.0
    });
    let after = s.health();
    assert_eq!(after["model"], "threat_rf@2.0.0");
    assert_eq!(after["threshold"], h["threshold"]);
    assert_eq!(after["sha256"], h["sha256"]);
    assert_eq!(after["reload_failures"], 1);
    assert!(s.log.lock().unwrap().contains("reload refused"));
    // Refused content is not tried (and counted) again at every poll.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(s.metric("riskscore_serve_model_reload_failures_total"), 1.0);
    let (status, _, text) = s.score(None, br#"{"user":"a"}"#);
    assert_eq!(status, 200);
    assert!(text.contains("threat_rf@2.0.0"), "{text}");
}

#[test]
fn sighup_reloads_and_refuses_half_written_and_unsigned_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (v2, v2_doc) = signed_v2(d);
    let model = d.join("model.json");
    std::fs::copy(repo().join(MODEL), &model).unwrap();
    let key = d.join("k.pub");
    let s = Server::start(&[
        "--model",
        model.to_str().unwrap(),
        "--trusted-key",
        DEV_PUB,
        "--trusted-key",
        key.to_str().unwrap(),
        "--reload-interval-secs",
        "3600",
    ]);
    let failures = || s.metric("riskscore_serve_model_reload_failures_total");
    let bytes = std::fs::read(&v2).unwrap();
    // Half written (as a crash mid-copy leaves it).
    std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    s.hangup();
    s.wait_for("a failure after a half-written file", || failures() == 1.0);
    assert!(serving(&s, "threat_rf@1.0.0"));
    // Unsigned, without --allow-unsigned.
    let mut unsigned = v2_doc.clone();
    unsigned.as_object_mut().unwrap().remove("integrity");
    std::fs::write(&model, serde_json::to_vec_pretty(&unsigned).unwrap()).unwrap();
    s.hangup();
    s.wait_for("a failure after an unsigned file", || failures() == 2.0);
    assert!(serving(&s, "threat_rf@1.0.0"));
    // The whole signed file.
    std::fs::write(&model, &bytes).unwrap();
    s.hangup();
    s.wait_for("version 2.0.0 after SIGHUP", || {
        serving(&s, "threat_rf@2.0.0")
    });
    assert_eq!(s.health()["reloads"], 1);
    assert_eq!(failures(), 2.0);
}

#[test]
fn eight_concurrent_clients_all_succeed() {
    let s = Server::start(&["--model", MODEL, "--trusted-key", DEV_PUB]);
    let all = std::fs::read_to_string(repo().join("examples/data/alerts_new.jsonl")).unwrap();
    let events: Vec<&str> = all.lines().filter(|l| l.ends_with('}')).take(80).collect();
    let ok = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for c in 0..8 {
            let (s, events, ok) = (&s, &events, &ok);
            scope.spawn(move || {
                let agent = agent();
                for r in 0..50 {
                    // Alternate one object and a 5-event array.
                    let i = (c * 50 + r) % (events.len() - 5);
                    let body = if r % 2 == 0 {
                        events[i].to_string()
                    } else {
                        format!("[{}]", events[i..i + 5].join(","))
                    };
                    let mut resp = agent
                        .post(s.url("/v1/score"))
                        .header("Content-Type", "application/json")
                        .send(body.as_bytes())
                        .unwrap();
                    assert_eq!(resp.status(), 200);
                    let text = resp.body_mut().read_to_string().unwrap();
                    let want = if r % 2 == 0 { 1 } else { 5 };
                    assert_eq!(text.matches(SCORE).count(), want, "{text}");
                    ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(ok.into_inner(), 400);
    assert_eq!(s.metric("riskscore_serve_events_scored_total"), 1200.0);
}
