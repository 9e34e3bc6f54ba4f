// The dashboard's controller: inputs, model loading, scoring in the worker
// pool, and the panels. Nothing leaves the browser.
//
// Test/automation hook, `window.riskscore`:
//   state                 'idle' | 'loading' | 'scoring' | 'done' | 'error' (also <body data-state>)
//   summary()             { events, scored, errors, flagged, threshold } (flags at the page's threshold)
//   scores()              risk scores in input order; null for events with risk_error
//   flags()               1/0 at the page's threshold, in input order; null for events with risk_error
//   setThreshold(t)       move the threshold (0..1) as the slider does

import { $, h, fmt, replace, perFrame } from './dom.js';
import { Pool, compileScorer } from './pool.js';
import { planInput } from './formats.js';
import { renderModelCard, clearModelCard } from './model-card.js';
import { Histogram } from './histogram.js';
import { renderDrift } from './drift.js';
import { ResultsTable } from './table.js';
import { buildExport, download } from './export.js';
import { classifyFile } from './inputs.js';
import { mergeRuns, scoreOrder } from './sortkeys.js';

const KEY_CANDIDATES = ['_time', 'host', 'user', 'src_ip', 'dest_ip', 'signature', 'src', 'dest', 'action'];
const KEY_FIELDS = 6;
const POOL_SIZE = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 4));

const ui = {
  modelFile: $('model-file'), keyFile: $('key-file'), batchFile: $('batch-file'), drop: $('drop-zone'),
  allowUnsigned: $('allow-unsigned'), unsignedWarning: $('allow-unsigned-warning'), keysStatus: $('keys-status'),
  inputsStatus: $('inputs-status'), card: $('model-card'), modelError: $('model-error'),
  progress: $('progress'), progressText: $('progress-text'), range: $('threshold'), number: $('threshold-value'),
  events: $('event-count'), scored: $('scored-count'), errors: $('error-count'), flagged: $('flag-count'),
  drift: $('drift'), explainK: $('explain-k'), exportJsonl: $('export-jsonl'), exportCsv: $('export-csv'),
  exportStatus: $('export-status'),
};

const st = {
  shippedKeys: [], extraKeys: [], model: null, batch: null,
  info: null, results: null, threshold: 0.5, pool: null, poolModel: null, modelSeq: 0, scoredKey: null, thresholdSeq: 0,
};
let gen = 0;
let queue = Promise.resolve();
let wasm = null; // the compiled scorer, fetched when the page is idle or first needed
const compiled = () => (wasm ??= compileScorer().catch(() => undefined));

function setState(s) {
  document.body.dataset.state = s;
}

// ---- threshold ------------------------------------------------------------

const histogram = new Histogram($('histogram'), (t) => setThreshold(t));
const table = new ResultsTable({
  table: $('results-table'), info: $('page-info'),
  first: $('page-first'), prev: $('page-prev'), next: $('page-next'), last: $('page-last'),
  fetchRows: (idx, fields, k) => fetchRows(idx, fields, k),
  fetchOrder: (field, desc) => fetchOrder(field, desc),
});

function flaggedCount() {
  const sc = st.results?.scores;
  if (!sc) return 0;
  let n = 0;
  const t = st.threshold;
  for (let i = 0; i < sc.length; i++) if (sc[i] >= t) n++;
  return n;
}

function setThreshold(t, from) {
  t = Number(t);
  if (!Number.isFinite(t)) return;
  t = Math.min(1, Math.max(0, t));
  st.threshold = t;
  if (from !== ui.range) ui.range.value = String(t);
  if (from !== ui.number) ui.number.value = String(t);
  ui.flagged.textContent = String(flaggedCount());
  histogram.setThreshold(t);
  table.setThreshold(t);
}

ui.range.addEventListener('input', () => setThreshold(ui.range.value, ui.range));
ui.number.addEventListener('input', () => {
  if (ui.number.value !== '' && ui.number.checkValidity()) setThreshold(ui.number.value, ui.number);
});
ui.number.addEventListener('change', () => setThreshold(ui.number.value === '' ? st.threshold : ui.number.value));

// ---- inputs ---------------------------------------------------------------

