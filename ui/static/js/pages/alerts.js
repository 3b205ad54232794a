// Alerts: firing and pending alerts (with a chart of the rule's expression
// around the time it became active), rules with their state and last
// evaluation, silences (create from an alert, list, expire) and recent
// notification deliveries. Endpoints that this build lacks answer 404 and
// their section says so.

import {h, replace, clear, icon} from '../dom.js';
import {request, queryRange, matrixToSeries, stepFor, APIError} from '../api.js';
import {TimeChart} from '../chart.js';
import {errorText} from '../panels.js';
import {ago, formatDateTime, formatValue, dur} from '../format.js';

function notAvailable(what, path) {
  return h('div', {class: 'notice'}, h('strong', null, 'Not available yet: '), `${what} (`, h('code', null, path), ') is not served by this Stratus build.');
}

function failure(e, what, path) {
  if (e instanceof APIError && e.status === 404) return notAvailable(what, path);
  return h('div', {class: 'panel-error', role: 'alert'}, errorText(e));
}

function labelChips(labels, skip = []) {
  return h('div', {class: 'chips'}, Object.keys(labels || {}).filter((k) => !skip.includes(k)).sort()
    .map((k) => h('span', {class: 'chip'}, h('span', {class: 'chip-k'}, k), '=', h('span', {class: 'chip-v'}, labels[k]))));
}

function safeLink(url, text) {
  try {
    const u = new URL(url, location.href);
    if (u.protocol === 'http:' || u.protocol === 'https:') return h('a', {href: u.href, target: '_blank', rel: 'noopener noreferrer'}, text || u.href);
  } catch { /* not a URL */ }
  return h('span', null, text || url);
}

const stateBadge = (s) => h('span', {class: `badge state-${s}`}, s);

