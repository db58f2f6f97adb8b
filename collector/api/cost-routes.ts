// The cost API: /api/v1/allocation (OpenCost's parameters and field names), /api/v1/models, /api/v1/jobs,
// /api/v1/budgets and the FOCUS export. Parameters are checked strictly: an unknown or bad one is a 400
// problem+json naming the parameter and what it allows.
import type { Context, Hono } from 'hono';
import {
  type AggregateBy,
  type Allocation,
  type BudgetStatus,
  focusDecimal,
  isAggregateBy,
  type JobCost,
  type ModelCost,
} from '../cost/index.ts';
import {
  CostParameterError,
  type CostService,
  CostUnavailableError,
  parseStep,
  parseWindow,
  type TimeRange,
} from '../cost-service.ts';
import type { Store } from '../store/store.ts';
import { HttpProblem } from './problem.ts';
import { monthToDate, simulatedLabel, wholeHours } from './simulated.ts';

export interface CostRouteDeps {
  cost: CostService;
  /** Where the `simulated` label of each answer is read (collector/api/simulated.ts). */
  store: Store;
}

const AGGREGATE_ALLOWED =
  'a comma-separated list of cluster, node, nodePool, namespace, workload, pod, container, job, pipelineRun, knativeService, model, label:<name>';
const BOOLEAN_ALLOWED = 'true or false';
const NAMESPACE_ALLOWED = 'a comma-separated list of namespaces';
const DEFAULT_WINDOW = '24h';

type Query = Record<string, string>;

function badRequest(error: CostParameterError): HttpProblem {
  return new HttpProblem(400, 'Bad Request', error.message);
}

/** The request's query parameters, refusing any this route does not know and any given twice. */
function params(url: string, allowed: readonly string[]): Query {
  const search = new URL(url).searchParams;
  const out: Query = {};
  for (const [name, value] of search) {
    if (!allowed.includes(name)) {
      throw new HttpProblem(
        400,
        'Bad Request',
        allowed.length > 0
          ? `unknown parameter ${name}; allowed parameters: ${allowed.join(', ')}`
          : `unknown parameter ${name}; this endpoint takes no parameters`,
      );
    }
    if (name in out) throw new HttpProblem(400, 'Bad Request', `parameter ${name} is given more than once`);
    out[name] = value;
  }
  return out;
}

function bool(query: Query, name: string, fallback: boolean): boolean {
  const value = query[name];
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw badRequest(new CostParameterError(name, value, BOOLEAN_ALLOWED));
}

function list(query: Query, name: string): string[] | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw badRequest(new CostParameterError(name, value, NAMESPACE_ALLOWED));
  return items;
}

function windowOf(query: Query, cost: CostService): TimeRange {
  try {
    return parseWindow(query['window'] ?? DEFAULT_WINDOW, cost.now());
  } catch (error) {
    if (error instanceof CostParameterError) throw badRequest(error);
    throw error;
  }
}

function format(query: Query, allowed: readonly string[]): string {
  const value = query['format'] ?? allowed[0]!;
  if (!allowed.includes(value)) {
    throw badRequest(new CostParameterError('format', value, allowed.join(' or ')));
  }
  return value;
}

