//! The load generator of `bench/serve.sh`: `--clients` threads, each with its
//! own keep-alive ureq agent, POST events to a running `siem-adapter serve`
//! for `--seconds` per batch size and report requests/s, events/s and the
//! p50/p99 latency. Bounded: each phase stops at its deadline, and each
//! request times out after 30 s. Loopback only (refuses another host).
//!
//! `cargo run --release -p siem-adapter --example serve_load -- --url http://127.0.0.1:8088 --events examples/data/alerts_new.jsonl`

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The service, e.g. http://127.0.0.1:8088 (loopback only).
    #[arg(long)]
    url: String,
    /// JSON lines to take events from (lines that are not JSON objects are skipped).
    #[arg(long)]
    events: PathBuf,
    /// Client threads.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Seconds per batch size.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Events per request, one phase each (1 = a JSON object, more = an array).
    #[arg(long, value_delimiter = ',', default_value = "1,100")]
    batches: Vec<usize>,
    /// Bearer token file.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Write the events of the largest-batch phase's bodies, as many as it
    /// scored (at most --peer-max-events), to this file: the CLI peer's input.
    #[arg(long)]
    peer_events: Option<PathBuf>,
    /// Cap of --peer-events.
    #[arg(long, default_value_t = 200_000)]
    peer_max_events: usize,
}

struct Phase {
    batch: usize,
    requests: usize,
    failed: usize,
    secs: f64,
    /// Latencies, microseconds, sorted.
    micros: Vec<u64>,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1e3
}

fn run_phase(a: &Args, auth: &Option<String>, bodies: &[Vec<u8>], batch: usize) -> Phase {
    let url = format!("{}/v1/score", a.url.trim_end_matches('/'));
    let deadline = Instant::now() + Duration::from_secs_f64(a.seconds);
    let started = Instant::now();
    let results: Vec<(usize, usize, Vec<u64>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.clients)
            .map(|c| {
                let url = &url;
                s.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(30)))
                        .build()
                        .into();
                    let (mut ok, mut failed, mut micros) = (0, 0, Vec::new());
                    let mut i = c;
                    while Instant::now() < deadline {
                        let body = &bodies[i % bodies.len()];
                        i += a.clients;
                        let t = Instant::now();
                        let mut req = agent.post(url).header("Content-Type", "application/json");
                        if let Some(h) = auth {
                            req = req.header("Authorization", h);
                        }
                        let good = match req.send(&body[..]) {
                            Ok(mut r) => {
                                let status = r.status().as_u16();
                                r.body_mut().read_to_vec().is_ok() && status == 200
                            }
                            Err(_) => false,
                        };
                        micros.push(t.elapsed().as_micros() as u64);
                        if good {
                            ok += 1;
                        } else {
                            failed += 1;
                        }
                    }
                    (ok, failed, micros)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = started.elapsed().as_secs_f64();
    let mut micros: Vec<u64> = results.iter().flat_map(|r| r.2.iter().copied()).collect();
    micros.sort_unstable();
    Phase {
        batch,
        requests: results.iter().map(|r| r.0).sum(),
        failed: results.iter().map(|r| r.1).sum(),
        secs,
        micros,
    }
}

fn main() -> Result<()> {
    let a = Args::parse();
    let host = a.url.trim_start_matches("http://");
    if !(host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")) {
        bail!("--url must be a loopback address (127.0.0.0/8, localhost, [::1])");
    }
    let auth = match &a.token_file {
        Some(f) => Some(format!(
            "Bearer {}",
            std::fs::read_to_string(f).context("token file")?.trim()
        )),
        None => None,
    };
    let text = std::fs::read_to_string(&a.events).context("events file")?;
    let events: Vec<&str> = text
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Map<_, _>>(l).is_ok())
        .collect();
    if events.is_empty() {
        bail!("no events in {}", a.events.display());
    }
    let mut largest: Vec<Vec<u8>> = Vec::new();
    for &batch in &a.batches {
        // Distinct bodies: consecutive windows of the events, wrapping around.
        let n = events.len().div_ceil(batch.max(1)).clamp(1, 64);
        let bodies: Vec<Vec<u8>> = (0..n)
            .map(|k| {
                let pick = (0..batch).map(|j| events[(k * batch + j) % events.len()]);
                if batch == 1 {
                    pick.collect::<String>().into_bytes()
                } else {
                    format!("[{}]", pick.collect::<Vec<_>>().join(",")).into_bytes()
                }
            })
            .collect();
        let p = run_phase(&a, &auth, &bodies, batch);
        let rps = p.requests as f64 / p.secs;
        println!(
            "batch {:>3}: {} clients, {:.1} s: {} requests ({} failed), {:.0} requests/s, {:.0} events/s, latency p50 {:.2} ms, p99 {:.2} ms",
            p.batch, a.clients, p.secs, p.requests, p.failed, rps, rps * p.batch as f64,
            percentile(&p.micros, 0.50), percentile(&p.micros, 0.99)
        );
        println!(
            "RESULT batch={} events_per_s={:.0} requests={}",
            p.batch,
            rps * p.batch as f64,
            p.requests
        );
        if p.failed > 0 {
            bail!("{} requests failed", p.failed);
        }
        if batch == *a.batches.iter().max().unwrap() {
            // The peer scores the same bodies' events, each as often as the clients sent it.
            let count = p.requests.min(a.peer_max_events / batch.max(1)).max(1);
            largest = (0..count)
                .map(|i| bodies[i % bodies.len()].clone())
                .collect();
        }
    }
    if let Some(path) = &a.peer_events {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for body in &largest {
            let v: serde_json::Value = serde_json::from_slice(body)?;
            match v {
                serde_json::Value::Array(items) => {
                    for e in items {
                        serde_json::to_writer(&mut out, &e)?;
                        out.write_all(b"\n")?;
                    }
                }
                e => {
                    serde_json::to_writer(&mut out, &e)?;
                    out.write_all(b"\n")?;
                }
            }
        }
        out.flush()?;
    }
    Ok(())
}
