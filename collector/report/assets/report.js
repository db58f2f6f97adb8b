// The mlcost report page: plain browser JavaScript (an ES module, no build step, no dependency), served by the
// collector with index.html and report.css. It reads the filters from the URL (?window=7d&namespace=a,b&by=team),
// asks the collector's aggregated endpoints once each, in parallel, and draws every section from their answers:
//
//   /api/v1/allocation?step=…   cost over time (the chart), totals per namespace or team, over-requests
//   /report/waste               GPUs held but idle, GPUs nobody held (summed per pod / node by the collector)
//   /api/v1/rightsizing         the savings list, each patch copyable
//   /api/v1/nodes               GPU fleet activity, and whether the data is simulated
//   /api/v1/models, /jobs       served models' cost per 1M tokens, training jobs
//
// A relative window (7d) is turned into whole UTC hours ending at the next hour, so every request asks for the
// same range and the collector answers from its hourly roll-ups. Every number shown also sits, unrounded, in its
// cell's data-value attribute.

const LOCALE = 'en-US';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DEFAULT_WINDOW = '7d';
const TOP = 10;
const MAX_ROWS = 100;
const PALETTE = ['#0b5cad', '#e07b00', '#00876c', '#c2477f', '#3f9bd6', '#b8420f', '#6a4c93', '#8c6d00'];
const OTHER_COLOUR = '#8a9099';
const IDLE_ACTIVITY = 0.01;
const SVG_NS = 'http://www.w3.org/2000/svg';

let currency = 'USD';

// ---------------------------------------------------------------------------------------------------------------
// Formatting

const formatters = new Map();
function formatter(key, options) {
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(LOCALE, options);
    formatters.set(key, f);
  }
  return f;
}

/** $1,234.56; amounts under one cent keep two significant digits ($0.0042). */
function money(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const small = value !== 0 && Math.abs(value) < 0.01;
  return formatter(`money:${currency}:${small}`, {
    style: 'currency',
    currency,
    ...(small ? { maximumSignificantDigits: 2 } : { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  }).format(value);
}

/** Whole currency units for the chart's axis: $4,000. */
function axisMoney(value) {
  return formatter(`axis:${currency}`, { style: 'currency', currency, maximumFractionDigits: 0 }).format(
    value,
  );
}

function percent(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return formatter('percent', { style: 'percent', maximumFractionDigits: 0 }).format(value);
}

function number(value, digits = 1) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return formatter(`number:${digits}`, { maximumFractionDigits: digits }).format(value);
}

function compact(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return formatter('compact', { notation: 'compact', maximumFractionDigits: 1 }).format(value);
}

function gib(bytes) {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  return `${number(bytes / 2 ** 30, 1)} GiB`;
}

const pad = (n) => String(n).padStart(2, '0');

/** 2026-11-29 14:00 (UTC). */
function dateTime(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const shortDay = (ms) => `${MONTHS[new Date(ms).getUTCMonth()]} ${new Date(ms).getUTCDate()}`;
const shortHour = (ms) => `${pad(new Date(ms).getUTCHours())}:00`;

// ---------------------------------------------------------------------------------------------------------------
// The range the URL asks for

const UNITS = { y: 365 * DAY, w: 7 * DAY, d: DAY, h: HOUR, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds of a Prometheus duration (1h30m, 7d), or null. */
function parseDuration(text) {
  if (!/^(\d+(ms|y|w|d|h|m|s))+$/.test(text)) return null;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(n) * UNITS[unit];
  return total > 0 ? total : null;
}

function parseInstant(text) {
  const t = text.trim();
  if (/^\d{1,12}$/.test(t)) return Number(t) * 1000;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

const iso = (ms) => new Date(ms).toISOString();
const ceilHour = (ms) => Math.ceil(ms / HOUR) * HOUR;
const dayStart = (ms) => Math.floor(ms / DAY) * DAY;
const monthStart = (ms) => Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), 1);

const WINDOW_NAMES = {
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '14d': 'Last 14 days',
  '30d': 'Last 30 days',
  today: 'Today',
  yesterday: 'Yesterday',
  month: 'This month',
  lastmonth: 'Last month',
};

/**
 * The absolute range for a `window` as the API reads it ([now − d, now) for a duration; UTC calendar ranges),
 * with the end moved up to the next whole hour. Null start/end when the text is not understood: it is then sent
 * as it is and the collector says what is wrong.
 */
function resolveWindow(text, now = Date.now()) {
  const end = ceilHour(now);
  let range = null;
  const duration = parseDuration(text);
  if (duration !== null) range = { start: end - duration, end };
  else if (text === 'today') range = { start: dayStart(now), end };
  else if (text === 'yesterday') range = { start: dayStart(now) - DAY, end: dayStart(now) };
  else if (text === 'month') range = { start: monthStart(now), end };
  else if (text === 'lastmonth') range = { start: monthStart(monthStart(now) - 1), end: monthStart(now) };
  else if (text.includes(',')) {
    const [a, b] = text.split(',');
    const start = parseInstant(a ?? '');
    const stop = parseInstant(b ?? '');
    if (start !== null && stop !== null && stop > start)
      return { start, end: stop, query: text, label: 'Custom range' };
  }
  if (!range || !(range.end > range.start)) return { start: null, end: null, query: text, label: text };
  return {
    ...range,
    query: `${iso(range.start)},${iso(range.end)}`,
    label: WINDOW_NAMES[text] ?? `Last ${text}`,
  };
}

/** Hourly up to 8 days, then 6-hourly up to 32 days, then daily: at most a few hundred bars. */
function stepFor(range) {
  if (range.start === null) return { param: '1h', ms: HOUR, label: 'hour' };
  const span = range.end - range.start;
  if (span <= 8 * DAY) return { param: '1h', ms: HOUR, label: 'hour' };
  if (span <= 32 * DAY) return { param: '6h', ms: 6 * HOUR, label: '6 hours' };
  return { param: '1d', ms: DAY, label: 'day' };
}

// ---------------------------------------------------------------------------------------------------------------
// DOM helpers

const $ = (id) => document.getElementById(id);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function setText(id, text) {
  const node = $(id);
  if (node) node.textContent = text;
}

/**
 * A semantic table. columns: { key, label, num?, format?(row) → text, value?(row) → number, cell?(row) → Node,
 * abbr? }. Number cells carry their unrounded value in data-value; every cell names its column in data-col.
 */
function table({ caption, columns, rows, rowKey, foot, testid }) {
  const head = el(
    'tr',
    {},
    columns.map((c) => el('th', { scope: 'col', class: c.num ? 'num' : null, abbr: c.abbr }, c.label)),
  );
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr', { 'data-key': rowKey ? rowKey(row) : null });
    columns.forEach((c, i) => {
      const value = c.value ? c.value(row) : undefined;
      const content = c.cell ? c.cell(row) : c.format ? c.format(row) : '';
      const attributes = {
        class: [c.num ? 'num' : null, c.className ?? null].filter(Boolean).join(' ') || null,
        'data-col': c.key,
        'data-value': value === undefined || value === null ? null : String(value),
      };
      tr.append(
        i === 0 && c.rowHeader !== false
          ? el('th', { scope: 'row', ...attributes }, content)
          : el('td', attributes, content),
      );
    });
    body.append(tr);
  }
  const parts = [el('caption', {}, caption), el('thead', {}, head), body];
  if (foot) {
    const tr = el('tr');
    columns.forEach((c, i) => {
      const cell = foot[c.key];
      const value = cell && typeof cell === 'object' ? cell.value : undefined;
      const text = cell && typeof cell === 'object' ? cell.text : (cell ?? '');
      const attributes = {
        class: c.num ? 'num' : null,
        'data-col': c.key,
        'data-value': value === undefined || value === null ? null : String(value),
      };
      tr.append(i === 0 ? el('th', { scope: 'row', ...attributes }, text) : el('td', attributes, text));
    });
    parts.push(el('tfoot', {}, tr));
  }
  return el('table', { 'data-testid': testid }, parts);
}

function fill(id, ...nodes) {
  const node = $(id);
  node.replaceChildren(...nodes);
}

function empty(text) {
  return el('p', { class: 'empty' }, text);
}

function done(sectionId) {
  $(sectionId)?.setAttribute('aria-busy', 'false');
}

/** One message per distinct error: a bad window refused by four endpoints is said once, naming all four. */
const errorsShown = new Map();
function showError(what, error) {
  const known = errorsShown.get(error.message);
  if (known) {
    known.whats.push(what);
    known.node.textContent = `Could not load ${known.whats.join(', ')}: ${error.message}`;
    return;
  }
  const node = el('p', {}, `Could not load ${what}: ${error.message}`);
  errorsShown.set(error.message, { whats: [what], node });
  $('errors').append(node);
}

// ---------------------------------------------------------------------------------------------------------------
// Fetching

async function getJson(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  const text = await response.text();
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = JSON.parse(text);
      if (problem.detail)
        detail = `${problem.status ?? response.status} ${problem.title ?? ''}: ${problem.detail}`;
    } catch {
      // not problem+json: the status line says enough
    }
    throw new Error(detail);
  }
  return JSON.parse(text);
}

