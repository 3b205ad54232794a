// HTTP API client: the same public endpoints any Stratus client uses.

/** APIError carries the HTTP status, Prometheus errorType and, for PromQL
 * parse errors, the 1-based line and column the server reported. */
export class APIError extends Error {
  constructor(message, {status = 0, type = '', position = null} = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.position = position;
  }
  /** notAvailable is true when the endpoint does not exist in this build. */
  get notAvailable() {
    return this.status === 404 && this.type !== 'not_found';
  }
}

/** parsePosition finds "LINE:COL: parse error" in a PromQL error message. */
export function parsePosition(msg) {
  const m = /(\d+):(\d+): parse error/.exec(msg || '');
  return m ? {line: +m[1], col: +m[2]} : null;
}

/**
 * request calls path and returns the envelope's data (or the body when it
 * has no envelope). Options: method, params (query string or form body for
 * POST), json (body), signal.
 */
export async function request(path, {method = 'GET', params, json, signal} = {}) {
  let url = path;
  const init = {method, signal, headers: {Accept: 'application/json'}};
  if (params && method === 'GET') {
    const qs = toSearch(params).toString();
    if (qs) url += '?' + qs;
  } else if (params) {
    init.body = toSearch(params);
  }
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  }
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new APIError(`Cannot reach Stratus: ${e.message}`, {status: 0, type: 'network'});
  }
  const text = await resp.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!resp.ok || (body && body.status === 'error')) {
    const msg = (body && body.error) || text.trim() || `${resp.status} ${resp.statusText}`;
    throw new APIError(msg, {status: resp.status, type: (body && body.errorType) || '', position: parsePosition(msg)});
  }
  if (body && typeof body === 'object' && 'status' in body && 'data' in body) {
    if (body.warnings && body.warnings.length) {
      Object.defineProperty(body.data, '__warnings', {value: body.warnings, enumerable: false});
    }
    return body.data;
  }
  return body;
}

function toSearch(params) {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((x) => sp.append(k, x));
    else sp.append(k, String(v));
  }
  return sp;
}

/** queryRange runs a PromQL range query; times in ms, step in seconds. */
export function queryRange(query, start, end, step, signal) {
  return request('/api/v1/query_range', {
    method: 'POST', signal,
    params: {query, start: start / 1000, end: end / 1000, step},
  });
}

/** queryInstant runs a PromQL instant query at time (ms). */
export function queryInstant(query, time, signal) {
  return request('/api/v1/query', {method: 'POST', signal, params: {query, time: time / 1000}});
}

/** stepFor picks a step giving about `points` points over [start, end]. */
export function stepFor(start, end, points = 300) {
  const raw = Math.max(1, (end - start) / 1000 / points);
  const nice = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  return nice.find((s) => s >= raw) || Math.ceil(raw);
}

/** matrixToSeries turns a Prometheus matrix into chart series. */
export function matrixToSeries(result, legend) {
  return result.map((r) => {
    const n = r.values.length;
    const ts = new Float64Array(n);
    const vals = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      ts[i] = r.values[i][0] * 1000;
      vals[i] = parseFloat(r.values[i][1]);
    }
    return {labels: r.metric, name: seriesName(r.metric, legend), ts, vals};
  });
}

/** seriesName renders a legend template ("{{country}}") or the label set. */
export function seriesName(metric, legend) {
  if (legend) {
    const s = legend.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, k) => metric[k] ?? '');
    if (s.trim()) return s;
  }
  return labelString(metric);
}

/** labelString formats a label set as name{a="b", c="d"}. */
export function labelString(metric) {
  const name = metric.__name__ || '';
  const rest = Object.keys(metric).filter((k) => k !== '__name__').sort()
    .map((k) => `${k}=${JSON.stringify(metric[k])}`);
  if (!rest.length) return name || '{}';
  return `${name}{${rest.join(', ')}}`;
}
