// PromQL editor help: metric-name, function and label completion from the
// label and series APIs, and the position of a parse error.

import {request} from './api.js';

export const FUNCTIONS = ['abs', 'absent', 'absent_over_time', 'avg_over_time', 'ceil', 'changes', 'clamp', 'clamp_max',
  'clamp_min', 'count_over_time', 'day_of_month', 'day_of_week', 'delta', 'deriv', 'exp', 'floor', 'histogram_quantile',
  'holt_winters', 'hour', 'idelta', 'increase', 'irate', 'label_join', 'label_replace', 'last_over_time', 'ln', 'log2',
  'log10', 'max_over_time', 'min_over_time', 'minute', 'month', 'predict_linear', 'quantile_over_time', 'rate', 'resets',
  'round', 'scalar', 'sgn', 'sort', 'sort_desc', 'sqrt', 'stddev_over_time', 'sum_over_time', 'time', 'timestamp', 'vector', 'year'];
export const AGGREGATIONS = ['sum', 'avg', 'min', 'max', 'count', 'count_values', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'limitk'];
export const KEYWORDS = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless'];

const metricCache = {names: null, at: 0};
const labelCache = new Map(); // metric -> Promise<Map<label, Set<value>>>

/** metricNames returns the metric names, cached for a minute. */
export async function metricNames() {
  if (!metricCache.names || Date.now() - metricCache.at > 60e3) {
    metricCache.at = Date.now();
    metricCache.names = request('/api/v1/label/__name__/values').catch(() => []);
  }
  return metricCache.names;
}

/** labelsFor returns label name -> values of a metric's series (last 6h). */
export function labelsFor(metric) {
  const key = metric || '';
  if (!labelCache.has(key)) {
    const start = Math.floor(Date.now() / 1000) - 6 * 3600;
    const p = metric
      ? request('/api/v1/series', {params: {'match[]': metric, start}}).then((series) => {
        const m = new Map();
        for (const s of series.slice(0, 5000)) {
          for (const [k, v] of Object.entries(s)) {
            if (k === '__name__') continue;
            if (!m.has(k)) m.set(k, new Set());
            m.get(k).add(v);
          }
        }
        return m;
      })
      : request('/api/v1/labels').then((names) => new Map(names.filter((n) => n !== '__name__').map((n) => [n, null])));
    labelCache.set(key, p.catch(() => new Map()));
    setTimeout(() => labelCache.delete(key), 60e3);
  }
  return labelCache.get(key);
}

/**
 * context describes what is being typed at the cursor: {kind: 'metric'|
 * 'label'|'value', prefix, from, metric, label}. from is the offset where
 * the completed token starts.
 */
export function context(text, cursor) {
  const before = text.slice(0, cursor);
  // Inside an unclosed {...}?
  let depth = 0, open = -1, inStr = false;
  for (let i = 0; i < before.length; i++) {
    const c = before[i];
    if (inStr) { if (c === '\\') i++; else if (c === inStr) inStr = false; continue; }
    if (c === '"' || c === "'" || c === '`') inStr = c;
    else if (c === '{') { depth++; open = i; } else if (c === '}') { depth--; }
  }
  if (depth > 0 && open >= 0) {
    const metric = (/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(before.slice(0, open)) || [])[1] || '';
    const inner = before.slice(open + 1);
    const val = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)$/.exec(inner);
    if (val) return {kind: 'value', metric, label: val[1], prefix: val[3], from: cursor - val[3].length};
    const lab = /(?:^|[,{\s])([a-zA-Z_][a-zA-Z0-9_]*)?$/.exec(inner);
    if (lab && !inStr) return {kind: 'label', metric, prefix: lab[1] || '', from: cursor - (lab[1] || '').length};
    return null;
  }
  if (inStr) return null;
  // by (...) / without (...) grouping labels.
  const grp = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*?)([a-zA-Z_][a-zA-Z0-9_]*)?$/.exec(before);
  if (grp) return {kind: 'label', metric: firstMetric(text), prefix: grp[2] || '', from: cursor - (grp[2] || '').length};
  const w = /([a-zA-Z_:][a-zA-Z0-9_:]*)$/.exec(before);
  if (!w) return null;
  return {kind: 'metric', prefix: w[1], from: cursor - w[1].length};
}

function firstMetric(text) {
  const all = text.match(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*[{[])/g) || [];
  return all.find((n) => !FUNCTIONS.includes(n) && !AGGREGATIONS.includes(n) && !KEYWORDS.includes(n)) || '';
}

/** suggestions returns up to limit completions [{text, kind, insert}]. */
export async function suggestions(text, cursor, limit = 40) {
  const ctx = context(text, cursor);
  if (!ctx) return {ctx: null, items: []};
  const p = ctx.prefix.toLowerCase();
  const rank = (list, kind) => list.filter((x) => x.toLowerCase().includes(p))
    .sort((a, b) => (b.toLowerCase().startsWith(p) - a.toLowerCase().startsWith(p)) || a.localeCompare(b))
    .map((x) => ({text: x, kind}));
  let items = [];
  if (ctx.kind === 'metric') {
    if (!p) return {ctx, items: []};
    const names = await metricNames();
    items = [...rank(names, 'metric'), ...rank([...FUNCTIONS, ...AGGREGATIONS], 'function'), ...rank(KEYWORDS, 'keyword')];
  } else if (ctx.kind === 'label') {
    const m = await labelsFor(ctx.metric);
    items = rank([...m.keys()], 'label');
  } else {
    const m = await labelsFor(ctx.metric);
    let vals = m.get(ctx.label);
    if (vals === null || (vals === undefined && !ctx.metric)) {
      vals = await request(`/api/v1/label/${encodeURIComponent(ctx.label)}/values`).catch(() => []);
    }
    items = rank([...(vals || [])], 'value');
  }
  items = items.filter((it) => it.text !== ctx.prefix);
  return {ctx, items: items.slice(0, limit)};
}

/** offsetOf converts a 1-based line/column into a string offset. */
export function offsetOf(text, line, col) {
  const lines = text.split('\n');
  let off = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += lines[i].length + 1;
  return Math.min(text.length, off + Math.max(0, col - 1));
}
