// Typed errors shared by agent and collector: each carries a kind so callers branch on data, not on messages.

export type ErrorKind =
  | 'config'
  | 'parse'
  | 'source'
  | 'timeout'
  | 'limit'
  | 'validation'
  | 'unauthorized'
  | 'not-found'
  | 'conflict'
  | 'unavailable';

export class MlcostError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = 'MlcostError';
  }
}

/** A line of Prometheus text that could not be read; `line` is 1-based. */
export class PrometheusParseError extends MlcostError {
  readonly line: number;
  constructor(line: number, message: string) {
    super('parse', `line ${line}: ${message}`);
    this.line = line;
    this.name = 'PrometheusParseError';
  }
}

export class ConfigError extends MlcostError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('config', message);
    this.key = key;
    this.name = 'ConfigError';
  }
}
