//! The HEC endpoints of the test server: routing, authorization, channels,
//! envelope validation, storing, and indexer acknowledgement.

use std::fmt::Write as _;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use serde_json::Value;

use super::http::Request;
use super::{Ack, Shared, State};

/// Which endpoint a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    Event,
    Ack,
    Health,
    NotFound,
}

pub(super) fn route(path: &str) -> Route {
    match path.trim_end_matches('/') {
        "/services/collector" | "/services/collector/event" | "/services/collector/event/1.0" => {
            Route::Event
        }
        "/services/collector/ack" | "/services/collector/ack/1.0" => Route::Ack,
        "/services/collector/health" | "/services/collector/health/1.0" => Route::Health,
        _ => Route::NotFound,
    }
}

/// A response: status, the HEC code if the body has one, and the JSON body,
/// written by hand so keys keep Splunk's order (`text`, `code`, extras).
#[derive(Debug)]
pub(super) struct Reply {
    pub status: u16,
    pub code: Option<i64>,
    pub body: String,
}

impl Reply {
    /// `{"text":text,"code":code}`.
    fn hec(status: u16, code: i64, text: &str) -> Self {
        Self {
            status,
            code: Some(code),
            body: format!(r#"{{"text":{},"code":{code}}}"#, Value::from(text)),
        }
    }

    /// `{"text":text}`, for replies Splunk gives no code for.
    fn text(status: u16, text: &str) -> Self {
        Self {
            status,
            code: None,
            body: String::from_utf8(text_body(text)).expect("JSON is UTF-8"),
        }
    }

    /// Adds `"key":value` at the end of the body object.
    fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.body.pop();
        let _ = write!(self.body, ",{}:{}}}", Value::from(key), value.into());
        self
    }

    fn success() -> Self {
        Self::hec(200, 0, "Success")
    }

    /// No reply at all: the server restarted while the request was being
    /// handled (status 0 never reaches the wire).
    fn gone() -> Self {
        Self {
            status: 0,
            code: None,
            body: String::new(),
        }
    }
}

/// `{"text":text}` as bytes.
pub(super) fn text_body(text: &str) -> Vec<u8> {
    format!(r#"{{"text":{}}}"#, Value::from(text)).into_bytes()
}

/// Answers one request whose body has been read, on a connection accepted
/// in server epoch `epoch`; `None` if the server has restarted since (the
/// connection then closes without an answer and nothing is stored).
pub(super) fn handle(
    shared: &Shared,
    route: Route,
    req: &Request,
    body: &[u8],
    epoch: u64,
) -> Option<Reply> {
    if shared.lock().epoch != epoch {
        return None;
    }
    let reply = match (route, req.method.as_str()) {
        (Route::NotFound, _) => {
            Reply::hec(404, 404, "The requested URL was not found on this server.")
        }
        (Route::Health, "GET") => {
            if shared.lock().faults.busy > 0 {
                Reply::hec(503, 9, "Server is busy")
            } else {
                Reply::hec(200, 17, "HEC is healthy")
            }
        }
        (Route::Event, "POST") => handle_event(shared, req, body, epoch).unwrap_or_else(|r| r),
        (Route::Ack, "POST") => handle_ack(shared, req, body).unwrap_or_else(|r| r),
        _ => Reply::text(405, "Method not allowed"),
    };
    (reply.status != 0).then_some(reply)
}

/// Checks `Authorization: Splunk <token>`.
fn authorize(shared: &Shared, state: &State, req: &Request) -> Result<(), Reply> {
    let Some(header) = req.header("authorization") else {
        return Err(Reply::hec(401, 2, "Token is required"));
    };
    let token = match header.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("splunk") && !token.trim().is_empty() =>
        {
            token.trim()
        }
        _ => return Err(Reply::hec(401, 3, "Invalid authorization")),
    };
    if state.disabled_tokens.contains(token) {
        return Err(Reply::hec(403, 1, "Token disabled"));
    }
    if !shared.config.tokens.iter().any(|t| t == token) {
        return Err(Reply::hec(403, 4, "Invalid token"));
    }
    Ok(())
}

