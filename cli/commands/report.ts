// `mlcost report allocation|rightsizing|models|jobs`: the collector's answers in a terminal. It asks a running
// collector's API (--collector-url, else agent.collectorUrl from the configuration) and prints a table with money
// in the report's currency, or the API's own JSON, CSV or YAML for scripts (--format). Anything that goes wrong —
// the collector unreachable, a parameter it refuses (its problem+json `detail`), a bad configuration — is one line
// on stderr and a non-zero exit.
import { type Command, Option } from 'commander';
import { stringify } from 'yaml';
import { loadConfig } from '../../core/config/load.ts';
import { ConfigError } from '../../core/errors.ts';
import { parseDuration } from '../../core/units.ts';

export const REPORTS = ['allocation', 'rightsizing', 'models', 'jobs'] as const;
export type ReportName = (typeof REPORTS)[number];
export const REPORT_FORMATS = ['table', 'json', 'csv', 'yaml'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  format?: ReportFormat;
  collectorUrl?: string;
  config?: string;
  timeout?: string;
  window?: string;
  aggregate?: string;
  namespace?: string;
  kind?: string;
  idle?: boolean;
  shareIdle?: boolean;
  minSaving?: string;
  refresh?: boolean;
}

/** What went wrong, said in one line (the command prints `mlcost: <message>` and exits 1). */
export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting: the same rules as the report page (collector/report/assets/report.js).

const LOCALE = 'en-US';
const numberFormats = new Map<string, Intl.NumberFormat>();
function numberFormat(key: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(LOCALE, options);
    numberFormats.set(key, format);
  }
  return format;
}

const missing = (value: number | null | undefined): value is null | undefined =>
  value === null || value === undefined || !Number.isFinite(value);

/** $1,234.56 in `currency`; amounts under one cent keep two significant digits ($0.0042); '—' when unknown. */
export function formatMoney(value: number | null | undefined, currency: string): string {
  if (missing(value)) return '—';
  const small = value !== 0 && Math.abs(value) < 0.01;
  return numberFormat(`money:${currency}:${small}`, {
    style: 'currency',
    currency,
    ...(small ? { maximumSignificantDigits: 2 } : { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  }).format(value);
}

/** 0.4843 → 48%. */
export function formatPercent(value: number | null | undefined): string {
  if (missing(value)) return '—';
  return numberFormat('percent', { style: 'percent', maximumFractionDigits: 0 }).format(value);
}

/** 1234.56 → 1,234.6 (at most `digits` decimals). */
export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (missing(value)) return '—';
  return numberFormat(`number:${digits}`, { maximumFractionDigits: digits }).format(value);
}

/** Bytes as GiB with one decimal. */
export function formatGiB(bytes: number | null | undefined): string {
  if (missing(bytes)) return '—';
  return `${formatNumber(bytes / 2 ** 30, 1)} GiB`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** An RFC 3339 time (or epoch ms) as `2026-11-29 14:00` (UTC). */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}

/** A rightsizing recommendation's `current` or `proposed` values: `0.5 CPU, 1.2 GiB`, `1 replica, 1 GPU`. */
export function formatValues(values: Record<string, unknown> | null | undefined, currency = 'USD'): string {
  if (!values) return '—';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined) continue;
    if (key === 'cpuCores' && typeof value === 'number') parts.push(`${formatNumber(value, 3)} CPU`);
    else if (key === 'memoryBytes' && typeof value === 'number') parts.push(formatGiB(value));
    else if (key === 'gpus' && typeof value === 'number') parts.push(`${formatNumber(value, 2)} GPU`);
    else if (key === 'replicas') parts.push(`${value} ${value === 1 ? 'replica' : 'replicas'}`);
    else if (key === 'hourly' && typeof value === 'number') parts.push(`${formatMoney(value, currency)}/h`);
    else if (key === 'gpuShare' && typeof value === 'number')
      parts.push(`${formatNumber(value, 3)} of a GPU`);
    else if (key === 'replicasPerGpu') parts.push(`${value} per GPU`);
    else if (key === 'idleHours' && typeof value === 'number') parts.push(`idle ${formatNumber(value, 1)} h`);
    else if (key === 'migProfile') parts.push(`MIG ${value}`);
    else if (key === 'gpu' || key === 'gpuModel' || key === 'gpuResource' || key === 'sharingMode')
      parts.push(String(value));
    else if (typeof value === 'object') parts.push(`${key} ${JSON.stringify(value)}`);
    else parts.push(`${key} ${String(value)}`);
  }
  return parts.length > 0 ? parts.join(', ') : '—';
}

