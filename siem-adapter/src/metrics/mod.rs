//! Run metrics in Prometheus' text exposition format (version 0.0.4), written
//! to `--metrics-file` every `--metrics-interval` and at the end — atomically
//! (temporary file + rename), so node_exporter's textfile collector or any
//! scraper never reads half a file. [`health`] adds the model-health gauges:
//! score quantiles, flagged rate, per-feature drift.

pub mod health;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::drift::WindowReport;
use crate::pipeline::Counts;
use health::{escape, ModelHealth};

/// Upper bounds (seconds) of the batch-latency histogram.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Counters of one run.
#[derive(Debug)]
pub struct Metrics {
    model: String,
    engine: String,
    read: AtomicU64,
    scored: AtomicU64,
    flagged: AtomicU64,
    errored: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    batches: AtomicU64,
    /// Sum of batch latencies, microseconds.
    latency_us: AtomicU64,
    /// HEC requests sent.
    pub hec_requests: AtomicU64,
    /// HEC retries (after 429, 503, connection errors).
    pub hec_retries: AtomicU64,
    /// Events written to the dead-letter file.
    pub dead_lettered: AtomicU64,
    /// Events confirmed delivered to HEC.
    pub delivered: AtomicU64,
    /// Score quantiles and drift.
    pub health: ModelHealth,
    file: Option<PathBuf>,
    interval: Duration,
    last: Mutex<Instant>,
}

impl Metrics {
    /// Metrics for `model` scored by `engine`, written to `file` every `interval`.
    pub fn new(model: &str, engine: &str, file: Option<PathBuf>, interval: Duration) -> Self {
        Metrics {
            model: model.to_string(),
            engine: engine.to_string(),
            read: AtomicU64::new(0),
            scored: AtomicU64::new(0),
            flagged: AtomicU64::new(0),
            errored: AtomicU64::new(0),
            buckets: Default::default(),
            batches: AtomicU64::new(0),
            latency_us: AtomicU64::new(0),
            hec_requests: AtomicU64::new(0),
            hec_retries: AtomicU64::new(0),
            dead_lettered: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            health: ModelHealth::default(),
            file,
            interval,
            last: Mutex::new(Instant::now()),
        }
    }

    /// Count a scored block.
    pub fn record_block(&self, c: &Counts, seconds: f64) {
        self.read.fetch_add(c.read, Relaxed);
        self.scored.fetch_add(c.scored, Relaxed);
        self.flagged.fetch_add(c.flagged, Relaxed);
        self.errored.fetch_add(c.errored, Relaxed);
        self.batches.fetch_add(1, Relaxed);
        self.latency_us
            .fetch_add((seconds * 1e6).round() as u64, Relaxed);
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.buckets[i].fetch_add(1, Relaxed);
            }
        }
    }

    /// Count a block's scores into the quantiles.
    pub fn record_scores(&self, scores: &[f32]) {
        self.health.record_scores(scores);
    }

    /// The latest drift report.
    pub fn set_drift(&self, r: &WindowReport) {
        self.health
            .set_drift(&r.report, r.assessment.status, r.assessment.max_psi);
    }

    /// Write the file if the interval has passed.
    pub fn maybe_flush(&self) {
        if self.file.is_none() {
            return;
        }
        let due = {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() >= self.interval {
                *last = Instant::now();
                true
            } else {
                false
            }
        };
        if due {
            if let Err(e) = self.flush() {
                tracing::warn!(error = %e, "cannot write the metrics file");
            }
        }
    }

    /// Write the file now.
    pub fn flush(&self) -> std::io::Result<()> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        if !crate::sinks::replaceable(path) {
            return std::fs::write(path, self.render());
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.render())?;
        std::fs::rename(&tmp, path)
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let labels = format!(
            "model=\"{}\",engine=\"{}\"",
            escape(&self.model),
            escape(&self.engine)
        );
        let mut s = String::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(s, "{name}{{{labels}}} {v}");
        };
        counter(
            "riskscore_events_read_total",
            "Events read (including unreadable lines).",
            self.read.load(Relaxed),
        );
        counter(
            "riskscore_events_scored_total",
            "Events scored.",
            self.scored.load(Relaxed),
        );
        counter(
            "riskscore_events_flagged_total",
            "Events with anomaly_flag=1.",
            self.flagged.load(Relaxed),
        );
        counter(
            "riskscore_events_errored_total",
            "Events written with risk_error.",
            self.errored.load(Relaxed),
        );
        counter(
            "riskscore_hec_requests_total",
            "HTTP Event Collector requests sent.",
            self.hec_requests.load(Relaxed),
        );
        counter(
            "riskscore_hec_retries_total",
            "HTTP Event Collector requests retried.",
            self.hec_retries.load(Relaxed),
        );
        counter(
            "riskscore_hec_delivered_events_total",
            "Events confirmed delivered to the HTTP Event Collector.",
            self.delivered.load(Relaxed),
        );
        counter(
            "riskscore_dead_lettered_events_total",
            "Events written to the dead-letter file.",
            self.dead_lettered.load(Relaxed),
        );
        let name = "riskscore_batch_seconds";
        let _ = writeln!(
            s,
            "# HELP {name} Time to featurize, score and render one batch.\n# TYPE {name} histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "{name}_bucket{{{labels},le=\"{b}\"}} {}",
                self.buckets[i].load(Relaxed)
            );
        }
        let n = self.batches.load(Relaxed);
        let _ = writeln!(s, "{name}_bucket{{{labels},le=\"+Inf\"}} {n}");
        let _ = writeln!(
            s,
            "{name}_sum{{{labels}}} {}",
            self.latency_us.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "{name}_count{{{labels}}} {n}");
        self.health.render(
            &mut s,
            &labels,
            self.flagged.load(Relaxed),
            self.scored.load(Relaxed),
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_counters_and_a_cumulative_histogram() {
        let m = Metrics::new("m@1", "wasm", None, Duration::from_secs(1));
        m.record_block(
            &Counts {
                read: 10,
                scored: 9,
                flagged: 2,
                errored: 1,
                ..Counts::default()
            },
            0.003,
        );
        m.record_block(&Counts::default(), 0.2);
        let t = m.render();
        assert!(t.contains("riskscore_events_read_total{model=\"m@1\",engine=\"wasm\"} 10"));
        assert!(t.contains(
            "riskscore_batch_seconds_bucket{model=\"m@1\",engine=\"wasm\",le=\"0.005\"} 1"
        ));
        assert!(t.contains(
            "riskscore_batch_seconds_bucket{model=\"m@1\",engine=\"wasm\",le=\"0.25\"} 2"
        ));
        assert!(t.contains("riskscore_batch_seconds_count{model=\"m@1\",engine=\"wasm\"} 2"));
    }
}
