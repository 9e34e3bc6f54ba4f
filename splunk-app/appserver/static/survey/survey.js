// The project security-risk survey: the answers are scored in this page by
// the riskscore scorer (the dashboard's wasm-bindgen build, ../dashboard/pkg/)
// with the signed model ./project_risk.json, verified against the keys the
// dashboard trusts (../dashboard/trusted-keys.json), as the dashboard does:
// unsigned, untrusted, unapproved or tampered models are refused, with the
// reason on the page. The page fetches only its own static files.
//
// Test hook: window.survey = { state, last: { event, result, reasons } | null,
// threshold }; the body's data-state is loading, ready, scored, invalid or error.

import init, { Scorer } from '../dashboard/pkg/scorer_wasm.js';
import { $, h, replace } from '../dashboard/dom.js';
import { signatureText } from '../dashboard/model-card.js';

const MODEL_URL = new URL('./project_risk.json', import.meta.url);
const KEYS_URL = new URL('../dashboard/trusted-keys.json', import.meta.url);
const WASM_URL = new URL('../dashboard/pkg/scorer_wasm_bg.wasm', import.meta.url);
const TOP_REASONS = 3;

const BOOLEAN = ['production_data', 'analytics', 'software_development', 'infrastructure_design', 'production_operations'];
const FIELDS = ['production_data', 'team_size', 'infra_operator', 'data_classification', ...BOOLEAN.slice(1)];

/** An answer in plain words, for a reason. */
const WORDS = {
  production_data: { yes: 'It touches production data', no: 'It does not touch production data' },
  infra_operator: {
    in_house: 'Its infrastructure is operated in house',
    cloud_managed: "Its infrastructure is a cloud provider's managed service",
    vendor: 'Its infrastructure is operated by a third-party vendor',
    none: 'It has no infrastructure of its own',
  },
  analytics: { yes: 'It does analytics', no: 'It does no analytics' },
  software_development: { yes: 'It develops software', no: 'It does not develop software' },
  infrastructure_design: { yes: 'It designs infrastructure', no: 'It does not design infrastructure' },
  production_operations: { yes: 'It operates production', no: 'It does not operate production' },
};

function answerWords(field, value) {
  if (field === 'team_size') return `A team of ${value} ${value === 1 ? 'person' : 'people'}`;
  if (field === 'data_classification') return `It handles ${value} data`;
  return WORDS[field]?.[value] ?? `${field} = ${value}`;
}

const st = { state: 'loading', last: null, threshold: null };
window.survey = st;
let scorer = null;
let logistic = false;

function setState(s) {
  st.state = s;
  document.body.dataset.state = s;
}

function fail(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
  replace($('verdict'), 'No rating');
  $('verdict').className = 'verdict-badge';
  $('rate').disabled = true;
  setState('error');
}

async function fetchText(url, what) {
  let r;
  try {
    r = await fetch(url, { cache: 'no-cache' });
  } catch (e) {
    throw new Error(`${what} could not be fetched (${url.pathname}): ${e.message}`);
  }
  if (!r.ok) throw new Error(`${what} could not be fetched (${url.pathname}): HTTP ${r.status}`);
  return r.text();
}

async function trustedKeys() {
  try {
    const keys = JSON.parse(await fetchText(KEYS_URL, 'trusted-keys.json'));
    return Array.isArray(keys) ? keys.filter((k) => typeof k === 'string') : [];
  } catch {
    return []; // the model is then refused as untrusted, and the message says so
  }
}

function showModel(info) {
  const m = info.metadata || {};
  const metrics = m.metrics || {};
  const [sig, sigClass] = signatureText(info.verify);
  const dl = h('dl', { class: 'facts' });
  const fact = (k, ...v) => dl.append(h('dt', {}, k), h('dd', {}, ...v));
  fact('model', `${m.name}@${m.version}`);
  if (metrics.params?.algorithm) fact('algorithm', metrics.params.algorithm.replace(/_/g, ' '));
  if (m.description) fact('description', m.description);
  fact('signature', h('span', { class: `badge ${sigClass}` }, sig));
  fact('approval', h('span', { class: `badge ${m.approval === 'approved' ? 'ok' : 'warn'}` }, m.approval || 'unknown'));
  const cv = metrics.cross_validation?.mean;
  if (cv && typeof cv.roc_auc === 'number') {
    fact('training (5-fold CV)', `ROC AUC ${cv.roc_auc.toFixed(3)}, recall ${cv.recall.toFixed(3)} at a false-positive rate of ${cv.false_positive_rate.toFixed(3)}`);
  }
  if (metrics.threshold) fact('threshold', `${info.threshold.toFixed(3)} (${metrics.threshold.method.replace(/_/g, ' ')}, target false-positive rate ${metrics.threshold.target_fpr})`);
  if (m.created) fact('created', m.created);
  replace($('model'), dl);
  $('model').classList.remove('muted');
}