/// The request's channel (header first, then `?channel=`), if any; it must
/// be a GUID. With `required`, a missing channel is code 10.
fn channel(req: &Request, required: bool) -> Result<Option<String>, Reply> {
    match req
        .header("x-splunk-request-channel")
        .or_else(|| req.query("channel"))
    {
        Some(c) if is_guid(c) => Ok(Some(c.to_ascii_lowercase())),
        Some(_) => Err(Reply::hec(400, 11, "Invalid data channel")),
        None if required => Err(Reply::hec(400, 10, "Data channel is missing")),
        None => Ok(None),
    }
}

/// `8-4-4-4-12` hex digits.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn handle_event(shared: &Shared, req: &Request, body: &[u8], epoch: u64) -> Result<Reply, Reply> {
    {
        let mut state = shared.lock();
        let faults = &mut state.faults;
        if faults.busy > 0 {
            faults.busy -= 1;
            return Err(Reply::hec(503, 9, "Server is busy"));
        }
        if faults.too_many > 0 {
            faults.too_many -= 1;
            return Err(Reply::text(429, "Too many requests"));
        }
        authorize(shared, &state, req)?;
    }
    let channel = channel(req, shared.config.acks)?;
    let decoded = decode(req, body)?;
    let events = parse_envelopes(&decoded, shared.config.allowed_indexes.as_deref())?;

    let mut state = shared.lock();
    // Checked under the same lock a restart takes: a request the restart
    // overtook stores nothing.
    if state.epoch != epoch {
        return Err(Reply::gone());
    }
    let stats = &mut state.stats;
    stats.max_decoded_body_bytes = stats.max_decoded_body_bytes.max(decoded.len());
    stats.max_events_per_request = stats.max_events_per_request.max(events.len());
    if !shared.config.acks {
        shared.store(&mut state, events);
        return Ok(Reply::success());
    }
    let State {
        faults,
        channels,
        stats,
        ..
    } = &mut *state;
    let channel = channels
        .entry(channel.expect("required with acks"))
        .or_default();
    let id = channel.next_ack;
    channel.next_ack += 1;
    let (ack, indexed) = if faults.lose_acks > 0 {
        faults.lose_acks -= 1;
        stats.lost_acks += 1;
        if shared.config.log_requests {
            eprintln!(
                "hec-test-server: ack {id} lost, {} events discarded",
                events.len()
            );
        }
        (Ack::Lost, None)
    } else {
        (
            Ack::Pending {
                polls_left: faults.ack_after_polls,
                events: events.len(),
            },
            Some(events),
        )
    };
    channel.acks.insert(id, ack);
    // As in Splunk, indexing does not wait for anyone to poll the ack.
    if let Some(events) = indexed {
        shared.store(&mut state, events);
    }
    shared.changed.notify_all();
    Ok(Reply::success().with("ackId", id))
}

/// The body as sent, or inflated if `Content-Encoding: gzip`.
fn decode(req: &Request, body: &[u8]) -> Result<Vec<u8>, Reply> {
    match req.header("content-encoding").map(str::trim) {
        None | Some("") => Ok(body.to_vec()),
        Some(e) if e.eq_ignore_ascii_case("identity") => Ok(body.to_vec()),
        Some(e) if e.eq_ignore_ascii_case("gzip") => {
            let mut out = Vec::new();
            MultiGzDecoder::new(body)
                .read_to_end(&mut out)
                .map_err(|_| Reply::hec(400, 6, "Invalid data format"))?;
            Ok(out)
        }
        Some(_) => Err(Reply::text(415, "Unsupported content encoding")),
    }
}

