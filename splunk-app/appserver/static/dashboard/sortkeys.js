// Sorting by an event field: each worker sorts its own events (a "run"),
// the page merges the runs — the main thread never sorts 100,000 strings.

/** A value to sort by: numbers (and numeric text) as numbers, else lower-cased text; null when absent. */
export function sortKey(v) {
  if (Array.isArray(v)) v = v[0];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const x = Number(v);
    return v.trim() !== '' && Number.isFinite(x) ? x : v.toLowerCase();
  }
  return (typeof v === 'object' ? JSON.stringify(v) : String(v)).toLowerCase();
}

/** Order of sort keys: numbers, then text, then absent (null). */
export function compareKeys(a, b) {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const na = typeof a === 'number';
  if (na !== (typeof b === 'number')) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A worker's run: its local indices sorted by key (ties in input order), and the keys in that order. */
export function sortRun(keys) {
  const order = new Uint32Array(keys.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => compareKeys(keys[a], keys[b]) || a - b);
  return { order, keys: Array.from(order, (i) => keys[i]) };
}

/**
 * Merge runs (in input order of their parts, `offsets` = first global index
 * of each) into global indices: ascending, or descending with absent values
 * still last; ties in input order either way.
 */
export function mergeRuns(runs, offsets, desc = false) {
  const total = runs.reduce((a, r) => a + r.order.length, 0);
  const out = new Uint32Array(total);
  const merged = desc ? new Array(total) : null;
  const pos = runs.map(() => 0);
  let nonNull = 0;
  for (let o = 0; o < total; o++) {
    let best = -1;
    for (let r = 0; r < runs.length; r++) {
      if (pos[r] >= runs[r].order.length) continue;
      if (best < 0 || compareKeys(runs[r].keys[pos[r]], runs[best].keys[pos[best]]) < 0) best = r;
    }
    const key = runs[best].keys[pos[best]];
    if (key !== null) nonNull++;
    if (merged) merged[o] = key;
    out[o] = offsets[best] + runs[best].order[pos[best]++];
  }
  if (desc) {
    // Reverse the keyed part by groups of equal keys, so that ties stay in input order.
    const head = [];
    let i = 0;
    while (i < nonNull) {
      let j = i + 1;
      while (j < nonNull && compareKeys(merged[i], merged[j]) === 0) j++;
      head.push(out.slice(i, j));
      i = j;
    }
    let w = 0;
    for (let g = head.length - 1; g >= 0; g--) { out.set(head[g], w); w += head[g].length; }
  }
  return out;
}

/**
 * Indices ordered by score (NaN = the event has risk_error: last), ascending
 * or descending, ties in input order — the order mergeRuns gives, computed
 * on the page from the scores it already holds.
 */
export function scoreOrder(scores, desc = false) {
  const n = scores.length;
  const order = new Uint32Array(n);
  let w = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(scores[i])) order[w++] = i;
  const scored = w;
  order.subarray(0, scored).sort(desc
    ? (a, b) => scores[b] - scores[a] || a - b
    : (a, b) => scores[a] - scores[b] || a - b);
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i])) order[w++] = i;
  return order;
}