// ---------------------------------------------------------------------------------------------------------------
// Cost over time

const OTHER = 'other';
const groupLabel = (name, by) =>
  name === '__unallocated__' ? (by === 'team' ? '(no team label)' : '(unallocated)') : name;

/** Per group over every set: the sums the totals table and the over-request table need. */
function groupTotals(sets) {
  const groups = new Map();
  for (const set of sets) {
    for (const [name, row] of Object.entries(set)) {
      let g = groups.get(name);
      if (!g) {
        g = {
          name,
          cpuCost: 0,
          ramCost: 0,
          gpuCost: 0,
          pvCost: 0,
          totalCost: 0,
          cpuCoreUsageHours: 0,
          cpuCoreRequestHours: 0,
          ramByteUsageHours: 0,
          ramByteRequestHours: 0,
          gpuHours: 0,
          gpuActiveHours: 0,
          gpuMeasuredHours: 0,
          unusedCpuCoreHours: 0,
          unusedRamByteHours: 0,
          unusedRequestCost: 0,
        };
        groups.set(name, g);
      }
      for (const key of [
        'cpuCost',
        'ramCost',
        'gpuCost',
        'pvCost',
        'totalCost',
        'cpuCoreUsageHours',
        'cpuCoreRequestHours',
        'ramByteUsageHours',
        'ramByteRequestHours',
        'gpuHours',
        'gpuActiveHours',
        'gpuMeasuredHours',
      ]) {
        g[key] += row[key] ?? 0;
      }
      const waste = overRequest(row);
      g.unusedCpuCoreHours += waste.cpuCoreHours;
      g.unusedRamByteHours += waste.ramByteHours;
      g.unusedRequestCost += waste.cost;
    }
  }
  for (const g of groups.values()) {
    g.cpuEfficiency = efficiency(g.cpuCoreUsageHours, g.cpuCoreRequestHours);
    g.ramEfficiency = efficiency(g.ramByteUsageHours, g.ramByteRequestHours);
    g.gpuEfficiency = g.gpuMeasuredHours > 0 ? g.gpuActiveHours / g.gpuMeasuredHours : null;
  }
  return [...groups.values()].sort((a, b) => b.totalCost - a.totalCost || a.name.localeCompare(b.name));
}

/** usage / request, as the API computes it: no request → 1 when anything was used, else 0. */
function efficiency(usage, request) {
  if (request > 0) return usage / request;
  return usage > 0 ? 1 : 0;
}

/**
 * What one allocation row requested and did not use, and what that part cost: the unused request-hours of CPU and
 * memory at the row's own price per core-hour and byte-hour (its cost over what it was charged for).
 */
function overRequest(row) {
  const cpuCoreHours = Math.max(0, (row.cpuCoreRequestHours ?? 0) - (row.cpuCoreUsageHours ?? 0));
  const ramByteHours = Math.max(0, (row.ramByteRequestHours ?? 0) - (row.ramByteUsageHours ?? 0));
  const cpuPrice = row.cpuCoreHours > 0 ? (row.cpuCost - (row.cpuIdleCost ?? 0)) / row.cpuCoreHours : 0;
  const ramPrice = row.ramByteHours > 0 ? (row.ramCost - (row.ramIdleCost ?? 0)) / row.ramByteHours : 0;
  return { cpuCoreHours, ramByteHours, cost: cpuCoreHours * cpuPrice + ramByteHours * ramPrice };
}

