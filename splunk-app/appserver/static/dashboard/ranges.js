// JSON lines from a byte range of a File (or any Blob), for one of several
// workers reading the same file in parallel: a worker reads the lines that
// start in its range [start, end) — the partial line at `start` belongs to
// the previous range, the line crossing `end` is finished here. Lines are
// numbered from 1 at `start` (plus one if a newline had to be skipped), and
// the newlines inside [start, end) are counted, so that the page can give
// each worker the true line offset afterwards. A line that is not UTF-8 is
// refused on its own, as siem-adapter refuses it.

import { readJsonLine } from './formats.js';

const BLOCK = 4 << 20;

// ignoreBOM: a byte-order mark is only dropped at the start of the file (below).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder('utf-8', { ignoreBOM: true });

async function bytesOf(file, a, b) {
  return new Uint8Array(await file.slice(a, b).arrayBuffer());
}

function joinAll(list) {
  if (list.length === 0) return null;
  if (list.length === 1) return list[0];
  const out = new Uint8Array(list.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of list) { out.set(b, at); at += b.length; }
  return out;
}

function concat(a, b) {
  if (!b || b.length === 0) return a;
  if (!a || a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Lines of `bytes` (whole lines, each ending in \n except maybe the last), numbered from `line`. Returns the next number. */
function readLines(bytes, line, sink) {
  // A sink that reads raw lines itself (the worker hands them to the scorer's
  // own line reader, in wasm) gets the bytes as they are.
  if (sink.lines) return sink.lines(bytes, line);
  let text = null;
  try { text = decoder.decode(bytes); } catch { text = null; }
  if (text !== null) {
    let i = 0;
    while (i < text.length) {
      let j = text.indexOf('\n', i);
      if (j < 0) j = text.length;
      readJsonLine(text.slice(i, j), line++, sink);
      i = j + 1;
    }
    return line;
  }
  // Not all UTF-8: line by line, so that only the bad lines are refused.
  let i = 0;
  while (i < bytes.length) {
    let j = bytes.indexOf(10, i);
    if (j < 0) j = bytes.length;
    const lb = bytes.subarray(i, j);
    let t;
    try { t = decoder.decode(lb); } catch { t = null; }
    if (t === null) sink.error(line, 'line is not UTF-8', lossy.decode(lb));
    else readJsonLine(t, line, sink);
    line++;
    i = j + 1;
  }
  return line;
}

/**
 * JSON lines of bytes [start, end) of `file`: the lines that start in the
 * range (the first partial line belongs to the previous range; the last
 * line is finished past `end`). Returns the newlines in [start, end).
 */
export async function readRange(file, start, end, sink, { progress = () => {}, alive = () => true, block = BLOCK } = {}) {
  let lineStart = start;
  let newlines = 0;
  if (start === 0) {
    const head = await bytesOf(file, 0, Math.min(3, end));
    if (head.length === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) lineStart = 3;
  } else {
    let p = start - 1;
    lineStart = file.size;
    while (p < file.size) {
      const b = await bytesOf(file, p, Math.min(p + Math.min(block, 65536), file.size));
      if (!alive()) return null;
      const i = b.indexOf(10);
      if (i >= 0) { lineStart = p + i + 1; break; }
      p += b.length;
    }
    if (lineStart - 1 >= start && lineStart - 1 < end) newlines++;
  }
  let line = 1 + newlines;
  let carry = null;
  let pending = []; // blocks of a line longer than a block, joined once its end is read
  let pos = lineStart;
  // The next block is read (by the browser, off this thread) while this one is scored.
  const fetchFrom = (p) => (p < end ? bytesOf(file, p, Math.min(p + block, end)) : null);
  let next = fetchFrom(pos);
  while (pos < end) {
    const stop = Math.min(pos + block, end);
    const chunk = await next;
    if (!alive()) return null;
    pos = stop;
    next = fetchFrom(pos);
    const last = chunk.lastIndexOf(10);
    if (last < 0) { pending.push(chunk); continue; }
    const data = concat(concat(carry, joinAll(pending)), chunk);
    pending = [];
    const whole = data.subarray(0, data.length - (chunk.length - last - 1));
    // `whole` ends with a newline: its lines are its newlines.
    const first = line;
    line = readLines(whole, line, sink);
    newlines += line - first;
    carry = chunk.slice(last + 1);
    progress(pos - start);
  }
  if (pending.length) carry = concat(carry, joinAll(pending));
  if (carry && carry.length > 0) {
    const rest = [carry];
    let p = end;
    while (p < file.size) {
      const b = await bytesOf(file, p, Math.min(p + block, file.size));
      if (!alive()) return null;
      const i = b.indexOf(10);
      if (i >= 0) { rest.push(b.subarray(0, i)); break; }
      rest.push(b);
      p += b.length;
    }
    readLines(joinAll(rest), line, sink);
  }
  return newlines;
}
