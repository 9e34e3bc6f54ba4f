//! Scored events to the HTTP Event Collector: requests cut by event count
//! and bytes, indexer acknowledgement with a bounded window of outstanding
//! requests, a dead-letter file for requests that exhaust their retries, and
//! a checkpoint after every change (see the [module docs](super)).

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::checkpoint::{Checkpoint, Pending};
use super::client::{HecClient, SendError};
use crate::metrics::Metrics;
use crate::pipeline::worker::Block;
use crate::pipeline::BlockSink;

struct Inflight {
    first: u64,
    end: u64,
    events: u64,
    body: Vec<u8>,
    ack_id: u64,
    acked: bool,
    /// Its ack id no longer means anything: the collector's ids on our
    /// channel started again (a restart forgets channels), so that id may
    /// now belong to a newer request. Never polled; sent again.
    stale: bool,
    sent: Instant,
    resends: u32,
}

/// Delivery totals of a run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Delivery {
    /// Events confirmed delivered.
    pub delivered: u64,
    /// Events written to the dead-letter file.
    pub dead_lettered: u64,
    /// Events skipped because a previous run delivered them (checkpoint).
    pub skipped: u64,
}

/// The HEC sink.
pub struct HecSink {
    client: HecClient,
    channel: Option<String>,
    checkpoint: Option<(PathBuf, Checkpoint)>,
    dead_letter: Option<PathBuf>,
    cur: Vec<u8>,
    cur_events: u64,
    cur_first: Option<u64>,
    cur_end: u64,
    inflight: VecDeque<Inflight>,
    /// The ack id the collector will give the next request on our channel.
    next_ack: u64,
    settled: u64,
    last_poll: Instant,
    metrics: Arc<Metrics>,
    /// Totals.
    pub delivery: Delivery,
}

impl HecSink {
    /// A sink; `checkpoint` = (file, state loaded or new); pending acks of a
    /// previous run are resolved here.
    pub fn new(
        client: HecClient,
        checkpoint: Option<(PathBuf, Checkpoint)>,
        dead_letter: Option<PathBuf>,
        metrics: Arc<Metrics>,
    ) -> Result<Self> {
        let channel = client.settings().ack.then(super::new_channel);
        let mut sink = HecSink {
            channel,
            checkpoint,
            dead_letter,
            cur: Vec::new(),
            cur_events: 0,
            cur_first: None,
            cur_end: 0,
            inflight: VecDeque::new(),
            next_ack: 0,
            settled: 0,
            last_poll: Instant::now(),
            metrics,
            delivery: Delivery::default(),
            client,
        };
        sink.resolve_previous()?;
        Ok(sink)
    }

    /// Ask about the acks a killed run was still waiting for.
    fn resolve_previous(&mut self) -> Result<()> {
        let Some((path, cp)) = &mut self.checkpoint else {
            return Ok(());
        };
        self.settled = cp.settled;
        let mut by_channel: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
        for (i, p) in cp.pending.iter().enumerate() {
            if !p.acked {
                by_channel.entry(p.channel.clone()).or_default().push(i);
            }
        }
        // Wait (up to the ack timeout) for the acks the killed run was waiting for.
        let started = Instant::now();
        let settings = self.client.settings().clone();
        for (channel, mut idx) in by_channel {
            while !idx.is_empty() {
                let ids: Vec<u64> = idx.iter().map(|&i| cp.pending[i].ack_id).collect();
                match self.client.poll_acks(&channel, &ids) {
                    Ok(acked) => {
                        for (k, &i) in idx.iter().enumerate() {
                            cp.pending[i].acked = acked[k];
                        }
                        idx.retain(|&i| !cp.pending[i].acked);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot ask about the previous run's acks; sending those events again");
                        break;
                    }
                }
                if idx.is_empty() || started.elapsed() >= settings.ack_timeout {
                    break;
                }
                std::thread::sleep(settings.ack_interval);
            }
        }
        let before = cp.pending.len();
        cp.pending.retain(|p| p.acked);
        tracing::info!(
            settled = cp.settled,
            acked = cp.pending.len(),
            resent = before - cp.pending.len(),
            "resuming from checkpoint"
        );
        cp.save(path)?;
        Ok(())
    }

    fn is_done(&self, n: u64) -> bool {
        self.checkpoint
            .as_ref()
            .is_some_and(|(_, cp)| cp.is_done(n))
    }

