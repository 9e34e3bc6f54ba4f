//! `| riskdrift model=<name>`: the drift of the search's events against the
//! model's training baseline, as a table — one row per feature column, the
//! score, and the missing share of each field the model reads.
//!
//! ```text
//! index=alerts earliest=-24h | riskdrift model=threat_rf | where status!="stable"
//! ```
//!
//! A reporting command in two phases, like `stats`: getinfo answers
//! `type: reporting` with a `streaming_preop` of `riskdrift phase=map ...`,
//! so on every indexer the map phase turns each chunk of events into one
//! record of mergeable drift counts ([`scorer_core::drift::DriftCounts`],
//! plain integers), and the reduce phase on the search head adds them up and,
//! on the last chunk, judges the whole with the artifact's drift policy. The
//! statistics are scorer-core's: the same numbers as `siem-adapter score
//! --drift-report` and the dashboard's drift panel on the same events.
//! Reduce answers every chunk before the last with an empty body.

use std::io::{BufRead, Write};

use scorer_core::drift::{report, Assessment, DriftCounts, DriftPolicy, DriftReport, DriftStatus};
use serde_json::json;
use siem_adapter::engine::{BatchResult, Description, Engine, EngineKind, EventBatch as _};

use crate::args::{check_model_name, ArgError};
use crate::command::{load_engine_for, messages, reply_error, Setup};
use crate::records::Records;
use crate::scpv2::{write_chunk, ChunkReader};
use crate::windows::ENGINE_BATCH;

/// The field of a map record that carries its counts.
pub const COUNTS_FIELD: &str = "riskdrift_counts";

const USAGE: &str = "usage: riskdrift model=<name> [engine=wasm|native] [allow_unsigned=<bool>] \
                     [psi=<num>] [psi_watch=<num>] [ks=<num>] [missing=<num>] [min_events=<int>]";

/// Arguments of `riskdrift`.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftArgs {
    /// Model name.
    pub model: String,
    /// Engine.
    pub engine: EngineKind,
    /// Development: accept unsigned or unapproved artifacts.
    pub allow_unsigned: bool,
    /// `phase=map` (set by the command itself in its `streaming_preop`).
    pub map: bool,
    /// Policy overrides, as `key=value` for the preop and the policy.
    pub overrides: Vec<(String, f64)>,
}

impl DriftArgs {
    /// Parse splunkd's argument list.
    pub fn parse(args: &[String]) -> Result<DriftArgs, ArgError> {
        let mut a = DriftArgs {
            model: String::new(),
            engine: EngineKind::Wasm,
            allow_unsigned: false,
            map: false,
            overrides: Vec::new(),
        };
        for arg in args {
            let Some((key, value)) = arg.split_once('=') else {
                return Err(ArgError(format!("unexpected argument `{arg}`; {USAGE}")));
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "model" => a.model = value.to_string(),
                "engine" => {
                    a.engine = match value.to_ascii_lowercase().as_str() {
                        "wasm" => EngineKind::Wasm,
                        "native" => EngineKind::Native,
                        _ => {
                            return Err(ArgError(format!(
                                "engine={value}: expected wasm or native"
                            )))
                        }
                    }
                }
                "allow_unsigned" => a.allow_unsigned = crate::args::boolean(key, value)?,
                "phase" => {
                    a.map = match value {
                        "map" => true,
                        "reduce" => false,
                        _ => {
                            return Err(ArgError(format!("phase={value}: expected map or reduce")))
                        }
                    }
                }
                "psi" | "psi_watch" | "ks" | "missing" | "min_events" => {
                    let v: f64 = value
                        .parse()
                        .ok()
                        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| ArgError(format!("{key}={value}: expected a number ≥ 0")))?;
                    a.overrides.push((key.to_string(), v));
                }
                other => return Err(ArgError(format!("unknown option `{other}`; {USAGE}"))),
            }
        }
        if a.model.is_empty() {
            return Err(ArgError(format!("model= is required; {USAGE}")));
        }
        check_model_name(&a.model)?;
        Ok(a)
    }

    /// The artifact's policy with this search's overrides, applied as
    /// `siem-adapter score --drift-*` applies them.
    pub fn policy(&self, base: &DriftPolicy) -> Result<DriftPolicy, ArgError> {
        let mut a = siem_adapter::commands::drift_args::DriftArgs::default();
        for (k, v) in &self.overrides {
            match k.as_str() {
                "psi" => a.drift_psi = Some(*v),
                "psi_watch" => a.drift_psi_watch = Some(*v),
                "ks" => a.drift_ks = Some(*v),
                "missing" => a.drift_missing = Some(*v),
                _ => a.drift_min_events = Some(*v as u64),
            }
        }
        match a.policy(base) {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(ArgError("drift is off".into())),
            Err(e) => Err(ArgError(e.to_string())),
        }
    }

    /// The map phase's command line.
    fn preop(&self) -> String {
        let mut s = format!(
            "riskdrift phase=map model={} engine={} allow_unsigned={}",
            self.model,
            if self.engine == EngineKind::Native {
                "native"
            } else {
                "wasm"
            },
            self.allow_unsigned
        );
        for (k, v) in &self.overrides {
            s.push_str(&format!(" {k}={v}"));
        }
        s
    }
}

