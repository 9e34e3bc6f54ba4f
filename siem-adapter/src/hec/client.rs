//! One HTTP Event Collector endpoint: keep-alive connections (ureq, rustls),
//! TLS verified by default, gzip bodies, and bounded retries with
//! exponential backoff and jitter for what may pass (429, 500, 502–504 —
//! 503 being Splunk's "server is busy", code 9 — and connection errors).
//! Everything else (400 invalid data, 401/403 token, 404 wrong URL, TLS
//! verification) is permanent and reported with Splunk's own text and code.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use super::{HecSettings, Token};
use crate::metrics::Metrics;

/// Why a request did not go through.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Retrying will not help; the run stops.
    #[error("{0}")]
    Permanent(String),
    /// Every retry failed.
    #[error("gave up after {attempts} attempts: {last}")]
    Exhausted {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// Splunk's reply body.
#[derive(Debug, Default, serde::Deserialize)]
struct Reply {
    #[serde(default)]
    text: String,
    #[serde(default)]
    code: Option<i64>,
    #[serde(rename = "ackId")]
    ack_id: Option<u64>,
    #[serde(default)]
    acks: std::collections::HashMap<String, bool>,
}

enum Attempt {
    Ok(Reply),
    Retry(String),
    Fatal(String),
}

/// A connection pool to one HEC.
pub struct HecClient {
    agent: ureq::Agent,
    event_url: String,
    ack_url: String,
    auth: Token,
    settings: HecSettings,
    metrics: Arc<Metrics>,
}

impl HecClient {
    /// A client for `settings`, authenticating with `token`.
    pub fn new(settings: HecSettings, token: Token, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        use ureq::tls::{Certificate, RootCerts, TlsConfig};
        let mut tls = TlsConfig::builder().disable_verification(settings.insecure);
        if let Some(ca) = &settings.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| anyhow::anyhow!("cannot read CA file {}: {e}", ca.display()))?;
            let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                anyhow::bail!("CA file {} holds no PEM certificate", ca.display());
            }
            tls = tls.root_certs(RootCerts::Specific(Arc::new(certs)));
        }
        if settings.insecure {
            tracing::warn!(
                "--hec-insecure: the collector's TLS certificate is NOT verified (labs only)"
            );
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(settings.timeout))
            .max_idle_connections_per_host(4)
            .tls_config(tls.build())
            .build()
            .into();
        let (event_url, ack_url) = endpoints(&settings.url)?;
        Ok(HecClient {
            agent,
            event_url,
            ack_url,
            auth: token,
            settings,
            metrics,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &HecSettings {
        &self.settings
    }

    /// POST envelopes (`body`: concatenated JSON objects); the ack id when acks are on.
    pub fn send_events(
        &self,
        body: &[u8],
        channel: Option<&str>,
    ) -> Result<Option<u64>, SendError> {
        let payload = if self.settings.gzip {
            let mut gz = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 4),
                flate2::Compression::fast(),
            );
            gz.write_all(body).expect("vec write");
            gz.finish().expect("vec write")
        } else {
            body.to_vec()
        };
        let reply = self
            .with_retries(|| self.post(&self.event_url, &payload, channel, self.settings.gzip))?;
        if channel.is_some() && reply.ack_id.is_none() {
            return Err(SendError::Permanent(
                "the collector answered without an ackId: indexer acknowledgement is not enabled on this token (turn it on, or drop --hec-ack)".into(),
            ));
        }
        Ok(reply.ack_id)
    }

    /// Ask which of `ids` (on `channel`) are indexed.
    pub fn poll_acks(&self, channel: &str, ids: &[u64]) -> Result<Vec<bool>, SendError> {
        let body = serde_json::to_vec(&serde_json::json!({ "acks": ids })).expect("json");
        let reply = self.with_retries(|| self.post(&self.ack_url, &body, Some(channel), false))?;
        Ok(ids
            .iter()
            .map(|id| reply.acks.get(&id.to_string()).copied().unwrap_or(false))
            .collect())
    }

    fn with_retries(&self, mut f: impl FnMut() -> Attempt) -> Result<Reply, SendError> {
        let max = self.settings.retries;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.metrics
                .hec_requests
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match f() {
                Attempt::Ok(r) => return Ok(r),
                Attempt::Fatal(e) => return Err(SendError::Permanent(e)),
                Attempt::Retry(e) if attempt > max => {
                    return Err(SendError::Exhausted {
                        attempts: attempt,
                        last: e,
                    })
                }
                Attempt::Retry(e) => {
                    let wait = backoff(&self.settings, attempt);
                    tracing::warn!(error = %e, attempt, wait_ms = wait.as_millis() as u64, "HEC request failed; retrying");
                    self.metrics
                        .hec_retries
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    std::thread::sleep(wait);
                }
            }
        }
    }

    fn post(&self, url: &str, body: &[u8], channel: Option<&str>, gzip: bool) -> Attempt {
        let mut req = self
            .agent
            .post(url)
            .header("Authorization", self.auth.header())
            .header("Content-Type", "application/json");
        if gzip {
            req = req.header("Content-Encoding", "gzip");
        }
        if let Some(c) = channel {
            req = req.header("X-Splunk-Request-Channel", c);
        }
        let mut resp = match req.send(body) {
            Ok(r) => r,
            Err(e) => return classify_transport(e),
        };
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        let reply: Reply = serde_json::from_str(&text).unwrap_or_default();
        let what = || {
            let code = reply.code.map(|c| format!(" code {c}")).unwrap_or_default();
            let msg = if reply.text.is_empty() {
                text.trim().chars().take(200).collect()
            } else {
                reply.text.clone()
            };
            format!("HTTP {status}{code}: {msg}")
        };
        match status {
            200..=299 => Attempt::Ok(reply),
            429 | 500 | 502 | 503 | 504 => Attempt::Retry(what()),
            401 | 403 => Attempt::Fatal(format!(
                "the collector refused the token ({}); check --hec-token-file or RISKSCORE_HEC_TOKEN",
                what()
            )),
            400 => Attempt::Fatal(format!("the collector refused the data ({})", what())),
            404 => Attempt::Fatal(format!("no HTTP Event Collector at {url} ({})", what())),
            _ => Attempt::Fatal(format!("unexpected answer from the collector ({})", what())),
        }
    }
}

