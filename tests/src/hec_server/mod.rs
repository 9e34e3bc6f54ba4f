//! A loopback **test server** that speaks the Splunk HTTP Event Collector
//! (HEC) protocol and injects faults. It is not Splunk: it follows Splunk's
//! documented HEC endpoints and status codes closely enough to test a HEC
//! client end to end where Splunk cannot be installed, and keeps everything
//! it accepts in memory for assertions.
//!
//! ## Brief overview
//! - [`HecTestServer`]: the running server and the handle a test holds. It
//!   binds `127.0.0.1:0` ([`HecTestServer::start`]) or serves HTTPS with a
//!   throwaway self-signed certificate ([`HecTestServer::start_tls`]), sets
//!   faults at any time, and reports what it stored ([`HecTestServer::events`])
//!   and saw ([`HecTestServer::requests`]). Dropping it stops every thread.
//! - [`HecTestConfig`]: tokens, indexer acknowledgement, allowed indexes;
//!   fixed once the server starts (faults are not: they live on the handle).
//! - [`RequestStats`]: counts of requests, statuses, HEC codes, gzip bodies,
//!   connections (keep-alive reuse), largest body and batch.
//!
//! ## Protocol
//! - `POST /services/collector`, `/services/collector/event`,
//!   `/services/collector/event/1.0` with `Authorization: Splunk <token>`.
//!   The body is one or more concatenated JSON envelopes (not an array),
//!   optionally `Content-Encoding: gzip`, framed by `Content-Length` or
//!   `Transfer-Encoding: chunked`. Replies are `{"text":..,"code":N}` with
//!   Splunk's HTTP statuses and codes: 0 success; 1 token disabled (403);
//!   2 token is required (401); 3 invalid authorization (401); 4 invalid token
//!   (403); 5 no data (400); 6 invalid data format (400, with
//!   `invalid-event-number`); 7 incorrect index (400); 9 server is busy (503);
//!   10 data channel is missing (400); 11 invalid data channel (400);
//!   12 event field is required (400); 13 event field cannot be blank (400);
//!   14 ACK is disabled (400); 15 error in handling indexed fields (400).
//!   A request either stores all its events or none.
//! - Indexer acknowledgement ([`HecTestConfig::acks`]): the channel comes
//!   from `X-Splunk-Request-Channel` or `?channel=` and must be a GUID; a
//!   success carries `"ackId"` (0, 1, 2, … per channel); the events enter
//!   the store on receipt (indexing does not wait for polls, as in Splunk),
//!   and `POST /services/collector/ack` reports the ack true after
//!   [`HecTestConfig::ack_after_polls`] polls. A lost ack (fault) stands for
//!   an indexer that failed before writing: its events are discarded and its
//!   ack never turns true. As in Splunk, an ack reported true once is
//!   forgotten (later polls say false), and unknown ids are false.
//! - `GET /services/collector/health` → 200 code 17 (503 code 9 while a busy
//!   fault is armed). Any other path → 404.
//!
//! Choices of this test server where Splunk documents nothing: a fault's 429
//! reply is `{"text":"Too many requests"}`; a body over
//! [`HecTestConfig::max_content_length`] gets 413 and the connection closes;
//! a gzip body that does not inflate is code 6, another `Content-Encoding`
//! is 415; a wrong method is 405. Envelopes are checked a little more
//! strictly than Splunk may: `time` must be a number or numeric string,
//! `host`/`source`/`sourcetype`/`index` strings, `fields` a flat object
//! (code 6, or 15 for `fields`).
//!
//! ## Example
//! ```
//! use riskscore_tests::hec_server::{HecTestConfig, HecTestServer};
//! use std::io::{Read, Write};
//!
//! let server = HecTestServer::start(HecTestConfig::default()).unwrap();
//! let body = r#"{"event":{"risk":0.9},"sourcetype":"riskscore"}"#;
//! let mut tcp = std::net::TcpStream::connect(server.addr()).unwrap();
//! write!(
//!     tcp,
//!     "POST /services/collector/event HTTP/1.1\r\nAuthorization: Splunk {}\r\n\
//!      Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
//!     server.token(),
//!     body.len()
//! )
//! .unwrap();
//! let mut reply = String::new();
//! tcp.read_to_string(&mut reply).unwrap();
//! assert!(reply.starts_with("HTTP/1.1 200 OK"));
//! assert!(reply.ends_with(r#"{"text":"Success","code":0}"#));
//! assert_eq!(server.events()[0]["event"]["risk"], 0.9);
//! ```

