//! Short soak runs of `siem-adapter score --hec-url` against the HEC test
//! server (not Splunk) on 127.0.0.1: every fault kind, SIGKILLs and resumes
//! from the checkpoint, with and without indexer acknowledgement. No event
//! may be lost; duplicates are reported (delivery is at least once). Plus
//! the smallest reproduction of a loss the soak found.
//!
//! They run the debug adapter binary, `target/debug/siem-adapter` (build it
//! with `cargo build -p siem-adapter`), or the one `SIEM_ADAPTER` names.
//! Without it they are skipped, unless `CI=true`, where they fail.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use riskscore_tests::hec_server::{HecTestConfig, HecTestServer, TEST_TOKEN};
use riskscore_tests::repo;
use riskscore_tests::soak::{self, FaultKind, SoakOptions, SoakReport};

/// The adapter binary, or `None` (test skipped) outside CI when it is missing.
fn adapter() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SIEM_ADAPTER") {
        return Some(PathBuf::from(p));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let path = target.join("debug/siem-adapter");
    if path.is_file() {
        return Some(path);
    }
    let msg = format!(
        "no siem-adapter binary at {}: run `cargo build -p siem-adapter` first \
         (or set SIEM_ADAPTER to a binary)",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("skipped: {msg}");
    None
}

/// 20,000 events, 3 kills, faults every 2–6 event POSTs (200 events each).
fn small(adapter: PathBuf, acks: bool, seed: u64) -> SoakOptions {
    SoakOptions {
        events: 20_000,
        seed,
        acks,
        adapter,
        kills: 3,
        max_seconds: 120.0,
        batch_events: 200,
        fault_gap_requests: (2, 6),
        fault_gap_ms: (20, 100),
        stall_max_ms: 1500,
        restart_down_max_ms: 300,
        ..SoakOptions::default()
    }
}

fn check(report: &SoakReport) {
    eprintln!("{}", report.summary());
    let json = report.to_json();
    assert!(!report.deadline_passed && report.completed, "{json}");
    assert_eq!(
        report.lost, 0,
        "events lost: {:?}\n{json}",
        report.lost_ranges
    );
    assert_eq!((report.stored, report.tally_foreign), (report.events, 0));
    assert_eq!(report.checkpoint, Some((report.events, true)), "{json}");
    assert_eq!(report.kills, 3, "{json}");
    for kind in FaultKind::ALL {
        if kind == FaultKind::LostAck && !report.acks {
            continue;
        }
        let c = report.faults.get(&kind).copied().unwrap_or_default();
        assert!(
            c.times >= 1 && c.hit >= 1,
            "{} never hit: {json}",
            kind.name()
        );
    }
    // Reported, not asserted: at least once allows repeats.
    assert_eq!(json["duplicates"], report.copies - report.stored);
}

#[test]
fn soak_with_acks_loses_nothing() {
    let Some(adapter) = adapter() else { return };
    check(&soak::run(&small(adapter, true, 1)).unwrap());
}

#[test]
fn soak_without_acks_loses_nothing() {
    let Some(adapter) = adapter() else { return };
    check(&soak::run(&small(adapter, false, 2)).unwrap());
}

/// What the soak with acks found, in its smallest form. Request 0's ack is
/// lost (its events discarded); while the adapter still waits for it, the
/// collector restarts, forgets the channel, and numbers the next requests on
/// it from 0 again, as Splunk does. A poll of id 0 then answers for a new
/// request, and must not settle request 0's events.
#[test]
fn a_restart_does_not_turn_a_lost_ack_into_a_confirmation() {
    let Some(adapter) = adapter() else { return };
    let dir = std::env::temp_dir().join(format!("hec-soak-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, token) = (dir.join("alerts.jsonl"), dir.join("hec.token"));
    soak::write_input(&input, 2000).unwrap();
    std::fs::write(&token, TEST_TOKEN).unwrap();
    let server = HecTestServer::start(HecTestConfig::default().acks(true)).unwrap();
    server.lose_acks_next(1);
    server.delay(Duration::from_millis(100));
    let examples = repo().join("examples");
    let mut child = Command::new(adapter)
        .args(["score", "--engine", "native", "--drift", "off", "--model"])
        .arg(examples.join("models/threat_rf.json"))
        .arg("--trusted-key")
        .arg(examples.join("keys/dev-signing.pub"))
        .arg("--input")
        .arg(&input)
        .args(["--hec-url", &server.url(), "--hec-token-file"])
        .arg(&token)
        .args(["--hec-ack", "--hec-batch-events", "100"])
        .args([
            "--hec-ack-interval-ms",
            "50",
            "--hec-ack-timeout-secs",
            "10",
        ])
        .args(["--hec-retry-base-ms", "5", "--hec-retry-max-ms", "50"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(server.wait_for_requests(4, Duration::from_secs(30)));
    server.restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the adapter did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "{status}");
    let mut ids: Vec<u64> = server
        .events()
        .iter()
        .filter_map(|e| e["event"]["event_id"].as_u64())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let missing: Vec<u64> = (0..2000)
        .filter(|i| ids.binary_search(i).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "{} events lost, {:?}..={:?}: a reused ack id confirmed a request whose ack was lost",
        missing.len(),
        missing.first(),
        missing.last()
    );
}
