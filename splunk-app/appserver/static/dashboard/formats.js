// Reading alert batches the way `siem-adapter score` reads them (its
// pipeline/reader.rs, extract.rs and sources.rs), so the browser and the CLI
// see the same events and the same errors. Pure: no DOM, no wasm, no I/O —
// used by the scoring worker and unit-tested under Node.
//
// Every reader reports to a sink, in input order:
//   sink.event(obj, text, line)  an event object and the JSON text of exactly
//                                that object (what the JSONL export splices into)
//   sink.error(line, why, raw)   an input line that is not an event
// Lines that are not events at all (blank lines, Splunk preview rows, lastrow
// and messages markers) are skipped.

/** The fields the scorer writes; an event that already has one is re-serialized on export. */
export const OUTPUT_KEYS = ['model_output_risk_score', 'anomaly_flag', 'risk_model', 'risk_reasons', 'risk_error', 'risk_missing_fields'];

const hasOwn = Object.prototype.hasOwnProperty;

/** `a number`, `an array`… (siem-adapter's wording). */
export function kindOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'boolean': return 'a boolean';
    case 'number': return 'a number';
    case 'string': return 'a string';
    default: return 'an object';
  }
}

export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// serde_json refuses a number that does not fit an f64 (`1e400`), JSON.parse
// makes it ±Infinity. Only a number with 20+ digits in a row or a 3-digit
// exponent can overflow, so the walk runs only when the text has one.
const MAYBE_HUGE = /\d{20}|[eE]\+?\d{3}/;

function hasInfinite(v) {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (hasInfinite(v[i])) return true;
    return false;
  }
  for (const k in v) if (hasInfinite(v[k])) return true;
  return false;
}

/** JSON.parse, refusing what serde_json refuses for numbers. Throws an Error. */
export function parseJson(text) {
  const v = JSON.parse(text);
  if (MAYBE_HUGE.test(text) && hasInfinite(v)) throw new Error('number out of range (it does not fit a 64-bit float)');
  return v;
}

// ---- spans of values inside a (valid) JSON text ---------------------------

