// The results table: one page (100 rows) of the sorted events at a time —
// never a DOM row per event. Risk, flag and errors are known here; key-field
// values and reasons are fetched from the owning workers for the visible
// rows only. Sortable by row, risk, flag and the key fields.

import { h, replace, fmt } from './dom.js';

export const PAGE = 100;
/** An epoch `_time` as UTC date and time (other values as they are). */
export function showTime(v) {
  if (!/^\d{9,11}(\.\d+)?$/.test(v)) return v;
  const d = new Date(Number(v) * 1000);
  return Number.isNaN(d.getTime()) ? v : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export class ResultsTable {
  /**
   * `fetchRows(globalIndices, fields, k)` → Promise of row objects
   * ({values, reasons?, missing?, error?, line?}); `fetchOrder(field, desc)`
   * → Promise of every event's global index, sorted by that field.
   */
  constructor({ table, info, prev, next, first, last, fetchRows, fetchOrder }) {
    Object.assign(this, { table, info, fetchRows, fetchOrder });
    this.thead = table.querySelector('thead') || table.appendChild(h('thead'));
    this.tbody = table.querySelector('tbody') || table.appendChild(h('tbody'));
    this.total = 0;
    this.page = 0;
    this.sort = { key: 'risk', desc: true };
    this.t = 0.5;
    this.k = 3;
    this.token = 0;
    first.addEventListener('click', () => this.go(0));
    prev.addEventListener('click', () => this.go(this.page - 1));
    next.addEventListener('click', () => this.go(this.page + 1));
    last.addEventListener('click', () => this.go(this.pages() - 1));
    this.buttons = { first, prev, next, last };
  }

  pages() { return Math.max(1, Math.ceil(this.total / PAGE)); }

  /**
   * New results: `scores` (NaN = not scored), `errors` (Map global index → text), `keyFields`.
   * Resolves once the first page is shown with its fields and reasons.
   */
  setData({ scores, errors, keyFields, threshold, k }) {
    this.scores = scores;
    this.errors = errors;
    this.total = scores.length;
    this.keyFields = keyFields;
    this.t = threshold;
    this.k = k;
    this.page = 0;
    this.sort = { key: 'risk', desc: true };
    this.order = null;
    this.#header();
    return this.#order().then(() => this.render(), () => {});
  }

  clear() {
    this.total = 0;
    this.order = null;
    this.token++;
    this.colgroup?.remove();
    this.colgroup = null;
    replace(this.thead);
    replace(this.tbody);
    this.info.textContent = '';
  }

  /** Build the header (and the fixed column widths) for the current key fields. */
  #header() {
    const cols = [['row', '#'], ['risk', 'risk'], ['flag', 'flag'], [null, 'top reasons'], ...this.keyFields.map((f) => [`field:${f}`, f])];
    this.colgroup?.remove();
    const colClass = (key) => (!key ? 'col-reasons' : key === 'field:_time' ? 'col-field col-time' : `col-${key.replace(/^field:.*/, 'field')}`);
    this.colgroup = h('colgroup', {}, cols.map(([key]) => h('col', { class: colClass(key) })));
    this.table.insertBefore(this.colgroup, this.thead);
    replace(this.thead, h('tr', {}, cols.map(([key, label]) => {
      if (!key) return h('th', { scope: 'col', class: 'reasons' }, label);
      return h('th', { scope: 'col', 'data-key': key, class: key.startsWith('field:') ? 'field' : key, title: label },
        h('button', { type: 'button', class: 'sort', 'data-sort': key, onclick: () => this.sortBy(key) },
          label, h('span', { class: 'arrow', 'aria-hidden': 'true' })));
    })));
    this.#marks();
  }

  /** Show the sort column and direction (aria-sort and an arrow), in place. */
  #marks() {
    for (const th of this.thead.querySelectorAll('th[data-key]')) {
      const active = th.dataset.key === this.sort.key;
      th.setAttribute('aria-sort', active ? (this.sort.desc ? 'descending' : 'ascending') : 'none');
      th.querySelector('.arrow').textContent = active ? (this.sort.desc ? ' ▼' : ' ▲') : '';
    }
  }

  #isFlagged(i) {
    return this.scores[i] >= this.t;
  }

  async #order() {
    const { key, desc } = this.sort;
    if (key === 'risk' || key.startsWith('field:')) {
      this.table.setAttribute('aria-busy', 'true');
      const order = await this.fetchOrder(key === 'risk' ? null : key.slice(6), desc);
      if (this.sort.key === key && this.sort.desc === desc) this.order = order;
      return;
    }
    const n = this.total;
    const order = new Uint32Array(n);
    if (key === 'flag') {
      // Flagged, not flagged, then errors (each in input order); ascending swaps the first two.
      let w = 0;
      const sc = this.scores;
      const first = (x) => (desc ? x >= this.t : x < this.t);
      for (let i = 0; i < n; i++) if (first(sc[i])) order[w++] = i;
      for (let i = 0; i < n; i++) if (!Number.isNaN(sc[i]) && !first(sc[i])) order[w++] = i;
      for (let i = 0; i < n; i++) if (Number.isNaN(sc[i])) order[w++] = i;
    } else {
      for (let i = 0; i < n; i++) order[i] = desc ? n - 1 - i : i;
    }
    this.order = order;
  }

  async sortBy(key) {
    if (this.sort.key === key) this.sort = { key, desc: !this.sort.desc };
    else this.sort = { key, desc: key === 'risk' || key === 'flag' };
    this.#marks();
    try {
      await this.#order();
    } catch (e) {
      this.info.textContent = `Could not sort: ${e.message}`;
      return;
    }
    this.page = 0;
    this.render();
  }

  go(page) {
    this.page = Math.min(this.pages() - 1, Math.max(0, page));
    this.render();
  }

  setThreshold(t) {
    this.t = t;
    if (this.sort.key === 'flag' && this.total) {
      this.#order();
      this.render();
      return;
    }
    for (const tr of this.tbody.rows) {
      const i = Number(tr.dataset.index);
      if (!Number.isNaN(i)) this.#flagCell(tr.cells[2], i);
    }
  }

  setK(k) {
    this.k = k;
    if (this.total) this.render();
  }

  #flagCell(td, i) {
    const err = Number.isNaN(this.scores[i]);
    const on = !err && this.#isFlagged(i);
    td.className = `flag ${err ? 'na' : on ? 'on' : 'off'}`;
    td.textContent = err ? '—' : on ? '⚑ flagged' : 'no';
  }

  /** Show the current page; resolves once its rows have their fields and reasons. */
  render() {
    if (!this.order) return Promise.resolve();
    const start = this.page * PAGE;
    const idx = Array.from(this.order.subarray(start, Math.min(this.total, start + PAGE)));
    const token = ++this.token;
    const rows = idx.map((i) => {
      const err = this.errors.get(i);
      const score = this.scores[i];
      const flag = h('td', {});
      this.#flagCell(flag, i);
      const reasons = h('td', { class: err ? 'reasons error' : 'reasons' }, err ? `risk_error: ${err}` : this.k > 0 ? '…' : '—');
      return h('tr', { 'data-index': i, class: err ? 'error-row' : '' },
        h('td', { class: 'num' }, String(i + 1)),
        h('td', { class: 'risk' }, Number.isNaN(score) ? 'error' : h('span', { class: 'risk-value' }, score.toFixed(3), h('span', { class: 'meter', 'data-level': Math.min(9, Math.floor(score * 10)) }))),
        flag, reasons,
        this.keyFields.map(() => h('td', { class: 'field' }, '…')));
    });
    replace(this.tbody, rows);
    this.table.setAttribute('aria-busy', idx.length ? 'true' : 'false');
    const shown = idx.length ? `${fmt(start + 1)}–${fmt(start + idx.length)}` : '0';
    this.info.textContent = `Rows ${shown} of ${fmt(this.total)} · page ${fmt(this.page + 1)} of ${fmt(this.pages())}`;
    this.buttons.first.disabled = this.buttons.prev.disabled = this.page === 0;
    this.buttons.last.disabled = this.buttons.next.disabled = this.page >= this.pages() - 1;
    if (!idx.length) return Promise.resolve();
    return this.fetchRows(idx, this.keyFields, this.k).then((data) => {
      if (token !== this.token) return;
      this.table.setAttribute('aria-busy', 'false');
      data.forEach((d, j) => {
        const tr = rows[j];
        d.values.forEach((v, c) => {
          const td = tr.cells[4 + c];
          const shown = this.keyFields[c] === '_time' ? showTime(v) : v;
          td.textContent = shown;
          if (shown !== v || v.length > 40) td.title = v;
        });
        const rc = tr.cells[3];
        if (d.error) rc.textContent = `risk_error: ${d.error}`;
        else if (this.k > 0) rc.textContent = d.reasons || '(no positive contributions)';
        if (d.missing) rc.append(h('span', { class: 'missing-note' }, `defaults used for: ${d.missing}`));
        const first = tr.cells[4];
        if (d.raw && first) {
          first.textContent = d.raw.length > 120 ? `${d.raw.slice(0, 120)}…` : d.raw;
          first.title = d.raw.slice(0, 2000);
          first.classList.add('raw');
        }
      });
    }).catch((e) => {
      if (token !== this.token) return;
      this.table.setAttribute('aria-busy', 'false');
      for (const tr of rows) tr.cells[3].textContent = `(could not load: ${e.message})`;
    });
  }
}
