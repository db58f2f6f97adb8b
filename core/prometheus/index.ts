// Public API of the Prometheus/OpenMetrics text parser.

export { DEFAULT_PARSE_LIMITS, parsePrometheusText } from './parse.ts';
export type { Exemplar, Labels, MetricFamily, MetricType, ParseLimits, Sample } from './types.ts';
