//! What a soak run found: [`SoakReport`], as one JSON line and a summary.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;

use serde_json::{json, Value};

use super::{FaultKind, SoakOptions, Tally};
use crate::hec_server::RequestStats;

/// How often a fault kind was armed, and how often it hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCount {
    /// Times armed.
    pub times: u64,
    /// Event POSTs it was armed for, summed; for stalls and restarts, the
    /// milliseconds of pause, delay or downtime.
    pub requests: u64,
    /// What the server counted: 503 or 429 replies, resets, drops, stalled
    /// event POSTs, lost acks, restarts.
    pub hit: u64,
}

/// The outcome of [`run`](super::run).
#[derive(Debug, Clone, Default)]
pub struct SoakReport {
    /// Events in the input: sent, as far as the adapter's caller is concerned.
    pub events: u64,
    /// The RNG seed.
    pub seed: u64,
    /// Indexer acknowledgement on.
    pub acks: bool,
    /// The adapter binary.
    pub adapter: PathBuf,
    /// Its arguments (paths of the run's work folder included).
    pub args: Vec<String>,
    /// Kills asked for.
    pub kills_requested: u32,
    /// Adapter runs started.
    pub runs: u64,
    /// SIGKILLs sent.
    pub kills: u64,
    /// Runs that exited non-zero on their own; then re-run.
    pub adapter_failures: u64,
    /// Those runs by exit code (-1: killed by a signal not ours).
    pub exits: BTreeMap<i32, u64>,
    /// The last run exited 0.
    pub completed: bool,
    /// The deadline passed first.
    pub deadline_passed: bool,
    /// The deadline, seconds.
    pub max_seconds: f64,
    /// Seconds from start (input written, server up) to the counts.
    pub wall_seconds: f64,
    /// Distinct `event_id`s stored.
    pub stored: u64,
    /// Envelopes stored with an `event_id` of the input, copies included.
    pub copies: u64,
    /// `copies - stored`: extra copies of events stored more than once.
    pub duplicates: u64,
    /// Events of the input whose `event_id` was never stored.
    pub lost: u64,
    /// Events stored more than once.
    pub duplicated_events: u64,
    /// The first 20 runs of lost `event_id`s, as `[first, end)`.
    pub lost_ranges: Vec<(u64, u64)>,
    /// Stored envelopes without an input `event_id` (none expected).
    pub tally_foreign: u64,
    /// Faults by kind.
    pub faults: BTreeMap<FaultKind, FaultCount>,
    /// The server's counters at the end.
    pub requests: RequestStats,
    /// The checkpoint at the end: (`settled`, `complete`).
    pub checkpoint: Option<(u64, bool)>,
    /// The adapter log's last lines.
    pub last_log_lines: Vec<String>,
    /// The work folder, when kept.
    pub work_dir: Option<PathBuf>,
}

impl SoakReport {
    pub(super) fn new(opts: &SoakOptions, args: &[String]) -> Self {
        Self {
            events: opts.events,
            seed: opts.seed,
            acks: opts.acks,
            adapter: opts.adapter.clone(),
            args: args.to_vec(),
            kills_requested: opts.kills,
            max_seconds: opts.max_seconds,
            faults: opts
                .fault_kinds
                .iter()
                .filter(|k| opts.acks || **k != FaultKind::LostAck)
                .map(|k| (*k, FaultCount::default()))
                .collect(),
            ..Self::default()
        }
    }

    /// Fills in the counts from the tally and the server's counters.
    pub(super) fn count(&mut self, tally: &Tally, stats: &RequestStats, events: u64) {
        let copies = tally.copies.lock().unwrap_or_else(|e| e.into_inner());
        self.stored = copies.iter().filter(|&&c| c > 0).count() as u64;
        self.copies = copies.iter().map(|&c| u64::from(c)).sum();
        self.duplicated_events = copies.iter().filter(|&&c| c > 1).count() as u64;
        debug_assert_eq!(self.stored, tally.distinct.load(Relaxed));
        self.duplicates = self.copies - self.stored;
        self.lost_ranges = ranges(copies.iter().map(|&c| c == 0), 20);
        self.lost = events - self.stored;
        for (kind, count) in self.faults.iter_mut() {
            count.hit = match kind {
                FaultKind::Busy => stats.status(503),
                FaultKind::TooMany => stats.status(429),
                FaultKind::Reset => stats.reset,
                FaultKind::Drop => stats.dropped,
                FaultKind::Stall => stats.stalled,
                FaultKind::LostAck => stats.lost_acks,
                FaultKind::Restart => stats.restarts,
            };
        }
        self.requests = stats.clone();
    }