export interface Column {
  label: string;
  align?: 'left' | 'right';
}

/**
 * A plain-text table: a header, one line per row, an optional footer under a rule; columns two spaces apart,
 * numbers right-aligned. No cell is empty (missing values are '—'), so columns stay readable by eye and by tools.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly string[][],
  footer?: string[],
): string {
  const all = [columns.map((c) => c.label), ...rows, ...(footer ? [footer] : [])];
  const widths = columns.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (columns[i]?.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(all[0]!), ...rows.map(line)];
  if (footer) {
    out.push('-'.repeat(widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1)));
    out.push(line(footer));
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// The reports

interface AllocationRow {
  name: string;
  cpuCores: number;
  ramBytes: number;
  gpuCount: number;
  cpuCost: number;
  ramCost: number;
  gpuCost: number;
  pvCost: number;
  totalCost: number;
  cpuEfficiency: number;
  ramEfficiency: number;
  gpuEfficiency: number | null;
  totalEfficiency: number;
}

interface AllocationAnswer {
  currency: string;
  window: { start: string; end: string };
  aggregate: string;
  data: Array<Record<string, AllocationRow>>;
}

interface Recommendation {
  id: string;
  kind: string;
  action: string;
  target: { namespace: string; kind: string; name: string; container?: string };
  current: Record<string, unknown>;
  proposed: Record<string, unknown>;
  monthlySaving: number;
  currency: string;
  confidence: { value: number; label: string };
}

interface RightsizingAnswer {
  currency: string;
  historyHours: number;
  summary: { recommendations: number; monthlySaving: number; notEnoughData: number };
  recommendations: Recommendation[];
}

interface ModelRow {
  model: string;
  namespace: string;
  server: string | null;
  requests: number;
  promptTokens: number;
  generatedTokens: number;
  totalCost: number;
  costPerMillionTokens: number | null;
  costPerMillionPromptTokens: number | null;
  costPerMillionGeneratedTokens: number | null;
  costPer1kRequests: number | null;
  gpuEfficiency: number | null;
}

interface ModelsAnswer {
  currency: string;
  window: { start: string; end: string };
  models: ModelRow[];
}

interface JobRow {
  namespace: string;
  kind: string;
  name: string;
  start: string;
  durationHours: number;
  pods: number;
  gpuHours: number;
  gpuEfficiency: number | null;
  totalCost: number;
}

interface JobsAnswer {
  currency: string;
  window: { start: string; end: string };
  jobs: JobRow[];
}

const range = (w: { start: string; end: string }) => `${formatTime(w.start)} to ${formatTime(w.end)} UTC`;
const count = (n: number) => formatNumber(n, 0);

const L = (label: string): Column => ({ label });
const R = (label: string): Column => ({ label, align: 'right' });

export const ALLOCATION_COLUMNS = [
  'CPU',
  'RAM',
  'GPUS',
  'CPU COST',
  'RAM COST',
  'GPU COST',
  'PV COST',
  'TOTAL COST',
  'CPU EFF',
  'RAM EFF',
  'GPU EFF',
  'TOTAL EFF',
] as const;

/** The first set of an allocation answer, costliest first. */
export function allocationRows(answer: AllocationAnswer): AllocationRow[] {
  return Object.values(answer.data[0] ?? {}).sort(
    (a, b) => b.totalCost - a.totalCost || a.name.localeCompare(b.name),
  );
}

export function allocationTable(answer: AllocationAnswer): string {
  const money = (v: number | null) => formatMoney(v, answer.currency);
  const rows = allocationRows(answer);
  const nameLabel = answer.aggregate.toUpperCase();
  const title = `Allocation by ${answer.aggregate}, ${range(answer.window)}, in ${answer.currency}; CPU, RAM and GPUS are averages over the window (cores, GiB, GPUs)\n\n`;
  if (rows.length === 0) return `${title}No allocation in this window.\n`;
  const sum = (key: 'cpuCost' | 'ramCost' | 'gpuCost' | 'pvCost' | 'totalCost') =>
    rows.reduce((s, r) => s + r[key], 0);
  return (
    title +
    renderTable(
      [L(nameLabel), ...ALLOCATION_COLUMNS.map(R)],
      rows.map((r) => [
        r.name,
        formatNumber(r.cpuCores, 2),
        formatNumber(r.ramBytes / 2 ** 30, 1),
        formatNumber(r.gpuCount, 2),
        money(r.cpuCost),
        money(r.ramCost),
        money(r.gpuCost),
        money(r.pvCost),
        money(r.totalCost),
        formatPercent(r.cpuEfficiency),
        formatPercent(r.ramEfficiency),
        formatPercent(r.gpuEfficiency),
        formatPercent(r.totalEfficiency),
      ]),
      [
        'TOTAL',
        '',
        '',
        '',
        money(sum('cpuCost')),
        money(sum('ramCost')),
        money(sum('gpuCost')),
        money(sum('pvCost')),
        money(sum('totalCost')),
        '',
        '',
        '',
        '',
      ],
    )
  );
}

