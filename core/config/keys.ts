// Every configuration key mlcost reads: its type, default, help and what is allowed. The one table from which
// the YAML file, MLCOST_* environment variables, --set flags, validation errors and `--help` all come.
import { z } from 'zod';
import { budgetsConfigSchema } from '../../collector/cost/budgets.ts';
import { type PricingConfig, pricingConfigSchema } from '../../collector/cost/pricing.ts';
import { parseDuration, parseQuantity } from '../units.ts';

export interface KeySpec<T = unknown> {
  /** Dotted path in mlcost.yaml (`agent.interval`). */
  key: string;
  schema: z.ZodType<T>;
  /** The default, written as a user would write it (`15s`), parsed like any other value. */
  default: unknown;
  /** What the value is for, one line, shown by --help. */
  help: string;
  /** What is allowed, shown in errors and --help (`a duration such as 15s`). */
  allowed: string;
}

const duration = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value * 1000; // a bare number in YAML means seconds
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const positiveDuration = duration.refine((ms) => ms > 0, 'must be greater than zero');

const bytes = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  try {
    const parsed = parseQuantity(value);
    if (parsed < 0) throw new Error('must not be negative');
    return Math.round(parsed);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'expected host:port')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65535, 'port must be 0-65535');

const boolean = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
]);

const stringList = z
  .union([z.array(z.string()), z.string()])
  .transform((value) =>
    (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim()).filter(Boolean),
  );

export const SOURCE_NAMES = [
  'host',
  'nvidia-smi',
  'dcgm',
  'pods',
  'kubelet',
  'pod-resources',
  'model-servers',
] as const;
/** Sources `mlcost start` reads when agent.sources is empty: this machine alone. */
export const STANDALONE_SOURCES: readonly SourceName[] = ['host', 'nvidia-smi'];
/** Sources `mlcost agent` reads when agent.sources is empty: a Kubernetes GPU node. */
export const NODE_SOURCES: readonly SourceName[] = [
  'pods',
  'kubelet',
  'pod-resources',
  'dcgm',
  'nvidia-smi',
  'model-servers',
];
export type SourceName = (typeof SOURCE_NAMES)[number];

const sourceList = stringList.pipe(z.array(z.enum(SOURCE_NAMES)));

/** An OTLP endpoint: empty (not set), or an http(s) URL. */
const otlpEndpoint = z
  .string()
  .trim()
  .refine((value) => value === '' || /^https?:\/\/[^/\s]/.test(value), 'expected an http(s) URL');

/** A duration, or empty for "not set" (0). */
const optionalDuration = z
  .union([z.literal(''), positiveDuration])
  .transform((value) => (value === '' ? 0 : value));

/**
 * Headers as OTEL_EXPORTER_OTLP_HEADERS writes them (`name=value,name2=value2`, values URL-encoded), or a mapping.
 */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerPairs = z
  .union([
    z.record(z.string().regex(HEADER_NAME, 'not a header name'), z.union([z.string(), z.number()])),
    z.string(),
  ])
  .transform((value, ctx) => {
    if (typeof value !== 'string') {
      return Object.fromEntries(Object.entries(value).map(([name, v]) => [name, String(v)]));
    }
    const headers: Record<string, string> = {};
    for (const pair of value.split(',')) {
      if (pair.trim() === '') continue;
      const at = pair.indexOf('=');
      const name = at > 0 ? pair.slice(0, at).trim() : '';
      if (!HEADER_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', message: 'expected name=value pairs separated by commas' });
        return z.NEVER;
      }
      try {
        headers[name] = decodeURIComponent(pair.slice(at + 1).trim());
      } catch {
        ctx.addIssue({ code: 'custom', message: `the value of header ${name} is not valid URL encoding` });
        return z.NEVER;
      }
    }
    return headers;
  });

/** A whole object or list: as written in YAML, or as JSON from an environment variable or --set. */
const json = z.unknown().transform((value, ctx) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
    return z.NEVER;
  }
});