function niceStep(max, ticks) {
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function drawChart(allocation, groups, colours, by, step) {
  const sets = allocation.data;
  const start = Date.parse(allocation.window.start);
  const stepMs = allocation.step * 1000;
  const shown = new Set(groups.filter((g) => colours.has(g.name)).map((g) => g.name));
  const order = [...shown, OTHER];
  const stacks = sets.map((set) => {
    const values = new Map();
    for (const [name, row] of Object.entries(set)) {
      const key = shown.has(name) ? name : OTHER;
      values.set(key, (values.get(key) ?? 0) + row.totalCost);
    }
    return values;
  });
  const max = Math.max(0, ...stacks.map((v) => [...v.values()].reduce((a, b) => a + b, 0)));
  const W = 1240;
  const H = 320;
  const m = { left: 72, right: 12, top: 12, bottom: 30 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;
  const tick = max > 0 ? niceStep(max, 5) : 1;
  const top = max > 0 ? Math.ceil(max / tick) * tick : 1;
  const y = (v) => m.top + plotH - (v / top) * plotH;
  const barW = plotW / Math.max(1, sets.length);
  const title = svg('title', { id: 'cost-chart-title' });
  title.textContent = `Cost per ${step.label} by ${by}`;
  const desc = svg('desc', { id: 'cost-chart-desc' });
  desc.textContent = `Stacked bars, one per ${step.label} from ${dateTime(start)} UTC, of the cost of the ${shown.size} costliest ${by === 'team' ? 'teams' : 'namespaces'}${groups.length > shown.size ? ' and the rest together' : ''}. The table after the chart lists the totals.`;
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-labelledby': 'cost-chart-title cost-chart-desc',
    'data-testid': 'cost-chart',
    'data-max': max,
  });
  root.append(title, desc);
  const grid = svg('g', { 'aria-hidden': 'true' });
  for (let v = 0; v <= top + tick / 2; v += tick) {
    grid.append(
      svg('line', { x1: m.left, x2: W - m.right, y1: y(v), y2: y(v), stroke: '#d0d5db', 'stroke-width': 1 }),
    );
    const label = svg('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' });
    label.textContent = tick >= 1 ? axisMoney(v) : money(v);
    grid.append(label);
  }
  // x labels: days for ranges of two days or more, else every few hours
  const span = sets.length * stepMs;
  const every = span >= 2 * DAY ? DAY : span > 12 * HOUR ? 3 * HOUR : HOUR;
  const labelEvery = Math.max(1, Math.ceil((span / every) * (60 / plotW)));
  let labelIndex = 0;
  for (let t = Math.ceil(start / every) * every; t < start + span; t += every) {
    const x = m.left + ((t - start) / span) * plotW;
    grid.append(svg('line', { x1: x, x2: x, y1: m.top + plotH, y2: m.top + plotH + 4, stroke: '#4a5058' }));
    if (labelIndex++ % labelEvery === 0) {
      const label = svg('text', { x, y: H - 10, 'text-anchor': 'middle' });
      label.textContent = every >= DAY ? shortDay(t) : shortHour(t);
      grid.append(label);
    }
  }
  grid.append(
    svg('line', { x1: m.left, x2: W - m.right, y1: m.top + plotH, y2: m.top + plotH, stroke: '#4a5058' }),
  );
  root.append(grid);
  const bars = svg('g', { 'data-testid': 'cost-bars' });
  stacks.forEach((values, i) => {
    let base = 0;
    const at = start + i * stepMs;
    for (const name of order) {
      const value = values.get(name);
      if (!value) continue;
      const rect = svg('rect', {
        x: (m.left + i * barW + Math.min(1, barW * 0.1)).toFixed(2),
        width: Math.max(0.5, barW - Math.min(2, barW * 0.2)).toFixed(2),
        y: y(base + value).toFixed(2),
        height: Math.max(0, y(base) - y(base + value)).toFixed(2),
        fill: name === OTHER ? OTHER_COLOUR : colours.get(name),
        'data-group': name,
        'data-start': iso(at),
        'data-value': value,
      });
      const tip = svg('title');
      tip.textContent = `${name === OTHER ? 'other' : groupLabel(name, by)}, ${dateTime(at)} UTC: ${money(value)}`;
      rect.append(tip);
      bars.append(rect);
      base += value;
    }
  });
  root.append(bars);
  return root;
}

function renderCost(allocation, by, step, namespaces) {
  const groups = groupTotals(allocation.data);
  const colours = new Map();
  const named = groups.length > PALETTE.length + 1 ? PALETTE.length : groups.length;
  groups.slice(0, named).forEach((g, i) => {
    colours.set(g.name, PALETTE[i % PALETTE.length]);
  });
  const total = groups.reduce((sum, g) => sum + g.totalCost, 0);
  const gpu = groups.reduce((sum, g) => sum + g.gpuCost, 0);
  const noun = by === 'team' ? 'team' : 'namespace';
  setText('cost-by', by === 'team' ? 'team' : 'namespace');
  setText(
    'cost-lead',
    `${money(total)} in ${groups.length} ${noun === 'team' ? 'teams' : 'namespaces'}${namespaces.length ? ` (namespace ${namespaces.join(', ')})` : ''}, one bar per ${step.label}. Idle capacity nobody held is not in these figures; the waste section shows GPUs nobody held.`,
  );
  if (groups.length === 0) {
    fill('cost-chart', empty('No cost in this window.'));
    fill('cost-legend');
    fill('cost-table');
    return { total, gpu, groups };
  }
  fill('cost-chart', drawChart(allocation, groups, colours, noun, step));
  const legend = groups
    .slice(0, named)
    .map((g) =>
      el(
        'li',
        {},
        el('span', { class: 'swatch', 'aria-hidden': 'true', 'data-colour': colours.get(g.name) }),
        groupLabel(g.name, by),
      ),
    );
  if (groups.length > named)
    legend.push(
      el(
        'li',
        {},
        el('span', { class: 'swatch', 'aria-hidden': 'true', 'data-colour': OTHER_COLOUR }),
        'other',
      ),
    );
  fill('cost-legend', ...legend);
  // Swatch colours through the CSSOM (allowed by the page's CSP, unlike style attributes).
  for (const swatch of $('cost-legend').querySelectorAll('.swatch')) {
    swatch.style.background = swatch.dataset.colour;
  }
  const sum = (key) => groups.reduce((s, g) => s + g[key], 0);
  const columns = [
    { key: 'name', label: by === 'team' ? 'Team' : 'Namespace', format: (g) => groupLabel(g.name, by) },
    { key: 'cpuCost', label: 'CPU', num: true, value: (g) => g.cpuCost, format: (g) => money(g.cpuCost) },
    { key: 'ramCost', label: 'Memory', num: true, value: (g) => g.ramCost, format: (g) => money(g.ramCost) },
    { key: 'gpuCost', label: 'GPU', num: true, value: (g) => g.gpuCost, format: (g) => money(g.gpuCost) },
    { key: 'pvCost', label: 'Storage', num: true, value: (g) => g.pvCost, format: (g) => money(g.pvCost) },
    {
      key: 'totalCost',
      label: 'Total',
      num: true,
      value: (g) => g.totalCost,
      format: (g) => money(g.totalCost),
    },
    {
      key: 'share',
      label: 'Share',
      num: true,
      value: (g) => (total > 0 ? g.totalCost / total : 0),
      format: (g) => percent(total > 0 ? g.totalCost / total : 0),
    },
    {
      key: 'cpuEfficiency',
      label: 'CPU used / requested',
      abbr: 'CPU efficiency',
      num: true,
      value: (g) => g.cpuEfficiency,
      format: (g) => percent(g.cpuEfficiency),
    },
    {
      key: 'ramEfficiency',
      label: 'Memory used / requested',
      abbr: 'Memory efficiency',
      num: true,
      value: (g) => g.ramEfficiency,
      format: (g) => percent(g.ramEfficiency),
    },
    {
      key: 'gpuEfficiency',
      label: 'GPU activity',
      num: true,
      value: (g) => g.gpuEfficiency,
      format: (g) => percent(g.gpuEfficiency),
    },
  ];
  fill(
    'cost-table',
    table({
      caption: `Cost by ${noun} over the whole window (the chart's data). GPU activity is the mean activity of the GPUs held.`,
      columns,
      rows: groups,
      rowKey: (g) => g.name,
      testid: 'cost-table',
      foot: {
        name: 'Total',
        cpuCost: { text: money(sum('cpuCost')), value: sum('cpuCost') },
        ramCost: { text: money(sum('ramCost')), value: sum('ramCost') },
        gpuCost: { text: money(sum('gpuCost')), value: sum('gpuCost') },
        pvCost: { text: money(sum('pvCost')), value: sum('pvCost') },
        totalCost: { text: money(total), value: total },
      },
    }),
  );
  return { total, gpu, groups };
}

