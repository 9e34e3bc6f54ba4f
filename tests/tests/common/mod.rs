//! Helpers shared by the HEC test server's tests: requests, polls and
//! expected answers in Splunk's documented HEC shapes.
#![allow(dead_code)]

use riskscore_tests::hec_server::{HecTestServer, TEST_TOKEN};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub const EVENT: &str = "/services/collector/event";
pub const ACK: &str = "/services/collector/ack";
pub const HEALTH: &str = "/services/collector/health";
pub const CHANNEL: &str = "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba";
pub const OTHER_CHANNEL: &str = "B5A79E2F-0C3A-4B0E-9F43-3E1D2C4B5A69";

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

pub fn auth() -> String {
    format!("Splunk {TEST_TOKEN}")
}

/// POSTs `body` to `path` with `headers`; the status and the JSON reply.
pub fn post(
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
pub fn send(agent: &ureq::Agent, server: &HecTestServer, body: &str) -> (u16, Value) {
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
pub fn send_on(
    agent: &ureq::Agent,
    server: &HecTestServer,
    channel: &str,
    body: &str,
) -> (u16, Value) {
    let headers = [
        ("Authorization", auth()),
        ("X-Splunk-Request-Channel", channel.to_string()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(agent, server, EVENT, &headers, body.as_bytes()).unwrap()
}

pub fn poll(agent: &ureq::Agent, server: &HecTestServer, ids: &[u64]) -> (u16, Value) {
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

pub fn get(agent: &ureq::Agent, url: &str) -> Result<(u16, Value), ureq::Error> {
    let mut resp = agent.get(url).call()?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string()?;
    Ok((status, serde_json::from_str(&text).unwrap()))
}

pub fn envelope(n: u64) -> Value {
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

pub fn hec(code: i64, text: &str) -> Value {
    json!({ "text": text, "code": code })
}

pub fn bad(code: i64, text: &str, number: u64) -> Value {
    json!({ "text": text, "code": code, "invalid-event-number": number })
}

/// Sends raw bytes on a fresh connection and reads until the server closes it.
pub fn raw_exchange(server: &HecTestServer, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    tcp.write_all(request).unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).unwrap();
    out
}
