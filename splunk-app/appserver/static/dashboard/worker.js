// A scoring worker (module Web Worker): its own instance of the scorer,
// the same artifact as the others, and the events of its part of the batch,
// which stay here. The page gets scores, flags, error texts and drift counts,
// and asks for table rows, sort columns and export parts. Protocol: see
// pool.js. Line numbers: a worker reading a byte range numbers lines from the
// start of its range and learns the true offset at `finalize`.

import init, { Scorer } from './pkg/scorer_wasm.js';
import { readText, readJsonLine } from './formats.js';
import { readRange } from './ranges.js';
import { BatchEncoder, decodeResults } from './wire.js';
import { Store } from './store.js';

const CHUNK = 2048;
// Events per worker whose keys are counted to pick the table's key columns.
const KEY_SAMPLE = 256;
const lossy = new TextDecoder('utf-8', { ignoreBOM: true });

// Kinds of lines from Scorer.scoreLines (scorer-wasm/src/session.rs).
const LINE_EVENT = 0;
const LINE_BAD = 3;
const LINE_EXPAND = 4;

let scorer = null;
let encoder = null;
let info = null;
let store = null;
let job = 0;

const post = (msg, transfer) => self.postMessage(msg, transfer || []);

function describe() {
  const metadata = scorer.metadata();
  const features = scorer.features();
  return {
    metadata,
    verify: scorer.verify(),
    fields: scorer.fields(),
    features,
    baseline: scorer.baseline(),
    threshold: scorer.threshold(),
    modelId: `${metadata.name}@${metadata.version}`,
  };
}

function load({ artifact, options }) {
  if (scorer) { scorer.free(); scorer = null; }
  store = null;
  job = 0;
  scorer = Scorer.fromArtifact(artifact, options);
  info = describe();
  encoder = new BatchEncoder(info.fields);
  return info;
}

// ---- scoring --------------------------------------------------------------

/** Collects events into chunks of CHUNK and scores each with one scoreColumns call. */
class Scoring {
  constructor(target, onChunk) {
    this.store = target;
    this.objs = [];
    this.idx = [];
    this.onChunk = onChunk;
    this.present = Object.create(null);
    this.sampled = 0;
  }

  event(obj, text, line) {
    const i = this.store.addEvent(obj, text, line);
    for (const k in obj) this.present[k] = (this.present[k] || 0) + 1;
    this.objs.push(obj);
    this.idx.push(i);
    if (this.objs.length >= CHUNK) this.flush();
  }

  error(line, why, raw) {
    this.store.addUnreadable(line, why, raw);
  }

  /**
   * Whole JSON lines as bytes: read and scored in wasm by the adapter's own
   * line reader (scorer-core `lines`), one call per block — no JSON.parse,
   * no re-encoding. A results document on one line is read here in JS.
   * Returns the next line number.
   */
  lines(bytes, line) {
    const sl = scorer.scoreLines(bytes, true);
    const kinds = sl.kinds();
    const marks = sl.marks();
    const spans = sl.spans();
    const errors = sl.errors();
    const res = decodeResults(sl.results());
    sl.free();
    const str = (a, b) => lossy.decode(bytes.subarray(a, b));
    const block = this.store.addBlock(bytes);
    const idx = [];
    let bad = 0;
    for (let i = 0; i < kinds.length; i++, line++) {
      const a = spans[2 * i];
      const b = spans[2 * i + 1];
      switch (kinds[i]) {
        case LINE_EVENT: {
          if (this.sampled < KEY_SAMPLE) {
            this.sampled++;
            try { for (const k in JSON.parse(str(a, b))) this.present[k] = (this.present[k] || 0) + 1; } catch { /* read by the scorer */ }
          }
          idx.push(this.store.addEventBytes(block, a, b, line, marks[i]));
          break;
        }
        case LINE_BAD: this.store.addUnreadable(line, errors[bad++], str(a, b)); break;
        case LINE_EXPAND: readJsonLine(str(a, b), line, this); break;
        default: break; // blank, or not an event (export preview rows, messages)
      }
    }
    this.store.setResults(idx, res);
    this.onChunk();
    return line;
  }

  flush() {
    if (this.objs.length === 0) return;
    let res = null;
    try {
      res = decodeResults(scorer.scoreColumns(encoder.encode(this.objs), 0, true));
    } catch (e) {
      for (const i of this.idx) this.store.setEngineError(i, `engine error: ${e.message || e}`);
    }
    if (res) this.store.setResults(this.idx, res);
    this.objs.length = 0;
    this.idx.length = 0;
    this.onChunk();
  }
}

async function score({ job: myJob, file, mode, start, end }) {
  job = myJob;
  store = new Store(info);
  const mine = store;
  const alive = () => job === myJob;
  scorer.driftReset();
  let bytes = 0;
  const report = () => post({ type: 'progress', job: myJob, bytes, events: mine.n, errors: mine.errorCount() });
  const sink = new Scoring(mine, report);
  let newlines = 0;
  if (mode === 'lines') {
    newlines = await readRange(file, start, end, sink, { progress: (b) => { bytes = b; }, alive });
    if (newlines === null) return;
  } else {
    const text = await file.text();
    if (!alive()) return;
    readText(text, sink, (f) => { bytes = Math.round(f * file.size); });
  }
  if (!alive()) return;
  sink.flush();
  bytes = end - start;
  report();
  const { scores, flags } = mine.snapshot();
  post({
    type: 'scored', job: myJob, n: mine.n, newlines, scores, flags,
    present: sink.present, drift: scorer.driftCounts(),
  }, [scores.buffer, flags.buffer]);
}

// ---- requests -------------------------------------------------------------

const handlers = {
  rows: ({ indices, fields, k }) => store.rows(indices, fields, k, scorer, encoder),
  column: ({ field }) => store.column(field),
  'csv-keys': ({ k }, progress) => store.csvKeys(k, scorer, encoder, progress),
  export: ({ format, threshold, k, columns }, progress) => store.exportParts(format, threshold, k, columns, scorer, encoder, progress),
  'drift-report': ({ counts }) => scorer.driftReport(counts),
};

self.onmessage = async ({ data: msg }) => {
  try {
    switch (msg.type) {
      case 'init':
        await init(msg.module ? { module_or_path: msg.module } : { module_or_path: new URL('./pkg/scorer_wasm_bg.wasm', import.meta.url) });
        post({ type: 'ready', cid: msg.cid });
        return;
      case 'load':
        try {
          const d = load(msg);
          post({ type: 'loaded', cid: msg.cid, info: msg.describe ? d : null });
        } catch (e) {
          post({ type: 'load-error', cid: msg.cid, message: String(e.message || e) });
        }
        return;
      case 'score':
        try {
          await score(msg);
        } catch (e) {
          post({ type: 'failed', job: msg.job, message: String(e.message || e) });
        }
        return;
      case 'finalize': {
        if (msg.job !== job || !store) return;
        const { index, text } = store.finalize(msg.base);
        post({ type: 'finalized', job: msg.job, index, text }, [index.buffer]);
        return;
      }
      default: {
        const h = handlers[msg.type];
        if (!h) throw new Error(`unknown message ${msg.type}`);
        if (!store && msg.type !== 'drift-report') throw new Error('no batch scored');
        const progress = (done, total) => post({ type: 'progress-req', req: msg.req, done, total });
        post({ type: 'reply', req: msg.req, value: h(msg, progress) });
      }
    }
  } catch (e) {
    if (msg.req !== undefined) post({ type: 'reply', req: msg.req, error: String(e.message || e) });
    else post({ type: 'fatal', message: String(e.message || e) });
  }
};