export const RIGHTSIZING_COLUMNS = [
  'NAMESPACE',
  'WORKLOAD',
  'CONTAINER',
  'CHANGE',
  'ACTION',
  'NOW',
  'PROPOSED',
  'SAVING/MONTH',
  'CONFIDENCE',
] as const;

/** Recommendations, largest monthly saving first. */
export function rightsizingRows(answer: RightsizingAnswer): Recommendation[] {
  return [...answer.recommendations].sort(
    (a, b) => b.monthlySaving - a.monthlySaving || a.id.localeCompare(b.id),
  );
}

export function rightsizingTable(answer: RightsizingAnswer): string {
  const money = (v: number) => formatMoney(v, answer.currency);
  const rows = rightsizingRows(answer);
  const { summary } = answer;
  const title = `Rightsizing: ${count(summary.recommendations)} recommendations saving ${money(summary.monthlySaving)} a month (730 h), from ${formatNumber(answer.historyHours, 0)} h of history; ${count(summary.notEnoughData)} workloads have too little history\n\n`;
  if (rows.length === 0) return `${title}No recommendation: nothing to change.\n`;
  return `${
    title +
    renderTable(
      RIGHTSIZING_COLUMNS.map((label) => (label === 'SAVING/MONTH' ? R(label) : L(label))),
      rows.map((r) => [
        r.target.namespace,
        `${r.target.kind}/${r.target.name}`,
        r.target.container ?? '—',
        r.kind,
        r.action,
        formatValues(r.current, answer.currency),
        formatValues(r.proposed, answer.currency),
        money(r.monthlySaving),
        `${r.confidence.label} ${formatPercent(r.confidence.value)}`,
      ]),
      ['TOTAL', '', '', '', '', '', '', money(summary.monthlySaving), ''],
    )
  }\nThe patches: mlcost report rightsizing --format yaml (or json, csv).\n`;
}

export const MODEL_COLUMNS = [
  'MODEL',
  'NAMESPACE',
  'SERVER',
  'REQUESTS',
  'TOKENS',
  'COST',
  'PER 1M TOKENS',
  'PER 1M PROMPT',
  'PER 1M GENERATED',
  'PER 1K REQUESTS',
  'GPU EFF',
] as const;

/** Served models, costliest first. */
export function modelRows(answer: ModelsAnswer): ModelRow[] {
  return [...answer.models].sort(
    (a, b) =>
      b.totalCost - a.totalCost || a.model.localeCompare(b.model) || a.namespace.localeCompare(b.namespace),
  );
}

export function modelsTable(answer: ModelsAnswer): string {
  const money = (v: number | null) => formatMoney(v, answer.currency);
  const rows = modelRows(answer);
  const title = `Served models, ${range(answer.window)}, in ${answer.currency}\n\n`;
  if (rows.length === 0) return `${title}No served model in this window.\n`;
  return (
    title +
    renderTable(
      MODEL_COLUMNS.map((label, i) => (i < 3 ? L(label) : R(label))),
      rows.map((m) => [
        m.model,
        m.namespace,
        m.server ?? '—',
        count(m.requests),
        count(m.promptTokens + m.generatedTokens),
        money(m.totalCost),
        money(m.costPerMillionTokens),
        money(m.costPerMillionPromptTokens),
        money(m.costPerMillionGeneratedTokens),
        money(m.costPer1kRequests),
        formatPercent(m.gpuEfficiency),
      ]),
      [
        'TOTAL',
        '',
        '',
        count(rows.reduce((s, m) => s + m.requests, 0)),
        count(rows.reduce((s, m) => s + m.promptTokens + m.generatedTokens, 0)),
        money(rows.reduce((s, m) => s + m.totalCost, 0)),
        '',
        '',
        '',
        '',
        '',
      ],
    )
  );
}

export const JOB_COLUMNS = [
  'NAMESPACE',
  'KIND',
  'NAME',
  'START',
  'HOURS',
  'PODS',
  'GPU-HOURS',
  'GPU EFF',
  'COST',
] as const;

