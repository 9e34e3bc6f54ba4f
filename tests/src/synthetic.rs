//! Synthetic vulnerability-remediation records, for the drift tests (and the
//! remediation example): documented, seeded, reproducible.
//!
//! Each record is one remediated finding at a client: `cvss` (0–10),
//! `asset_criticality` (low/medium/high), `internet_facing`, `os`
//! (windows/linux/network; client 3 also `appliance`), `open_findings` on the
//! asset, and the target `remediation_days`.
//!
//! - **Clients 1 and 2** follow one process: severe, exposed, critical
//!   findings are fixed faster; a crowded asset slows things down.
//!   `days = 70 − 4.5·cvss − 5·[medium] − 10·[high] − 12·internet_facing
//!   + 0.3·open_findings + N(0, 4²)`, at least 1. Client 2 runs more Linux.
//! - **Client 3** outsources patching under change freezes: mostly network
//!   gear and appliances, higher CVSS, four times the open findings, and
//!   `days = 75 + 1.5·cvss + N(0, 10²)` whatever the asset — a model fitted
//!   on clients 1 and 2 does not fit it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

/// Fields of a record other than the target.
pub const FEATURES: [&str; 5] = [
    "cvss",
    "asset_criticality",
    "internet_facing",
    "os",
    "open_findings",
];

/// The regression target.
pub const TARGET: &str = "remediation_days";

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller.
    let (u, v): (f64, f64) = (rng.gen::<f64>().max(1e-12), rng.gen());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[(&'a str, f64)]) -> &'a str {
    let mut x = rng.gen::<f64>() * items.iter().map(|i| i.1).sum::<f64>();
    for (name, w) in items {
        if x < *w {
            return name;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// `n` records of `client` (1, 2 or 3), from `seed`.
pub fn remediation(client: u8, n: usize, seed: u64) -> Vec<Map<String, Value>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (u64::from(client) << 56));
    (0..n)
        .map(|i| {
            let (cvss, os, crit, exposed, open) = match client {
                3 => (
                    (6.0 + 4.0 * rng.gen::<f64>().sqrt()).min(10.0),
                    pick(
                        &mut rng,
                        &[("network", 0.45), ("appliance", 0.4), ("linux", 0.15)],
                    ),
                    pick(&mut rng, &[("low", 0.2), ("medium", 0.4), ("high", 0.4)]),
                    rng.gen::<f64>() < 0.5,
                    (4.0 * (8.0 + 6.0 * normal(&mut rng).abs())).round(),
                ),
                _ => (
                    10.0 * rng.gen::<f64>(),
                    if client == 2 {
                        pick(
                            &mut rng,
                            &[("windows", 0.45), ("linux", 0.45), ("network", 0.1)],
                        )
                    } else {
                        pick(
                            &mut rng,
                            &[("windows", 0.6), ("linux", 0.3), ("network", 0.1)],
                        )
                    },
                    pick(&mut rng, &[("low", 0.4), ("medium", 0.4), ("high", 0.2)]),
                    rng.gen::<f64>() < 0.3,
                    (8.0 + 6.0 * normal(&mut rng).abs()).round(),
                ),
            };
            let days = match client {
                3 => 75.0 + 1.5 * cvss + 10.0 * normal(&mut rng),
                _ => {
                    70.0 - 4.5 * cvss
                        - match crit {
                            "high" => 10.0,
                            "medium" => 5.0,
                            _ => 0.0,
                        }
                        - if exposed { 12.0 } else { 0.0 }
                        + 0.3 * open
                        + 4.0 * normal(&mut rng)
                }
            }
            .max(1.0);
            let cvss = (cvss * 10.0).round() / 10.0;
            let mut m = Map::new();
            m.insert("_time".into(), json!(1_767_225_600 + i as u64 * 900));
            m.insert("client".into(), json!(format!("client{client}")));
            m.insert("cvss".into(), json!(cvss));
            m.insert("asset_criticality".into(), json!(crit));
            m.insert("internet_facing".into(), json!(exposed));
            m.insert("os".into(), json!(os));
            m.insert("open_findings".into(), json!(open));
            m.insert(TARGET.into(), json!((days * 10.0f64).round() / 10.0));
            m
        })
        .collect()
}

/// Write `rows` as JSON lines to `path`.
pub fn write_jsonl(path: &Path, rows: &[Map<String, Value>]) {
    let text: String = rows
        .iter()
        .map(|r| serde_json::to_string(r).expect("a map serializes") + "\n")
        .collect();
    std::fs::write(path, text).expect("write the JSON lines");
}

/// Train, with the `siem-adapter` binary at `bin`, the linear regression of
/// remediation days on 1,500 records each of clients 1 and 2 (unsigned,
/// draft, no cross-validation) into `dir`; the artifact's path.
pub fn train_remediation_model(bin: &Path, dir: &Path) -> PathBuf {
    let mut train = remediation(1, 1500, 1);
    train.extend(remediation(2, 1500, 2));
    let table = dir.join("train.jsonl");
    write_jsonl(&table, &train);
    let model = dir.join("remediation.json");
    let out = std::process::Command::new(bin)
        .args([
            "train",
            "--algorithm",
            "linear_regression",
            "--label",
            TARGET,
        ])
        .arg("--features")
        .arg(FEATURES.join(","))
        .args(["--cv-folds", "0", "--input"])
        .arg(&table)
        .arg("--output")
        .arg(&model)
        .output()
        .expect("run siem-adapter train");
    assert!(
        out.status.success(),
        "siem-adapter train: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_shaped() {
        let a = remediation(1, 50, 7);
        assert_eq!(a, remediation(1, 50, 7));
        assert_ne!(a, remediation(1, 50, 8));
        assert!(remediation(3, 200, 1)
            .iter()
            .any(|r| r["os"] == "appliance"));
        assert!(!a.iter().any(|r| r["os"] == "appliance"));
        assert!(a.iter().all(|r| r[TARGET].as_f64().unwrap() >= 1.0));
    }
}