const WS = (c) => c === 32 || c === 9 || c === 10 || c === 13;
const NEXT_SPECIAL = /["{}[\]]/g;

function skipWs(t, i) {
  while (i < t.length && WS(t.charCodeAt(i))) i++;
  return i;
}

function skipString(t, i) {
  for (i++; ;) {
    const j = t.indexOf('"', i);
    if (j < 0) return t.length;
    let b = j - 1;
    while (t.charCodeAt(b) === 92) b--;
    if ((j - 1 - b) % 2 === 0) return j + 1;
    i = j + 1;
  }
}

function skipValue(t, i) {
  const c = t.charCodeAt(i);
  if (c === 34) return skipString(t, i);
  if (c === 123 || c === 91) {
    let depth = 0;
    while (i < t.length) {
      NEXT_SPECIAL.lastIndex = i;
      const m = NEXT_SPECIAL.exec(t);
      if (!m) return t.length;
      i = m.index;
      const ch = t.charCodeAt(i);
      if (ch === 34) { i = skipString(t, i); continue; }
      if (ch === 123 || ch === 91) depth++;
      else if (--depth === 0) return i + 1;
      i++;
    }
    return t.length;
  }
  while (i < t.length) {
    const ch = t.charCodeAt(i);
    if (ch === 44 || ch === 125 || ch === 93 || WS(ch)) break;
    i++;
  }
  return i;
}

/** The text of the value of top-level `key` (its last occurrence, as JSON.parse keeps it) of an object's text. */
export function valueText(t, key) {
  let i = skipWs(t, 0) + 1;
  let found = null;
  for (;;) {
    i = skipWs(t, i);
    if (t.charCodeAt(i) !== 34) break;
    const ke = skipString(t, i);
    const raw = t.slice(i + 1, ke - 1);
    const name = raw.includes('\\') ? JSON.parse(t.slice(i, ke)) : raw;
    i = skipWs(t, skipWs(t, ke) + 1);
    const ve = skipValue(t, i);
    if (name === key) found = t.slice(i, ve);
    i = skipWs(t, ve);
    if (t.charCodeAt(i) !== 44) break;
    i++;
  }
  return found;
}

/** The texts of the elements of an array's text. */
export function elementTexts(t) {
  const out = [];
  let i = skipWs(t, 0) + 1;
  for (;;) {
    i = skipWs(t, i);
    if (i >= t.length || t.charCodeAt(i) === 93) break;
    const e = skipValue(t, i);
    out.push(t.slice(i, e));
    i = skipWs(t, e);
    if (t.charCodeAt(i) !== 44) break;
    i++;
  }
  return out;
}

// ---- JSON lines -----------------------------------------------------------

/** An object read from a line: a Splunk export row, a results document, a marker or an event. */
export function readObject(obj, text, raw, line, sink) {
  const result = obj.result;
  if (isObject(result) && hasOwn.call(obj, 'result')) {
    if (obj.preview === true) return; // a preview row, superseded by the final ones
    readObject(result, valueText(text, 'result'), raw, line, sink);
    return;
  }
  const results = obj.results;
  if (Array.isArray(results) && hasOwn.call(obj, 'results')) {
    let texts = null;
    for (let i = 0; i < results.length; i++) {
      const el = results[i];
      if (isObject(el)) {
        if (texts === null) texts = elementTexts(valueText(text, 'results'));
        readObject(el, texts[i], raw, line, sink);
      } else {
        sink.error(line, `not a JSON object but ${kindOf(el)}`, raw);
      }
    }
    return;
  }
  if (hasOwn.call(obj, 'lastrow') || (typeof obj.preview === 'boolean' && hasOwn.call(obj, 'messages'))) return;
  sink.event(obj, text, line);
}

const BLANK = /^[ \t\n\f\r]*$/;

/** One input line (without its `\n`). */
export function readJsonLine(lineText, line, sink) {
  let raw = lineText;
  let end = raw.length;
  while (end > 0 && (raw.charCodeAt(end - 1) === 13 || raw.charCodeAt(end - 1) === 10)) end--;
  if (end !== raw.length) raw = raw.slice(0, end);
  if (BLANK.test(raw)) return;
  const body = raw.trim();
  let v;
  try {
    v = parseJson(body);
  } catch (e) {
    sink.error(line, `malformed JSON: ${e.message}`, raw);
    return;
  }
  if (isObject(v)) readObject(v, body, raw, line, sink);
  else sink.error(line, `not a JSON object but ${kindOf(v)}`, raw);
}

// ---- whole documents ------------------------------------------------------

function firstChars(text, n) {
  let out = '';
  let count = 0;
  for (const ch of text) {
    if (count++ >= n) break;
    out += ch;
  }
  return out;
}

/** The events of a parsed document, as siem-adapter's reader turns them into lines (numbered by position). */
export function readDocumentValue(v, sink) {
  let items;
  if (isObject(v)) {
    if (Array.isArray(v.results)) items = v.results;
    else { delete v.results; items = [v]; }
  } else if (Array.isArray(v)) items = v;
  else items = [v];
  for (let i = 0; i < items.length; i++) {
    const el = items[i];
    const text = JSON.stringify(el);
    if (isObject(el)) readObject(el, text, text, i + 1, sink);
    else sink.error(i + 1, `not a JSON object but ${kindOf(el)}`, text === undefined ? '' : text);
  }
}

function readDocument(text, sink) {
  let v;
  try {
    v = parseJson(text);
  } catch (e) {
    sink.error(1, `malformed JSON document: ${e.message}`, firstChars(text, 1000));
    return;
  }
  readDocumentValue(v, sink);
}

const LEADING_WS = /^[ \t\n\f\r]*/;

/**
 * How to read an input, from its first bytes (`head`, as text; `complete`
 * when it is the whole input). `csv`; `lines` (JSON lines: can be split
 * between workers by byte ranges); `whole` (read by one reader with
 * `readText`: pretty-printed documents, a whole JSON array, a first line
 * that is not JSON on its own, or a first line longer than the head).
 */
export function planInput(head, complete) {
  const lead = LEADING_WS.exec(head)[0].length;
  if (lead === head.length) return complete ? 'lines' : 'whole';
  const c = head[lead];
  if (c !== '{' && c !== '[') return 'csv';
  const nl = head.indexOf('\n', lead);
  const first = (nl < 0 ? head.slice(lead) : head.slice(lead, nl)).trim();
  if (nl < 0 && !complete) return 'whole';
  if (first === '{' || first === '[' || c === '[') return 'whole';
  const line1End = head.indexOf('\n');
  const line1 = (line1End < 0 ? head : head.slice(0, line1End)).trim();
  if (line1.startsWith('{')) {
    try { parseJson(line1); } catch { return 'whole'; }
  }
  return 'lines';
}

/**
 * A whole input, auto-detected: CSV; a pretty-printed document (first line
 * a lone `{` or `[`, as siem-adapter detects it); a whole JSON array; a first
 * line that fails alone but makes the whole text a `{"results":[...]}`
 * document; else JSON lines. `progress(fraction)` is called now and then.
 */
export function readText(text, sink, progress = () => {}) {
  const lead = LEADING_WS.exec(text)[0].length;
  if (lead === text.length) return;
  const c = text[lead];
  if (c !== '{' && c !== '[') { readCsv(text, sink, progress); return; }
  const nl = text.indexOf('\n', lead);
  const first = (nl < 0 ? text.slice(lead) : text.slice(lead, nl)).trim();
  if (first === '{' || first === '[') { readDocument(text, sink); return; }
  if (c === '[') {
    let v;
    try { v = parseJson(text); } catch { v = undefined; }
    if (Array.isArray(v)) { readDocumentValue(v, sink); return; }
  } else {
    const line1End = text.indexOf('\n');
    const line1 = (line1End < 0 ? text : text.slice(0, line1End)).trim();
    let ok = true;
    try { parseJson(line1); } catch { ok = false; }
    if (!ok && line1.startsWith('{') && line1End >= 0) {
      let v;
      try { v = parseJson(text); } catch { v = undefined; }
      if (isObject(v) && Array.isArray(v.results)) { readDocumentValue(v, sink); return; }
    }
  }
  readJsonLinesChunked(text, sink, progress);
}

function readJsonLinesChunked(text, sink, progress) {
  let line = 1;
  let i = 0;
  let next = 1 << 20;
  while (i < text.length) {
    let j = text.indexOf('\n', i);
    if (j < 0) j = text.length;
    readJsonLine(text.slice(i, j), line++, sink);
    i = j + 1;
    if (i > next) { progress(i / text.length); next = i + (1 << 20); }
  }
}

// ---- CSV ------------------------------------------------------------------

const FIELD_END = /[,\r\n]/g;

/** RFC 4180 records as the `csv` crate reads them (flexible; `\r`, `\n` or `\r\n` end a record; blank lines skipped). */
export function* csvRecords(text) {
  const n = text.length;
  let i = 0;
  for (;;) {
    while (i < n && (text.charCodeAt(i) === 10 || text.charCodeAt(i) === 13)) i++;
    if (i >= n) return;
    const cells = [];
    for (;;) {
      let cell;
      if (text.charCodeAt(i) === 34) {
        cell = '';
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) { cell += text.slice(i); i = n; break; }
          cell += text.slice(i, q);
          i = q + 1;
          if (text.charCodeAt(i) === 34) { cell += '"'; i++; continue; }
          FIELD_END.lastIndex = i;
          const m = FIELD_END.exec(text);
          const e = m ? m.index : n;
          cell += text.slice(i, e);
          i = e;
          break;
        }
      } else {
        FIELD_END.lastIndex = i;
        const m = FIELD_END.exec(text);
        const e = m ? m.index : n;
        cell = text.slice(i, e);
        i = e;
      }
      cells.push(cell);
      if (i < n && text.charCodeAt(i) === 44) { i++; continue; }
      break;
    }
    if (i < n && text.charCodeAt(i) === 13) i++;
    if (i < n && text.charCodeAt(i) === 10) i++;
    yield [cells, i];
  }
}

