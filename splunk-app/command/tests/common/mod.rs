//! Shared by the command's end-to-end tests: a throwaway app folder with
//! signed test models, a runner for the real `riskscore` executable (with
//! a time limit, so a hang fails the test), and protocol helpers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use scorer_core::artifact::key_files;
use scorer_core::train::{train, Algorithm, Table, TrainParams, TrainSpec};
use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_riskscore");

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The recorded transcripts (../shared beside the repo).
pub fn transcripts() -> PathBuf {
    repo().join("../shared/fixtures/splunk-scpv2")
}

pub fn gunzip(path: &Path) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Chunks of a protocol stream (blank lines between chunks tolerated, as
/// in the recorded outputs).
pub fn chunks(mut s: &[u8]) -> Vec<(Value, Vec<u8>)> {
    let mut out = Vec::new();
    loop {
        while let Some((b, rest)) = s.split_first() {
            if b.is_ascii_whitespace() {
                s = rest;
            } else {
                break;
            }
        }
        if s.is_empty() {
            return out;
        }
        let nl = s.iter().position(|b| *b == b'\n').expect("header line");
        let header = std::str::from_utf8(&s[..nl]).unwrap().trim();
        let nums = header
            .strip_prefix("chunked 1.0,")
            .unwrap_or_else(|| panic!("header {header:?}"));
        let (m, b) = nums.split_once(',').unwrap();
        let (m, b): (usize, usize) = (m.parse().unwrap(), b.parse().unwrap());
        s = &s[nl + 1..];
        assert!(s.len() >= m + b, "chunk shorter than announced");
        let meta = if m == 0 {
            Value::Null
        } else {
            serde_json::from_slice(&s[..m]).unwrap()
        };
        out.push((meta, s[m..m + b].to_vec()));
        s = &s[m + b..];
    }
}

pub fn chunk(meta: &Value, body: &[u8]) -> Vec<u8> {
    let m = meta.to_string();
    let mut out = format!("chunked 1.0,{},{}\n", m.len(), body.len()).into_bytes();
    out.extend_from_slice(m.as_bytes());
    out.extend_from_slice(body);
    out
}

pub fn getinfo(args: &[&str]) -> Vec<u8> {
    chunk(
        &json!({"action": "getinfo", "preview": false, "searchinfo": {
            "args": args, "raw_args": args, "sid": "test.1", "app": "riskscore",
            "username": "admin", "dispatch_dir": "/tmp", "splunk_version": "9.3.0"}}),
        b"",
    )
}

pub fn execute(body: &[u8], finished: bool) -> Vec<u8> {
    chunk(&json!({"action": "execute", "finished": finished}), body)
}

/// A CSV body as (header, rows).
pub fn csv_table(body: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    if body.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut rows = rdr.byte_records().map(|r| {
        r.unwrap()
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
    });
    let header = rows.next().unwrap_or_default();
    (header, rows.collect())
}

pub fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

pub struct Run {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn chunks(&self) -> Vec<(Value, Vec<u8>)> {
        chunks(&self.stdout)
    }
    /// The ERROR/WARN texts of a reply's inspector.
    pub fn messages(meta: &Value) -> Vec<(String, String)> {
        meta["inspector"]["messages"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| {
                        (
                            m[0].as_str().unwrap().to_string(),
                            m[1].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A throwaway app folder: keys/test.pub; models/tweets (signed, approved
/// isolation forest over `_time` and `text`, trained on the countmatches
/// transcript's tweets), threat_rf (the shipped example, with its dev key),
/// unsigned (sealed without a key, draft) and tampered (threat_rf with its
/// threshold edited after signing).
pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub tweets_id: String,
}

fn transcript_records() -> (Vec<String>, Vec<Vec<String>>) {
    let input = gunzip(&transcripts().join("countmatches.input.gz"));
    let c = chunks(&input);
    csv_table(&c[1].1)
}

impl TestApp {
    pub fn new() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (models, keys) = (dir.path().join("models"), dir.path().join("keys"));
        std::fs::create_dir_all(&models).unwrap();
        std::fs::create_dir_all(&keys).unwrap();
        let (secret, public) = key_files([7; 32], "command tests");
        std::fs::write(keys.join("test.pub"), public).unwrap();
        std::fs::copy(
            repo().join("examples/keys/dev-signing.pub"),
            keys.join("dev-signing.pub"),
        )
        .unwrap();
        let sk = scorer_core::artifact::parse_signing_key(&secret).unwrap();

        let (header, rows) = transcript_records();
        let (t_col, x_col) = (col(&header, "_time"), col(&header, "text"));
        let mut table = Table::new(vec!["_time".into(), "text".into()]).unwrap();
        for r in &rows {
            table
                .push_row(vec![Some(r[t_col].clone()), Some(r[x_col].clone())])
                .unwrap();
        }
        let spec = |approval: &str| TrainSpec {
            algorithm: Algorithm::IsolationForest,
            label: None,
            features: vec!["_time".into(), "text".into()],
            schema: None,
            metadata: serde_json::from_value(json!({"name": "tweets", "version": "1",
                "created": "2026-11-21T00:00:00Z", "approval": approval}))
            .unwrap(),
            params: TrainParams {
                cv_folds: 0,
                ..TrainParams::default()
            },
        };
        let mut art = train(&table, &spec("approved")).unwrap();
        art.seal(Some(&sk)).unwrap();
        std::fs::write(models.join("tweets.json"), art.to_json_pretty()).unwrap();
        let mut draft = train(&table, &spec("draft")).unwrap();
        draft.seal(None).unwrap();
        std::fs::write(models.join("unsigned.json"), draft.to_json_pretty()).unwrap();

        let rf = std::fs::read_to_string(repo().join("examples/models/threat_rf.json")).unwrap();
        std::fs::write(models.join("threat_rf.json"), &rf).unwrap();
        let mut doc: Value = serde_json::from_str(&rf).unwrap();
        let t = doc["output"]["threshold"]
            .as_f64()
            .expect("threat_rf has output.threshold");
        doc["output"]["threshold"] = json!(t / 2.0);
        std::fs::write(
            models.join("tampered.json"),
            serde_json::to_string_pretty(&doc).unwrap(),
        )
        .unwrap();
        TestApp {
            dir,
            tweets_id: "tweets@1".into(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Run the executable on `input`; a run over `limit` is a hang and fails.
    pub fn run(&self, input: Vec<u8>) -> Run {
        self.run_with(input, Duration::from_secs(120))
    }

    pub fn run_with(&self, input: Vec<u8>, limit: Duration) -> Run {
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("riskscore-command-cache");
        let mut cmd = Command::new(BIN);
        cmd.env("RISKSCORE_APP_DIR", self.path())
            .env("RISKSCORE_CACHE_DIR", &cache)
            .env_remove("SPLUNK_HOME")
            .env_remove("RISKSCORE_TRUSTED_KEYS");
        run_process(cmd, input, limit, "riskscore")
    }
}

/// Run `cmd` with `input` on stdin; a run over `limit` is a hang and fails.
pub fn run_process(mut cmd: Command, input: Vec<u8>, limit: Duration, what: &str) -> Run {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // The process may stop reading early (a fatal error): ignore EPIPE.
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("{what} hung for {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    writer.join().unwrap();
    Run {
        status: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed: started.elapsed(),
    }
}

/// The example alerts (examples/data/alerts_new.jsonl), as objects.
pub fn alerts() -> Vec<serde_json::Map<String, Value>> {
    std::fs::read_to_string(repo().join("examples/data/alerts_new.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.as_object().cloned())
        .collect()
}

/// The alert fields the chunk builders put in their CSV bodies.
pub const FIELDS: [&str; 12] = [
    "_time",
    "host",
    "src_ip",
    "dest_port",
    "signature",
    "severity",
    "bytes_out",
    "bytes_in",
    "failed_logins",
    "process_name",
    "command_line",
    "is_admin",
];

/// `n` records as a Splunk chunk body: the example alerts' fields (some
/// records lack some), `mitre_technique` multivalue in every third record,
/// a value of `edge_cases` (field, text) in every seventh, in turn, and a `_raw` of about `raw_len`
/// bytes with Unicode, quotes and newlines.
pub fn alert_body(n: usize, raw_len: usize, edge_cases: &[(&str, &str)]) -> Vec<u8> {
    let src = alerts();
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let mut header: Vec<String> = FIELDS.iter().map(|s| s.to_string()).collect();
    header.extend(["mitre_technique", "__mv_mitre_technique", "_raw"].map(String::from));
    w.write_record(&header).unwrap();
    let filler = "Ünïcödé 👀 \"quoted\", commas\nand a second line; 요즘은 ";
    for i in 0..n {
        let e = &src[i % src.len()];
        let mut row: Vec<String> = FIELDS
            .iter()
            .map(|f| {
                if (i + f.len()) % 11 == 0 {
                    return String::new(); // this record lacks this field
                }
                match e.get(*f) {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None => String::new(),
                }
            })
            .collect();
        if i % 7 == 3 && !edge_cases.is_empty() {
            let (f, v) = edge_cases[(i / 7) % edge_cases.len()];
            row[FIELDS.iter().position(|x| *x == f).unwrap()] = v.to_string();
        }
        let t = e
            .get("mitre_technique")
            .and_then(Value::as_str)
            .unwrap_or("T1000")
            .to_string();
        if i % 3 == 0 {
            row.push(format!("{t}\nT1078"));
            row.push(format!("${t}$;$T1078$"));
        } else {
            row.push(t);
            row.push(String::new());
        }
        let mut raw = format!("record {i}: ");
        while raw.len() < raw_len {
            raw.push_str(filler);
        }
        row.push(raw);
        w.write_record(&row).unwrap();
    }
    w.into_inner().unwrap()
}