function readAnswers() {
  const form = $('survey');
  const event = {};
  event.production_data = form.elements.production_data.value || 'no';
  const size = $('team_size');
  const text = size.value.trim();
  const n = Number(text);
  const ok = text !== '' && Number.isInteger(n) && n >= 1 && n <= 10000;
  size.setAttribute('aria-invalid', ok ? 'false' : 'true');
  $('team-size-error').hidden = ok;
  $('team-size-error').textContent = ok ? '' : 'Enter the number of people: a whole number from 1 to 10,000.';
  event.team_size = ok ? n : null;
  event.infra_operator = form.elements.infra_operator.value;
  event.data_classification = form.elements.data_classification.value;
  for (const f of BOOLEAN.slice(1)) event[f] = form.elements[f].checked ? 'yes' : 'no';
  return ok ? event : null;
}

function effectWords(c) {
  if (logistic) {
    // A logistic regression's contribution is exact: w·(x − mean), in log-odds;
    // exp of it multiplies the odds, compared with an average surveyed project.
    return `raises the odds of an incident ×${Math.exp(c).toFixed(2)} compared with an average surveyed project (+${c.toFixed(3)} log-odds)`;
  }
  return `raises the risk (+${c.toFixed(3)} in the model's units)`;
}

function rate() {
  if (!scorer) return;
  const event = readAnswers();
  if (!event) {
    replace($('verdict'), 'Answer every question');
    $('verdict').className = 'verdict-badge';
    replace($('score'), '—');
    replace($('reasons'));
    $('reasons-note').textContent = '';
    st.last = null;
    setState('invalid');
    return;
  }
  let result, reasons;
  try {
    result = scorer.score(event);
    reasons = scorer.explain(event, TOP_REASONS);
  } catch (e) {
    fail(`Scoring failed: ${e.message}`);
    return;
  }
  if (result.risk_error !== undefined || typeof result.model_output_risk_score !== 'number') {
    fail(`Scoring failed: ${result.risk_error || 'no score'}`);
    return;
  }
  const score = result.model_output_risk_score;
  const high = result.anomaly_flag === 1;
  const verdict = $('verdict');
  replace(verdict, high ? 'High risk' : 'Low risk');
  verdict.className = `verdict-badge ${high ? 'high' : 'low'}`;
  verdict.dataset.flag = String(result.anomaly_flag);
  const shown = $('score');
  replace(shown, score.toFixed(3));
  shown.dataset.score = String(score);
  replace($('reasons'), reasons.map((r) =>
    h('li', { 'data-field': r.field, 'data-contribution': String(r.contribution) },
      answerWords(r.field, event[r.field]), ' ', h('span', { class: 'effect' }, `— ${effectWords(r.contribution)}`))));
  $('reasons-note').textContent = reasons.length
    ? (reasons.length === 1 ? 'The answer that raises the risk most.' : `The ${reasons.length} answers that raise the risk most.`)
      + (high ? '' : ' The rating is low: the answers as a whole stay below the threshold.')
    : 'None of these answers raises the risk above that of an average surveyed project.';
  if (result.risk_missing_fields?.length) $('reasons-note').textContent += ` Not answered (defaults used): ${result.risk_missing_fields.join(', ')}.`;
  st.last = { event, result, reasons };
  setState('scored');
}

async function start() {
  try {
    await init({ module_or_path: WASM_URL });
  } catch (e) {
    fail(`The scorer (WebAssembly) could not start: ${e.message}. The page needs WebAssembly (under a Content Security Policy: script-src 'self' 'wasm-unsafe-eval').`);
    return;
  }
  let text;
  try {
    text = await fetchText(MODEL_URL, 'The model');
  } catch (e) {
    fail(`${e.message}. Nothing can be rated.`);
    return;
  }
  const keys = await trustedKeys();
  try {
    scorer = Scorer.fromArtifact(text, { allowUnsigned: false, trustedKeys: keys });
  } catch (e) {
    fail(`Model refused: ${e.message}${keys.length ? '' : ' (no trusted keys: ../dashboard/trusted-keys.json is missing — run make dashboard)'}. Nothing can be rated.`);
    return;
  }
  const info = { metadata: scorer.metadata(), verify: scorer.verify(), threshold: scorer.threshold() };
  const missing = scorer.fields().filter((f) => !FIELDS.includes(f));
  if (missing.length) {
    fail(`The model reads fields this survey does not ask: ${missing.join(', ')}.`);
    scorer = null;
    return;
  }
  logistic = info.metadata.metrics?.params?.algorithm === 'logistic_regression';
  st.threshold = info.threshold;
  replace($('threshold'), info.threshold.toFixed(3));
  showModel(info);
  $('rate').disabled = false;
  setState('ready');
  const form = $('survey');
  form.addEventListener('submit', (e) => { e.preventDefault(); rate(); });
  form.addEventListener('input', rate);
  form.addEventListener('change', rate);
  rate();
}

start();