function note(text) {
  ui.inputsStatus.textContent = text;
}

async function takeFiles(files) {
  for (const f of files) {
    const kind = await classifyFile(f);
    if (kind === 'key') st.extraKeys.push({ name: f.name, text: await f.text() });
    else if (kind === 'model') st.model = { name: f.name, text: await f.text(), seq: ++st.modelSeq };
    else st.batch = f;
  }
  showKeys();
  act();
}

ui.modelFile.addEventListener('change', async () => {
  const f = ui.modelFile.files[0];
  if (!f) return;
  st.model = { name: f.name, text: await f.text(), seq: ++st.modelSeq };
  act();
});
ui.keyFile.addEventListener('change', async () => {
  for (const f of ui.keyFile.files) st.extraKeys.push({ name: f.name, text: await f.text() });
  showKeys();
  if (st.model) act();
});
ui.batchFile.addEventListener('change', () => {
  if (ui.batchFile.files[0]) { st.batch = ui.batchFile.files[0]; act(); }
});
ui.allowUnsigned.addEventListener('change', () => {
  ui.unsignedWarning.hidden = !ui.allowUnsigned.checked;
  if (st.model) act();
});

for (const ev of ['dragover', 'drop']) window.addEventListener(ev, (e) => e.preventDefault());
ui.drop.addEventListener('dragenter', () => ui.drop.classList.add('over'));
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  if (e.dataTransfer?.files?.length) takeFiles([...e.dataTransfer.files]);
});
ui.drop.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); ui.batchFile.click(); }
});

function showKeys() {
  const shipped = st.shippedKeys.length;
  const extra = st.extraKeys.map((k) => k.name).join(', ');
  ui.keysStatus.textContent = `${shipped ? `${shipped} trusted key${shipped === 1 ? '' : 's'} shipped with the page` : st.keysNote || 'no trusted keys shipped with the page'}${extra ? `; added: ${extra}` : ''}.`;
}

async function loadShippedKeys() {
  try {
    const r = await fetch('./trusted-keys.json', { cache: 'no-cache' });
    if (!r.ok) throw new Error(`${r.status}`);
    const keys = await r.json();
    st.shippedKeys = Array.isArray(keys) ? keys.filter((k) => typeof k === 'string') : [];
  } catch {
    st.shippedKeys = [];
    st.keysNote = 'trusted-keys.json is missing: no trusted keys shipped with the page (add a .pub key, or allow unsigned models for development)';
  }
  showKeys();
}

// ---- model and scoring ----------------------------------------------------

/** Run the refresh after the current one; a newer request supersedes older ones and cancels a scoring run. */
function act() {
  const my = ++gen;
  if (st.pool && st.pool.busy) dropPool();
  queue = queue.then(() => (my === gen ? refresh(my) : undefined)).catch((e) => {
    if (e.message === 'cancelled') return;
    setState('error');
    ui.progressText.textContent = `Error: ${e.message}`;
  });
}

function dropPool() {
  st.pool.terminate();
  st.pool = null;
  st.poolModel = null;
}

async function ensurePool() {
  if (!st.pool) {
    const pool = new Pool(POOL_SIZE);
    st.pool = pool;
    try {
      await pool.init(await compiled());
    } catch (e) {
      pool.terminate();
      if (st.pool === pool) st.pool = null;
      throw e;
    }
  }
  return st.pool;
}

function modelKey() {
  return `${st.model.seq}|${ui.allowUnsigned.checked}|${st.extraKeys.length}|${st.shippedKeys.length}`;
}