/// Count the records of a CSV body into `counts` (one engine call per window).
fn count_records(
    engine: &mut Engine,
    records: &mut Records,
    result: &mut BatchResult,
    body: &[u8],
) -> Result<(), String> {
    let Some(mut reader) = records.begin(body).map_err(|e| e.to_string())? else {
        return Ok(());
    };
    loop {
        let read = records.next_window(&mut reader, ENGINE_BATCH);
        if records.len() > 0 {
            engine
                .score_batch(records, 0, result)
                .map_err(|e| e.to_string())?;
        }
        match read {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(format!("chunk is not valid CSV: {e}")),
        }
    }
}

/// Run `riskdrift` over `input`/`output`; the process exit status.
pub fn run(input: impl BufRead, mut output: impl Write, setup: &Setup) -> i32 {
    match session(input, &mut output, setup) {
        Ok(()) => 0,
        Err(e) => {
            let _ = reply_error(&mut output, &format!("riskdrift: {e}"));
            1
        }
    }
}

fn session(input: impl BufRead, out: &mut impl Write, setup: &Setup) -> Result<(), String> {
    let mut reader = ChunkReader::new(input);
    let mut body = Vec::new();
    let Some(meta) = reader.next_chunk(&mut body).map_err(|e| e.to_string())? else {
        return Ok(());
    };
    if meta.action != "getinfo" {
        return Err(format!(
            "expected getinfo first, got action `{}`",
            meta.action
        ));
    }
    let info = meta.searchinfo.clone().unwrap_or_default();
    let args = DriftArgs::parse(&info.args).map_err(|e| e.0)?;
    let (mut engine, _runtime) =
        load_engine_for(&args.model, args.engine, args.allow_unsigned, setup).map_err(|e| e.0)?;
    let desc = engine.describe().clone();
    let policy = args.policy(&desc.drift).map_err(|e| e.0)?;
    if desc.baseline.is_none() {
        return Err(format!(
            "model `{}` has no training baseline to measure drift against (retrain it with this release)",
            args.model
        ));
    }
    engine.track_drift(true).map_err(|e| e.to_string())?;
    let mut info = if args.map {
        json!({ "type": "streaming", "required_fields": desc.fields })
    } else {
        json!({ "type": "reporting", "streaming_preop": args.preop() })
    };
    if args.allow_unsigned {
        info["inspector"] = messages(
            "WARN",
            "riskdrift: allow_unsigned=t accepts unsigned or unapproved models (development only)",
        );
    }
    write_chunk(out, info.to_string().as_bytes(), b"").map_err(|e| e.to_string())?;

    let mut records = Records::new(&desc.fields);
    let mut result = BatchResult::default();
    let mut total = engine
        .take_drift()
        .map_err(|e| e.to_string())?
        .ok_or("the model has no baseline")?;
    let mut warnings: Vec<String> = Vec::new();
    while let Some(meta) = reader.next_chunk(&mut body).map_err(|e| e.to_string())? {
        if meta.action != "execute" {
            return Err(format!("expected execute, got action `{}`", meta.action));
        }
        let mut reply = Vec::new();
        if args.map {
            if let Err(e) = count_records(&mut engine, &mut records, &mut result, &body) {
                warnings.push(e);
            }
            let counts = engine.take_drift().map_err(|e| e.to_string())?;
            if let Some(c) = counts.filter(|c| c.rows > 0) {
                let mut w = csv::Writer::from_writer(&mut reply);
                let text = serde_json::to_string(&c).map_err(|e| e.to_string())?;
                w.write_record(["risk_model", COUNTS_FIELD])
                    .map_err(|e| e.to_string())?;
                w.write_record([desc.id.as_str(), text.as_str()])
                    .map_err(|e| e.to_string())?;
                w.flush().map_err(|e| e.to_string())?;
            }
        } else {
            merge_body(
                &body,
                &mut total,
                &mut engine,
                &mut records,
                &mut result,
                &mut warnings,
            )?;
            if meta.finished {
                let r = report(
                    desc.baseline.as_ref().expect("checked above"),
                    &features(&desc),
                    &total,
                )?;
                let a = policy.assess(&r);
                write_table(&mut reply, &desc.id, &policy, &r, &a).map_err(|e| e.to_string())?;
            }
        }
        let mut m = json!({ "finished": meta.finished });
        if let Some(w) = warnings.pop() {
            m["inspector"] = messages("WARN", &format!("riskdrift: {w}"));
        }
        write_chunk(out, m.to_string().as_bytes(), &reply).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn features(desc: &Description) -> Vec<(String, String)> {
    desc.features
        .iter()
        .map(|f| (f.display_name().to_string(), f.field.clone()))
        .collect()
}

/// Add a reduce chunk: map records (with [`COUNTS_FIELD`]) are merged; a
/// chunk of plain events (no map phase ran) is counted here.
fn merge_body(
    body: &[u8],
    total: &mut DriftCounts,
    engine: &mut Engine,
    records: &mut Records,
    result: &mut BatchResult,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    if body.is_empty() {
        return Ok(());
    }
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
    let Some(col) = headers.iter().position(|h| h == COUNTS_FIELD) else {
        if let Err(e) = count_records(engine, records, result, body) {
            warnings.push(e);
        }
        let c = engine.take_drift().map_err(|e| e.to_string())?;
        return match c {
            Some(c) => total.merge(&c),
            None => Ok(()),
        };
    };
    for rec in rdr.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let Some(text) = rec.get(col).filter(|t| !t.is_empty()) else {
            continue;
        };
        match serde_json::from_str::<DriftCounts>(text) {
            Ok(c) => {
                if let Err(e) = total.merge(&c) {
                    warnings.push(format!("counts of another model version left out: {e}"));
                }
            }
            Err(e) => warnings.push(format!("unreadable {COUNTS_FIELD} left out: {e}")),
        }
    }
    Ok(())
}

fn column_status(a: &Assessment, column: &str, stats: &[&str]) -> DriftStatus {
    a.findings
        .iter()
        .filter(|f| f.column == column && stats.contains(&f.statistic))
        .map(|f| f.status)
        .max()
        .unwrap_or(DriftStatus::Stable)
}

/// The report table: the score, the feature columns by PSI, the fields' missing shares.
fn write_table(
    out: &mut Vec<u8>,
    model: &str,
    policy: &DriftPolicy,
    r: &DriftReport,
    a: &Assessment,
) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "risk_model",
        "column",
        "kind",
        "psi",
        "ks",
        "baseline_missing_share",
        "missing_share",
        "status",
        "drift_status",
        "drift_summary",
        "events",
        "psi_drift",
    ])?;
    let overall = a.status.as_str();
    let summary = a.summary();
    let (events, limit) = (r.rows.to_string(), policy.psi_drift.to_string());
    let judged = a.status != DriftStatus::Insufficient;
    let status = |s: DriftStatus| if judged { s.as_str() } else { "insufficient" };
    let mut columns: Vec<_> = r.columns.iter().collect();
    columns.sort_by(|x, y| y.psi.total_cmp(&x.psi));
    for (kind, c) in
        std::iter::once(("score", &r.score)).chain(columns.into_iter().map(|c| ("feature", c)))
    {
        let s = status(column_status(a, &c.name, &["psi", "ks"]));
        w.write_record([
            model,
            &c.name,
            kind,
            &fmt(c.psi),
            &fmt(c.ks),
            "",
            "",
            s,
            overall,
            &summary,
            &events,
            &limit,
        ])?;
    }
    let mut seen: Vec<&str> = Vec::new();
    for m in &r.missing {
        if seen.contains(&m.field.as_str()) {
            continue;
        }
        seen.push(&m.field);
        let s = status(column_status(a, &m.field, &["missing"]));
        w.write_record([
            model,
            &m.field,
            "missing",
            "",
            "",
            &fmt(m.baseline),
            &fmt(m.window),
            s,
            overall,
            &summary,
            &events,
            &limit,
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn fmt(x: f64) -> String {
    format!("{:.6}", x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<DriftArgs, ArgError> {
        DriftArgs::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments_and_the_preop_round_trip() {
        let a = parse(&[
            "model=threat_rf",
            "psi=0.3",
            "min_events=100",
            "engine=native",
        ])
        .unwrap();
        assert!(!a.map);
        let preop = a.preop();
        assert_eq!(
            preop,
            "riskdrift phase=map model=threat_rf engine=native allow_unsigned=false psi=0.3 min_events=100"
        );
        let again: Vec<String> = preop.split(' ').skip(1).map(String::from).collect();
        let m = DriftArgs::parse(&again).unwrap();
        assert!(m.map);
        assert_eq!(
            (m.model, m.overrides),
            (a.model.clone(), a.overrides.clone())
        );
        let p = a.policy(&DriftPolicy::default()).unwrap();
        assert_eq!((p.psi_drift, p.psi_watch, p.min_rows), (0.3, 0.1, 100));
        for (bad, needle) in [
            (&["psi=1"][..], "model= is required"),
            (&["model=../x"], "not by a path"),
            (&["model=m", "psi=-1"], "psi=-1"),
            (&["model=m", "phase=mix"], "phase=mix"),
            (&["model=m", "colour=red"], "unknown option"),
        ] {
            assert!(parse(bad).unwrap_err().0.contains(needle), "{bad:?}");
        }
    }
}
