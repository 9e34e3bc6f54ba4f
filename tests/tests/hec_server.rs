//! The HEC test server itself, driven by a plain HTTP client (ureq) and raw
//! sockets: Splunk's documented replies, all-or-nothing storing, indexer
//! acknowledgement, keep-alive, chunked bodies and TLS (faults: `hec_faults.rs`).

mod common;

use flate2::write::GzEncoder;
use riskscore_tests::hec_server::{HecTestConfig, HecTestServer, TEST_TOKEN};
use serde_json::{json, Value};
use std::io::Write;

use common::*;

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