    fn save(&mut self) -> Result<()> {
        let Some((path, cp)) = &mut self.checkpoint else {
            return Ok(());
        };
        cp.settled = self.settled;
        let settled = self.settled;
        cp.pending
            .retain(|p| p.acked && p.end > settled && !p.channel.is_empty());
        let mine = self.channel.clone().unwrap_or_default();
        // A stale request is not recorded: a resumed run sends it again.
        for f in self.inflight.iter().filter(|f| !f.stale) {
            if !cp
                .pending
                .iter()
                .any(|p| p.first == f.first && p.channel == mine && p.ack_id == f.ack_id)
            {
                cp.pending.push(Pending {
                    first: f.first,
                    end: f.end,
                    channel: mine.clone(),
                    ack_id: f.ack_id,
                    acked: f.acked,
                });
            }
        }
        for p in &mut cp.pending {
            if let Some(f) = self
                .inflight
                .iter()
                .find(|f| f.first == p.first && f.ack_id == p.ack_id)
            {
                p.acked = f.acked;
            }
        }
        cp.save(path)
    }

    /// Events up to `end` are settled; `delivered` of them reached the collector.
    fn settle(&mut self, end: u64, delivered: u64) {
        self.settled = self.settled.max(end);
        self.delivery.delivered += delivered;
        self.metrics.delivered.fetch_add(delivered, Relaxed);
    }

