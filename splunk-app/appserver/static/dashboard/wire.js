// The scorer's columnar wire format (scorer-wasm/src/wire.rs), JS side:
// RSB1 batches out (only the fields the model reads, column-major, 24-byte
// cells), RSR1 results in. Fields are read exactly as scorer-core's
// `json_field` reads a JSON value. Pure; buffers are reused call after call.
// Little-endian throughout (typed-array views assume a little-endian host,
// which every browser platform is).

export const KIND_MISSING = 0;
export const KIND_NUMBER = 1;
export const KIND_TEXT = 2;
export const KIND_TRUE = 3;
export const KIND_FALSE = 4;
export const CELL = 24;
const HEADER = 16;

/**
 * A field's reading (scorer-core `json_field`): [kind, count, value].
 * Absent, null, "" and nested objects are missing; an array is a multivalue
 * field: its first element's scalar reading (an empty string is text there),
 * and its length.
 */
export function readField(v) {
  switch (typeof v) {
    case 'string': return v === '' ? [KIND_MISSING, 0, null] : [KIND_TEXT, 1, v];
    case 'number': return [KIND_NUMBER, 1, v];
    case 'boolean': return [v ? KIND_TRUE : KIND_FALSE, 1, null];
    case 'object': {
      if (!Array.isArray(v) || v.length === 0) return [KIND_MISSING, 0, null];
      const f = v[0];
      switch (typeof f) {
        case 'string': return [KIND_TEXT, v.length, f];
        case 'number': return [KIND_NUMBER, v.length, f];
        case 'boolean': return [f ? KIND_TRUE : KIND_FALSE, v.length, null];
        default: return [KIND_MISSING, v.length, null];
      }
    }
    default: return [KIND_MISSING, 0, null];
  }
}

/** Builds RSB1 batches for a model's `fields`, reusing its buffers. */
export class BatchEncoder {
  constructor(fields) {
    this.fields = fields;
    this.buf = new Uint8Array(1 << 16);
    this.strings = new Uint8Array(1 << 16);
    this.encoder = new TextEncoder();
  }

  #grow(need) {
    if (this.buf.length >= need) return;
    let n = this.buf.length;
    while (n < need) n *= 2;
    this.buf = new Uint8Array(n);
  }

  #text(s, at) {
    const need = at + s.length * 3;
    if (this.strings.length < need) {
      let n = this.strings.length;
      while (n < need) n *= 2;
      const next = new Uint8Array(n);
      next.set(this.strings.subarray(0, at));
      this.strings = next;
    }
    return this.encoder.encodeInto(s, this.strings.subarray(at)).written;
  }

  /**
   * The batch of `events[from..to)` (objects; field `f` is `event[f]`). The
   * returned bytes are a view of a reused buffer: valid until the next call.
   */
  encode(events, from = 0, to = events.length) {
    const n = to - from;
    const cols = this.fields.length;
    const cellsEnd = HEADER + CELL * n * cols;
    this.#grow(cellsEnd);
    const buf = this.buf;
    buf.fill(0, 0, cellsEnd);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let sLen = 0;
    for (let c = 0; c < cols; c++) {
      const name = this.fields[c];
      let at = HEADER + CELL * n * c;
      for (let r = from; r < to; r++, at += CELL) {
        const e = events[r];
        const v = e == null ? undefined : e[name];
        if (v === undefined || v === null) continue;
        const [kind, count, value] = readField(v);
        if (count === 0) continue;
        buf[at] = kind;
        dv.setUint32(at + 4, count, true);
        if (kind === KIND_NUMBER) dv.setFloat64(at + 8, value, true);
        else if (kind === KIND_TEXT) {
          const len = value.length === 0 ? 0 : this.#text(value, sLen);
          dv.setUint32(at + 16, sLen, true);
          dv.setUint32(at + 20, len, true);
          sLen += len;
        }
      }
    }
    const total = cellsEnd + sLen;
    if (this.buf.length < total) {
      const next = new Uint8Array(Math.max(total, this.buf.length * 2));
      next.set(buf.subarray(0, cellsEnd));
      this.buf = next;
    }
    const out = this.buf;
    out[0] = 0x52; out[1] = 0x53; out[2] = 0x42; out[3] = 0x31; // RSB1
    const hv = new DataView(out.buffer, out.byteOffset, HEADER);
    hv.setUint32(4, n, true);
    hv.setUint32(8, cols, true);
    hv.setUint32(12, sLen, true);
    out.set(this.strings.subarray(0, sLen), cellsEnd);
    return out.subarray(0, total);
  }
}

/**
 * An RSR1 result: `{ n, maskWords, score, raw, flag, mask, reasons }`.
 * `score`/`raw` are Float64Arrays, `flag` a Uint8Array, `mask` a Uint32Array
 * (two halves per u64 word, low first), `reasons` the JSON text ('' when none).
 * Throws on a malformed buffer.
 */
export function decodeResults(bytes) {
  if (bytes.length < HEADER || bytes[0] !== 0x52 || bytes[1] !== 0x53 || bytes[2] !== 0x52 || bytes[3] !== 0x31) {
    throw new Error('result does not start with RSR1');
  }
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(4, true);
  const maskWords = dv.getUint32(8, true);
  const reasonsLen = dv.getUint32(12, true);
  const flagsAt = HEADER + 16 * n;
  const masksAt = Math.ceil((flagsAt + n) / 8) * 8;
  const reasonsAt = masksAt + 8 * n * maskWords;
  if (bytes.length !== reasonsAt + reasonsLen) throw new Error(`result is ${bytes.length} bytes, expected ${reasonsAt + reasonsLen}`);
  const b = bytes.buffer;
  const o = bytes.byteOffset;
  return {
    n,
    maskWords,
    score: new Float64Array(b, o + HEADER, n),
    raw: new Float64Array(b, o + HEADER + 8 * n, n),
    flag: new Uint8Array(b, o + flagsAt, n),
    mask: new Uint32Array(b, o + masksAt, 2 * n * maskWords),
    reasons: reasonsLen ? new TextDecoder().decode(bytes.subarray(reasonsAt)) : '',
  };
}

/** Decode an RSB1 batch (tests and debugging): `{ nRows, nCols, cells: [[{kind, count, number?, text?}]] }` by column. */
export function decodeBatch(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== 'RSB1') throw new Error('batch does not start with RSB1');
  const nRows = dv.getUint32(4, true);
  const nCols = dv.getUint32(8, true);
  const sLen = dv.getUint32(12, true);
  const sAt = HEADER + CELL * nRows * nCols;
  if (bytes.length !== sAt + sLen) throw new Error(`batch is ${bytes.length} bytes, its header says ${sAt + sLen}`);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const cells = [];
  for (let c = 0; c < nCols; c++) {
    const col = [];
    for (let r = 0; r < nRows; r++) {
      const at = HEADER + CELL * (c * nRows + r);
      const cell = { kind: bytes[at], count: dv.getUint32(at + 4, true) };
      if (bytes[at + 1] | bytes[at + 2] | bytes[at + 3]) throw new Error(`cell ${c},${r}: padding is not zero`);
      if (cell.kind === KIND_NUMBER) cell.number = dv.getFloat64(at + 8, true);
      if (cell.kind === KIND_TEXT) {
        const off = dv.getUint32(at + 16, true);
        const len = dv.getUint32(at + 20, true);
        cell.text = dec.decode(bytes.subarray(sAt + off, sAt + off + len));
      }
      col.push(cell);
    }
    cells.push(col);
  }
  return { nRows, nCols, cells };
}
