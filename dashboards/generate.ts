// mlcost's Grafana dashboards as plain TypeScript objects, written to dashboards/<uid>.json (checked in; the Helm
// chart embeds those files). Run `node --import tsx dashboards/generate.ts` after changing this file;
// test/dashboards.test.ts fails while the JSON differs from what this file generates.
//
// Every dashboard: a fixed uid (`mlcost-…`), the one tag `mlcost`, a title starting `mlcost / `, the variables
// datasource → cluster → namespace, and links to all the others by uid. Queries read the collector's and agents'
// /metrics, the recording rules of alerts/mlcost.rules.yaml, dcgm-exporter (GPU memory, power, errors, throttling)
// and the model servers' own metrics (vLLM, Triton) as Prometheus scrapes them. `cluster` is whatever label the
// scrape configuration adds; where there is none the variable is empty and `cluster=~""` matches every series.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TAG = 'mlcost';
export const TITLE_PREFIX = 'mlcost / ';

/** Grafana's `${name}` (a variable, or a macro such as `__url_time_range`), written out as text. */
export const grafana = (name: string): string => `$\{${name}}`;

const DS = { type: 'prometheus', uid: grafana('datasource') } as const;
/** Label matchers every query carries. */
const C = 'cluster=~"$cluster"';
const NS = 'namespace=~"$namespace"';
const RATE = '$__rate_interval';
const AGENT_JOB = 'job=~".*mlcost.*agent.*"';
const COLLECTOR_JOB = 'job=~".*mlcost.*collector.*"';
/** dcgm-exporter names the node `Hostname` up to 4.8.2 and `hostname` after. */
const GPU_LEGEND = '{{Hostname}}{{hostname}} GPU {{gpu}}{{GPU_I_PROFILE}}';

// ------------------------------------------------------------------------------------------------- model types

export interface Target {
  refId: string;
  datasource: { type: string; uid: string };
  expr: string;
  legendFormat: string;
  range: boolean;
  instant: boolean;
  format: 'time_series' | 'table' | 'heatmap';
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description: string;
  datasource: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Target[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
  transformations?: unknown[];
  links?: Array<{ title: string; url: string }>;
}

export interface Variable {
  name: string;
  label: string;
  type: 'datasource' | 'query';
  hide: number;
  [key: string]: unknown;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: string;
  editable: boolean;
  graphTooltip: number;
  schemaVersion: number;
  version: number;
  refresh: string;
  time: { from: string; to: string };
  fiscalYearStartMonth: number;
  liveNow: boolean;
  weekStart: string;
  annotations: { list: unknown[] };
  links: Array<Record<string, unknown>>;
  templating: { list: Variable[] };
  panels: Panel[];
}

// ------------------------------------------------------------------------------------------------ the builders

interface QuerySpec {
  expr: string;
  legend?: string;
  /** An instant query in table format (tables, stats of labels). */
  table?: boolean;
}

/** A panel before layout: its size, and everything but id and position. */
interface PanelSpec {
  w: number;
  h: number;
  panel: Omit<Panel, 'id' | 'gridPos'>;
}

const q = (expr: string, legend = ''): QuerySpec => ({ expr, legend });
const tq = (expr: string): QuerySpec => ({ expr, table: true });

function targets(specs: QuerySpec[]): Target[] {
  return specs.map((spec, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DS,
    expr: spec.expr,
    legendFormat: spec.legend ?? '',
    range: !spec.table,
    instant: spec.table === true,
    format: spec.table ? 'table' : 'time_series',
  }));
}

interface Common {
  description: string;
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  w?: number;
  h?: number;
  links?: Array<{ title: string; url: string }>;
}

function defaults(o: Common, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...(o.unit ? { unit: o.unit } : {}),
    ...(o.decimals !== undefined ? { decimals: o.decimals } : {}),
    ...(o.min !== undefined ? { min: o.min } : {}),
    ...(o.max !== undefined ? { max: o.max } : {}),
    ...(o.links ? { links: o.links } : {}),
    ...extra,
  };
}

/** What sets one panel kind apart: its default size, field defaults, options and (tables) transformations. */
interface Kind {
  w: number;
  h: number;
  fields?: Record<string, unknown>;
  options: Record<string, unknown>;
  transformations?: unknown[];
}

/** The shell every panel shares, around what its kind sets apart. */
function panel(type: string, title: string, specs: QuerySpec[], o: Common, kind: Kind): PanelSpec {
  return {
    w: o.w ?? kind.w,
    h: o.h ?? kind.h,
    panel: {
      type,
      title,
      description: o.description,
      datasource: DS,
      targets: targets(specs),
      fieldConfig: { defaults: defaults(o, kind.fields), overrides: [] },
      options: kind.options,
      ...(kind.transformations ? { transformations: kind.transformations } : {}),
    },
  };
}

const LAST = { calcs: ['lastNotNull'], fields: '', values: false };

