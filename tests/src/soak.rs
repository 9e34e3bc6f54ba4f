//! A soak run of `siem-adapter score --hec-url` under faults, bounded in
//! time and only on 127.0.0.1.
//!
//! [`run`] writes N alerts with unique `event_id`s (the shipped example
//! alerts, cycled, so the shipped `threat_rf` model scores them), starts the
//! [HEC test server](crate::hec_server) in-process, and runs the adapter
//! binary with `--checkpoint` (and `--hec-ack` if asked) against it. Meanwhile
//! a seeded ChaCha8 RNG arms faults on a random schedule — 503 bursts, 429s,
//! connections reset mid-body, requests dropped without a response, stalls,
//! lost acks (with acks) and server restarts; each kind once first, in a
//! shuffled order, then at random, one every few event POSTs so that a
//! retried request is not faulted forever — and SIGKILLs the adapter when
//! the store reaches random points of the run (2–80 % of the events, plus
//! 0–50 ms), re-running it from its checkpoint until it exits 0. A run that
//! exits non-zero on its own is re-run too (and counted). The server counts every stored envelope by `event_id`
//! without keeping it, and the [`SoakReport`] says how many events were sent,
//! stored (distinct), stored again (duplicates) and never stored (lost).
//!
//! A run fails if any event is lost, the adapter never finishes, or the
//! deadline passes (the adapter is then killed). Duplicates are reported,
//! not failed: delivery is at least once (see `siem-adapter/src/hec/mod.rs`).
//! The `hec-soak` binary and `bench/soak.sh` drive it.

mod faults;
mod report;

use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use crate::hec_server::{HecTestConfig, HecTestServer, TEST_TOKEN};
use crate::repo;
pub use faults::FaultKind;
pub use report::{FaultCount, SoakReport};

/// What a soak run does. [`Default`] gives 1,000,000 events, seed 1, no acks,
/// 10 kills, 1,800 s, `target/release/siem-adapter`, all fault kinds, the
/// native engine, 1,000 events per request. The adapter always runs with
/// `--hec-retries 12 --hec-retry-base-ms 5 --hec-retry-max-ms 200
/// --hec-timeout-secs 2 --drift off`, and with acks `--hec-ack-interval-ms 20
/// --hec-ack-timeout-secs 2 --hec-max-pending 8`.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    /// Events in the input, each with a unique `event_id` 0..events.
    pub events: u64,
    /// Seeds the fault schedule, the kill points and the restart downtimes.
    pub seed: u64,
    /// Run the adapter with `--hec-ack` against a server with acks on.
    pub acks: bool,
    /// The `siem-adapter` binary.
    pub adapter: PathBuf,
    /// SIGKILLs, at random points of the run (by events stored).
    pub kills: u32,
    /// The deadline: past it the adapter is killed and the run fails.
    pub max_seconds: f64,
    /// Where the input, checkpoint and adapter log go (default: a new folder
    /// under the system temporary folder, removed afterwards unless `keep`).
    pub work_dir: Option<PathBuf>,
    /// Keep the work folder.
    pub keep: bool,
    /// `--engine` of the adapter.
    pub engine: String,
    /// `--hec-batch-events` of the adapter.
    pub batch_events: usize,
    /// Fault kinds armed (lost acks only with `acks`).
    pub fault_kinds: Vec<FaultKind>,
    /// Before each fault, at least this many event POSTs (drawn from the
    /// range) reach the server since the last one: faults come with the
    /// traffic, so a retried request is not faulted forever.
    pub fault_gap_requests: (u64, u64),
    /// …and at least this many milliseconds (drawn from the range) pass.
    pub fault_gap_ms: (u64, u64),
    /// The longest stall, milliseconds (the adapter's request time bound is
    /// `--hec-timeout-secs 2`, so longer stalls also time requests out).
    pub stall_max_ms: u64,
    /// The longest downtime of a restart, milliseconds.
    pub restart_down_max_ms: u64,
    /// More adapter arguments (e.g. `-vv`), after the soak's own.
    pub extra_args: Vec<String>,
    /// The server logs every request to stderr.
    pub server_log: bool,
}

impl Default for SoakOptions {
    fn default() -> Self {
        Self {
            events: 1_000_000,
            seed: 1,
            acks: false,
            adapter: repo().join("target/release/siem-adapter"),
            kills: 10,
            max_seconds: 1800.0,
            work_dir: None,
            keep: false,
            engine: "native".into(),
            batch_events: 1000,
            fault_kinds: FaultKind::ALL.to_vec(),
            fault_gap_requests: (3, 10),
            fault_gap_ms: (50, 300),
            stall_max_ms: 3000,
            restart_down_max_ms: 300,
            extra_args: Vec::new(),
            server_log: false,
        }
    }
}

