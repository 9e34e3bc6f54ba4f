//! The HEC test server itself, driven by a plain HTTP client (ureq) and raw
//! sockets: Splunk's documented replies, all-or-nothing storing, indexer
//! acknowledgement, faults, keep-alive, chunked bodies and TLS.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use riskscore_tests::hec_server::{HecTestConfig, HecTestServer, TEST_TOKEN};
use serde_json::{json, Value};

const EVENT: &str = "/services/collector/event";
const ACK: &str = "/services/collector/ack";
const HEALTH: &str = "/services/collector/health";
const CHANNEL: &str = "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba";
const OTHER_CHANNEL: &str = "B5A79E2F-0C3A-4B0E-9F43-3E1D2C4B5A69";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn auth() -> String {
    format!("Splunk {TEST_TOKEN}")
}

/// POSTs `body` to `path` with `headers`; the status and the JSON reply.
fn post(
    agent: &ureq::Agent,
    server: &HecTestServer,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, Value), ureq::Error> {
    let mut req = agent.post(format!("{}{path}", server.url()));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let mut resp = req.send(body)?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string()?;
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, value))
}

/// POSTs envelopes to the event endpoint with the test token.
fn send(agent: &ureq::Agent, server: &HecTestServer, body: &str) -> (u16, Value) {
    post(
        agent,
        server,
        EVENT,
        &[("Authorization", &auth())],
        body.as_bytes(),
    )
    .unwrap()
}

/// POSTs to the event endpoint on `channel` (header) with the test token.
fn send_on(agent: &ureq::Agent, server: &HecTestServer, channel: &str, body: &str) -> (u16, Value) {
    let headers = [
        ("Authorization", auth()),
        ("X-Splunk-Request-Channel", channel.to_string()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(agent, server, EVENT, &headers, body.as_bytes()).unwrap()
}

fn poll(agent: &ureq::Agent, server: &HecTestServer, ids: &[u64]) -> (u16, Value) {
    let path = format!("{ACK}?channel={CHANNEL}");
    let body = json!({ "acks": ids }).to_string();
    post(
        agent,
        server,
        &path,
        &[("Authorization", &auth())],
        body.as_bytes(),
    )
    .unwrap()
}

fn get(agent: &ureq::Agent, url: &str) -> Result<(u16, Value), ureq::Error> {
    let mut resp = agent.get(url).call()?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string()?;
    Ok((status, serde_json::from_str(&text).unwrap()))
}

fn envelope(n: u64) -> Value {
    json!({
        "time": 1_700_000_000 + n,
        "host": "test-host",
        "source": "riskscore",
        "sourcetype": "riskscore:scored",
        "index": "main",
        "fields": { "model": "threat_rf", "tags": ["a", "b"] },
        "event": { "n": n, "model_output_risk_score": 0.5 },
    })
}

fn hec(code: i64, text: &str) -> Value {
    json!({ "text": text, "code": code })
}

fn bad(code: i64, text: &str, number: u64) -> Value {
    json!({ "text": text, "code": code, "invalid-event-number": number })
}

/// Sends raw bytes on a fresh connection and reads until the server closes it.
fn raw_exchange(server: &HecTestServer, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    tcp.write_all(request).unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn success_stores_envelopes_in_order() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let a = agent();
    for n in 0..3 {
        let (status, reply) = send(&a, &server, &envelope(n).to_string());
        assert_eq!((status, reply), (200, hec(0, "Success")));
    }
    assert_eq!(server.events(), (0..3).map(envelope).collect::<Vec<_>>());
    let stats = server.requests();
    assert_eq!(
        (stats.event_posts, stats.status(200), stats.code(0)),
        (3, 3, 3)
    );
    assert_eq!(server.requests_received(), 3);
}

#[test]
fn all_event_paths_and_a_string_event_are_accepted() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let a = agent();
    for path in [
        "/services/collector",
        EVENT,
        "/services/collector/event/1.0",
    ] {
        let body = br#"{"event":"plain text line"}"#;
        let (status, _) = post(&a, &server, path, &[("Authorization", &auth())], body).unwrap();
        assert_eq!(status, 200, "{path}");
    }
    assert_eq!(server.event_count(), 3);
}

#[test]
fn concatenated_envelopes_are_one_batch() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let body = format!(
        "{}\n{}  \r\n\t{}{}\n",
        envelope(0),
        envelope(1),
        envelope(2),
        envelope(3)
    );
    assert_eq!(send(&agent(), &server, &body), (200, hec(0, "Success")));
    assert_eq!(server.events(), (0..4).map(envelope).collect::<Vec<_>>());
    assert_eq!(server.requests().max_events_per_request, 4);
}

