//! `siem-adapter`: train, sign, inspect and run riskscore models.
//!
//! Exit codes: 0 success; 1 the run finished but some events carry
//! `risk_error` (score), the artifact failed verification (verify), a metric
//! dropped beyond the margin (evaluate --fail-on-drop), or the challenger was
//! not promoted (train --champion --promote); 2 a fatal error, printed with
//! its causes (for `serve`: the model did not load or the address could not
//! be bound). A closed stdout (`| head`) exits 0. `serve` runs until SIGTERM
//! or SIGINT and then exits 0.

use clap::{Parser, Subcommand};
use siem_adapter::commands::{evaluate, inspect, keys, mouse, replay, score, train};
use siem_adapter::serve;

#[derive(Parser)]
#[command(
    name = "siem-adapter",
    version,
    about = "riskscore: ML risk scoring for security alerts"
)]
struct Cli {
    /// Log level filter (also RUST_LOG), e.g. `info` or `siem_adapter=debug`.
    #[arg(long, global = true, default_value = "warn")]
    log: String,
    /// More logs on stderr: -v info, -vv debug, -vvv trace.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fit a model from a table and write its artifact (with --champion: compare and promote).
    Train(Box<train::TrainArgs>),
    /// Make an Ed25519 signing key pair.
    Keygen(keys::KeygenArgs),
    /// Sign an artifact (and optionally set its approval).
    Sign(keys::SignArgs),
    /// Check an artifact's digest, signature and trust.
    Verify(keys::VerifyArgs),
    /// Print a model card: metadata, signature, schema, metrics.
    Inspect(inspect::InspectArgs),
    /// Score an exported alert batch.
    Score(Box<score::ScoreArgs>),
    /// Send a dead-letter file to the HTTP Event Collector again.
    Replay(Box<replay::ReplayArgs>),
    /// Measure a model on a labelled batch and compare with its training metrics.
    Evaluate(Box<evaluate::EvaluateArgs>),
    /// Serve scoring over HTTP (POST /v1/score, GET /healthz, GET /metrics).
    Serve(Box<serve::ServeArgs>),
    /// Mouse dynamics: gesture features, per-account session models, session scoring.
    Mouse(mouse::MouseArgs),
}

fn main() {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(match cli.verbose {
            0 => cli.log.as_str(),
            1 => "info",
            2 => "debug",
            _ => "trace",
        })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = match &cli.command {
        Command::Train(a) => train::run(a),
        Command::Keygen(a) => keys::keygen(a),
        Command::Sign(a) => keys::sign(a),
        Command::Verify(a) => keys::verify(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Score(a) => score::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Mouse(a) => mouse::run(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                std::process::exit(0);
            }
            eprintln!("siem-adapter: error: {e:#}");
            std::process::exit(2);
        }
    }
}
