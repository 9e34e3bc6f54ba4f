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
//!   connections (keep-alive reuse), largest body and batch, faults that hit.
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
//! ## Faults
//! Armed on the handle at any time; the counted ones apply to the next event
//! POSTs in arrival order. [`busy_next`](HecTestServer::busy_next) (503
//! code 9), [`too_many_next`](HecTestServer::too_many_next) (429),
//! [`drop_next`](HecTestServer::drop_next) (body read, then closed without a
//! response), [`reset_next`](HecTestServer::reset_next) (head and part of
//! the body read, then an RST), [`delay`](HecTestServer::delay) and
//! [`pause`](HecTestServer::pause) (stalls before the body is read),
//! [`lose_acks_next`](HecTestServer::lose_acks_next) (accepted, never
//! indexed), and [`restart`](HecTestServer::restart): every connection and
//! the listener close, and the server listens again on the same port.
//! Stored events survive a restart, as indexed data does; the channels and
//! their pending acks do not (Splunk keeps them in memory). After a restart
//! a channel is unknown, and the server answers for it as Splunk does for a
//! channel it has never seen (and as Vector's Splunk-compatible source
//! does): an ack poll on it gets 200 with every id `false`, and an event
//! POST on it creates it afresh, its ack ids counting again from 0. A
//! client therefore cannot tell a forgotten ack from one still pending; it
//! learns only by timing out (and sending again).
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

mod config;
mod conn;
mod faults;
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

pub use config::{HecTestConfig, OnStore, TEST_TOKEN};
use faults::Faults;
use transport::Stop;

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
    /// Event POSTs cut mid-body by an RST ([`HecTestServer::reset_next`]).
    pub reset: u64,
    /// Event POSTs held by [`HecTestServer::pause`] or [`HecTestServer::delay`].
    pub stalled: u64,
    /// Accepted event POSTs whose ack was lost ([`HecTestServer::lose_acks_next`]).
    pub lost_acks: u64,
    /// Restarts ([`HecTestServer::restart`]).
    pub restarts: u64,
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
    /// Stored envelopes, if [`HecTestConfig::keep_events`].
    stored: Vec<Value>,
    /// Envelopes stored, kept or not.
    stored_count: usize,
    /// Counts restarts: requests on connections of an earlier epoch store nothing.
    epoch: u64,
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

    /// Moves accepted envelopes into the store (state already locked).
    fn store(&self, state: &mut State, events: Vec<Value>) {
        if let Some(f) = &self.config.on_store {
            events.iter().for_each(|e| f(e));
        }
        state.stored_count += events.len();
        if self.config.keep_events {
            state.stored.extend(events);
        }
        self.changed.notify_all();
    }
}

/// The accepting thread of one listener (one per restart).
struct Acceptor {
    thread: JoinHandle<()>,
    stop: Stop,
}

/// Starts accepting on `listener` for connections of `epoch`.
fn spawn_acceptor(
    listener: TcpListener,
    shared: &Arc<Shared>,
    tls: Option<Arc<rustls::ServerConfig>>,
    epoch: u64,
) -> io::Result<Acceptor> {
    let stop = Stop::new(shared.shutdown.clone());
    let thread = {
        let (shared, stop) = (shared.clone(), stop.clone());
        thread::Builder::new()
            .name("hec-test-accept".into())
            .spawn(move || conn::accept_loop(listener, shared, tls, stop, epoch))?
    };
    Ok(Acceptor { thread, stop })
}

impl Acceptor {
    /// Wakes the blocking `accept` on `addr` (its stop flag already set) and
    /// joins the thread; false, leaving the thread behind, if it neither
    /// woke nor ended within `patience`. A client connecting after the flag
    /// was set may already have woken the loop, which then dropped the
    /// listener: the wake-up is refused and the thread ends within one poll
    /// of its streams.
    fn wake_and_join(self, addr: SocketAddr, patience: Duration) -> bool {
        let started = Instant::now();
        while !self.thread.is_finished() && !wake(addr) {
            if started.elapsed() >= patience {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.thread.join();
        true
    }
}

/// Wakes a blocking `accept` on `addr` so its loop can see its stop flag;
/// false if nothing could connect.
fn wake(mut addr: SocketAddr) -> bool {
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
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
    tls: Option<Arc<rustls::ServerConfig>>,
    /// The current listener's thread; replaced by a restart.
    acceptor: Mutex<Option<Acceptor>>,
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
        let acceptor = spawn_acceptor(listener, &shared, tls_config.clone(), 0)?;
        Ok(Self {
            shared,
            addr,
            scheme: if tls { "https" } else { "http" },
            cert_pem: identity.map(|i| i.cert_pem),
            tls: tls_config,
            acceptor: Mutex::new(Some(acceptor)),
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

    /// The stored envelopes, in store order (none unless
    /// [`HecTestConfig::keep_events`]).
    pub fn events(&self) -> Vec<Value> {
        self.shared.lock().stored.clone()
    }

    /// How many envelopes are stored.
    pub fn event_count(&self) -> usize {
        self.shared.lock().stored_count
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
        self.wait_until(timeout, |s| s.stored_count >= n)
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
        let acceptor = self
            .acceptor
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        // If the accept cannot be woken, leave the thread behind rather
        // than hang the test.
        if let Some(a) = acceptor {
            a.wake_and_join(self.addr, Duration::from_secs(2));
        }
    }
}
