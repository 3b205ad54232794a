// A small canvas time-series chart: lines (optionally stacked), nice axes,
// a hover tooltip with the value of every visible series, drag to zoom,
// double-click to zoom out, and a legend whose entries toggle series
// (Ctrl/Cmd-click shows only that one). Two stacked canvases: the base
// layer is redrawn on data, size or theme changes; the overlay (crosshair,
// selection) on every mouse move, so hovering 50 x 1,440 points stays cheap.

import {h, clear} from './dom.js';
import {formatValue, formatTime, formatDateTime} from './format.js';

/** PALETTE: distinguishable in light and dark themes. */
export const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4',
  '#ec4899', '#84cc16', '#f97316', '#6366f1', '#14b8a6', '#eab308', '#a855f7', '#0ea5e9', '#f43f5e'];

const PAD = {top: 8, right: 12, bottom: 22};

export class TimeChart {
  /**
   * @param {HTMLElement} container emptied and filled with the chart
   * @param {object} opts unit, stacked, height, thresholds [{value, level}],
   *   onZoom(startMs, endMs) (null, null to zoom out), legend (default true)
   */
  constructor(container, opts = {}) {
    this.opts = {unit: 'short', stacked: false, height: 240, legend: true, ...opts};
    this.series = [];
    this.hidden = new Set();
    this.start = 0;
    this.end = 1;
    this.el = h('div', {class: 'chart', dataset: {series: '0'}});
    this.plot = h('div', {class: 'chart-plot'});
    this.base = h('canvas', {class: 'chart-base', role: 'img', 'aria-label': 'time-series chart'});
    this.overlay = h('canvas', {class: 'chart-overlay'});
    this.tip = h('div', {class: 'chart-tip', hidden: true, role: 'tooltip'});
    this.empty = h('div', {class: 'chart-empty', hidden: true}, 'No data in this time range');
    this.plot.append(this.base, this.overlay, this.tip, this.empty);
    this.legend = h('ul', {class: 'chart-legend'});
    this.el.append(this.plot);
    if (this.opts.legend) this.el.append(this.legend);
    clear(container).append(this.el);
    this.plot.style.height = this.opts.height + 'px';

    this.hover = null;
    this.drag = null;
    this._bind();
    this.ro = new ResizeObserver(() => this._resize());
    this.ro.observe(this.plot);
    this.mq = window.matchMedia('(prefers-color-scheme: dark)');
    this._onTheme = () => this.draw();
    document.addEventListener('stratus:theme', this._onTheme);
  }

  destroy() {
    this.ro.disconnect();
    document.removeEventListener('stratus:theme', this._onTheme);
    this.el.remove();
  }

  /**
   * setData replaces the series: [{name, labels, ts: Float64Array ms,
   * vals: Float64Array}], shown over [start, end] ms; step (s) breaks lines
   * across gaps longer than 1.5 steps.
   */
  setData(series, start, end, step = 0) {
    this.series = series.map((s, i) => ({...s, color: s.color || PALETTE[i % PALETTE.length]}));
    const names = new Set(this.series.map((s) => s.name));
    for (const n of [...this.hidden]) if (!names.has(n)) this.hidden.delete(n);
    this.start = start;
    this.end = end;
    this.step = step * 1000;
    this.el.dataset.series = String(this.series.length);
    this._stack();
    this._legend();
    this._resize();
  }

  visible() {
    return this.series.filter((s) => !this.hidden.has(s.name));
  }

  _stack() {
    // Stacked series draw cumulative values; the tooltip shows the own ones.
    if (!this.opts.stacked) {
      for (const s of this.series) { s.draw = s.vals; s.below = null; }
      return;
    }
    const acc = new Map();
    for (const s of this.series) {
      if (this.hidden.has(s.name)) { s.draw = s.vals; s.below = null; continue; }
      s.draw = new Float64Array(s.vals.length);
      s.below = new Float64Array(s.vals.length);
      for (let i = 0; i < s.vals.length; i++) {
        const v = Number.isFinite(s.vals[i]) ? s.vals[i] : 0;
        const prev = acc.get(s.ts[i]) || 0;
        s.below[i] = prev;
        s.draw[i] = prev + v;
        acc.set(s.ts[i], prev + v);
      }
    }
  }

  _legend() {
    clear(this.legend);
    if (this.series.length <= 1 && !this.series.some((s) => s.name)) return;
    const max = 200;
    for (const s of this.series.slice(0, max)) {
      const off = this.hidden.has(s.name);
      const item = h('li', null,
        h('button', {
          type: 'button', class: 'legend-item' + (off ? ' off' : ''), 'aria-pressed': String(!off),
          title: off ? 'Show this series (Ctrl-click: only this one)' : 'Hide this series (Ctrl-click: only this one)',
          onclick: (e) => this._toggle(s.name, e.ctrlKey || e.metaKey),
        }, h('span', {class: 'swatch', dataset: {color: s.color}}), h('span', {class: 'legend-name'}, s.name)));
      item.querySelector('.swatch').style.background = s.color;
      this.legend.append(item);
    }
    if (this.series.length > max) this.legend.append(h('li', {class: 'muted'}, `… and ${this.series.length - max} more`));
  }