/// Writes `n` alerts as JSON lines to `path`: the valid lines of the shipped
/// `examples/data/alerts_new.jsonl`, cycled, each with `event_id` = its line
/// number from 0.
pub fn write_input(path: &Path, n: u64) -> Result<()> {
    let examples = repo().join("examples/data/alerts_new.jsonl");
    let text = std::fs::read_to_string(&examples)
        .with_context(|| format!("cannot read {}", examples.display()))?;
    let valid: Vec<Map<String, Value>> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if valid.is_empty() {
        bail!("no valid alert in {}", examples.display());
    }
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    for i in 0..n {
        let mut e = valid[(i % valid.len() as u64) as usize].clone();
        e.insert("event_id".into(), i.into());
        serde_json::to_writer(&mut out, &e)?;
        out.write_all(b"\n")?;
    }
    out.into_inner()?.sync_all()?;
    Ok(())
}

/// Stored copies per `event_id`, filled by the server's `on_store` callback.
struct Tally {
    copies: Mutex<Vec<u32>>,
    distinct: AtomicU64,
    total: AtomicU64,
    foreign: AtomicU64,
}

impl Tally {
    fn new(n: u64) -> Self {
        Self {
            copies: Mutex::new(vec![0; n as usize]),
            distinct: AtomicU64::new(0),
            total: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
        }
    }

    fn count(&self, envelope: &Value) {
        let mut copies = self.copies.lock().unwrap_or_else(|e| e.into_inner());
        match envelope["event"]["event_id"].as_u64() {
            Some(id) if id < copies.len() as u64 => {
                let c = &mut copies[id as usize];
                if *c == 0 {
                    self.distinct.fetch_add(1, Relaxed);
                }
                *c = c.saturating_add(1);
                self.total.fetch_add(1, Relaxed);
            }
            _ => {
                self.foreign.fetch_add(1, Relaxed);
            }
        }
    }
}

/// How one adapter run ended.
enum Outcome {
    Exited(ExitStatus),
    Killed,
    Deadline,
}

