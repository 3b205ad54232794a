// Home: the server's own ingest rate and series at a glance, alerts firing
// now and the dashboards to open next.

import {h, replace} from '../dom.js';
import {request, APIError} from '../api.js';
import {Panel} from '../panels.js';
import {card} from './dashboards.js';
import {ago} from '../format.js';

const STATS = [
  {title: 'Ingest rate', type: 'stat', width: 3, unit: 'ops', queries: [{expr: 'sum(rate(stratus_ingest_samples_accepted_total[1m])) or vector(0)'}]},
  {title: 'Active series', type: 'stat', width: 3, queries: [{expr: 'max(stratus_tsdb_head_series)'}]},
];
const CHARTS = [
  {title: 'Samples ingested per second', type: 'timeseries', width: 6, unit: 'ops', queries: [{expr: 'sum by (format) (rate(stratus_ingest_samples_accepted_total[1m]))', legend: '{{format}}'}]},
  {title: 'Active series', type: 'timeseries', width: 6, queries: [{expr: 'max(stratus_tsdb_head_series)', legend: 'series'}]},
];

export function mount(root) {
  const firing = h('section', {class: 'panel panel-stat', id: 'firing-count'}, h('header', {class: 'panel-head'}, h('h3', {class: 'panel-title'}, 'Firing alerts')), h('div', {class: 'panel-body'}, h('div', {class: 'stat-empty'}, '…')));
  const dashCount = h('section', {class: 'panel panel-stat'}, h('header', {class: 'panel-head'}, h('h3', {class: 'panel-title'}, 'Dashboards')), h('div', {class: 'panel-body'}, h('div', {class: 'stat-empty'}, '…')));
  firing.style.gridColumn = dashCount.style.gridColumn = 'span 3';
  const panels = [...STATS, ...CHARTS].map((s) => new Panel(s, {height: 200}));
  const grid = h('div', {class: 'grid'}, panels[0].el, panels[1].el, firing, dashCount, panels[2].el, panels[3].el);
  const alertsList = h('div', {class: 'home-alerts'});
  const dashList = h('div', {class: 'dash-list'});
  root.append(
    h('div', {class: 'page-head'}, h('div', null, h('h1', null, 'Overview'), h('p', {class: 'muted page-sub'}, 'This Stratus server over the last hour. Its own metrics are recorded every 10 s as job="stratus".')),
      h('div', {class: 'toolbar'}, h('a', {class: 'btn btn-primary', href: '/explore'}, 'Explore'))),
    grid,
    h('div', {class: 'two-col'},
      h('section', {class: 'section'}, h('h2', null, 'Alerts firing now'), alertsList),
      h('section', {class: 'section'}, h('h2', null, 'Dashboards'), dashList)));

  const load = () => {
    const end = Date.now();
    const ctx = {start: end - 3600e3, end, vars: {}};
    panels.forEach((p) => p.load(ctx));
    request('/api/v1/alerts').then((d) => {
      const list = (d.alerts || []).filter((a) => a.state === 'firing');
      const pending = (d.alerts || []).length - list.length;
      replace(firing.querySelector('.panel-body'), h('div', {class: 'stat-grid'}, h('div', {class: 'stat stat-' + (list.length ? 'critical' : 'ok')},
        h('div', {class: 'stat-value'}, String(list.length)), h('div', {class: 'stat-label'}, pending ? `${pending} pending` : 'none pending'))));
      replace(alertsList, list.length ? h('ul', {class: 'plain-list'}, list.slice(0, 8).map((a) => h('li', null,
        h('span', {class: 'badge state-firing'}, 'firing'), ' ', h('a', {href: '/alerts'}, a.labels.alertname || ''), ' ',
        h('span', {class: 'muted small'}, (a.annotations && a.annotations.summary) || '', ' · ', ago(Date.parse(a.activeAt))))))
        : h('p', {class: 'muted'}, 'Nothing is firing.'));
    }).catch((e) => {
      const na = e instanceof APIError && e.status === 404;
      replace(firing.querySelector('.panel-body'), h('div', {class: 'stat-empty'}, na ? 'Alerting API not available yet' : 'Unavailable'));
      replace(alertsList, h('p', {class: 'muted'}, na ? 'The alerting API (/api/v1/alerts) is not in this build yet.' : e.message));
    });
    request('/api/v1/dashboards').then((ds) => {
      replace(dashCount.querySelector('.panel-body'), h('div', {class: 'stat-grid'}, h('div', {class: 'stat stat-ok'}, h('div', {class: 'stat-value'}, String(ds.length)), h('div', {class: 'stat-label'}, 'built-in and saved'))));
      replace(dashList, ds.slice(0, 6).map(card));
    }).catch((e) => replace(dashList, h('p', {class: 'muted'}, e.message)));
  };
  load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, 30e3);
  return () => { clearInterval(timer); panels.forEach((p) => p.destroy()); };
}
