// Status: the server's own health (ingest by format, series, memory, WAL,
// checkpoints) from its self-scraped metrics, build info, configuration
// and the cardinality explorer.

import {h, replace} from '../dom.js';
import {request} from '../api.js';
import {Panel, errorText} from '../panels.js';
import {formatValue} from '../format.js';

const SELF = '{job="stratus"}';
const sel = (m) => m + SELF;
const PANELS = [
  {title: 'Samples accepted per second, by format', type: 'timeseries', width: 6, unit: 'ops', queries: [{expr: `sum by (format) (rate(${sel('stratus_ingest_samples_accepted_total')}[1m]))`, legend: '{{format}}'}]},
  {title: 'Samples rejected per second, by reason', type: 'timeseries', width: 6, unit: 'ops', queries: [{expr: `sum by (reason) (rate(${sel('stratus_ingest_samples_rejected_total')}[1m]))`, legend: '{{reason}}'}]},
  {title: 'Active series', type: 'stat', width: 3, queries: [{expr: `max(${sel('stratus_tsdb_head_series')})`}]},
  {title: 'Resident memory', type: 'stat', width: 3, unit: 'bytes', queries: [{expr: `max(${sel('process_resident_memory_bytes')})`}]},
  {title: 'Go heap in use', type: 'stat', width: 3, unit: 'bytes', queries: [{expr: `max(${sel('go_memstats_heap_inuse_bytes')})`}]},
  {title: 'Sealed block bytes', type: 'stat', width: 3, unit: 'bytes', queries: [{expr: `max(${sel('stratus_tsdb_block_bytes')})`}]},
  {title: 'WAL bytes written per second', type: 'timeseries', width: 6, unit: 'bytes', queries: [{expr: `sum(rate(${sel('stratus_wal_bytes_written_total')}[1m]))`, legend: 'bytes/s'}]},
  {title: 'Memory', type: 'timeseries', width: 6, unit: 'bytes', queries: [
    {expr: `max(${sel('process_resident_memory_bytes')})`, legend: 'resident'},
    {expr: `max(${sel('go_memstats_heap_inuse_bytes')})`, legend: 'heap in use'}]},
  {title: 'WAL and checkpoints', type: 'table', width: 12, queries: []},
];
// One row per measure: several queries, each with its legend, one value column.
PANELS[PANELS.length - 1].queries = [
  ['WAL segments', 'stratus_wal_segments'],
  ['WAL fsyncs (total)', 'stratus_wal_fsyncs_total'],
  ['WAL corruptions found (total)', 'stratus_wal_corruptions_total'],
  ['Last checkpoint size (bytes)', 'stratus_tsdb_checkpoint_bytes'],
  ['Checkpoint failures (total)', 'stratus_tsdb_checkpoint_failures_total'],
  ['Checkpoint corruptions found (total)', 'stratus_tsdb_corruptions_total'],
  ['Last start-up replay (seconds)', 'stratus_tsdb_replay_duration_seconds'],
  ['Blocks sealed up to (seconds ago; none yet if absent)', 'time() - stratus_tsdb_sealed_before_timestamp_seconds'],
].map(([legend, m]) => ({expr: m.startsWith('time()') ? `time() - (max(${sel('stratus_tsdb_sealed_before_timestamp_seconds')}) > 0)` : `max(${sel(m)})`, legend}));

