//! The service's metrics, served at `GET /metrics` in Prometheus' text
//! exposition format (version 0.0.4): requests by route and status code, a
//! request-latency histogram per route, events scored / flagged / errored,
//! the model in service (an info gauge labelled with its id), reloads and
//! reload failures, and the time of the last successful load.
//!
//! Extension point: [`ServeMetrics::add_extra_exposition`] registers a
//! function that appends more metric families (e.g. per-feature drift
//! gauges) to every exposition, after the built-in ones, given the model in
//! service at that moment.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use super::body::Counts;
use super::models::Model;

/// Upper bounds (seconds) of the request-latency histogram.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Routes, as metric labels (anything else counts as `other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    /// `POST /v1/score`.
    Score,
    /// `GET /healthz`.
    Healthz,
    /// `GET /metrics`.
    Metrics,
    /// Any other path (404, 405).
    Other,
}

impl Route {
    /// The route of a request path.
    pub fn of(path: &str) -> Route {
        match path {
            "/v1/score" => Route::Score,
            "/healthz" => Route::Healthz,
            "/metrics" => Route::Metrics,
            _ => Route::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Route::Score => "/v1/score",
            Route::Healthz => "/healthz",
            Route::Metrics => "/metrics",
            Route::Other => "other",
        }
    }

    const ALL: [Route; 4] = [Route::Score, Route::Healthz, Route::Metrics, Route::Other];
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

/// A function appending metric families to the exposition (see the module doc).
pub type ExtraExposition = Box<dyn Fn(&Model, &mut String) + Send + Sync>;

/// The counters of one service process.
#[derive(Default)]
pub struct ServeMetrics {
    requests: Mutex<BTreeMap<(Route, u16), u64>>,
    latency: [Histogram; Route::ALL.len()],
    scored: AtomicU64,
    flagged: AtomicU64,
    errored: AtomicU64,
    reloads: AtomicU64,
    reload_failures: AtomicU64,
    last_load_ms: AtomicU64,
    last_failure_ms: AtomicU64,
    extras: RwLock<Vec<ExtraExposition>>,
}

/// Gauges read from the service's state when the exposition is written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Load {
    /// Scoring requests admitted (scoring or waiting for an engine).
    pub admitted: usize,
    /// Scoring requests holding an engine.
    pub busy: usize,
    /// Engines per model.
    pub engines: usize,
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl ServeMetrics {
    /// Empty counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Count a finished request.
    pub fn record_request(&self, route: Route, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((route, status))
            .or_default() += 1;
        let h = &self.latency[route as usize];
        h.count.fetch_add(1, Relaxed);
        h.sum_us.fetch_add((seconds * 1e6).round() as u64, Relaxed);
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.buckets[i].fetch_add(1, Relaxed);
            }
        }
    }

    /// Count a scored request's events.
    pub fn record_events(&self, c: &Counts) {
        self.scored.fetch_add(c.scored, Relaxed);
        self.flagged.fetch_add(c.flagged, Relaxed);
        self.errored.fetch_add(c.errored, Relaxed);
    }

    /// A model was loaded at `at` (`reload`: replacing another).
    pub fn record_load(&self, at: SystemTime, reload: bool) {
        if reload {
            self.reloads.fetch_add(1, Relaxed);
        }
        self.last_load_ms.store(unix_ms(at), Relaxed);
    }

    /// A reload was refused; the old model keeps serving.
    pub fn record_reload_failure(&self) {
        self.reload_failures.fetch_add(1, Relaxed);
        self.last_failure_ms
            .store(unix_ms(SystemTime::now()), Relaxed);
    }

    /// Successful reloads since start.
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Relaxed)
    }

    /// Refused reloads since start.
    pub fn reload_failures(&self) -> u64 {
        self.reload_failures.load(Relaxed)
    }

    /// Register `f` to append metric families to every exposition.
    pub fn add_extra_exposition(&self, f: ExtraExposition) {
        self.extras
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(f);
    }

    /// The text exposition, with `model` in service.
    pub fn render(&self, model: &Model, load: Load) -> String {
        let mut s = String::with_capacity(4096);
        family(
            &mut s,
            "riskscore_serve_requests_total",
            "counter",
            "HTTP requests answered, by route and status code.",
        );
        for ((route, code), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                s,
                "riskscore_serve_requests_total{{route=\"{}\",code=\"{code}\"}} {n}",
                route.label()
            );
        }
        self.render_latency(&mut s);
        for (name, help, v) in [
            (
                "riskscore_serve_events_scored_total",
                "Events scored.",
                &self.scored,
            ),
            (
                "riskscore_serve_events_flagged_total",
                "Events scored with anomaly_flag=1.",
                &self.flagged,
            ),
            (
                "riskscore_serve_events_errored_total",
                "Events answered with risk_error.",
                &self.errored,
            ),
            (
                "riskscore_serve_model_reloads_total",
                "Models replaced without a restart.",
                &self.reloads,
            ),
            (
                "riskscore_serve_model_reload_failures_total",
                "Reloads refused (the old model kept serving).",
                &self.reload_failures,
            ),
        ] {
            family(&mut s, name, "counter", help);
            let _ = writeln!(s, "{name} {}", v.load(Relaxed));
        }
        let id = escape(&model.id);
        family(
            &mut s,
            "riskscore_serve_model_info",
            "gauge",
            "The model in service (value 1).",
        );
        let _ = writeln!(
            s,
            "riskscore_serve_model_info{{model=\"{id}\",engine=\"{}\",sha256=\"{}\"}} 1",
            model.engine, model.sha256
        );
        for (name, help, ms) in [
            (
                "riskscore_serve_model_last_reload_timestamp_seconds",
                "Unix time of the last successful model load (start or reload).",
                &self.last_load_ms,
            ),
            (
                "riskscore_serve_model_last_reload_failure_timestamp_seconds",
                "Unix time of the last refused reload (0: none).",
                &self.last_failure_ms,
            ),
        ] {
            family(&mut s, name, "gauge", help);
            let _ = writeln!(s, "{name} {}", ms.load(Relaxed) as f64 / 1e3);
        }
        for (name, help, v) in [
            (
                "riskscore_serve_engines",
                "Engines per model (requests scored at once).",
                load.engines,
            ),
            (
                "riskscore_serve_requests_busy",
                "Scoring requests holding an engine.",
                load.busy,
            ),
            (
                "riskscore_serve_requests_admitted",
                "Scoring requests admitted (scoring or waiting for an engine).",
                load.admitted,
            ),
        ] {
            family(&mut s, name, "gauge", help);
            let _ = writeln!(s, "{name} {v}");
        }
        for extra in self.extras.read().unwrap_or_else(|e| e.into_inner()).iter() {
            extra(model, &mut s);
        }
        s
    }

    fn render_latency(&self, s: &mut String) {
        let name = "riskscore_serve_request_seconds";
        family(
            s,
            name,
            "histogram",
            "Time from a request's arrival to its answer, by route.",
        );
        for route in Route::ALL {
            let h = &self.latency[route as usize];
            let n = h.count.load(Relaxed);
            if n == 0 {
                continue;
            }
            let r = route.label();
            for (i, b) in BUCKETS.iter().enumerate() {
                let c = h.buckets[i].load(Relaxed);
                let _ = writeln!(s, "{name}_bucket{{route=\"{r}\",le=\"{b}\"}} {c}");
            }
            let _ = writeln!(s, "{name}_bucket{{route=\"{r}\",le=\"+Inf\"}} {n}");
            let sum = h.sum_us.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(s, "{name}_sum{{route=\"{r}\"}} {sum}");
            let _ = writeln!(s, "{name}_count{{route=\"{r}\"}} {n}");
        }
    }
}

