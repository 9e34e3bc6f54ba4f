// A worker's events and what the scorer said about them: the JSON text of
// each event (or the raw text of an unreadable line) — events read by the
// scorer's line reader stay as bytes in their block and are decoded only
// when a row, a sort column or an export needs them — scores, flags and
// missing-feature masks in growable typed arrays, error messages sparse by
// index. Tables, sort columns and exports are built from it on request.

import {
  NAN_ERROR, applyVerdict, collides, csvRow, isEmptyObject, missingFields,
  renderEventLine, renderUnreadableLine, unreadableObject,
} from './render.js';
import { sortKey, sortRun } from './sortkeys.js';

const CLASH = 1;
const EMPTY = 2;
const UNREADABLE = 4;
const FAILED = 8;
const PART_CHARS = 4 << 20;
const EXPLAIN_CHUNK = 2048;
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** A cell shown in the table: multivalue fields joined with ", ". */
export function display(v) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(display).join(', ');
  return JSON.stringify(v);
}

export class Store {
  constructor(info) {
    this.modelId = info.modelId;
    this.featureFields = info.features.map((f) => f.field);
    this.mw = Math.max(1, Math.ceil(this.featureFields.length / 64));
    this.n = 0;
    this.texts = []; // strings; undefined for an event kept as bytes
    this.blocks = [];
    this.lines = [];
    this.#alloc(1024);
    this.unreadable = new Map(); // index → [line (relative until finalize), why]
    this.failed = new Map(); // index → message (NaN score, engine error)
    this.base = 0;
    this.columns = new Map();
    this.reasons = null; // { k, list }
  }

