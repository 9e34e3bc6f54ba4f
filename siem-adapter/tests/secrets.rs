//! Secrets never leave their files: a run with a known HEC token and a known
//! signing key, at the most verbose log level, through success, retries,
//! refusals, dead letters and replay; then every byte the runs wrote —
//! stdout, stderr, output, checkpoint, dead-letter and metrics files — is
//! searched for the secrets. The HEC endpoint is the *test server* of the
//! `riskscore-tests` crate on 127.0.0.1, not Splunk.

use std::path::{Path, PathBuf};
use std::process::Command;

use riskscore_tests::hec_server::{HecTestConfig, HecTestServer};
use serde_json::Value;

const TOKEN: &str = "0f1e2d3c-secret-hec-token-7a6b5c4d";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Everything a run printed or wrote, collected for the search.
#[derive(Default)]
struct Seen {
    texts: Vec<(String, Vec<u8>)>,
}

impl Seen {
    fn run(&mut self, what: &str, mut c: Command) -> i32 {
        let out = c.env("RUST_LOG", "trace").output().unwrap();
        self.texts.push((format!("{what}: stdout"), out.stdout));
        self.texts.push((format!("{what}: stderr"), out.stderr));
        out.status.code().unwrap_or(-1)
    }

    fn files(&mut self, dir: &Path, skip: &[&Path]) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() && !skip.iter().any(|s| *s == p) {
                self.texts
                    .push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }

    /// No text holds `secret`; the search itself is checked to find a planted copy.
    fn assert_absent(&self, secret: &str) {
        assert!(self.texts.len() > 3, "nothing was collected");
        for (what, bytes) in &self.texts {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains(secret),
                "the secret leaked into {what}:\n{text}"
            );
        }
        let planted = format!("log line with {secret} inside");
        assert!(planted.contains(secret));
    }
}

fn score(dir: &Path, url: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    c.args(["-vvv", "score", "--engine", "native", "--model"])
        .arg(root().join("examples/models/threat_rf.json"))
        .arg("--trusted-key")
        .arg(root().join("examples/keys/dev-signing.pub"))
        .arg("--input")
        .arg(root().join("examples/data/alerts_new.jsonl"))
        .args(["--hec-url", url, "--hec-token-file"])
        .arg(dir.join("hec.token"))
        .arg("--metrics-file")
        .arg(dir.join("metrics.prom"))
        .arg("--dead-letter")
        .arg(dir.join("dead.jsonl"))
        .args(["--hec-retries", "2", "--hec-retry-base-ms", "5"])
        .args(["--hec-retry-max-ms", "20", "--hec-batch-events", "20"])
        .args(extra)
        .env_remove("RISKSCORE_HEC_TOKEN");
    c
}

#[test]
fn the_hec_token_appears_in_no_output_log_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let token_file = d.join("hec.token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let mut seen = Seen::default();

    // 1. Success with acks, after 503 bursts and a dropped connection.
    let server = HecTestServer::start(HecTestConfig::new(TOKEN).acks(true)).unwrap();
    server.busy_next(2);
    server.drop_next(1);
    let cp = d.join("checkpoint.json");
    let mut c = score(d, &server.url(), &["--hec-ack", "--checkpoint"]);
    c.arg(&cp);
    // Exit 1: the example batch holds one malformed line on purpose.
    assert_eq!(seen.run("delivered", c), 1);
    assert!(server.event_count() > 0);

    // 2. The token refused (401 invalid, 403 disabled).
    let other = HecTestServer::start(HecTestConfig::new("some-other-token")).unwrap();
    assert_eq!(seen.run("invalid token", score(d, &other.url(), &[])), 2);
    let disabled = HecTestServer::start(HecTestConfig::new(TOKEN)).unwrap();
    disabled.disable_token(TOKEN);
    assert_eq!(
        seen.run("disabled token", score(d, &disabled.url(), &[])),
        2
    );

    // 3. An endpoint that never answers well: batches go to the dead-letter
    // file, which is then replayed to a healthy server.
    let down = HecTestServer::start(HecTestConfig::new(TOKEN)).unwrap();
    down.busy_next(1000);
    seen.run("dead letters", score(d, &down.url(), &[]));
    let dead = std::fs::read_to_string(d.join("dead.jsonl")).unwrap();
    assert!(!dead.is_empty(), "the dead-letter file was written");
    let healthy = HecTestServer::start(HecTestConfig::new(TOKEN)).unwrap();
    let mut r = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    r.args(["-vvv", "replay", "--file"])
        .arg(d.join("dead.jsonl"))
        .args(["--hec-url", &healthy.url(), "--hec-token-file"])
        .arg(&token_file)
        .env_remove("RISKSCORE_HEC_TOKEN");
    assert_eq!(seen.run("replay", r), 0);
    assert!(healthy.event_count() > 0);

    // 4. The token given through the environment instead of a file.
    let c = score(d, &healthy.url(), &[]);
    let args: Vec<_> = c.get_args().map(|a| a.to_os_string()).collect();
    let at = args.iter().position(|a| a == "--hec-token-file").unwrap();
    let mut e = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    e.args(&args[..at])
        .args(&args[at + 2..])
        .env("RISKSCORE_HEC_TOKEN", TOKEN);
    seen.run("token from env", e);

    seen.files(d, &[&token_file]);
    let metrics = std::fs::read_to_string(d.join("metrics.prom")).unwrap();
    assert!(metrics.contains("riskscore_"), "metrics were written");
    let state: Value = serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    assert!(state.is_object());
    seen.assert_absent(TOKEN);
}

#[test]
fn the_signing_key_appears_in_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut seen = Seen::default();
    let mut k = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    k.args(["-vvv", "keygen", "--name", "leaky", "--out-dir"])
        .arg(d);
    assert_eq!(seen.run("keygen", k), 0);
    let key_file = d.join("leaky.key");
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    let key: Value = serde_json::from_str(&key_text).unwrap();
    let secret = key["key"].as_str().unwrap().to_string();
    assert!(secret.len() >= 40, "a base64 Ed25519 seed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the secret key file is private");
    }
    let model = d.join("model.json");
    std::fs::copy(root().join("examples/models/threat_lr.json"), &model).unwrap();
    let mut s = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    s.args(["-vvv", "sign", "--approval", "approved", "--key"])
        .arg(&key_file)
        .arg(&model);
    assert_eq!(seen.run("sign", s), 0);
    let mut s = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    s.args(["-vvv", "sign", "--output"])
        .arg(d.join("model-env.json"))
        .arg(&model)
        .env("RISKSCORE_SIGNING_KEY", &key_text);
    assert_eq!(seen.run("sign from env", s), 0);
    // A wrong key file: the error names the file, not its content.
    let bad = d.join("bad.key");
    std::fs::write(&bad, format!("{secret}garbage")).unwrap();
    let mut s = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    s.args(["-vvv", "sign", "--key"]).arg(&bad).arg(&model);
    assert_ne!(seen.run("bad key", s), 0);
    let mut v = Command::new(env!("CARGO_BIN_EXE_siem-adapter"));
    v.args(["-vvv", "verify"])
        .arg(&model)
        .arg("--trusted-key")
        .arg(d.join("leaky.pub"));
    assert_eq!(seen.run("verify", v), 0);
    seen.files(d, &[&key_file, &bad]);
    seen.assert_absent(&secret);
}
