//! How a HEC test server behaves: [`HecTestConfig`], fixed once it starts.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// The token [`HecTestConfig::default`] accepts.
pub const TEST_TOKEN: &str = "00000000-1111-2222-3333-444444444444";

/// A callback that sees every envelope as it enters the store.
pub type OnStore = Arc<dyn Fn(&Value) + Send + Sync>;

/// How a [`HecTestServer`](super::HecTestServer) behaves; fixed once it starts.
///
/// Defaults: one valid token [`TEST_TOKEN`], acknowledgement off, acks true
/// on the first poll, every index allowed, bodies up to 800 MiB (Splunk's
/// default `max_content_length`), stored envelopes kept, no request log.
#[derive(Clone)]
pub struct HecTestConfig {
    pub(super) tokens: Vec<String>,
    pub(super) disabled_tokens: Vec<String>,
    pub(super) acks: bool,
    pub(super) ack_after_polls: u32,
    pub(super) allowed_indexes: Option<Vec<String>>,
    pub(super) max_content_length: usize,
    pub(super) keep_events: bool,
    pub(super) log_requests: bool,
    pub(super) on_store: Option<OnStore>,
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
            .field("keep_events", &self.keep_events)
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
            keep_events: true,
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
    /// 0: true on the first poll). [`HecTestServer::ack_after_polls`](super::HecTestServer::ack_after_polls) changes
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

    /// Keeps stored envelopes in memory for [`HecTestServer::events`](super::HecTestServer::events)
    /// (default on). Off, the server only counts them
    /// ([`HecTestServer::event_count`](super::HecTestServer::event_count)) and passes each to
    /// [`on_store`](Self::on_store): for runs of millions of events.
    pub fn keep_events(mut self, on: bool) -> Self {
        self.keep_events = on;
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