/// Runs a soak as `opts` says; an error only if the run cannot be set up
/// (a failed soak is a report with [`SoakReport::passed`] false).
pub fn run(opts: &SoakOptions) -> Result<SoakReport> {
    if !opts.adapter.is_file() {
        bail!(
            "no siem-adapter binary at {} (build it: cargo build --release -p siem-adapter)",
            opts.adapter.display()
        );
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(opts.max_seconds.max(0.0));
    let (dir, temporary) = match &opts.work_dir {
        Some(d) => (d.clone(), false),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let name = format!("hec-soak-{}-{}-{nanos}", std::process::id(), opts.seed);
            (std::env::temp_dir().join(name), true)
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let input = dir.join("alerts.jsonl");
    let checkpoint = dir.join("checkpoint.json");
    let log = dir.join("adapter.log");
    for stale in [&checkpoint, &log] {
        let _ = std::fs::remove_file(stale);
    }
    write_input(&input, opts.events)?;
    let token = dir.join("hec.token");
    std::fs::write(&token, format!("{TEST_TOKEN}\n"))?;

    let tally = Arc::new(Tally::new(opts.events));
    let config = {
        let tally = tally.clone();
        HecTestConfig::default()
            .acks(opts.acks)
            .keep_events(false)
            .log_requests(opts.server_log)
            .on_store(move |e| tally.count(e))
    };
    let server = HecTestServer::start(config)?;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let fault_rng = ChaCha8Rng::seed_from_u64(rng.gen());
    let mut kill_points: VecDeque<u64> = {
        let (lo, hi) = (opts.events / 50, (opts.events * 4 / 5).max(1));
        let mut p: Vec<u64> = (0..opts.kills).map(|_| rng.gen_range(lo..hi)).collect();
        p.sort_unstable();
        p.into()
    };
    let args = adapter_args(opts, &input, &checkpoint, &token, &server.url(), &dir);
    let done = AtomicBool::new(false);
    let armed = Mutex::new(BTreeMap::new());
    let mut report = SoakReport::new(opts, &args);

    thread::scope(|s| -> Result<()> {
        let fault_thread = s.spawn(|| faults::arm(&server, opts, fault_rng, &done, &armed));
        let result = (|| -> Result<()> {
            loop {
                report.runs += 1;
                let child = spawn(&opts.adapter, &args, &log)?;
                match supervise(child, &tally, &mut kill_points, &mut rng, deadline)? {
                    Outcome::Exited(st) if st.success() => {
                        report.completed = true;
                        return Ok(());
                    }
                    Outcome::Exited(st) => {
                        *report.exits.entry(st.code().unwrap_or(-1)).or_default() += 1;
                        report.adapter_failures += 1;
                        if report.adapter_failures > 100 {
                            return Ok(());
                        }
                        thread::sleep(Duration::from_millis(100));
                    }
                    Outcome::Killed => report.kills += 1,
                    Outcome::Deadline => {
                        report.deadline_passed = true;
                        return Ok(());
                    }
                }
            }
        })();
        done.store(true, Relaxed);
        fault_thread.join().expect("fault thread")?;
        result
    })?;
    // Let requests the faults held finish (or not) before counting.
    server.resume();
    server.delay(Duration::ZERO);
    thread::sleep(Duration::from_millis(300));

    report.wall_seconds = started.elapsed().as_secs_f64();
    report.faults = armed.into_inner().unwrap_or_else(|e| e.into_inner());
    report.count(&tally, &server.requests(), opts.events);
    report.tally_foreign = tally.foreign.load(Relaxed);
    report.checkpoint = std::fs::read_to_string(&checkpoint)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .map(|cp| (cp["settled"].as_u64().unwrap_or(0), cp["complete"] == true));
    report.last_log_lines = last_lines(&log, 5);
    drop(server);
    if temporary && !opts.keep {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        report.work_dir = Some(dir);
    }
    Ok(report)
}

/// The adapter's arguments after the binary.
fn adapter_args(
    opts: &SoakOptions,
    input: &Path,
    checkpoint: &Path,
    token: &Path,
    url: &str,
    dir: &Path,
) -> Vec<String> {
    let path = |p: &Path| p.display().to_string();
    let models = repo().join("examples");
    let mut a: Vec<String> = vec![
        "score".into(),
        "--model".into(),
        path(&models.join("models/threat_rf.json")),
        "--trusted-key".into(),
        path(&models.join("keys/dev-signing.pub")),
        "--engine".into(),
        opts.engine.clone(),
        "--cache-dir".into(),
        path(&dir.join("module-cache")),
        "--drift".into(),
        "off".into(),
        "--input".into(),
        path(input),
        "--checkpoint".into(),
        path(checkpoint),
        "--hec-url".into(),
        url.into(),
        "--hec-token-file".into(),
        path(token),
    ];
    let fixed = [
        ("--hec-batch-events", opts.batch_events.to_string()),
        ("--hec-retries", "12".into()),
        ("--hec-retry-base-ms", "5".into()),
        ("--hec-retry-max-ms", "200".into()),
        ("--hec-timeout-secs", "2".into()),
    ];
    for (k, v) in fixed {
        a.extend([k.to_string(), v]);
    }
    if opts.acks {
        a.push("--hec-ack".into());
        for (k, v) in [
            ("--hec-ack-interval-ms", "20"),
            ("--hec-ack-timeout-secs", "2"),
            ("--hec-max-pending", "8"),
        ] {
            a.extend([k.to_string(), v.to_string()]);
        }
    }
    a.extend(opts.extra_args.iter().cloned());
    a
}

fn spawn(adapter: &Path, args: &[String], log: &Path) -> Result<Child> {
    let log = OpenOptions::new().create(true).append(true).open(log)?;
    Command::new(adapter)
        .args(args)
        .env_remove("RISKSCORE_HEC_TOKEN")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot run {}", adapter.display()))
}

/// Waits for the adapter to exit; SIGKILLs it (after a random 0–50 ms) once
/// the store reaches the next kill point, or at the deadline.
fn supervise(
    mut child: Child,
    tally: &Tally,
    kill_points: &mut VecDeque<u64>,
    rng: &mut ChaCha8Rng,
    deadline: Instant,
) -> Result<Outcome> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Outcome::Exited(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(Outcome::Deadline);
        }
        if kill_points
            .front()
            .is_some_and(|&p| tally.distinct.load(Relaxed) >= p)
        {
            kill_points.pop_front();
            thread::sleep(Duration::from_millis(rng.gen_range(0..=50)));
            if let Some(status) = child.try_wait()? {
                return Ok(Outcome::Exited(status));
            }
            child.kill()?; // SIGKILL: nothing of the adapter's runs after it
            child.wait()?;
            return Ok(Outcome::Killed);
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// The last `n` lines of the file at `path`, without terminal colours.
fn last_lines(path: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| strip_ansi(l))
        .collect()
}

/// `line` without ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
