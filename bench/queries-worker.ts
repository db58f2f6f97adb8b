// One query benchmark in a fresh process, so its peak RSS is the query's (plus node and the collector's code),
// not the history build's: opens the store, builds the collector's real app (createApp, the cost and rightsizing
// services with the clock at the history's end) and sends `reps` GET requests to one API path through
// app.request(), reading every answer in full. Prints one JSON line: wall and CPU time per request, status,
// bytes and peak RSS.
//
//   node --import tsx bench/queries-worker.ts '{"file":"…/mlcost.db","now":…,"path":"/api/v1/allocation?…","reps":10}'
import { createCostService } from '../collector/cost-service.ts';
import { createRightsizingService } from '../collector/rightsizing-service.ts';
import { openStore } from '../collector/store/store.ts';
import { queryApp } from '../test/support/query-app.ts';
import { costOptions } from './history.ts';

export interface WorkerRequest {
  file: string;
  /** The clock of the cost and rightsizing services (epoch ms). */
  now: number;
  path: string;
  reps: number;
}

export interface WorkerResult {
  wallMs: number[];
  cpuMs: number[];
  status: number;
  bytes: number;
  peakRssMiB: number;
  /** Peak RSS before the first request (node, the code, the open store). */
  baseRssMiB: number;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as WorkerRequest;
  const store = openStore(request.file);
  const cost = createCostService(store, costOptions(request.now));
  const rightsizing = createRightsizingService(store, { currency: 'USD', clock: () => request.now });
  const app = queryApp(store, { cost, rightsizing, version: 'bench' });
  const baseRssMiB = process.resourceUsage().maxRSS / 1024;
  const wallMs: number[] = [];
  const cpuMs: number[] = [];
  let status = 0;
  let bytes = 0;
  for (let i = 0; i < request.reps; i++) {
    const cpu = process.cpuUsage();
    const began = performance.now();
    const response = await app.request(request.path);
    const body = await response.arrayBuffer();
    wallMs.push(performance.now() - began);
    const used = process.cpuUsage(cpu);
    cpuMs.push((used.user + used.system) / 1000);
    status = response.status;
    bytes = body.byteLength;
    if (status !== 200) {
      process.stderr.write(
        `${request.path} answered ${status}: ${Buffer.from(body).toString('utf8').slice(0, 500)}\n`,
      );
      break;
    }
  }
  cost.close();
  store.close();
  const result: WorkerResult = {
    wallMs,
    cpuMs,
    status,
    bytes,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    baseRssMiB,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
