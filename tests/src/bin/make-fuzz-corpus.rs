//! `make-fuzz-corpus`: writes the seed corpus of every fuzz target under
//! `fuzz/corpus/<target>/` from the project's fixtures: Splunk's recorded
//! chunked-protocol transcripts (`../shared/fixtures/splunk-scpv2`), the
//! example alerts and models, and wire buffers encoded by the real encoders.
//!
//! ```sh
//! cargo run -p riskscore-tests --bin make-fuzz-corpus
//! ```
//!
//! The seeds are committed; re-run this when a format changes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Map, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Corpus {
    dir: PathBuf,
    written: usize,
}

impl Corpus {
    fn new(target: &str) -> Result<Corpus> {
        let dir = repo().join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        Ok(Corpus { dir, written: 0 })
    }

    fn seed(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        std::fs::write(self.dir.join(format!("seed-{name}")), bytes)?;
        self.written += 1;
        Ok(())
    }
}

fn chunk(meta: &Value, body: &[u8]) -> Vec<u8> {
    let m = meta.to_string();
    let mut out = format!("chunked 1.0,{},{}\n", m.len(), body.len()).into_bytes();
    out.extend_from_slice(m.as_bytes());
    out.extend_from_slice(body);
    out
}

fn getinfo(args: &[&str]) -> Vec<u8> {
    chunk(
        &json!({"action": "getinfo", "preview": false, "searchinfo": {
            "args": args, "raw_args": args, "sid": "fuzz.1", "app": "riskscore",
            "username": "admin", "dispatch_dir": "/tmp", "splunk_version": "9.3.0"}}),
        b"",
    )
}

fn execute(body: &[u8], finished: bool) -> Vec<u8> {
    chunk(&json!({"action": "execute", "finished": finished}), body)
}

fn alerts(n: usize) -> Result<Vec<Map<String, Value>>> {
    let text = std::fs::read_to_string(repo().join("examples/data/alerts_new.jsonl"))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .take(n)
        .collect())
}

/// Alerts as a Splunk CSV body, with a multivalue column and awkward cells.
fn csv_body(rows: &[Map<String, Value>]) -> Vec<u8> {
    let mut header: Vec<String> = rows[0].keys().cloned().collect();
    header.extend(["recipients".into(), "__mv_recipients".into()]);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).expect("in memory");
    for (i, r) in rows.iter().enumerate() {
        let mut cells: Vec<String> = rows[0]
            .keys()
            .map(|k| match r.get(k) {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            })
            .collect();
        match i % 3 {
            0 => cells.extend(["a@x\nb@y".into(), "$a@x$;$b@y$".into()]),
            1 => cells.extend(["say \"hi\", ü".into(), String::new()]),
            _ => cells.extend([String::new(), String::new()]),
        }
        w.write_record(&cells).expect("in memory");
    }
    w.into_inner().expect("in memory")
}

fn scpv2() -> Result<usize> {
    let mut c = Corpus::new("scpv2")?;
    let fixtures = repo().join("../shared/fixtures/splunk-scpv2");
    for e in std::fs::read_dir(&fixtures).with_context(|| format!("{}", fixtures.display()))? {
        let p = e?.path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".input.gz") {
            let mut bytes = Vec::new();
            flate2::read::GzDecoder::new(std::fs::File::open(&p)?).read_to_end(&mut bytes)?;
            c.seed(&format!("splunk-{stem}"), &bytes)?;
        }
    }
    let rows = alerts(6)?;
    let body = csv_body(&rows);
    for (name, args) in [
        (
            "native-explain",
            &["model=threat_lr", "engine=native", "explain=2"][..],
        ),
        (
            "native-fields",
            &[
                "model=threat_lr",
                "engine=native",
                "fields=model",
                "threshold=0.2",
            ],
        ),
        (
            "unsigned",
            &["model=threat_lr", "engine=native", "allow_unsigned=t"],
        ),
        ("drift-map", &["model=threat_lr", "engine=native", "map=t"]),
        ("unknown-model", &["model=../etc/passwd"]),
    ] {
        let mut s = getinfo(args);
        s.extend(execute(&body, false));
        s.extend(execute(b"", false));
        s.extend(execute(&body[..body.len() / 2], true));
        c.seed(name, &s)?;
    }
    Ok(c.written)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory")
}

fn input() -> Result<usize> {
    let mut c = Corpus::new("input")?;
    let rows = alerts(12)?;
    let jsonl: String = rows
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    let with = |format: u8, bytes: &[u8]| [&[format][..], bytes].concat();
    c.seed("auto-jsonl", &with(0, jsonl.as_bytes()))?;
    let mixed =
        format!("{jsonl}not json\n[1,2]\n{{\"a\":\n\n{{\"_time\":\"x\",\"user\":[\"a\",\"b\"]}}\n");
    c.seed("jsonl-bad-lines", &with(1, mixed.as_bytes()))?;
    let export: String = rows
        .iter()
        .enumerate()
        .map(|(i, r)| json!({"preview": i == 0, "offset": i, "result": r}).to_string() + "\n")
        .collect();
    c.seed("splunk-export", &with(2, export.as_bytes()))?;
    let doc = serde_json::to_string_pretty(&json!({"results": &rows[..4]}))?;
    c.seed("results-document", &with(0, doc.as_bytes()))?;
    let csv = std::fs::read_to_string(repo().join("examples/data/alerts_train.csv"))?;
    let head: String = csv.lines().take(12).map(|l| l.to_string() + "\n").collect();
    c.seed("csv", &with(3, head.as_bytes()))?;
    c.seed("csv-multivalue", &with(3, &csv_body(&rows[..5])))?;
    c.seed("gzip-jsonl", &with(0, &gzip(jsonl.as_bytes())))?;
    Ok(c.written)
}