fn classify_transport(e: ureq::Error) -> Attempt {
    match &e {
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => Attempt::Fatal(format!(
            "TLS with the collector failed: {e} (give its CA with --hec-ca-file; --hec-insecure skips verification, labs only)"
        )),
        ureq::Error::Io(io)
            if io.kind() == std::io::ErrorKind::InvalidData
                && io.to_string().contains("certificate") =>
        {
            Attempt::Fatal(format!(
                "TLS with the collector failed: {e} (give its CA with --hec-ca-file; --hec-insecure skips verification, labs only)"
            ))
        }
        ureq::Error::BadUri(_) | ureq::Error::HostNotFound => {
            Attempt::Fatal(format!("cannot reach the collector: {e}"))
        }
        _ => Attempt::Retry(format!("connection: {e}")),
    }
}

/// Exponential backoff with jitter: base·2^(attempt−1), capped, times a
/// random factor in [0.5, 1).
fn backoff(s: &HecSettings, attempt: u32) -> Duration {
    let exp = s
        .retry_base
        .saturating_mul(1u32 << (attempt - 1).min(20))
        .min(s.retry_max);
    let mut b = [0u8; 8];
    let r = getrandom::getrandom(&mut b).map_or(0.75, |_| {
        0.5 + 0.5 * (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
    });
    exp.mul_f64(r)
}

/// `https://host:8088` (or any path under it) → the event and ack endpoints.
fn endpoints(url: &str) -> anyhow::Result<(String, String)> {
    let u = url.trim_end_matches('/');
    if !(u.starts_with("http://") || u.starts_with("https://")) {
        anyhow::bail!("--hec-url must start with https:// (or http://), got `{url}`");
    }
    if let Some(rest) = u.strip_prefix("http://") {
        let loopback = ["127.0.0.1", "localhost", "[::1]"].iter().any(|h| {
            rest == *h || rest.starts_with(&format!("{h}:")) || rest.starts_with(&format!("{h}/"))
        });
        if !loopback {
            tracing::warn!(
                url = %u,
                "--hec-url is plain http: the HEC token and the events cross the network unencrypted; use https://"
            );
        }
    }
    let base = match u.find("/services/collector") {
        Some(i) => &u[..i],
        None => u,
    };
    let event = if u.contains("/services/collector") && u != base {
        u.to_string()
    } else {
        format!("{base}/services/collector/event")
    };
    Ok((event, format!("{base}/services/collector/ack")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_from_base_or_full_url() {
        assert_eq!(
            endpoints("https://splunk:8088").unwrap(),
            (
                "https://splunk:8088/services/collector/event".into(),
                "https://splunk:8088/services/collector/ack".into()
            )
        );
        assert_eq!(
            endpoints("https://s:8088/services/collector/event/1.0")
                .unwrap()
                .0,
            "https://s:8088/services/collector/event/1.0"
        );
        assert!(endpoints("splunk:8088").is_err());
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let s = HecSettings {
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_secs(2),
            ..HecSettings::default()
        };
        for a in 1..=10 {
            let d = backoff(&s, a);
            let cap = Duration::from_millis(100 * (1 << (a - 1))).min(Duration::from_secs(2));
            assert!(d >= cap / 2 && d <= cap, "attempt {a}: {d:?} vs {cap:?}");
        }
    }
}
