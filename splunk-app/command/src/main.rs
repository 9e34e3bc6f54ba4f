//! The `riskscore` executable that Splunk runs for `| riskscore ...`
//! (commands.conf: `chunked = true`). stdin/stdout carry the protocol, so
//! logs go to `$SPLUNK_HOME/var/log/splunk/riskscore.log` when run by Splunk
//! and to stderr otherwise; `RISKSCORE_LOG` sets the level (default `info`).
//! Run with the argument `riskdrift` it is the `| riskdrift` reporting
//! command instead ([`riskscore_command::drift`]).
//! `riskscore --version` prints the version and the SHA-256 of the embedded
//! scorer module (the package's `lib/scorer.wasm` has the same).

use std::io::{BufReader, BufWriter};
use std::sync::Mutex;

use riskscore_command::app;
use riskscore_command::command::{run, Setup};
use siem_adapter::engine::default_cache_dir;

fn init_logging(home: Option<&std::path::Path>) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RISKSCORE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
    let file = home.and_then(|h| {
        let path = app::log_file(h);
        std::fs::create_dir_all(path.parent()?).ok()?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    match file {
        Some(f) => builder.with_writer(Mutex::new(f)).init(),
        None => builder.with_writer(std::io::stderr).init(),
    }
}

/// Ask for 1 MiB pipe buffers on stdin and stdout (Linux; the default is
/// 64 KiB): a 16 MB chunk then crosses in 16 wake-ups instead of 256. Not a
/// pipe, or over `/proc/sys/fs/pipe-max-size`: left as it is.
fn widen_pipes() {
    #[cfg(target_os = "linux")]
    for fd in [0, 1] {
        // SAFETY: F_SETPIPE_SZ takes an int and touches no memory of ours;
        // on a descriptor that is not a pipe it fails with EBADF.
        let _ = unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20) };
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--version") {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(siem_adapter::engine::SCORER_WASM);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        println!(
            "riskscore {} (scorer.wasm sha256 {hex})",
            env!("CARGO_PKG_VERSION")
        );
        return;
    }
    let home = app::splunk_home();
    init_logging(home.as_deref());
    let setup = Setup {
        app_dir: app::app_dir(),
        cache_dir: match &home {
            Some(h) => Some(app::cache_dir(h)),
            None => default_cache_dir(),
        },
    };
    widen_pipes();
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let (input, output) = (
        BufReader::with_capacity(1 << 16, stdin.lock()),
        BufWriter::with_capacity(1 << 16, stdout.lock()),
    );
    // commands.conf runs `riskdrift` as this executable with `riskdrift` as its first argument.
    let code = match std::env::args().nth(1).as_deref() {
        Some("riskdrift") => riskscore_command::drift::run(input, output, &setup),
        _ => run(input, output, &setup),
    };
    std::process::exit(code);
}
