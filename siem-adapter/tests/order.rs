//! Property: for any mix of good and bad input lines, any batch size and any
//! number of workers, every input event comes out of the scoring pipeline
//! exactly once, in input order — scored, or with `risk_error` and its `_raw`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{json, Value};
use siem_adapter::engine::{Engine, EngineKind, Trust};
use siem_adapter::metrics::Metrics;
use siem_adapter::pipeline::reader::{ChunkReader, Limits};
use siem_adapter::pipeline::worker::{Block, Worker};
use siem_adapter::pipeline::BlockSink;
use siem_adapter::render::{OutputFields, Renderer};
use siem_adapter::sources::InputFormat;

const MAX_LINE: usize = 2000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[derive(Debug, Clone)]
enum Line {
    /// An alert with this id, possibly with odd field values.
    Good {
        odd: u8,
    },
    Malformed(String),
    NotObject(&'static str),
    NotUtf8,
    TooLong,
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        6 => (0u8..4).prop_map(|odd| Line::Good { odd }),
        1 => "[a-z{\":,]{1,20}".prop_map(Line::Malformed),
        1 => prop_oneof![Just("[1,2]"), Just("\"text\""), Just("42"), Just("null")].prop_map(Line::NotObject),
        1 => Just(Line::NotUtf8),
        1 => Just(Line::TooLong),
    ]
}

fn render(i: usize, l: &Line, base: &serde_json::Map<String, Value>) -> Vec<u8> {
    match l {
        Line::Good { odd } => {
            let mut e = base.clone();
            e.insert("event_id".into(), json!(i));
            match odd {
                1 => drop(e.insert("bytes_out".into(), json!("NaN"))),
                2 => drop(e.insert("user".into(), json!(["ü", "b"]))),
                3 => drop(e.remove("src_ip")),
                _ => {}
            }
            serde_json::to_vec(&e).unwrap()
        }
        Line::Malformed(s) => format!("{{{s}").into_bytes(),
        Line::NotObject(s) => s.as_bytes().to_vec(),
        Line::NotUtf8 => b"{\"event_id\":\xff\xfe}".to_vec(),
        Line::TooLong => format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_LINE)).into_bytes(),
    }
}

#[derive(Default)]
struct Collect {
    events: Vec<Value>,
}

impl BlockSink for Collect {
    fn write(&mut self, block: &Block, first: u64) -> anyhow::Result<()> {
        assert_eq!(first as usize, self.events.len(), "blocks arrive in order");
        let mut start = 0;
        for &end in &block.ends {
            self.events
                .push(serde_json::from_slice(&block.bytes[start..end]).unwrap());
            start = end;
        }
        Ok(())
    }
    fn side_event(&mut self, _: &[u8]) -> anyhow::Result<()> {
        Ok(())
    }
    fn finish(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

fn workers(n: usize) -> Vec<Worker> {
    let model = std::fs::read(root().join("examples/models/threat_lr.json")).unwrap();
    let key = std::fs::read_to_string(root().join("examples/keys/dev-signing.pub")).unwrap();
    let trust = Trust {
        keys: vec![scorer_core::artifact::parse_public_key(&key).unwrap()],
        allow_unsigned: false,
    };
    (0..n)
        .map(|_| {
            let e = Engine::load(EngineKind::Native, &model, &trust, None).unwrap();
            let id = e.describe().id.clone();
            Worker::new(e, Renderer::new(OutputFields::default(), &id, None), 0)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_event_comes_out_once_in_order(
        lines in prop::collection::vec(line(), 1..200),
        batch in 1usize..40,
        n_workers in 1usize..4,
    ) {
        let alerts = std::fs::read_to_string(root().join("examples/data/alerts_new.jsonl")).unwrap();
        let base: serde_json::Map<String, Value> = serde_json::from_str(alerts.lines().next().unwrap()).unwrap();
        let mut input = Vec::new();
        let mut raws = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let bytes = render(i, l, &base);
            input.extend_from_slice(&bytes);
            input.push(b'\n');
            raws.push(bytes);
        }
        let limits = Limits { max_line: MAX_LINE, ..Limits::default() };
        let reader = ChunkReader::with_limits(Box::new(std::io::Cursor::new(input)), InputFormat::Jsonl, batch, limits).unwrap();
        let metrics = Metrics::new("m", "native", None, Duration::from_secs(3600));
        let mut sink = Collect::default();
        let counts = siem_adapter::pipeline::run(reader, workers(n_workers), &mut sink, &metrics, None, |_| {}).unwrap();
        prop_assert_eq!(sink.events.len(), lines.len(), "one event out per line in");
        prop_assert_eq!(counts.read as usize, lines.len());
        for (i, (l, out)) in lines.iter().zip(&sink.events).enumerate() {
            let scored = out.get("model_output_risk_score").is_some();
            let error = out.get("risk_error").and_then(Value::as_str);
            prop_assert!(scored != error.is_some(), "line {}: scored xor risk_error: {}", i, out);
            match l {
                Line::Good { .. } => {
                    prop_assert_eq!(&out["event_id"], &json!(i), "in order: {}", out);
                }
                _ => {
                    prop_assert!(error.is_some(), "line {}: bad line not marked: {}", i, out);
                    let raw = out["_raw"].as_str().unwrap_or_default();
                    let text = String::from_utf8_lossy(&raws[i]);
                    prop_assert!(text.starts_with(raw) && !raw.is_empty(), "line {}: _raw {:?} is not the line's", i, raw);
                }
            }
        }
    }
}
