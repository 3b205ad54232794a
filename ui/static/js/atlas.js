// Atlas stack language in the UI: series from the graph API's JSON, the URL
// of its server-rendered PNG, completion of words and tags (from the tags
// API), and the position of an error. Alert rules and dashboard panels mark
// a stack expression with an "atlas:" prefix; Explore has a language toggle.

import {request} from './api.js';

/** PREFIX marks a stack expression where PromQL is the default. */
export const PREFIX = 'atlas:';

/** isAtlas reports whether expr carries the atlas: prefix. */
export function isAtlas(expr) {
  return typeof expr === 'string' && expr.trimStart().startsWith(PREFIX);
}

/** stripPrefix returns expr without its atlas: prefix. */
export function stripPrefix(expr) {
  return isAtlas(expr) ? expr.trimStart().slice(PREFIX.length).trim() : expr;
}

/** WORDS are the vocabulary, by kind, for completion and the help line. */
export const WORDS = {
  query: ['eq', 're', 'reic', 'in', 'has', 'contains', 'starts', 'ends', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'not', 'true', 'false'],
  data: ['sum', 'count', 'min', 'max', 'avg', 'all', 'by', 'offset', 'cf-avg', 'cf-sum', 'cf-min', 'cf-max'],
  math: ['add', 'sub', 'mul', 'div', 'pow', 'fadd', 'fsub', 'fmul', 'fdiv', 'abs', 'neg', 'sqrt', 'per-step', 'clamp-min', 'clamp-max',
    'stddev', 'pct', 'dist-avg', 'dist-max', 'dist-stddev', 'percentiles', 'median', 'sample-count', 'const', 'cq'],
  stateful: ['rolling-count', 'rolling-min', 'rolling-max', 'rolling-mean', 'rolling-sum', 'delay', 'derivative', 'integral', 'trend',
    'des', 'sdes', 'des-fast', 'des-slow', 'des-epic-signal'],
  filter: ['stat', 'stat-avg', 'stat-max', 'stat-min', 'stat-last', 'stat-total', 'stat-count', 'filter', 'topk', 'bottomk',
    'topk-others-sum', 'bottomk-others-sum', 'head'],
  style: ['legend', 'color', 'alpha', 'ls', 'lw', 'axis', 'palette', 'line', 'area', 'stack', 'vspan', 's', 'decode'],
  stack: ['dup', 'swap', 'drop', 'over', 'rot', '-rot', '2over', 'clear', 'depth', 'each', 'map', 'get', 'set', 'call', 'format'],
};

/**
 * graphParams are the graph API parameters for q over [start, end] ms.
 * Without a step (seconds) the server picks one as Atlas does: never below
 * the data's one-minute step, where a finer step would leave gaps, and no
 * more points than width pixels.
 */
export function graphParams(q, start, end, step, width) {
  const p = {q, s: String(Math.floor(start)), e: String(Math.ceil(end))};
  if (step) p.step = step + 's';
  if (width) p.w = String(Math.max(100, Math.min(4000, Math.round(width))));
  return p;
}

/**
 * graphSeries evaluates q with the graph API (format=json) and returns
 * {series: [{name, labels, ts, vals}], step} with the step in seconds. The
 * JSON is Atlas's: start and step in ms, legend[], metrics[] (tags) and
 * values[step][series], with non-finite values as strings.
 */
export async function graphSeries(q, start, end, {step, width, signal} = {}) {
  const d = await request('/api/v1/graph', {params: {...graphParams(q, start, end, step, width), format: 'json'}, signal});
  const legend = d.legend || [], metrics = d.metrics || [], rows = d.values || [];
  const series = legend.map((name, i) => {
    const ts = new Float64Array(rows.length), vals = new Float64Array(rows.length);
    for (let j = 0; j < rows.length; j++) {
      const v = rows[j][i];
      ts[j] = d.start + j * d.step;
      vals[j] = typeof v === 'number' ? v : NaN;
    }
    return {name, labels: atlasLabels(metrics[i] || {}), ts, vals};
  });
  return {series, step: d.step / 1000};
}

/** atlasLabels shows Atlas's name tag as __name__, as PromQL results do. */
function atlasLabels(tags) {
  const out = {};
  for (const [k, v] of Object.entries(tags)) out[k === 'name' ? '__name__' : k] = v;
  return out;
}

/**
 * graphURL is the URL of the server-rendered chart of q: format png or svg,
 * w and h the plot size in pixels, theme light or dark.
 */
export function graphURL(q, start, end, step, {format = 'png', w, h, theme} = {}) {
  const p = new URLSearchParams(graphParams(q, start, end, step, w));
  p.set('format', format);
  if (h) p.set('h', String(Math.round(h)));
  if (theme === 'dark') p.set('theme', 'dark');
  return '/api/v1/graph?' + p.toString();
}

/**
 * errorOffset finds where a stack-language error points: the graph API
 * ends its messages with "(token I, offset O)", O a byte offset into q.
 */
export function errorOffset(msg) {
  const m = /\(token \d+, offset (\d+)\)\s*$/.exec(msg || '');
  return m ? +m[1] : null;
}

const tagCache = new Map(); // path -> Promise<string[]>

function tags(path) {
  if (!tagCache.has(path)) {
    tagCache.set(path, request(path, {params: {limit: 1000}}).catch(() => []));
    setTimeout(() => tagCache.delete(path), 60e3);
  }
  return tagCache.get(path);
}

/**
 * suggestions completes the token at the cursor: a word after ":", the
 * values of a tag key when the token before is a key (name,ht -> values of
 * name), or tag keys. Returns {ctx: {from}, items: [{text, kind}]}.
 */
export async function suggestions(text, cursor, limit = 40) {
  const before = text.slice(0, cursor);
  const start = before.lastIndexOf(',') + 1;
  const token = before.slice(start).replace(/^\s+/, '');
  const from = cursor - token.length;
  if (token === '(' || token === ')') return {ctx: null, items: []};
  const rank = (list, kind, prefix) => {
    const p = prefix.toLowerCase();
    return list.filter((x) => x.toLowerCase().includes(p) && x !== prefix)
      .sort((a, b) => (b.toLowerCase().startsWith(p) - a.toLowerCase().startsWith(p)) || a.localeCompare(b))
      .map((x) => ({text: x, kind}));
  };
  let items = [];
  if (token.startsWith(':')) {
    for (const [kind, words] of Object.entries(WORDS)) items.push(...rank(words.map((w) => ':' + w), kind, token));
    // Words that start with what was typed come first, whatever their kind.
    items.sort((a, b) => b.text.startsWith(token) - a.text.startsWith(token));
  } else if (token) {
    const prev = before.slice(0, Math.max(0, start - 1));
    const key = prev.slice(prev.lastIndexOf(',') + 1).trim();
    const keys = await tags('/api/v1/tags');
    if (key && !key.startsWith(':') && keys.includes(key)) {
      items = rank(await tags('/api/v1/tags/' + encodeURIComponent(key)), 'value', token);
    } else {
      items = rank(keys, 'tag', token);
    }
  }
  return {ctx: {from}, items: items.slice(0, limit)};
}
