// Exports, built from parts the workers render (each worker renders its own
// events; the page only concatenates them into a Blob and downloads it).

import { csvRecord } from './render.js';

/**
 * The scored batch as a Blob: 'jsonl' (scored.jsonl) or 'csv' (scored.csv),
 * with flags at `threshold` and the top `k` reasons (0: none).
 * `parts`: [{slot, n}] in input order. `onProgress(fraction)`.
 */
export async function buildExport(pool, parts, format, threshold, k, onProgress = () => {}) {
  const live = parts.filter((p) => p.n > 0);
  const total = live.reduce((a, p) => a + p.n, 0) || 1;
  const done = new Map();
  const tick = (p, x, weight) => {
    done.set(p.slot, x * weight);
    onProgress([...done.values()].reduce((a, b) => a + b, 0) / total);
  };
  let columns = null;
  let head = [];
  if (format === 'csv') {
    const lists = await Promise.all(live.map((p) => pool.request(p.slot, { type: 'csv-keys', k }, {
      progress: (d, n) => tick(p, (0.5 * d) / n, p.n),
    })));
    const seen = new Set();
    columns = [];
    for (const list of lists) for (const key of list) if (!seen.has(key)) { seen.add(key); columns.push(key); }
    head = [csvRecord(columns)];
  }
  const bodies = await Promise.all(live.map((p) => pool.request(p.slot, { type: 'export', format, threshold, k, columns }, {
    progress: (d, n) => tick(p, (format === 'csv' ? 0.5 : 0) + (0.5 * d) / n, p.n),
  })));
  onProgress(1);
  const type = format === 'csv' ? 'text/csv;charset=utf-8' : 'application/x-ndjson';
  return new Blob([...head, ...bodies], { type });
}

/** Offer a Blob as a download. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
