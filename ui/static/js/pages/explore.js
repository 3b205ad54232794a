// Explore: write an expression in PromQL or the Atlas stack language, run
// it as a range or instant query (Atlas: over the range, with the graph
// API), look at it as a chart, a table or (Atlas) the server-rendered PNG
// that alert notifications and wikis show. All state is in the URL: q,
// lang, mode, view, range or from/to, step, refresh.

import {h, replace, clear, icon, debounce} from '../dom.js';
import {queryRange, queryInstant, matrixToSeries, labelString, stepFor, APIError} from '../api.js';
import {TimeChart} from '../chart.js';
import {TimePicker, readRange, writeRange, resolve} from '../timepicker.js';
import {formatValue, formatDateTime} from '../format.js';
import {suggestions, offsetOf} from '../promql.js';
import * as atlas from '../atlas.js';
import {errorText} from '../panels.js';

const PLACEHOLDER = {
  promql: 'Expression, e.g. sum by (country) (rate(migration_rows_processed_total[5m]))   — Ctrl+Enter runs',
  atlas: 'Stack expression, e.g. name,migration_replication_lag_seconds,:eq,:max,(,country,),:by   — Ctrl+Enter runs',
};

let firstChartMarked = false;

export function mount(root, {params, setParams}) {
  const state = {
    q: params.get('q') || '',
    // lang=stack is what earlier links said.
    lang: ['atlas', 'stack'].includes(params.get('lang')) ? 'atlas' : 'promql',
    mode: params.get('mode') === 'instant' ? 'instant' : 'range',
    view: ['table', 'png'].includes(params.get('view')) ? params.get('view') : 'chart',
    range: readRange(params, '1h'),
    step: params.get('step') || '',
    refresh: params.get('refresh') || 'off',
  };
  if (state.lang !== 'atlas' && state.view === 'png') state.view = 'chart';
  let chart = null;
  let abort = null;
  let lastResult = null;

  const sync = () => {
    const p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    if (state.lang !== 'promql') p.set('lang', state.lang);
    p.set('mode', state.mode);
    p.set('view', state.view);
    writeRange(p, state.range);
    if (state.step) p.set('step', state.step);
    if (state.refresh !== 'off') p.set('refresh', state.refresh);
    setParams(p);
  };

  // Editor with completion.
  const editor = h('textarea', {
    id: 'expr', class: 'editor', rows: 3, spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off',
    'aria-label': 'Expression', placeholder: PLACEHOLDER[state.lang],
  });
  editor.value = state.q;
  const menu = h('ul', {class: 'completions', role: 'listbox', hidden: true, id: 'completions'});
  let items = [], active = 0, compCtx = null;
  const closeMenu = () => { menu.hidden = true; items = []; };
  const showMenu = () => {
    clear(menu);
    items.forEach((it, i) => {
      const li = h('li', {role: 'option', class: i === active ? 'active' : '', 'aria-selected': String(i === active),
        onmousedown: (e) => { e.preventDefault(); accept(i); }}, h('span', {class: 'comp-text'}, it.text), h('span', {class: 'comp-kind'}, it.kind));
      menu.append(li);
    });
    menu.hidden = items.length === 0;
    const a = menu.children[active];
    a && a.scrollIntoView({block: 'nearest'});
  };
  const accept = (i) => {
    const it = items[i];
    if (!it || !compCtx) return;
    const v = editor.value;
    let ins = it.text;
    if (state.lang === 'atlas') {
      // A tag or a value is followed by its comma; a word ends the token.
      if ((it.kind === 'tag' || it.kind === 'value') && v[editor.selectionStart] !== ',') ins += ',';
    } else {
      if (it.kind === 'function') ins += '(';
      if (it.kind === 'label' && !/^\s*(=|!=|=~|!~)/.test(v.slice(editor.selectionStart))) ins += '="';
      if (it.kind === 'value' && v[editor.selectionStart] !== '"') ins += '"';
    }
    editor.value = v.slice(0, compCtx.from) + ins + v.slice(editor.selectionStart);
    const pos = compCtx.from + ins.length;
    editor.setSelectionRange(pos, pos);
    closeMenu();
    editor.focus();
    if (it.kind === 'label' || it.kind === 'tag') complete();
  };
  let compSeq = 0;
  const complete = debounce(async () => {
    const my = ++compSeq;
    const typed = editor.value;
    const suggest = state.lang === 'atlas' ? atlas.suggestions : suggestions;
    const res = await suggest(editor.value, editor.selectionStart);
    if (my !== compSeq || document.activeElement !== editor || editor.value !== typed) return;
    compCtx = res.ctx;
    items = res.items;
    active = 0;
    showMenu();
  }, 120);
  editor.addEventListener('input', () => { clearError(); complete(); });
  editor.addEventListener('blur', () => setTimeout(closeMenu, 100));
  editor.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); compSeq++; closeMenu(); run(); return; }
    if (menu.hidden) {
      if (e.key === ' ' && e.ctrlKey) { e.preventDefault(); complete(); }
      return;
    }
    if (e.key === 'ArrowDown') { e.preventDefault(); active = (active + 1) % items.length; showMenu(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); active = (active - 1 + items.length) % items.length; showMenu(); }
    else if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); accept(active); }
    else if (e.key === 'Escape') { e.preventDefault(); closeMenu(); }
  });

  const seg = (name, options, onPick) => {
    const g = h('div', {class: 'segmented', role: 'group', 'aria-label': name, id: `seg-${name}`});
    g.paint = () => g.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.v === state[name])));
    for (const [v, label, title] of options) g.append(h('button', {type: 'button', dataset: {v}, title, onclick: () => { state[name] = v; g.paint(); onPick(); }}, label));
    g.paint();
    return g;
  };
  // Each language keeps its own expression while the other is shown: the
  // text of one is an error in the other.
  const texts = {promql: '', atlas: ''};
  let shownLang = state.lang;
  const langSeg = seg('lang', [['promql', 'PromQL', 'Prometheus query language'], ['atlas', 'Atlas', 'Atlas stack language, e.g. name,x,:eq,:sum']], () => {
    if (state.lang === shownLang) return;
    texts[shownLang] = editor.value;
    editor.value = texts[state.lang];
    shownLang = state.lang;
    editor.placeholder = PLACEHOLDER[state.lang];
    if (state.lang !== 'atlas' && state.view === 'png') state.view = 'chart';
    closeMenu();
    langControls();
    sync();
    run();
  });
  const modeSeg = seg('mode', [['range', 'Range'], ['instant', 'Instant']], () => { sync(); run(); });
  const viewSeg = seg('view', [['chart', 'Chart'], ['table', 'Table'], ['png', 'PNG', 'The chart as the server renders it for alerts and wikis']], () => { sync(); show(); });
  // The stack language is evaluated over the range only, and only it has a
  // server-rendered image here.
  function langControls() {
    const isAtlas = state.lang === 'atlas';
    modeSeg.hidden = isAtlas;
    viewSeg.querySelector('[data-v="png"]').hidden = !isAtlas;
    viewSeg.paint();
    help.hidden = !isAtlas;
  }

  const picker = new TimePicker({
    range: state.range, refresh: state.refresh,
    onChange: (tr, refresh) => { state.range = tr; state.refresh = refresh; sync(); run(); },
    onTick: () => run(),
  });
  const runBtn = h('button', {type: 'button', id: 'run', class: 'btn btn-primary', onclick: () => run(), title: 'Run (Ctrl+Enter)'}, icon('play'), 'Run');
  const shareBtn = h('button', {type: 'button', class: 'btn btn-ghost', title: 'Copy a link to this view', onclick: async () => {
    sync();
    try { await navigator.clipboard.writeText(location.href); shareBtn.lastChild.textContent = 'Copied'; } catch { shareBtn.lastChild.textContent = 'Link in address bar'; }
    setTimeout(() => { shareBtn.lastChild.textContent = 'Share'; }, 1500);
  }}, icon('link'), h('span', null, 'Share'));

  const help = h('p', {class: 'muted small atlas-help', hidden: true},
    'Atlas: tags and values, then words — ', h('code', null, 'name,http_server_requests_total,:eq,code,5,:re,:and,:sum,(,service,),:by'),
    '. Type ', h('code', null, ':'), ' for words, or a tag for its values.');
  const errorBox = h('div', {class: 'query-error', role: 'alert', hidden: true});
  const info = h('div', {class: 'result-info muted', 'aria-live': 'polite'});
  const result = h('div', {class: 'result card', id: 'result'});

  root.append(
    h('div', {class: 'page-head'}, h('h1', null, 'Explore'), h('div', {class: 'toolbar'}, langSeg, modeSeg, viewSeg)),
    h('div', {class: 'card editor-card'},
      h('div', {class: 'editor-wrap'}, editor, menu),
      h('div', {class: 'editor-bar'}, runBtn, picker.el, shareBtn,
        h('span', {class: 'muted small'}, 'Ctrl+Enter runs · Ctrl+Space completes · drag the chart to zoom, double-click to zoom out')),
      help),
    errorBox, info, result);
  langControls();

  function clearError() {
    errorBox.hidden = true;
    clear(errorBox);
    editor.removeAttribute('aria-invalid');
  }

  function showError(e) {
    clear(errorBox);
    errorBox.hidden = false;
    if (e instanceof APIError && e.notAvailable && state.lang === 'atlas') {
      errorBox.classList.add('notice');
      errorBox.append(h('strong', null, 'Not available yet: '), 'the Atlas stack-language API (', h('code', null, '/api/v1/graph'),
        ') is not in this Stratus build. Switch to PromQL, or try again after upgrading.');
      return;
    }
    errorBox.classList.remove('notice');
    errorBox.append(h('strong', null, e.status === 400 ? 'Error in the expression: ' : 'Query failed: '), errorText(e));
    if (state.lang === 'atlas' && e instanceof APIError) {
      // The offset is into the expression as sent: the editor's text
      // without its leading white space.
      const off = atlas.errorOffset(e.message);
      if (off !== null) {
        const text = editor.value;
        const at = Math.min(text.length, text.length - text.trimStart().length + off);
        const lineStart = text.lastIndexOf('\n', at - 1) + 1;
        e.position = {line: text.slice(0, at).split('\n').length, col: at - lineStart + 1};
      }
    }
    if (e.position) {
      editor.setAttribute('aria-invalid', 'true');
      const lines = editor.value.split('\n');
      const line = lines[e.position.line - 1] ?? '';
      const caret = ' '.repeat(Math.max(0, e.position.col - 1)) + '^';
      errorBox.append(
        h('pre', {class: 'error-pos', 'aria-label': `line ${e.position.line}, column ${e.position.col}`}, line + '\n', h('span', {class: 'caret'}, caret)),
        h('button', {type: 'button', class: 'btn btn-ghost btn-small', onclick: () => {
          const off = offsetOf(editor.value, e.position.line, e.position.col);
          editor.focus();
          editor.setSelectionRange(off, Math.min(editor.value.length, off + 1));
        }}, `Go to line ${e.position.line}, column ${e.position.col}`));
    }
  }

  async function run() {
    state.q = editor.value.trim();
    sync();
    clearError();
    if (!state.q) {
      replace(result, h('div', {class: 'empty-state'}, h('p', null, 'Type an expression and press Ctrl+Enter.'),
        h('p', {class: 'muted'}, ...(state.lang === 'atlas'
          ? ['Try ', h('code', null, 'name,stratus_ingest_samples_accepted_total,:eq,:sum'), ' or ', h('code', null, 'name,up,:eq,(,job,),:by'), '.']
          : ['Try ', h('code', null, 'sum(rate(stratus_ingest_samples_accepted_total[1m]))'), ' or ', h('code', null, 'up'), '.']))));
      return;
    }
    abort && abort.abort();
    const ac = new AbortController();
    abort = ac;
    const [start, end] = resolve(state.range);
    const t0 = performance.now();
    result.classList.add('loading');
    try {
      let data;
      if (state.lang === 'atlas') {
        // The server picks the step unless the URL sets one.
        const {series, step} = await atlas.graphSeries(state.q, start, end, {step: +state.step || 0, width: result.clientWidth - 60, signal: ac.signal});
        data = {type: 'matrix', series, start, end, step, atlas: true};
      } else if (state.mode === 'range') {
        const step = +state.step || stepFor(start, end, Math.max(200, Math.floor(result.clientWidth / 2)));
        const d = await queryRange(state.q, start, end, step, ac.signal);
        data = {type: 'matrix', series: matrixToSeries(d.result), start, end, step, warnings: d.__warnings};
      } else {
        const d = await queryInstant(state.q, end, ac.signal);
        data = {type: d.resultType, result: d.result, time: end, warnings: d.__warnings};
      }
      data.ms = performance.now() - t0;
      lastResult = data;
      show();
    } catch (e) {
      if (e.name === 'AbortError') return;
      lastResult = null;
      showError(e);
      replace(result, h('div', {class: 'empty-state muted'}, 'No result.'));
      info.textContent = '';
    } finally {
      if (abort === ac) result.classList.remove('loading');
    }
  }

  function show() {
    const d = lastResult;
    if (!d) return;
    const warn = d.warnings && d.warnings.length ? ` · warnings: ${d.warnings.join('; ')}` : '';
    if (d.type === 'matrix') {
      const pts = d.series.reduce((n, s) => n + s.ts.length, 0);
      info.textContent = `${d.series.length} series, ${pts.toLocaleString()} points, step ${d.step}s, ${Math.round(d.ms)} ms${warn}`;
      if (d.atlas && state.view === 'png') {
        chart && chart.destroy();
        chart = null;
        replace(result, graphImage(d));
      } else if (state.view === 'chart' || state.view === 'png') {
        if (!chart || !result.contains(chart.el)) {
          clear(result);
          chart = new TimeChart(result, {height: 360, onZoom: (a, b) => picker.zoom(a, b)});
        }
        chart.setData(d.series, d.start, d.end, d.step);
        if (!firstChartMarked && d.series.length) {
          firstChartMarked = true;
          performance.mark('stratus:first-chart');
        }
      } else {
        chart && chart.destroy();
        chart = null;
        replace(result, table(d.series.map((s) => {
          let i = s.vals.length - 1;
          while (i > 0 && !Number.isFinite(s.vals[i])) i--;
          return {metric: s.labels, value: s.vals[i], t: s.ts[i]};
        }), 'Last value'));
      }
    } else {
      chart && chart.destroy();
      chart = null;
      let rows = [];
      if (d.type === 'vector') rows = d.result.map((r) => ({metric: r.metric, value: parseFloat(r.value[1]), t: r.value[0] * 1000}));
      else if (d.type === 'scalar' || d.type === 'string') rows = [{metric: {}, value: d.type === 'scalar' ? parseFloat(d.result[1]) : d.result[1], t: d.result[0] * 1000}];
      else if (d.type === 'matrix') rows = d.result.map((r) => ({metric: r.metric, value: parseFloat(r.values.at(-1)[1]), t: r.values.at(-1)[0] * 1000, n: r.values.length}));
      info.textContent = `${d.type}, ${rows.length} result${rows.length === 1 ? '' : 's'} at ${formatDateTime(d.time)}, ${Math.round(d.ms)} ms${warn}`;
      replace(result, table(rows, 'Value'));
    }
  }

  // graphImage is the server-rendered chart of the Atlas result d, sized
  // to the result card, in the page's theme, with links to the image and
  // its SVG for pasting into wikis.
  function graphImage(d) {
    const theme = document.documentElement.dataset.theme ||
      (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
    const w = Math.max(300, Math.min(1600, result.clientWidth - 120));
    const opts = {w, h: 300, theme};
    const src = atlas.graphURL(state.q, d.start, d.end, d.step, opts);
    const img = h('img', {class: 'graph-png', id: 'graph-png', src, alt: `Chart of ${state.q}`});
    const status = h('span', {class: 'muted small'}, 'Rendering…');
    img.addEventListener('load', () => { status.textContent = `${img.naturalWidth} × ${img.naturalHeight} px`; img.dataset.loaded = '1'; });
    img.addEventListener('error', () => { status.textContent = 'The server could not draw this chart.'; });
    return h('figure', {class: 'graph-figure'}, img,
      h('figcaption', {class: 'graph-links'}, status,
        h('a', {href: src, target: '_blank', rel: 'noopener'}, 'Open PNG'),
        h('a', {href: atlas.graphURL(state.q, d.start, d.end, d.step, {...opts, format: 'svg'}), target: '_blank', rel: 'noopener'}, 'Open SVG')));
  }

  function table(rows, valueTitle) {
    if (!rows.length) return h('div', {class: 'empty-state muted'}, 'Empty result: no series match at this time.');
    rows.sort((a, b) => labelString(a.metric).localeCompare(labelString(b.metric)));
    return h('div', {class: 'table-wrap'}, h('table', {class: 'table', id: 'result-table'},
      h('thead', null, h('tr', null, h('th', null, 'Series'), h('th', {class: 'num'}, valueTitle))),
      h('tbody', null, rows.slice(0, 2000).map((r) => h('tr', null,
        h('td', {class: 'series-cell'}, seriesLabels(r.metric)),
        h('td', {class: 'num', title: formatDateTime(r.t)}, typeof r.value === 'string' ? r.value : formatValue(r.value, 'none')))))));
  }

  editor.focus();
  run();
  return () => { abort && abort.abort(); picker.destroy(); chart && chart.destroy(); };
}

/** seriesLabels renders name{k="v"} with each part as its own text node. */
export function seriesLabels(metric) {
  const parts = [h('span', {class: 'metric-name'}, metric.__name__ || '')];
  const keys = Object.keys(metric).filter((k) => k !== '__name__').sort();
  if (keys.length) {
    parts.push('{');
    keys.forEach((k, i) => {
      parts.push(h('span', {class: 'label-name'}, k), '=', h('span', {class: 'label-value'}, JSON.stringify(metric[k])));
      if (i < keys.length - 1) parts.push(', ');
    });
    parts.push('}');
  }
  return h('span', {class: 'series'}, parts);
}