export function mount(root) {
  const grid = h('div', {class: 'grid'});
  const panels = PANELS.map((spec) => new Panel(spec, {height: 180}));
  grid.append(...panels.map((p) => p.el));
  const build = h('dl', {class: 'kv'}, h('dt', null, 'Loading…'));
  const config = h('pre', {class: 'config', id: 'config'}, 'Loading…');
  const card = h('div', {id: 'cardinality'});
  const access = h('div', {id: 'access', class: 'card'}, 'Loading…');
  const limitSel = h('select', {class: 'select', 'aria-label': 'Rows', onchange: () => loadCard()}, [10, 20, 50, 100].map((n) => h('option', {value: n}, `Top ${n}`)));
  root.append(
    h('div', {class: 'page-head'}, h('h1', null, 'Status')),
    h('section', {class: 'section'}, h('h2', null, 'Server health (last hour)'), grid),
    h('div', {class: 'two-col'},
      h('section', {class: 'section'}, h('h2', null, 'Build'), h('div', {class: 'card'}, build)),
      h('section', {class: 'section'}, h('h2', null, 'Configuration'), h('div', {class: 'card'}, config))),
    h('section', {class: 'section'}, h('h2', null, 'Access and tenant limits'), access),
    h('section', {class: 'section'}, h('div', {class: 'section-head'}, h('h2', null, 'Cardinality'), limitSel), card));

  const end = Date.now();
  panels.forEach((p) => p.load({start: end - 3600e3, end, vars: {}}));
  request('/api/v1/status/buildinfo').then((b) => replace(build, Object.entries(b).flatMap(([k, v]) => [h('dt', null, k), h('dd', null, String(v))])))
    .catch((e) => replace(build, h('dd', null, errorText(e))));
  request('/api/v1/status/config').then((c) => { config.textContent = c.yaml; })
    .catch((e) => { config.textContent = errorText(e); });

  request('/api/v1/status/tenants').then((d) => {
    const lim = (v, unit) => v ? formatValue(v, unit) : 'unlimited';
    replace(access,
      h('dl', {class: 'kv'}, h('dt', null, 'Authentication'), h('dd', null, d.auth),
        h('dt', null, 'You are'), h('dd', null, `${d.caller}, tenant ${d.tenant}`)),
      d.multi_tenant && d.tenants.length ? h('table', {class: 'table tenants-table'},
        h('thead', null, h('tr', null, ['Tenant', 'Series', 'Max series', 'Samples/s', 'Body bytes', 'Query samples', 'Concurrent queries'].map((t, i) => h('th', {class: i ? 'num' : null}, t)))),
        h('tbody', null, d.tenants.map((t) => h('tr', null, h('td', null, t.tenant),
          h('td', {class: 'num'}, formatValue(t.series, 'none')), h('td', {class: 'num'}, lim(t.limits.max_series, 'none')),
          h('td', {class: 'num'}, lim(t.limits.ingest_rate, 'none')), h('td', {class: 'num'}, lim(t.limits.max_body_bytes, 'bytes')),
          h('td', {class: 'num'}, lim(t.limits.query_max_samples, 'none')), h('td', {class: 'num'}, lim(t.limits.query_concurrency, 'none'))))))
        : h('p', {class: 'muted small'}, 'One tenant: tenancy is off (auth.enabled or auth.trust_tenant_header turns it on).'));
  }).catch((e) => replace(access, h('div', {class: 'panel-error'}, errorText(e))));

  function bars(title, rows, hint, link) {
    const max = Math.max(1, ...rows.map((r) => r.value));
    return h('div', {class: 'card card-table'}, h('h3', null, title), h('p', {class: 'muted small'}, hint),
      rows.length ? h('table', {class: 'table bars'}, h('tbody', null, rows.map((r) => {
        const bar = h('span', {class: 'bar'});
        bar.style.width = (100 * r.value / max).toFixed(1) + '%';
        return h('tr', null, h('td', {class: 'series-cell'}, link ? h('a', {href: link(r.name)}, r.name) : r.name),
          h('td', {class: 'num'}, formatValue(r.value, 'none')), h('td', {class: 'bar-cell'}, bar));
      }))) : h('p', {class: 'muted'}, 'No series.'));
  }

  async function loadCard() {
    try {
      const d = await request('/api/v1/status/tsdb', {params: {limit: limitSel.value}});
      const explore = (m) => '/explore?' + new URLSearchParams({q: `count by (__name__) ({__name__="${m}"})`, mode: 'instant', view: 'table'});
      replace(card,
        h('p', null, h('strong', null, formatValue(d.headStats.numSeries, 'none')), ' series, ',
          h('strong', null, formatValue(d.headStats.numLabelPairs, 'none')), ' label name/value pairs.'),
        h('div', {class: 'card-grid'},
          bars('Metrics by series', d.seriesCountByMetricName, 'The metric names with the most series.', explore),
          bars('Labels by distinct values', d.labelValueCountByLabelName, 'Labels that multiply series: high counts here are the usual cardinality problem.'),
          bars('Label pairs by series', d.seriesCountByLabelValuePair, 'The label name="value" pairs carried by the most series.'),
          d.seriesCountByLabelName ? bars('Labels by series', d.seriesCountByLabelName, 'Label names carried by the most series.') : null));
    } catch (e) {
      replace(card, h('div', {class: 'panel-error'}, errorText(e)));
    }
  }
  loadCard();
  return () => panels.forEach((p) => p.destroy());
}
