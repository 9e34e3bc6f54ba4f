//! An execute chunk's records flow in windows of [`ENGINE_BATCH`]: read from
//! the CSV body, scored by the engine, written to the reply.
//!
//! With one thread ([`serial`]) the three take turns. With two
//! ([`overlapped`]) the engine scores window k on a worker thread while this
//! thread writes window k − 1, reads window k + 1 and encodes it for the
//! sandbox ([`Encoder`]): the CSV work and the scoring, each about half of a
//! chunk's time, run side by side. The windows are the same and go out in the
//! same order, so the reply is byte for byte the one-thread reply (tested in
//! `tests/chunks.rs`).
//!
//! The engine is called once per window, not once per chunk: a
//! 50,000-record chunk would otherwise need its whole feature matrix
//! (records × features) in the sandbox's memory at once.

use std::sync::mpsc;

use scorer_core::schema::FeatureSpec;
use siem_adapter::engine::{BatchResult, Encoder, Engine, EventBatch};
use siem_adapter::render::Verdict;

use crate::command::Totals;
use crate::records::{BodyReader, Records};
use crate::reply::{Cells, Plan};

/// Records per engine call: big enough that the per-call cost vanishes,
/// small enough that the sandbox's memory stays a few MB.
pub const ENGINE_BATCH: usize = 2048;

/// One window: its records and, once scored, their results.
#[derive(Debug, Default)]
pub struct Window {
    /// The records read.
    pub records: Records,
    /// The records in the engine's wire format (two threads only).
    encoder: Encoder,
    result: BatchResult,
    /// Why the engine could not score the window.
    failure: Option<String>,
}

impl Window {
    /// An empty window for `engine`'s model.
    pub fn new(engine: &Engine) -> Window {
        Window {
            records: Records::new(&engine.describe().fields),
            encoder: engine.encoder(),
            ..Window::default()
        }
    }

    /// Score the records: encoded here, or already (`encoded`).
    fn score(&mut self, engine: &mut Engine, explain: usize, encoded: bool) {
        let scored = if encoded {
            engine.score_encoded(&self.encoder, &self.records, explain, &mut self.result)
        } else {
            engine.score_batch(&self.records, explain, &mut self.result)
        };
        self.failure = scored.err().map(|e| {
            tracing::error!(error = %e, records = self.records.len(), "batch could not be scored");
            e.to_string()
        });
    }
}

/// Where scored windows' rows go, and what they add up to.
pub struct Writer<'a> {
    /// The chunk's body (rows are copied from it).
    pub body: &'a [u8],
    /// How rows are written.
    pub plan: &'a Plan,
    /// Cells in the header.
    pub width: usize,
    /// The model's `name@version`.
    pub id: &'a str,
    /// The model's features (for the missing fields).
    pub features: &'a [FeatureSpec],
    /// Reasons per record.
    pub explain: usize,
    /// One record's new cells, reused.
    pub cells: &'a mut Cells,
    /// The reply body.
    pub reply: &'a mut Vec<u8>,
    /// The search's totals.
    pub totals: &'a mut Totals,
    /// Records the engine could not score, and its first error.
    pub failed: Option<(usize, String)>,
}

impl Writer<'_> {
    /// Append the reply rows of a scored window.
    fn write(&mut self, w: &Window) {
        if let Some(e) = &w.failure {
            let (count, _) = self.failed.get_or_insert((0, e.clone()));
            *count += w.records.len();
        }
        let totals = &mut *self.totals;
        for (i, row) in w.records.rows().iter().enumerate() {
            let verdict = match &w.failure {
                Some(e) => Verdict::Error(format!("engine error: {e}")),
                None if row.cells > self.width => Verdict::Error(format!(
                    "record has {} cells but the header {}; the extra cells were dropped",
                    row.cells, self.width
                )),
                None => Verdict::of(&w.result, i, self.features, self.explain),
            };
            totals.records += 1;
            match &verdict {
                Verdict::Scored { flag, .. } => {
                    totals.scored += 1;
                    totals.flagged += u64::from(*flag);
                }
                Verdict::Error(_) => totals.errored += 1,
            }
            let reasons = (self.explain > 0 && w.failure.is_none())
                .then(|| w.result.reasons.get(i).map(Vec::as_slice))
                .flatten();
            self.cells.fill(&verdict, self.id, reasons);
            self.plan.write_row(self.reply, self.body, *row, self.cells);
        }
    }
}

/// What reading a chunk's records came to.
#[derive(Debug)]
pub struct Read {
    /// Records read (all written).
    pub records: usize,
    /// The CSV error that stopped the reading early; the body from the bad
    /// record on is then [`BodyReader::rest`].
    pub error: Option<csv::Error>,
}

/// Whether `read` (a window's outcome) ends the chunk; keeps its error.
fn ended(read: Result<usize, csv::Error>, error: &mut Option<csv::Error>) -> bool {
    match read {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => {
            *error = Some(e);
            true
        }
    }
}

/// Read, score and write every window of `reader` on this thread, in turn,
/// with `window`.
pub fn serial(
    engine: &mut Engine,
    window: &mut Window,
    reader: &mut BodyReader<'_>,
    writer: &mut Writer<'_>,
) -> Read {
    let mut out = Read {
        records: 0,
        error: None,
    };
    loop {
        let read = window.records.next_window(reader, ENGINE_BATCH);
        if window.records.len() > 0 {
            out.records += window.records.len();
            window.score(engine, writer.explain, false);
            writer.write(window);
        }
        if ended(read, &mut out.error) {
            return out;
        }
    }
}

/// As [`serial`], the engine scoring on a second thread while this one
/// reads and writes; `windows[0]` has begun the chunk (its header read).
pub fn overlapped(
    engine: &mut Engine,
    windows: &mut [Window; 2],
    reader: &mut BodyReader<'_>,
    writer: &mut Writer<'_>,
) -> Read {
    let [lead, second] = &mut *windows;
    second.records.follow(&lead.records);
    let explain = writer.explain;
    let mut out = Read {
        records: 0,
        error: None,
    };
    std::thread::scope(|s| {
        let (to_worker, jobs) = mpsc::channel::<Window>();
        let (to_main, done) = mpsc::channel::<Window>();
        s.spawn(move || {
            for mut w in jobs {
                w.score(engine, explain, true);
                if to_main.send(w).is_err() {
                    return;
                }
            }
        });
        // Windows not at the worker; windows[0] is read first.
        let mut free = vec![
            std::mem::take(&mut windows[1]),
            std::mem::take(&mut windows[0]),
        ];
        let mut busy = 0;
        loop {
            let mut w = free.pop().expect("a window is free");
            let read = w.records.next_window(reader, ENGINE_BATCH);
            let len = w.records.len();
            if len > 0 {
                out.records += len;
                w.encoder.encode(&w.records);
                to_worker
                    .send(w)
                    .expect("the worker runs until its queue closes");
                busy += 1;
            } else {
                free.push(w);
            }
            let end = ended(read, &mut out.error);
            // One window scores while the next is read; at the end, all are
            // written, in the order they were read.
            while busy > 0 && (end || free.is_empty()) {
                let w = done.recv().expect("the worker answers every window");
                writer.write(&w);
                free.push(w);
                busy -= 1;
            }
            if end {
                break;
            }
        }
        drop(to_worker);
        // Back in place for the next chunk (their buffers are reused).
        let (a, b) = (free.pop(), free.pop());
        windows[0] = a.expect("both windows are back");
        windows[1] = b.expect("both windows are back");
    });
    out
}
