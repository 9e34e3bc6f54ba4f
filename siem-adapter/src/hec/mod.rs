//! Write-back to Splunk's HTTP Event Collector (HEC).
//!
//! - [`client`]: one endpoint, keep-alive, TLS, gzip, retries.
//! - [`sink`]: batching by count and bytes, indexer acknowledgement,
//!   dead-letter file, checkpoints.
//! - [`checkpoint`]: what a killed run needs to resume.
//!
//! Delivery is **at least once**. With `--hec-ack`, an event counts as
//! delivered only when the indexer acknowledges it. Before each request is
//! sent, the checkpoint records its event range under the ack id the
//! collector will give it (ack ids count up per channel); after the reply,
//! under the id it got. A run killed at any moment and re-run with the same
//! checkpoint first asks the collector about those ids (waiting up to
//! `--hec-ack-timeout-secs`) and skips what was indexed, so it neither loses
//! nor repeats events. Duplicates remain possible only when the collector
//! forgets an ack (it reports an id true once; a kill between reading that
//! answer and writing the checkpoint), when an ack never comes in time, or
//! when ack ids are not what the adapter expected (a connection dropped
//! after the collector took a request).
//! A collector restart forgets channels and starts their ack ids again from
//! 0, so an old request's id can come to name a new one: when a reply's ack
//! id is lower than expected, every request still waiting for its ack is
//! sent again, never confirmed by a reused id (found by the fault-injection
//! soak, `tests/tests/soak.rs`; more duplicates, no loss).
//! Without acks, "delivered" means HTTP 200: a run killed while a request is
//! in flight sends that request again on resume (at most one request's
//! events repeated), and Splunk may still lose events it accepted if an
//! indexer fails before writing them.
//!
//! The token comes from a file (`--hec-token-file`) or the environment
//! (`RISKSCORE_HEC_TOKEN`), never from the command line, and is never logged.

pub mod checkpoint;
pub mod client;
pub mod sink;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// Environment variable holding the HEC token.
pub const TOKEN_ENV: &str = "RISKSCORE_HEC_TOKEN";

/// A HEC token; its `Debug` hides it.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// Read from `file`, else from `RISKSCORE_HEC_TOKEN`.
    pub fn load(file: Option<&std::path::Path>) -> Result<Token> {
        let raw = match file {
            Some(f) => std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the HEC token file {}", f.display()))?,
            None => match std::env::var(TOKEN_ENV) {
                Ok(t) => t,
                Err(_) => bail!(
                    "--hec-url needs a token: --hec-token-file FILE or the {TOKEN_ENV} environment variable"
                ),
            },
        };
        let t = raw.trim();
        if t.is_empty() || t.contains(char::is_whitespace) {
            bail!("the HEC token is empty or has spaces in it");
        }
        Ok(Token(t.to_string()))
    }

    /// A token given directly (tests).
    pub fn new(t: &str) -> Token {
        Token(t.to_string())
    }

    pub(crate) fn header(&self) -> String {
        format!("Splunk {}", self.0)
    }
}