const issueText = (issue: z.core.$ZodIssue | undefined) =>
  issue
    ? `${issue.path.length > 0 ? `${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.')}: ` : ''}${issue.message}`
    : 'invalid';

/** `pricing:` as written (so the cost service can tell an absent currency from USD), checked against its schema. */
const pricingKey = json
  .transform((value) => value ?? {})
  .superRefine((value, ctx) => {
    const parsed = pricingConfigSchema.safeParse(value);
    if (!parsed.success) ctx.addIssue({ code: 'custom', message: issueText(parsed.error.issues[0]) });
  })
  .transform((value) => value as PricingConfig);

const budgetsKey = json.transform((value, ctx) => {
  const parsed = budgetsConfigSchema.safeParse(value ?? []);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: issueText(parsed.error.issues[0]) });
    return z.NEVER;
  }
  const seen = new Set<string>();
  for (const budget of parsed.data) {
    if (seen.has(budget.name)) {
      ctx.addIssue({ code: 'custom', message: `budget name ${budget.name} is used twice` });
      return z.NEVER;
    }
    seen.add(budget.name);
  }
  return parsed.data;
});

function spec<T>(
  key: string,
  schema: z.ZodType<T>,
  defaultValue: unknown,
  help: string,
  allowed: string,
): KeySpec<T> {
  return { key, schema, default: defaultValue, help, allowed };
}

