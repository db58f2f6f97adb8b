// The shapes the Prometheus/OpenMetrics text parser produces: families of samples, as a scrape holds them.

/** A metric family's declared type; `untyped` when no TYPE line names it (OpenMetrics calls it `unknown`). */
export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'untyped'
  | 'unknown';

export type Labels = Record<string, string>;

/** An OpenMetrics exemplar attached to a sample (`# {trace_id="x"} 1.0 1700000000.000`). */
export interface Exemplar {
  labels: Labels;
  value: number;
  /** Seconds since the epoch, as written in the exposition. */
  timestamp?: number;
}

export interface Sample {
  /** The full sample name, suffix included (`http_requests_total`, `latency_bucket`). */
  name: string;
  labels: Labels;
  value: number;
  /** Milliseconds since the epoch in Prometheus text format, as written; seconds (float) in OpenMetrics. */
  timestamp?: number;
  exemplar?: Exemplar;
}

export interface MetricFamily {
  /** The family name from TYPE/HELP, or the sample name when none declared it. */
  name: string;
  type: MetricType;
  help?: string;
  unit?: string;
  samples: Sample[];
}

/** Bounds that keep a hostile or broken scrape from exhausting memory. */
export interface ParseLimits {
  /** Most samples accepted from one text; more is an error. */
  maxSamples: number;
  /** Longest label value accepted, in characters. */
  maxLabelValueLength: number;
  /** Most labels on one sample. */
  maxLabelsPerSample: number;
}