function timeseries(
  title: string,
  specs: QuerySpec[],
  o: Common & { stack?: boolean; bars?: boolean },
): PanelSpec {
  return panel('timeseries', title, specs, o, {
    w: 12,
    h: 8,
    fields: {
      custom: {
        drawStyle: o.bars ? 'bars' : 'line',
        lineWidth: 1,
        fillOpacity: o.stack ? 60 : 10,
        showPoints: 'never',
        spanNulls: true,
        stacking: { mode: o.stack ? 'normal' : 'none', group: 'A' },
      },
    },
    options: {
      legend: { displayMode: 'table', placement: 'right', showLegend: true, calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  });
}

function stat(title: string, spec: QuerySpec, o: Common & { field?: string }): PanelSpec {
  return panel('stat', title, [spec], o, {
    w: 4,
    h: 4,
    fields: { color: { mode: 'thresholds' } },
    options: {
      reduceOptions: { ...LAST, fields: o.field ?? '' },
      colorMode: 'value',
      graphMode: spec.table ? 'none' : 'area',
      justifyMode: 'auto',
      textMode: 'auto',
      orientation: 'auto',
    },
  });
}

function table(
  title: string,
  specs: QuerySpec[],
  o: Common & { rename?: Record<string, string>; hide?: string[]; sortBy?: string },
): PanelSpec {
  const exclude = Object.fromEntries(
    ['Time', '__name__', 'job', 'instance', ...(o.hide ?? [])].map((f) => [f, true]),
  );
  return panel('table', title, specs, o, {
    w: 12,
    h: 8,
    options: {
      showHeader: true,
      cellHeight: 'sm',
      footer: { show: false, reducer: ['sum'], fields: '' },
      ...(o.sortBy ? { sortBy: [{ displayName: o.sortBy, desc: true }] } : {}),
    },
    transformations: [
      ...(specs.length > 1 ? [{ id: 'merge', options: {} }] : []),
      { id: 'organize', options: { excludeByName: exclude, renameByName: o.rename ?? {} } },
    ],
  });
}

function heatmap(title: string, spec: QuerySpec, o: Common): PanelSpec {
  return panel('heatmap', title, [spec], o, {
    w: 24,
    h: 10,
    options: {
      // Each series (one GPU) is a row; its activity over time is the colour.
      calculate: false,
      yAxis: { axisPlacement: 'left' },
      rowsFrame: { layout: 'auto' },
      color: {
        mode: 'scheme',
        scheme: 'RdYlGn',
        fill: 'dark-orange',
        scale: 'linear',
        steps: 64,
        min: 0,
        max: 1,
      },
      cellGap: 1,
      showValue: 'never',
      tooltip: { mode: 'single', yHistogram: false },
      legend: { show: true },
    },
  });
}

function bargauge(title: string, specs: QuerySpec[], o: Common): PanelSpec {
  return panel('bargauge', title, specs, o, {
    w: 12,
    h: 8,
    fields: {
      color: { mode: 'thresholds' },
      thresholds: {
        mode: 'absolute',
        steps: [
          { color: 'green', value: null },
          { color: 'orange', value: 0.9 },
          { color: 'red', value: 1 },
        ],
      },
    },
    options: { orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true, reduceOptions: LAST },
  });
}

/** Places panels left to right, wrapping at Grafana's 24 columns, and numbers them. */
function layout(specs: PanelSpec[]): Panel[] {
  const panels: Panel[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  specs.forEach((spec, i) => {
    if (x + spec.w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    panels.push({ id: i + 1, gridPos: { x, y, w: spec.w, h: spec.h }, ...spec.panel });
    x += spec.w;
    rowHeight = Math.max(rowHeight, spec.h);
  });
  return panels;
}

// ---------------------------------------------------------------------------------------------- the variables

function variables(namespace: { query: string; label: string; allValue: string }): Variable[] {
  return [
    {
      name: 'datasource',
      label: 'Data source',
      type: 'datasource',
      query: 'prometheus',
      regex: '',
      hide: 0,
      refresh: 1,
      current: {},
      options: [],
    },
    {
      name: 'cluster',
      label: 'Cluster',
      type: 'query',
      datasource: DS,
      definition: 'label_values(mlcost_build_info, cluster)',
      query: { query: 'label_values(mlcost_build_info, cluster)', refId: 'cluster' },
      regex: '',
      sort: 1,
      refresh: 2,
      hide: 0,
      multi: false,
      includeAll: false,
      current: {},
      options: [],
    },
    {
      name: 'namespace',
      label: namespace.label,
      type: 'query',
      datasource: DS,
      definition: namespace.query,
      query: { query: namespace.query, refId: 'namespace' },
      regex: '',
      sort: 1,
      refresh: 2,
      hide: 0,
      multi: true,
      includeAll: true,
      allValue: namespace.allValue,
      current: { selected: true, text: ['All'], value: ['$__all'] },
      options: [],
    },
  ];
}

/** The namespaces mlcost charges (idle too: `__idle__`). */
const WORKLOAD_NAMESPACES = {
  query: `label_values(mlcost_namespace_cost{${C}}, namespace)`,
  label: 'Namespace',
  allValue: '.+',
};

// ------------------------------------------------------------------------------------------------- the boards

interface BoardSpec {
  uid: string;
  title: string;
  description: string;
  panels: PanelSpec[];
  namespace?: typeof WORKLOAD_NAMESPACES;
}

const NAMESPACE_LINK = {
  title: `Namespace ${grafana('__data.fields.namespace')}`,
  url: `/d/mlcost-namespace/mlcost-namespaces-and-teams?var-namespace=${grafana('__data.fields.namespace')}&${grafana('cluster:queryparam')}&${grafana('datasource:queryparam')}&${grafana('__url_time_range')}`,
};

/** On the namespace and GPU boards alike. */
const GPUS_HELD_IDLE_TABLE = table('GPUs held idle', [tq(`mlcost_gpu_held_idle_cost{${C}, ${NS}}`)], {
  description: 'Each GPU (or slice) held by an idle pod, with its cost per hour.',
  rename: { Value: 'cost per hour' },
  sortBy: 'cost per hour',
  decimals: 2,
});

const overview: BoardSpec = {
  uid: 'mlcost-overview',
  title: 'Cluster cost overview',
  description:
    'What the cluster costs per hour, where the money goes (namespaces, resources), what is wasted (idle capacity, GPUs held but idle, free GPUs) and what rightsizing would save. Costs describe the latest complete hour, in the currency shown.',
  panels: [
    stat('Cost per hour', q(`sum(cluster:mlcost_namespace_cost:sum{${C}})`), {
      description: 'Everything the cluster costs per hour, idle capacity included (latest complete hour).',
      decimals: 2,
    }),
    stat('Monthly run rate', q(`730 * sum(cluster:mlcost_namespace_cost:sum{${C}})`), {
      description: 'Cost per hour × 730 hours.',
      decimals: 0,
    }),
    stat('Idle capacity per hour', q(`sum(mlcost_namespace_cost{${C}, namespace="__idle__"})`), {
      description: 'What no pod held: node capacity paid for and unused (namespace __idle__).',
      decimals: 2,
    }),
    stat('GPUs held idle per hour', q(`sum(cluster:mlcost_gpu_held_idle_cost:sum{${C}})`), {
      description: 'GPUs held by pods whose activity stayed below cost.gpuIdleThreshold over the hour.',
      decimals: 2,
    }),
    stat('Rightsizing savings per month', q(`sum(mlcost_rightsizing_savings{${C}})`), {
      description: 'Monthly saving of every current rightsizing recommendation (730 h).',
      decimals: 0,
    }),
    stat('Currency', tq(`max by (currency) (mlcost_build_info{${C}})`), {
      description: 'The currency of every cost on these dashboards (mlcost_build_info{currency}).',
      field: '/^currency$/',
    }),
    timeseries(
      'Cost per hour by resource',
      [q(`sum by (resource) (cluster_resource:mlcost_namespace_cost:sum{${C}})`, '{{resource}}')],
      { description: 'CPU, memory, GPU and storage cost per hour, idle included.', stack: true, decimals: 2 },
    ),
    timeseries(
      'Cost per hour by namespace (top 10)',
      [q(`topk(10, namespace:mlcost_namespace_cost:sum{${C}, ${NS}})`, '{{namespace}}')],
      {
        description: 'The ten most expensive namespaces; idle capacity shows as __idle__.',
        stack: true,
        decimals: 2,
      },
    ),
    table(
      'Namespaces',
      [
        tq(`sum by (namespace) (namespace:mlcost_namespace_cost:sum{${C}, ${NS}})`),
        tq(`sum by (namespace) (mlcost_namespace_cost{${C}, ${NS}, resource="gpu"})`),
        tq(`max by (namespace) (mlcost_namespace_efficiency_ratio{${C}, ${NS}, resource="total"})`),
      ],
      {
        description:
          'Cost per hour, GPU cost per hour and cost-weighted efficiency of each namespace; click one for its dashboard.',
        rename: { 'Value #A': 'cost per hour', 'Value #B': 'GPU cost per hour', 'Value #C': 'efficiency' },
        sortBy: 'cost per hour',
        decimals: 2,
        links: [NAMESPACE_LINK],
      },
    ),
    bargauge(
      'Budgets: spend and forecast of the monthly limit',
      [
        q(`budget:mlcost_budget_spend:ratio{${C}}`, '{{budget}} spent'),
        q(`budget:mlcost_budget_forecast:ratio{${C}}`, '{{budget}} forecast'),
      ],
      {
        description:
          'Spend this month and the end-of-month forecast of each budget, as a share of its limit.',
        unit: 'percentunit',
        min: 0,
        max: 1.5,
      },
    ),
    timeseries(
      'GPU waste per hour',
      [
        q(`sum(cluster:mlcost_gpu_held_idle_cost:sum{${C}})`, 'held but idle'),
        q(`sum(cluster:mlcost_gpu_free_cost:sum{${C}})`, 'free (nobody held it)'),
      ],
      {
        description:
          'GPU cost per hour that bought nothing: GPUs held by idle pods, and GPU capacity nobody held.',
        stack: true,
        decimals: 2,
        w: 24,
      },
    ),
  ],
};

const namespaceBoard: BoardSpec = {
  uid: 'mlcost-namespace',
  title: 'Namespaces and teams',
  description:
    'Cost, efficiency, waste and savings of the chosen namespaces, and the budgets teams are held to. Costs per hour over the latest complete hour.',
  panels: [
    timeseries(
      'Cost per hour by namespace',
      [q(`sum by (namespace) (mlcost_namespace_cost{${C}, ${NS}})`, '{{namespace}}')],
      {
        description: 'Cost per hour of each chosen namespace.',
        stack: true,
        decimals: 2,
      },
    ),
    timeseries(
      'Cost per hour by resource',
      [q(`sum by (resource) (mlcost_namespace_cost{${C}, ${NS}})`, '{{resource}}')],
      {
        description: 'CPU, memory, GPU and storage cost per hour of the chosen namespaces.',
        stack: true,
        decimals: 2,
      },
    ),
    timeseries(
      'Efficiency',
      [q(`mlcost_namespace_efficiency_ratio{${C}, ${NS}}`, '{{namespace}} {{resource}}')],
      {
        description:
          'CPU and memory use over request, mean activity of held GPUs, and the cost-weighted total.',
        unit: 'percentunit',
        min: 0,
      },
    ),
    timeseries(
      'GPUs held idle, per hour',
      [q(`namespace:mlcost_gpu_held_idle_cost:sum{${C}, ${NS}}`, '{{namespace}}')],
      {
        description: 'Cost per hour of GPUs the namespace holds without using them.',
        stack: true,
        decimals: 2,
      },
    ),
    GPUS_HELD_IDLE_TABLE,
    table(
      'Rightsizing savings per month',
      [tq(`namespace_kind:mlcost_rightsizing_savings:sum{${C}, ${NS}}`)],
      {
        description:
          'Monthly saving of the current recommendations by kind; /api/v1/rightsizing has each one with its patch.',
        rename: { Value: 'saving per month' },
        sortBy: 'saving per month',
        decimals: 0,
      },
    ),
    table(
      'Budgets',
      [
        tq(`max by (budget) (mlcost_budget_spend{${C}})`),
        tq(`max by (budget) (mlcost_budget_forecast{${C}})`),
        tq(`max by (budget) (mlcost_budget_limit{${C}})`),
      ],
      {
        description:
          'Every budget of mlcost.yaml (by namespace or team label): spend this month, end-of-month forecast and the limit. Budgets carry no namespace label, so the namespace choice does not filter them.',
        rename: { 'Value #A': 'spent', 'Value #B': 'forecast', 'Value #C': 'limit' },
        decimals: 0,
      },
    ),
    table('Served models: cost per 1M tokens', [tq(`mlcost_model_cost_per_million_tokens{${C}, ${NS}}`)], {
      description: 'Cost per million tokens of the models served in the chosen namespaces.',
      rename: { Value: 'cost per 1M tokens' },
      decimals: 4,
    }),
  ],
};

const gpuBoard: BoardSpec = {
  uid: 'mlcost-gpu',
  title: 'GPU fleet',
  description:
    'Every GPU and MIG slice: how busy it is, who holds it, what is held idle or free, memory, power, temperature, XID errors and throttling. Activity and holders come from the mlcost agents; memory, power and errors from dcgm-exporter.',
  panels: [
    heatmap(
      'GPU activity',
      q(`max by (node, gpu) (mlcost_agent_gpu_activity_ratio{${C}})`, '{{node}} {{gpu}}'),
      {
        description:
          'One row per GPU or slice: share of time busy (0–1). Long dark rows are GPUs paid for and unused.',
        unit: 'percentunit',
        h: 12,
      },
    ),
    stat('GPUs held idle', q(`count(mlcost_gpu_held_idle_cost{${C}, ${NS}})`), {
      description:
        'GPUs and slices held by pods of the chosen namespaces and idle over the latest complete hour.',
    }),
    stat('Held idle per hour', q(`sum(mlcost_gpu_held_idle_cost{${C}, ${NS}})`), {
      description: 'Their cost per hour.',
      decimals: 2,
    }),
    stat('Free GPU capacity per hour', q(`sum(cluster:mlcost_gpu_free_cost:sum{${C}})`), {
      description: 'Cost per hour of GPU capacity nobody held (whole GPUs, slices, uncarved MIG capacity).',
      decimals: 2,
    }),
    stat(
      'GPUs throttled',
      q(
        `count(max by (Hostname, hostname, gpu) (gpu_reason:DCGM_FI_DEV_CLOCKS_EVENT_REASONS:throttled{${C}}) > 0) or vector(0)`,
      ),
      {
        description:
          'GPUs whose clocks are cut now for heat, a power brake or a hardware slowdown (dcgm-exporter).',
      },
    ),
    stat(
      'GPUs with a hardware XID',
      q(
        `count(gpu_xid:DCGM_FI_DEV_XID_ERRORS:count_values{${C}, xid=~"48|61|62|64|74|79|94|95|119|120"}) or vector(0)`,
      ),
      {
        description: 'GPUs whose last XID points at the hardware (see MLCostGPUHardwareXIDError).',
      },
    ),
    stat('GPUs reporting', q(`count(mlcost_agent_gpu_activity_ratio{${C}})`), {
      description: 'GPUs and MIG slices the mlcost agents report.',
    }),
    GPUS_HELD_IDLE_TABLE,
    table('Free GPU capacity by node', [tq(`node:mlcost_gpu_free_cost:sum{${C}}`)], {
      description: 'Cost per hour of the GPU capacity nobody held, by node.',
      rename: { Value: 'cost per hour' },
      sortBy: 'cost per hour',
      decimals: 2,
    }),
    timeseries(
      'GPU activity by namespace',
      [q(`avg by (namespace) (mlcost_agent_gpu_activity_ratio{${C}, ${NS}})`, '{{namespace}}')],
      { description: 'Mean activity of the GPUs each namespace holds.', unit: 'percentunit', min: 0, max: 1 },
    ),
    timeseries('GPU memory in use', [q(`gpu:DCGM_FI_DEV_FB_USED:ratio{${C}}`, GPU_LEGEND)], {
      description: 'Framebuffer in use as a share of what the GPU or slice offers (dcgm-exporter).',
      unit: 'percentunit',
      min: 0,
      max: 1,
    }),
    timeseries(
      'GPU memory used by holder',
      [
        q(
          `sum by (namespace, pod) (mlcost_agent_gpu_memory_used_bytes{${C}, ${NS}})`,
          '{{namespace}}/{{pod}}',
        ),
      ],
      {
        description: 'GPU memory in use by the pods of the chosen namespaces (mlcost agents).',
        unit: 'bytes',
      },
    ),
    timeseries(
      'Power',
      [q(`sum by (Hostname, hostname) (DCGM_FI_DEV_POWER_USAGE{${C}})`, '{{Hostname}}{{hostname}}')],
      {
        description: 'GPU power draw by node (dcgm-exporter).',
        unit: 'watt',
        stack: true,
      },
    ),
    timeseries(
      'Temperature',
      [q(`max by (Hostname, hostname) (DCGM_FI_DEV_GPU_TEMP{${C}})`, '{{Hostname}}{{hostname}}')],
      {
        description: 'Hottest GPU of each node (dcgm-exporter).',
        unit: 'celsius',
      },
    ),
    table(
      'Last XID error by GPU',
      [tq(`max by (Hostname, hostname, gpu, UUID, modelName) (DCGM_FI_DEV_XID_ERRORS{${C}}) > 0`)],
      {
        description:
          'GPUs whose last XID error is not 0 (dcgm-exporter keeps the last one until the GPU is reset).',
        rename: { Value: 'last XID' },
        sortBy: 'last XID',
      },
    ),
    timeseries(
      'GPUs throttled, by reason',
      [q(`sum by (reason) (gpu_reason:DCGM_FI_DEV_CLOCKS_EVENT_REASONS:throttled{${C}})`, '{{reason}}')],
      {
        description: 'GPUs whose clocks are cut, by reason: thermal, power (brake), hw_slowdown.',
        decimals: 0,
        min: 0,
      },
    ),
  ],
};

const rightsizingBoard: BoardSpec = {
  uid: 'mlcost-rightsizing',
  title: 'Rightsizing opportunities',
  description:
    'What the current rightsizing recommendations would save per month (730 h), by namespace and kind, and the usage behind them. Each recommendation, with its patch, is in /api/v1/rightsizing.',
  panels: [
    stat('Savings per month', q(`sum(mlcost_rightsizing_savings{${C}, ${NS}})`), {
      description: 'Net monthly saving of every current recommendation in the chosen namespaces.',
      decimals: 0,
      w: 6,
    }),
    stat('Recommendations', q(`sum(mlcost_rightsizing_recommendations{${C}, ${NS}})`), {
      description: 'Current recommendations in the chosen namespaces.',
      w: 6,
    }),
    stat('GPUs held idle per hour', q(`sum(namespace:mlcost_gpu_held_idle_cost:sum{${C}, ${NS}})`), {
      description:
        'Cost per hour of GPUs held and unused in the chosen namespaces: the gpu-idle recommendations act on these.',
      decimals: 2,
      w: 6,
    }),
    stat('Free GPU capacity per hour', q(`sum(cluster:mlcost_gpu_free_cost:sum{${C}})`), {
      description: 'Cost per hour of GPU capacity nobody held: scale the nodes down.',
      decimals: 2,
      w: 6,
    }),
    timeseries(
      'Savings per month by kind',
      [q(`sum by (kind) (namespace_kind:mlcost_rightsizing_savings:sum{${C}, ${NS}})`, '{{kind}}')],
      {
        description:
          'Monthly saving by recommendation kind (cpu-memory, gpu-idle, gpu-model, mig-profile, …).',
        stack: true,
        decimals: 0,
      },
    ),
    timeseries(
      'Savings per month by namespace',
      [q(`sum by (namespace) (namespace_kind:mlcost_rightsizing_savings:sum{${C}, ${NS}})`, '{{namespace}}')],
      { description: 'Monthly saving of each namespace’s recommendations.', stack: true, decimals: 0 },
    ),
    table(
      'Recommendations by namespace and kind',
      [
        tq(`sum by (namespace, kind) (mlcost_rightsizing_savings{${C}, ${NS}})`),
        tq(`sum by (namespace, kind) (mlcost_rightsizing_recommendations{${C}, ${NS}})`),
      ],
      {
        description: 'Saving per month and number of recommendations; click a namespace for its dashboard.',
        rename: { 'Value #A': 'saving per month', 'Value #B': 'recommendations' },
        sortBy: 'saving per month',
        decimals: 0,
        links: [NAMESPACE_LINK],
        w: 24,
      },
    ),
    timeseries(
      'CPU and memory: use over request',
      [
        q(
          `mlcost_namespace_efficiency_ratio{${C}, ${NS}, resource=~"cpu|memory"}`,
          '{{namespace}} {{resource}}',
        ),
      ],
      {
        description:
          'How much of what each namespace requests it uses; low values are what cpu-memory recommendations cut.',
        unit: 'percentunit',
        min: 0,
      },
    ),
    timeseries(
      'CPU and memory saving as a share of their cost',
      [
        q(
          `sum by (namespace) (mlcost_rightsizing_savings{${C}, ${NS}, kind="cpu-memory"}) / (730 * sum by (namespace) (mlcost_namespace_cost{${C}, ${NS}, resource=~"cpu|memory"}))`,
          '{{namespace}}',
        ),
      ],
      {
        description:
          'Monthly cpu-memory saving over the monthly CPU and memory cost; above 25% MLCostOverRequested fires.',
        unit: 'percentunit',
        min: 0,
      },
    ),
  ],
};

const modelsBoard: BoardSpec = {
  uid: 'mlcost-models',
  title: 'Served models',
  description:
    'Cost per 1M tokens (mlcost) and per 1,000 requests (mlcost with vLLM’s tokens per request), with the traffic and latency the model servers report themselves (vLLM, Triton), which Prometheus must scrape with a namespace label.',
  panels: [
    timeseries(
      'Cost per 1M tokens',
      [q(`mlcost_model_cost_per_million_tokens{${C}, ${NS}}`, '{{namespace}} {{model}}')],
      {
        description:
          'Cost per million tokens (prompt and generated) over the latest complete hour, with the pods’ CPU, memory, GPU and volumes.',
        decimals: 4,
      },
    ),
    timeseries(
      'Cost per 1,000 requests',
      [
        q(
          `namespace_model:mlcost_model_cost_per_thousand_requests:rate1h{${C}, ${NS}}`,
          '{{namespace}} {{model}}',
        ),
      ],
      {
        description: 'Cost per 1M tokens × tokens per request over the last hour (vLLM) ÷ 1000.',
        decimals: 4,
      },
    ),
    timeseries(
      'Tokens per second',
      [
        q(
          `sum by (namespace, model_name) (rate(vllm:generation_tokens_total{${C}, ${NS}}[${RATE}]))`,
          '{{namespace}} {{model_name}} generated',
        ),
        q(
          `sum by (namespace, model_name) (rate(vllm:prompt_tokens_total{${C}, ${NS}}[${RATE}]))`,
          '{{namespace}} {{model_name}} prompt',
        ),
      ],
      { description: 'Prompt and generated tokens per second (vLLM).', unit: 'short' },
    ),
    timeseries(
      'Requests per second',
      [
        q(
          `sum by (namespace, model_name) (rate(vllm:request_success_total{${C}, ${NS}}[${RATE}]))`,
          '{{namespace}} {{model_name}}',
        ),
        q(
          `sum by (namespace, model) (rate(nv_inference_request_success{${C}, ${NS}}[${RATE}]))`,
          '{{namespace}} {{model}} (Triton)',
        ),
      ],
      {
        description: 'Finished requests per second (vLLM) and successful inference requests (Triton).',
        unit: 'reqps',
      },
    ),
    timeseries(
      'Mean request latency',
      [
        q(
          `sum by (namespace, model_name) (rate(vllm:e2e_request_latency_seconds_sum{${C}, ${NS}}[${RATE}])) / sum by (namespace, model_name) (rate(vllm:e2e_request_latency_seconds_count{${C}, ${NS}}[${RATE}]))`,
          '{{namespace}} {{model_name}}',
        ),
        q(
          `sum by (namespace, model) (rate(nv_inference_request_duration_us{${C}, ${NS}}[${RATE}])) / sum by (namespace, model) (rate(nv_inference_request_success{${C}, ${NS}}[${RATE}])) / 1e6`,
          '{{namespace}} {{model}} (Triton)',
        ),
      ],
      { description: 'End-to-end latency per request (vLLM) and request duration (Triton).', unit: 's' },
    ),
    timeseries(
      'p95 request latency (vLLM)',
      [
        q(
          `histogram_quantile(0.95, sum by (le, namespace, model_name) (rate(vllm:e2e_request_latency_seconds_bucket{${C}, ${NS}}[${RATE}])))`,
          '{{namespace}} {{model_name}}',
        ),
      ],
      { description: '95th percentile of end-to-end request latency from vLLM’s histogram.', unit: 's' },
    ),
    timeseries(
      'Requests waiting',
      [
        q(
          `sum by (namespace, model_name) (vllm:num_requests_waiting{${C}, ${NS}})`,
          '{{namespace}} {{model_name}}',
        ),
        q(
          `sum by (namespace, model) (nv_inference_pending_request_count{${C}, ${NS}})`,
          '{{namespace}} {{model}} (Triton)',
        ),
      ],
      {
        description:
          'Queued requests: a growing queue wants more replicas, an empty one on many replicas fewer.',
      },
    ),
    timeseries(
      'KV cache in use (vLLM)',
      [
        q(
          `max by (namespace, model_name) (vllm:kv_cache_usage_perc{${C}, ${NS}} or vllm:gpu_cache_usage_perc{${C}, ${NS}})`,
          '{{namespace}} {{model_name}}',
        ),
      ],
      {
        description: 'Share of the KV cache in use (vLLM V1 and older names).',
        unit: 'percentunit',
        min: 0,
        max: 1,
      },
    ),
  ],
};

const trainingBoard: BoardSpec = {
  uid: 'mlcost-training',
  title: 'Training jobs',
  description:
    'GPU cost and use of the pods in the chosen namespaces: training runs show as pods holding GPUs; a hung run shows as held-idle GPUs. Per-job cost and GPU-hours (Kubeflow, TrainJob, JobSet, Ray) are in /api/v1/jobs.',
  panels: [
    timeseries(
      'GPU cost per hour',
      [q(`sum by (namespace) (mlcost_namespace_cost{${C}, ${NS}, resource="gpu"})`, '{{namespace}}')],
      {
        description: 'GPU cost per hour of the chosen namespaces.',
        stack: true,
        decimals: 2,
      },
    ),
    timeseries(
      'GPU efficiency',
      [q(`mlcost_namespace_efficiency_ratio{${C}, ${NS}, resource="gpu"}`, '{{namespace}}')],
      {
        description: 'Mean activity of the GPUs each namespace held over the latest complete hour.',
        unit: 'percentunit',
        min: 0,
        max: 1,
      },
    ),
    timeseries(
      'GPU activity by pod',
      [
        q(
          `avg by (namespace, pod) (mlcost_agent_gpu_activity_ratio{${C}, ${NS}, pod!=""})`,
          '{{namespace}}/{{pod}}',
        ),
      ],
      {
        description: 'Mean activity of the GPUs each pod holds: a run that stalls drops to zero.',
        unit: 'percentunit',
        min: 0,
        max: 1,
      },
    ),
    timeseries(
      'GPUs held by pod',
      [
        q(
          `count by (namespace, pod) (mlcost_agent_gpu_activity_ratio{${C}, ${NS}, pod!=""})`,
          '{{namespace}}/{{pod}}',
        ),
      ],
      { description: 'GPUs and MIG slices each pod holds.', stack: true, decimals: 0 },
    ),
    timeseries(
      'GPU memory by pod',
      [
        q(
          `sum by (namespace, pod) (mlcost_agent_gpu_memory_used_bytes{${C}, ${NS}, pod!=""})`,
          '{{namespace}}/{{pod}}',
        ),
      ],
      { description: 'GPU memory in use by each pod.', unit: 'bytes' },
    ),
    table('Pods holding idle GPUs (hung or finished runs)', [tq(`mlcost_gpu_held_idle_cost{${C}, ${NS}}`)], {
      description:
        'Pods whose GPUs stayed idle over the latest complete hour, with the cost per hour: hung collectives, finished runs that did not exit.',
      rename: { Value: 'cost per hour' },
      sortBy: 'cost per hour',
      decimals: 2,
    }),
  ],
};

const healthBoard: BoardSpec = {
  uid: 'mlcost-health',
  title: 'Health',
  description:
    'mlcost itself: collector and agents up, ingest throughput, refusals and latency, the store, node reports, agent sources, spools and drops.',
  namespace: {
    query: `label_values(up{${C}, job=~".*mlcost.*"}, namespace)`,
    label: 'mlcost namespace',
    allValue: '.*',
  },
  panels: [
    stat('Collectors up', q(`sum(up{${C}, ${NS}, ${COLLECTOR_JOB}})`), {
      description: 'Collector targets Prometheus scrapes successfully.',
    }),
    stat('Agents up', q(`sum(up{${C}, ${NS}, ${AGENT_JOB}})`), {
      description: 'Agent targets Prometheus scrapes successfully.',
    }),
    stat('Agents down', q(`count(up{${C}, ${NS}, ${AGENT_JOB}} == 0) or vector(0)`), {
      description: 'Agent targets Prometheus cannot scrape.',
    }),
    stat('Nodes reporting', q(`count(mlcost_collector_node_last_report_timestamp_seconds{${C}})`), {
      description: 'Nodes whose agents delivered within collector.nodeGoneAfter.',
    }),
    stat('Store size', q(`sum(mlcost_collector_store_size_bytes{${C}, ${NS}})`), {
      description: 'SQLite file plus WAL.',
      unit: 'bytes',
    }),
    stat('Version', tq(`max by (version) (mlcost_build_info{${C}, ${NS}})`), {
      description: 'mlcost version of the collector.',
      field: '/^version$/',
    }),
    timeseries(
      'Ingest',
      [
        q(`sum(rate(mlcost_collector_batches_accepted_total{${C}, ${NS}}[${RATE}]))`, 'batches stored'),
        q(`sum(rate(mlcost_collector_windows_accepted_total{${C}, ${NS}}[${RATE}]))`, 'windows stored'),
        q(`sum(rate(mlcost_collector_batches_duplicate_total{${C}, ${NS}}[${RATE}]))`, 'duplicates'),
      ],
      {
        description: 'Batches and windows stored per second, and batches received again (not stored twice).',
        unit: 'ops',
      },
    ),
    timeseries(
      'Ingest refusals by reason',
      [
        q(
          `sum by (reason) (rate(mlcost_collector_ingest_rejections_total{${C}, ${NS}}[${RATE}]))`,
          '{{reason}}',
        ),
      ],
      { description: 'Refused ingest requests per second; busy is a 429 the agents retry.', unit: 'reqps' },
    ),
    timeseries(
      'Ingest latency',
      [
        q(
          `histogram_quantile(0.5, sum by (le) (rate(mlcost_collector_ingest_duration_seconds_bucket{${C}, ${NS}}[${RATE}])))`,
          'p50',
        ),
        q(
          `histogram_quantile(0.99, sum by (le) (rate(mlcost_collector_ingest_duration_seconds_bucket{${C}, ${NS}}[${RATE}])))`,
          'p99',
        ),
      ],
      { description: 'Time to validate and store one batch.', unit: 's' },
    ),
    timeseries(
      'Time since last report, by node',
      [q(`time() - mlcost_collector_node_last_report_timestamp_seconds{${C}}`, '{{node}}')],
      { description: 'Age of the latest stored window of each node still reporting.', unit: 's' },
    ),
    timeseries(
      'Roll-ups pending and cost series dropped',
      [
        q(`sum(mlcost_collector_rollups_pending{${C}, ${NS}})`, 'node-hours pending'),
        q(
          `sum by (metric) (increase(mlcost_collector_series_dropped_total{${C}, ${NS}}[1h]))`,
          'dropped {{metric}} (1h)',
        ),
      ],
      {
        description:
          'Hourly cost roll-ups waiting to be recomputed, and series left out of a cost metric at its cap.',
      },
    ),
    timeseries(
      'Collector memory',
      [q(`sum(mlcost_collector_process_process_resident_memory_bytes{${C}, ${NS}})`, 'resident memory')],
      { description: 'Resident memory of the collector processes.', unit: 'bytes' },
    ),
    timeseries(
      'Agent sources failing',
      [q(`sum by (source) (1 - mlcost_agent_source_up{${C}, ${NS}})`, '{{source}}')],
      { description: 'Agents whose source failed at its last collection, by source.', decimals: 0, min: 0 },
    ),
    timeseries(
      'Agent source duration (slowest agent)',
      [q(`max by (source) (mlcost_agent_source_duration_seconds{${C}, ${NS}})`, '{{source}}')],
      { description: 'How long each source took at its last collection, on the slowest agent.', unit: 's' },
    ),
    timeseries('Agent spools', [q(`sum by (node) (mlcost_agent_spool_batches{${C}, ${NS}})`, '{{node}}')], {
      description: 'Batches waiting in each agent’s spool: above a few, the agent cannot deliver.',
      decimals: 0,
    }),
    timeseries(
      'Windows dropped and delivery failures',
      [
        q(
          `sum by (node, reason) (increase(mlcost_agent_spool_dropped_windows_total{${C}, ${NS}}[1h]))`,
          'dropped {{node}} {{reason}} (1h)',
        ),
        q(
          `sum by (node) (rate(mlcost_agent_ship_failures_total{${C}, ${NS}}[${RATE}]))`,
          'ship failures/s {{node}}',
        ),
        q(
          `sum by (node) (increase(mlcost_agent_dead_letter_batches_total{${C}, ${NS}}[1h]))`,
          'dead letters {{node}} (1h)',
        ),
      ],
      {
        description:
          'Usage windows lost from full or old spools, failed deliveries (retried) and batches refused as invalid.',
      },
    ),
    timeseries(
      'Agent memory',
      [q(`max by (node) (mlcost_agent_process_process_resident_memory_bytes{${C}, ${NS}})`, '{{node}}')],
      { description: 'Resident memory of each agent.', unit: 'bytes' },
    ),
    timeseries(
      'Windows made per minute',
      [q(`sum by (node) (rate(mlcost_agent_windows_total{${C}, ${NS}}[${RATE}])) * 60`, '{{node}}')],
      { description: 'Usage windows each agent closes per minute (one per agent.window).' },
    ),
  ],
};

const BOARDS: BoardSpec[] = [
  overview,
  namespaceBoard,
  gpuBoard,
  rightsizingBoard,
  modelsBoard,
  trainingBoard,
  healthBoard,
];

/** Every dashboard, as the JSON files hold them. */
export function dashboards(): Dashboard[] {
  return BOARDS.map((board) => ({
    uid: board.uid,
    title: `${TITLE_PREFIX}${board.title}`,
    description: board.description,
    tags: [TAG],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-24h', to: 'now' },
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [
      ...BOARDS.filter((other) => other.uid !== board.uid).map((other) => ({
        type: 'link',
        title: other.title,
        url: `/d/${other.uid}`,
        tooltip: `${TITLE_PREFIX}${other.title}`,
        icon: 'dashboard',
        includeVars: true,
        keepTime: true,
        targetBlank: false,
        asDropdown: false,
        tags: [],
      })),
    ],
    templating: { list: variables(board.namespace ?? WORKLOAD_NAMESPACES) },
    panels: layout(board.panels),
  }));
}

/** The file a dashboard is written to. */
export const fileName = (dashboard: Dashboard): string => `${dashboard.uid}.json`;

/** A dashboard's JSON text, as checked in. */
export const render = (dashboard: Dashboard): string => `${JSON.stringify(dashboard, null, 2)}\n`;

/** Writes every dashboard into `dir` and removes JSON files there that no dashboard produces. */
export function writeDashboards(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written = dashboards().map((dashboard) => {
    writeFileSync(join(dir, fileName(dashboard)), render(dashboard));
    return fileName(dashboard);
  });
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.json') && !written.includes(name)) rmSync(join(dir, name));
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = dirname(fileURLToPath(import.meta.url));
  for (const name of writeDashboards(dir)) process.stdout.write(`wrote dashboards/${name}\n`);
}
