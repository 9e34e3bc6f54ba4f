// The scorer's columnar wire format (scorer-wasm/src/wire/mod.rs), JS side:
// RSB2 batches out (only the fields the model reads, column-major, a kind
// byte and an 8-byte payload per cell, a 24-byte extension for multivalue
// cells), RSR1 results in. Fields are read exactly as scorer-core's
// `json_field` reads a JSON value. Pure; buffers are reused call after call.
// Little-endian throughout (typed-array views assume a little-endian host,
// which every browser platform is).

export const KIND_MISSING = 0;
export const KIND_NUMBER = 1;
export const KIND_TEXT = 2;
export const KIND_TRUE = 3;
export const KIND_FALSE = 4;
export const KIND_EXTENDED = 6;
/** Bytes of an extension record. */
export const EXT = 24;
const HEADER = 24;
const RESULT_HEADER = 16;

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

/** Builds RSB2 batches for a model's `fields`, reusing its buffers. */
export class BatchEncoder {
  constructor(fields) {
    this.fields = fields;
    this.buf = new Uint8Array(1 << 16);
    this.ext = new Uint8Array(1 << 12);
    this.strings = new Uint8Array(1 << 16);
    this.encoder = new TextEncoder();
  }

  #grow(need) {
    if (this.buf.length >= need) return;
    let n = this.buf.length;
    while (n < need) n *= 2;
    const next = new Uint8Array(n);
    next.set(this.buf);
    this.buf = next;
  }

  #extension(i, kind, count, off, len, number) {
    const at = EXT * i;
    if (this.ext.length < at + EXT) {
      const next = new Uint8Array(this.ext.length * 2);
      next.set(this.ext);
      this.ext = next;
    }
    this.ext.fill(0, at, at + EXT);
    const dv = new DataView(this.ext.buffer, at, EXT);
    dv.setUint8(0, kind);
    dv.setUint32(4, count, true);
    if (kind === KIND_NUMBER) dv.setFloat64(8, number, true);
    dv.setUint32(16, off, true);
    dv.setUint32(20, len, true);
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
    const cells = n * cols;
    const payAt = HEADER + Math.ceil(cells / 8) * 8;
    const extAt = payAt + 8 * cells;
    this.#grow(extAt);
    const buf = this.buf;
    buf.fill(0, 0, extAt);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let sLen = 0;
    let nExt = 0;
    for (let c = 0; c < cols; c++) {
      const name = this.fields[c];
      for (let r = from, cell = c * n; r < to; r++, cell++) {
        const e = events[r];
        const v = e == null ? undefined : e[name];
        if (v === undefined || v === null) continue;
        const [kind, count, value] = readField(v);
        if (kind === KIND_MISSING && count === 0) continue;
        let off = 0;
        let len = 0;
        if (kind === KIND_TEXT && value.length > 0) {
          off = sLen;
          len = this.#text(value, sLen);
          sLen += len;
        }
        const p = payAt + 8 * cell;
        // Multivalue cells (a missing first value still counts its values).
        if (count !== 1 || kind === KIND_MISSING) {
          this.#extension(nExt, kind, count, off, len, value);
          buf[HEADER + cell] = KIND_EXTENDED;
          dv.setUint32(p, nExt++, true);
          continue;
        }
        buf[HEADER + cell] = kind;
        if (kind === KIND_NUMBER) dv.setFloat64(p, value, true);
        else if (kind === KIND_TEXT) {
          dv.setUint32(p, off, true);
          dv.setUint32(p + 4, len, true);
        }
      }
    }
    const strAt = extAt + EXT * nExt;
    const total = strAt + sLen;
    this.#grow(total);
    const out = this.buf;
    out[0] = 0x52; out[1] = 0x53; out[2] = 0x42; out[3] = 0x32; // RSB2
    const hv = new DataView(out.buffer, out.byteOffset, HEADER);
    hv.setUint32(4, n, true);
    hv.setUint32(8, cols, true);
    hv.setUint32(12, nExt, true);
    hv.setUint32(16, sLen, true);
    hv.setUint32(20, 0, true);
    out.set(this.ext.subarray(0, EXT * nExt), extAt);
    out.set(this.strings.subarray(0, sLen), strAt);
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
  if (bytes.length < RESULT_HEADER || bytes[0] !== 0x52 || bytes[1] !== 0x53 || bytes[2] !== 0x52 || bytes[3] !== 0x31) {
    throw new Error('result does not start with RSR1');
  }
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(4, true);
  const maskWords = dv.getUint32(8, true);
  const reasonsLen = dv.getUint32(12, true);
  const flagsAt = RESULT_HEADER + 16 * n;
  const masksAt = Math.ceil((flagsAt + n) / 8) * 8;
  const reasonsAt = masksAt + 8 * n * maskWords;
  if (bytes.length !== reasonsAt + reasonsLen) throw new Error(`result is ${bytes.length} bytes, expected ${reasonsAt + reasonsLen}`);
  const b = bytes.buffer;
  const o = bytes.byteOffset;
  return {
    n,
    maskWords,
    score: new Float64Array(b, o + RESULT_HEADER, n),
    raw: new Float64Array(b, o + RESULT_HEADER + 8 * n, n),
    flag: new Uint8Array(b, o + flagsAt, n),
    mask: new Uint32Array(b, o + masksAt, 2 * n * maskWords),
    reasons: reasonsLen ? new TextDecoder().decode(bytes.subarray(reasonsAt)) : '',
  };
}