#[test]
fn gzip_bodies_are_inflated_and_counted() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let plain: String = (0..50).map(|n| format!("{}\n", envelope(n))).collect();
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(plain.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let headers = [
        ("Authorization", auth()),
        ("Content-Encoding", "gzip".into()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, reply) = post(&agent(), &server, EVENT, &headers, &gz).unwrap();
    assert_eq!((status, reply), (200, hec(0, "Success")));
    assert_eq!(server.event_count(), 50);
    let stats = server.requests();
    assert_eq!(stats.gzip, 1);
    assert_eq!(stats.max_body_bytes, gz.len());
    assert_eq!(stats.max_decoded_body_bytes, plain.len());

    // Not gzip after all: invalid data format, nothing stored.
    let (status, reply) = post(&agent(), &server, EVENT, &headers, b"{\"event\":1}").unwrap();
    assert_eq!((status, reply), (400, hec(6, "Invalid data format")));
    assert_eq!(server.event_count(), 50);
}

#[test]
fn authorization_errors_follow_splunk() {
    let config = HecTestConfig::default().disabled_token("old-token");
    let server = HecTestServer::start(config).unwrap();
    let a = agent();
    let body = envelope(0).to_string();
    let body = body.as_bytes();
    let cases: [(Option<&str>, u16, i64, &str); 5] = [
        (None, 401, 2, "Token is required"),
        (Some("Bearer abc"), 401, 3, "Invalid authorization"),
        (Some("Splunk"), 401, 3, "Invalid authorization"),
        (Some("Splunk wrong-token"), 403, 4, "Invalid token"),
        (Some("Splunk old-token"), 403, 1, "Token disabled"),
    ];
    for (header, status, code, text) in cases {
        let headers: Vec<(&str, &str)> = header.map(|h| ("Authorization", h)).into_iter().collect();
        let got = post(&a, &server, EVENT, &headers, body).unwrap();
        assert_eq!(got, (status, hec(code, text)), "{header:?}");
    }
    server.disable_token(TEST_TOKEN);
    assert_eq!(send(&a, &server, &envelope(0).to_string()).0, 403);
    server.enable_token(TEST_TOKEN);
    assert_eq!(server.event_count(), 0);
    assert_eq!(send(&a, &server, &envelope(0).to_string()).0, 200);
    assert_eq!(server.event_count(), 1);
}

#[test]
fn invalid_requests_store_nothing() {
    let config = HecTestConfig::default().allowed_indexes(["main", "risk"]);
    let server = HecTestServer::start(config).unwrap();
    let a = agent();
    let good = envelope(0).to_string();
    let cases: Vec<(String, u16, Value)> = vec![
        (String::new(), 400, hec(5, "No data")),
        (" \n ".into(), 400, hec(5, "No data")),
        (
            format!("{good}\n{{\"event\":"),
            400,
            bad(6, "Invalid data format", 1),
        ),
        (format!("[{good}]"), 400, bad(6, "Invalid data format", 0)),
        (format!("{good} 42"), 400, bad(6, "Invalid data format", 1)),
        (
            format!(r#"{good}{good}{{"time":"soon","event":1}}"#),
            400,
            bad(6, "Invalid data format", 2),
        ),
        (
            format!(r#"{good}{{"host":"h"}}"#),
            400,
            bad(12, "Event field is required", 1),
        ),
        (
            r#"{"event":""}"#.into(),
            400,
            bad(13, "Event field cannot be blank", 0),
        ),
        (
            r#"{"event":null}"#.into(),
            400,
            bad(13, "Event field cannot be blank", 0),
        ),
        (
            format!(r#"{good}{{"index":"secret","event":1}}"#),
            400,
            bad(7, "Incorrect index", 1),
        ),
        (
            r#"{"event":1,"fields":{"nested":{"a":1}}}"#.into(),
            400,
            bad(15, "Error in handling indexed fields", 0),
        ),
    ];
    for (body, status, reply) in cases {
        assert_eq!(send(&a, &server, &body), (status, reply), "{body}");
    }
    assert_eq!(server.event_count(), 0);
    assert_eq!(server.requests().max_events_per_request, 0);
    let (status, _) = send(
        &a,
        &server,
        r#"{"index":"risk","time":"1700000000.5","event":1}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(server.event_count(), 1);
}

#[test]
fn acks_channel_rules() {
    let server = HecTestServer::start(HecTestConfig::default().acks(true)).unwrap();
    let a = agent();
    let body = envelope(0).to_string();
    assert_eq!(
        send(&a, &server, &body),
        (400, hec(10, "Data channel is missing"))
    );
    assert_eq!(
        send_on(&a, &server, "not-a-guid", &body),
        (400, hec(11, "Invalid data channel"))
    );
    let path = format!("{ACK}?channel={CHANNEL}");
    let no_auth = post(&a, &server, &path, &[], br#"{"acks":[0]}"#).unwrap();
    assert_eq!(no_auth, (401, hec(2, "Token is required")));
    let no_channel = post(
        &a,
        &server,
        ACK,
        &[("Authorization", &auth())],
        b"{\"acks\":[0]}",
    );
    assert_eq!(
        no_channel.unwrap(),
        (400, hec(10, "Data channel is missing"))
    );
    let junk = post(
        &a,
        &server,
        &path,
        &[("Authorization", &auth())],
        b"{\"acks\":\"x\"}",
    );
    assert_eq!(junk.unwrap(), (400, hec(6, "Invalid data format")));
    assert_eq!(server.event_count() + server.pending_ack_events(), 0);
}

#[test]
fn acked_events_are_stored_on_receipt_and_acked_when_polled() {
    let server = HecTestServer::start(HecTestConfig::default().acks(true)).unwrap();
    let a = agent();
    for n in 0..2 {
        let reply = send_on(&a, &server, CHANNEL, &envelope(n).to_string());
        assert_eq!(
            reply,
            (200, json!({"text": "Success", "code": 0, "ackId": n}))
        );
    }
    // Another channel counts its own ack ids; `?channel=` works too.
    let path = format!("{EVENT}?channel={OTHER_CHANNEL}");
    let body = envelope(9).to_string();
    let other = post(
        &a,
        &server,
        &path,
        &[("Authorization", &auth())],
        body.as_bytes(),
    );
    assert_eq!(other.unwrap().1["ackId"], 0);

    // Indexed on receipt, as in Splunk; the acks only report it.
    assert_eq!(server.events(), vec![envelope(0), envelope(1), envelope(9)]);
    assert_eq!(server.pending_ack_events(), 3);
    let (status, reply) = poll(&a, &server, &[0, 1, 7]);
    assert_eq!(status, 200);
    assert_eq!(reply, json!({"acks": {"0": true, "1": true, "7": false}}));
    assert_eq!(server.pending_ack_events(), 1);
    // True is reported once; then the id is forgotten.
    assert_eq!(poll(&a, &server, &[0]).1, json!({"acks": {"0": false}}));
    assert_eq!(server.requests().ack_polls, 2);
}

#[test]
fn acks_turn_true_after_the_configured_polls() {
    let config = HecTestConfig::default().acks(true).ack_after_polls(1);
    let server = HecTestServer::start(config).unwrap();
    let a = agent();
    send_on(&a, &server, CHANNEL, &envelope(0).to_string());
    assert_eq!(poll(&a, &server, &[0]).1, json!({"acks": {"0": false}}));
    assert_eq!(poll(&a, &server, &[0]).1, json!({"acks": {"0": true}}));

    server.ack_after_polls(2);
    send_on(&a, &server, CHANNEL, &envelope(1).to_string());
    let answers: Vec<Value> = (0..3)
        .map(|_| poll(&a, &server, &[1]).1["acks"]["1"].clone())
        .collect();
    assert_eq!(answers, [false, false, true]);
    assert_eq!(server.events(), vec![envelope(0), envelope(1)]);
}

#[test]
fn lost_acks_never_turn_true_and_their_events_are_not_stored() {
    let server = HecTestServer::start(HecTestConfig::default().acks(true)).unwrap();
    let a = agent();
    server.lose_acks_next(1);
    for n in 0..3 {
        let (status, reply) = send_on(&a, &server, CHANNEL, &envelope(n).to_string());
        assert_eq!((status, &reply["ackId"]), (200, &json!(n)));
    }
    for _ in 0..3 {
        let reply = poll(&a, &server, &[0, 1, 2]).1;
        assert_eq!(reply["acks"]["0"], false);
    }
    assert_eq!(server.events(), vec![envelope(1), envelope(2)]);
    assert_eq!(server.pending_ack_events(), 0);
}

#[test]
fn ack_endpoint_without_acks_is_disabled() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    assert_eq!(
        poll(&agent(), &server, &[0]),
        (400, hec(14, "ACK is disabled"))
    );
}

#[test]
fn health_not_found_and_method() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let a = agent();
    let health = format!("{}{HEALTH}", server.url());
    assert_eq!(get(&a, &health).unwrap(), (200, hec(17, "HEC is healthy")));
    let missing = get(&a, &format!("{}/services/collector/raw", server.url())).unwrap();
    assert_eq!(missing.0, 404);
    let wrong = get(&a, &format!("{}{EVENT}", server.url())).unwrap();
    assert_eq!(wrong.0, 405);
}

#[test]
fn busy_and_too_many_store_nothing() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let a = agent();
    let health = format!("{}{HEALTH}", server.url());
    let body = envelope(0).to_string();
    server.busy_next(2);
    assert_eq!(get(&a, &health).unwrap(), (503, hec(9, "Server is busy")));
    for _ in 0..2 {
        assert_eq!(send(&a, &server, &body), (503, hec(9, "Server is busy")));
    }
    assert_eq!(get(&a, &health).unwrap().0, 200);
    server.too_many_next(1);
    assert_eq!(send(&a, &server, &body).0, 429);
    assert_eq!(server.event_count(), 0);
    assert_eq!(send(&a, &server, &body).0, 200);
    let stats = server.requests();
    assert_eq!(
        (stats.status(503), stats.status(429), stats.status(200)),
        (3, 1, 2)
    );
    assert_eq!(server.events(), vec![envelope(0)]);
}

#[test]
fn dropped_requests_get_no_response_and_store_nothing() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    server.drop_next(1);
    let a = agent();
    let body = envelope(0).to_string();
    let dropped = post(
        &a,
        &server,
        EVENT,
        &[("Authorization", &auth())],
        body.as_bytes(),
    );
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(server.event_count(), 0);
    assert_eq!(send(&a, &server, &body).0, 200);
    let stats = server.requests();
    assert_eq!(
        (stats.dropped, stats.event_posts, stats.connections),
        (1, 2, 2)
    );
}

#[test]
fn keep_alive_connections_are_reused() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let a = agent();
    for n in 0..5 {
        assert_eq!(send(&a, &server, &envelope(n).to_string()).0, 200);
    }
    let stats = server.requests();
    assert_eq!((stats.total, stats.connections), (5, 1));
}

#[test]
fn connection_close_and_chunked_bodies() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    let one = envelope(1).to_string();
    let (head, tail) = one.split_at(10);
    let two = envelope(2).to_string();
    // Two requests on one connection: a chunked one kept alive, then one
    // asking for close; the server must answer both, then close.
    let request = format!(
        "POST {EVENT} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{head}\r\n{:x};ext=1\r\n{tail}\r\n0\r\n\r\n\
         POST {EVENT} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{two}",
        head.len(),
        tail.len(),
        two.len(),
        auth = auth(),
    );
    let replies = raw_exchange(&server, request.as_bytes());
    assert_eq!(replies.matches("HTTP/1.1 200 OK").count(), 2, "{replies}");
    assert!(replies.contains("Connection: close"));
    assert_eq!(server.events(), vec![envelope(1), envelope(2)]);
    let stats = server.requests();
    assert_eq!((stats.chunked, stats.connections, stats.total), (1, 1, 2));
}

