//! The floor of `bench/adapter.sh`: a bare parse-and-reserialize loop over
//! a JSON-lines file (serde_json, one thread), with no scoring at all.
//!
//! `cargo run --release -p siem-adapter --example json_floor -- IN OUT`

use std::io::{BufRead, BufWriter, Write};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (input, output) = (&args[1], &args[2]);
    let started = std::time::Instant::now();
    let reader = std::io::BufReader::with_capacity(1 << 17, std::fs::File::open(input)?);
    let mut out = BufWriter::with_capacity(1 << 17, std::fs::File::create(output)?);
    let mut n = 0u64;
    for line in reader.lines() {
        let line = line?;
        let v: serde_json::Value = serde_json::from_str(&line)?;
        serde_json::to_writer(&mut out, &v)?;
        out.write_all(b"\n")?;
        n += 1;
    }
    out.flush()?;
    let s = started.elapsed().as_secs_f64();
    println!("{n} events in {s:.3} s: {:.0} events/s", n as f64 / s);
    Ok(())
}
