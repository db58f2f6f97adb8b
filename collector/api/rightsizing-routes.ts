// GET /api/v1/rightsizing: what to change, what it saves, how sure it is and the patch, as JSON (with the targets
// that had too little history), CSV or YAML. Parameters are checked strictly: an unknown, repeated or bad one is a
// 400 problem+json naming it and what it allows.
//
//   format     json (default) | csv | yaml
//   namespace  comma-separated namespaces to keep
//   kind       comma-separated recommendation kinds to keep (cpu-memory, gpu-idle, gpu-count, mig-profile,
//              gpu-sharing, gpu-model, replicas, abandoned)
//   minSaving  keep recommendations saving at least this much a month (a number, in the report's currency)
//   refresh    true: recompute now instead of answering from the cached report (default false)
import type { Hono } from 'hono';
import { stringify } from 'yaml';
import { CostUnavailableError } from '../cost-service.ts';
import type { NotEnoughData, Recommendation, RecommendationKind, Values } from '../rightsizing/index.ts';
import {
  createRightsizingService,
  type RightsizingResult,
  type RightsizingService,
} from '../rightsizing-service.ts';
import type { Store } from '../store/store.ts';
import { HttpProblem, problemResponse } from './problem.ts';
import { simulatedLabel } from './simulated.ts';

export const RECOMMENDATION_KINDS: readonly RecommendationKind[] = [
  'cpu-memory',
  'gpu-idle',
  'gpu-count',
  'mig-profile',
  'gpu-sharing',
  'gpu-model',
  'replicas',
  'abandoned',
];
export const RIGHTSIZING_FORMATS = ['json', 'csv', 'yaml'] as const;
export type RightsizingFormat = (typeof RIGHTSIZING_FORMATS)[number];
const PARAMETERS = ['format', 'namespace', 'kind', 'minSaving', 'refresh'] as const;

export interface RightsizingRouteDeps {
  /** The service shared with /metrics; one is made from `store` and `currency` when absent. */
  rightsizing?: RightsizingService;
  store: Store;
  currency: string;
}

export interface RightsizingFilters {
  namespaces?: string[];
  kinds?: RecommendationKind[];
  minSaving?: number;
}

/** A parameter the route cannot use: answered 400, naming it. */
class ParameterProblem extends HttpProblem {
  constructor(
    readonly parameter: string,
    detail: string,
  ) {
    super(400, 'Bad Request', detail);
  }
}

const invalid = (name: string, value: string, allowed: string, reason?: string) =>
  new ParameterProblem(
    name,
    `invalid parameter ${name} = ${JSON.stringify(value)}${reason ? `: ${reason}` : ''}; allowed: ${allowed}`,
  );

function list(name: string, value: string, allowed: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw invalid(name, value, allowed, 'an empty item');
  return [...new Set(items)];
}

/** The request's parameters, parsed and checked. */
export function parseRightsizingQuery(url: string): {
  format: RightsizingFormat;
  refresh: boolean;
  filters: RightsizingFilters;
} {
  const seen = new Map<string, string>();
  for (const [name, value] of new URL(url).searchParams) {
    if (!(PARAMETERS as readonly string[]).includes(name)) {
      throw new ParameterProblem(
        name,
        `unknown parameter ${name}; allowed parameters: ${PARAMETERS.join(', ')}`,
      );
    }
    if (seen.has(name)) throw new ParameterProblem(name, `parameter ${name} is given more than once`);
    seen.set(name, value);
  }

  const formatText = seen.get('format') ?? 'json';
  if (!(RIGHTSIZING_FORMATS as readonly string[]).includes(formatText)) {
    throw invalid('format', formatText, RIGHTSIZING_FORMATS.join(', '));
  }
  const refreshText = seen.get('refresh') ?? 'false';
  if (refreshText !== 'true' && refreshText !== 'false')
    throw invalid('refresh', refreshText, 'true or false');

  const filters: RightsizingFilters = {};
  const namespace = seen.get('namespace');
  if (namespace !== undefined) {
    filters.namespaces = list('namespace', namespace, 'a comma-separated list of namespaces');
  }
  const kind = seen.get('kind');
  if (kind !== undefined) {
    const allowed = `a comma-separated list of ${RECOMMENDATION_KINDS.join(', ')}`;
    const kinds = list('kind', kind, allowed);
    const unknown = kinds.find((item) => !(RECOMMENDATION_KINDS as readonly string[]).includes(item));
    if (unknown !== undefined)
      throw invalid('kind', kind, allowed, `unknown kind ${JSON.stringify(unknown)}`);
    filters.kinds = kinds as RecommendationKind[];
  }
  const minSaving = seen.get('minSaving');
  if (minSaving !== undefined) {
    const value = minSaving.trim() === '' ? Number.NaN : Number(minSaving);
    if (!Number.isFinite(value)) {
      throw invalid('minSaving', minSaving, 'a number: the least monthly saving, in the report currency');
    }
    filters.minSaving = value;
  }
  return { format: formatText as RightsizingFormat, refresh: refreshText === 'true', filters };
}