#[test]
fn expect_continue_and_body_limit() {
    let server = HecTestServer::start(HecTestConfig::default().max_content_length(64)).unwrap();
    let small = r#"{"event":"x"}"#;
    let request = format!(
        "POST {EVENT} HTTP/1.1\r\nAuthorization: {}\r\nExpect: 100-continue\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{small}",
        auth(),
        small.len()
    );
    let reply = raw_exchange(&server, request.as_bytes());
    assert!(
        reply.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"),
        "{reply}"
    );
    let big = envelope(0).to_string();
    let request = format!(
        "POST {EVENT} HTTP/1.1\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{big}",
        auth(),
        big.len()
    );
    let reply = raw_exchange(&server, request.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert_eq!(server.event_count(), 1);
}

#[test]
fn delayed_request_is_counted_before_anything_is_stored() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    server.delay(Duration::from_millis(400));
    std::thread::scope(|s| {
        let client = s.spawn(|| send(&agent(), &server, &envelope(0).to_string()));
        assert!(server.wait_for_requests(1, Duration::from_secs(10)));
        assert_eq!(server.event_count(), 0);
        assert_eq!(client.join().unwrap().0, 200);
    });
    assert!(server.wait_for_events(1, Duration::from_secs(1)));
}

#[test]
fn paused_requests_wait_for_resume() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    server.pause();
    std::thread::scope(|s| {
        let client = s.spawn(|| send(&agent(), &server, &envelope(0).to_string()));
        assert!(server.wait_for_requests(1, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(100));
        assert!(!client.is_finished());
        assert_eq!(server.event_count(), 0);
        server.resume();
        assert_eq!(client.join().unwrap().0, 200);
    });
    assert_eq!(server.event_count(), 1);
}

