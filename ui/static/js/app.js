// The app shell: a router over location.pathname, the top navigation and
// the light/dark theme. Each page module exports mount(root, ctx) and
// returns a cleanup function; page state lives in the query string so
// every view can be shared as a URL.

import {h, replace, icon} from './dom.js';

const routes = [
  {re: /^\/$/, nav: 'home', load: () => import('./pages/home.js')},
  {re: /^\/explore$/, nav: 'explore', load: () => import('./pages/explore.js')},
  {re: /^\/dashboards$/, nav: 'dashboards', load: () => import('./pages/dashboards.js')},
  {re: /^\/dashboards\/([a-z0-9_-]+)(\/edit)?$/, nav: 'dashboards', load: () => import('./pages/dashboard.js')},
  {re: /^\/alerts$/, nav: 'alerts', load: () => import('./pages/alerts.js')},
  {re: /^\/status$/, nav: 'status', load: () => import('./pages/status.js')},
  {re: /^\/audit$/, nav: 'audit', load: () => import('./pages/audit.js')},
];

const NAV = [['home', '/', 'Home'], ['explore', '/explore', 'Explore'], ['dashboards', '/dashboards', 'Dashboards'],
  ['alerts', '/alerts', 'Alerts'], ['status', '/status', 'Status'], ['audit', '/audit', 'Audit']];

let cleanup = null;
let seq = 0;
const main = document.getElementById('main');
const navLinks = {};

/** navigate goes to url inside the app (pushState) and renders it. */
export function navigate(url, {replace: rep = false} = {}) {
  if (rep) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
}

/** setParams rewrites the query string without a reload or a history entry. */
export function setParams(params) {
  const qs = params.toString();
  history.replaceState(null, '', location.pathname + (qs ? '?' + qs : ''));
}

async function render() {
  const my = ++seq;
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const route = routes.find((r) => r.re.test(path));
  for (const [k, a] of Object.entries(navLinks)) a.setAttribute('aria-current', route && route.nav === k ? 'page' : 'false');
  if (!route) {
    replace(main, h('div', {class: 'page'}, h('h1', null, 'Page not found'), h('p', null, 'No page at ', h('code', null, path), '. ', h('a', {href: '/'}, 'Go home'))));
    return;
  }
  const match = path.match(route.re);
  replace(main, h('div', {class: 'page-loading'}, 'Loading…'));
  const mod = await route.load();
  if (my !== seq) return;
  const root = h('div', {class: 'page'});
  replace(main, root);
  cleanup = mod.mount(root, {params: new URLSearchParams(location.search), match, navigate, setParams});
  const title = root.querySelector('h1');
  document.title = (title ? title.textContent + ' · ' : '') + 'Stratus';
}

// Theme: the system preference unless the user picked one.
function applyTheme(t) {
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
  document.dispatchEvent(new CustomEvent('stratus:theme'));
}
function currentTheme() {
  return document.documentElement.dataset.theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
}

function header() {
  const nav = h('nav', {class: 'nav', 'aria-label': 'Main'}, NAV.map(([k, href, label]) => {
    navLinks[k] = h('a', {href, class: 'nav-link'}, label);
    return navLinks[k];
  }));
  const themeBtn = h('button', {type: 'button', class: 'btn btn-ghost btn-icon', title: 'Toggle light/dark theme', 'aria-label': 'Toggle light/dark theme',
    onclick: () => {
      const next = currentTheme() === 'dark' ? 'light' : 'dark';
      try { localStorage.setItem('stratus-theme', next); } catch { /* private mode */ }
      applyTheme(next);
      replace(themeBtn, icon(next === 'dark' ? 'sun' : 'moon'));
    }}, icon(currentTheme() === 'dark' ? 'sun' : 'moon'));
  return h('header', {class: 'topbar'},
    h('a', {href: '/', class: 'brand', 'aria-label': 'Stratus home'}, h('span', {class: 'brand-mark'}), 'Stratus'),
    nav, h('div', {class: 'topbar-right'}, h('kbd', {class: 'hint', title: 'Run the query'}, 'Ctrl+Enter runs'), themeBtn));
}

try { applyTheme(localStorage.getItem('stratus-theme')); } catch { /* private mode */ }
document.body.prepend(header());
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => document.dispatchEvent(new CustomEvent('stratus:theme')));

// Same-origin links that are app pages navigate without a reload.
document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/ui/') || url.pathname === '/metrics') return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', render);
render();
