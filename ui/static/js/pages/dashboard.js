// One dashboard: template variables, time range, a 12-column grid of
// panels; and its editor (panels as a form, or the JSON itself).
// URL: /dashboards/<id>?range=6h&var-country=DE, /dashboards/<id>/edit.

import {h, replace, clear, icon} from '../dom.js';
import {request, APIError} from '../api.js';
import {Panel, regexEscape, errorText} from '../panels.js';
import {TimePicker, readRange, writeRange, resolve} from '../timepicker.js';

let readyMarked = false;

const blank = (id) => ({schemaVersion: 1, id, title: 'New dashboard', time: '1h', panels: [
  {title: 'Ingest rate', type: 'timeseries', width: 12, unit: 'ops', queries: [{expr: 'sum(rate(stratus_ingest_samples_accepted_total[1m]))', legend: 'samples/s'}]},
]});

export function mount(root, {match, params, navigate, setParams}) {
  const id = match[1];
  let editing = !!match[2];
  let dash = null;
  let panels = [];
  let picker = null;
  let vars = {};
  let loadSeq = 0;
  const head = h('div', {class: 'page-head'});
  const varBar = h('div', {class: 'var-bar'});
  const grid = h('div', {class: 'grid'});
  const editorBox = h('div', {class: 'dash-editor'});
  const msg = h('div', {class: 'flash', role: 'status', hidden: true});
  root.append(head, msg, varBar, editorBox, grid);

  const flash = (text, kind = 'ok') => {
    msg.textContent = text;
    msg.className = 'flash flash-' + kind;
    msg.hidden = false;
    clearTimeout(flash.t);
    flash.t = setTimeout(() => { msg.hidden = true; }, 6000);
  };

  const sync = () => {
    const p = new URLSearchParams();
    writeRange(p, picker.tr);
    if (picker.refresh !== 'off') p.set('refresh', picker.refresh);
    for (const v of dash.variables || []) if (vars[v.name] !== undefined) p.set('var-' + v.name, vars[v.name]);
    setParams(p);
  };

  async function init() {
    try {
      dash = await request(`/api/v1/dashboards/${id}`);
    } catch (e) {
      if (e instanceof APIError && e.status === 404 && editing) dash = blank(id);
      else {
        replace(head, h('h1', null, 'Dashboard not found'));
        grid.append(h('div', {class: 'panel-error'}, errorText(e), ' ', h('a', {href: '/dashboards'}, 'All dashboards')));
        return;
      }
    }
    picker = new TimePicker({
      range: readRange(params, dash.time || '1h'),
      refresh: params.get('refresh') || dash.refresh || 'off',
      onChange: () => { sync(); loadPanels(); },
      onTick: () => loadPanels(),
    });
    renderHead();
    await renderVars();
    build();
  }

  function renderHead() {
    const actions = editing
      ? [h('button', {type: 'button', class: 'btn btn-primary', id: 'save', onclick: save}, 'Save'),
        h('button', {type: 'button', class: 'btn', onclick: saveAs}, 'Save as…'),
        h('button', {type: 'button', class: 'btn btn-ghost', onclick: () => navigate(`/dashboards/${id}`)}, 'Done')]
      : [h('button', {type: 'button', class: 'btn', id: 'edit', onclick: () => navigate(`/dashboards/${id}/edit${location.search}`)}, icon('edit'), 'Edit')];
    if (dash.source === 'user') actions.push(h('button', {type: 'button', class: 'btn btn-ghost btn-danger', onclick: remove, title: dash.builtin ? 'Delete your copy and restore the built-in' : 'Delete this dashboard'}, icon('trash'), dash.builtin ? 'Restore built-in' : 'Delete'));
    replace(head,
      h('div', null, h('h1', null, dash.title), dash.description ? h('p', {class: 'muted page-sub'}, dash.description) : null),
      h('div', {class: 'toolbar'}, picker.el, ...actions));
  }

  async function renderVars() {
    clear(varBar);
    for (const v of dash.variables || []) {
      let values = [];
      try {
        values = await request(`/api/v1/label/${encodeURIComponent(v.label)}/values`, {params: v.match ? {'match[]': v.match} : undefined});
      } catch { values = []; }
      const want = params.get('var-' + v.name) ?? vars[v.name] ?? v.default ?? (v.includeAll ? '$__all' : values[0]);
      const sel = h('select', {class: 'select', id: 'var-' + v.name, 'aria-label': v.title || v.name, onchange: () => {
        vars[v.name] = sel.value;
        sync();
        loadPanels();
      }}, v.includeAll ? h('option', {value: '$__all'}, 'All') : null, values.map((x) => h('option', {value: x}, x)));
      sel.value = values.includes(want) || want === '$__all' ? want : (v.includeAll ? '$__all' : values[0] || '');
      vars[v.name] = sel.value;
      varBar.append(h('label', {class: 'var'}, h('span', null, v.title || v.name), sel));
    }
    varBar.hidden = !(dash.variables || []).length;
  }

  function resolvedVars() {
    const out = {};
    for (const [k, v] of Object.entries(vars)) out[k] = v === '$__all' || v === undefined ? '.*' : regexEscape(v);
    return out;
  }

  function build() {
    panels.forEach((p) => p.destroy());
    clear(grid);
    panels = dash.panels.map((spec) => new Panel(spec));
    grid.append(...panels.map((p) => p.el));
    if (editing) renderEditor(); else clear(editorBox);
    loadPanels();
  }

  async function loadPanels() {
    const my = ++loadSeq;
    const [start, end] = resolve(picker.tr);
    const ctx = {start, end, vars: resolvedVars(), onZoom: (a, b) => picker.zoom(a, b)};
    // A few at a time: the server has few cores and every panel is a query.
    const queue = panels.slice();
    const worker = async () => { while (queue.length && my === loadSeq) await queue.shift().load(ctx); };
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (my === loadSeq) {
      grid.dataset.loaded = String(Date.now());
      if (!readyMarked) { readyMarked = true; performance.mark('stratus:dashboard-ready'); }
    }
  }

  // Editor.
  function renderEditor() {
    const title = h('input', {class: 'input', value: dash.title, 'aria-label': 'Title', oninput: () => { dash.title = title.value; }});
    const desc = h('input', {class: 'input', value: dash.description || '', 'aria-label': 'Description', oninput: () => { dash.description = desc.value; }});
    const rows = dash.panels.map((p, i) => panelRow(p, i));
    const json = h('textarea', {class: 'editor json-editor', rows: 14, spellcheck: 'false', 'aria-label': 'Dashboard JSON'});
    json.value = JSON.stringify(strip(dash), null, 2);
    const jsonBox = h('details', {class: 'json-box'}, h('summary', null, 'Edit as JSON'), json,
      h('button', {type: 'button', class: 'btn', onclick: () => {
        try { dash = {...JSON.parse(json.value), source: dash.source, builtin: dash.builtin}; build(); renderHead(); renderVars(); flash('JSON applied; Save to keep it.'); } catch (e) { flash('Invalid JSON: ' + e.message, 'error'); }
      }}, 'Apply JSON'));
    replace(editorBox, h('div', {class: 'card editor-panel'},
      h('h2', null, 'Edit dashboard'),
      h('div', {class: 'form-row'}, h('label', null, 'Title', title), h('label', null, 'Description', desc)),
      h('h3', null, 'Panels'),
      h('div', {class: 'panel-rows'}, rows),
      h('button', {type: 'button', class: 'btn', id: 'add-panel', onclick: () => {
        dash.panels.push({title: 'New panel', type: 'timeseries', width: 6, queries: [{expr: 'up'}]});
        build();
      }}, icon('plus'), 'Add panel'),
      jsonBox));
  }

  function panelRow(p, i) {
    const upd = (f) => (e) => { f(e.target.value); };
    const typeSel = h('select', {class: 'select', 'aria-label': 'Panel type', onchange: (e) => { p.type = e.target.value; build(); }},
      ['timeseries', 'stat', 'table'].map((t) => h('option', {value: t, selected: p.type === t}, t)));
    const widthSel = h('select', {class: 'select', 'aria-label': 'Width', onchange: (e) => { p.width = +e.target.value; build(); }},
      [3, 4, 6, 8, 12].map((w) => h('option', {value: w, selected: (p.width || 6) === w}, `${w}/12`)));
    const unitSel = h('select', {class: 'select', 'aria-label': 'Unit', onchange: (e) => { p.unit = e.target.value; build(); }},
      ['short', 's', 'percentunit', 'percent', 'bytes', 'ops', 'reqps', 'none'].map((u) => h('option', {value: u, selected: (p.unit || 'short') === u}, u)));
    const expr = h('textarea', {class: 'editor editor-small', rows: 2, spellcheck: 'false', 'aria-label': 'Expression', onchange: (e) => { p.queries[0].expr = e.target.value; build(); }});
    expr.value = p.queries[0]?.expr || '';
    const legend = h('input', {class: 'input', value: p.queries[0]?.legend || '', placeholder: '{{label}}', 'aria-label': 'Legend', onchange: (e) => { p.queries[0].legend = e.target.value; build(); }});
    const move = (d) => () => { const j = i + d; if (j < 0 || j >= dash.panels.length) return; [dash.panels[i], dash.panels[j]] = [dash.panels[j], dash.panels[i]]; build(); };
    return h('div', {class: 'panel-row'},
      h('input', {class: 'input', value: p.title, 'aria-label': 'Panel title', oninput: upd((v) => { p.title = v; })}),
      typeSel, widthSel, unitSel, expr, legend,
      h('div', {class: 'row-actions'},
        h('button', {type: 'button', class: 'btn btn-ghost btn-icon', title: 'Move up', 'aria-label': 'Move up', onclick: move(-1)}, icon('up')),
        h('button', {type: 'button', class: 'btn btn-ghost btn-icon', title: 'Move down', 'aria-label': 'Move down', onclick: move(1)}, icon('down')),
        h('button', {type: 'button', class: 'btn btn-ghost btn-icon btn-danger', title: 'Remove panel', 'aria-label': 'Remove panel', onclick: () => { dash.panels.splice(i, 1); build(); }}, icon('trash'))),
      p.queries.length > 1 ? h('div', {class: 'muted small'}, `+ ${p.queries.length - 1} more queries (edit as JSON)`) : null);
  }

  function strip(d) {
    const {source, builtin, updatedAt, ...rest} = d;
    return rest;
  }

  async function save(_, asId) {
    const target = asId || id;
    try {
      const saved = await request(`/api/v1/dashboards/${target}`, {method: 'PUT', json: {...strip(dash), id: target}});
      dash = saved;
      if (target !== id) return navigate(`/dashboards/${target}/edit`);
      renderHead();
      flash(`Saved “${saved.title}”.`);
    } catch (e) {
      flash('Not saved: ' + errorText(e), 'error');
    }
  }

  function saveAs() {
    const nid = prompt('Save as dashboard id (lower-case letters, digits, - or _):', id + '-copy');
    if (nid) save(null, nid.trim());
  }

  async function remove() {
    if (!confirm(dash.builtin ? 'Delete your edited copy and restore the built-in dashboard?' : `Delete dashboard “${dash.title}”?`)) return;
    try {
      const r = await request(`/api/v1/dashboards/${id}`, {method: 'DELETE'});
      navigate(r.restoredBuiltin ? `/dashboards/${id}` : '/dashboards');
    } catch (e) {
      flash(errorText(e), 'error');
    }
  }

  init();
  return () => { loadSeq++; picker && picker.destroy(); panels.forEach((p) => p.destroy()); };
}