// ---------------------------------------------------------------------------------------------------------------
// Waste

function renderWaste(waste, cost, by) {
  const held = waste.heldIdle;
  fill(
    'held-idle-table',
    held.rows === 0
      ? empty('No GPU was held idle in this window.')
      : table({
          caption: `The ${Math.min(held.top.length, TOP)} costliest of ${held.rows} pods that held GPUs below 1% activity (each pod's idle GPU-hours and their cost).`,
          testid: 'held-idle-table',
          rowKey: (r) => `${r.namespace}/${r.pod}/${r.node}`,
          rows: held.top,
          columns: [
            {
              key: 'pod',
              label: 'Pod',
              cell: (r) => el('span', {}, el('span', { class: 'muted' }, `${r.namespace}/`), r.pod),
            },
            { key: 'gpus', label: 'GPUs', format: (r) => `${r.units} × ${r.gpus.join(', ')}` },
            { key: 'node', label: 'Node', format: (r) => r.node },
            {
              key: 'gpuHours',
              label: 'GPU-hours',
              num: true,
              value: (r) => r.gpuHours,
              format: (r) => number(r.gpuHours),
            },
            {
              key: 'activity',
              label: 'Activity',
              num: true,
              value: (r) => r.activity,
              format: (r) => percent(r.activity),
            },
            { key: 'cost', label: 'Cost', num: true, value: (r) => r.cost, format: (r) => money(r.cost) },
          ],
          foot: {
            pod: `All ${held.rows} pods`,
            gpuHours: { text: number(held.gpuHours), value: held.gpuHours },
            cost: { text: money(held.cost), value: held.cost },
          },
        }),
  );
  const free = waste.free;
  fill(
    'free-table',
    free === null
      ? empty('GPUs nobody held belong to no namespace: clear the namespace filter to see them.')
      : free.rows === 0
        ? empty('No GPU capacity went unheld in this window.')
        : table({
            caption: `The ${Math.min(free.top.length, TOP)} costliest of ${free.rows} nodes with GPUs (or MIG capacity) nobody held.`,
            testid: 'free-table',
            rowKey: (r) => r.node,
            rows: free.top,
            columns: [
              { key: 'node', label: 'Node', format: (r) => r.node },
              { key: 'gpus', label: 'GPUs', format: (r) => `${r.units} × ${r.gpus.join(', ')}` },
              {
                key: 'gpuHours',
                label: 'GPU-hours',
                num: true,
                value: (r) => r.gpuHours,
                format: (r) => number(r.gpuHours),
              },
              { key: 'cost', label: 'Cost', num: true, value: (r) => r.cost, format: (r) => money(r.cost) },
            ],
            foot: {
              node: `All ${free.rows} nodes`,
              gpuHours: { text: number(free.gpuHours), value: free.gpuHours },
              cost: { text: money(free.cost), value: free.cost },
            },
          }),
  );
  const hours = (Date.parse(waste.window.end) - Date.parse(waste.window.start)) / HOUR;
  const over = cost.groups
    .filter((g) => g.unusedRequestCost > 0)
    .sort((a, b) => b.unusedRequestCost - a.unusedRequestCost);
  const overTotal = over.reduce((s, g) => s + g.unusedRequestCost, 0);
  fill(
    'over-request-table',
    over.length === 0
      ? empty('Nothing requested more CPU or memory than it used.')
      : table({
          caption: `Requests above use, per ${by} and chart step (averages over the window), and what the unused part cost. The savings list says which containers to change.`,
          testid: 'over-request-table',
          rowKey: (g) => g.name,
          rows: over.slice(0, TOP),
          columns: [
            {
              key: 'name',
              label: by === 'team' ? 'Team' : 'Namespace',
              format: (g) => groupLabel(g.name, by),
            },
            {
              key: 'cpuRequest',
              label: 'CPU requested',
              num: true,
              value: (g) => g.cpuCoreRequestHours / hours,
              format: (g) => `${number(g.cpuCoreRequestHours / hours)} cores`,
            },
            {
              key: 'cpuUsage',
              label: 'CPU used',
              num: true,
              value: (g) => g.cpuCoreUsageHours / hours,
              format: (g) => `${number(g.cpuCoreUsageHours / hours)} cores`,
            },
            {
              key: 'ramRequest',
              label: 'Memory requested',
              num: true,
              value: (g) => g.ramByteRequestHours / hours,
              format: (g) => gib(g.ramByteRequestHours / hours),
            },
            {
              key: 'ramUsage',
              label: 'Memory used',
              num: true,
              value: (g) => g.ramByteUsageHours / hours,
              format: (g) => gib(g.ramByteUsageHours / hours),
            },
            {
              key: 'unusedRequestCost',
              label: 'Unused, cost',
              num: true,
              value: (g) => g.unusedRequestCost,
              format: (g) => money(g.unusedRequestCost),
            },
          ],
          foot: {
            name: `All ${over.length}`,
            unusedRequestCost: { text: money(overTotal), value: overTotal },
          },
        }),
  );
  const total = held.cost + (free?.cost ?? 0) + overTotal;
  setText(
    'waste-lead',
    `${money(total)} in the window: ${money(held.cost)} for GPUs held but idle, ${free ? `${money(free.cost)} for GPUs nobody held, ` : ''}${money(overTotal)} for CPU and memory requested but not used.`,
  );
  return total;
}

