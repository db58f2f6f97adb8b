// The report page: GET / serves one HTML page whose script and styles are static files in ./assets (plain browser
// JavaScript, no build step, nothing fetched from another origin). The page reads the JSON API — allocation with an
// hourly step, rightsizing, nodes, models, jobs — and one aggregate of its own, GET /report/waste (GPUs held idle
// and free capacity, with their cost, over a window), which the API has no endpoint for. When the store holds a
// simulated node, the page comes with its "Simulated data" banner already shown (before and without its script).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { HttpProblem } from '../api/problem.ts';
import { simulatedLabel } from '../api/simulated.ts';
import { CostParameterError, type CostService, parseWindow } from '../cost-service.ts';
import type { Store } from '../store/store.ts';
import { createWasteQueries, wasteSummary } from './waste.ts';

export interface ReportRouteDeps {
  cost: CostService;
  store: Store;
}

/** The files the page is made of, and their content types. */
export const REPORT_ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'report.js': 'text/javascript; charset=utf-8',
  'report.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/**
 * Everything the page loads comes from this origin; its script is a file, never inline. Inline SVG drawn by the
 * script uses presentation attributes, not style attributes, so style-src needs no 'unsafe-inline'.
 */
export const REPORT_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const WASTE_PARAMETERS = ['window', 'namespace', 'limit'];
const DEFAULT_WINDOW = '24h';
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;

/** The assets folder beside this module; from a build under dist/, the copy in the package's collector/ folder. */
export function reportAssetsDir(): string | null {
  const candidates = [
    new URL('./assets/', import.meta.url),
    new URL('../../../collector/report/assets/', import.meta.url),
  ].map((url) => fileURLToPath(url));
  return candidates.find((dir) => existsSync(`${dir}index.html`)) ?? null;
}

interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
}

/** The page as served for a store holding simulated nodes: the same file, its banner shown and its body marked. */
const SIMULATED_PAGE = 'index.html (simulated)';
const HIDDEN_BANNER = '<div id="simulated-banner" class="banner" role="note" hidden>';
const LOADING_BODY = '<body data-state="loading">';

export function markSimulated(html: string): string {
  if (!html.includes(HIDDEN_BANNER) || !html.includes(LOADING_BODY)) {
    throw new Error(
      "the report page's simulated-data banner or body tag is not where routes.ts looks for it",
    );
  }
  return html
    .replace(HIDDEN_BANNER, HIDDEN_BANNER.replace(' hidden>', '>'))
    .replace(LOADING_BODY, '<body data-state="loading" data-simulated="true">');
}

const assetOf = (body: Uint8Array, type: string): Asset => ({
  body,
  type,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
});

function loadAssets(): Map<string, Asset> | string {
  const dir = reportAssetsDir();
  if (!dir) {
    return `the report page's files are missing: looked for index.html in ${fileURLToPath(new URL('./assets/', import.meta.url))} and the package's collector/report/assets/`;
  }
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(REPORT_ASSETS)) {
    assets.set(name, assetOf(new Uint8Array(readFileSync(`${dir}${name}`)), type));
  }
  const page = assets.get('index.html')!;
  const marked = markSimulated(new TextDecoder().decode(page.body));
  assets.set(SIMULATED_PAGE, assetOf(new TextEncoder().encode(marked), page.type));
  return assets;
}

function badParameter(name: string, value: string, allowed: string, reason?: string): HttpProblem {
  return new HttpProblem(
    400,
    'Bad Request',
    `invalid parameter ${name} = ${JSON.stringify(value)}${reason ? `: ${reason}` : ''}; allowed: ${allowed}`,
  );
}

function wasteParameters(url: string, now: number) {
  const query = new Map<string, string>();
  for (const [name, value] of new URL(url).searchParams) {
    if (!WASTE_PARAMETERS.includes(name)) {
      throw new HttpProblem(
        400,
        'Bad Request',
        `unknown parameter ${name}; allowed parameters: ${WASTE_PARAMETERS.join(', ')}`,
      );
    }
    if (query.has(name))
      throw new HttpProblem(400, 'Bad Request', `parameter ${name} is given more than once`);
    query.set(name, value);
  }
  let window: ReturnType<typeof parseWindow>;
  try {
    window = parseWindow(query.get('window') ?? DEFAULT_WINDOW, now);
  } catch (error) {
    if (error instanceof CostParameterError) throw new HttpProblem(400, 'Bad Request', error.message);
    throw error;
  }
  const namespaceText = query.get('namespace');
  let namespaces: string[] | undefined;
  if (namespaceText !== undefined) {
    namespaces = namespaceText
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (namespaces.length === 0) {
      throw badParameter('namespace', namespaceText, 'a comma-separated list of namespaces');
    }
  }
  const limitText = query.get('limit') ?? String(DEFAULT_LIMIT);
  const limit = /^\d{1,4}$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) {
    throw badParameter('limit', limitText, `a whole number from 1 to ${MAX_LIMIT}`);
  }
  return { window, limit, ...(namespaces ? { namespaces } : {}) };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function registerReportRoutes(app: Hono, deps: ReportRouteDeps): void {
  let assets: Map<string, Asset> | string | undefined;
  const asset = (name: string): Asset | undefined => {
    assets ??= loadAssets();
    if (typeof assets === 'string') throw new HttpProblem(500, 'Internal Server Error', assets);
    return assets.get(name);
  };
  const serve = (name: string, request: Request, headers: Record<string, string> = {}): Response => {
    const file = asset(name);
    if (!file) throw new HttpProblem(404, 'Not Found', `no report asset ${name}`);
    const common = {
      etag: file.etag,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      ...headers,
    };
    if (request.headers.get('if-none-match') === file.etag)
      return new Response(null, { status: 304, headers: common });
    return new Response(file.body, { status: 200, headers: { 'content-type': file.type, ...common } });
  };

  app.get('/', (c) =>
    serve(deps.store.nodes.anySimulated() ? SIMULATED_PAGE : 'index.html', c.req.raw, {
      'content-security-policy': REPORT_CSP,
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    }),
  );
  app.get('/report/assets/:name', (c) => {
    const name = c.req.param('name');
    if (name === 'index.html' || !Object.hasOwn(REPORT_ASSETS, name)) {
      throw new HttpProblem(404, 'Not Found', `no report asset ${name}`);
    }
    return serve(name, c.req.raw);
  });

  // Prepared on first use, so the page itself never depends on the roll-up tables being there.
  let queries: ReturnType<typeof createWasteQueries> | undefined;
  app.get('/report/waste', async (c) => {
    queries ??= createWasteQueries(deps.store.db);
    const query = wasteParameters(c.req.url, deps.cost.now());
    let summary: Awaited<ReturnType<typeof wasteSummary>>;
    try {
      summary = await wasteSummary(deps.store.db, deps.cost, query, queries);
    } catch (error) {
      const unavailable = deps.cost.unavailable;
      if (unavailable && error === unavailable) {
        throw new HttpProblem(503, 'Service Unavailable', unavailable.message);
      }
      throw error;
    }
    const label = simulatedLabel(deps.store, summary.window);
    return c.json(
      {
        ...summary,
        window: { start: iso(summary.window.start), end: iso(summary.window.end) },
        simulated: label.simulated,
      },
      200,
      label.headers,
    );
  });
}