mod conn;
mod http;
mod protocol;
mod transport;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The token [`HecTestConfig::default`] accepts.
pub const TEST_TOKEN: &str = "00000000-1111-2222-3333-444444444444";

/// A callback that sees every envelope as it enters the store.
pub type OnStore = Arc<dyn Fn(&Value) + Send + Sync>;

/// How a [`HecTestServer`] behaves; fixed once it starts.
///
/// Defaults: one valid token [`TEST_TOKEN`], acknowledgement off, acks true
/// on the first poll, every index allowed, bodies up to 800 MiB (Splunk's
/// default `max_content_length`), no request log.
#[derive(Clone)]
pub struct HecTestConfig {
    tokens: Vec<String>,
    disabled_tokens: Vec<String>,
    acks: bool,
    ack_after_polls: u32,
    allowed_indexes: Option<Vec<String>>,
    max_content_length: usize,
    log_requests: bool,
    on_store: Option<OnStore>,
}

impl Default for HecTestConfig {
    fn default() -> Self {
        Self::new(TEST_TOKEN)
    }
}

impl fmt::Debug for HecTestConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HecTestConfig")
            .field("tokens", &self.tokens.len())
            .field("disabled_tokens", &self.disabled_tokens.len())
            .field("acks", &self.acks)
            .field("ack_after_polls", &self.ack_after_polls)
            .field("allowed_indexes", &self.allowed_indexes)
            .field("max_content_length", &self.max_content_length)
            .field("log_requests", &self.log_requests)
            .field("on_store", &self.on_store.is_some())
            .finish()
    }
}

impl HecTestConfig {
    /// A configuration accepting exactly `token`.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            tokens: vec![token.into()],
            disabled_tokens: Vec::new(),
            acks: false,
            ack_after_polls: 0,
            allowed_indexes: None,
            max_content_length: 800 * 1024 * 1024,
            log_requests: false,
            on_store: None,
        }
    }

    /// Accepts `token` as well.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.tokens.push(token.into());
        self
    }

    /// Knows `token` but answers 403 code 1 "Token disabled" for it.
    pub fn disabled_token(mut self, token: impl Into<String>) -> Self {
        self.disabled_tokens.push(token.into());
        self
    }

    /// Turns indexer acknowledgement on or off (default off).
    pub fn acks(mut self, on: bool) -> Self {
        self.acks = on;
        self
    }

    /// How many ack polls report an ack false before it turns true (default
    /// 0: true on the first poll). [`HecTestServer::ack_after_polls`] changes
    /// it later.
    pub fn ack_after_polls(mut self, polls: u32) -> Self {
        self.ack_after_polls = polls;
        self
    }

    /// Allows only these indexes in envelopes' `index` field (default: any);
    /// others get 400 code 7 "Incorrect index".
    pub fn allowed_indexes<I, S>(mut self, indexes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_indexes = Some(indexes.into_iter().map(Into::into).collect());
        self
    }

    /// The largest body accepted, in bytes as sent (default 800 MiB).
    pub fn max_content_length(mut self, bytes: usize) -> Self {
        self.max_content_length = bytes;
        self
    }

    /// Prints one line per request to stderr (default off).
    pub fn log_requests(mut self, on: bool) -> Self {
        self.log_requests = on;
        self
    }

    /// Calls `f` with every envelope as it enters the store, in store order.
    pub fn on_store(mut self, f: impl Fn(&Value) + Send + Sync + 'static) -> Self {
        self.on_store = Some(Arc::new(f));
        self
    }
}

/// What a [`HecTestServer`] has seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// Requests whose head was read, on any path.
    pub total: u64,
    /// Requests to the event endpoints (also [`HecTestServer::requests_received`]).
    pub event_posts: u64,
    /// Requests to the ack endpoint.
    pub ack_polls: u64,
    /// Responses sent, by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Responses sent, by the HEC `code` in their body.
    pub by_code: BTreeMap<i64, u64>,
    /// Event POSTs answered by closing the connection ([`HecTestServer::drop_next`]).
    pub dropped: u64,
    /// Requests with `Content-Encoding: gzip`.
    pub gzip: u64,
    /// Requests with a chunked body.
    pub chunked: u64,
    /// TCP connections accepted; below `total` when clients keep connections alive.
    pub connections: u64,
    /// The largest body received, in bytes as sent (compressed if gzip).
    pub max_body_bytes: usize,
    /// The largest body after gunzip.
    pub max_decoded_body_bytes: usize,
    /// The most envelopes in one accepted request.
    pub max_events_per_request: usize,
}

