// Scored events out, as `siem-adapter score` writes them (its render.rs and
// sinks.rs): JSON lines with the scorer's fields spliced in before the
// event's closing brace (the original text untouched), unreadable lines as
// `{"_raw", "risk_error", "risk_model"}`, and CSV with the union of the keys
// in first-seen order. Pure: used by the scoring worker, tested under Node.

import { OUTPUT_KEYS } from './formats.js';

export const SCORE = 'model_output_risk_score';
export const FLAG = 'anomaly_flag';
export const MODEL = 'risk_model';
export const REASONS = 'risk_reasons';
export const ERROR = 'risk_error';
export const MISSING = 'risk_missing_fields';
export const NAN_ERROR = "model output is not a number (feature values overflow the model's arithmetic)";

/**
 * An f64 as serde_json writes it (its `zmij` formatter): shortest round-trip
 * digits, fixed notation for decimal exponents -5..=15 (`0.0`, `1.0`, `0.25`,
 * `0.00001`), else `1e-7`, `1.5e-6`, `1e+16`.
 */
export function formatF64(x) {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  if (!Number.isFinite(x)) return 'null';
  const sign = x < 0 ? '-' : '';
  const [mant, exp] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const length = digits.length;
  const kk = Number(exp) + 1; // 10^(kk-1) <= |x| < 10^kk
  const k = kk - length;
  if (k >= 0 && kk <= 16) return sign + digits + '0'.repeat(k) + '.0';
  if (kk > 0 && kk <= 16) return sign + digits.slice(0, kk) + '.' + digits.slice(kk);
  if (kk > -5 && kk <= 0) return sign + '0.' + '0'.repeat(-kk) + digits;
  const m = length === 1 ? digits : digits[0] + '.' + digits.slice(1);
  return sign + m + 'e' + (kk - 1 >= 0 ? '+' : '') + (kk - 1);
}

/** Fields of the features whose bit is set in a row's missing mask (u64 words as u32 pairs at `at`), unique, in feature order. */
export function missingFields(mask, at, featureFields) {
  const out = [];
  for (let f = 0; f < featureFields.length; f++) {
    const word = mask[at + 2 * (f >> 6) + ((f & 63) >> 5)];
    if ((word >>> (f & 31)) & 1) {
      const name = featureFields[f];
      if (!out.includes(name)) out.push(name);
    }
  }
  return out;
}

/**
 * What the scorer says about an event:
 *   { score, flag, reasons?: string|null, missing?: string[] }  scored
 *   { error }                                                   not scored
 */
function tail(v, modelJson) {
  if (v.error !== undefined) return `"${ERROR}":${JSON.stringify(v.error)},"${MODEL}":${modelJson}`;
  let s = `"${SCORE}":${formatF64(v.score)},"${FLAG}":${v.flag},"${MODEL}":${modelJson}`;
  if (v.reasons != null) s += `,"${REASONS}":${JSON.stringify(v.reasons)}`;
  if (v.missing && v.missing.length) s += `,"${MISSING}":${JSON.stringify(v.missing.join(','))}`;
  return s;
}

/** Write the verdict's fields into an event object (existing keys replaced in place). */
export function applyVerdict(obj, v, modelId) {
  if (v.error !== undefined) {
    obj[ERROR] = v.error;
    obj[MODEL] = modelId;
    return obj;
  }
  obj[SCORE] = v.score;
  obj[FLAG] = v.flag;
  obj[MODEL] = modelId;
  if (v.reasons != null) obj[REASONS] = v.reasons;
  if (v.missing && v.missing.length) obj[MISSING] = v.missing.join(',');
  return obj;
}

/** Does the object already carry one of the scorer's fields? */
export function collides(obj) {
  for (const k of OUTPUT_KEYS) if (Object.prototype.hasOwnProperty.call(obj, k)) return true;
  return false;
}

/** Has the object no keys? */
export function isEmptyObject(obj) {
  for (const _ in obj) return false;
  return true;
}

function stringifyScored(obj) {
  // JSON.stringify would write a score of 1 as `1`; serde_json writes `1.0`.
  const score = obj[SCORE];
  if (typeof score !== 'number' || !Number.isInteger(score)) return JSON.stringify(obj);
  const marker = '\u0000riskscore-score\u0000';
  obj[SCORE] = marker;
  return JSON.stringify(obj).replace(JSON.stringify(marker), formatF64(score));
}

/**
 * One JSONL line (no newline) for an event given as its object's JSON
 * `text`; `empty`/`clash` as computed by isEmptyObject/collides when it was
 * read. A clashing event is parsed and re-serialized with its fields replaced.
 */
export function renderEventLine(text, v, modelId, empty, clash) {
  if (clash) return stringifyScored(applyVerdict(JSON.parse(text), v, modelId));
  const close = text.lastIndexOf('}');
  return text.slice(0, close) + (empty ? '' : ',') + tail(v, JSON.stringify(modelId)) + '}';
}

function trimEol(raw) {
  let e = raw.length;
  while (e > 0 && (raw.charCodeAt(e - 1) === 10 || raw.charCodeAt(e - 1) === 13)) e--;
  return raw.slice(0, e);
}

/** The line of an unreadable input line: `_raw` (when there is text), `risk_error`, `risk_model`. */
export function renderUnreadableLine(raw, error, modelId) {
  const r = trimEol(raw || '');
  const head = r ? `"_raw":${JSON.stringify(r)},` : '';
  return `{${head}"${ERROR}":${JSON.stringify(error)},"${MODEL}":${JSON.stringify(modelId)}}`;
}

/** The output object of an unreadable line (CSV export). */
export function unreadableObject(raw, error, modelId) {
  const r = trimEol(raw || '');
  const o = {};
  if (r) o._raw = r;
  o[ERROR] = error;
  o[MODEL] = modelId;
  return o;
}

// ---- CSV ------------------------------------------------------------------

function numberCell(x) {
  return Number.isInteger(x) && Math.abs(x) < 2 ** 53 ? String(x) : formatF64(x);
}

/** A JSON value as a CSV cell (siem-adapter's sinks::cell): arrays newline-joined (Splunk multivalue). */
export function cellText(v, key) {
  if (v === null || v === undefined) return '';
  switch (typeof v) {
    case 'string': return v;
    case 'number': return key === SCORE ? formatF64(v) : numberCell(v);
    case 'boolean': return String(v);
    default:
      if (Array.isArray(v)) return v.map((x) => cellText(x)).join('\n');
      return JSON.stringify(v);
  }
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field, quoted when it must be (RFC 4180). */
export function csvField(s) {
  return NEEDS_QUOTES.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** One CSV record with its `\n` (a record of one empty field is written `""`, as the csv crate does). */
export function csvRecord(cells) {
  if (cells.length === 1 && cells[0] === '') return '""\n';
  return cells.map(csvField).join(',') + '\n';
}

/** The CSV record of an output object for `columns`. */
export function csvRow(obj, columns) {
  const cells = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const k = columns[i];
    cells[i] = Object.prototype.hasOwnProperty.call(obj, k) ? cellText(obj[k], k) : '';
  }
  return csvRecord(cells);
}
