// The dashboard list: built-in and user dashboards, and "New dashboard".

import {h, replace, icon} from '../dom.js';
import {request} from '../api.js';
import {errorText} from '../panels.js';
import {ago} from '../format.js';

export function mount(root, {navigate}) {
  const list = h('div', {class: 'dash-list'}, h('div', {class: 'muted'}, 'Loading dashboards…'));
  const newId = h('input', {class: 'input', placeholder: 'new-dashboard-id', 'aria-label': 'New dashboard id', pattern: '[a-z0-9][a-z0-9_-]*'});
  const create = () => {
    const id = newId.value.trim() || 'dashboard-' + Date.now().toString(36);
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(id)) {
      newId.setCustomValidity('Use lower-case letters, digits, - or _');
      newId.reportValidity();
      return;
    }
    navigate(`/dashboards/${id}/edit?new=1`);
  };
  newId.addEventListener('input', () => newId.setCustomValidity(''));
  newId.addEventListener('keydown', (e) => { if (e.key === 'Enter') create(); });
  root.append(
    h('div', {class: 'page-head'}, h('h1', null, 'Dashboards'),
      h('div', {class: 'toolbar'}, newId, h('button', {type: 'button', class: 'btn btn-primary', onclick: create}, icon('plus'), 'New dashboard'))),
    list);
  request('/api/v1/dashboards').then((ds) => {
    if (!ds.length) return replace(list, h('p', {class: 'muted'}, 'No dashboards yet.'));
    replace(list, ds.map(card));
  }).catch((e) => replace(list, h('div', {class: 'panel-error'}, errorText(e))));
}

/** card renders one dashboard summary as a link. */
export function card(d) {
  return h('a', {class: 'dash-card card', href: `/dashboards/${d.id}`, dataset: {id: d.id}},
    h('div', {class: 'dash-card-head'}, h('h2', null, d.title),
      h('span', {class: 'badge ' + (d.source === 'user' ? 'badge-user' : 'badge-builtin')}, d.source === 'user' ? (d.builtin ? 'edited' : 'user') : 'built-in')),
    d.description ? h('p', {class: 'muted'}, d.description) : null,
    h('div', {class: 'dash-meta small muted'}, `${d.panels} panels`, d.updatedAt ? ` · saved ${ago(Date.parse(d.updatedAt))}` : '',
      (d.tags || []).map((t) => h('span', {class: 'tag'}, t))));
}
