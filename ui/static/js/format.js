// Value and time formatting shared by charts, stats and tables.

const SI = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];

function trim(n, digits) {
  const s = n.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function short(v, digits = 2) {
  const a = Math.abs(v);
  for (const [f, s] of SI) if (a >= f) return trim(v / f, digits) + s;
  if (a === 0) return '0';
  if (a < 0.001) return v.toExponential(1);
  return trim(v, a < 1 ? 3 : a >= 100 ? 0 : a >= 10 ? 1 : digits);
}

/**
 * formatValue formats v for a unit: short (default), s (seconds), percent
 * (0-100), percentunit (0-1), bytes, reqps, ops, none.
 */
export function formatValue(v, unit = 'short', digits = 2) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  switch (unit) {
    case 'none': return String(v);
    case 'percent': return trim(v, 1) + '%';
    case 'percentunit': return trim(v * 100, Math.abs(v) < 0.01 ? 3 : 1) + '%';
    case 'bytes': {
      const a = Math.abs(v);
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let i = 0, x = a;
      while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
      return (v < 0 ? '-' : '') + trim(x, 1) + ' ' + units[i];
    }
    case 's': {
      const a = Math.abs(v);
      if (a === 0) return '0s';
      if (a < 1e-3) return trim(v * 1e6, 0) + 'µs';
      if (a < 1) return trim(v * 1e3, 1) + 'ms';
      if (a < 60) return trim(v, 2) + 's';
      if (a < 3600) return trim(v / 60, 1) + 'm';
      if (a < 86400) return trim(v / 3600, 1) + 'h';
      return trim(v / 86400, 1) + 'd';
    }
    case 'reqps': return short(v, digits) + ' req/s';
    case 'ops': return short(v, digits) + '/s';
    default: return short(v, digits);
  }
}

const pad = (n) => String(n).padStart(2, '0');

/** formatTime formats ms as HH:MM (or with seconds / date for spans). */
export function formatTime(ms, spanMs = 3600e3) {
  const d = new Date(ms);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (spanMs <= 5 * 60e3) return `${hm}:${pad(d.getSeconds())}`;
  if (spanMs > 2 * 86400e3) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
  return hm;
}

/** formatDateTime formats ms as YYYY-MM-DD HH:MM:SS, local time. */
export function formatDateTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** ago formats the time since ms ("3m ago"). */
export function ago(ms, now = Date.now()) {
  const s = Math.round((now - ms) / 1000);
  if (!Number.isFinite(s)) return '–';
  if (s < 0) return 'in ' + dur(-s);
  return dur(s) + ' ago';
}

/** dur formats seconds as 1d2h, 3h4m, 5m6s or 7s. */
export function dur(s) {
  s = Math.round(s);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60 ? (s % 60) + 's' : '');
  if (s < 86400) return Math.floor(s / 3600) + 'h' + (Math.floor(s / 60) % 60 ? (Math.floor(s / 60) % 60) + 'm' : '');
  return Math.floor(s / 86400) + 'd' + (Math.floor(s / 3600) % 24 ? (Math.floor(s / 3600) % 24) + 'h' : '');
}

/** parseDuration parses "5m", "1h30m", "2d" into ms; NaN if invalid. */
export function parseDuration(s) {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g;
  const f = {ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, y: 365 * 86400e3};
  let total = 0, m, consumed = 0;
  while ((m = re.exec(s)) !== null) {
    total += parseFloat(m[1]) * f[m[2]];
    consumed += m[0].length;
  }
  return consumed === s.length && consumed > 0 ? total : NaN;
}