#[test]
fn dropping_the_server_ends_stalled_requests() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    server.pause();
    let addr = server.addr();
    let client = std::thread::spawn(move || {
        let body = envelope(0).to_string();
        let mut tcp = TcpStream::connect(addr).unwrap();
        let head = format!(
            "POST {EVENT} HTTP/1.1\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n",
            auth(),
            body.len()
        );
        tcp.write_all(head.as_bytes()).unwrap();
        tcp.write_all(body.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = tcp.read_to_end(&mut out);
        out
    });
    assert!(server.wait_for_requests(1, Duration::from_secs(10)));
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        client.join().unwrap().is_empty(),
        "no response after shutdown"
    );
}

#[test]
fn tls_is_verified_against_the_test_certificate() {
    let server = HecTestServer::start_tls(HecTestConfig::default()).unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let health = format!("{}{HEALTH}", server.url());
    let pem = server.ca_pem().expect("TLS server has a certificate");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    // Default roots: the self-signed certificate is refused.
    assert!(get(&agent(), &health).is_err());

    // Trusting the test certificate: health and an event POST succeed.
    let cert = ureq::tls::Certificate::from_pem(pem.as_bytes()).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]))
        .build();
    let trusting: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls)
        .build()
        .into();
    assert_eq!(
        get(&trusting, &health).unwrap(),
        (200, hec(17, "HEC is healthy"))
    );
    for n in 0..2 {
        assert_eq!(send(&trusting, &server, &envelope(n).to_string()).0, 200);
    }
    assert_eq!(server.event_count(), 2);

    // Verification off (an explicit insecure mode) also connects.
    let insecure = ureq::tls::TlsConfig::builder()
        .disable_verification(true)
        .build();
    let insecure: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(insecure)
        .build()
        .into();
    assert_eq!(get(&insecure, &health).unwrap().0, 200);
    assert!(server.requests().connections >= 3);
}