pub use crate::metrics::health::escape;

fn family(s: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_requests_latency_events_and_extras() {
        let m = ServeMetrics::new();
        m.record_request(Route::Score, 200, 0.003);
        m.record_request(Route::Score, 200, 0.2);
        m.record_request(Route::of("/nope"), 404, 0.0001);
        m.record_events(&Counts {
            scored: 3,
            flagged: 1,
            errored: 1,
        });
        m.record_reload_failure();
        m.add_extra_exposition(Box::new(|model, s| {
            s.push_str(&format!(
                "riskscore_drift_psi{{model=\"{}\"}} 0\n",
                model.id
            ))
        }));
        let t = m.render(&Model::stub("m@1"), Load::default());
        assert!(t.contains("riskscore_serve_requests_total{route=\"/v1/score\",code=\"200\"} 2"));
        assert!(t.contains("riskscore_serve_requests_total{route=\"other\",code=\"404\"} 1"));
        assert!(t.contains(
            "riskscore_serve_request_seconds_bucket{route=\"/v1/score\",le=\"0.005\"} 1"
        ));
        assert!(
            t.contains("riskscore_serve_request_seconds_bucket{route=\"/v1/score\",le=\"+Inf\"} 2")
        );
        assert!(t.contains("riskscore_serve_events_scored_total 3"));
        assert!(t.contains("riskscore_serve_model_reload_failures_total 1"));
        assert!(t.contains("riskscore_serve_model_info{model=\"m@1\",engine=\"native\""));
        assert!(t.ends_with("riskscore_drift_psi{model=\"m@1\"} 0\n"));
    }
}