// ---------------------------------------------------------------------------------------------------------------
// Savings

const KIND_NAMES = {
  'cpu-memory': 'CPU and memory requests',
  'gpu-idle': 'Idle GPU',
  'gpu-count': 'GPU count',
  'mig-profile': 'MIG slice',
  'gpu-sharing': 'GPU sharing',
  'gpu-model': 'GPU model',
  replicas: 'Replicas',
  abandoned: 'Abandoned workload',
};

function valuesText(values) {
  if (!values) return '—';
  const parts = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined) continue;
    if (key === 'cpuCores') parts.push(`${number(value, 3)} CPU`);
    else if (key === 'memoryBytes') parts.push(gib(value));
    else if (key === 'gpus') parts.push(`${number(value, 2)} GPU`);
    else if (key === 'replicas') parts.push(`${value} ${value === 1 ? 'replica' : 'replicas'}`);
    else if (key === 'hourly') parts.push(`${money(value)}/h`);
    else if (key === 'gpuShare') parts.push(`${number(value, 3)} of a GPU`);
    else if (key === 'replicasPerGpu') parts.push(`${value} per GPU`);
    else if (key === 'idleHours') parts.push(`idle ${number(value, 1)} h`);
    else if (key === 'migProfile') parts.push(`MIG ${value}`);
    else if (key === 'gpu' || key === 'gpuModel' || key === 'gpuResource' || key === 'sharingMode')
      parts.push(String(value));
    else if (typeof value === 'object') parts.push(`${key} ${JSON.stringify(value)}`);
    else parts.push(`${key} ${value}`);
  }
  return parts.length ? parts.join(', ') : '—';
}

const workloadOf = (target) =>
  `${target.namespace}/${target.kind}/${target.name}${target.container ? ` (${target.container})` : ''}`;

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall back below
    }
  }
  const area = el('textarea', { readonly: true, 'aria-hidden': 'true', class: 'visually-hidden' });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

function copyButton(rec) {
  const button = el(
    'button',
    {
      type: 'button',
      class: 'secondary copy',
      'data-testid': 'copy-patch',
      'aria-label': `Copy the patch for ${workloadOf(rec.target)}`,
    },
    'Copy patch',
  );
  button.addEventListener('click', async () => {
    const ok = await copyText(rec.patch.command);
    const status = $('copy-status');
    status.textContent = ok
      ? `Copied the patch for ${workloadOf(rec.target)}.`
      : `Could not copy: select the command under "Show" and copy it.`;
    button.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => {
      button.textContent = 'Copy patch';
    }, 2500);
  });
  return button;
}

function renderSavings(report) {
  const recs = [...report.recommendations].sort(
    (a, b) => b.monthlySaving - a.monthlySaving || a.id.localeCompare(b.id),
  );
  const total = report.summary.monthlySaving;
  setText(
    'savings-lead',
    `${report.summary.recommendations} recommendations save ${money(total)} a month (730 hours), from ${number(report.historyHours, 0)} hours of history; ${report.summary.notEnoughData} workloads have too little history yet. Each patch is a kubectl command: copy it, review it, apply it.${recs.length > MAX_ROWS ? ` The ${MAX_ROWS} largest are listed; all of them: /api/v1/rightsizing?format=csv.` : ''}`,
  );
  if (recs.length === 0) {
    fill('savings-table', empty('No recommendation: nothing to change.'));
    return total;
  }
  fill(
    'savings-table',
    table({
      caption: `Recommendations, largest monthly saving first (${Math.min(recs.length, MAX_ROWS)} of ${recs.length}).`,
      testid: 'savings-table',
      rowKey: (r) => r.id,
      rows: recs.slice(0, MAX_ROWS),
      columns: [
        { key: 'workload', label: 'Workload', format: (r) => workloadOf(r.target) },
        { key: 'kind', label: 'Change', format: (r) => `${KIND_NAMES[r.kind] ?? r.kind}: ${r.action}` },
        {
          key: 'values',
          label: 'Now → proposed',
          cell: (r) =>
            el(
              'span',
              {},
              el('span', { 'data-part': 'current' }, valuesText(r.current)),
              ' → ',
              el('span', { 'data-part': 'proposed' }, valuesText(r.proposed)),
            ),
        },
        {
          key: 'monthlySaving',
          label: 'Saving / month',
          num: true,
          value: (r) => r.monthlySaving,
          format: (r) => money(r.monthlySaving),
        },
        {
          key: 'confidence',
          label: 'Confidence',
          value: (r) => r.confidence.value,
          format: (r) => `${r.confidence.label} (${percent(r.confidence.value)})`,
        },
        { key: 'reason', label: 'Why', className: 'reason', format: (r) => r.reason },
        {
          key: 'patch',
          label: 'Patch',
          className: 'patch',
          cell: (r) =>
            r.patch?.command
              ? el(
                  'div',
                  {},
                  el('div', { class: 'actions' }, copyButton(r)),
                  el(
                    'details',
                    {},
                    el('summary', {}, 'Show'),
                    el('pre', {}, el('code', {}, r.patch.command)),
                  ),
                )
              : el('span', { class: 'muted' }, 'none'),
        },
      ],
      foot: { workload: 'Total, every recommendation', monthlySaving: { text: money(total), value: total } },
    }),
  );
  return total;
}