/// Splits a body into envelopes and validates each; the first bad one
/// rejects the whole request.
fn parse_envelopes(body: &[u8], allowed_indexes: Option<&[String]>) -> Result<Vec<Value>, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Reply::hec(400, 5, "No data"));
    }
    let mut events = Vec::new();
    let stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    for (i, item) in stream.enumerate() {
        let bad = |code, text| Reply::hec(400, code, text).with("invalid-event-number", i);
        let invalid = || bad(6, "Invalid data format");
        let envelope = item.map_err(|_| invalid())?;
        let obj = envelope.as_object().ok_or_else(invalid)?;
        match obj.get("event") {
            None => return Err(bad(12, "Event field is required")),
            Some(e) if is_blank(e) => return Err(bad(13, "Event field cannot be blank")),
            Some(_) => {}
        }
        if obj.get("time").is_some_and(|t| !is_time(t)) {
            return Err(invalid());
        }
        let not_string = |k: &str| obj.get(k).is_some_and(|v| !v.is_string());
        if ["host", "source", "sourcetype", "index"]
            .into_iter()
            .any(not_string)
        {
            return Err(invalid());
        }
        if let (Some(index), Some(allowed)) = (obj.get("index"), allowed_indexes) {
            if !allowed.iter().any(|a| index == a.as_str()) {
                return Err(bad(7, "Incorrect index"));
            }
        }
        if obj.get("fields").is_some_and(|f| !are_indexed_fields(f)) {
            return Err(bad(15, "Error in handling indexed fields"));
        }
        events.push(envelope);
    }
    Ok(events)
}

/// `null`, or a string of only whitespace.
fn is_blank(event: &Value) -> bool {
    match event {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Epoch seconds as a number or a numeric string.
fn is_time(t: &Value) -> bool {
    match t {
        Value::Number(_) => true,
        Value::String(s) => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    }
}

/// An object whose values are scalars or arrays of scalars (no nesting).
fn are_indexed_fields(fields: &Value) -> bool {
    let scalar = |v: &Value| !(v.is_object() || v.is_array() || v.is_null());
    fields.as_object().is_some_and(|m| {
        m.values().all(|v| match v {
            Value::Array(items) => items.iter().all(scalar),
            v => scalar(v),
        })
    })
}

fn handle_ack(shared: &Shared, req: &Request, body: &[u8]) -> Result<Reply, Reply> {
    {
        let state = shared.lock();
        authorize(shared, &state, req)?;
    }
    if !shared.config.acks {
        return Err(Reply::hec(400, 14, "ACK is disabled"));
    }
    let channel = channel(req, true)?.expect("required");
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Reply::hec(400, 5, "No data"));
    }
    let invalid = || Reply::hec(400, 6, "Invalid data format");
    let query: Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    let ids = query
        .get("acks")
        .and_then(Value::as_array)
        .ok_or_else(invalid)?
        .iter()
        .map(Value::as_u64)
        .collect::<Option<Vec<u64>>>()
        .ok_or_else(invalid)?;

    let mut state = shared.lock();
    let mut answers: Vec<(u64, bool)> = Vec::with_capacity(ids.len());
    for id in ids {
        if answers.iter().any(|(seen, _)| *seen == id) {
            continue;
        }
        let ack = state
            .channels
            .get_mut(&channel)
            .and_then(|c| c.acks.get_mut(&id));
        let done = match ack {
            None | Some(Ack::Lost) => false,
            Some(Ack::Pending { polls_left, .. }) if *polls_left > 0 => {
                *polls_left -= 1;
                false
            }
            Some(Ack::Pending { .. }) => true,
        };
        if done {
            // Reported true once, then forgotten, as Splunk does.
            state
                .channels
                .get_mut(&channel)
                .and_then(|c| c.acks.remove(&id));
        }
        answers.push((id, done));
    }
    let mut body = String::from(r#"{"acks":{"#);
    for (i, (id, done)) in answers.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(body, r#"{sep}"{id}":{done}"#);
    }
    body.push_str("}}");
    Ok(Reply {
        status: 200,
        code: None,
        body,
    })
}
