// The drift panel: this batch against the artifact's training baseline, per
// feature column (paired bars on the baseline's own bins, PSI and KS), the
// score distribution, and missing-value shares per feature.

import { h, s, fmt, pct, replace } from './dom.js';

const FIRST = 24; // columns shown before "show all"

/** PSI band by the artifact's policy (default: watch from 0.1, drift from 0.25). */
export function psiLevel(psi, policy = { psi_watch: 0.1, psi_drift: 0.25 }) {
  if (!(psi >= policy.psi_watch)) return 'ok';
  return psi >= policy.psi_drift ? 'drift' : 'watch';
}

function num(x) {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 0.001 || a >= 1e6)) return x.toExponential(2);
  return String(Math.round(x * 1000) / 1000);
}

/** Bin i covers (edges[i-1], edges[i]]. */
function binLabel(edges, i) {
  if (edges.length === 0) return 'all values';
  if (i === 0) return `≤ ${num(edges[0])}`;
  if (i === edges.length) return `> ${num(edges[edges.length - 1])}`;
  return `${num(edges[i - 1])} – ${num(edges[i])}`;
}

/** Paired bars: baseline share (grey) and this batch's share (coloured) per bin. */
function pairedBars(stat, width, height) {
  const n = stat.baseline.length;
  const max = Math.max(1e-9, ...stat.baseline, ...stat.window);
  const gw = width / Math.max(1, n);
  const bw = Math.max(1, gw / 2 - 1);
  const bars = [];
  for (let i = 0; i < n; i++) {
    const x = i * gw;
    const hb = (stat.baseline[i] / max) * (height - 2);
    const hw = (stat.window[i] / max) * (height - 2);
    const tip = `${binLabel(stat.edges, i)}: training ${pct(stat.baseline[i])}, this batch ${pct(stat.window[i])}`;
    bars.push(s('g', {},
      s('title', {}, tip),
      s('rect', { class: 'base', x: x + 0.5, y: height - hb, width: bw, height: hb }),
      s('rect', { class: 'win', x: x + 0.5 + bw, y: height - hw, width: bw, height: hw }),
      s('rect', { class: 'hit', x, y: 0, width: gw, height })));
  }
  return s('svg', { class: 'bars', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `${stat.name}: training vs this batch, ${n} bins` }, bars);
}

function statCard(stat, policy, big = false) {
  const level = psiLevel(stat.psi, policy);
  return h('figure', { class: ['drift-card', `psi-${level}`, big && 'big'], 'data-psi': stat.psi, 'data-column': stat.name },
    h('figcaption', {},
      h('span', { class: 'name', title: stat.name }, stat.name),
      h('span', { class: ['level', level] }, level)),
    pairedBars(stat, big ? 400 : 160, big ? 80 : 40),
    h('p', { class: 'stats' }, `PSI ${fmt(stat.psi)} · KS ${fmt(stat.ks)}`));
}

function missingTable(missing) {
  const rows = missing
    .map((m) => ({ ...m, gap: Math.abs(m.window - m.baseline) }))
    .sort((a, b) => b.gap - a.gap);
  return h('table', { class: 'missing' },
    h('caption', {}, 'Missing values per feature (the model used its schema default)'),
    h('thead', {}, h('tr', {}, ['feature', 'field', 'training', 'this batch'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((m) => h('tr', { class: m.gap > 0.1 ? 'watch' : '' },
      h('th', { scope: 'row' }, m.feature), h('td', {}, h('code', {}, m.field)),
      h('td', {}, pct(m.baseline)), h('td', {}, pct(m.window))))));
}

/** Render the report (or why there is none). */
export function renderDrift(panel, report, why) {
  if (!report) {
    replace(panel, h('p', { class: 'muted', id: 'drift-none' }, why || 'This model has no training baseline: drift cannot be measured.'));
    panel.dataset.ready = 'none';
    return;
  }
  const policy = report.policy || { psi_watch: 0.1, psi_drift: 0.25, action: 'flag' };
  const verdict = report.assessment;
  const cols = [...report.columns].sort((a, b) => (b.psi - a.psi) || a.name.localeCompare(b.name));
  const counts = { ok: 0, watch: 0, drift: 0 };
  for (const c of cols) counts[psiLevel(c.psi, policy)]++;
  const grid = h('div', { class: 'drift-grid' }, cols.slice(0, FIRST).map((c) => statCard(c, policy)));
  const more = cols.length > FIRST
    ? h('button', {
      type: 'button', class: 'link',
      onclick: (ev) => { grid.append(...cols.slice(FIRST).map((c) => statCard(c, policy))); ev.currentTarget.remove(); },
    }, `Show all ${cols.length} feature columns`)
    : null;
  replace(panel,
    verdict ? h('p', { class: ['verdict', `level-${verdict.status}`], id: 'drift-verdict', 'data-status': verdict.status },
      h('strong', {}, `Policy: ${verdict.status}`),
      ` — ${verdict.summary} (action ${policy.action}; the adapter and | riskdrift judge the same way)`) : null,
    h('p', { class: 'summary' },
      `${fmt(report.rows)} scored events against the training baseline. `,
      h('span', { class: 'level drift' }, `${counts.drift} drifting`), ` (PSI ≥ ${policy.psi_drift}), `,
      h('span', { class: 'level watch' }, `${counts.watch} to watch`), ` (${policy.psi_watch}–${policy.psi_drift}), `,
      h('span', { class: 'level ok' }, `${counts.ok} stable`), '.'),
    h('p', { class: 'legend' }, h('span', { class: 'key base' }), ' training ', h('span', { class: 'key win' }), ' this batch'),
    h('h3', {}, 'Score distribution'),
    statCard(report.score, policy, true),
    h('h3', {}, 'Feature columns, by PSI'),
    grid,
    more,
    report.missing && report.missing.length ? missingTable(report.missing) : null);
  panel.dataset.ready = 'true';
}
