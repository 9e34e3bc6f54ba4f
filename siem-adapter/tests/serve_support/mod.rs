//! The harness of `tests/serve.rs`: the `serve` binary on a free loopback
//! port (killed on drop), clients, the CLI peer, and artifacts to reload.

// Each test binary uses part of this module.
#![allow(dead_code)]

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The development public key, relative to the repository.
pub const DEV_PUB: &str = "examples/keys/dev-signing.pub";
/// The example random forest, relative to the repository.
pub const MODEL: &str = "examples/models/threat_rf.json";
/// The score field.
pub const SCORE: &str = "model_output_risk_score";

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `siem-adapter` binary, run from the repository root, without key variables.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    c.current_dir(repo())
        .env_remove("RISKSCORE_SIGNING_KEY")
        .env_remove("RISKSCORE_TRUSTED_KEYS")
        .env_remove("RUST_LOG");
    c
}

/// A running `serve`, killed on drop.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Its stderr so far.
    pub log: Arc<Mutex<String>>,
    /// Bearer token sent by the helpers.
    pub token: Option<String>,
}

impl Server {
    /// Start `serve` on a free port with `args`; waits for its `listening on` line.
    pub fn start(args: &[&str]) -> Server {
        let mut child = bin()
            .args(["serve", "--listen", "127.0.0.1:0", "--cache-dir"])
            .arg(repo().join("target/test-module-cache"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let (stderr, sink) = (child.stderr.take().unwrap(), Arc::clone(&log));
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap().to_string());
                }
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(180))
            .unwrap_or_else(|e| {
                let _ = child.kill();
                panic!(
                    "no `listening on` line ({e}); log:\n{}",
                    log.lock().unwrap()
                )
            });
        Server {
            child,
            addr,
            log,
            token: None,
        }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POST /v1/score: status, content type, body.
    pub fn score(&self, content_type: Option<&str>, body: &[u8]) -> (u16, String, String) {
        let mut req = agent().post(self.url("/v1/score"));
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let mut resp = req.send(body).unwrap();
        let ct = header(&resp, "content-type");
        let text = resp.body_mut().read_to_string().unwrap();
        (resp.status().as_u16(), ct, text)
    }

    /// GET /healthz.
    pub fn health(&self) -> Value {
        let mut resp = agent().get(self.url("/healthz")).call().unwrap();
        assert_eq!(resp.status(), 200);
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
    }

    /// GET /metrics (with the token, if set).
    pub fn metrics(&self) -> String {
        let mut req = agent().get(self.url("/metrics"));
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let mut resp = req.call().unwrap();
        assert_eq!(resp.status(), 200);
        resp.body_mut().read_to_string().unwrap()
    }

    /// The value of an unlabelled metric.
    pub fn metric(&self, name: &str) -> f64 {
        let text = self.metrics();
        let line = text.lines().find(|l| l.starts_with(&format!("{name} ")));
        line.unwrap_or_else(|| panic!("no {name} in\n{text}"))[name.len() + 1..]
            .parse()
            .unwrap()
    }

    /// Poll `ok` every 50 ms for at most 60 s.
    pub fn wait_for(&self, what: &str, mut ok: impl FnMut() -> bool) {
        let start = Instant::now();
        while !ok() {
            if start.elapsed() > Duration::from_secs(60) {
                panic!(
                    "timed out waiting for {what}; log:\n{}",
                    self.log.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Send a signal (`-HUP`, `-TERM`) with kill(1).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args([name, &pid])
            .status()
            .unwrap()
            .success());
    }

    /// SIGHUP: reload now.
    pub fn hangup(&self) {
        self.signal("-HUP");
    }

    /// SIGTERM, then the exit status (within 30 s).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal("-TERM");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that returns 4xx/5xx answers instead of errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A response header, or "".
pub fn header(resp: &ureq::http::Response<ureq::Body>, name: &str) -> String {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A raw HTTP/1.1 exchange (the answer read to EOF).
pub fn raw(addr: &str, request: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `siem-adapter score` on `input`: one JSON value per output line.
pub fn cli_score(input: &Path) -> Vec<Value> {
    let out = bin()
        .args([
            "score",
            "--model",
            MODEL,
            "--trusted-key",
            DEV_PUB,
            "--cache-dir",
        ])
        .arg(repo().join("target/test-module-cache"))
        .arg("--input")
        .arg(input)
        .output()
        .unwrap();
    assert!(out.status.code().unwrap() <= 1, "{:?}", out);
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The first 40 lines of the example alerts (line 10 is deliberately malformed).
pub fn sample(dir: &Path) -> (PathBuf, String) {
    let all = std::fs::read_to_string(repo().join("examples/data/alerts_new.jsonl")).unwrap();
    let text: String = all.lines().take(40).map(|l| format!("{l}\n")).collect();
    let path = dir.join("sample.jsonl");
    std::fs::write(&path, &text).unwrap();
    (path, text)
}

/// Same score, flag and model id.
pub fn same_score(served: &Value, cli: &Value) {
    assert_eq!(
        served[SCORE].as_f64().unwrap(),
        cli[SCORE].as_f64().unwrap()
    );
    assert_eq!(served["anomaly_flag"], cli["anomaly_flag"]);
    assert_eq!(served["risk_model"], cli["risk_model"]);
}

/// A key pair in `dir` and `dir/v2.json`: the example model as version 2.0.0, signed with it.
pub fn signed_v2(dir: &Path) -> (PathBuf, Value) {
    let ok = bin()
        .args(["keygen", "--name", "k", "--out-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join(MODEL)).unwrap()).unwrap();
    doc["metadata"]["version"] = "2.0.0".into();
    let v2 = dir.join("v2.json");
    std::fs::write(&v2, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let ok = bin()
        .arg("sign")
        .arg(&v2)
        .arg("--key")
        .arg(dir.join("k.key"))
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let signed = serde_json::from_str(&std::fs::read_to_string(&v2).unwrap()).unwrap();
    (v2, signed)
}

/// Replace `path` atomically (write aside, then rename), as a deploy should.
pub fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Whether /healthz names `id`.
pub fn serving(s: &Server, id: &str) -> bool {
    s.health()["model"] == id
}
