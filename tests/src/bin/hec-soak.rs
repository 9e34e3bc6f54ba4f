//! `hec-soak`: a soak run of `siem-adapter score --hec-url` against the HEC
//! **test server** (not Splunk) on 127.0.0.1, under injected faults (503
//! bursts, 429s, connection resets mid-body, dropped responses, stalls, lost
//! acks, server restarts) and SIGKILLs of the adapter, which resumes from its
//! checkpoint each time. Prints one JSON report line on stdout and a summary
//! on stderr; exits 1 if an event was lost, the adapter never finished or the
//! deadline passed, 2 if the run could not be set up.
//!
//! ```sh
//! cargo build --release -p siem-adapter -p riskscore-tests
//! target/release/hec-soak --events 1000000 --acks --kills 10 --report out/soak-acks.json
//! ```

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;
use riskscore_tests::soak::{self, FaultKind, SoakOptions};

/// Soak `siem-adapter score --hec-url` under faults and SIGKILLs; count sent,
/// stored, duplicated and lost events.
#[derive(Debug, Parser)]
#[command(name = "hec-soak", version)]
struct Args {
    /// Events in the input (unique `event_id`s).
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Seed of the fault schedule, kill points and downtimes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Indexer acknowledgement (`--hec-ack`, server with acks on).
    #[arg(long)]
    acks: bool,
    /// The siem-adapter binary (default: target/release/siem-adapter of this repository).
    #[arg(long)]
    adapter: Option<PathBuf>,
    /// SIGKILLs of the adapter, at random points of the run.
    #[arg(long, default_value_t = 10)]
    kills: u32,
    /// Deadline of the whole run, seconds; past it the run fails.
    #[arg(long, default_value_t = 1800.0)]
    max_seconds: f64,
    /// Also write the JSON report to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Work folder for the input, checkpoint and adapter log (default: a
    /// temporary one, removed afterwards unless --keep).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Keep the temporary work folder.
    #[arg(long)]
    keep: bool,
    /// The adapter's scoring engine (`native` or `wasm`).
    #[arg(long, default_value = "native")]
    engine: String,
    /// Events per HEC request (`--hec-batch-events`).
    #[arg(long, default_value_t = 1000)]
    batch_events: usize,
    /// Fault kinds, comma-separated (default all): busy_503, too_many_429,
    /// reset_mid_body, drop_no_response, stall, lost_ack, restart; `none` for none.
    #[arg(long, value_delimiter = ',')]
    faults: Vec<String>,
    /// Fewest event POSTs the server receives between two faults.
    #[arg(long, default_value_t = 3)]
    fault_gap_min_requests: u64,
    /// Most event POSTs the server receives between two faults.
    #[arg(long, default_value_t = 10)]
    fault_gap_max_requests: u64,
    /// Shortest pause between two faults, milliseconds.
    #[arg(long, default_value_t = 50)]
    fault_gap_min_ms: u64,
    /// Longest pause between two faults, milliseconds.
    #[arg(long, default_value_t = 300)]
    fault_gap_max_ms: u64,
    /// Longest stall, milliseconds.
    #[arg(long, default_value_t = 3000)]
    stall_max_ms: u64,
    /// Longest downtime of a restart, milliseconds.
    #[arg(long, default_value_t = 300)]
    restart_down_max_ms: u64,
    /// One more adapter argument (repeatable), e.g. `--adapter-arg=-vv`.
    #[arg(long, allow_hyphen_values = true)]
    adapter_arg: Vec<String>,
    /// The test server logs every request to stderr.
    #[arg(long)]
    server_log: bool,
}

fn options(a: Args) -> Result<(SoakOptions, Option<PathBuf>)> {
    let mut o = SoakOptions {
        events: a.events,
        seed: a.seed,
        acks: a.acks,
        kills: a.kills,
        max_seconds: a.max_seconds,
        work_dir: a.work_dir,
        keep: a.keep,
        engine: a.engine,
        batch_events: a.batch_events,
        fault_gap_requests: (a.fault_gap_min_requests, a.fault_gap_max_requests),
        fault_gap_ms: (a.fault_gap_min_ms, a.fault_gap_max_ms),
        stall_max_ms: a.stall_max_ms,
        restart_down_max_ms: a.restart_down_max_ms,
        extra_args: a.adapter_arg,
        server_log: a.server_log,
        ..SoakOptions::default()
    };
    if let Some(adapter) = a.adapter {
        o.adapter = adapter;
    }
    if !a.faults.is_empty() {
        o.fault_kinds = Vec::new();
        for name in a.faults.iter().filter(|n| n.as_str() != "none") {
            match FaultKind::from_name(name.trim()) {
                Some(k) => o.fault_kinds.push(k),
                None => bail!("unknown fault kind {name:?}"),
            }
        }
    }
    Ok((o, a.report))
}

fn main() {
    let result = options(Args::parse()).and_then(|(opts, report_file)| {
        let report = soak::run(&opts)?;
        let line = report.to_json().to_string();
        if let Some(f) = &report_file {
            if let Some(dir) = f.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(f, format!("{line}\n"))
                .with_context(|| format!("cannot write {}", f.display()))?;
        }
        println!("{line}");
        eprintln!("{}", report.summary());
        Ok(report.passed())
    });
    match result {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("hec-soak: {e:#}");
            std::process::exit(2);
        }
    }
}
