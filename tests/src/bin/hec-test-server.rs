//! `hec-test-server`: a Splunk HTTP Event Collector **test server** (not
//! Splunk) for trying `siem-adapter score … --hec-url` without a Splunk
//! install. It accepts HEC event POSTs, optionally with indexer
//! acknowledgement and TLS, prints its URL, and runs until killed.
//!
//! ```sh
//! cargo run -p riskscore-tests --bin hec-test-server -- --token my-token --dump hec.jsonl
//! ```

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use clap::Parser;
use riskscore_tests::hec_server::{HecTestConfig, HecTestServer};

/// A Splunk HEC test server (not Splunk): stores what it receives, in memory
/// and optionally in a JSON-lines file.
#[derive(Debug, Parser)]
#[command(name = "hec-test-server", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on (0 picks a free one). 8088 is Splunk's HEC default.
    #[arg(long, default_value_t = 8088)]
    port: u16,
    /// A token to accept (`Authorization: Splunk <token>`); repeatable.
    #[arg(long, env = "HEC_TEST_TOKEN")]
    token: Vec<String>,
    /// A file holding the token to accept (surrounding whitespace ignored).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Turn on indexer acknowledgement (clients must send a channel GUID).
    #[arg(long)]
    acks: bool,
    /// With --acks: polls answered false before an ack turns true.
    #[arg(long, default_value_t = 0)]
    ack_after_polls: u32,
    /// Accept only these indexes in envelopes' `index` (repeatable).
    #[arg(long)]
    index: Vec<String>,
    /// Serve HTTPS with a fresh self-signed certificate for 127.0.0.1/localhost.
    #[arg(long)]
    tls: bool,
    /// With --tls: write the certificate (PEM) here, for clients to trust.
    #[arg(long, requires = "tls")]
    ca_out: Option<PathBuf>,
    /// Append every stored envelope to this file as one JSON line.
    #[arg(long)]
    dump: Option<PathBuf>,
    /// Do not log requests to stderr.
    #[arg(long)]
    quiet: bool,
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("hec-test-server: {e:#}");
        std::process::exit(2);
    }
}

fn run(args: Args) -> Result<()> {
    let mut tokens = args.token;
    if let Some(path) = &args.token_file {
        let t = std::fs::read_to_string(path)
            .with_context(|| format!("{}: reading token", path.display()))?;
        tokens.push(t.trim().to_string());
    }
    let Some((first, rest)) = tokens.split_first() else {
        bail!("give a token with --token or --token-file");
    };
    let mut config = HecTestConfig::new(first)
        .acks(args.acks)
        .ack_after_polls(args.ack_after_polls)
        .log_requests(!args.quiet);
    for t in rest {
        config = config.token(t);
    }
    if !args.index.is_empty() {
        config = config.allowed_indexes(args.index);
    }
    if let Some(path) = &args.dump {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("{}: opening dump file", path.display()))?;
        let file: Mutex<File> = Mutex::new(file);
        config = config.on_store(move |event| {
            let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = writeln!(f, "{event}") {
                eprintln!("hec-test-server: dump: {e}");
            }
        });
    }
    let server = HecTestServer::bind((args.bind.as_str(), args.port), config, args.tls)
        .with_context(|| format!("listening on {}:{}", args.bind, args.port))?;
    if let (Some(path), Some(pem)) = (&args.ca_out, server.ca_pem()) {
        std::fs::write(path, pem).with_context(|| format!("{}: writing CA", path.display()))?;
        eprintln!("hec-test-server: certificate written to {}", path.display());
    }
    println!("{}", server.url());
    std::io::stdout().flush()?;
    eprintln!(
        "hec-test-server: HEC test server (not Splunk) on {}; events at {}/services/collector/event",
        server.url(),
        server.url()
    );
    loop {
        std::thread::park();
    }
}