export const CONFIG_KEYS = [
  spec(
    'logLevel',
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    'info',
    'log level',
    'one of trace, debug, info, warn, error, fatal, silent',
  ),
  spec('dataDir', z.string().min(1), './data', 'folder for the SQLite store and the agent spool', 'a path'),
  spec(
    'currency',
    z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code'),
    'USD',
    'currency every price and cost is in',
    'a three-letter ISO 4217 code such as USD',
  ),
  spec(
    'collector.listen',
    listenAddress,
    '127.0.0.1:8080',
    'address the collector listens on',
    'host:port, e.g. 0.0.0.0:8080',
  ),
  spec('collector.database', z.string(), '', 'SQLite file; empty means <dataDir>/mlcost.db', 'a path'),
  spec(
    'collector.ingestToken',
    z.string(),
    '',
    'shared bearer token agents must send; may be empty only while the collector listens on loopback',
    'a string',
  ),
  spec(
    'collector.maxBatchBytes',
    bytes,
    '8Mi',
    'largest ingest body accepted (after decompression)',
    'a size such as 8Mi',
  ),
  spec(
    'collector.retention',
    positiveDuration,
    '30d',
    'how long per-window records are kept',
    'a duration such as 30d',
  ),
  spec(
    'collector.auth.mode',
    z.enum(['token', 'tokenreview']),
    'token',
    'how agents authenticate: a shared token (collector.ingestToken), or their projected service-account token checked by TokenReview',
    'token or tokenreview',
  ),
  spec(
    'collector.auth.audience',
    z.string().min(1),
    'mlcost',
    'audience agent tokens must be minted for (tokenreview mode)',
    'a string',
  ),
  spec(
    'collector.auth.serviceAccounts',
    stringList,
    '',
    'namespace:name of the service accounts allowed to ingest (tokenreview mode); empty allows any',
    'a comma-separated list such as mlcost:mlcost-agent',
  ),
  spec(
    'collector.kubernetes.apiServer',
    z.string(),
    '',
    'API server URL for TokenReview; empty means in cluster (KUBERNETES_SERVICE_HOST)',
    'an https URL',
  ),
  spec(
    'collector.kubernetes.tokenFile',
    z.string(),
    '/var/run/secrets/kubernetes.io/serviceaccount/token',
    "the collector's own service-account token, used to create TokenReviews",
    'a path',
  ),
  spec(
    'collector.kubernetes.caFile',
    z.string(),
    '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    "CA bundle of the API server's certificate",
    'a path',
  ),
  spec(
    'collector.maxInFlight',
    z.coerce.number().int().positive(),
    8,
    'ingest requests handled at once before answering 429 with Retry-After',
    'a positive whole number',
  ),
  spec(
    'collector.nodeGoneAfter',
    positiveDuration,
    '5m',
    "how long a node's agent may stay silent before the node is marked gone and its series stop",
    'a duration such as 5m',
  ),
  spec(
    'agent.nodeName',
    z.string(),
    '',
    'name of the node this agent reports for; empty means the host name (or NODE_NAME)',
    'a node name',
  ),
  spec('agent.interval', positiveDuration, '15s', 'how often sources are sampled', 'a duration such as 15s'),
  spec(
    'agent.window',
    positiveDuration,
    '60s',
    'length of one usage window sent to the collector',
    'a duration such as 60s, a multiple of agent.interval',
  ),
  spec(
    'agent.sources',
    sourceList,
    '',
    'sources the agent reads; empty means host,nvidia-smi for mlcost start and pods,kubelet,pod-resources,dcgm,nvidia-smi,model-servers for mlcost agent',
    `a comma-separated list of ${SOURCE_NAMES.join(', ')}`,
  ),
  spec(
    'agent.sourceTimeout',
    positiveDuration,
    '10s',
    'longest one source may take per sample',
    'a duration such as 10s',
  ),
  spec(
    'agent.collectorUrl',
    z.url(),
    'http://127.0.0.1:8080',
    'collector base URL the agent sends batches to',
    'an http(s) URL',
  ),
  spec('agent.token', z.string(), '', 'bearer token the agent sends to the collector', 'a string'),
  spec(
    'agent.tokenFile',
    z.string(),
    '',
    'file holding the token the agent sends (a projected service-account token, re-read before each send); overrides agent.token',
    'a path',
  ),
  spec(
    'agent.spool.maxBytes',
    bytes,
    '256Mi',
    'bound on the on-disk spool of batches the collector has not acknowledged; the oldest go first beyond it',
    'a size such as 256Mi',
  ),
  spec(
    'agent.spool.maxAge',
    positiveDuration,
    '24h',
    'batches older than this are dropped from the spool (counted)',
    'a duration such as 24h',
  ),
  spec(
    'agent.listen',
    listenAddress,
    '0.0.0.0:9495',
    "address of the agent's own /metrics (mlcost agent only)",
    'host:port',
  ),
  spec(
    'agent.nvidiaSmi.path',
    z.string().min(1),
    'nvidia-smi',
    'nvidia-smi executable',
    'a command name or path',
  ),
  spec(
    'agent.nvidiaSmi.timeout',
    positiveDuration,
    '5s',
    'longest one nvidia-smi call may take',
    'a duration such as 5s',
  ),
  spec(
    'agent.dcgm.url',
    z.string(),
    '',
    'dcgm-exporter metrics URL; empty means http://$HOST_IP:9400/metrics',
    'an http(s) URL',
  ),
  spec(
    'agent.kubernetes.kubeconfig',
    z.string(),
    '',
    'kubeconfig for the API server; empty means in-cluster service account (or KUBECONFIG)',
    'a path',
  ),
  spec(
    'agent.kubelet.url',
    z.string(),
    '',
    'kubelet base URL; empty means https://$HOST_IP:10250',
    'an https URL',
  ),
  spec(
    'agent.kubelet.tokenFile',
    z.string(),
    '/var/run/secrets/kubernetes.io/serviceaccount/token',
    'bearer token file for the kubelet (re-read each time: projected tokens rotate)',
    'a path',
  ),
  spec(
    'agent.kubelet.caFile',
    z.string(),
    '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    "CA bundle that signed the kubelet's serving certificate",
    'a path',
  ),
  spec(
    'agent.kubelet.insecureSkipTlsVerify',
    boolean,
    false,
    "skip verifying the kubelet's certificate (self-signed kubelet certs)",
    'true or false',
  ),
  spec(
    'agent.podResources.socket',
    z.string().min(1),
    '/var/lib/kubelet/pod-resources/kubelet.sock',
    'kubelet pod-resources gRPC socket',
    'a path',
  ),
  spec(
    'agent.limits.maxBodyBytes',
    bytes,
    '16Mi',
    'largest response the agent reads from any one endpoint',
    'a size such as 16Mi',
  ),
  spec(
    'agent.limits.maxSeries',
    z.coerce.number().int().positive(),
    100000,
    'most series the agent reads from one scrape',
    'a positive whole number',
  ),
  spec(
    'remote.kubeconfig',
    z.string(),
    '',
    'mlcost start only: watch the whole cluster this kubeconfig reaches from outside, instead of this host',
    'a path to a kubeconfig file',
  ),
  spec('agent.enabled', boolean, true, 'run the agent for this host inside mlcost start', 'true or false'),
  spec(
    'pricing',
    pricingKey,
    '{}',
    'prices: currency, exchangeRate, cpuCoreHour, memGiBHour, gpuHour, storageGBMonth, storageClasses, instanceTypes, nodes (label rules), discounts, defaultCapacityType (collector/cost/SPEC.md section 1)',
    'an object (YAML, or JSON in the environment) as collector/cost/SPEC.md section 1 describes',
  ),
  spec(
    'budgets',
    budgetsKey,
    '[]',
    'monthly budgets: a list of {name, namespace or label: key=value, monthly, warnAt}',
    'a list (YAML, or JSON in the environment) of {name, namespace | label, monthly, warnAt}',
  ),
  spec(
    'cost.gpuIdleThreshold',
    z.coerce.number().min(0).max(1),
    0.01,
    'GPU activity below which a held GPU counts as held-but-idle',
    'a number from 0 to 1',
  ),
  spec(
    'cost.rollupRetention',
    positiveDuration,
    '400d',
    'how long hourly cost roll-ups are kept (they outlive the per-window records)',
    'a duration such as 400d',
  ),
  spec(
    'otlp.metricsEndpoint',
    otlpEndpoint,
    '',
    'OTLP/HTTP URL the collector pushes its cost and rightsizing series to (e.g. http://otel-collector:4318/v1/metrics); empty means OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT plus /v1/metrics, and no export when neither is set',
    'an http(s) URL, or empty',
  ),
  spec(
    'otlp.metricsInterval',
    optionalDuration,
    '',
    'how often the OTLP export is pushed; empty means OTEL_METRIC_EXPORT_INTERVAL (milliseconds), else 60s',
    'a duration such as 60s, or empty',
  ),
  spec(
    'otlp.metricsHeaders',
    headerPairs,
    '',
    'headers sent with each OTLP export (e.g. an authorization header), added to OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_METRICS_HEADERS',
    'comma-separated name=value pairs (values URL-encoded, as in OTEL_EXPORTER_OTLP_HEADERS), or a YAML mapping',
  ),
] as const satisfies readonly KeySpec<unknown>[];

/**
 * Keys (or MLCOST_ variables) whose values are credentials, by the end of their name: `collector.ingestToken`,
 * `agent.token`, `otlp.metricsHeaders`, and a misspelt `MLCOST_AGENT_TOKENS`; not `agent.tokenFile`, a path.
 */
const CREDENTIAL_NAME = /(token|secret|password|headers?)s?$/i;

/** A value as a configuration error may show it: a credential's only by its length. */
export function shownValue(key: string, value: unknown): string {
  if (!CREDENTIAL_NAME.test(key)) return JSON.stringify(value);
  return `(hidden, ${typeof value === 'string' ? value.length : JSON.stringify(value ?? '').length} characters)`;
}

/** The environment variable for a key: `agent.nvidiaSmi.timeout` → `MLCOST_AGENT_NVIDIA_SMI_TIMEOUT`. */
export function envNameFor(key: string): string {
  return `MLCOST_${key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\./g, '_')
    .toUpperCase()}`;
}