// ---------------------------------------------------------------------------------------------------------------
// GPU fleet

/** Physical GPUs of a node (MIG slices folded into their GPU): activity, held, memory. */
function physicalGpus(node) {
  const byUuid = new Map();
  for (const g of node.gpus) {
    let p = byUuid.get(g.uuid);
    if (!p) {
      p = {
        uuid: g.uuid,
        model: g.model,
        activity: null,
        held: false,
        memoryUsed: 0,
        memoryTotal: 0,
        slices: 0,
      };
      byUuid.set(g.uuid, p);
    }
    if (!g.migProfile) {
      p.activity = g.activity;
      p.memoryUsed = g.memoryUsedBytes ?? 0;
      p.memoryTotal = g.memoryTotalBytes ?? 0;
    } else p.slices++;
    if (g.holders.length > 0) p.held = true;
  }
  return [...byUuid.values()];
}

function nodeActivity(node) {
  const gpus = physicalGpus(node);
  const known = gpus.filter((g) => g.activity !== null);
  return {
    gpus,
    held: gpus.filter((g) => g.held).length,
    heldIdle: gpus.filter((g) => g.held && g.activity !== null && g.activity < IDLE_ACTIVITY).length,
    activity: known.length ? known.reduce((s, g) => s + g.activity, 0) / known.length : null,
    memoryUsed: gpus.reduce((s, g) => s + g.memoryUsed, 0),
    memoryTotal: gpus.reduce((s, g) => s + g.memoryTotal, 0),
    model: [...new Set(gpus.map((g) => g.model ?? 'GPU'))].join(', '),
  };
}

function activityColour(activity) {
  if (activity === null) return '#ffffff';
  const t = Math.max(0, Math.min(1, activity));
  // from pale blue-grey (idle) to the accent blue (busy)
  const mix = (a, b) => Math.round(a + (b - a) * t);
  return `rgb(${mix(226, 11)} ${mix(232, 92)} ${mix(240, 173)})`;
}

function gpuStrip(gpus) {
  const size = 12;
  const root = svg('svg', {
    width: gpus.length * (size + 2),
    height: size + 2,
    'aria-hidden': 'true',
    class: 'gpu-strip',
  });
  gpus.forEach((g, i) => {
    const rect = svg('rect', {
      x: i * (size + 2) + 1,
      y: 1,
      width: size,
      height: size,
      rx: 2,
      fill: activityColour(g.activity),
      stroke: g.held ? '#1b1f24' : '#8a9099',
      'stroke-width': g.held ? 1.5 : 1,
      'stroke-dasharray': g.held ? null : '2 1',
    });
    const tip = svg('title');
    tip.textContent = `${g.model ?? 'GPU'}: ${g.held ? 'held' : 'not held'}, activity ${percent(g.activity)}`;
    rect.append(tip);
    root.append(rect);
  });
  return root;
}

function renderFleet(nodesAnswer) {
  const nodes = nodesAnswer.nodes.filter((n) => n.gpus.length > 0);
  const rows = nodes.map((n) => ({ node: n, ...nodeActivity(n) }));
  const models = new Map();
  for (const r of rows) {
    for (const g of r.gpus) {
      const key = g.model ?? 'GPU';
      let m = models.get(key);
      if (!m) {
        m = { model: key, nodes: new Set(), gpus: 0, held: 0, heldIdle: 0, activitySum: 0, known: 0 };
        models.set(key, m);
      }
      m.nodes.add(r.node.name);
      m.gpus++;
      if (g.held) m.held++;
      if (g.held && g.activity !== null && g.activity < IDLE_ACTIVITY) m.heldIdle++;
      if (g.activity !== null) {
        m.activitySum += g.activity;
        m.known++;
      }
    }
  }
  const summary = [...models.values()]
    .map((m) => ({ ...m, nodes: m.nodes.size, activity: m.known ? m.activitySum / m.known : null }))
    .sort((a, b) => b.gpus - a.gpus || a.model.localeCompare(b.model));
  const gpuCount = summary.reduce((s, m) => s + m.gpus, 0);
  const heldCount = summary.reduce((s, m) => s + m.held, 0);
  setText(
    'fleet-lead',
    `${gpuCount} GPUs on ${nodes.length} nodes, ${heldCount} held by a pod, in each node's latest window (not filtered by window or namespace). Activity is the share of time the GPU's engines were busy; MIG slices count with their GPU.`,
  );
  if (nodes.length === 0) {
    fill('fleet-models-table', empty('No node has reported a GPU.'));
    fill('fleet-nodes-table');
    return;
  }
  fill(
    'fleet-models-table',
    table({
      caption: 'GPUs by model. Held but idle: held by a pod with activity below 1%.',
      testid: 'fleet-models-table',
      rowKey: (m) => m.model,
      rows: summary,
      columns: [
        { key: 'model', label: 'GPU model', format: (m) => m.model },
        { key: 'nodes', label: 'Nodes', num: true, value: (m) => m.nodes, format: (m) => String(m.nodes) },
        { key: 'gpus', label: 'GPUs', num: true, value: (m) => m.gpus, format: (m) => String(m.gpus) },
        { key: 'held', label: 'Held', num: true, value: (m) => m.held, format: (m) => String(m.held) },
        {
          key: 'heldIdle',
          label: 'Held but idle',
          num: true,
          value: (m) => m.heldIdle,
          format: (m) => String(m.heldIdle),
        },
        {
          key: 'notHeld',
          label: 'Not held',
          num: true,
          value: (m) => m.gpus - m.held,
          format: (m) => String(m.gpus - m.held),
        },
        {
          key: 'activity',
          label: 'Mean activity',
          num: true,
          value: (m) => m.activity,
          format: (m) => percent(m.activity),
        },
      ],
    }),
  );
  const sorted = rows.sort(
    (a, b) => (a.activity ?? -1) - (b.activity ?? -1) || a.node.name.localeCompare(b.node.name),
  );
  fill(
    'fleet-nodes-table',
    table({
      caption: `${Math.min(sorted.length, MAX_ROWS)} of ${sorted.length} GPU nodes, least active first. Squares: one per GPU, darker is busier, dashed is not held.`,
      testid: 'fleet-nodes-table',
      rowKey: (r) => r.node.name,
      rows: sorted.slice(0, MAX_ROWS),
      columns: [
        { key: 'node', label: 'Node', format: (r) => r.node.name },
        {
          key: 'pool',
          label: 'Pool',
          format: (r) =>
            r.node.labels['karpenter.sh/nodepool'] ??
            r.node.labels['cloud.google.com/gke-nodepool'] ??
            r.node.labels['eks.amazonaws.com/nodegroup'] ??
            r.node.labels['node.kubernetes.io/instance-type'] ??
            '—',
        },
        { key: 'model', label: 'GPU model', format: (r) => r.model },
        {
          key: 'gpus',
          label: 'GPUs',
          num: true,
          value: (r) => r.gpus.length,
          format: (r) => String(r.gpus.length),
        },
        { key: 'held', label: 'Held', num: true, value: (r) => r.held, format: (r) => String(r.held) },
        {
          key: 'heldIdle',
          label: 'Held but idle',
          num: true,
          value: (r) => r.heldIdle,
          format: (r) => String(r.heldIdle),
        },
        {
          key: 'activity',
          label: 'Mean activity',
          num: true,
          value: (r) => r.activity,
          format: (r) => percent(r.activity),
        },
        { key: 'strip', label: 'GPUs', cell: (r) => gpuStrip(r.gpus) },
        {
          key: 'memory',
          label: 'GPU memory used',
          num: true,
          value: (r) => r.memoryUsed,
          format: (r) => `${gib(r.memoryUsed)} of ${gib(r.memoryTotal)}`,
        },
        {
          key: 'status',
          label: 'Agent',
          format: (r) =>
            r.node.status === 'gone' ? `gone since ${dateTime(r.node.goneSince)}` : 'reporting',
        },
        {
          key: 'window',
          label: 'Latest window',
          format: (r) => (r.node.usage ? dateTime(r.node.usage.windowEnd) : '—'),
        },
      ],
    }),
  );
}

