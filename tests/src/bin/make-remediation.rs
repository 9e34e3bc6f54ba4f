//! `make-remediation`: the synthetic remediation records of
//! [`riskscore_tests::synthetic`] as JSON lines on stdout, for the
//! remediation example (`examples/remediation/`).
//!
//! ```sh
//! cargo run -p riskscore-tests --bin make-remediation -- --client 3 --events 2000 --seed 8
//! ```

use std::io::Write;

use anyhow::{bail, Result};
use clap::Parser;
use riskscore_tests::synthetic::remediation;

/// Synthetic vulnerability-remediation records of one client, seeded.
#[derive(Debug, Parser)]
#[command(name = "make-remediation", version)]
struct Args {
    /// Client 1 or 2 (one remediation process) or 3 (another one).
    #[arg(long)]
    client: u8,
    /// Records to write.
    #[arg(long, default_value_t = 2000)]
    events: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> Result<()> {
    let a = Args::parse();
    if !(1..=3).contains(&a.client) {
        bail!("--client is 1, 2 or 3");
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for r in remediation(a.client, a.events, a.seed) {
        serde_json::to_writer(&mut out, &r)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
