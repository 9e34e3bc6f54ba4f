//! The HEC test server's injected faults (503 and 429 bursts, dropped
//! and reset connections, stalls, lost acks, restarts): each does what its
//! documentation says and stores nothing it should not. Not Splunk.

mod common;

use riskscore_tests::hec_server::{HecTestConfig, HecTestServer};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

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

/// POSTs a request head announcing `body`, then only `sent` bytes of it, and
/// reads; the error kind the connection ended with, and what was read.
fn half_sent(server: &HecTestServer, body: &str, sent: usize) -> (std::io::ErrorKind, Vec<u8>) {
    let mut tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST {EVENT} HTTP/1.1\r\nAuthorization: {}\r\nX-Splunk-Request-Channel: {CHANNEL}\r\n\
         Content-Length: {}\r\n\r\n",
        auth(),
        body.len()
    );
    tcp.write_all(head.as_bytes()).unwrap();
    tcp.write_all(&body.as_bytes()[..sent]).unwrap();
    let mut out = Vec::new();
    let kind = match tcp.read_to_end(&mut out) {
        Ok(_) => std::io::ErrorKind::UnexpectedEof,
        Err(e) => e.kind(),
    };
    (kind, out)
}

#[test]
fn reset_requests_are_cut_mid_body_with_an_rst_and_store_nothing() {
    let server = HecTestServer::start(HecTestConfig::default().acks(true)).unwrap();
    let body = envelope(0).to_string();
    // The server reads the head and half the body, then resets: the client,
    // still owing the other half, gets an RST rather than a FIN or a reply.
    server.reset_next(2);
    let (kind, reply) = half_sent(&server, &body, body.len().div_ceil(2));
    assert_eq!(kind, std::io::ErrorKind::ConnectionReset);
    assert!(reply.is_empty(), "{}", String::from_utf8_lossy(&reply));
    // A client sending a large body in one go fails too.
    let big: String = (0..5000).map(|n| envelope(n).to_string()).collect();
    let headers = [
        ("Authorization", auth()),
        ("X-Splunk-Request-Channel", CHANNEL.to_string()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let cut = post(&agent(), &server, EVENT, &headers, big.as_bytes());
    assert!(cut.is_err(), "{cut:?}");
    assert_eq!(server.event_count(), 0);
    // Then requests go through, and no ack id was used by the cut ones.
    let ok = send_on(&agent(), &server, CHANNEL, &body);
    assert_eq!(ok, (200, json!({"text": "Success", "code": 0, "ackId": 0})));
    assert_eq!(server.events(), vec![envelope(0)]);
    let stats = server.requests();
    assert_eq!(
        (stats.reset, stats.event_posts, stats.connections),
        (2, 3, 3),
        "{stats:?}"
    );
    assert_eq!(
        stats.by_status.values().sum::<u64>(),
        1,
        "no reply to a reset"
    );
}

#[test]
fn restart_keeps_events_closes_connections_and_forgets_channels() {
    let server = HecTestServer::start(HecTestConfig::default().acks(true)).unwrap();
    let url = server.url();
    let a = agent();
    for n in 0..2 {
        assert_eq!(
            send_on(&a, &server, CHANNEL, &envelope(n).to_string()).0,
            200
        );
    }
    assert_eq!(poll(&a, &server, &[0]).1, json!({"acks": {"0": true}}));
    assert_eq!(server.pending_ack_events(), 1);
    // An idle keep-alive connection, and a request stalled before its body.
    let mut idle = TcpStream::connect(server.addr()).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    server.pause();
    std::thread::scope(|s| {
        let stalled = s.spawn(|| half_sent(&server, &envelope(7).to_string(), 10));
        assert!(server.wait_for_requests(3, Duration::from_secs(10)));
        let started = Instant::now();
        server.restart().unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
        let (_, reply) = stalled.join().unwrap();
        assert!(
            reply.is_empty(),
            "no response to a request cut by a restart"
        );
    });
    server.resume();
    let mut buf = [0u8; 16];
    assert!(
        matches!(idle.read(&mut buf), Ok(0) | Err(_)),
        "idle connection closed"
    );

    // Same address; the events survive; the channel and its acks do not.
    assert_eq!(server.url(), url);
    assert_eq!(server.events(), vec![envelope(0), envelope(1)]);
    assert_eq!(server.pending_ack_events(), 0);
    let a = agent();
    assert_eq!(
        poll(&a, &server, &[1]),
        (200, json!({"acks": {"1": false}}))
    );
    let again = send_on(&a, &server, CHANNEL, &envelope(2).to_string());
    assert_eq!(again.1["ackId"], 0, "ack ids count again from 0");
    assert_eq!(poll(&a, &server, &[0]).1, json!({"acks": {"0": true}}));
    assert_eq!(server.event_count(), 3);
    let stats = server.requests();
    assert_eq!((stats.restarts, stats.stalled), (1, 1), "{stats:?}");
}

#[test]
fn a_restarting_server_refuses_connections_while_down() {
    let server = HecTestServer::start(HecTestConfig::default()).unwrap();
    server.busy_next(1);
    std::thread::scope(|s| {
        let restart = s.spawn(|| server.restart_after(Duration::from_millis(600)));
        let deadline = Instant::now() + Duration::from_secs(5);
        let refused = loop {
            match TcpStream::connect(server.addr()) {
                Err(e) => break Some(e.kind()),
                Ok(_) if Instant::now() > deadline => break None,
                Ok(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        };
        assert_eq!(refused, Some(std::io::ErrorKind::ConnectionRefused));
        restart.join().unwrap().unwrap();
    });
    // Up again, with its armed faults.
    let body = envelope(0).to_string();
    assert_eq!(send(&agent(), &server, &body).0, 503);
    assert_eq!(send(&agent(), &server, &body).0, 200);
    assert_eq!(server.requests().restarts, 1);
}