function aggregateOf(query: Query): AggregateBy[] {
  const value = query['aggregate'] ?? 'namespace';
  const parts = value.split(',').map((s) => s.trim());
  const bad = parts.find((part) => !isAggregateBy(part));
  if (bad !== undefined || parts.length === 0) {
    throw badRequest(
      new CostParameterError('aggregate', value, AGGREGATE_ALLOWED, `${JSON.stringify(bad)} is not one`),
    );
  }
  return parts as AggregateBy[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** An allocation as OpenCost writes it: times as RFC 3339, a `window`, and `controllerKind`/`controller`. */
function allocationJson(row: Allocation, simulated: boolean) {
  const p = row.properties;
  return {
    ...row,
    properties: {
      ...p,
      ...(p.workloadKind ? { controllerKind: p.workloadKind } : {}),
      ...(p.workloadName ? { controller: p.workloadName } : {}),
    },
    window: { start: iso(row.start), end: iso(row.end) },
    start: iso(row.start),
    end: iso(row.end),
    simulated,
  };
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'number' ? (Number.isFinite(value) ? focusDecimal(value) : '') : String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

const ALLOCATION_CSV_COLUMNS = [
  'windowStart',
  'windowEnd',
  'name',
  'start',
  'end',
  'minutes',
  'namespace',
  'node',
  'pod',
  'container',
  'cpuCores',
  'cpuCoreRequestAverage',
  'cpuCoreUsageAverage',
  'cpuCoreHours',
  'cpuCost',
  'cpuIdleCost',
  'cpuEfficiency',
  'ramBytes',
  'ramByteRequestAverage',
  'ramByteUsageAverage',
  'ramByteHours',
  'ramCost',
  'ramIdleCost',
  'ramEfficiency',
  'gpuCount',
  'gpuHours',
  'gpuCost',
  'gpuIdleCost',
  'gpuEfficiency',
  'pvByteHours',
  'pvCost',
  'totalCost',
  'totalEfficiency',
  'currency',
  'simulated',
] as const;

const MODEL_CSV_COLUMNS = [
  'namespace',
  'model',
  'server',
  'pods',
  'start',
  'end',
  'promptTokens',
  'generatedTokens',
  'requests',
  'failedRequests',
  'cpuCost',
  'ramCost',
  'gpuCost',
  'pvCost',
  'idleCost',
  'totalCost',
  'gpuHours',
  'gpuEfficiency',
  'totalEfficiency',
  'costPerMillionTokens',
  'costPerMillionPromptTokens',
  'costPerMillionGeneratedTokens',
  'costPer1kRequests',
  'currency',
  'simulated',
] as const;

const JOB_CSV_COLUMNS = [
  'namespace',
  'kind',
  'name',
  'start',
  'end',
  'durationHours',
  'runningHours',
  'pods',
  'nodes',
  'cpuCoreHours',
  'ramByteHours',
  'gpuHours',
  'cpuCost',
  'ramCost',
  'gpuCost',
  'pvCost',
  'idleCost',
  'totalCost',
  'cpuEfficiency',
  'ramEfficiency',
  'gpuEfficiency',
  'totalEfficiency',
  'currency',
  'simulated',
] as const;

const csvResponse = (body: string, filename: string, headers: Record<string, string>) =>
  new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': `attachment; filename="${filename}"`,
      ...headers,
    },
  });

const modelJson = (m: ModelCost) => ({ ...m, start: iso(m.start), end: iso(m.end) });
const jobJson = (j: JobCost) => ({ ...j, start: iso(j.start), end: iso(j.end) });
const budgetJson = (b: BudgetStatus) => ({ ...b, monthStart: iso(b.monthStart), monthEnd: iso(b.monthEnd) });

/**
 * A list answer over a window (models, jobs): JSON `{currency, window, simulated, <key>: rows}`, or CSV with the
 * currency and simulated columns on every row; both with the simulated header.
 */
function listResponse<T>(
  c: Context,
  answer: {
    format: string;
    currency: string;
    window: TimeRange;
    label: ReturnType<typeof simulatedLabel>;
    key: string;
    rows: readonly T[];
    json: (row: T) => Record<string, unknown>;
    csvColumns: readonly string[];
  },
): Response {
  const { currency, window, label } = answer;
  if (answer.format === 'csv') {
    const rows = answer.rows.map((row) => ({ ...answer.json(row), currency, simulated: label.simulated }));
    return csvResponse(csv(answer.csvColumns, rows), `${answer.key}.csv`, label.headers);
  }
  return c.json(
    {
      currency,
      window: { start: iso(window.start), end: iso(window.end) },
      simulated: label.simulated,
      [answer.key]: answer.rows.map(answer.json),
    },
    200,
    label.headers,
  );
}

