// Panels: a chart, a single stat or a table, each fed by PromQL, or by an
// Atlas stack expression written with an "atlas:" prefix (as alert rules
// write them). The dashboards, home and status pages all render through
// here.

import {h, clear, replace} from './dom.js';
import {queryRange, queryInstant, matrixToSeries, seriesName, stepFor, APIError} from './api.js';
import {formatValue} from './format.js';
import {TimeChart} from './chart.js';
import * as atlas from './atlas.js';

/** substitute replaces $name and ${name} with the variables' values. */
export function substitute(expr, vars) {
  return expr.replace(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?/g, (m, name) => (name in vars ? vars[name] : m));
}

/** regexEscape escapes a label value for use inside =~"...". */
export function regexEscape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/"/g, '\\"');
}

/**
 * Panel renders one panel spec ({title, type, width, unit, queries,
 * thresholds, stacked, description}) into a card. load(ctx) fetches and
 * draws it; ctx is {start, end, vars, onZoom}.
 */
export class Panel {
  constructor(spec, {height = 220} = {}) {
    this.spec = spec;
    this.height = height;
    this.body = h('div', {class: 'panel-body'});
    this.status = h('span', {class: 'panel-status', 'aria-live': 'polite'});
    const title = h('h3', {class: 'panel-title'}, spec.title || 'Untitled');
    if (spec.description) title.title = spec.description;
    this.el = h('section', {class: `panel panel-${spec.type}`, dataset: {type: spec.type}},
      h('header', {class: 'panel-head'}, title, this.status), this.body);
    this.el.style.gridColumn = `span ${Math.min(12, Math.max(1, spec.width || 6))}`;
    this.chart = null;
  }

  async load(ctx) {
    this.abort && this.abort.abort();
    const ac = new AbortController();
    this.abort = ac;
    this.el.classList.add('loading');
    try {
      if (this.spec.type === 'timeseries') await this._timeseries(ctx, ac.signal);
      else if (this.spec.type === 'stat') await this._stat(ctx, ac.signal);
      else await this._table(ctx, ac.signal);
      this.el.dataset.state = 'ok';
      this.status.textContent = '';
      this.status.className = 'panel-status';
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.el.dataset.state = 'error';
      this.chart && this.chart.destroy();
      this.chart = null;
      replace(this.body, h('div', {class: 'panel-error', role: 'alert'}, errorText(e)));
    } finally {
      if (this.abort === ac) this.el.classList.remove('loading');
    }
  }

  destroy() {
    this.abort && this.abort.abort();
    this.chart && this.chart.destroy();
  }

  async _timeseries(ctx, signal) {
    const {start, end} = ctx;
    let step = ctx.step || stepFor(start, end, Math.max(60, Math.floor(this.el.clientWidth / 2) || 300));
    const results = await Promise.all(this.spec.queries.map((q) => {
      const expr = substitute(q.expr, ctx.vars || {});
      if (atlas.isAtlas(expr)) {
        // Atlas names its lines (:legend); a panel legend template wins.
        // The server picks the step: never below the data's.
        return atlas.graphSeries(atlas.stripPrefix(expr), start, end, {step: ctx.step, width: this.el.clientWidth || 600, signal})
          .then((r) => {
            // Lines break at gaps longer than the panel's step: the
            // widest step of its queries.
            step = Math.max(step, r.step);
            return r.series.map((s) => (q.legend ? {...s, name: seriesName(s.labels, q.legend)} : s));
          });
      }
      return queryRange(expr, start, end, step, signal).then((d) => matrixToSeries(d.result, q.legend));
    }));
    const series = results.flat();
    if (!this.chart) {
      clear(this.body);
      this.chart = new TimeChart(this.body, {
        unit: this.spec.unit, stacked: this.spec.stacked, height: this.height,
        thresholds: this.spec.thresholds, onZoom: ctx.onZoom,
      });
    }
    this.chart.opts.onZoom = ctx.onZoom;
    this.chart.setData(series, start, end, step);
    this.el.dataset.series = String(series.length);
    this.el.dataset.points = String(series.reduce((n, s) => n + s.ts.length, 0));
  }

