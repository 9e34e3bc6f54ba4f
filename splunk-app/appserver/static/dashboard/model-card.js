// The model card: what the artifact says about itself and what verification
// established.

import { h, fmt, replace } from './dom.js';

const METRIC_KEYS = ['rows', 'roc_auc', 'precision', 'recall', 'false_positive_rate', 'accuracy', 'r2', 'rmse'];

/** The signature status in words, and its badge class. */
export function signatureText(v) {
  if (!v) return ['unknown', 'bad'];
  switch (v.status) {
    case 'verified': return [`verified — signed by trusted key ${v.key_id}`, 'ok'];
    case 'untrusted_key': return [`signed by key ${v.key_id}, which is not trusted (accepted for development only)`, 'warn'];
    case 'unsigned': return [`unsigned${v.digest_checked ? ' (content digest checked)' : ''} — accepted for development only`, 'warn'];
    default: return [String(v.status), 'bad'];
  }
}

function metricsTable(metrics) {
  if (!metrics || typeof metrics !== 'object') return h('p', { class: 'muted' }, 'No training metrics recorded.');
  const rows = [];
  const add = (label, m) => {
    if (!m || typeof m !== 'object') return;
    rows.push([label, m]);
  };
  add('hold-out', metrics.holdout);
  if (metrics.cross_validation) add(`${metrics.cross_validation.folds}-fold CV (mean)`, metrics.cross_validation.mean);
  add('training', metrics.training);
  const keys = METRIC_KEYS.filter((k) => rows.some(([, m]) => typeof m[k] === 'number'));
  const parts = [];
  const facts = [];
  if (metrics.task) facts.push(`task: ${metrics.task}`);
  if (typeof metrics.rows === 'number') facts.push(`${fmt(metrics.rows)} training rows`);
  if (typeof metrics.positive_rate === 'number') facts.push(`positive rate ${(100 * metrics.positive_rate).toFixed(1)}%`);
  if (metrics.threshold && typeof metrics.threshold.threshold === 'number') {
    const t = metrics.threshold;
    facts.push(`threshold ${fmt(t.threshold)}${t.target_fpr !== undefined ? ` for a target false-positive rate of ${t.target_fpr}` : ''}${t.method ? ` (${t.method.replace(/_/g, ' ')})` : ''}`);
  }
  if (facts.length) parts.push(h('p', { class: 'muted' }, facts.join(' · ')));
  if (rows.length && keys.length) {
    parts.push(h('table', { class: 'metrics' },
      h('caption', {}, 'Training metrics'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'evaluation'), keys.map((k) => h('th', { scope: 'col' }, k.replace(/_/g, ' '))))),
      h('tbody', {}, rows.map(([label, m]) => h('tr', {}, h('th', { scope: 'row' }, label), keys.map((k) => h('td', {}, typeof m[k] === 'number' ? fmt(m[k]) : '—')))))));
  } else if (!facts.length) {
    parts.push(h('pre', { class: 'raw' }, JSON.stringify(metrics, null, 1)));
  }
  return parts;
}

/** Fill the card from the worker's description of the model. */
export function renderModelCard(card, info, fieldsNote) {
  const m = info.metadata || {};
  const [sig, sigClass] = signatureText(info.verify);
  const approval = m.approval || 'unknown';
  const approvalClass = approval === 'approved' ? 'ok' : approval === 'rejected' ? 'bad' : 'warn';
  const dl = h('dl', { class: 'facts' });
  const fact = (k, ...v) => dl.append(h('dt', {}, k), h('dd', {}, ...v));
  if (m.description) fact('description', m.description);
  if (m.author) fact('author', m.author);
  if (m.created) fact('created', m.created);
  fact('approval', h('span', { class: ['badge', approvalClass], 'data-approval': approval }, approval));
  fact('signature', h('span', { class: ['badge', sigClass], id: 'signature-status', 'data-status': info.verify?.status }, sig));
  fact('flag threshold', fmt(info.threshold, 4));
  if (m.training_data) fact('training data', m.training_data);
  if (Array.isArray(m.tags) && m.tags.length) fact('tags', h('span', { class: 'tags' }, m.tags.map((t) => h('span', { class: 'tag' }, t))));
  fact('fields read', h('span', { class: 'fields' }, info.fields.map((f) => h('code', {}, f))));
  fact('features', `${info.features.length}`);
  fact('drift baseline', info.baseline ? `${fmt(info.baseline.rows)} training rows` : 'none in this artifact');
  replace(card,
    h('h3', {}, h('span', { id: 'model-name' }, m.name || 'unnamed model'), ' ', h('span', { class: 'version' }, m.version ? `v${m.version}` : '')),
    dl,
    metricsTable(m.metrics),
    fieldsNote ? h('p', { class: 'muted' }, fieldsNote) : null);
  card.dataset.loaded = 'true';
}

export function clearModelCard(card, text = 'No model loaded yet: choose a model artifact (.json).') {
  replace(card, h('p', { class: 'muted' }, text));
  delete card.dataset.loaded;
}
