//! `siem-adapter replay`: send a dead-letter file (HEC envelopes, one per
//! line, as `score --dead-letter` wrote them) to the HTTP Event Collector
//! again. On success the file is renamed `<file>.replayed`, so it is not sent twice.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::hec::client::HecClient;
use crate::hec::sink::HecSink;
use crate::hec::{HecArgs, Token};
use crate::metrics::Metrics;
use crate::pipeline::worker::Block;
use crate::pipeline::BlockSink;

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The dead-letter file to send again.
    #[arg(long = "file")]
    pub file: PathBuf,
    /// Where to send it.
    #[command(flatten)]
    pub hec: HecArgs,
}

/// Run `replay`.
pub fn run(a: &ReplayArgs) -> Result<i32> {
    let Some(settings) = a.hec.settings() else {
        bail!("replay needs --hec-url");
    };
    if a.hec.dead_letter.is_some() || a.hec.checkpoint.is_some() {
        bail!("replay takes neither --dead-letter nor --checkpoint: it stops at the first request that cannot be delivered and keeps the file");
    }
    let metrics = Arc::new(Metrics::new(
        "replay",
        "none",
        None,
        Duration::from_secs(3600),
    ));
    let token = Token::load(a.hec.hec_token_file.as_deref())?;
    let client = HecClient::new(settings, token, Arc::clone(&metrics))?;
    let mut sink = HecSink::new(client, None, None, Arc::clone(&metrics))?;
    let f = std::fs::File::open(&a.file)
        .with_context(|| format!("cannot open {}", a.file.display()))?;
    let mut reader = std::io::BufReader::new(f);
    let mut block = Block::default();
    let mut line = Vec::new();
    let mut sent = 0u64;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n > 0 && !line.iter().all(u8::is_ascii_whitespace) {
            if !line.ends_with(b"\n") {
                line.push(b'\n');
            }
            block.bytes.extend_from_slice(&line);
            block.ends.push(block.bytes.len());
        }
        if block.ends.len() >= 4096 || (n == 0 && !block.ends.is_empty()) {
            sink.write(&block, sent)?;
            sent += block.ends.len() as u64;
            block = Block::default();
        }
        if n == 0 {
            break;
        }
    }
    sink.finish()?;
    let done = a.file.with_extension("replayed");
    std::fs::rename(&a.file, &done)
        .with_context(|| format!("cannot rename {}", a.file.display()))?;
    eprintln!(
        "riskscore: replayed {} events from {} (now {})",
        sink.delivery.delivered,
        a.file.display(),
        done.display()
    );
    Ok(0)
}
