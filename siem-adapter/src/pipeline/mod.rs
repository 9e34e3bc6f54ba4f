//! The scoring pipeline of `siem-adapter score`: streaming, bounded memory,
//! every core busy.
//!
//! ```text
//! reader thread ──chunks──▶ worker 1..N (own engine each) ──blocks──▶ this thread: in order → sink
//! ```
//! - the reader cuts the input into chunks of `--batch-size` lines;
//! - each worker reads the model's fields out of its chunk, scores it in one
//!   engine call and renders the events (JSON lines or HEC envelopes);
//! - the calling thread puts blocks back in input order, passes them through
//!   the [drift monitor](crate::drift) (which may hold the first few until
//!   its window can be judged, and marks events while drift lasts) and hands
//!   them to the sink (file, CSV spool, or the HTTP Event Collector).
//!
//! Channels are bounded (two chunks per worker), so at most a few chunks are
//! ever in memory, whatever the input's size.

pub mod reader;
pub mod worker;

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use anyhow::Result;

use crate::drift::{DriftMonitor, WindowReport};
use crate::metrics::Metrics;
use reader::{Chunk, ChunkReader};
use worker::{Block, Worker};

/// What happened to the events of a run (or a block).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Events (and unreadable lines) read.
    pub read: u64,
    /// Events scored.
    pub scored: u64,
    /// Events with `anomaly_flag` = 1.
    pub flagged: u64,
    /// Events written with `risk_error`.
    pub errored: u64,
    /// Scored events marked `model_drift=1`.
    pub drifted: u64,
    /// Scored events whose flag was held back (drift action `suppress`).
    pub suppressed: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.read += o.read;
        self.scored += o.scored;
        self.flagged += o.flagged;
        self.errored += o.errored;
        self.drifted += o.drifted;
        self.suppressed += o.suppressed;
    }
}

/// Where rendered blocks go, in input order.
pub trait BlockSink {
    /// Take `block`, whose first event is the run's event number `first` (from 0).
    fn write(&mut self, block: &Block, first: u64) -> Result<()>;
    /// Take a side event (a drift summary), already rendered as this sink's
    /// events are; it is not one of the run's input events.
    fn side_event(&mut self, bytes: &[u8]) -> Result<()>;
    /// Called now and then while waiting for blocks (time-driven work: acks).
    fn tick(&mut self) -> Result<()> {
        Ok(())
    }
    /// Deliver everything still held; the run fails if this fails.
    fn finish(&mut self) -> Result<()>;
}

/// Run the pipeline to the end of `input`.
pub fn run(
    chunks: ChunkReader,
    workers: Vec<Worker>,
    sink: &mut dyn BlockSink,
    metrics: &Metrics,
    drift: Option<&mut DriftMonitor>,
    mut on_block: impl FnMut(&Counts),
) -> Result<Counts> {
    let n = workers.len().max(1);
    let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(2 * n);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let (block_tx, block_rx) = sync_channel::<Block>(2 * n);
    std::thread::scope(|s| -> Result<Counts> {
        s.spawn(move || {
            for c in chunks {
                if chunk_tx.send(c).is_err() {
                    break; // the run stopped
                }
            }
        });
        for mut w in workers {
            let rx = Arc::clone(&chunk_rx);
            let tx = block_tx.clone();
            s.spawn(move || loop {
                let next = rx.lock().map(|r| r.recv());
                let Ok(Ok(chunk)) = next else { break };
                if tx.send(w.process(&chunk)).is_err() {
                    break;
                }
            });
        }
        drop(block_tx);
        // Only the workers hold the chunk receiver now: when they stop (the
        // run failed), the reader's next send fails and it stops too.
        drop(chunk_rx);
        let mut out = Ordered {
            sink,
            metrics,
            drift,
            total: Counts::default(),
            on_block: &mut on_block,
        };
        let result = out.write_in_order(block_rx);
        // On error the receiver is dropped here, which stops the workers and the reader.
        result
    })
}

/// The calling thread's end of the pipeline: blocks in input order, through
/// the drift monitor, to the sink.
struct Ordered<'a, F: FnMut(&Counts)> {
    sink: &'a mut dyn BlockSink,
    metrics: &'a Metrics,
    drift: Option<&'a mut DriftMonitor>,
    total: Counts,
    on_block: &'a mut F,
}

impl<F: FnMut(&Counts)> Ordered<'_, F> {
    fn write_in_order(&mut self, blocks: Receiver<Block>) -> Result<Counts> {
        let mut next_seq = 0u64;
        let mut waiting: BTreeMap<u64, Block> = BTreeMap::new();
        let (mut ready, mut reports) = (Vec::new(), Vec::new());
        loop {
            let block = match blocks.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(b) => b,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    self.sink.tick()?;
                    self.metrics.maybe_flush();
                    continue;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            };
            waiting.insert(block.seq, block);
            while let Some(b) = waiting.remove(&next_seq) {
                next_seq += 1;
                self.metrics.record_scores(&b.scores);
                match self.drift.as_deref_mut() {
                    Some(m) => m.admit(b, &mut ready, &mut reports)?,
                    None => ready.push(b),
                }
                self.deliver(&mut ready, &mut reports)?;
            }
            self.metrics.maybe_flush();
        }
        if let Some(m) = self.drift.as_deref_mut() {
            m.finish(&mut ready, &mut reports)?;
            self.deliver(&mut ready, &mut reports)?;
        }
        self.sink.finish()?;
        Ok(self.total)
    }

    fn deliver(&mut self, ready: &mut Vec<Block>, reports: &mut Vec<WindowReport>) -> Result<()> {
        for b in ready.drain(..) {
            self.sink.write(&b, self.total.read)?;
            self.total += b.counts;
            self.metrics.record_block(&b.counts, b.seconds);
            (self.on_block)(&self.total);
        }
        for r in reports.drain(..) {
            self.metrics.set_drift(&r);
            if let Some(m) = self.drift.as_deref() {
                if let Some(bytes) = m.summary_bytes(&r) {
                    self.sink.side_event(&bytes)?;
                }
            }
        }
        Ok(())
    }
}