  _toggle(name, solo) {
    if (solo) {
      const onlyThis = this.visible().length === 1 && !this.hidden.has(name);
      this.hidden = new Set(onlyThis ? [] : this.series.map((s) => s.name).filter((n) => n !== name));
    } else if (this.hidden.has(name)) this.hidden.delete(name);
    else this.hidden.add(name);
    this._stack();
    this._legend();
    this.draw();
  }

  _resize() {
    const r = this.plot.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.w = Math.max(50, Math.floor(r.width));
    this.h = Math.max(50, Math.floor(r.height));
    for (const c of [this.base, this.overlay]) {
      c.width = this.w * dpr;
      c.height = this.h * dpr;
      c.style.width = this.w + 'px';
      c.style.height = this.h + 'px';
      c.getContext('2d').setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    this.draw();
  }

  _theme() {
    const cs = getComputedStyle(this.el);
    return {
      text: cs.getPropertyValue('--chart-text').trim() || '#555',
      grid: cs.getPropertyValue('--chart-grid').trim() || '#ddd',
      font: `11px ${cs.getPropertyValue('--font-sans').trim() || 'sans-serif'}`,
      warn: cs.getPropertyValue('--warn').trim() || '#d97706',
      crit: cs.getPropertyValue('--crit').trim() || '#dc2626',
      sel: cs.getPropertyValue('--chart-select').trim() || 'rgba(59,130,246,.15)',
    };
  }

  _yRange() {
    let lo = Infinity, hi = -Infinity;
    for (const s of this.visible()) {
      const d = s.draw || s.vals;
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        if (!Number.isFinite(v)) continue;
        if (s.ts[i] < this.start || s.ts[i] > this.end) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    // A threshold stretches the axis only when it is near the data, so a
    // far-away alert line does not flatten the series.
    for (const t of this.opts.thresholds || []) {
      if (hi !== -Infinity && t.value <= hi * 1.6 && t.value >= 0) { hi = Math.max(hi, t.value); lo = Math.min(lo, t.value); }
    }
    if (lo === Infinity) return niceRange(0, 1);
    if (lo > 0 && lo / (hi || 1) < 0.5) lo = 0; // start at zero unless the data hugs a high band
    if (this.opts.stacked && lo > 0) lo = 0;
    if (lo === hi) { hi = lo + (Math.abs(lo) || 1); lo = lo > 0 ? 0 : lo - 1; }
    return niceRange(lo, hi);
  }

  /** draw repaints the base layer. */
  draw() {
    if (!this.w) return;
    const ctx = this.base.getContext('2d');
    const th = this._theme();
    ctx.clearRect(0, 0, this.w, this.h);
    ctx.font = th.font;
    const vis = this.visible();
    const hasData = vis.some((s) => s.ts.length > 0);
    if (hasData) this.empty.hidden = true;
    else {
      this.empty.hidden = false;
      this.empty.textContent = this.series.length && !vis.length
        ? 'All series hidden — click the legend to show them' : 'No data in this time range';
    }
    const [lo, hi, ticks] = this._yRange();
    const labels = ticks.map((v) => formatValue(v, this.opts.unit));
    const left = Math.ceil(Math.max(...labels.map((l) => ctx.measureText(l).width), 20)) + 12;
    const plot = {x: left, y: PAD.top, w: this.w - left - PAD.right, h: this.h - PAD.top - PAD.bottom};
    this.area = plot;
    this.lo = lo;
    this.hi = hi;
    const X = (t) => plot.x + ((t - this.start) / (this.end - this.start)) * plot.w;
    const Y = (v) => plot.y + plot.h - ((v - lo) / (hi - lo)) * plot.h;
    this.X = X;

    // Grid and y labels.
    ctx.strokeStyle = th.grid;
    ctx.fillStyle = th.text;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ticks.forEach((v, i) => {
      const y = Math.round(Y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(plot.x, y);
      ctx.lineTo(plot.x + plot.w, y);
      ctx.stroke();
      ctx.fillText(labels[i], plot.x - 6, y);
    });
    // Time axis.
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const span = this.end - this.start;
    for (const t of timeTicks(this.start, this.end, Math.max(2, Math.floor(plot.w / 90)))) {
      const x = Math.round(X(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, plot.y);
      ctx.lineTo(x, plot.y + plot.h);
      ctx.stroke();
      // A label at either end of the axis stays inside the canvas.
      const label = formatTime(t, span);
      const half = ctx.measureText(label).width / 2;
      ctx.fillText(label, Math.min(Math.max(x, half + 1), this.w - half - 1), plot.y + plot.h + 5);
    }

    // Series: stacked ones from the top down so lower areas stay visible.
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.x, plot.y - 1, plot.w, plot.h + 2);
    ctx.clip();
    ctx.lineWidth = vis.length > 20 ? 1 : 1.5;
    ctx.lineJoin = 'round';
    const gap = this.step ? this.step * 1.5 : Infinity;
    for (const s of vis) {
      const d = s.draw || s.vals;
      ctx.strokeStyle = s.color;
      ctx.beginPath();
      let pen = false, prevT = -Infinity;
      let lastPx = -1, minY = 0, maxY = 0;
      for (let i = 0; i < s.ts.length; i++) {
        const v = d[i];
        const t = s.ts[i];
        if (!Number.isFinite(v) || t - prevT > gap) pen = false;
        prevT = t;
        if (!Number.isFinite(v)) continue;
        const x = X(t), y = Y(v);
        if (!pen) { ctx.moveTo(x, y); pen = true; lastPx = Math.round(x); minY = maxY = y; continue; }
        // Many points per pixel column: draw the column's extent once.
        const px = Math.round(x);
        if (px === lastPx) { if (y < minY) minY = y; if (y > maxY) maxY = y; continue; }
        if (maxY - minY > 1) { ctx.lineTo(lastPx, minY); ctx.lineTo(lastPx, maxY); }
        ctx.lineTo(x, y);
        lastPx = px; minY = maxY = y;
      }
      ctx.stroke();
      if (this.opts.stacked) this._fill(ctx, s, d, X, Y, gap);
      if (s.ts.length === 1 && Number.isFinite(d[0])) {
        ctx.fillStyle = s.color;
        ctx.beginPath();
        ctx.arc(X(s.ts[0]), Y(d[0]), 2.5, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    for (const t of this.opts.thresholds || []) {
      ctx.strokeStyle = t.level === 'critical' ? th.crit : th.warn;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(plot.x, Y(t.value));
      ctx.lineTo(plot.x + plot.w, Y(t.value));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.restore();
    this.drawn = true;
    this.el.dataset.drawn = String(Date.now());
    this._drawOverlay();
  }

  // _fill shades a stacked series down to the series below it.
  _fill(ctx, s, d, X, Y, gap) {
    const below = s.below;
    ctx.save();
    ctx.globalAlpha = 0.18;
    ctx.fillStyle = s.color;
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < s.ts.length; i++) {
      if (!Number.isFinite(d[i])) continue;
      if (!started) { ctx.moveTo(X(s.ts[i]), Y(d[i])); started = true; } else ctx.lineTo(X(s.ts[i]), Y(d[i]));
    }
    for (let i = s.ts.length - 1; i >= 0; i--) {
      if (!Number.isFinite(d[i])) continue;
      const b = below ? below[i] : 0;
      ctx.lineTo(X(s.ts[i]), Y(Number.isFinite(b) ? b : 0));
    }
    ctx.closePath();
    if (started) ctx.fill();
    ctx.restore();
  }

  _bind() {
    const pos = (e) => {
      const r = this.overlay.getBoundingClientRect();
      return {x: e.clientX - r.left, y: e.clientY - r.top};
    };
    const tAt = (x) => this.start + ((x - this.area.x) / this.area.w) * (this.end - this.start);
    this.overlay.addEventListener('mousemove', (e) => {
      const p = pos(e);
      this.hover = p;
      if (this.drag) this.drag.x1 = Math.max(this.area.x, Math.min(p.x, this.area.x + this.area.w));
      this._schedule();
    });
    this.overlay.addEventListener('mouseleave', () => {
      this.hover = null;
      this._schedule();
    });
    this.overlay.addEventListener('mousedown', (e) => {
      if (e.button !== 0 || !this.area) return;
      const p = pos(e);
      if (p.x < this.area.x) return;
      this.drag = {x0: p.x, x1: p.x};
      e.preventDefault();
    });
    window.addEventListener('mouseup', () => {
      if (!this.drag) return;
      const {x0, x1} = this.drag;
      this.drag = null;
      this._schedule();
      if (Math.abs(x1 - x0) > 5 && this.opts.onZoom) {
        this.opts.onZoom(Math.round(tAt(Math.min(x0, x1))), Math.round(tAt(Math.max(x0, x1))));
      }
    });
    this.overlay.addEventListener('dblclick', () => this.opts.onZoom && this.opts.onZoom(null, null));
  }

  _schedule() {
    if (this._raf) return;
    this._raf = requestAnimationFrame(() => {
      this._raf = 0;
      this._drawOverlay();
    });
  }

  _drawOverlay() {
    const ctx = this.overlay.getContext('2d');
    ctx.clearRect(0, 0, this.w, this.h);
    const a = this.area;
    if (!a) return;
    const th = this._theme();
    if (this.drag) {
      ctx.fillStyle = th.sel;
      ctx.fillRect(Math.min(this.drag.x0, this.drag.x1), a.y, Math.abs(this.drag.x1 - this.drag.x0), a.h);
    }
    const p = this.hover;
    if (!p || p.x < a.x || p.x > a.x + a.w) {
      this.tip.hidden = true;
      return;
    }
    const t = this.start + ((p.x - a.x) / a.w) * (this.end - this.start);
    // Nearest sample per visible series.
    const rows = [];
    let snapT = null;
    for (const s of this.visible()) {
      const i = nearest(s.ts, t);
      if (i < 0) continue;
      if (this.step && Math.abs(s.ts[i] - t) > Math.max(this.step, (this.end - this.start) / a.w * 4)) continue;
      if (snapT === null || Math.abs(s.ts[i] - t) < Math.abs(snapT - t)) snapT = s.ts[i];
      rows.push({s, t: s.ts[i], v: s.vals[i], d: (s.draw || s.vals)[i]});
    }
    const x = Math.round(this.X(snapT ?? t)) + 0.5;
    ctx.strokeStyle = th.text;
    ctx.globalAlpha = 0.5;
    ctx.beginPath();
    ctx.moveTo(x, a.y);
    ctx.lineTo(x, a.y + a.h);
    ctx.stroke();
    ctx.globalAlpha = 1;
    const Y = (v) => a.y + a.h - ((v - this.lo) / (this.hi - this.lo)) * a.h;
    for (const r of rows) {
      if (!Number.isFinite(r.d)) continue;
      ctx.fillStyle = r.s.color;
      ctx.beginPath();
      ctx.arc(this.X(r.t), Y(r.d), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    this._tooltip(rows, snapT ?? t, p);
  }

  _tooltip(rows, t, p) {
    if (!rows.length) { this.tip.hidden = true; return; }
    rows.sort((a, b) => (Number.isFinite(b.v) ? b.v : -Infinity) - (Number.isFinite(a.v) ? a.v : -Infinity));
    const max = 12;
    clear(this.tip);
    this.tip.append(h('div', {class: 'tip-time'}, formatDateTime(t)));
    const list = h('table', {class: 'tip-rows'});
    for (const r of rows.slice(0, max)) {
      const sw = h('span', {class: 'swatch'});
      sw.style.background = r.s.color;
      list.append(h('tr', null, h('td', null, sw), h('td', {class: 'tip-name'}, r.s.name), h('td', {class: 'tip-val'}, formatValue(r.v, this.opts.unit))));
    }
    this.tip.append(list);
    if (rows.length > max) this.tip.append(h('div', {class: 'muted'}, `+ ${rows.length - max} more`));
    this.tip.hidden = false;
    const tw = this.tip.offsetWidth, thh = this.tip.offsetHeight;
    let left = p.x + 14;
    if (left + tw > this.w) left = Math.max(0, p.x - tw - 14);
    this.tip.style.left = left + 'px';
    this.tip.style.top = Math.max(0, Math.min(p.y - thh / 2, this.h - thh)) + 'px';
  }
}

function nearest(ts, t) {
  let lo = 0, hi = ts.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid] < t) lo = mid + 1; else hi = mid;
  }
  if (lo > 0 && Math.abs(ts[lo - 1] - t) < Math.abs(ts[lo] - t)) lo--;
  return lo;
}

/** niceRange widens [lo, hi] to round tick steps; returns [lo, hi, ticks]. */
export function niceRange(lo, hi, n = 5) {
  const span = hi - lo;
  const raw = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const a = Math.floor(lo / step) * step;
  const b = Math.ceil(hi / step) * step;
  const ticks = [];
  for (let v = a; v <= b + step / 2; v += step) ticks.push(Math.abs(v) < step / 1e6 ? 0 : v);
  return [a, b, ticks];
}

const TIME_STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);

/** timeTicks returns round local times between start and end. */
export function timeTicks(start, end, maxTicks) {
  const span = end - start;
  const step = TIME_STEPS.find((s) => span / s <= maxTicks) || TIME_STEPS[TIME_STEPS.length - 1];
  const tz = new Date(start).getTimezoneOffset() * 60e3;
  let t = Math.ceil((start - tz) / step) * step + tz;
  const out = [];
  for (; t <= end; t += step) out.push(t);
  return out;
}