/**
 * Decode an RSB2 batch (tests and debugging): `{ nRows, nCols, cells:
 * [[{kind, count, number?, text?}]] }` by column; extended cells are read
 * through their extension (kind 1..4 with their count); a missing cell has
 * count 0.
 */
export function decodeBatch(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== 'RSB2') throw new Error('batch does not start with RSB2');
  const nRows = dv.getUint32(4, true);
  const nCols = dv.getUint32(8, true);
  const nExt = dv.getUint32(12, true);
  const sLen = dv.getUint32(16, true);
  const cells = nRows * nCols;
  const payAt = HEADER + Math.ceil(cells / 8) * 8;
  const extAt = payAt + 8 * cells;
  const sAt = extAt + EXT * nExt;
  if (bytes.length !== sAt + sLen) throw new Error(`batch is ${bytes.length} bytes, its header says ${sAt + sLen}`);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const text = (off, len) => {
    if (off + len > sLen) throw new Error(`text ${off}..${off + len} is outside the strings`);
    return dec.decode(bytes.subarray(sAt + off, sAt + off + len));
  };
  const out = [];
  for (let c = 0; c < nCols; c++) {
    const col = [];
    for (let r = 0; r < nRows; r++) {
      const i = c * nRows + r;
      const p = payAt + 8 * i;
      let kind = bytes[HEADER + i];
      let cell;
      if (kind === KIND_EXTENDED) {
        const x = dv.getUint32(p, true);
        if (x >= nExt) throw new Error(`cell ${c},${r}: extension ${x} of ${nExt}`);
        const e = extAt + EXT * x;
        kind = bytes[e];
        cell = { kind, count: dv.getUint32(e + 4, true) };
        if (kind === KIND_NUMBER) cell.number = dv.getFloat64(e + 8, true);
        if (kind === KIND_TEXT) cell.text = text(dv.getUint32(e + 16, true), dv.getUint32(e + 20, true));
      } else {
        cell = { kind, count: kind === KIND_MISSING ? 0 : 1 };
        if (kind === KIND_NUMBER) cell.number = dv.getFloat64(p, true);
        if (kind === KIND_TEXT) cell.text = text(dv.getUint32(p, true), dv.getUint32(p + 4, true));
      }
      if (kind > KIND_FALSE) throw new Error(`cell ${c},${r}: unknown kind ${kind}`);
      col.push(cell);
    }
    out.push(col);
  }
  return { nRows, nCols, cells: out };
}