/** Training jobs, costliest first. */
export function jobRows(answer: JobsAnswer): JobRow[] {
  return [...answer.jobs].sort(
    (a, b) =>
      b.totalCost - a.totalCost || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
}

export function jobsTable(answer: JobsAnswer): string {
  const money = (v: number) => formatMoney(v, answer.currency);
  const rows = jobRows(answer);
  const title = `Training jobs, ${range(answer.window)}, in ${answer.currency}\n\n`;
  if (rows.length === 0) return `${title}No training job in this window.\n`;
  return (
    title +
    renderTable(
      JOB_COLUMNS.map((label, i) => (i < 4 ? L(label) : R(label))),
      rows.map((j) => [
        j.namespace,
        j.kind,
        j.name,
        formatTime(j.start),
        formatNumber(j.durationHours, 1),
        count(j.pods),
        formatNumber(j.gpuHours, 1),
        formatPercent(j.gpuEfficiency),
        money(j.totalCost),
      ]),
      [
        'TOTAL',
        '',
        '',
        '',
        '',
        '',
        formatNumber(
          rows.reduce((s, j) => s + j.gpuHours, 0),
          1,
        ),
        '',
        money(rows.reduce((s, j) => s + j.totalCost, 0)),
      ],
    )
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Asking the collector

/** The endpoint and query parameters of a report (format aside). */
export function reportRequest(
  name: ReportName,
  options: ReportOptions,
): { path: string; params: URLSearchParams } {
  const params = new URLSearchParams();
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined) params.set(key, value);
  };
  switch (name) {
    case 'allocation':
      set('window', options.window);
      set('aggregate', options.aggregate);
      set('namespace', options.namespace);
      if (options.idle) params.set('idle', 'true');
      if (options.shareIdle) params.set('shareIdle', 'true');
      return { path: '/api/v1/allocation', params };
    case 'rightsizing':
      set('namespace', options.namespace);
      set('kind', options.kind);
      set('minSaving', options.minSaving);
      if (options.refresh) params.set('refresh', 'true');
      return { path: '/api/v1/rightsizing', params };
    case 'models':
      set('window', options.window);
      set('namespace', options.namespace);
      return { path: '/api/v1/models', params };
    case 'jobs':
      set('window', options.window);
      set('namespace', options.namespace);
      set('kind', options.kind);
      return { path: '/api/v1/jobs', params };
  }
}

/** The collector's base URL: --collector-url, else agent.collectorUrl (file, MLCOST_AGENT_COLLECTOR_URL, default). */
export function collectorUrl(options: Pick<ReportOptions, 'collectorUrl' | 'config'>): string {
  const config = loadConfig({
    ...(options.config !== undefined ? { file: options.config } : {}),
    flags: options.collectorUrl !== undefined ? { 'agent.collectorUrl': options.collectorUrl } : {},
  });
  return config.agent.collectorUrl.replace(/\/+$/, '');
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code;
  return cause?.message ?? (error as Error).message;
}

async function ask(
  base: string,
  path: string,
  params: URLSearchParams,
  timeoutMs: number,
): Promise<{ body: string; contentType: string }> {
  const query = params.toString();
  const url = `${base}${path}${query ? `?${query}` : ''}`;
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    body = await response.text();
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') {
      throw new ReportError(
        `the collector at ${base} did not answer ${path} within ${timeoutMs / 1000} s (--timeout)`,
      );
    }
    throw new ReportError(
      `cannot reach the collector at ${base} (${causeOf(error)}); is it running? Set --collector-url or agent.collectorUrl`,
    );
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (!response.ok) {
    let detail = body.trim().split('\n')[0]?.slice(0, 300) ?? '';
    if (contentType.includes('json')) {
      try {
        const problem = JSON.parse(body) as { detail?: string; title?: string };
        detail = problem.detail ?? problem.title ?? detail;
      } catch {
        // not JSON after all: keep the first line
      }
    }
    const verb = response.status < 500 ? 'refused' : 'failed to answer';
    throw new ReportError(
      `the collector ${verb} ${path} (${response.status} ${response.statusText}): ${detail || 'no detail'}`,
    );
  }
  return { body, contentType };
}

function parseJson(body: string, path: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new ReportError(`the collector's answer to ${path} is not JSON: ${body.slice(0, 120)}`);
  }
}

const TABLES: Record<ReportName, (answer: never) => string> = {
  allocation: allocationTable,
  rightsizing: rightsizingTable,
  models: modelsTable,
  jobs: jobsTable,
};

