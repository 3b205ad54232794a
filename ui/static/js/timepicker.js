// Time range and auto-refresh controls, and their URL form:
// range=1h (relative, ending now) or from=<ms>&to=<ms> (absolute, after a
// zoom), refresh=30s.

import {h} from './dom.js';
import {parseDuration, formatDateTime} from './format.js';

export const RANGES = ['5m', '15m', '30m', '1h', '3h', '6h', '12h', '24h', '2d', '7d', '14d'];
export const REFRESHES = ['off', '10s', '30s', '1m', '5m'];

/** TimeRange is {range} (relative to now) or {from, to} in ms. */
export function readRange(params, fallback = '1h') {
  const from = +params.get('from'), to = +params.get('to');
  if (from && to && to > from) return {from, to};
  const r = params.get('range');
  return {range: r && parseDuration(r) > 0 ? r : fallback};
}

export function writeRange(params, tr) {
  params.delete('range'); params.delete('from'); params.delete('to');
  if (tr.from) { params.set('from', String(tr.from)); params.set('to', String(tr.to)); }
  else params.set('range', tr.range);
}

/** resolve returns [start, end] in ms for a TimeRange at now. */
export function resolve(tr, now = Date.now()) {
  if (tr.from) return [tr.from, tr.to];
  return [now - parseDuration(tr.range), now];
}

/**
 * TimePicker renders the range select, a zoom-out button, the refresh
 * select and a refresh button. onChange(tr, refresh) fires on any change;
 * onTick fires on every auto-refresh and on the refresh button.
 */
export class TimePicker {
  constructor({range, refresh = 'off', onChange, onTick}) {
    this.tr = range;
    this.refresh = refresh;
    this.onChange = onChange;
    this.onTick = onTick;
    this.rangeSel = h('select', {class: 'select', 'aria-label': 'Time range', onchange: () => {
      if (this.rangeSel.value !== 'custom') this.set({range: this.rangeSel.value});
    }});
    this.refreshSel = h('select', {class: 'select', 'aria-label': 'Auto-refresh', onchange: () => {
      this.refresh = this.refreshSel.value;
      this._timer();
      this.onChange && this.onChange(this.tr, this.refresh);
    }}, REFRESHES.map((r) => h('option', {value: r}, r === 'off' ? 'Auto-refresh off' : `Every ${r}`)));
    this.refreshSel.value = refresh;
    this.zoomOut = h('button', {type: 'button', class: 'btn btn-ghost', title: 'Zoom out (double-click the chart)', onclick: () => this.zoomOutOnce()}, 'Zoom out');
    this.el = h('div', {class: 'timepicker'},
      this.rangeSel, this.zoomOut, this.refreshSel,
      h('button', {type: 'button', class: 'btn', title: 'Refresh now', onclick: () => this.onTick && this.onTick()}, 'Refresh'));
    this._render();
    this._timer();
  }

  set(tr) {
    this.tr = tr;
    this._render();
    this.onChange && this.onChange(this.tr, this.refresh);
  }

  /** zoom sets an absolute range; null, null zooms out. */
  zoom(from, to) {
    if (from === null) return this.zoomOutOnce();
    this.set({from, to});
  }

  zoomOutOnce() {
    const [s, e] = resolve(this.tr);
    const span = e - s;
    const target = span * 2;
    const rel = RANGES.find((r) => parseDuration(r) >= target * 0.99);
    if (!this.tr.from || e >= Date.now() - 60e3) this.set({range: rel || RANGES[RANGES.length - 1]});
    else this.set({from: Math.round(s - span / 2), to: Math.min(Date.now(), Math.round(e + span / 2))});
  }

  _render() {
    const opts = RANGES.map((r) => h('option', {value: r}, `Last ${r}`));
    if (this.tr.from) opts.unshift(h('option', {value: 'custom'}, `${formatDateTime(this.tr.from)} → ${formatDateTime(this.tr.to).slice(11)}`));
    this.rangeSel.replaceChildren(...opts);
    this.rangeSel.value = this.tr.from ? 'custom' : this.tr.range;
    if (!this.tr.from && !RANGES.includes(this.tr.range)) {
      this.rangeSel.prepend(h('option', {value: this.tr.range}, `Last ${this.tr.range}`));
      this.rangeSel.value = this.tr.range;
    }
  }

  _timer() {
    clearInterval(this.interval);
    const ms = parseDuration(this.refresh);
    if (ms > 0) this.interval = setInterval(() => { if (!document.hidden) this.onTick && this.onTick(); }, ms);
  }

  destroy() {
    clearInterval(this.interval);
  }
}