function renderBanner(nodesAnswer) {
  const simulated = nodesAnswer.nodes.filter((n) => n.simulated);
  if (simulated.length === 0) return;
  setText(
    'simulated-text',
    `${simulated.length} of ${nodesAnswer.nodes.length} nodes in this store were made by mlcost simulate: every figure on this page describes a simulated cluster, not a real one.`,
  );
  $('simulated-banner').hidden = false;
  document.body.dataset.simulated = 'true';
}

// ---------------------------------------------------------------------------------------------------------------
// Models and jobs

function renderModels(answer) {
  const models = [...answer.models].sort(
    (a, b) =>
      b.totalCost - a.totalCost || a.model.localeCompare(b.model) || a.namespace.localeCompare(b.namespace),
  );
  const total = models.reduce((s, m) => s + m.totalCost, 0);
  const tokens = models.reduce((s, m) => s + m.promptTokens + m.generatedTokens, 0);
  setText(
    'models-lead',
    `${models.length} served models cost ${money(total)} for ${compact(tokens)} tokens. A generated token weighs 2.5 prompt tokens when one cost is split between them.`,
  );
  if (models.length === 0) {
    fill('models-table', empty('No served model in this window.'));
    return;
  }
  const m$ = (key) => ({ num: true, value: (m) => m[key], format: (m) => money(m[key]) });
  fill(
    'models-table',
    table({
      caption: `Served models, costliest first${models.length > MAX_ROWS ? ` (${MAX_ROWS} of ${models.length})` : ''}. Cost counts the serving pods' CPU, memory, GPUs and volumes.`,
      testid: 'models-table',
      rowKey: (m) => `${m.namespace}/${m.model}`,
      rows: models.slice(0, MAX_ROWS),
      columns: [
        { key: 'model', label: 'Model', format: (m) => m.model },
        { key: 'namespace', label: 'Namespace', format: (m) => m.namespace },
        { key: 'server', label: 'Server', format: (m) => m.server ?? '—' },
        {
          key: 'requests',
          label: 'Requests',
          num: true,
          value: (m) => m.requests,
          format: (m) => compact(m.requests),
        },
        {
          key: 'tokens',
          label: 'Tokens',
          num: true,
          value: (m) => m.promptTokens + m.generatedTokens,
          format: (m) => compact(m.promptTokens + m.generatedTokens),
        },
        { key: 'totalCost', label: 'Cost', ...m$('totalCost') },
        { key: 'costPerMillionTokens', label: 'Per 1M tokens', ...m$('costPerMillionTokens') },
        { key: 'costPerMillionPromptTokens', label: 'Per 1M prompt', ...m$('costPerMillionPromptTokens') },
        {
          key: 'costPerMillionGeneratedTokens',
          label: 'Per 1M generated',
          ...m$('costPerMillionGeneratedTokens'),
        },
        { key: 'costPer1kRequests', label: 'Per 1k requests', ...m$('costPer1kRequests') },
        {
          key: 'gpuEfficiency',
          label: 'GPU activity',
          num: true,
          value: (m) => m.gpuEfficiency,
          format: (m) => percent(m.gpuEfficiency),
        },
      ],
    }),
  );
}

