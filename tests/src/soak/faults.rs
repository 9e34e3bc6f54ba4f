//! The soak's fault schedule: which faults the HEC test server gets, when.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{FaultCount, SoakOptions};
use crate::hec_server::HecTestServer;

/// A kind of fault the soak arms on the HEC test server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// A burst of 1–6 event POSTs answered 503 code 9 "Server is busy".
    Busy,
    /// 1–3 event POSTs answered 429.
    TooMany,
    /// 1–2 event POSTs cut mid-body by an RST.
    Reset,
    /// 1–2 event POSTs read in full, then closed without a response.
    Drop,
    /// Event POSTs held before their body is read: a pause of 100 ms up to
    /// [`SoakOptions::stall_max_ms`], or a 50–500 ms delay of each for a second.
    Stall,
    /// 1–2 accepted event POSTs whose ack never comes (events discarded);
    /// armed only with acks.
    LostAck,
    /// The server restarts, down for up to [`SoakOptions::restart_down_max_ms`].
    Restart,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Busy,
        FaultKind::TooMany,
        FaultKind::Reset,
        FaultKind::Drop,
        FaultKind::Stall,
        FaultKind::LostAck,
        FaultKind::Restart,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Busy => "busy_503",
            FaultKind::TooMany => "too_many_429",
            FaultKind::Reset => "reset_mid_body",
            FaultKind::Drop => "drop_no_response",
            FaultKind::Stall => "stall",
            FaultKind::LostAck => "lost_ack",
            FaultKind::Restart => "restart",
        }
    }

    /// The kind named `name` (as in reports).
    pub fn from_name(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// How often it is drawn, relative to the others.
    fn weight(self) -> u32 {
        match self {
            FaultKind::Busy | FaultKind::Reset | FaultKind::LostAck => 3,
            FaultKind::TooMany | FaultKind::Drop | FaultKind::Stall => 2,
            FaultKind::Restart => 1,
        }
    }
}

/// Sleeps `d`, waking early once `done` is set; false then.
fn nap(d: Duration, done: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while !done.load(Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        thread::sleep(left.min(Duration::from_millis(10)));
    }
    false
}

/// Waits until `server` has received `n` more event POSTs and `d` has
/// passed; false once `done` is set.
fn wait_for_traffic(server: &HecTestServer, n: u64, d: Duration, done: &AtomicBool) -> bool {
    let target = server.requests_received() + n;
    if !nap(d, done) {
        return false;
    }
    while !server.wait_for_requests(target, Duration::from_millis(20)) {
        if done.load(Relaxed) {
            return false;
        }
    }
    true
}

/// Arms faults on `server` until `done`: every kind once first, shuffled,
/// then weighted at random, each after some traffic and a random pause
/// ([`SoakOptions::fault_gap_requests`], [`SoakOptions::fault_gap_ms`]). What was armed
/// goes into `armed` (`times` and `requests`; `hit` is filled in later from
/// the server's counters).
pub(super) fn arm(
    server: &HecTestServer,
    opts: &SoakOptions,
    mut rng: ChaCha8Rng,
    done: &AtomicBool,
    armed: &Mutex<BTreeMap<FaultKind, FaultCount>>,
) -> Result<()> {
    let kinds: Vec<FaultKind> = opts
        .fault_kinds
        .iter()
        .copied()
        .filter(|k| opts.acks || *k != FaultKind::LostAck)
        .collect();
    if kinds.is_empty() {
        return Ok(());
    }
    let mut first = kinds.clone();
    first.shuffle(&mut rng);
    let total: u32 = kinds.iter().map(|k| k.weight()).sum();
    let range = |(lo, hi): (u64, u64)| lo..=hi.max(lo);
    loop {
        let n = rng.gen_range(range(opts.fault_gap_requests));
        let d = Duration::from_millis(rng.gen_range(range(opts.fault_gap_ms)));
        if !wait_for_traffic(server, n, d, done) {
            return Ok(());
        }
        let kind = first.pop().unwrap_or_else(|| {
            let mut pick = rng.gen_range(0..total);
            *kinds
                .iter()
                .find(|k| {
                    let hit = pick < k.weight();
                    pick = pick.saturating_sub(k.weight());
                    hit
                })
                .expect("weights cover the range")
        });
        let requests = fire(server, opts, kind, &mut rng, done)?;
        let mut armed = armed.lock().unwrap_or_else(|e| e.into_inner());
        let count = armed.entry(kind).or_default();
        count.times += 1;
        count.requests += requests;
    }
}

/// Arms one fault; how many requests it was armed for (stalls: milliseconds).
fn fire(
    server: &HecTestServer,
    opts: &SoakOptions,
    kind: FaultKind,
    rng: &mut ChaCha8Rng,
    done: &AtomicBool,
) -> Result<u64> {
    Ok(match kind {
        FaultKind::Busy => {
            let n = rng.gen_range(1..=6);
            server.busy_next(n);
            n.into()
        }
        FaultKind::TooMany => {
            let n = rng.gen_range(1..=3);
            server.too_many_next(n);
            n.into()
        }
        FaultKind::Reset => {
            let n = rng.gen_range(1..=2);
            server.reset_next(n);
            n.into()
        }
        FaultKind::Drop => {
            let n = rng.gen_range(1..=2);
            server.drop_next(n);
            n.into()
        }
        FaultKind::LostAck => {
            let n = rng.gen_range(1..=2);
            server.lose_acks_next(n);
            n.into()
        }
        FaultKind::Stall if rng.gen_bool(0.5) => {
            let ms = rng.gen_range(100..=opts.stall_max_ms.max(100));
            server.pause();
            nap(Duration::from_millis(ms), done);
            server.resume();
            ms
        }
        FaultKind::Stall => {
            let ms = rng.gen_range(50..=500);
            server.delay(Duration::from_millis(ms));
            nap(Duration::from_secs(1), done);
            server.delay(Duration::ZERO);
            ms
        }
        FaultKind::Restart => {
            let down = rng.gen_range(0..=opts.restart_down_max_ms);
            server
                .restart_after(Duration::from_millis(down))
                .context("the HEC test server did not come back after a restart")?;
            down
        }
    })
}