/** Asks the collector for one report and returns the text to print. */
export async function runReport(name: ReportName, options: ReportOptions): Promise<string> {
  const format = options.format ?? 'table';
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(options.timeout ?? '2m');
  } catch (error) {
    throw new ReportError(
      `--timeout ${options.timeout}: ${(error as Error).message}; expected a duration such as 30s`,
    );
  }
  if (options.minSaving !== undefined && !Number.isFinite(Number(options.minSaving))) {
    throw new ReportError(`--min-saving ${options.minSaving}: expected a number (a monthly amount)`);
  }
  const base = collectorUrl(options);
  const { path, params } = reportRequest(name, options);
  // CSV comes from every endpoint; YAML from rightsizing's own, else it is the JSON answer written as YAML.
  if (format === 'csv' || (format === 'yaml' && name === 'rightsizing')) params.set('format', format);
  const { body } = await ask(base, path, params, timeoutMs);
  if (format === 'csv' || (format === 'yaml' && name === 'rightsizing')) return body;
  const answer = parseJson(body, path);
  if (format === 'json') return `${JSON.stringify(answer, null, 2)}\n`;
  if (format === 'yaml') return stringify(answer, { aliasDuplicateObjects: false, lineWidth: 0 });
  const table = TABLES[name](answer as never);
  // The API labels answers over simulated nodes; a table has no field for it, so it says so under the table.
  const simulated = (answer as { simulated?: unknown } | null)?.simulated === true;
  return simulated ? `${table.replace(/\n*$/, '\n')}\n${SIMULATED_NOTE}\n` : table;
}

export const SIMULATED_NOTE =
  'Simulated data: these figures come from simulated nodes (mlcost simulate or npm run demo).';

// ---------------------------------------------------------------------------------------------------------------
// The command

const WINDOW_HELP =
  'time range: a duration such as 24h or 7d (up to now), start,end as RFC 3339 times, or today, yesterday, month, lastmonth (UTC); default 24h';

function commonOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--format <format>', 'table for people; json, csv or yaml for scripts')
        .choices(REPORT_FORMATS)
        .default('table'),
    )
    .option(
      '--collector-url <url>',
      'collector base URL (default: agent.collectorUrl from the configuration, http://127.0.0.1:8080)',
    )
    .option(
      '-c, --config <file>',
      'configuration file (default: ./mlcost.yaml when it exists; env MLCOST_CONFIG)',
    )
    .option('--timeout <duration>', 'longest wait for the answer', '2m');
}

async function print(name: ReportName, options: ReportOptions): Promise<void> {
  try {
    process.stdout.write(await runReport(name, options));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`mlcost: ${message.split('\n')[0]}\n`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
  }
}

export function registerReportCommand(program: Command): Command {
  const report = program
    .command('report')
    .description(
      "print a report from a running collector's API: allocation, rightsizing, models or jobs (tables, or --format json|csv|yaml)",
    );

  commonOptions(
    report
      .command('allocation')
      .description('cost and efficiency per namespace (or --aggregate), over --window')
      .option('--window <range>', WINDOW_HELP)
      .option(
        '--aggregate <by>',
        'cluster, node, nodePool, namespace, workload, pod, container, job, pipelineRun, knativeService, model, label:<name>, or several comma-separated',
        'namespace',
      )
      .option('--namespace <list>', 'only these namespaces (comma-separated)')
      .option('--idle', 'list capacity nobody held as its own row (__idle__)')
      .option('--share-idle', 'share the idle cost over the rows, by their cost'),
  ).action((options: ReportOptions) => print('allocation', options));

  commonOptions(
    report
      .command('rightsizing')
      .description('what to change, what it saves a month and how sure it is (the patches: --format yaml)')
      .option('--namespace <list>', 'only these namespaces (comma-separated)')
      .option(
        '--kind <list>',
        'only these kinds: cpu-memory, gpu-idle, gpu-count, mig-profile, gpu-sharing, gpu-model, replicas, abandoned',
      )
      .option('--min-saving <amount>', 'only recommendations saving at least this much a month')
      .option('--refresh', 'recompute now instead of answering from the 5-minute cache'),
  ).action((options: ReportOptions) => print('rightsizing', options));

  commonOptions(
    report
      .command('models')
      .description('served models: cost, tokens, cost per 1M tokens and per 1k requests, over --window')
      .option('--window <range>', WINDOW_HELP)
      .option('--namespace <list>', 'only these namespaces (comma-separated)'),
  ).action((options: ReportOptions) => print('models', options));

  commonOptions(
    report
      .command('jobs')
      .description('training jobs: cost, GPU-hours, GPU activity and duration, over --window')
      .option('--window <range>', WINDOW_HELP)
      .option('--namespace <list>', 'only these namespaces (comma-separated)')
      .option('--kind <list>', 'only these job kinds, e.g. PyTorchJob,RayJob'),
  ).action((options: ReportOptions) => print('jobs', options));

  return report;
}