/** Turns the service's own errors into problems: a bad parameter is 400, an unusable configuration 503. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CostParameterError) throw badRequest(error);
    if (error instanceof CostUnavailableError)
      throw new HttpProblem(503, 'Service Unavailable', error.message);
    throw error;
  }
}

export function registerCostRoutes(app: Hono, deps: CostRouteDeps): void {
  const { cost, store } = deps;

  app.get('/api/v1/allocation', async (c) => {
    const query = params(c.req.url, [
      'window',
      'aggregate',
      'step',
      'idle',
      'includeIdle',
      'shareIdle',
      'idleByNode',
      'namespace',
      'format',
      'accumulate',
    ]);
    const window = windowOf(query, cost);
    const aggregate = aggregateOf(query);
    let step: number | undefined;
    // OpenCost's accumulate=true: one set for the whole window, whatever the step.
    const accumulate = bool(query, 'accumulate', false);
    if (!accumulate && query['step'] !== undefined && query['step'] !== '') {
      try {
        step = parseStep(query['step'], window);
      } catch (error) {
        if (error instanceof CostParameterError) throw badRequest(error);
        throw error;
      }
    }
    if (query['idle'] !== undefined && query['includeIdle'] !== undefined) {
      throw new HttpProblem(400, 'Bad Request', 'give idle or includeIdle, not both (they are the same)');
    }
    const includeIdle = bool(query, query['idle'] !== undefined ? 'idle' : 'includeIdle', false);
    const shareIdle = bool(query, 'shareIdle', false);
    const idleByNode = bool(query, 'idleByNode', false);
    const namespaces = list(query, 'namespace');
    const fmt = format(query, ['json', 'csv']);
    const result = await answer(() =>
      cost.allocation({
        window,
        aggregate,
        ...(step !== undefined ? { step } : {}),
        includeIdle,
        shareIdle,
        idleByNode,
        ...(namespaces ? { namespaces } : {}),
      }),
    );
    const label = simulatedLabel(store, result.window);
    if (fmt === 'csv') {
      const rows = result.sets.flatMap((set) =>
        set.allocations.map((row) => ({
          ...row,
          windowStart: iso(set.start),
          windowEnd: iso(set.end),
          start: iso(row.start),
          end: iso(row.end),
          namespace: row.properties.namespace,
          node: row.properties.node,
          pod: row.properties.pod,
          container: row.properties.container,
          currency: result.currency,
          simulated: label.row(row.properties.node),
        })),
      );
      return csvResponse(csv(ALLOCATION_CSV_COLUMNS, rows), 'allocation.csv', label.headers);
    }
    return c.json(
      {
        code: 200,
        currency: result.currency,
        window: { start: iso(result.window.start), end: iso(result.window.end) },
        step: result.step / 1000,
        aggregate: aggregate.join(','),
        simulated: label.simulated,
        data: result.sets.map((set) =>
          Object.fromEntries(
            set.allocations.map((row) => [row.name, allocationJson(row, label.row(row.properties.node))]),
          ),
        ),
      },
      200,
      label.headers,
    );
  });

  app.get('/api/v1/models', async (c) => {
    const query = params(c.req.url, ['window', 'namespace', 'shareIdle', 'idleByNode', 'format']);
    const window = windowOf(query, cost);
    const namespaces = list(query, 'namespace');
    const shareIdle = bool(query, 'shareIdle', false);
    const idleByNode = bool(query, 'idleByNode', false);
    const fmt = format(query, ['json', 'csv']);
    const models = await answer(() =>
      cost.models({ window, shareIdle, idleByNode, ...(namespaces ? { namespaces } : {}) }),
    );
    return listResponse(c, {
      format: fmt,
      currency: cost.currency,
      window,
      label: simulatedLabel(store, window),
      key: 'models',
      rows: models,
      json: modelJson,
      csvColumns: MODEL_CSV_COLUMNS,
    });
  });

  app.get('/api/v1/jobs', async (c) => {
    const query = params(c.req.url, ['window', 'namespace', 'kind', 'shareIdle', 'idleByNode', 'format']);
    const window = windowOf(query, cost);
    const namespaces = list(query, 'namespace');
    const kinds = list(query, 'kind');
    const shareIdle = bool(query, 'shareIdle', false);
    const idleByNode = bool(query, 'idleByNode', false);
    const fmt = format(query, ['json', 'csv']);
    const jobs = await answer(() =>
      cost.jobs({
        window,
        shareIdle,
        idleByNode,
        ...(namespaces ? { namespaces } : {}),
        ...(kinds ? { kinds } : {}),
      }),
    );
    return listResponse(c, {
      format: fmt,
      currency: cost.currency,
      window,
      label: simulatedLabel(store, window),
      key: 'jobs',
      rows: jobs,
      json: jobJson,
      csvColumns: JOB_CSV_COLUMNS,
    });
  });

  app.get('/api/v1/budgets', async (c) => {
    params(c.req.url, []);
    const report = await answer(() => cost.budgets());
    const label = simulatedLabel(store, monthToDate(report.asOf));
    return c.json(
      {
        currency: report.currency,
        asOf: iso(report.asOf),
        simulated: label.simulated,
        budgets: report.budgets.map(budgetJson),
      },
      200,
      label.headers,
    );
  });

  app.get('/api/v1/export/focus', async (c) => {
    const query = params(c.req.url, ['window', 'billingAccountId', 'billingAccountName', 'idle']);
    const window = windowOf(query, cost);
    const includeIdle = bool(query, 'idle', true);
    const account = query['billingAccountId'] ?? 'kubernetes';
    if (account.trim() === '') {
      throw badRequest(new CostParameterError('billingAccountId', account, 'a non-empty account id'));
    }
    const chunks = await answer(async () => {
      const generator = cost.focus({
        window,
        billingAccountId: account,
        ...(query['billingAccountName'] !== undefined
          ? { billingAccountName: query['billingAccountName'] }
          : {}),
        includeIdle,
      });
      // The first chunk (the header) comes after the roll-ups are refreshed: errors surface here, not mid-stream.
      const first = await generator.next();
      return { generator, first: first.done ? '' : first.value };
    });
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(chunks.first));
      },
      async pull(controller) {
        const next = await chunks.generator.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await chunks.generator.return(undefined);
      },
    });
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': 'text/csv; charset=utf-8; header=present',
        'content-disposition': 'attachment; filename="focus.csv"',
        // FOCUS fixes its columns: the label rides in the response header only.
        ...simulatedLabel(store, wholeHours(window)).headers,
      },
    });
  });
}