async function refresh(my) {
  await keysReady;
  if (!st.model) {
    note(st.batch ? `Batch ${st.batch.name} chosen: now choose a model artifact to score it.` : '');
    setState('idle');
    return;
  }
  const key = modelKey();
  if (st.poolModel !== key) {
    setState('loading');
    ui.modelError.hidden = true;
    ui.progressText.textContent = 'Loading the scorer…';
    const pool = await ensurePool();
    let info;
    try {
      info = await pool.load(st.model.text, {
        allowUnsigned: ui.allowUnsigned.checked,
        trustedKeys: [...st.shippedKeys, ...st.extraKeys.map((k) => k.text)],
      });
    } catch (e) {
      if (my !== gen || e.message === 'cancelled') return;
      st.info = null;
      st.poolModel = null;
      clearResults();
      clearModelCard(ui.card, `The model in ${st.model.name} was refused: nothing is scored.`);
      ui.modelError.textContent = `Model refused: ${e.message}`;
      ui.modelError.hidden = false;
      ui.progressText.textContent = '';
      setState('error');
      return;
    }
    if (my !== gen) return;
    st.poolModel = key;
    st.info = info;
    renderModelCard(ui.card, info);
    for (const el of [ui.range, ui.number]) el.disabled = false;
    clearResults(); // a (re)load drops the workers' events
    if (st.thresholdSeq !== st.model.seq) {
      st.thresholdSeq = st.model.seq;
      setThreshold(info.threshold);
    }
    ui.progressText.textContent = '';
  }
  if (!st.batch) {
    note('Model loaded: now choose an alert batch (.jsonl, .json or .csv).');
    setState('idle');
    return;
  }
  const batchKey = `${st.batch.name}|${st.batch.size}|${st.batch.lastModified}|${st.model.seq}`;
  if (st.scoredKey === batchKey && st.results) { setState('done'); return; }
  await scoreBatch(my, batchKey);
}

function clearResults() {
  st.results = null;
  st.scoredKey = null;
  ui.events.textContent = ui.scored.textContent = ui.errors.textContent = ui.flagged.textContent = '0';
  ui.progress.value = 0;
  histogram.setScores(new Float64Array(0));
  table.clear();
  replace(ui.drift, h('p', { class: 'muted' }, 'Score a batch to compare it with the model\'s training baseline.'));
  for (const b of [ui.exportJsonl, ui.exportCsv]) b.disabled = true;
}

async function scoreBatch(my, batchKey) {
  const file = st.batch;
  const pool = await ensurePool();
  clearResults();
  setState('scoring');
  note(`Scoring ${file.name} with ${st.info.modelId}.`);
  const started = performance.now();
  const head = await file.slice(0, 1 << 20).text();
  if (my !== gen) return;
  const plan = planInput(head, file.size <= 1 << 20);
  let finished = false;
  const progress = perFrame((p) => {
    if (my !== gen || finished) return;
    ui.progress.value = file.size ? p.bytes / file.size : 1;
    ui.progressText.textContent = `Scoring… ${fmt(p.events)} events read${p.errors ? `, ${fmt(p.errors)} with errors` : ''} (${Math.round(100 * ui.progress.value)}%)`;
  });
  const r = await pool.score(file, plan, progress);
  finished = true;
  if (my !== gen) return;
  const total = r.parts.reduce((a, p) => a + p.n, 0);
  const scores = new Float64Array(total);
  const errors = new Map();
  let off = 0;
  for (const p of r.parts) {
    p.offset = off;
    scores.set(p.scores, off);
    p.index.forEach((i, j) => errors.set(off + i, p.text[j]));
    off += p.n;
  }
  const present = KEY_CANDIDATES.filter((k) => r.present[k] > 0);
  const keyFields = (present.length ? present : st.info.fields).slice(0, KEY_FIELDS);
  st.results = { parts: r.parts, scores, errors, total, keyFields };
  st.scoredKey = batchKey;
  ui.events.textContent = String(total);
  ui.errors.textContent = String(errors.size);
  ui.scored.textContent = String(total - errors.size);
  // The drift report is asked for first, so worker 0 answers it before the table's requests.
  const drift = showDrift(pool, r.drift, my);
  histogram.setScores(scores);
  setThreshold(st.threshold);
  const firstPage = table.setData({ scores, errors, keyFields, threshold: st.threshold, k: Number(ui.explainK.value) });
  for (const b of [ui.exportJsonl, ui.exportCsv]) b.disabled = false;
  ui.progress.value = 1;
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  const split = r.parts.length;
  ui.progressText.textContent = `Done: ${fmt(total)} events scored in ${secs} s by ${split} worker${split === 1 ? '' : 's'} — ${fmt(errors.size)} with risk_error.`;
  note(`${file.name}: ${fmt(total)} events.`);
  // Done = every panel shows this batch: drift, and the table's first page with its reasons.
  await Promise.all([drift, firstPage]);
  if (my === gen) setState('done');
}

