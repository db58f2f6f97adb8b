// The validated configuration every part of mlcost receives; built once at start by loadConfig.
import type { BudgetConfig } from '../../collector/cost/budgets.ts';
import type { PricingConfig } from '../../collector/cost/pricing.ts';
import type { OtlpMetricsConfig } from '../../collector/otlp-metrics.ts';
import type { SourceName } from './keys.ts';

export interface Config {
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  dataDir: string;
  currency: string;
  collector: {
    listen: string;
    database: string;
    ingestToken: string;
    maxBatchBytes: number;
    /** Milliseconds. */
    retention: number;
    auth: { mode: 'token' | 'tokenreview'; audience: string; serviceAccounts: string[] };
    kubernetes: { apiServer: string; tokenFile: string; caFile: string };
    maxInFlight: number;
    /** Milliseconds. */
    nodeGoneAfter: number;
  };
  remote: { kubeconfig: string };
  /** The `pricing:` section as written (validated; the currency comes from `currency` unless it names one). */
  pricing: PricingConfig;
  budgets: BudgetConfig[];
  cost: {
    /** 0..1. */
    gpuIdleThreshold: number;
    /** Milliseconds. */
    rollupRetention: number;
  };
  /** Push of the cost and rightsizing series over OTLP/HTTP (collector/otlp-metrics.ts). */
  otlp: OtlpMetricsConfig;
  agent: {
    enabled: boolean;
    nodeName: string;
    /** Milliseconds between samples. */
    interval: number;
    /** Milliseconds per window. */
    window: number;
    sources: SourceName[];
    sourceTimeout: number;
    collectorUrl: string;
    token: string;
    tokenFile: string;
    spool: { maxBytes: number; maxAge: number };
    listen: string;
    nvidiaSmi: { path: string; timeout: number };
    dcgm: { url: string };
    kubernetes: { kubeconfig: string };
    kubelet: { url: string; tokenFile: string; caFile: string; insecureSkipTlsVerify: boolean };
    podResources: { socket: string };
    limits: { maxBodyBytes: number; maxSeries: number };
  };
}
