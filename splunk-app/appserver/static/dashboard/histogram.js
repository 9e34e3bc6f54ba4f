// The score histogram (SVG, 50 bins over 0..1) with the threshold line,
// which the analyst can drag (or move with the arrow keys when focused).

import { s, replace } from './dom.js';

export const BINS = 50;
const W = 900;
const H = 220;
const PAD = { l: 48, r: 12, t: 22, b: 26 };
const PW = W - PAD.l - PAD.r;
const PH = H - PAD.t - PAD.b;

/** Counts of finite scores per bin (a score of 1 falls in the last bin). */
export function binScores(scores) {
  const counts = new Uint32Array(BINS);
  for (let i = 0; i < scores.length; i++) {
    const x = scores[i];
    if (!(x >= 0 && x <= 1)) continue;
    counts[Math.min(BINS - 1, Math.floor(x * BINS))]++;
  }
  return counts;
}

export class Histogram {
  constructor(svg, onThreshold) {
    this.svg = svg;
    this.onThreshold = onThreshold;
    this.counts = new Uint32Array(BINS);
    this.t = 0.5;
    this.bars = [];
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.#build();
    this.#listen();
  }

  #x(v) { return PAD.l + v * PW; }

  #build() {
    const axis = s('g', { class: 'axis' },
      s('line', { x1: PAD.l, y1: PAD.t + PH, x2: PAD.l + PW, y2: PAD.t + PH }),
      s('line', { x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: PAD.t + PH }),
      [0, 0.25, 0.5, 0.75, 1].map((v) => s('text', { x: this.#x(v), y: H - 8, 'text-anchor': 'middle' }, String(v))),
      s('text', { x: PAD.l - 6, y: PAD.t + PH, 'text-anchor': 'end' }, '0'));
    this.barGroup = s('g', { class: 'bars' });
    this.maxLabel = s('text', { x: PAD.l - 6, y: PAD.t + 8, 'text-anchor': 'end' }, '');
    this.line = s('line', { class: 'threshold-line', y1: PAD.t - 6, y2: PAD.t + PH });
    this.handle = s('rect', {
      class: 'threshold-handle', y: PAD.t - 8, width: 14, height: PH + 10, rx: 3,
      tabindex: 0, role: 'slider', 'aria-label': 'flag threshold (drag, or arrow keys)',
      'aria-valuemin': 0, 'aria-valuemax': 1,
    });
    this.label = s('text', { class: 'threshold-label', y: PAD.t - 8 }, '');
    replace(this.svg, axis, this.barGroup, this.maxLabel, this.line, this.handle, this.label);
  }

  #listen() {
    const toT = (ev) => {
      const r = this.svg.getBoundingClientRect();
      const x = ((ev.clientX - r.left) / r.width) * W;
      return Math.min(1, Math.max(0, (x - PAD.l) / PW));
    };
    this.svg.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      this.svg.setPointerCapture(ev.pointerId);
      this.dragging = true;
      this.svg.classList.add('dragging');
      this.onThreshold(Math.round(toT(ev) * 1000) / 1000);
      ev.preventDefault();
    });
    this.svg.addEventListener('pointermove', (ev) => {
      if (this.dragging) this.onThreshold(Math.round(toT(ev) * 1000) / 1000);
    });
    const stop = (ev) => {
      this.dragging = false;
      this.svg.classList.remove('dragging');
      if (this.svg.hasPointerCapture?.(ev.pointerId)) this.svg.releasePointerCapture(ev.pointerId);
    };
    this.svg.addEventListener('pointerup', stop);
    this.svg.addEventListener('pointercancel', stop);
    this.handle.addEventListener('keydown', (ev) => {
      const step = ev.shiftKey ? 0.01 : 0.001;
      let t = this.t;
      if (ev.key === 'ArrowLeft' || ev.key === 'ArrowDown') t -= step;
      else if (ev.key === 'ArrowRight' || ev.key === 'ArrowUp') t += step;
      else if (ev.key === 'PageDown') t -= 0.05;
      else if (ev.key === 'PageUp') t += 0.05;
      else if (ev.key === 'Home') t = 0;
      else if (ev.key === 'End') t = 1;
      else return;
      ev.preventDefault();
      this.onThreshold(Math.round(Math.min(1, Math.max(0, t)) * 1000) / 1000);
    });
  }

  /** New scores: recompute the bins and draw the bars. */
  setScores(scores) {
    this.counts = binScores(scores);
    const max = Math.max(1, ...this.counts);
    const scale = Math.log1p(max);
    const bw = PW / BINS;
    this.bars = Array.from(this.counts, (c, i) => {
      const hgt = c ? Math.max(1.5, (Math.log1p(c) / scale) * PH) : 0;
      const lo = i / BINS;
      return s('rect', { x: this.#x(lo) + 0.5, y: PAD.t + PH - hgt, width: bw - 1, height: hgt, 'data-bin': i },
        s('title', {}, `${lo.toFixed(2)}–${((i + 1) / BINS).toFixed(2)}: ${c} event${c === 1 ? '' : 's'}`));
    });
    replace(this.barGroup, this.bars);
    this.maxLabel.textContent = String(max);
    this.setThreshold(this.t);
  }

  /** Move the threshold line and recolour the bars. */
  setThreshold(t) {
    this.t = t;
    const x = this.#x(t);
    this.line.setAttribute('x1', x);
    this.line.setAttribute('x2', x);
    this.handle.setAttribute('x', x - 7);
    this.handle.setAttribute('aria-valuenow', String(t));
    this.handle.setAttribute('aria-valuetext', `threshold ${t.toFixed(3)}`);
    this.label.textContent = `threshold ${t.toFixed(3)}`;
    const right = x > PAD.l + PW * 0.7;
    this.label.setAttribute('x', right ? x - 8 : x + 8);
    this.label.setAttribute('text-anchor', right ? 'end' : 'start');
    this.bars.forEach((b, i) => {
      const lo = i / BINS;
      const hi = (i + 1) / BINS;
      b.setAttribute('class', lo >= t ? 'flagged' : hi > t ? 'straddle' : '');
    });
  }
}