/// One small trained artifact per estimator (a few trees, shallow), so the
/// seeds stay a few KB and the fuzzer mutates every estimator's shape.
fn artifact() -> Result<usize> {
    use scorer_core::train::{train, Algorithm, Table, TrainParams, TrainSpec};
    use scorer_core::{Approval, Metadata};
    let mut c = Corpus::new("artifact")?;
    c.seed(
        "threat_lr",
        &std::fs::read(repo().join("examples/models/threat_lr.json"))?,
    )?;
    let text = std::fs::read_to_string(repo().join("examples/data/sessions_train.csv"))?;
    let mut lines = text.lines();
    let columns: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let mut table = Table::new(columns.clone())?;
    for l in lines.take(120) {
        table.push_row(l.split(',').map(|v| Some(v.to_string())).collect())?;
    }
    let features: Vec<String> = columns
        .iter()
        .filter(|c| *c != "is_anomaly")
        .cloned()
        .collect();
    for a in Algorithm::ALL {
        let spec = TrainSpec {
            algorithm: a,
            label: Some("is_anomaly".into()),
            features: features.clone(),
            schema: None,
            metadata: Metadata {
                name: format!("seed_{}", a.name()),
                version: "1".into(),
                description: String::new(),
                author: String::new(),
                created: "2026-11-22T00:00:00Z".into(),
                training_data: String::new(),
                approval: Approval::Draft,
                metrics: None,
                tags: Vec::new(),
            },
            params: TrainParams {
                n_trees: 3,
                max_depth: Some(3),
                sample_size: 32,
                k: 2,
                cv_folds: 2,
                ..TrainParams::default()
            },
        };
        let doc = train(&table, &spec)?.to_document();
        c.seed(a.name(), serde_json::to_string(&doc)?.as_bytes())?;
    }
    Ok(c.written)
}

fn wire() -> Result<usize> {
    use scorer_core::{LoadOptions, Model};
    let mut c = Corpus::new("wire")?;
    let rf = std::fs::read(repo().join("examples/models/threat_rf.json"))?;
    let model = Model::load(&rf, &LoadOptions::development())?;
    let fields = model.fields();
    let rows = alerts(8)?;
    let mut w = scorer_wasm::wire::BatchWriter::default();
    w.reset(rows.len(), fields.len());
    for (r, row) in rows.iter().enumerate() {
        for (col, f) in fields.iter().enumerate() {
            if let Some(v) = row.get(*f) {
                w.set(col, r, scorer_core::json_field(v));
            }
        }
    }
    let batch = w.finish().to_vec();
    c.seed("score", &[&[0u8][..], &batch].concat())?;
    c.seed("score-explain-3", &[&[6u8][..], &batch].concat())?;
    use scorer_core::mouse::{batch::encode_request, Button, Record, State};
    let session: Vec<Record> = (0..40)
        .map(|i| {
            let (button, state) = match i % 10 {
                8 => (Button::Left, State::Pressed),
                9 => (Button::Left, State::Released),
                _ => (Button::None, State::Move),
            };
            let t = f64::from(i) * 0.02;
            Record {
                t,
                button,
                state,
                x: 100.0 + f64::from(i * 7),
                y: 200.0 + f64::from(i * 3),
            }
        })
        .collect();
    let mut req = Vec::new();
    encode_request(&[&session[..], &session[..7]], None, &mut req);
    c.seed("mouse", &[&[1u8][..], &req].concat())?;
    Ok(c.written)
}

fn serve() -> Result<usize> {
    let mut c = Corpus::new("serve")?;
    let rows = alerts(4)?;
    let with = |t: u8, bytes: &[u8]| [&[t][..], bytes].concat();
    c.seed(
        "object",
        &with(1, serde_json::to_string(&rows[0])?.as_bytes()),
    )?;
    let mut array = serde_json::to_value(&rows)?;
    array.as_array_mut().unwrap().push(json!(42));
    c.seed(
        "array-with-a-number",
        &with(0, array.to_string().as_bytes()),
    )?;
    let mut lines: String = rows
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    lines.push_str("{\"broken\":\n\n[1]\n");
    c.seed("json-lines", &with(2, lines.as_bytes()))?;
    c.seed("form-type", &with(3, lines.as_bytes()))?;
    Ok(c.written)
}

fn signature() -> Result<usize> {
    let mut c = Corpus::new("signature")?;
    let lr: Value = serde_json::from_slice(&std::fs::read(
        repo().join("examples/models/threat_lr.json"),
    )?)?;
    let integrity = lr["integrity"].clone();
    c.seed("original", integrity.to_string().as_bytes())?;
    let mut tampered = integrity.clone();
    tampered["sha256"] = json!("00".repeat(32));
    c.seed("tampered-digest", tampered.to_string().as_bytes())?;
    let mut unsigned = integrity.clone();
    unsigned.as_object_mut().unwrap().remove("signature");
    c.seed("unsigned", unsigned.to_string().as_bytes())?;
    c.seed("raw-signature", &[7u8; 64])?;
    Ok(c.written)
}

fn main() -> Result<()> {
    for (target, n) in [
        ("scpv2", scpv2()?),
        ("input", input()?),
        ("artifact", artifact()?),
        ("wire", wire()?),
        ("serve", serve()?),
        ("signature", signature()?),
    ] {
        println!("fuzz/corpus/{target}: {n} seeds");
    }
    Ok(())
}