export function mount(root, {params, setParams}) {
  const alertsBox = h('div', {id: 'alerts-list'}, h('div', {class: 'muted'}, 'Loading…'));
  const rulesBox = h('div', {id: 'rules-list'});
  const silencesBox = h('div', {id: 'silences-list'});
  const notifBox = h('div', {id: 'notifications-list'});
  const formBox = h('div', {id: 'silence-form-box'});
  let rulesByName = new Map();
  const charts = [];
  let timer = null;

  const section = (title, id, ...body) => h('section', {class: 'section', id}, h('h2', null, title), ...body);
  root.append(
    h('div', {class: 'page-head'}, h('h1', null, 'Alerts'),
      h('div', {class: 'toolbar'},
        h('button', {type: 'button', class: 'btn', id: 'new-silence', onclick: () => silenceForm({})}, icon('mute'), 'New silence'),
        h('button', {type: 'button', class: 'btn', onclick: () => load()}, icon('refresh'), 'Refresh'))),
    formBox,
    section('Firing and pending', 'sec-alerts', alertsBox),
    section('Silences', 'sec-silences', silencesBox),
    section('Rules', 'sec-rules', rulesBox),
    section('Recent notifications', 'sec-notifications', notifBox));

  async function load() {
    charts.splice(0).forEach((c) => c.destroy());
    await Promise.all([loadRules(), loadSilences(), loadNotifications()]);
    await loadAlerts();
  }

  async function loadRules() {
    try {
      const d = await request('/api/v1/rules');
      rulesByName = new Map();
      const groups = d.groups || [];
      const rows = [];
      for (const g of groups) {
        for (const r of g.rules || []) {
          if (r.type === 'alerting') rulesByName.set(r.name, r);
          rows.push(h('tr', {class: 'rule-row'},
            h('td', null, h('div', {class: 'rule-name'}, r.name), h('div', {class: 'muted small'}, `${g.name}${g.file ? ' · ' + g.file : ''}`)),
            h('td', null, r.type === 'alerting' ? stateBadge(r.state || 'inactive') : h('span', {class: 'badge'}, 'recording')),
            h('td', null, h('code', {class: 'expr'}, r.query), r.duration ? h('div', {class: 'muted small'}, `for ${dur(r.duration)}`) : null,
              r.lastError ? h('div', {class: 'panel-error small'}, r.lastError) : null),
            h('td', {class: 'nowrap'}, h('span', {class: `badge health-${r.health || 'unknown'}`}, r.health || 'unknown')),
            h('td', {class: 'nowrap', title: r.lastEvaluation || ''}, r.lastEvaluation && !r.lastEvaluation.startsWith('0001') ? ago(Date.parse(r.lastEvaluation)) : 'never',
              r.evaluationTime !== undefined ? h('div', {class: 'muted small'}, formatValue(r.evaluationTime, 's')) : null)));
        }
      }
      replace(rulesBox, rows.length ? h('div', {class: 'table-wrap card'}, h('table', {class: 'table'},
        h('thead', null, h('tr', null, ['Rule', 'State', 'Expression', 'Health', 'Last evaluation'].map((t) => h('th', null, t)))),
        h('tbody', null, rows))) : h('p', {class: 'muted'}, 'No rules loaded.'));
    } catch (e) {
      replace(rulesBox, failure(e, 'the rules API', '/api/v1/rules'));
    }
  }

  async function loadAlerts() {
    try {
      const d = await request('/api/v1/alerts');
      const alerts = (d.alerts || []).slice().sort((a, b) => (a.state === 'firing' ? 0 : 1) - (b.state === 'firing' ? 0 : 1) || Date.parse(a.activeAt) - Date.parse(b.activeAt));
      if (!alerts.length) return replace(alertsBox, h('div', {class: 'empty-state'}, 'No alerts are firing or pending.'));
      replace(alertsBox, alerts.map(alertCard));
    } catch (e) {
      replace(alertsBox, failure(e, 'the alerts API', '/api/v1/alerts'));
    }
  }

  function alertCard(a) {
    const name = a.labels.alertname || '(unnamed)';
    const chartBox = h('div', {class: 'alert-chart'});
    const rule = rulesByName.get(name);
    const ann = a.annotations || {};
    const card = h('article', {class: `alert-card card state-${a.state}`, dataset: {alertname: name}},
      h('header', {class: 'alert-head'}, stateBadge(a.state), h('h3', null, name),
        h('span', {class: 'muted small', title: a.activeAt}, `active since ${formatDateTime(Date.parse(a.activeAt))} (${ago(Date.parse(a.activeAt))})`),
        a.value !== undefined ? h('span', {class: 'alert-value'}, 'value ', formatValue(parseFloat(a.value))) : null,
        h('span', {class: 'spacer'}),
        h('button', {type: 'button', class: 'btn btn-small', onclick: () => silenceForm(a.labels)}, icon('mute'), 'Silence'),
        rule ? h('button', {type: 'button', class: 'btn btn-small btn-ghost', onclick: () => showChart(a, rule, chartBox)}, 'Chart') : null),
      ann.summary ? h('p', {class: 'alert-summary'}, ann.summary) : null,
      ann.description ? h('p', {class: 'muted'}, ann.description) : null,
      labelChips(a.labels, ['alertname']),
      Object.keys(ann).filter((k) => !['summary', 'description'].includes(k)).map((k) =>
        h('div', {class: 'small'}, h('span', {class: 'muted'}, k + ': '), /_url$|^runbook/.test(k) ? safeLink(ann[k]) : ann[k])),
      chartBox);
    if (rule) showChart(a, rule, chartBox);
    return card;
  }

  async function showChart(a, rule, box) {
    if (box.dataset.shown) return;
    box.dataset.shown = '1';
    const active = Date.parse(a.activeAt);
    const end = Date.now();
    const start = Math.min(active - 30 * 60e3, end - 60 * 60e3);
    const step = stepFor(start, end, 300);
    // The rule's expression without its comparison, so the chart shows the
    // value against the threshold rather than only the firing series.
    try {
      const d = await queryRange(rule.query, start, end, step);
      const series = matrixToSeries(d.result);
      const c = new TimeChart(box, {height: 160});
      c.setData(series, start, end, step);
      charts.push(c);
      box.append(h('div', {class: 'muted small'}, 'Expression ', h('code', null, rule.query), ` from ${formatDateTime(start)}; active since ${formatDateTime(active)}.`));
    } catch (e) {
      replace(box, h('div', {class: 'panel-error small'}, errorText(e)));
    }
  }

  async function loadSilences() {
    try {
      const d = await request('/api/v1/silences');
      const list = (Array.isArray(d) ? d : d.silences || []).slice()
        .sort((a, b) => stateOrder(a) - stateOrder(b) || Date.parse(b.endsAt) - Date.parse(a.endsAt));
      if (!list.length) return replace(silencesBox, h('p', {class: 'muted'}, 'No silences.'));
      replace(silencesBox, h('div', {class: 'table-wrap card'}, h('table', {class: 'table'},
        h('thead', null, h('tr', null, ['State', 'Matchers', 'Ends', 'Created by', 'Comment', ''].map((t) => h('th', null, t)))),
        h('tbody', null, list.map((s) => {
          const st = (s.status && s.status.state) || 'active';
          return h('tr', {class: 'silence-row', dataset: {id: s.id, state: st}},
            h('td', null, h('span', {class: `badge silence-${st}`}, st)),
            h('td', null, h('div', {class: 'chips'}, (s.matchers || []).map((m) => h('span', {class: 'chip'},
              h('span', {class: 'chip-k'}, m.name), m.isEqual === false ? (m.isRegex ? '!~' : '!=') : (m.isRegex ? '=~' : '='), h('span', {class: 'chip-v'}, m.value))))),
            h('td', {class: 'nowrap', title: s.endsAt}, formatDateTime(Date.parse(s.endsAt)), h('div', {class: 'muted small'}, ago(Date.parse(s.endsAt)))),
            h('td', null, s.createdBy || ''),
            h('td', null, s.comment || ''),
            h('td', null, st !== 'expired' ? h('button', {type: 'button', class: 'btn btn-small btn-danger expire', onclick: () => expire(s.id)}, 'Expire') : null));
        })))));
    } catch (e) {
      replace(silencesBox, failure(e, 'the silences API', '/api/v1/silences'));
    }
  }
  const stateOrder = (s) => ({active: 0, pending: 1, expired: 2}[(s.status && s.status.state) || 'active'] ?? 3);

  async function expire(id) {
    try {
      await request(`/api/v1/silence/${encodeURIComponent(id)}`, {method: 'DELETE'});
      await loadSilences();
    } catch (e) {
      replace(formBox, failure(e, 'expiring silences', '/api/v1/silence/{id}'));
    }
  }

  function silenceForm(labels) {
    const rows = h('div', {class: 'matcher-rows'});
    const addRow = (name = '', value = '', op = '=') => {
      const row = h('div', {class: 'matcher-row'},
        h('input', {class: 'input m-name', value: name, placeholder: 'label', 'aria-label': 'Label name'}),
        h('select', {class: 'select m-op', 'aria-label': 'Operator'}, ['=', '!=', '=~', '!~'].map((o) => h('option', {value: o, selected: o === op}, o))),
        h('input', {class: 'input m-value', value, placeholder: 'value', 'aria-label': 'Label value'}),
        h('button', {type: 'button', class: 'btn btn-ghost btn-icon', 'aria-label': 'Remove matcher', onclick: () => row.remove()}, icon('x')));
      rows.append(row);
    };
    const keys = Object.keys(labels).sort((a, b) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a.localeCompare(b)));
    keys.forEach((k) => addRow(k, labels[k]));
    if (!keys.length) addRow('alertname');
    const duration = h('select', {class: 'select', 'aria-label': 'Duration'}, ['1h', '2h', '4h', '8h', '24h', '3d', '7d'].map((d) => h('option', {value: d, selected: d === '2h'}, d)));
    const by = h('input', {class: 'input', id: 'silence-by', placeholder: 'your name', 'aria-label': 'Created by', value: localStorage.getItem('stratus-user') || ''});
    const comment = h('input', {class: 'input', id: 'silence-comment', placeholder: 'why (ticket, maintenance…)', 'aria-label': 'Comment'});
    const err = h('div', {class: 'panel-error', hidden: true, role: 'alert'});
    const submit = async () => {
      const matchers = [...rows.querySelectorAll('.matcher-row')].map((r) => {
        const op = r.querySelector('.m-op').value;
        return {name: r.querySelector('.m-name').value.trim(), value: r.querySelector('.m-value').value, isRegex: op.includes('~'), isEqual: !op.startsWith('!')};
      }).filter((m) => m.name);
      const hours = {h: 1, d: 24}[duration.value.slice(-1)] * parseInt(duration.value, 10);
      const now = new Date();
      try {
        if (!matchers.length) throw new Error('Add at least one matcher.');
        if (!by.value.trim()) throw new Error('Say who creates the silence.');
        try { localStorage.setItem('stratus-user', by.value.trim()); } catch { /* private mode */ }
        await request('/api/v1/silences', {method: 'POST', json: {matchers, startsAt: now.toISOString(),
          endsAt: new Date(now.getTime() + hours * 3600e3).toISOString(), createdBy: by.value.trim(), comment: comment.value.trim()}});
        clear(formBox);
        await loadSilences();
        await loadAlerts();
      } catch (e) {
        err.hidden = false;
        replace(err, e instanceof APIError && e.status === 404 ? notAvailable('creating silences', 'POST /api/v1/silences') : errorText(e));
      }
    };
    replace(formBox, h('div', {class: 'card silence-form', id: 'silence-form'},
      h('h2', null, 'New silence'),
      h('p', {class: 'muted small'}, 'Alerts matching every matcher are not notified while the silence is active; they still show here.'),
      rows,
      h('button', {type: 'button', class: 'btn btn-ghost btn-small', onclick: () => addRow()}, icon('plus'), 'Matcher'),
      h('div', {class: 'form-row'}, h('label', null, 'Duration', duration), h('label', null, 'Created by', by), h('label', {class: 'grow'}, 'Comment', comment)),
      err,
      h('div', {class: 'form-actions'},
        h('button', {type: 'button', class: 'btn btn-primary', id: 'create-silence', onclick: submit}, 'Create silence'),
        h('button', {type: 'button', class: 'btn btn-ghost', onclick: () => clear(formBox)}, 'Cancel'))));
    formBox.scrollIntoView({block: 'nearest'});
  }

  async function loadNotifications() {
    try {
      const d = await request('/api/v1/notifications');
      const list = Array.isArray(d) ? d : d.notifications || [];
      if (!list.length) return replace(notifBox, h('p', {class: 'muted'}, 'No notifications sent yet.'));
      replace(notifBox, h('div', {class: 'table-wrap card'}, h('table', {class: 'table'},
        h('thead', null, h('tr', null, ['When', 'Receiver', 'Delivery', 'Alerts', 'Attempts', 'Last error'].map((t) => h('th', null, t)))),
        h('tbody', null, list.slice(0, 200).map((n) => h('tr', null,
          h('td', {class: 'nowrap', title: n.createdAt}, formatDateTime(Date.parse(n.updatedAt || n.createdAt))),
          h('td', null, n.receiver || '', n.groupKey ? h('div', {class: 'muted small'}, n.groupKey) : null),
          h('td', null, h('span', {class: `badge delivery-${n.status}`}, n.status || '?'), n.alertStatus ? h('span', {class: `badge state-${n.alertStatus}`}, n.alertStatus) : null),
          h('td', {class: 'num'}, n.alerts ?? ''),
          h('td', {class: 'num'}, n.attempts ?? ''),
          h('td', {class: 'small'}, n.lastError || (n.nextAttemptAt ? `next attempt ${ago(Date.parse(n.nextAttemptAt))}` : ''))))))));
    } catch (e) {
      replace(notifBox, failure(e, 'the notification log', '/api/v1/notifications'));
    }
  }

  load();
  timer = setInterval(() => { if (!document.hidden && !formBox.firstChild) load(); }, 30e3);
  return () => { clearInterval(timer); charts.forEach((c) => c.destroy()); };
}
