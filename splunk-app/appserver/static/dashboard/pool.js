// The pool of scoring workers and the page ↔ worker protocol.
//
// page → worker                                   worker → page
//   {type:'init', cid, module?}                     {type:'ready', cid} | {type:'fatal', message}
//   {type:'load', cid, artifact, options, describe} {type:'loaded', cid, info|null} | {type:'load-error', cid, message}
//   {type:'score', job, file, mode, start, end}     {type:'progress', job, bytes, events, errors} (≤ every 100 ms)
//                                                   {type:'scored', job, n, newlines, scores: Float64Array,
//                                                    flags: Uint8Array (both transferred), present, drift}
//                                                   | {type:'failed', job, message}
//   {type:'finalize', job, base}                    {type:'finalized', job, index: Uint32Array, text: string[]}
//   {type:<request>, req, ...}                      {type:'progress-req', req, done, total}*, then
//                                                   {type:'reply', req, value} | {type:'reply', req, error}
// Requests: rows {indices, fields, k} → row objects; column {field} → sorted run (the risk order is computed on the page);
// csv-keys {k} → keys in first-seen order; export {format, threshold, k,
// columns} → a Blob of the worker's events, rendered; drift-report {counts} → report.
// Sort columns come back as the worker's sorted run: {order: Uint32Array of
// local indices, keys}, merged by the page.
//
// `mode` 'lines' gives each worker a byte range of the File (JSON lines; each
// worker aligns to line starts and numbers lines from its range's start;
// `base` = newlines before the range, summed from the others' `newlines`);
// 'whole' gives the whole File to one worker (CSV, documents).

const WORKER_URL = new URL('./worker.js', import.meta.url);
const WASM_URL = new URL('./pkg/scorer_wasm_bg.wasm', import.meta.url);
const MIN_SPLIT = 1 << 20; // smaller inputs are read by one worker

/** Compile the scorer once; workers instantiate the compiled module. */
export async function compileScorer() {
  try {
    return await WebAssembly.compileStreaming(fetch(WASM_URL));
  } catch {
    const r = await fetch(WASM_URL);
    if (!r.ok) throw new Error(`cannot fetch the scorer (${r.status} ${r.statusText})`);
    return WebAssembly.compile(await r.arrayBuffer());
  }
}

class Slot {
  constructor() {
    this.worker = new Worker(WORKER_URL, { type: 'module', name: 'riskscore-scorer' });
    this.control = null; // { resolve, reject } of init/load
    this.pending = new Map();
    this.onJob = null;
    this.worker.onmessage = ({ data }) => this.#message(data);
    this.worker.onerror = (e) => {
      e.preventDefault?.();
      this.#fail(new Error(`scoring worker failed: ${e.message || 'could not start (is the pkg/ folder there?)'}`));
    };
  }

  #fail(err) {
    if (this.control) { this.control.reject(err); this.control = null; }
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (this.onJob) this.onJob({ type: 'failed', message: err.message });
  }

  #message(m) {
    switch (m.type) {
      case 'ready': case 'loaded': case 'load-error': {
        const c = this.control;
        if (!c || c.cid !== m.cid) return; // the answer to a call given up on
        this.control = null;
        if (m.type === 'load-error') c.reject(new Error(m.message));
        else c.resolve(m);
        return;
      }
      case 'fatal':
        this.#fail(new Error(m.message));
        return;
      case 'reply': {
        const p = this.pending.get(m.req);
        if (!p) return;
        this.pending.delete(m.req);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.value);
        return;
      }
      case 'progress-req': {
        const p = this.pending.get(m.req);
        if (p && p.progress) p.progress(m.done, m.total);
        return;
      }
      default:
        if (this.onJob) this.onJob(m);
    }
  }

  /** init or load: one at a time per worker; `cid` pairs the answer with the call. */
  call(msg) {
    return new Promise((resolve, reject) => {
      const cid = nextCall++;
      if (this.control) this.control.reject(new Error('cancelled'));
      this.control = { resolve, reject, cid };
      try {
        this.worker.postMessage({ ...msg, cid });
      } catch (e) {
        this.control = null;
        reject(e);
      }
    });
  }
}

let nextCall = 1;
let nextReq = 1;
let nextJob = 1;

export class Pool {
  constructor(size) {
    this.slots = Array.from({ length: size }, () => new Slot());
    this.busy = false;
  }

  get size() { return this.slots.length; }

  async init(module) {
    await Promise.all(this.slots.map(async (s) => {
      try {
        await s.call({ type: 'init', module });
      } catch (e) {
        if (!module) throw e;
        await s.call({ type: 'init' }); // the compiled module could not be sent: fetch it there
      }
    }));
  }

