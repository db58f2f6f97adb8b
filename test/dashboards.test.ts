// Issue 8, acceptance 3 (the part without data): the checked-in dashboards/*.json are exactly what
// dashboards/generate.ts makes; every dashboard has its fixed uid, the one tag, the title prefix, the variables
// datasource → cluster → namespace and links to the others by uid; panels are laid out on Grafana's grid; and every
// panel and variable query is valid PromQL for a real Prometheus. test/alerts-e2e.test.ts runs the same queries
// against a Prometheus full of data and wants a series from each.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Dashboard,
  dashboards,
  fileName,
  grafana,
  render,
  TAG,
  TITLE_PREFIX,
} from '../dashboards/generate.ts';
import { REPO_ROOT } from './support/mlcost-process.ts';
import {
  dashboardQueries,
  query,
  type Server,
  startPrometheus,
  stopAllServers,
  variableSelector,
} from './support/prom-servers.ts';

const DIR = join(REPO_ROOT, 'dashboards');
const generated = dashboards();

const UIDS = [
  'mlcost-overview',
  'mlcost-namespace',
  'mlcost-gpu',
  'mlcost-rightsizing',
  'mlcost-models',
  'mlcost-training',
  'mlcost-health',
];

describe('dashboards/*.json', () => {
  it('are exactly what dashboards/generate.ts makes (run it after changing it)', () => {
    const files = readdirSync(DIR).filter((name) => name.endsWith('.json'));
    expect(files.sort()).toEqual(generated.map(fileName).sort());
    for (const dashboard of generated) {
      const file = join(DIR, fileName(dashboard));
      expect(existsSync(file), file).toBe(true);
      expect(
        readFileSync(file, 'utf8'),
        `${fileName(dashboard)} is stale: node --import tsx dashboards/generate.ts`,
      ).toBe(render(dashboard));
    }
  });

  it('are the seven the issue asks for, with fixed uids', () => {
    expect(generated.map((d) => d.uid)).toEqual(UIDS);
  });
});

describe.each(generated.map((d) => [d.uid, d] as const))('%s', (uid, dashboard: Dashboard) => {
  it('has the uid, the one tag, the title prefix and the variables datasource → cluster → namespace', () => {
    expect(uid).toMatch(/^mlcost-[a-z]+$/);
    expect(dashboard.tags).toEqual([TAG]);
    expect(dashboard.title.startsWith(TITLE_PREFIX)).toBe(true);
    const [datasource, cluster, namespace, ...rest] = dashboard.templating.list;
    expect(rest).toEqual([]);
    expect(datasource).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    expect(cluster).toMatchObject({
      name: 'cluster',
      type: 'query',
      datasource: { uid: grafana('datasource') },
    });
    expect(namespace).toMatchObject({
      name: 'namespace',
      type: 'query',
      datasource: { uid: grafana('datasource') },
    });
    // The chain: the namespace query is restricted to the chosen cluster, and panels use the namespace chosen.
    expect(JSON.stringify(namespace!['query'])).toContain('$cluster');
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.some((e) => e.includes('namespace=~"$namespace"'))).toBe(true);
  });

  it('links to every other dashboard by uid, and its panel links point at dashboards that exist', () => {
    const links = dashboard.links.map((l) => String(l['url']));
    expect(links.sort()).toEqual(
      UIDS.filter((u) => u !== uid)
        .map((u) => `/d/${u}`)
        .sort(),
    );
    for (const link of dashboard.links) expect(link).toMatchObject({ includeVars: true, keepTime: true });
    const text = JSON.stringify(dashboard.panels);
    for (const [, target] of text.matchAll(/\/d\/([a-z0-9-]+)/g)) expect(UIDS).toContain(target);
  });

  it('queries through the datasource variable, filters by $cluster, and lays panels out on the 24-column grid without overlap', () => {
    const ids = new Set<number>();
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(ids.has(panel.id), `panel id ${panel.id}`).toBe(false);
      ids.add(panel.id);
      expect(panel.title).not.toBe('');
      expect(panel.description).not.toBe('');
      expect(panel.datasource.uid).toBe(grafana('datasource'));
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets) {
        expect(target.datasource.uid).toBe(grafana('datasource'));
        expect(target.expr, `${panel.title}: ${target.expr}`).toContain('cluster=~"$cluster"');
      }
      const { x, y, w, h } = panel.gridPos;
      expect(x + w).toBeLessThanOrEqual(24);
      for (let col = x; col < x + w; col++) {
        for (let row = y; row < y + h; row++) {
          expect(cells.has(`${col},${row}`), `${panel.title} overlaps at ${col},${row}`).toBe(false);
          cells.add(`${col},${row}`);
        }
      }
    }
  });
});

describe('every panel and variable query', () => {
  let scratch: string;
  let prometheus: Server;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'mlcost-dashboards-'));
    prometheus = await startPrometheus(scratch, { global: { scrape_interval: '15s' }, scrape_configs: [] });
  });

  afterAll(async () => {
    await stopAllServers();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('is PromQL a real Prometheus accepts', async () => {
    const refused: string[] = [];
    for (const dashboard of generated) {
      const values = { cluster: 'any', namespace: '.+' };
      for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
        const { selector } = variableSelector(variable, values);
        await query(prometheus.url, selector).catch((error: Error) =>
          refused.push(`${dashboard.uid} $${variable.name}: ${error.message}`),
        );
      }
      for (const { panel, expr } of dashboardQueries(dashboard, values)) {
        await query(prometheus.url, expr).catch((error: Error) =>
          refused.push(`${dashboard.uid} "${panel}": ${error.message}`),
        );
      }
    }
    expect(refused).toEqual([]);
  });
});