  async _instant(ctx, signal) {
    const out = [];
    for (const [qi, q] of this.spec.queries.entries()) {
      const expr = substitute(q.expr, ctx.vars || {});
      if (atlas.isAtlas(expr)) {
        // The last value of each line over the last few minutes.
        const {series} = await atlas.graphSeries(atlas.stripPrefix(expr), ctx.end - 10 * 60e3, ctx.end, {signal});
        for (const s of series) {
          let i = s.vals.length - 1;
          while (i > 0 && !Number.isFinite(s.vals[i])) i--;
          out.push({metric: s.labels, value: s.vals[i], query: qi, name: q.legend ? seriesName(s.labels, q.legend) : s.name});
        }
        continue;
      }
      const d = await queryInstant(expr, ctx.end, signal);
      const rows = d.resultType === 'vector' ? d.result.map((r) => ({metric: r.metric, value: parseFloat(r.value[1])}))
        : d.resultType === 'scalar' ? [{metric: {}, value: parseFloat(d.result[1])}] : [];
      for (const r of rows) out.push({...r, query: qi, name: seriesName(r.metric, q.legend)});
    }
    return out;
  }

  async _stat(ctx, signal) {
    const rows = await this._instant(ctx, signal);
    this.el.dataset.series = String(rows.length);
    if (!rows.length) {
      replace(this.body, h('div', {class: 'stat-empty'}, 'No data'));
      return;
    }
    const level = (v) => {
      let lv = 'ok';
      for (const t of (this.spec.thresholds || []).slice().sort((a, b) => a.value - b.value)) if (v >= t.value) lv = t.level;
      return lv;
    };
    const shown = rows.slice(0, 8);
    const grid = h('div', {class: 'stat-grid' + (shown.length > 1 ? ' multi' : '')},
      shown.map((r) => h('div', {class: `stat stat-${level(r.value)}`},
        h('div', {class: 'stat-value'}, formatValue(r.value, this.spec.unit)),
        shown.length > 1 || r.name !== '{}' ? h('div', {class: 'stat-label'}, r.name === '{}' ? '' : r.name) : null)));
    replace(this.body, grid, rows.length > shown.length ? h('div', {class: 'muted small'}, `+ ${rows.length - shown.length} more`) : null);
  }

  async _table(ctx, signal) {
    const rows = await this._instant(ctx, signal);
    this.el.dataset.series = String(rows.length);
    // With column titles, one row per legend name and one column per
    // query; without, every query adds rows to a single value column.
    const multi = this.spec.queries.some((q) => q.column);
    const byName = new Map();
    for (const r of rows) {
      if (!byName.has(r.name)) byName.set(r.name, []);
      byName.get(r.name)[multi ? r.query : 0] = r.value;
    }
    const cols = multi ? this.spec.queries.map((q, i) => q.column || `Value ${i + 1}`) : ['Value'];
    const names = [...byName.keys()];
    if (multi) names.sort((a, b) => a.localeCompare(b, undefined, {numeric: true}));
    const table = h('table', {class: 'table'},
      h('thead', null, h('tr', null, h('th', null, 'Series'), cols.map((c) => h('th', {class: 'num'}, c)))),
      h('tbody', null, names.map((n) => h('tr', null, h('td', {class: 'series-cell'}, n),
        cols.map((_, i) => h('td', {class: 'num'}, formatValue(byName.get(n)[i], (multi && this.spec.queries[i].unit) || this.spec.unit)))))));
    replace(this.body, names.length ? h('div', {class: 'table-wrap'}, table) : h('div', {class: 'stat-empty'}, 'No data'));
  }
}

/** errorText turns an error into a sentence for the user. */
export function errorText(e) {
  if (e instanceof APIError) {
    if (e.status === 503) return `Stratus is starting (storage is opening); retrying shortly. ${e.message}`;
    return e.message;
  }
  return String(e && e.message || e);
}