  /** Load the artifact in every worker; resolves with the model's description (throws the refusal). */
  async load(artifact, options) {
    const replies = await Promise.allSettled(this.slots.map((s, i) => s.call({ type: 'load', artifact, options, describe: i === 0 })));
    const failed = replies.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return replies[0].value.info;
  }

  request(i, msg, { transfer = [], progress = null } = {}) {
    const s = this.slots[i];
    const req = nextReq++;
    return new Promise((resolve, reject) => {
      s.pending.set(req, { resolve, reject, progress });
      s.worker.postMessage({ ...msg, req }, transfer);
    });
  }

  /**
   * Score `file` (`plan`: 'lines' | 'whole'). `onProgress({bytes, events, errors})`.
   * Resolves with { parts: [{slot, n, scores, flags, index, text}], present, drift }.
   */
  score(file, plan, onProgress) {
    const job = nextJob++;
    const split = plan === 'lines' && file.size >= MIN_SPLIT ? this.size : 1;
    const ranges = [];
    for (let i = 0; i < split; i++) {
      ranges.push([Math.floor((file.size * i) / split), Math.floor((file.size * (i + 1)) / split)]);
    }
    const progress = ranges.map(() => ({ bytes: 0, events: 0, errors: 0 }));
    const sum = () => progress.reduce((a, p) => ({ bytes: a.bytes + p.bytes, events: a.events + p.events, errors: a.errors + p.errors }), { bytes: 0, events: 0, errors: 0 });
    this.busy = true;
    return new Promise((resolve, reject) => {
      const scored = new Array(split).fill(null);
      const finalized = new Array(split).fill(null);
      let left = split;
      const fail = (msg) => { this.busy = false; this.abort = null; this.#detach(); reject(new Error(msg)); };
      this.abort = fail;
      ranges.forEach(([start, end], i) => {
        this.slots[i].onJob = (m) => {
          if (m.job !== undefined && m.job !== job) return;
          if (m.type === 'progress') {
            progress[i] = { bytes: m.bytes, events: m.events, errors: m.errors };
            onProgress(sum());
          } else if (m.type === 'failed') {
            fail(m.message);
          } else if (m.type === 'scored') {
            scored[i] = m;
            progress[i] = { bytes: end - start, events: m.n, errors: progress[i].errors };
            onProgress(sum());
            if (scored.every(Boolean)) {
              let base = 0;
              scored.forEach((sc, w) => {
                this.slots[w].worker.postMessage({ type: 'finalize', job, base: plan === 'lines' ? base : 0 });
                base += sc.newlines;
              });
            }
          } else if (m.type === 'finalized') {
            finalized[i] = m;
            if (--left === 0) {
              this.busy = false;
              this.abort = null;
              this.#detach();
              resolve({
                parts: scored.map((sc, w) => ({ slot: w, n: sc.n, scores: sc.scores, flags: sc.flags, index: finalized[w].index, text: finalized[w].text })),
                present: mergePresent(scored.map((sc) => sc.present)),
                drift: mergeDrift(scored.map((sc) => sc.drift)),
              });
            }
          }
        };
        this.slots[i].worker.postMessage({ type: 'score', job, file, mode: plan === 'lines' ? 'lines' : 'whole', start, end });
      });
    });
  }

  #detach() {
    for (const s of this.slots) s.onJob = null;
  }

  /** Stop every worker; a scoring run or request in flight rejects with `cancelled`. */
  terminate() {
    if (this.abort) this.abort('cancelled');
    for (const s of this.slots) {
      s.worker.terminate();
      for (const p of s.pending.values()) p.reject(new Error('cancelled'));
      if (s.control) s.control.reject(new Error('cancelled'));
    }
    this.slots = [];
  }
}

function mergePresent(list) {
  const out = Object.create(null);
  for (const p of list) for (const k in p) out[k] = (out[k] || 0) + p[k];
  return out;
}

/** Drift counts of several workers, added element-wise (null without a baseline). */
export function mergeDrift(list) {
  const xs = list.filter(Boolean);
  if (xs.length === 0) return null;
  const add = (a, b) => a.map((x, i) => x + (b[i] || 0));
  return xs.slice(1).reduce((acc, d) => ({
    rows: acc.rows + d.rows,
    columns: acc.columns.map((c, i) => add(c, d.columns[i] || [])),
    score: add(acc.score, d.score),
    missing: add(acc.missing, d.missing),
  }), structuredClone(xs[0]));
}