async function showDrift(pool, counts, my) {
  if (!st.info.baseline) { renderDrift(ui.drift, null); return; }
  if (!counts || counts.rows === 0) { renderDrift(ui.drift, null, 'No event was scored: nothing to compare with the baseline.'); return; }
  try {
    const report = await pool.request(0, { type: 'drift-report', counts });
    if (my === gen) renderDrift(ui.drift, report);
  } catch (e) {
    if (my === gen && e.message !== 'cancelled') renderDrift(ui.drift, null, `Drift could not be computed: ${e.message}`);
  }
}

// ---- worker-backed table data ---------------------------------------------

function partOf(i) {
  const parts = st.results.parts;
  for (let p = parts.length - 1; p >= 0; p--) if (i >= parts[p].offset) return parts[p];
  return parts[0];
}

async function fetchRows(idx, fields, k) {
  const byPart = new Map();
  idx.forEach((g, j) => {
    const p = partOf(g);
    if (!byPart.has(p)) byPart.set(p, { local: [], at: [] });
    const e = byPart.get(p);
    e.local.push(g - p.offset);
    e.at.push(j);
  });
  const out = new Array(idx.length);
  await Promise.all([...byPart].map(async ([p, e]) => {
    const rows = await st.pool.request(p.slot, { type: 'rows', indices: e.local, fields, k });
    rows.forEach((row, j) => { out[e.at[j]] = row; });
  }));
  return out;
}

/** Global order by a field (from the workers' sorted runs), or (null) by risk score, here. */
async function fetchOrder(field, desc) {
  if (field === null) return scoreOrder(st.results.scores, desc);
  const parts = st.results.parts;
  const msg = { type: 'column', field };
  const runs = await Promise.all(parts.map((p) => (p.n ? st.pool.request(p.slot, msg) : { order: new Uint32Array(0), keys: [] })));
  return mergeRuns(runs, parts.map((p) => p.offset), desc);
}

ui.explainK.addEventListener('change', () => table.setK(Number(ui.explainK.value)));

async function doExport(format) {
  if (!st.results) return;
  const buttons = [ui.exportJsonl, ui.exportCsv];
  for (const b of buttons) b.disabled = true;
  ui.exportStatus.textContent = 'Preparing the export…';
  try {
    const blob = await buildExport(st.pool, st.results.parts, format, st.threshold, Number(ui.explainK.value),
      perFrame((x) => { ui.exportStatus.textContent = `Preparing the export… ${Math.round(100 * x)}%`; }));
    download(blob, format === 'csv' ? 'scored.csv' : 'scored.jsonl');
    requestAnimationFrame(() => { ui.exportStatus.textContent = `scored.${format} ready (${fmt(blob.size)} bytes).`; });
  } catch (e) {
    ui.exportStatus.textContent = `Export failed: ${e.message}`;
  } finally {
    for (const b of buttons) b.disabled = !st.results;
  }
}
ui.exportJsonl.addEventListener('click', () => doExport('jsonl'));
ui.exportCsv.addEventListener('click', () => doExport('csv'));

// ---- hook -----------------------------------------------------------------

window.riskscore = Object.freeze({
  get state() { return document.body.dataset.state; },
  summary() {
    const r = st.results;
    return {
      events: r ? r.total : 0,
      scored: r ? r.total - r.errors.size : 0,
      errors: r ? r.errors.size : 0,
      flagged: flaggedCount(),
      threshold: st.threshold,
    };
  },
  scores() { return st.results ? Array.from(st.results.scores, (x) => (Number.isNaN(x) ? null : x)) : []; },
  flags() { return st.results ? Array.from(st.results.scores, (x) => (Number.isNaN(x) ? null : x >= st.threshold ? 1 : 0)) : []; },
  setThreshold(t) { setThreshold(t); },
});

clearModelCard(ui.card);
clearResults();
setState('idle');
const keysReady = loadShippedKeys();
window.addEventListener('load', () => (window.requestIdleCallback || setTimeout)(() => compiled()));