impl RequestStats {
    /// Responses sent with HTTP status `status`.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// Responses sent with HEC code `code`.
    pub fn code(&self, code: i64) -> u64 {
        self.by_code.get(&code).copied().unwrap_or(0)
    }
}

/// Faults armed from the test thread; the counters count down per event POST.
#[derive(Debug, Default)]
struct Faults {
    busy: u32,
    too_many: u32,
    drop: u32,
    lose_acks: u32,
    delay: Duration,
    paused: bool,
    ack_after_polls: u32,
}

/// One ack id's fate.
#[derive(Debug)]
enum Ack {
    /// Accepted and stored; the ack turns true after `polls_left` more polls.
    Pending { polls_left: u32, events: usize },
    /// Never turns true; its events were discarded.
    Lost,
}

#[derive(Debug, Default)]
struct Channel {
    next_ack: u64,
    acks: HashMap<u64, Ack>,
}

#[derive(Default)]
struct State {
    stored: Vec<Value>,
    stats: RequestStats,
    faults: Faults,
    channels: HashMap<String, Channel>,
    disabled_tokens: HashSet<String>,
}

/// What the connection threads share with the handle.
struct Shared {
    config: HecTestConfig,
    state: Mutex<State>,
    /// Signalled on every state change tests may wait for.
    changed: Condvar,
    shutdown: Arc<AtomicBool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not hide the store from the test.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Moves accepted envelopes into the store (state already locked).
    fn store(&self, state: &mut State, events: Vec<Value>) {
        if let Some(f) = &self.config.on_store {
            events.iter().for_each(|e| f(e));
        }
        state.stored.extend(events);
        self.changed.notify_all();
    }
}

/// A running HEC test server on loopback. Not Splunk: see the
/// [module docs](self) for what it implements.
///
/// All methods take `&self` and the type is `Send + Sync`, so a test can
/// arm faults from another thread (e.g. inside `std::thread::scope`) while a
/// client runs. Dropping it closes the listener and every connection and
/// joins all threads; requests stalled by [`pause`](Self::pause) or
/// [`delay`](Self::delay) end without a response.
pub struct HecTestServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    scheme: &'static str,
    cert_pem: Option<String>,
    acceptor: Option<JoinHandle<()>>,
}

