//! splunkd hands the command its session key (`searchinfo.session_key`, a
//! credential for splunkd's REST API) in getinfo. It must never reach the
//! command's log, its stderr, or its replies — at the most verbose log level,
//! in a search that succeeds and in one that fails.

mod common;

use common::*;
use serde_json::json;

const SESSION_KEY: &str = "Kx9-session-key-of-splunkd-3c1f0a7e";

fn getinfo_with_key(args: &[&str]) -> Vec<u8> {
    chunk(
        &json!({"action": "getinfo", "preview": false, "searchinfo": {
            "args": args, "raw_args": args, "sid": "secrets.1", "app": "riskscore",
            "username": "admin", "dispatch_dir": "/tmp", "splunk_version": "9.3.0",
            "session_key": SESSION_KEY, "splunkd_uri": "https://127.0.0.1:8089",
            "search": "%7C%20riskscore%20model%3Dtweets"}}),
        b"",
    )
}

#[test]
fn the_session_key_never_reaches_logs_or_replies() {
    let app = TestApp::new();
    let home = tempfile::tempdir().unwrap();
    let input = gunzip(&transcripts().join("countmatches.input.gz"));
    let body = chunks(&input)[1].1.clone();
    for args in [
        &["model=tweets", "engine=native", "explain=2"][..],
        &["model=tweets"],
        &["model=no_such_model"],
        &["model=tweets", "threshold=bad"],
    ] {
        let mut s = getinfo_with_key(args);
        s.extend(execute(&body, true));
        let cache = home.path().join("cache");
        let mut cmd = std::process::Command::new(BIN);
        cmd.env("RISKSCORE_APP_DIR", app.path())
            .env("RISKSCORE_CACHE_DIR", &cache)
            .env("SPLUNK_HOME", home.path())
            // Our crates at trace; wasmtime and cranelift at trace would log every instruction.
            .env(
                "RISKSCORE_LOG",
                "info,riskscore=trace,riskscore_command=trace,siem_adapter=trace",
            )
            .env_remove("RISKSCORE_TRUSTED_KEYS");
        let run = run_process(cmd, s, std::time::Duration::from_secs(120), "riskscore");
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            !stdout.contains(SESSION_KEY),
            "{args:?}: the session key is in a reply"
        );
        assert!(
            !run.stderr.contains(SESSION_KEY),
            "{args:?}: the session key is on stderr"
        );
    }
    let log = std::fs::read_to_string(home.path().join("var/log/splunk/riskscore.log"))
        .expect("the command logged under $SPLUNK_HOME");
    assert!(log.contains("secrets.1"), "the log has the searches: {log}");
    assert!(!log.contains(SESSION_KEY), "the session key is in the log");
}