    /// No event lost, the adapter finished, within the deadline.
    pub fn passed(&self) -> bool {
        self.lost == 0 && self.completed && !self.deadline_passed
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> Value {
        let faults: serde_json::Map<String, Value> = self
            .faults
            .iter()
            .map(|(k, c)| {
                let v = json!({"times": c.times, "requests": c.requests, "hit": c.hit});
                (k.name().to_string(), v)
            })
            .collect();
        let r = &self.requests;
        json!({
            "passed": self.passed(),
            "events_sent": self.events,
            "stored": self.stored,
            "copies": self.copies,
            "duplicates": self.duplicates,
            "duplicated_events": self.duplicated_events,
            "lost": self.lost,
            "lost_ranges": self.lost_ranges,
            "foreign": self.tally_foreign,
            "acks": self.acks,
            "seed": self.seed,
            "kills": self.kills,
            "kills_requested": self.kills_requested,
            "runs": self.runs,
            "adapter_failures": self.adapter_failures,
            "exit_codes": self.exits.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "completed": self.completed,
            "deadline_passed": self.deadline_passed,
            "max_seconds": self.max_seconds,
            "wall_seconds": (self.wall_seconds * 1000.0).round() / 1000.0,
            "faults": faults,
            "server": {
                "event_posts": r.event_posts,
                "ack_polls": r.ack_polls,
                "connections": r.connections,
                "by_status": r.by_status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            },
            "checkpoint": self.checkpoint.map(|(settled, complete)| json!({"settled": settled, "complete": complete})),
            "adapter": self.adapter.display().to_string(),
            "adapter_args": self.args,
            "adapter_log_tail": self.last_log_lines,
            "work_dir": self.work_dir.as_ref().map(|d| d.display().to_string()),
        })
    }

    /// A few lines for people.
    pub fn summary(&self) -> String {
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(k, c)| format!("{} {}x/{} hit", k.name(), c.times, c.hit))
            .collect();
        let verdict = if self.passed() { "PASS" } else { "FAIL" };
        let why = match (self.deadline_passed, self.completed, self.lost) {
            (true, _, _) => " (deadline passed)",
            (_, false, _) => " (the adapter never finished)",
            (_, _, l) if l > 0 => " (events lost)",
            _ => "",
        };
        format!(
            "hec-soak {verdict}{why}: {} events {} acks, seed {}, {:.1} s (deadline {} s)\n  \
             stored {} distinct, {} copies: {} duplicates ({} events repeated), {} lost {:?}, {} foreign\n  \
             {} kills of {} asked, {} runs, {} adapter failures {:?}; checkpoint {:?}\n  \
             faults: {}\n  \
             server: {} event POSTs, {} ack polls, {} connections, statuses {:?}",
            self.events,
            if self.acks { "with" } else { "without" },
            self.seed,
            self.wall_seconds,
            self.max_seconds,
            self.stored,
            self.copies,
            self.duplicates,
            self.duplicated_events,
            self.lost,
            self.lost_ranges,
            self.tally_foreign,
            self.kills,
            self.kills_requested,
            self.runs,
            self.adapter_failures,
            self.exits,
            self.checkpoint,
            faults.join(", "),
            self.requests.event_posts,
            self.requests.ack_polls,
            self.requests.connections,
            self.requests.by_status,
        )
    }
}

/// The first `max` runs of `true` in `flags`, as `[first, end)`.
fn ranges(flags: impl Iterator<Item = bool>, max: usize) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (i, flag) in (0u64..).zip(flags) {
        if !flag {
            continue;
        }
        if let Some(r) = out.last_mut().filter(|r| r.1 == i) {
            r.1 = i + 1;
        } else if out.len() < max {
            out.push((i, i + 1));
        } else {
            break;
        }
    }
    out
}