impl fmt::Debug for HecTestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HecTestServer")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl HecTestServer {
    /// Serves plain HTTP on `127.0.0.1` at a free port.
    pub fn start(config: HecTestConfig) -> io::Result<Self> {
        Self::bind("127.0.0.1:0", config, false)
    }

    /// Serves HTTPS on `127.0.0.1` at a free port, with a new self-signed
    /// certificate for `127.0.0.1` and `localhost` ([`ca_pem`](Self::ca_pem)).
    pub fn start_tls(config: HecTestConfig) -> io::Result<Self> {
        Self::bind("127.0.0.1:0", config, true)
    }

    /// Serves on `addr`, over TLS if `tls`.
    pub fn bind(addr: impl ToSocketAddrs, config: HecTestConfig, tls: bool) -> io::Result<Self> {
        let identity = if tls {
            Some(transport::self_signed()?)
        } else {
            None
        };
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let state = State {
            faults: Faults {
                ack_after_polls: config.ack_after_polls,
                ..Faults::default()
            },
            disabled_tokens: config.disabled_tokens.iter().cloned().collect(),
            ..State::default()
        };
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
            changed: Condvar::new(),
            shutdown: Arc::new(AtomicBool::new(false)),
        });
        let tls_config = identity.as_ref().map(|i| i.config.clone());
        let acceptor = {
            let shared = shared.clone();
            thread::Builder::new()
                .name("hec-test-accept".into())
                .spawn(move || conn::accept_loop(listener, shared, tls_config))?
        };
        Ok(Self {
            shared,
            addr,
            scheme: if tls { "https" } else { "http" },
            cert_pem: identity.map(|i| i.cert_pem),
            acceptor: Some(acceptor),
        })
    }

    /// `http://127.0.0.1:PORT` (or `https://…`), without a trailing slash.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first configured token.
    pub fn token(&self) -> &str {
        &self.shared.config.tokens[0]
    }

    /// The self-signed certificate (PEM) of a TLS server, for a client to
    /// trust as its CA; `None` for plain HTTP.
    pub fn ca_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// The stored envelopes, in store order.
    pub fn events(&self) -> Vec<Value> {
        self.shared.lock().stored.clone()
    }

    /// How many envelopes are stored.
    pub fn event_count(&self) -> usize {
        self.shared.lock().stored.len()
    }

    /// Envelopes stored whose ack id has not been reported true yet.
    pub fn pending_ack_events(&self) -> usize {
        let state = self.shared.lock();
        let pending = |a: &Ack| match a {
            Ack::Pending { events, .. } => *events,
            Ack::Lost => 0,
        };
        state
            .channels
            .values()
            .flat_map(|c| c.acks.values())
            .map(pending)
            .sum()
    }

    /// A snapshot of the request counters.
    pub fn requests(&self) -> RequestStats {
        self.shared.lock().stats.clone()
    }

    /// Event POSTs received so far: counted as soon as the request head
    /// arrives, before any [`delay`](Self::delay) or [`pause`](Self::pause).
    pub fn requests_received(&self) -> u64 {
        self.shared.lock().stats.event_posts
    }

    /// Waits until at least `n` event POSTs have arrived; false on timeout.
    pub fn wait_for_requests(&self, n: u64, timeout: Duration) -> bool {
        self.wait_until(timeout, |s| s.stats.event_posts >= n)
    }

    /// Waits until at least `n` envelopes are stored; false on timeout.
    pub fn wait_for_events(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |s| s.stored.len() >= n)
    }

    fn wait_until(&self, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while !done(&state) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    fn faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.shared.lock().faults);
        self.shared.changed.notify_all();
    }

    /// The next `n` event POSTs get 503 code 9 "Server is busy"; the health
    /// endpoint says busy until they are used up.
    pub fn busy_next(&self, n: u32) {
        self.faults(|f| f.busy = n);
    }

    /// The next `n` event POSTs get HTTP 429.
    pub fn too_many_next(&self, n: u32) {
        self.faults(|f| f.too_many = n);
    }

    /// The next `n` event POSTs are read in full, then the connection is
    /// closed without a response; nothing is stored.
    pub fn drop_next(&self, n: u32) {
        self.faults(|f| f.drop = n);
    }

    /// Every event POST from now on waits `d` after its head arrives and
    /// before its body is read (so before anything is stored).
    /// `Duration::ZERO` turns it off.
    pub fn delay(&self, d: Duration) {
        self.faults(|f| f.delay = d);
    }

    /// The next `n` accepted event POSTs (with acks on) get an ack id that
    /// never turns true; their events are discarded, as if never indexed.
    pub fn lose_acks_next(&self, n: u32) {
        self.faults(|f| f.lose_acks = n);
    }

    /// Acks of event POSTs accepted from now on report false for `polls`
    /// polls before turning true.
    pub fn ack_after_polls(&self, polls: u32) {
        self.faults(|f| f.ack_after_polls = polls);
    }

    /// Holds every event POST after its head arrives (counted by
    /// [`requests_received`](Self::requests_received)) and before its body is
    /// read, until [`resume`](Self::resume) or drop.
    pub fn pause(&self) {
        self.faults(|f| f.paused = true);
    }

    /// Lets paused event POSTs go on.
    pub fn resume(&self) {
        self.faults(|f| f.paused = false);
    }

    /// From now on answers 403 code 1 "Token disabled" for `token`.
    pub fn disable_token(&self, token: &str) {
        self.shared.lock().disabled_tokens.insert(token.to_string());
    }

    /// Accepts `token` again after [`disable_token`](Self::disable_token).
    pub fn enable_token(&self, token: &str) {
        self.shared.lock().disabled_tokens.remove(token);
    }
}

impl Drop for HecTestServer {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip([127, 0, 0, 1].into());
        }
        // Wake the blocking accept; if that fails, leave the thread behind
        // rather than hang the test.
        if TcpStream::connect_timeout(&wake, Duration::from_secs(1)).is_ok() {
            if let Some(t) = self.acceptor.take() {
                let _ = t.join();
            }
        }
    }
}