/// Write-back options of `score` (and `replay`).
#[derive(Debug, Clone, clap::Args)]
pub struct HecArgs {
    /// Send scored events to this HTTP Event Collector (`https://splunk:8088`).
    #[arg(long)]
    pub hec_url: Option<String>,
    /// File holding the HEC token (else the RISKSCORE_HEC_TOKEN environment variable).
    #[arg(long)]
    pub hec_token_file: Option<PathBuf>,
    /// PEM file of the CA that signed the collector's certificate.
    #[arg(long)]
    pub hec_ca_file: Option<PathBuf>,
    /// Do not verify the collector's TLS certificate (labs only).
    #[arg(long)]
    pub hec_insecure: bool,
    /// Events per request, at most.
    #[arg(long, default_value_t = 1000)]
    pub hec_batch_events: usize,
    /// Bytes per request (before compression), at most.
    #[arg(long, default_value_t = 1 << 20)]
    pub hec_batch_bytes: usize,
    /// Send request bodies uncompressed.
    #[arg(long)]
    pub hec_no_gzip: bool,
    /// Use indexer acknowledgement (the token must have it enabled).
    #[arg(long)]
    pub hec_ack: bool,
    /// How often outstanding acks are polled, milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub hec_ack_interval_ms: u64,
    /// Resend a request whose ack has not come after this many seconds.
    #[arg(long, default_value_t = 300.0)]
    pub hec_ack_timeout_secs: f64,
    /// Requests awaiting their ack, at most.
    #[arg(long, default_value_t = 16)]
    pub hec_max_pending: usize,
    /// Retries of a request after 429, 5xx or a connection error.
    #[arg(long, default_value_t = 8)]
    pub hec_retries: u32,
    /// First retry delay, milliseconds (doubles each time, with jitter).
    #[arg(long, default_value_t = 500)]
    pub hec_retry_base_ms: u64,
    /// Longest retry delay, milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub hec_retry_max_ms: u64,
    /// Time bound of one request, seconds.
    #[arg(long, default_value_t = 60.0)]
    pub hec_timeout_secs: f64,
    /// `host` of sent events (default: the event's own).
    #[arg(long)]
    pub hec_host: Option<String>,
    /// `source` of sent events (default: the event's own).
    #[arg(long)]
    pub hec_source: Option<String>,
    /// `sourcetype` of sent events (default: the event's own).
    #[arg(long)]
    pub hec_sourcetype: Option<String>,
    /// `index` of sent events (default: the event's own).
    #[arg(long)]
    pub hec_index: Option<String>,
    /// Requests that cannot be delivered after every retry go here (JSON lines of
    /// HEC envelopes; send them again with `siem-adapter replay`). Without it, the run stops.
    #[arg(long)]
    pub dead_letter: Option<PathBuf>,
    /// Resume file: a killed run re-run with the same file neither loses nor repeats events.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
}

/// Connection and delivery settings.
#[derive(Debug, Clone)]
pub struct HecSettings {
    /// Base or full collector URL.
    pub url: String,
    /// CA file.
    pub ca_file: Option<PathBuf>,
    /// Skip TLS verification.
    pub insecure: bool,
    /// Gzip bodies.
    pub gzip: bool,
    /// Events per request.
    pub batch_events: usize,
    /// Bytes per request.
    pub batch_bytes: usize,
    /// Indexer acknowledgement.
    pub ack: bool,
    /// Ack poll interval.
    pub ack_interval: Duration,
    /// Resend after.
    pub ack_timeout: Duration,
    /// Outstanding requests.
    pub max_pending: usize,
    /// Retries.
    pub retries: u32,
    /// First retry delay.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Request time bound.
    pub timeout: Duration,
}

impl Default for HecSettings {
    fn default() -> Self {
        HecSettings {
            url: String::new(),
            ca_file: None,
            insecure: false,
            gzip: true,
            batch_events: 1000,
            batch_bytes: 1 << 20,
            ack: false,
            ack_interval: Duration::from_secs(1),
            ack_timeout: Duration::from_secs(300),
            max_pending: 16,
            retries: 8,
            retry_base: Duration::from_millis(500),
            retry_max: Duration::from_secs(30),
            timeout: Duration::from_secs(60),
        }
    }
}

impl HecArgs {
    /// The settings, when `--hec-url` is given.
    pub fn settings(&self) -> Option<HecSettings> {
        let url = self.hec_url.clone()?;
        Some(HecSettings {
            url,
            ca_file: self.hec_ca_file.clone(),
            insecure: self.hec_insecure,
            gzip: !self.hec_no_gzip,
            batch_events: self.hec_batch_events.max(1),
            batch_bytes: self.hec_batch_bytes.max(1),
            ack: self.hec_ack,
            ack_interval: Duration::from_millis(self.hec_ack_interval_ms.max(1)),
            ack_timeout: Duration::from_secs_f64(self.hec_ack_timeout_secs.max(0.001)),
            max_pending: self.hec_max_pending.max(1),
            retries: self.hec_retries,
            retry_base: Duration::from_millis(self.hec_retry_base_ms),
            retry_max: Duration::from_millis(self.hec_retry_max_ms.max(self.hec_retry_base_ms)),
            timeout: Duration::from_secs_f64(self.hec_timeout_secs.max(0.001)),
        })
    }

    /// The envelope's fixed fields.
    pub fn envelope(&self) -> crate::render::Envelope {
        crate::render::Envelope {
            host: self.hec_host.clone(),
            source: self.hec_source.clone(),
            sourcetype: self.hec_sourcetype.clone(),
            index: self.hec_index.clone(),
        }
    }
}

/// A fresh channel id (a random GUID, as Splunk requires).
pub fn new_channel() -> String {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).expect("the OS random source");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