    fn undeliverable(
        &mut self,
        body: &[u8],
        first: u64,
        end: u64,
        events: u64,
        why: &SendError,
    ) -> Result<()> {
        let Some(path) = &self.dead_letter else {
            bail!(
                "events {first}..{end} could not be delivered ({why}); nothing after them was sent. \
                 Re-run with the same --checkpoint to resume, or give --dead-letter FILE to set such requests aside"
            );
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            // Dead letters hold events: readable by their owner only.
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(path)
            .with_context(|| format!("cannot open dead-letter file {}", path.display()))?;
        f.write_all(body)?;
        f.sync_data()?;
        tracing::error!(first, end, error = %why, file = %path.display(), "request set aside in the dead-letter file");
        self.delivery.dead_lettered += events;
        self.metrics.dead_lettered.fetch_add(events, Relaxed);
        Ok(())
    }

    /// Send the request being built.
    fn flush(&mut self) -> Result<()> {
        let Some(first) = self.cur_first.take() else {
            return Ok(());
        };
        let body = std::mem::take(&mut self.cur);
        let (end, events) = (self.cur_end, std::mem::take(&mut self.cur_events));
        if self.channel.is_some() {
            while self.inflight.len() >= self.client.settings().max_pending {
                self.wait_for_acks()?;
            }
        }
        if self.channel.is_some() {
            // Recorded before sending, under the ack id the collector will
            // give it (ids count up per channel): if this run is killed before
            // the reply is read, the next run asks about that id instead of
            // sending the events again.
            self.inflight.push_back(Inflight {
                first,
                end,
                events,
                body,
                ack_id: self.next_ack,
                acked: false,
                stale: false,
                sent: Instant::now(),
                resends: 0,
            });
            self.save()?;
            let sent = self.inflight.back().expect("pushed");
            match self.client.send_events(&sent.body, self.channel.as_deref()) {
                Ok(id) => {
                    let id = id.expect("send_events returns an ack id on a channel");
                    let last = self.inflight.len() - 1;
                    self.note_ack_id(id, last);
                    let f = self.inflight.back_mut().expect("pushed");
                    f.ack_id = id;
                    f.sent = Instant::now();
                }
                Err(e) => {
                    let f = self.inflight.pop_back().expect("pushed");
                    self.failed(f.body, first, end, events, e)?;
                }
            }
        } else {
            match self.client.send_events(&body, None) {
                Ok(_) => self.settle(end, events),
                Err(e) => self.failed(body, first, end, events, e)?,
            }
        }
        self.save()
    }

    fn failed(
        &mut self,
        body: Vec<u8>,
        first: u64,
        end: u64,
        events: u64,
        e: SendError,
    ) -> Result<()> {
        match e {
            e @ SendError::Exhausted { .. } => {
                self.undeliverable(&body, first, end, events, &e)?;
                // Settled in its turn: after the requests sent before it.
                self.inflight.push_back(Inflight {
                    first,
                    end,
                    events: 0,
                    body: Vec::new(),
                    ack_id: u64::MAX,
                    acked: true,
                    stale: false,
                    sent: Instant::now(),
                    resends: 0,
                });
                Ok(())
            }
            SendError::Permanent(e) => {
                bail!("{e} (events {first}..{end} not sent; the checkpoint, if any, resumes here)")
            }
        }
    }

    /// Poll outstanding acks once; settle the acknowledged prefix; resend the overdue.
    fn poll(&mut self) -> Result<()> {
        self.last_poll = Instant::now();
        if let Some(channel) = self.channel.clone() {
            self.poll_channel(&channel)?;
        }
        while self.inflight.front().is_some_and(|f| f.acked) {
            let f = self.inflight.pop_front().expect("checked");
            self.settle(f.end, f.events);
        }
        self.save()
    }

    fn poll_channel(&mut self, channel: &str) -> Result<()> {
        let ids: Vec<u64> = self
            .inflight
            .iter()
            .filter(|f| !f.acked && !f.stale)
            .map(|f| f.ack_id)
            .collect();
        if !ids.is_empty() {
            let acked = self
                .client
                .poll_acks(channel, &ids)
                .map_err(|e| anyhow::anyhow!("cannot poll indexer acknowledgements: {e}"))?;
            for (k, f) in self
                .inflight
                .iter_mut()
                .filter(|f| !f.acked && !f.stale)
                .enumerate()
            {
                f.acked = acked[k];
            }
        }
        // Overdue: send again (at least once).
        let timeout = self.client.settings().ack_timeout;
        let retries = self.client.settings().retries;
        for i in 0..self.inflight.len() {
            let f = &self.inflight[i];
            if f.acked || (!f.stale && f.sent.elapsed() < timeout) {
                continue;
            }
            tracing::warn!(
                first = f.first,
                end = f.end,
                ack_id = f.ack_id,
                stale = f.stale,
                "no ack in time, or its ack id is void; sending the request again"
            );
            self.metrics.hec_retries.fetch_add(1, Relaxed);
            let result = if f.resends >= retries {
                Err(SendError::Exhausted {
                    attempts: f.resends + 1,
                    last: "never acknowledged".into(),
                })
            } else {
                self.client.send_events(&f.body, Some(channel))
            };
            match result {
                Ok(id) => {
                    if let Some(id) = id {
                        self.note_ack_id(id, i);
                    }
                    let f = &mut self.inflight[i];
                    f.ack_id = id.unwrap_or(f.ack_id);
                    f.stale = false;
                    f.sent = Instant::now();
                    f.resends += 1;
                }
                Err(SendError::Permanent(e)) => bail!("{e}"),
                Err(e) => {
                    let f = &mut self.inflight[i];
                    let body = std::mem::take(&mut f.body);
                    f.acked = true; // settled by the dead-letter file
                    let (first, end, events) = (f.first, f.end, f.events);
                    self.undeliverable(&body, first, end, events, &e)?;
                    self.inflight[i].events = 0;
                }
            }
        }
        Ok(())
    }

    /// The collector gave `id` to the request at `index`. Ids count up per
    /// channel; one lower than expected means the collector forgot the
    /// channel (a restart), so every other unacknowledged request's id is
    /// void: it may already name a newer request, and polling it could
    /// confirm events that were lost. Those requests are sent again.
    fn note_ack_id(&mut self, id: u64, index: usize) {
        if id < self.next_ack {
            let mut voided = 0;
            for (i, f) in self.inflight.iter_mut().enumerate() {
                if i != index && !f.acked && !f.stale {
                    f.stale = true;
                    voided += 1;
                }
            }
            tracing::warn!(
                expected = self.next_ack,
                got = id,
                requests = voided,
                "the collector's ack ids started again (restarted?); requests still waiting for acks are sent again"
            );
        } else if id > self.next_ack {
            tracing::debug!(expected = self.next_ack, got = id, "ack ids moved on");
        }
        self.next_ack = id + 1;
    }

    fn wait_for_acks(&mut self) -> Result<()> {
        let interval = self.client.settings().ack_interval;
        let elapsed = self.last_poll.elapsed();
        if elapsed < interval {
            std::thread::sleep(interval - elapsed);
        }
        self.poll()
    }
}

impl BlockSink for HecSink {
    fn write(&mut self, block: &Block, first: u64) -> Result<()> {
        let s = self.client.settings();
        let (max_events, max_bytes) = (s.batch_events as u64, s.batch_bytes);
        let mut start = 0;
        for (i, &end) in block.ends.iter().enumerate() {
            let n = first + i as u64;
            let bytes = &block.bytes[start..end];
            start = end;
            if self.is_done(n) {
                self.delivery.skipped += 1;
                continue;
            }
            if self.cur_events > 0
                && (self.cur_events >= max_events || self.cur.len() + bytes.len() > max_bytes)
            {
                self.flush()?;
            }
            self.cur.extend_from_slice(bytes);
            self.cur_events += 1;
            self.cur_first.get_or_insert(n);
            self.cur_end = n + 1;
        }
        Ok(())
    }

    fn side_event(&mut self, bytes: &[u8]) -> Result<()> {
        // Not one of the run's events: sent on its own (own channel when acks
        // are on, so the run's ack numbering is untouched), not checkpointed.
        let channel = self.client.settings().ack.then(super::new_channel);
        match self.client.send_events(bytes, channel.as_deref()) {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!(error = %e, "drift summary event not delivered");
                Ok(())
            }
        }
    }

    fn tick(&mut self) -> Result<()> {
        if !self.inflight.is_empty()
            && self.last_poll.elapsed() >= self.client.settings().ack_interval
        {
            self.poll()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.flush()?;
        while !self.inflight.is_empty() {
            self.wait_for_acks()?;
        }
        if let Some((_, cp)) = &mut self.checkpoint {
            cp.complete = true;
        }
        self.save()
    }
}