function renderJobs(answer) {
  const jobs = [...answer.jobs].sort(
    (a, b) =>
      b.totalCost - a.totalCost || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
  const total = jobs.reduce((s, j) => s + j.totalCost, 0);
  const gpuHours = jobs.reduce((s, j) => s + j.gpuHours, 0);
  setText(
    'jobs-lead',
    `${jobs.length} training jobs cost ${money(total)} for ${number(gpuHours, 0)} GPU-hours.`,
  );
  if (jobs.length === 0) {
    fill('jobs-table', empty('No training job ran in this window.'));
    return;
  }
  fill(
    'jobs-table',
    table({
      caption: `Training jobs, costliest first${jobs.length > MAX_ROWS ? ` (${MAX_ROWS} of ${jobs.length})` : ''}.`,
      testid: 'jobs-table',
      rowKey: (j) => `${j.namespace}/${j.kind}/${j.name}`,
      rows: jobs.slice(0, MAX_ROWS),
      columns: [
        { key: 'name', label: 'Job', format: (j) => j.name },
        { key: 'namespace', label: 'Namespace', format: (j) => j.namespace },
        { key: 'kind', label: 'Kind', format: (j) => j.kind },
        { key: 'start', label: 'Started', className: 'nowrap', format: (j) => dateTime(j.start) },
        {
          key: 'durationHours',
          label: 'Hours',
          num: true,
          value: (j) => j.durationHours,
          format: (j) => number(j.durationHours),
        },
        { key: 'pods', label: 'Pods', num: true, value: (j) => j.pods, format: (j) => String(j.pods) },
        {
          key: 'gpuHours',
          label: 'GPU-hours',
          num: true,
          value: (j) => j.gpuHours,
          format: (j) => number(j.gpuHours),
        },
        {
          key: 'gpuEfficiency',
          label: 'GPU activity',
          num: true,
          value: (j) => j.gpuEfficiency,
          format: (j) => percent(j.gpuEfficiency),
        },
        {
          key: 'totalCost',
          label: 'Cost',
          num: true,
          value: (j) => j.totalCost,
          format: (j) => money(j.totalCost),
        },
      ],
      foot: {
        name: `All ${jobs.length} jobs`,
        gpuHours: { text: number(gpuHours), value: gpuHours },
        totalCost: { text: money(total), value: total },
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The page

function readFilters() {
  const params = new URLSearchParams(location.search);
  const window = (params.get('window') ?? '').trim() || DEFAULT_WINDOW;
  const namespaces = (params.get('namespace') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const by = params.get('by') === 'team' ? 'team' : 'namespace';
  return { window, namespaces, by };
}

function initForm(filters) {
  const select = $('window');
  if (![...select.options].some((o) => o.value === filters.window)) {
    select.append(el('option', { value: filters.window }, filters.window));
  }
  select.value = filters.window;
  $('namespace').value = filters.namespaces.join(',');
  $('by').value = filters.by;
  // Leave empty filters out of the URL: /?window=7d rather than /?window=7d&namespace=&by=namespace.
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    params.set('window', select.value);
    const namespace = $('namespace')
      .value.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .join(',');
    if (namespace) params.set('namespace', namespace);
    if ($('by').value !== 'namespace') params.set('by', $('by').value);
    location.assign(`/?${params}`);
  });
}

function addNamespaces(names) {
  const list = $('namespace-list');
  const have = new Set([...list.options].map((o) => o.value));
  for (const name of [...names].sort()) {
    if (!name || have.has(name) || name.startsWith('__')) continue;
    have.add(name);
    list.append(el('option', { value: name }));
  }
}

async function main() {
  const filters = readFilters();
  initForm(filters);
  const range = resolveWindow(filters.window);
  const step = stepFor(range);
  const namespace = filters.namespaces.join(',') || undefined;
  document.documentElement.dataset.window = range.query;
  document.documentElement.dataset.step = step.param;
  setText(
    'range',
    range.start === null
      ? `Window ${filters.window}`
      : `${range.label}: ${dateTime(range.start)} to ${dateTime(range.end)} UTC${namespace ? ` · namespace ${namespace}` : ''}`,
  );
  document.title = `mlcost report · ${range.label}${namespace ? ` · ${namespace}` : ''}`;
  const aggregate = filters.by === 'team' ? 'label:team' : 'namespace';

  const sources = {
    allocation: ['/api/v1/allocation', { window: range.query, step: step.param, aggregate, namespace }],
    waste: ['/report/waste', { window: range.query, namespace, limit: TOP }],
    rightsizing: ['/api/v1/rightsizing', { namespace }],
    nodes: ['/api/v1/nodes', {}],
    models: ['/api/v1/models', { window: range.query, namespace }],
    jobs: ['/api/v1/jobs', { window: range.query, namespace }],
  };
  const links = Object.values(sources).map(([path, params]) => {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params)) if (v) url.searchParams.set(k, v);
    return el('a', { href: `${url.pathname}${url.search}` }, path);
  });
  fill('sources', ...links.flatMap((a, i) => (i === 0 ? [a] : [', ', a])));

  const pending = Object.fromEntries(
    Object.entries(sources).map(([name, [path, params]]) => [name, getJson(path, params)]),
  );
  const failures = [];
  /** Renders one answer into its section; a failed request leaves a message there and at the top. */
  const show = async (name, what, section, target, render) => {
    try {
      const answer = await pending[name];
      if (typeof answer?.currency === 'string') currency = answer.currency;
      return render(answer);
    } catch (error) {
      failures.push(name);
      showError(what, error);
      fill(target, empty('Not available: see the message at the top of the page.'));
      return undefined;
    } finally {
      done(section);
    }
  };

  const nodesDone = show('nodes', 'the nodes', 'fleet', 'fleet-models-table', (answer) => {
    renderBanner(answer);
    renderFleet(answer);
    addNamespaces(answer.nodes.flatMap((n) => n.gpus.flatMap((g) => g.holders.map((h) => h.namespace))));
  });
  const costDone = show('allocation', 'the allocation', 'cost', 'cost-table', (answer) => {
    setText('currency', currency);
    if (filters.by === 'namespace') addNamespaces(answer.data.flatMap((set) => Object.keys(set)));
    return renderCost(answer, filters.by, step, filters.namespaces);
  });
  const wasteDone = (async () => {
    const cost = await costDone;
    return show('waste', 'the GPU waste', 'waste', 'held-idle-table', (answer) =>
      renderWaste(answer, cost ?? { groups: [] }, filters.by),
    );
  })();
  const savingsDone = show(
    'rightsizing',
    'the rightsizing recommendations',
    'savings',
    'savings-table',
    (answer) => {
      addNamespaces(answer.recommendations.map((r) => r.target.namespace));
      return renderSavings(answer);
    },
  );
  const modelsDone = show('models', 'the served models', 'models', 'models-table', renderModels);
  const jobsDone = show('jobs', 'the training jobs', 'jobs', 'jobs-table', renderJobs);

  const [cost, waste, savings] = await Promise.all([costDone, wasteDone, savingsDone]);
  setText('sum-total', cost ? money(cost.total) : '—');
  setText('sum-gpu', cost ? money(cost.gpu) : '—');
  setText('sum-waste', waste !== undefined ? money(waste) : '—');
  setText('sum-savings', savings !== undefined ? money(savings) : '—');
  $('sum-total').dataset.value = cost ? String(cost.total) : '';
  $('sum-waste').dataset.value = waste !== undefined ? String(waste) : '';
  $('sum-savings').dataset.value = savings !== undefined ? String(savings) : '';
  await Promise.all([nodesDone, modelsDone, jobsDone]);
  for (const id of ['cost', 'waste', 'savings', 'fleet', 'models', 'jobs']) done(id);
  document.body.dataset.state = failures.length ? 'error' : 'ready';
}

main().catch((error) => {
  showError('the report', error);
  document.body.dataset.state = 'error';
});