/** The recommendations and not-enough-data lines the filters keep (minSaving applies to recommendations only). */
export function filterReport(
  result: RightsizingResult,
  filters: RightsizingFilters,
): { recommendations: Recommendation[]; notEnoughData: NotEnoughData[] } {
  const inScope = (item: { kind: RecommendationKind; target: { namespace: string } }) =>
    (!filters.namespaces || filters.namespaces.includes(item.target.namespace)) &&
    (!filters.kinds || filters.kinds.includes(item.kind));
  return {
    recommendations: result.report.recommendations.filter(
      (rec) => inScope(rec) && (filters.minSaving === undefined || rec.monthlySaving >= filters.minSaving),
    ),
    notEnoughData: result.report.notEnoughData.filter(inScope),
  };
}

/** The history a report reads: the `historyHours` ending at its `now`. */
export const historyRange = (result: RightsizingResult) => ({
  start: result.now - result.historyHours * 3_600_000,
  end: result.now,
});

/** The JSON (and YAML) document; `simulated`: whether simulated nodes have data in the report's history. */
export function rightsizingDocument(
  result: RightsizingResult,
  filters: RightsizingFilters,
  simulated = false,
) {
  const { recommendations, notEnoughData } = filterReport(result, filters);
  const total = recommendations.reduce((sum, rec) => sum + rec.monthlySaving, 0);
  return {
    currency: result.currency,
    generatedAt: new Date(result.now).toISOString(),
    historyHours: result.historyHours,
    pointSeconds: result.pointMs / 1000,
    simulated,
    filters: {
      namespace: filters.namespaces ?? null,
      kind: filters.kinds ?? null,
      minSaving: filters.minSaving ?? null,
    },
    summary: {
      recommendations: recommendations.length,
      monthlySaving: Math.round(total * 100) / 100,
      notEnoughData: notEnoughData.length,
    },
    recommendations,
    notEnoughData,
  };
}

export const CSV_COLUMNS = [
  'id',
  'kind',
  'action',
  'namespace',
  'workload_kind',
  'workload_name',
  'container',
  'current',
  'proposed',
  'monthly_saving',
  'currency',
  'confidence',
  'confidence_label',
  'reason',
  'patch_type',
  'patch_command',
  'simulated',
] as const;

/** `cpuCores=0.5;memoryBytes=1235222528`. */
const valuesText = (values: Values) =>
  Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join(';');

function csvField(value: string | number): string {
  if (typeof value === 'number') return String(value);
  // A text cell a spreadsheet would run as a formula is written as text.
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV (CRLF line ends), one recommendation per line, header first; `simulated` fills its column. */
export function rightsizingCsv(recommendations: readonly Recommendation[], simulated = false): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const rec of recommendations) {
    const row: Record<(typeof CSV_COLUMNS)[number], string | number> = {
      id: rec.id,
      kind: rec.kind,
      action: rec.action,
      namespace: rec.target.namespace,
      workload_kind: rec.target.kind,
      workload_name: rec.target.name,
      container: rec.target.container ?? '',
      current: valuesText(rec.current),
      proposed: valuesText(rec.proposed),
      monthly_saving: rec.monthlySaving,
      currency: rec.currency,
      confidence: rec.confidence.value,
      confidence_label: rec.confidence.label,
      reason: rec.reason,
      patch_type: rec.patch.type,
      patch_command: rec.patch.command,
      simulated: String(simulated),
    };
    lines.push(CSV_COLUMNS.map((column) => csvField(row[column])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

function parameterResponse(problem: ParameterProblem, instance: string): Response {
  // RFC 9457's "invalid-params" extension names the parameter for programs; `detail` says it for people.
  const body = {
    ...problem.toJSON(instance),
    'invalid-params': [{ name: problem.parameter, reason: problem.message }],
  };
  return new Response(JSON.stringify(body), {
    status: 400,
    headers: { 'content-type': 'application/problem+json' },
  });
}

export function registerRightsizingRoutes(app: Hono, deps: RightsizingRouteDeps): void {
  const service = deps.rightsizing ?? createRightsizingService(deps.store, { currency: deps.currency });

  app.get('/api/v1/rightsizing', async (c) => {
    let query: ReturnType<typeof parseRightsizingQuery>;
    try {
      query = parseRightsizingQuery(c.req.url);
    } catch (error) {
      if (error instanceof ParameterProblem) return parameterResponse(error, c.req.path);
      throw error;
    }
    let result: RightsizingResult;
    try {
      result = await service.current({ refresh: query.refresh });
    } catch (error) {
      if (error instanceof CostUnavailableError) {
        return problemResponse(new HttpProblem(503, 'Service Unavailable', error.message), c.req.path);
      }
      throw error;
    }
    const label = simulatedLabel(deps.store, historyRange(result));
    if (query.format === 'csv') {
      const csv = rightsizingCsv(filterReport(result, query.filters).recommendations, label.simulated);
      return c.body(csv, 200, { 'content-type': 'text/csv; charset=utf-8', ...label.headers });
    }
    const document = rightsizingDocument(result, query.filters, label.simulated);
    if (query.format === 'yaml') {
      // No anchors and aliases: a shared object (a proposal also listed as an alternative) is written out twice.
      const yaml = stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
      return c.body(yaml, 200, { 'content-type': 'application/yaml; charset=utf-8', ...label.headers });
    }
    return c.json(document, 200, label.headers);
  });
}
