//! A scoring worker: one engine (its own wasm instance), one reused
//! [`LineBatch`] and result buffer. A chunk in, a rendered block out: one
//! engine call per chunk.

use scorer_core::drift::DriftCounts;

use crate::engine::{BatchResult, Engine, EngineError};
use crate::extract::{FieldPlan, LineBatch, LineKind};
use crate::render::{Mark, Renderer, Verdict};

use super::reader::Chunk;
use super::Counts;

/// A chunk's events, rendered and counted.
#[derive(Debug, Default)]
pub struct Block {
    /// The chunk's position.
    pub seq: u64,
    /// Rendered events, each ending in a newline.
    pub bytes: Vec<u8>,
    /// End offset of each event in `bytes`.
    pub ends: Vec<usize>,
    /// Where each event can be marked for drift.
    pub marks: Vec<Mark>,
    /// Risk scores of the scored events.
    pub scores: Vec<f32>,
    /// The chunk's drift counts (when the run measures drift).
    pub drift: Option<DriftCounts>,
    /// What happened to them.
    pub counts: Counts,
    /// Batch latency (featurize + score + render), seconds.
    pub seconds: f64,
}

enum Item {
    Event {
        row: usize,
        line: usize,
        span: (usize, usize),
        empty: bool,
        collides: bool,
    },
    /// An event of an expanded results document.
    Expanded {
        row: usize,
        text: usize,
        empty: bool,
        collides: bool,
    },
    Bad {
        line: usize,
        error: String,
    },
}

/// Scores chunks.
pub struct Worker {
    engine: Engine,
    plan: FieldPlan,
    batch: LineBatch,
    result: BatchResult,
    renderer: Renderer,
    explain: usize,
    items: Vec<Item>,
    expanded: Vec<String>,
    drift: bool,
}

impl Worker {
    /// A worker over a loaded engine.
    pub fn new(engine: Engine, renderer: Renderer, explain: usize) -> Self {
        let plan = FieldPlan::new(&engine.describe().fields, &renderer.fields().all());
        Worker {
            engine,
            plan,
            batch: LineBatch::default(),
            result: BatchResult::default(),
            renderer,
            explain,
            items: Vec::new(),
            expanded: Vec::new(),
            drift: false,
        }
    }

    /// Count every chunk into drift counts carried by its block.
    pub fn measure_drift(&mut self) -> Result<(), EngineError> {
        self.engine.track_drift(true)?;
        self.drift = true;
        Ok(())
    }

    fn read(&mut self, bytes: &[u8], expanded: Option<usize>, line: usize) {
        match self.batch.read_line(&self.plan, bytes) {
            LineKind::Event {
                row,
                span,
                empty,
                collides,
            } => self.items.push(match expanded {
                None => Item::Event {
                    row,
                    line,
                    span,
                    empty,
                    collides,
                },
                Some(text) => Item::Expanded {
                    row,
                    text,
                    empty,
                    collides,
                },
            }),
            LineKind::Skip => {}
            LineKind::Expand(events) => {
                for e in events {
                    self.expanded.push(e);
                    let i = self.expanded.len() - 1;
                    let text = std::mem::take(&mut self.expanded[i]);
                    self.read(text.as_bytes(), Some(i), line);
                    self.expanded[i] = text;
                }
            }
            LineKind::Bad(error) => self.items.push(Item::Bad { line, error }),
        }
    }

    /// Score and render `chunk`.
    pub fn process(&mut self, chunk: &Chunk) -> Block {
        let started = std::time::Instant::now();
        self.batch.clear(&self.plan);
        self.items.clear();
        self.expanded.clear();
        for (i, l) in chunk.lines.iter().enumerate() {
            match &l.error {
                Some(e) => self.items.push(Item::Bad {
                    line: i,
                    error: e.clone(),
                }),
                None => self.read(chunk.line(i), None, i),
            }
        }
        let failure: Option<EngineError> = if self.batch.is_empty() {
            None
        } else {
            self.engine
                .score_batch(&self.batch, self.explain, &mut self.result)
                .err()
        };
        if let Some(e) = &failure {
            tracing::error!(error = %e, chunk = chunk.seq, "batch could not be scored");
        }
        let drift = match self.drift {
            true => self.engine.take_drift().unwrap_or_else(|e| {
                tracing::error!(error = %e, chunk = chunk.seq, "drift counts lost");
                None
            }),
            false => None,
        };
        let features = &self.engine.describe().features;
        let mut block = Block {
            seq: chunk.seq,
            bytes: Vec::with_capacity(chunk.buf.len() + chunk.lines.len() * 96),
            drift,
            ..Block::default()
        };
        for item in &self.items {
            block.counts.read += 1;
            match item {
                Item::Bad { line, error } => {
                    let l = &chunk.lines[*line];
                    let msg = format!("line {}: {error}", l.number);
                    self.renderer
                        .unreadable(&mut block.bytes, chunk.line(*line), &msg);
                    block.counts.errored += 1;
                    block.marks.push(Mark::NONE);
                }
                Item::Event { .. } | Item::Expanded { .. } => {
                    let (row, object, empty, collides) = match item {
                        Item::Event {
                            row,
                            line,
                            span,
                            empty,
                            collides,
                        } => (
                            *row,
                            std::str::from_utf8(&chunk.line(*line)[span.0..span.1])
                                .expect("validated by the extractor"),
                            *empty,
                            *collides,
                        ),
                        Item::Expanded {
                            row,
                            text,
                            empty,
                            collides,
                        } => (*row, self.expanded[*text].as_str(), *empty, *collides),
                        Item::Bad { .. } => unreachable!("matched above"),
                    };
                    let verdict = match &failure {
                        Some(e) => Verdict::Error(format!("engine error: {e}")),
                        None => Verdict::of(&self.result, row, features, self.explain),
                    };
                    match &verdict {
                        Verdict::Scored { flag, score, .. } => {
                            block.counts.scored += 1;
                            block.counts.flagged += u64::from(*flag);
                            block.scores.push(*score as f32);
                        }
                        Verdict::Error(_) => block.counts.errored += 1,
                    }
                    let mark = self.renderer.event(
                        &mut block.bytes,
                        object,
                        empty,
                        collides,
                        &verdict,
                        Some((&self.batch, row)),
                    );
                    block.marks.push(mark);
                }
            }
            block.ends.push(block.bytes.len());
        }
        block.seconds = started.elapsed().as_secs_f64();
        block
    }
}
