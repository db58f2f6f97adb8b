// The HPA rule: a workload scaled on a resource keeps its request at (per-pod percentile of use) / target, and
// its saving is counted with the replicas the HPA would run at the new request, since cutting the request of a
// scaling workload mostly turns into more replicas, not less cost.
import type { HpaInfo } from './types.ts';

/**
 * The request an HPA'd container may be cut to: the per-pod percentile of use over the HPA's target utilization
 * (Kubecost's base / targetUtilization with the HPA's own target in place of 0.7). At that request the HPA reaches
 * its target exactly at the load the percentile describes, as it reaches it today at the same load per pod.
 */
export const hpaFloor = (perPodPercentile: number, hpa: HpaInfo) => perPodPercentile / hpa.targetUtilization;

/**
 * Replicas the HPA runs in a window with `totalUse` across pods at per-pod `request`: ceil(use / (target ×
 * request)) (the HPA's own formula), never fewer than observed (its scale-down stabilisation keeps them), never
 * more than maxReplicas.
 */
export function hpaReplicas(totalUse: number, request: number, hpa: HpaInfo, observed: number): number {
  const wanted = request > 0 ? Math.ceil(totalUse / (hpa.targetUtilization * request) - 1e-9) : observed;
  const atLeast = Math.max(observed, wanted, hpa.minReplicas ?? 1);
  return Math.min(hpa.maxReplicas ?? Number.POSITIVE_INFINITY, atLeast);
}