function setKey(obj, k, v) {
  if (k === '__proto__') Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[k] = v;
}

/** One CSV record as an event (siem-adapter's csv_event), or the reason it is not one. */
export function csvEvent(header, cells) {
  if (cells.length !== header.length) return { error: `CSV record has ${cells.length} cells, the header has ${header.length}` };
  const obj = {};
  for (let c = 0; c < header.length; c++) {
    const cell = cells[c];
    if (cell.includes('\n')) setKey(obj, header[c], cell.split('\n'));
    else if (cell !== '') setKey(obj, header[c], cell);
  }
  return { obj };
}

/** A CSV input with a header; records numbered from 1 after the header, as siem-adapter numbers them. */
export function readCsv(text, sink, progress = () => {}) {
  let header = null;
  let number = 0;
  let next = 1 << 20;
  for (const [cells, end] of csvRecords(text)) {
    if (header === null) { header = cells; continue; }
    number++;
    const r = csvEvent(header, cells);
    if (r.error) { sink.error(number, r.error, cells.join(',')); continue; }
    const json = JSON.stringify(r.obj);
    readObject(r.obj, json, json, number, sink);
    if (end > next) { progress(end / text.length); next = end + (1 << 20); }
  }
}

/** Everything `readText` reads, as a list (tests and small inputs). */
export function readAll(text) {
  const out = [];
  readText(text, {
    event: (obj, t, line) => out.push({ line, event: obj, text: t }),
    error: (line, error, raw) => out.push({ line, error, raw }),
  });
  return out;
}
