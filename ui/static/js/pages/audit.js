// Audit: the tamper-evident trail of changes and admin calls (rules,
// silences, dashboards, configuration loads), newest first, with the
// chain's verification at the top. Before and after of a change open on
// demand. Reading it needs the admin role; others see why they cannot.

import {h, replace} from '../dom.js';
import {request} from '../api.js';
import {errorText} from '../panels.js';
import {formatDateTime, ago} from '../format.js';

export function mount(root) {
  const verify = h('div', {id: 'audit-verify', class: 'card'}, 'Checking the chain…');
  const list = h('div', {id: 'audit-list'}, h('p', {class: 'muted'}, 'Loading…'));
  root.append(
    h('div', {class: 'page-head'}, h('h1', null, 'Audit trail'),
      h('p', {class: 'page-sub muted'}, 'Every change and admin call, chained by SHA-256 so that an edited or removed entry shows.')),
    h('section', {class: 'section'}, verify),
    h('section', {class: 'section'}, list));

  request('/api/v1/audit/verify').then((v) => {
    replace(verify, v.ok
      ? h('p', {class: 'stat-ok'}, h('strong', null, 'Chain intact. '), `${v.entries} entries verified; last hash `, h('code', null, (v.last_hash || '').slice(0, 16) + '…'))
      : h('p', {class: 'stat-critical'}, h('strong', null, 'Chain broken. '), `First bad entry: ${v.broken_at}. ${v.reason}`));
  }).catch((e) => replace(verify, h('div', {class: 'panel-error'}, errorText(e))));

  request('/api/v1/audit', {params: {limit: 500}}).then((entries) => {
    if (!entries.length) return replace(list, h('p', {class: 'muted'}, 'No entries yet.'));
    replace(list, h('div', {class: 'table-wrap card'}, h('table', {class: 'table audit-table'},
      h('thead', null, h('tr', null, ['#', 'When', 'Who', 'Tenant', 'From', 'Action', 'Status', ''].map((t) => h('th', null, t)))),
      h('tbody', null, entries.slice().reverse().flatMap((e) => {
        const detail = h('tr', {class: 'audit-detail', hidden: true}, h('td', {colspan: 8},
          h('div', {class: 'two-col'},
            h('div', null, h('h3', null, 'Before'), h('pre', {class: 'config'}, pretty(e.before) || '—')),
            h('div', null, h('h3', null, 'After'), h('pre', {class: 'config'}, pretty(e.after) || '—'))),
          h('p', {class: 'muted small'}, 'Hash ', h('code', null, e.hash), ' follows ', h('code', null, e.prev || '(first entry)'))));
        const ok = e.status === 0 || (e.status >= 200 && e.status < 300);
        const row = h('tr', {class: 'audit-row', dataset: {seq: e.seq}},
          h('td', {class: 'num'}, String(e.seq)),
          h('td', {class: 'nowrap', title: e.time}, formatDateTime(Date.parse(e.time)), h('div', {class: 'muted small'}, ago(Date.parse(e.time)))),
          h('td', null, e.actor),
          h('td', null, e.tenant),
          h('td', null, e.remote || ''),
          h('td', null, h('code', null, e.action)),
          h('td', null, h('span', {class: 'badge' + (ok ? '' : ' state-firing')}, e.status ? String(e.status) : 'system')),
          h('td', null, (e.before || e.after) ? h('button', {type: 'button', class: 'btn btn-small btn-ghost', onclick: () => { detail.hidden = !detail.hidden; }}, 'Details') : null));
        return [row, detail];
      })))));
  }).catch((e) => replace(list, h('div', {class: 'panel-error'}, errorText(e))));
  return () => {};
}

// pretty indents JSON for reading; other text is shown as it is.
function pretty(s) {
  if (!s) return '';
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}