  #alloc(cap) {
    const spans = new Uint32Array(cap * 3); // block, start, end of events kept as bytes
    if (this.spans) spans.set(this.spans);
    this.spans = spans;
    const bits = new Uint8Array(cap);
    const scores = new Float64Array(cap).fill(NaN);
    const flags = new Uint8Array(cap);
    const masks = new Uint32Array(cap * 2 * this.mw);
    if (this.bits) {
      bits.set(this.bits);
      scores.set(this.scores);
      flags.set(this.flags);
      masks.set(this.masks);
    }
    Object.assign(this, { bits, scores, flags, masks, cap });
  }

  #next() {
    if (this.n === this.cap) this.#alloc(this.cap * 2);
    return this.n++;
  }

  addEvent(obj, text, line) {
    const i = this.#next();
    this.texts.push(text);
    this.lines.push(line);
    this.bits[i] = (collides(obj) ? CLASH : 0) | (isEmptyObject(obj) ? EMPTY : 0);
    return i;
  }

  /** Keep a block of input bytes whose events are added with addEventBytes. */
  addBlock(bytes) {
    this.blocks.push(bytes);
    return this.blocks.length - 1;
  }

  /**
   * An event read by the scorer's line reader: bytes [a, b) of a block;
   * `marks` bit 0 = empty object, bit 1 = has a scorer field.
   */
  addEventBytes(block, a, b, line, marks) {
    const i = this.#next();
    this.texts.push(undefined);
    this.spans[3 * i] = block;
    this.spans[3 * i + 1] = a;
    this.spans[3 * i + 2] = b;
    this.lines.push(line);
    this.bits[i] = (marks & 2 ? CLASH : 0) | (marks & 1 ? EMPTY : 0);
    return i;
  }

  addUnreadable(line, why, raw) {
    const i = this.#next();
    this.texts.push(raw);
    this.lines.push(line);
    this.bits[i] = UNREADABLE;
    this.unreadable.set(i, why);
    return i;
  }

  setEngineError(i, message) {
    this.bits[i] |= FAILED;
    this.failed.set(i, message);
  }

  /** The results of one scoreColumns call for events `idx`. */
  setResults(idx, res) {
    const w = 2 * this.mw;
    const rw = 2 * res.maskWords;
    for (let r = 0; r < idx.length; r++) {
      const i = idx[r];
      const s = res.score[r];
      if (Number.isNaN(s)) { this.setEngineError(i, NAN_ERROR); continue; }
      this.scores[i] = s;
      this.flags[i] = res.flag[r];
      this.masks.set(res.mask.subarray(r * rw, r * rw + Math.min(w, rw)), i * w);
    }
  }

  /** The JSON text of event i (the raw text of an unreadable line). */
  text(i) {
    const t = this.texts[i];
    if (t !== undefined) return t;
    const sp = this.spans;
    return utf8.decode(this.blocks[sp[3 * i]].subarray(sp[3 * i + 1], sp[3 * i + 2]));
  }

  errorCount() {
    return this.unreadable.size + this.failed.size;
  }

  snapshot() {
    return { scores: this.scores.slice(0, this.n), flags: this.flags.slice(0, this.n) };
  }

  /** The line-number offset of this worker's range is known: the error texts, sparse by index. */
  finalize(base) {
    this.base = base;
    const index = new Uint32Array([...this.unreadable.keys(), ...this.failed.keys()].sort((a, b) => a - b));
    const text = Array.from(index, (i) => this.errorText(i));
    return { index, text };
  }

  errorText(i) {
    if (this.bits[i] & UNREADABLE) return `line ${this.base + this.lines[i]}: ${this.unreadable.get(i)}`;
    return this.failed.get(i) ?? null;
  }

  missing(i) {
    return missingFields(this.masks, i * 2 * this.mw, this.featureFields);
  }

  /** What the scorer says about event i, at threshold t, with reasons from `reasons` (a list or null). */
  verdict(i, t, reasons) {
    if (this.bits[i] & (FAILED | UNREADABLE)) return { error: this.errorText(i) };
    const score = this.scores[i];
    return { score, flag: score >= t ? 1 : 0, reasons: reasons ? reasons[i] : null, missing: this.missing(i) };
  }

  /** The risk_reasons of every scored event (cached per k). */
  ensureReasons(k, scorer, encoder, progress) {
    if (this.reasons && this.reasons.k === k) return this.reasons.list;
    const list = new Array(this.n).fill(null);
    const objs = [];
    const idx = [];
    const run = () => {
      const r = scorer.explainColumns(encoder.encode(objs), k);
      for (let j = 0; j < idx.length; j++) list[idx[j]] = r[j];
      objs.length = 0;
      idx.length = 0;
    };
    for (let i = 0; i < this.n; i++) {
      if (this.bits[i] & (FAILED | UNREADABLE)) continue;
      objs.push(JSON.parse(this.text(i)));
      idx.push(i);
      if (objs.length >= EXPLAIN_CHUNK) { run(); progress(i + 1, this.n); }
    }
    if (objs.length) run();
    this.reasons = { k, list };
    return list;
  }

  /** Table rows for local indices: key-field values, reasons (top k), errors. */
  rows(indices, fields, k, scorer, encoder) {
    const out = [];
    const objs = [];
    const at = [];
    for (const i of indices) {
      if (this.bits[i] & UNREADABLE) {
        out.push({ error: this.errorText(i), raw: this.text(i), values: fields.map(() => '') });
        continue;
      }
      const obj = JSON.parse(this.text(i));
      const row = { values: fields.map((f) => display(obj[f])), line: this.base + this.lines[i] };
      if (this.bits[i] & FAILED) row.error = this.errorText(i);
      else {
        row.missing = this.missing(i).join(', ');
        if (k > 0) {
          if (this.reasons && this.reasons.k === k) row.reasons = this.reasons.list[i];
          else { objs.push(obj); at.push(out.length); }
        }
      }
      out.push(row);
    }
    if (objs.length) {
      const r = scorer.explainColumns(encoder.encode(objs), k);
      for (let j = 0; j < at.length; j++) out[at[j]].reasons = r[j];
    }
    return out;
  }

  /** This worker's events sorted by one field, ascending (absent last): { order: local indices, keys } (cached). */
  column(field) {
    let run = this.columns.get(field);
    if (!run) {
      const col = new Array(this.n);
      for (let i = 0; i < this.n; i++) {
        col[i] = this.bits[i] & UNREADABLE ? null : sortKey(JSON.parse(this.text(i))[field]);
      }
      run = sortRun(col);
      this.columns.set(field, run);
    }
    return run;
  }

  /** The output object of event i (CSV export). */
  outputObject(i, t, reasons) {
    const v = this.verdict(i, t, reasons);
    if (this.bits[i] & UNREADABLE) return unreadableObject(this.text(i), v.error, this.modelId);
    return applyVerdict(JSON.parse(this.text(i)), v, this.modelId);
  }

  /** The keys of the output objects, in first-seen order (CSV header, before merging across workers). */
  csvKeys(k, scorer, encoder, progress) {
    const reasons = k > 0 ? this.ensureReasons(k, scorer, encoder, progress) : null;
    const seen = new Set();
    const keys = [];
    for (let i = 0; i < this.n; i++) {
      for (const key of Object.keys(this.outputObject(i, 0.5, reasons))) {
        if (!seen.has(key)) { seen.add(key); keys.push(key); }
      }
    }
    return keys;
  }

  /** The export, as a Blob of UTF-8 parts: JSON lines, or CSV rows for `columns`. */
  exportParts(format, t, k, columns, scorer, encoder, progress) {
    const reasons = k > 0 ? this.ensureReasons(k, scorer, encoder, progress) : null;
    const te = new TextEncoder();
    const parts = [];
    let buf = [];
    let size = 0;
    for (let i = 0; i < this.n; i++) {
      let s;
      if (format === 'csv') s = csvRow(this.outputObject(i, t, reasons), columns);
      else if (this.bits[i] & UNREADABLE) s = renderUnreadableLine(this.text(i), this.errorText(i), this.modelId) + '\n';
      else s = renderEventLine(this.text(i), this.verdict(i, t, reasons), this.modelId, this.bits[i] & EMPTY, this.bits[i] & CLASH) + '\n';
      buf.push(s);
      size += s.length;
      if (size >= PART_CHARS) {
        parts.push(te.encode(buf.join('')));
        buf = [];
        size = 0;
        progress(i + 1, this.n);
      }
    }
    if (buf.length) parts.push(te.encode(buf.join('')));
    return new Blob(parts);
  }
}
